import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { EcsServiceMetricSet, MISSING_TASKS_EXPRESSION } from './ecs-service-metrics';
import { ECS_CRASH_CAUSES, ECS_GROUP_DIMENSION, ECS_METRIC, EcsTaskMonitoring } from './ecs-task-monitoring';
import { utilisationAlarm } from './monitor-alarm-definitions';
import { ElasticWafMonitorAlarms } from './monitor-alarm-options';
import { AlarmDefinition } from './monitor-alarms';

/** The ECS alarms and the metrics the dashboard graphs beside them. */
export interface EcsAlarmDefinitions {
  readonly definitions: Record<string, AlarmDefinition>;
  /** Log-derived metrics (WARNING/ERROR lines, crashed tasks) for the dashboard. */
  readonly logMetrics: cloudwatch.Metric[];
}

/** Alarms on the WAF service's logs and task events (`monitoring`) and on its ECS metrics (`service`). */
export function ecsAlarmDefinitions(
  namespace: string,
  options: ElasticWafMonitorAlarms,
  monitoring?: EcsTaskMonitoring,
  service?: { readonly metrics: EcsServiceMetricSet; readonly serviceName: string },
): EcsAlarmDefinitions {
  const definitions: Record<string, AlarmDefinition> = {};
  const logMetrics: cloudwatch.Metric[] = [];
  if (monitoring?.logWarningsErrorsMetric) {
    const metric = monitoring.logWarningsErrorsMetric.metric({ statistic: 'Sum', label: 'WARNING/ERROR lines' });
    logMetrics.push(metric);
    definitions.ecsLogErrors = {
      id: 'EcsLogErrorsAlarm',
      metric,
      options: options.ecsLogErrors,
      defaultThreshold: 10,
      defaultEvaluationPeriods: 1,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'lines' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `The WAF service logged at least ${t} WARNING/ERROR lines in a period.`,
    };
  }
  if (monitoring?.taskCrashesMetric && monitoring.serviceGroup) {
    const metric = new cloudwatch.Metric({
      namespace,
      metricName: ECS_METRIC.taskCrashes,
      dimensionsMap: { [ECS_GROUP_DIMENSION]: monitoring.serviceGroup },
      statistic: 'Sum',
      label: 'Crashed tasks',
    });
    const serviceGroup = monitoring.serviceGroup;
    logMetrics.push(metric, ...monitoring.taskCrashCauseMetrics.map(({ cause }) => new cloudwatch.Metric({
      namespace,
      metricName: cause.metricName,
      dimensionsMap: { [ECS_GROUP_DIMENSION]: serviceGroup },
      statistic: 'Sum',
      label: `Crashed: ${cause.label}`,
    })));
    definitions.ecsTaskCrashes = {
      id: 'EcsTaskCrashesAlarm',
      metric,
      options: options.ecsTaskCrashes,
      defaultThreshold: 1,
      defaultEvaluationPeriods: 1,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'tasks' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: () => `A task of the WAF service crashed: ${ECS_CRASH_CAUSES.map((c) => c.label).join(', ')}. ` +
        'The dashboard graph shows which; the task state log group has the reason. Deliberate stops are not counted.',
    };
  }
  if (service) {
    const { metrics, serviceName } = service;
    definitions.ecsCpu = utilisationAlarm('EcsCpuAlarm', metrics.cpuAverage, options.ecsCpu, 85,
      (t) => `The WAF service ${serviceName} uses more than ${t}% CPU on average: scale it out or look for a traffic surge.`);
    definitions.ecsMemory = utilisationAlarm('EcsMemoryAlarm', metrics.memoryAverage, options.ecsMemory, 85,
      (t) => `The WAF service ${serviceName} uses more than ${t}% of its memory on average; tasks near 100% are killed.`);
    definitions.ecsRunningTasks = {
      id: 'EcsRunningTasksAlarm',
      metric: metrics.runningTasks,
      math: { expression: MISSING_TASKS_EXPRESSION, usingMetrics: { desired: metrics.desiredTasks, running: metrics.runningTasks } },
      options: options.ecsRunningTasks,
      defaultThreshold: 1,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'tasks' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Without Container Insights there is no data: the alarm stays OK rather than paging for a missing feature.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `At least ${t} task(s) of the WAF service ${serviceName} fewer running than desired. The task state log group says why tasks stopped.`,
    };
  }
  return { definitions, logMetrics };
}
