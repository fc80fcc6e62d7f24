import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ElasticWafMetrics } from './elastic-waf-metrics';
import { ElasticWafMonitorAlarms } from './monitor-alarm-options';
import { AlarmDefinition } from './monitor-alarms';
import { CLUSTER_STATUS_CODE, rejectionsExpression } from './runtime/cluster-health';

/**
 * The alarms on the cluster's health (status, unassigned shards, thread-pool rejections, JVM memory pressure), by the
 * name their options have in `alarms`. Missing data never breaches: a run without these figures is a collector error,
 * which the collector-errors alarm covers.
 */
export function clusterHealthAlarmDefinitions(
  m: ElasticWafMetrics,
  options: ElasticWafMonitorAlarms,
  clusterName: string,
): Record<string, AlarmDefinition> {
  const status = (id: string, opts: ElasticWafMonitorAlarms['clusterRed'], threshold: number, periods: number,
    describe: (t: number) => string): AlarmDefinition => ({
    id,
    metric: m.clusterStatus(),
    options: opts,
    defaultThreshold: threshold,
    defaultEvaluationPeriods: periods,
    thresholdRange: { min: CLUSTER_STATUS_CODE.yellow, max: CLUSTER_STATUS_CODE.red, unit: '(1 yellow, 2 red)' },
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    describe,
  });
  const rejections = (id: string, opts: ElasticWafMonitorAlarms['searchRejections'], total: cloudwatch.Metric,
    describe: (t: number) => string): AlarmDefinition => ({
    id,
    metric: total,
    math: { expression: rejectionsExpression('total', 'nodes'), usingMetrics: { total, nodes: m.statsNodeSet() } },
    options: opts,
    defaultThreshold: 1,
    // The figure is a difference to the previous period: two periods give one value.
    defaultEvaluationPeriods: 2,
    defaultDatapointsToAlarm: 1,
    thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'rejections' },
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    describe,
  });
  return {
    clusterRed: status('ClusterRedAlarm', options.clusterRed, CLUSTER_STATUS_CODE.red, 1,
      () => `Elasticsearch cluster ${clusterName} is red: a primary shard has no copy, its documents cannot be searched or written. GET _cluster/allocation/explain says why.`),
    clusterYellow: status('ClusterYellowAlarm', options.clusterYellow, CLUSTER_STATUS_CODE.yellow, 3,
      (t) => `Elasticsearch cluster ${clusterName} has not been green (status >= ${t}) for a while: a replica is not allocated. GET _cluster/allocation/explain says why.`),
    unassignedShards: {
      id: 'UnassignedShardsAlarm',
      metric: m.unassignedShards(),
      options: options.unassignedShards,
      defaultThreshold: 1,
      defaultEvaluationPeriods: 6,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'shards' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `At least ${t} shard(s) of ${clusterName} stay unassigned: allocation is blocked (disk watermark, allocation filters, more replicas than nodes). GET _cluster/allocation/explain says why.`,
    },
    searchRejections: rejections('SearchRejectionsAlarm', options.searchRejections, m.searchRejectedTotal(),
      (t) => `${clusterName} rejected at least ${t} search request(s) in a period: the search queue is full. GET _cat/thread_pool/search?v shows which node.`),
    writeRejections: rejections('WriteRejectionsAlarm', options.writeRejections, m.writeRejectedTotal(),
      (t) => `${clusterName} rejected at least ${t} write request(s) in a period: log shippers retry or drop WAF logs. GET _cat/thread_pool/write?v shows which node.`),
    jvmMemoryPressure: {
      id: 'JvmMemoryPressureAlarm',
      metric: m.jvmMemoryPressureMax(),
      options: options.jvmMemoryPressure,
      defaultThreshold: 90,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 0, max: 100, unit: 'percent' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `A node of ${clusterName} keeps its JVM old generation above ${t}% full: garbage collection does not free the heap; at 95% requests are refused.`,
    },
  };
}
