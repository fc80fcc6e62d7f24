import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

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

/** Id of the synth warning for a cluster without Container Insights; acknowledge it with this id. */
export const CONTAINER_INSIGHTS_WARNING_ID = 'cdk-waf-guard:ecsContainerInsights';

/**
 * Why the running-tasks graph and alarm would have no data, for a cluster defined in this app: Container Insights off,
 * or not set (then only the account setting `containerInsights` can turn it on). An imported cluster cannot be checked.
 */
export function containerInsightsProblem(service: ecs.IBaseService): string | undefined {
  const cluster = service.cluster;
  if (!ecs.Cluster.isCluster(cluster)) return undefined;
  const settings = (cluster.node.defaultChild as ecs.CfnCluster | undefined)?.clusterSettings;
  if (settings !== undefined && !Array.isArray(settings)) return undefined; // a token: known at deployment only
  const value = (settings ?? [])
    .map((s) => s as ecs.CfnCluster.ClusterSettingsProperty)
    .find((s) => s.name === 'containerInsights')?.value;
  if (value === ecs.ContainerInsights.ENABLED || value === ecs.ContainerInsights.ENHANCED) return undefined;
  if (value !== undefined && Token.isUnresolved(value)) return undefined;
  // A service defined in the app has a token for a name: the construct path names it in the synth output instead.
  const name = Token.isUnresolved(service.serviceName) ? `the ECS service ${service.node.path}` : `the ECS service ${service.serviceName}`;
  const fix = 'set containerInsightsV2: ContainerInsights.ENABLED on the cluster, or switch the alarm off with ' +
    `alarms.ecsRunningTasks.enabled = false (acknowledge this warning with the id ${CONTAINER_INSIGHTS_WARNING_ID})`;
  return value === undefined
    ? `The running-tasks graph and alarm of ${name} need Container Insights, which the cluster does not turn on: ` +
      `unless the account setting containerInsights is enabled they have no data and the alarm never fires; ${fix}`
    : `The running-tasks graph and alarm of ${name} need Container Insights, which the cluster turns off: ` +
      `they have no data and the alarm never fires; ${fix}`;
}

// The long service ARN form, arn:aws:ecs:<region>:<account>:service/<cluster>/<service>; the old form has no cluster.
const SERVICE_ARN_WITH_CLUSTER = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}):service\/([A-Za-z0-9_-]{1,255})\/[A-Za-z0-9_-]{1,255}$/;

/**
 * The cluster ARN that a service imported from its ARN alone (FargateService.fromFargateServiceArn(), which leaves
 * `cluster` undefined) names in the long ARN form; undefined for a token or the old form.
 */
export function clusterArnOfService(service: ecs.IBaseService): string | undefined {
  const arn = service.serviceArn;
  if (Token.isUnresolved(arn)) return undefined;
  const match = SERVICE_ARN_WITH_CLUSTER.exec(arn);
  return match ? `${match[1]}:cluster/${match[2]}` : undefined;
}

/** Whether the service carries its cluster; one imported from its ARN alone does not. */
export function hasCluster(service: ecs.IBaseService): boolean {
  return (service as { cluster?: unknown }).cluster !== undefined;
}

/** The service with its cluster: as given, or re-imported with the cluster its ARN names. */
export function serviceWithCluster(scope: Construct, service: ecs.IBaseService): ecs.IBaseService {
  if (hasCluster(service)) return service;
  const clusterArn = clusterArnOfService(service);
  if (clusterArn === undefined) throw new Error('serviceWithCluster: checked by monitorPropsErrors');
  return ecs.FargateService.fromFargateServiceAttributes(scope, 'EcsServiceWithCluster', {
    cluster: ecs.Cluster.fromClusterArn(scope, 'EcsServiceCluster', clusterArn),
    serviceArn: service.serviceArn,
  });
}
