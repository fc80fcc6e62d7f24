import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { rejectionsExpression } from './runtime/cluster-health';
import { clusterNameErrors, COMPARISON_OFFSETS } from './runtime/config';
import { DIMENSION, METRIC } from './runtime/metric-names';

/** Where the collector's metrics are. */
export interface ElasticWafMetricsProps {
  /** CloudWatch namespace of the metrics. */
  readonly namespace: string;
  /** Value of the `Cluster` dimension the collector puts on every metric. */
  readonly clusterName: string;
  /**
   * Period of the returned metrics.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/**
 * The metrics the collector emits, for graphs and alarms of your own. Per-node metrics have a `Node` dimension whose
 * values are only known at run time, so they come as SEARCH expressions (graphs only); alarm on the cluster-wide
 * worst-node metrics instead.
 */
export class ElasticWafMetrics {
  /**
   * Labels of the windows the current average latency is compared with (`Offset` dimension): `now`, `1h`, `6h`,
   * `12h`, `1d`, `3d`. A new array on every call, so a caller changing it cannot change what the library checks.
   */
  public static comparisonOffsets(): string[] {
    return COMPARISON_OFFSETS.map((o) => o.label);
  }

  /** CloudWatch namespace the collector writes to. */
  public readonly namespace: string;
  /** Value of the `Cluster` dimension of every metric. */
  public readonly clusterName: string;
  /** Period of the metrics: the collection interval. */
  public readonly period: Duration;

  constructor(props: ElasticWafMetricsProps) {
    if (!Token.isUnresolved(props.clusterName)) {
      const errors = clusterNameErrors(props.clusterName);
      if (errors.length > 0) throw new Error(errors.join('; '));
    }
    this.namespace = props.namespace;
    this.clusterName = props.clusterName;
    this.period = props.period ?? Duration.minutes(5);
  }

  /** Requests in the window (Sum). */
  public requestCount(): cloudwatch.Metric {
    return this.metric(METRIC.requestCount, 'Sum', 'Requests');
  }

  /** Requests slower than the timeout threshold (Sum). */
  public timeoutCount(): cloudwatch.Metric {
    return this.metric(METRIC.timeoutCount, 'Sum', 'Timeouts');
  }

  /** Average WAF latency of all requests, ms. */
  public latencyAverage(): cloudwatch.Metric {
    return this.metric(METRIC.latencyAverage, 'Average', 'Average latency');
  }

  /** Average WAF latency of requests within the timeout threshold, ms. */
  public latencyAverageWithoutTimeouts(): cloudwatch.Metric {
    return this.metric(METRIC.latencyAverageWithoutTimeouts, 'Average', 'Average latency without timeouts');
  }

  /** Average WAF latency of the slowest 5% of requests, ms. */
  public slowest5PctAverage(): cloudwatch.Metric {
    return this.metric(METRIC.slowest5PctAverage, 'Average', 'Slowest 5% average');
  }

  /** Average WAF latency of the slowest 5% of the requests within the timeout threshold, ms. */
  public slowest5PctAverageWithoutTimeouts(): cloudwatch.Metric {
    return this.metric(METRIC.slowest5PctAverageWithoutTimeouts, 'Average', 'Slowest 5% average without timeouts');
  }

  /**
   * 95th percentile of the window's WAF latencies, ms (Elasticsearch's `percentiles`). A few timeouts among many
   * requests do not move it, unlike the average.
   */
  public latencyP95(): cloudwatch.Metric {
    return this.metric(METRIC.latencyP95, 'Average', 'p95 latency');
  }

  /** 99th percentile of the window's WAF latencies, ms. */
  public latencyP99(): cloudwatch.Metric {
    return this.metric(METRIC.latencyP99, 'Average', 'p99 latency');
  }

  /** Timeouts among the window's requests with a latency, percent. */
  public timeoutPercent(): cloudwatch.Metric {
    return this.metric(METRIC.timeoutPercent, 'Average', 'Timeouts %');
  }

  /** HTTP 5xx answers among the window's requests with an HTTP status code, percent. */
  public serverErrorPercent(): cloudwatch.Metric {
    return this.metric(METRIC.serverErrorPercent, 'Average', '5xx %');
  }

