import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEFAULT_SERVER_ERROR_PERCENT, DEFAULT_TIMEOUT_PERCENT, DEFAULT_TRAFFIC_FLOOR, freshnessLookbackSeconds, freshnessThresholdSeconds } from './alarm-defaults';
import { ElasticWafMetrics } from './elastic-waf-metrics';
import { ElasticWafMonitorAlarms, MonitorAlarmOptions } from './monitor-alarm-options';
import { AlarmDefinition } from './monitor-alarms';

/** What the alarm texts and defaults depend on besides the metrics. */
export interface MonitorAlarmContext {
  readonly clusterName: string;
  readonly apdexTMs: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly ingestDelayMs: number;
  readonly timeoutThresholdMs: number;
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
      metric: m.latencyP95(),
      options: options.latency,
      defaultThreshold: 4 * apdexTMs,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0, max: Number.MAX_SAFE_INTEGER, unit: 'ms' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `95th percentile WAF latency of ${clusterName} above ${t} ms: more than 5% of the requests are that slow. `
        + 'Check the dashboard\'s slowest hosts and the WAF service.',
    },
    timeoutPercent: {
      id: 'TimeoutPercentAlarm',
      metric: m.timeoutPercent(),
      options: options.timeoutPercent,
      defaultThreshold: DEFAULT_TIMEOUT_PERCENT,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0, max: 100, unit: 'percent' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `More than ${t}% of the requests to ${clusterName} take longer than ${context.timeoutThresholdMs / 1000} s. `
        + 'The slowest-hosts table shows where the timeouts are.',
    },
    serverErrorPercent: {
      id: 'ServerErrorPercentAlarm',
      metric: m.serverErrorPercent(),
      options: options.serverErrorPercent,
      defaultThreshold: DEFAULT_SERVER_ERROR_PERCENT,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0, max: 100, unit: 'percent' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `More than ${t}% of the requests to ${clusterName} are answered with HTTP 5xx. The slowest-hosts table has 5xx per host.`,
    },
    freshness: {
      id: 'FreshnessAlarm',
      metric: m.newestDocumentAgeSeconds(),
      options: options.freshness,
      defaultThreshold: freshnessThresholdSeconds(context.intervalMs, context.windowMs, context.ingestDelayMs),
      defaultEvaluationPeriods: 2,
      // Below the lookback: with no document in it the collector emits the lookback's length, which must breach.
      thresholdRange: {
        min: 60,
        max: freshnessLookbackSeconds(context.intervalMs, context.windowMs, context.ingestDelayMs) - 1,
        unit: 'seconds (below the freshness search\'s lookback, the age the collector reports when it finds no document at all)',
      },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No document for a day or a pattern matching nothing is still a value (the lookback's length); no datapoint
      // means the collector could not search, which CollectorErrors already pages for.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `No new WAF log document for ${clusterName} in more than ${t} s (or none found at all): the log pipeline `
        + 'stopped, or the index pattern no longer matches (a rollover rename). Check the shipper and the collector\'s '
        + '"collector-warning" lines (NoMatchingIndex, NoRecentDocuments).',
    },
    trafficFloor: {
      id: 'TrafficFloorAlarm',
      metric: m.requestCount(),
      options: options.trafficFloor,
      defaultThreshold: DEFAULT_TRAFFIC_FLOOR,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'requests' },
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No datapoint: the collector did not run or could not search; CollectorErrors says which.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      describe: (t) => `Fewer than ${t} WAF requests per period for ${clusterName}: traffic stopped, or the log documents stopped `
        + 'arriving. The freshness alarm and the requests graph tell which.',
    },
    trafficAnomaly: {
      id: 'TrafficAnomalyAlarm',
      metric: m.requestCount(),
      options: options.trafficAnomaly,
      defaultEnabled: false,
      anomalyBand: true,
      defaultThreshold: 3,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0.5, max: 10, unit: 'standard deviations' },
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      describe: (t) => `WAF requests of ${clusterName} below their usual band (${t} standard deviations) for this time: `
        + 'a partial outage, a lost log shipper or a site gone quiet. Compare with the requests graph.',
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
