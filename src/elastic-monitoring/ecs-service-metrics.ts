import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/** The ECS service metrics the monitor graphs and alarms on. */
export interface EcsServiceMetricSet {
  /** `AWS/ECS` CPUUtilization, average over the service's tasks; published by ECS for every service. */
  readonly cpuAverage: cloudwatch.Metric;
  readonly cpuMaximum: cloudwatch.Metric;
  /** `AWS/ECS` MemoryUtilization; published by ECS for every service. */
  readonly memoryAverage: cloudwatch.Metric;
  readonly memoryMaximum: cloudwatch.Metric;
  /** `ECS/ContainerInsights` RunningTaskCount and DesiredTaskCount: only with Container Insights on the cluster. */
  readonly runningTasks: cloudwatch.Metric;
  readonly desiredTasks: cloudwatch.Metric;
}

export function ecsServiceMetrics(service: ecs.IBaseService, period: Duration): EcsServiceMetricSet {
  const dimensionsMap = { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName };
  const metric = (namespace: string, metricName: string, statistic: string, label: string) =>
    new cloudwatch.Metric({ namespace, metricName, statistic, label, period, dimensionsMap });
  return {
    cpuAverage: metric('AWS/ECS', 'CPUUtilization', 'Average', 'CPU average'),
    cpuMaximum: metric('AWS/ECS', 'CPUUtilization', 'Maximum', 'CPU maximum'),
    memoryAverage: metric('AWS/ECS', 'MemoryUtilization', 'Average', 'Memory average'),
    memoryMaximum: metric('AWS/ECS', 'MemoryUtilization', 'Maximum', 'Memory maximum'),
    // The lowest count in a period: a task that was missing for a minute shows.
    runningTasks: metric('ECS/ContainerInsights', 'RunningTaskCount', 'Minimum', 'Running tasks'),
    desiredTasks: metric('ECS/ContainerInsights', 'DesiredTaskCount', 'Maximum', 'Desired tasks'),
  };
}

/** `desired - running`: the tasks missing at the worst moment of a period. */
export const MISSING_TASKS_EXPRESSION = 'desired - running';