  /** Documents of the window without a latency value, e.g. blocked requests (Sum). Not a collector error. */
  public documentsWithoutLatency(): cloudwatch.Metric {
    return this.metric(METRIC.documentsWithoutLatency, 'Sum', 'Documents without latency');
  }

  /** Documents of the window whose status is missing or none of the configured values (Sum). */
  public documentsWithoutStatus(): cloudwatch.Metric {
    return this.metric(METRIC.documentsWithoutStatus, 'Sum', 'Documents without status');
  }

  /**
   * Age of the newest document when the collector ran, seconds (Maximum). Absent when no document is found from a day
   * before the window up to the run (a dead pipeline, an index pattern matching nothing).
   */
  public newestDocumentAgeSeconds(): cloudwatch.Metric {
    return this.metric(METRIC.newestDocumentAgeSeconds, 'Maximum', 'Newest document age (s)');
  }

  /** Allowed requests (Sum). */
  public allowedCount(): cloudwatch.Metric {
    return this.metric(METRIC.allowedCount, 'Sum', 'Allowed');
  }

  /** Blocked requests (Sum). */
  public blockedCount(): cloudwatch.Metric {
    return this.metric(METRIC.blockedCount, 'Sum', 'Blocked');
  }

  /** Alerted requests (Sum). */
  public alertedCount(): cloudwatch.Metric {
    return this.metric(METRIC.alertedCount, 'Sum', 'Alerted');
  }

  /** Allowed share of the window's requests, percent. */
  public allowedPercent(): cloudwatch.Metric {
    return this.metric(METRIC.allowedPercent, 'Average', 'Allowed %');
  }

  /** Blocked share of the window's requests, percent. */
  public blockedPercent(): cloudwatch.Metric {
    return this.metric(METRIC.blockedPercent, 'Average', 'Blocked %');
  }

  /** Alerted share of the window's requests, percent. */
  public alertedPercent(): cloudwatch.Metric {
    return this.metric(METRIC.alertedPercent, 'Average', 'Alerted %');
  }

  /** Apdex of the window, 0..1. */
  public apdex(): cloudwatch.Metric {
    return this.metric(METRIC.apdex, 'Average', 'Apdex');
  }

  /**
   * Average latency of the window as long ago as `offset`, ms.
   * @param offset one of `ElasticWafMetrics.comparisonOffsets()`
   */
  public latencyAverageByOffset(offset: string): cloudwatch.Metric {
    const offsets = ElasticWafMetrics.comparisonOffsets();
    if (!offsets.includes(offset)) {
      throw new Error(`offset must be one of ${offsets.join(', ')}, got "${offset}"`);
    }
    return this.metric(METRIC.latencyAverageByOffset, 'Average', offset === 'now' ? 'now' : `${offset} ago`, {
      [DIMENSION.offset]: offset,
    });
  }

  /** CPU % of the busiest node (Maximum). */
  public nodeCpuPercentMax(): cloudwatch.Metric {
    return this.metric(METRIC.nodeCpuPercentMax, 'Maximum', 'Busiest node CPU %');
  }

  /** JVM heap used % of the fullest node (Maximum). */
  public nodeHeapUsedPercentMax(): cloudwatch.Metric {
    return this.metric(METRIC.nodeHeapUsedPercentMax, 'Maximum', 'Fullest node heap %');
  }

  /** Free disk % of the fullest node (Minimum). */
  public nodeDiskFreePercentMin(): cloudwatch.Metric {
    return this.metric(METRIC.nodeDiskFreePercentMin, 'Minimum', 'Lowest node disk free %');
  }

  /** Cluster health status of `_cluster/health`: 0 green, 1 yellow, 2 red (Maximum: the worst of the period). */
  public clusterStatus(): cloudwatch.Metric {
    return this.metric(METRIC.clusterStatus, 'Maximum', 'Status (0 green, 1 yellow, 2 red)');
  }

  /** Shard copies no node holds, of `_cluster/health` (Minimum: the period's lowest, so a passing gap is not counted). */
  public unassignedShards(): cloudwatch.Metric {
    return this.metric(METRIC.unassignedShards, 'Minimum', 'Unassigned shards');
  }

