import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ElasticWafMetrics } from './elastic-waf-metrics';
import { ElasticWafMonitorAlarms, MonitorAlarmOptions } from './monitor-alarm-options';
import { AlarmDefinition } from './monitor-alarms';

/** What the alarm texts and defaults depend on besides the metrics. */
export interface MonitorAlarmContext {
  readonly clusterName: string;
  readonly apdexTMs: number;
}

/**
 * The alarms on the collector's figures, by the name their options have in `alarms`. Pure: the dashboard reads the
 * thresholds from the same definitions the alarms are created from.
 */
export function collectorAlarmDefinitions(
  m: ElasticWafMetrics,
  options: ElasticWafMonitorAlarms,
  context: MonitorAlarmContext,
): Record<string, AlarmDefinition> {
  const { clusterName, apdexTMs } = context;
  return {
    latency: {
      id: 'LatencyAlarm',
      metric: m.latencyAverage(),
      options: options.latency,
      defaultThreshold: 4 * apdexTMs,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0, max: Number.MAX_SAFE_INTEGER, unit: 'ms' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `Average WAF latency of ${clusterName} above ${t} ms. Check the dashboard's slowest hosts and the WAF service.`,
    },
    apdex: {
      id: 'ApdexAlarm',
      metric: m.apdex(),
      options: options.apdex,
      defaultThreshold: 0.85,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0, max: 1, unit: '(Apdex score)' },
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `Apdex (T = ${apdexTMs} ms) of ${clusterName} below ${t}: many requests are slower than ${apdexTMs} ms.`,
    },
    blockedPercent: {
      id: 'BlockedPercentAlarm',
      metric: m.blockedPercent(),
      options: options.blockedPercent,
      defaultThreshold: 25,
      defaultEvaluationPeriods: 2,
      thresholdRange: { min: 0, max: 100, unit: 'percent' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `More than ${t}% of the requests to ${clusterName} are blocked: an attack, or a rule blocking legitimate traffic.`,
    },
    nodeCpu: utilisationAlarm('NodeCpuAlarm', m.nodeCpuPercentMax(), options.nodeCpu, 90,
      (t) => `An Elasticsearch node of ${clusterName} uses more than ${t}% CPU. The dashboard's node graph shows which.`),
    nodeHeap: utilisationAlarm('NodeHeapAlarm', m.nodeHeapUsedPercentMax(), options.nodeHeap, 85,
      (t) => `An Elasticsearch node of ${clusterName} uses more than ${t}% of its JVM heap.`),
    nodeDiskFree: {
      id: 'NodeDiskFreeAlarm',
      metric: m.nodeDiskFreePercentMin(),
      options: options.nodeDiskFree,
      defaultThreshold: 15,
      defaultEvaluationPeriods: 1,
      thresholdRange: { min: 0, max: 100, unit: 'percent' },
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `An Elasticsearch node of ${clusterName} has less than ${t}% disk free; at 5% indices become read-only.`,
    },
    collectorErrors: {
      id: 'CollectorErrorsAlarm',
      metric: m.collectorErrors(),
      options: options.collectorErrors,
      defaultThreshold: 1,
      defaultEvaluationPeriods: 2,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'errors' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Every run reports the metric, 0 included: no data means the collector is not running.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      describe: () => `The WAF health collector of ${clusterName} fails or does not run. Its log lines with event "collector-error" say why.`,
    },
  };
}

/** A percentage that alarms above its threshold for 3 of 3 periods (no data: not breaching). */
export function utilisationAlarm(
  id: string, metric: cloudwatch.Metric, options: MonitorAlarmOptions | undefined, defaultThreshold: number,
  describe: (threshold: number) => string,
): AlarmDefinition {
  return {
    id,
    metric,
    options,
    defaultThreshold,
    defaultEvaluationPeriods: 3,
    thresholdRange: { min: 0, max: 100, unit: 'percent' },
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    describe,
  };
}