  /**
   * JVM memory pressure of the fullest node: its old-generation pool used against the pool's maximum, percent
   * (Maximum).
   */
  public jvmMemoryPressureMax(): cloudwatch.Metric {
    return this.metric(METRIC.jvmMemoryPressureMax, 'Maximum', 'Fullest node JVM memory pressure %');
  }

  /** JVM memory pressure of every node, one series per node (graphs only). */
  public jvmMemoryPressurePerNode(): cloudwatch.IMetric {
    return this.perNode(METRIC.nodeJvmMemoryPressure, 'Maximum');
  }

  /**
   * Search thread-pool rejections since each node started, summed over the nodes (Maximum). A counter: graph or alarm
   * on `searchRejections()`, the per-period figure.
   */
  public searchRejectedTotal(): cloudwatch.Metric {
    return this.metric(METRIC.searchRejectedTotal, 'Maximum', 'Search rejections since node start');
  }

  /** Write thread-pool rejections since each node started, summed over the nodes (Maximum); see `writeRejections()`. */
  public writeRejectedTotal(): cloudwatch.Metric {
    return this.metric(METRIC.writeRejectedTotal, 'Maximum', 'Write rejections since node start');
  }

  /** Id of the set of nodes whose rejection counters were summed; it changes when a node joins, leaves or fails to report. */
  public statsNodeSet(): cloudwatch.Metric {
    return this.metric(METRIC.statsNodeSet, 'Maximum', 'Node set id');
  }

  /**
   * Search requests the cluster rejected in each period (queue full): the rise of the summed counters since the
   * previous period, 0 when a node restarted (its counter starts again) or the set of reporting nodes changed, so the
   * figure is never more than the rejections that happened.
   */
  public searchRejections(): cloudwatch.MathExpression {
    return this.rejections(this.searchRejectedTotal(), 'searchTotal', 'Search rejections');
  }

  /** Write (indexing) requests the cluster rejected in each period; computed like `searchRejections()`. */
  public writeRejections(): cloudwatch.MathExpression {
    return this.rejections(this.writeRejectedTotal(), 'writeTotal', 'Write rejections');
  }

  /** Problems of a collector run (Sum). */
  public collectorErrors(): cloudwatch.Metric {
    return this.metric(METRIC.collectorErrors, 'Sum', 'Collector errors');
  }

  /** 1 for a run whose figures are partial (a shard failed or timed out), 0 for a complete run (Maximum). */
  public partialRun(): cloudwatch.Metric {
    return this.metric(METRIC.partialRun, 'Maximum', 'Partial runs');
  }

  /** CPU % of every node, one series per node (graphs only). */
  public nodeCpuPercentPerNode(): cloudwatch.IMetric {
    return this.perNode(METRIC.nodeCpuPercent, 'Maximum');
  }

  /** JVM heap used % of every node, one series per node (graphs only). */
  public nodeHeapUsedPercentPerNode(): cloudwatch.IMetric {
    return this.perNode(METRIC.nodeHeapUsedPercent, 'Maximum');
  }

  /** Free disk % of every node, one series per node (graphs only). */
  public nodeDiskFreePercentPerNode(): cloudwatch.IMetric {
    return this.perNode(METRIC.nodeDiskFreePercent, 'Minimum');
  }

  private metric(
    metricName: string,
    statistic: string,
    label: string,
    extraDimensions: { [name: string]: string } = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      statistic,
      label,
      period: this.period,
      dimensionsMap: { [DIMENSION.cluster]: this.clusterName, ...extraDimensions },
    });
  }

  private rejections(total: cloudwatch.Metric, totalId: string, label: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: rejectionsExpression(totalId, 'nodeSet'),
      usingMetrics: { [totalId]: total, nodeSet: this.statsNodeSet() },
      period: this.period,
      label,
    });
  }

  private perNode(metricName: string, statistic: string): cloudwatch.IMetric {
    // Namespace and cluster name are validated to contain no quotes, so they need no escaping inside SEARCH.
    const schema = `{"${this.namespace}",${DIMENSION.cluster},${DIMENSION.node}}`;
    const filter = `MetricName="${metricName}" ${DIMENSION.cluster}="${this.clusterName}"`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${schema} ${filter}', '${statistic}', ${this.period.toSeconds()})`,
      usingMetrics: {},
      period: this.period,
      // An empty label lets CloudWatch name each series by its node instead of by the expression.
      label: '',
    });
  }
}
