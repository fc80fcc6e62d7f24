import { Duration } from 'aws-cdk-lib';

/** Settings of one alarm. Unset values take the defaults listed on the alarm's prop. */
export interface MonitorAlarmOptions {
  /**
   * Create this alarm.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The threshold, in the unit of the alarm's metric (see the prop).
   * @default - the alarm's default, see the prop
   */
  readonly threshold?: number;
  /**
   * Length of each evaluated period.
   * @default - `ElasticWafMonitorAlarms.period`
   */
  readonly period?: Duration;
  /**
   * Number of recent periods evaluated.
   * @default - the alarm's default, see the prop
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among `evaluationPeriods` that raise the alarm.
   * @default - equal to `evaluationPeriods`
   */
  readonly datapointsToAlarm?: number;
}

/**
 * The monitor's alarms. Each one notifies the alarm topic when it goes into ALARM and back to OK.
 */
export interface ElasticWafMonitorAlarms {
  /**
   * Default period of every alarm.
   * @default - the collection interval, so each period holds one collector run
   */
  readonly period?: Duration;
  /**
   * 95th percentile WAF latency (`LatencyP95`) above `threshold` milliseconds: more than 5% of the requests are
   * frustrated. It used to watch the average, which a single timeout among thousands of fast requests
   * pushed over the threshold; timeouts have their own alarm (`timeoutPercent`).
   * @default - threshold 4 x Apdex T (the frustrated boundary), 3 of 3 periods
   */
  readonly latency?: MonitorAlarmOptions;
  /**
   * Share of requests slower than `timeoutThreshold` (`TimeoutPercent`) above `threshold` percent.
   * @default - threshold 1, 3 of 3 periods
   */
  readonly timeoutPercent?: MonitorAlarmOptions;
  /**
   * Share of HTTP 5xx answers (`ServerErrorPercent`) above `threshold` percent.
   * @default - threshold 5, 3 of 3 periods
   */
  readonly serverErrorPercent?: MonitorAlarmOptions;
  /**
   * The newest document older than `threshold` seconds when the collector runs (`NewestDocumentAgeSeconds`): the log
   * pipeline stopped. No datapoint (no document for a day, an index pattern matching nothing, a collector that cannot
   * search) counts as breaching; `CollectorErrors` tells a failing collector apart.
   * @default - threshold ingestDelay + collectionInterval + window in seconds (660 with the defaults: while the measured
   * window holds a document, its age cannot exceed that), 2 of 2 periods
   */
  readonly freshness?: MonitorAlarmOptions;
  /**
   * Fewer than `threshold` requests in a period (`RequestCount`): traffic stopped or the documents stopped arriving.
   * No datapoint counts as breaching. Set the threshold to the least traffic your sites see in a quiet period.
   * @default - threshold 1 (no request at all), 3 of 3 periods
   */
  readonly trafficFloor?: MonitorAlarmOptions;
  /**
   * `RequestCount` below CloudWatch's anomaly-detection band, `threshold` standard deviations wide: traffic far under
   * what the hour of the day and the day of the week usually bring. Off by default: the model needs up to two weeks of
   * data to learn, and each anomaly alarm is billed as three metrics. No datapoint counts as breaching.
   * @default - disabled; when enabled: threshold 3 (standard deviations), 3 of 3 periods
   */
  readonly trafficAnomaly?: MonitorAlarmOptions;
  /**
   * Apdex below `threshold` (0..1).
   * @default - threshold 0.85, 3 of 3 periods
   */
  readonly apdex?: MonitorAlarmOptions;
  /**
   * Share of blocked requests above `threshold` percent: an attack, or a rule blocking legitimate traffic.
   * @default - threshold 25, 2 of 2 periods
   */
  readonly blockedPercent?: MonitorAlarmOptions;
  /**
   * CPU of the busiest Elasticsearch node above `threshold` percent.
   * @default - threshold 90, 3 of 3 periods
   */
  readonly nodeCpu?: MonitorAlarmOptions;
  /**
   * JVM heap use of the fullest node above `threshold` percent.
   * @default - threshold 85, 3 of 3 periods
   */
  readonly nodeHeap?: MonitorAlarmOptions;
  /**
   * Free disk of the fullest node below `threshold` percent (Elasticsearch's flood-stage watermark is 5%).
   * @default - threshold 15, 1 of 1 period
   */
  readonly nodeDiskFree?: MonitorAlarmOptions;
  /**
   * Cluster status red (`ClusterStatus` >= `threshold`; 2 is red): a primary shard has no copy, so its documents
   * cannot be searched or written. Pages at once.
   * @default - threshold 2, 1 of 1 period
   */
  readonly clusterRed?: MonitorAlarmOptions;
  /**
   * Cluster status not green (`ClusterStatus` >= `threshold`; 1 is yellow) for a while: a replica is not allocated.
   * Replicas of a new daily index or of a restarted node are yellow for minutes; only a lasting yellow (a stuck
   * recovery, too few nodes for the replicas) pages.
   * @default - threshold 1, 3 of 3 periods (15 minutes at the default interval)
   */
  readonly clusterYellow?: MonitorAlarmOptions;
  /**
   * Unassigned shards (`UnassignedShards`, lowest of the period) at least `threshold` for long: allocation is blocked
   * (disk watermark, allocation filters, more replicas than nodes). Longer than the yellow alarm, because a rolling
   * restart leaves shards unassigned until their recovery gets its turn.
   * @default - threshold 1, 6 of 6 periods (30 minutes at the default interval)
   */
  readonly unassignedShards?: MonitorAlarmOptions;
  /**
   * Search requests rejected by a full search queue (HTTP 429), at least `threshold` in a period
   * (`ElasticWafMetrics.searchRejections()`): dashboards and the collector's own searches fail. The per-period figure
   * is the difference from the previous period, so the alarm evaluates 2 periods and fires on 1.
   * @default - threshold 1, 1 of 2 periods
   */
  readonly searchRejections?: MonitorAlarmOptions;
  /**
   * Write (indexing) requests rejected by a full write queue, at least `threshold` in a period
   * (`ElasticWafMetrics.writeRejections()`): log shippers retry or drop WAF logs.
   * @default - threshold 1, 1 of 2 periods
   */
  readonly writeRejections?: MonitorAlarmOptions;
  /**
   * JVM memory pressure of the fullest node (old generation used / its maximum) above `threshold` percent. Each run
   * samples it once; old-generation use falls back after a collection, so three samples in a row above 90% mean the
   * heap is not being reclaimed. When the heap reaches 95%, the real-memory circuit breaker refuses requests (and
   * Amazon OpenSearch Service blocks writes above 92% for 30 minutes); 90% leaves time to act.
   * @default - threshold 90, 3 of 3 periods
   */
  readonly jvmMemoryPressure?: MonitorAlarmOptions;
  /**
   * Collector errors (unreachable cluster, authentication, timeout, missing field) at least `threshold` per period;
   * a collector that does not report at all counts as breaching.
   * @default - threshold 1, 2 of 2 periods
   */
  readonly collectorErrors?: MonitorAlarmOptions;
  /**
   * WARNING/ERROR lines in the ECS service's log group at least `threshold` per period (only with `ecsLogGroup`).
   * @default - threshold 10, 1 of 1 period
   */
  readonly ecsLogErrors?: MonitorAlarmOptions;
  /**
   * Crashed ECS tasks at least `threshold` per period (only with `ecsService`): tasks that failed to start, whose
   * essential container exited, that were replaced after failed ELB or container health checks, or with a container
   * killed out of memory. Deliberate stops (by a user, a deployment or scale-in, Fargate Spot, task retirement) do not
   * count.
   * @default - threshold 1, 1 of 1 period
   */
  readonly ecsTaskCrashes?: MonitorAlarmOptions;
  /**
   * Average CPU of the ECS service's tasks (`AWS/ECS` CPUUtilization) above `threshold` percent (only with
   * `ecsService`).
   * @default - threshold 85, 3 of 3 periods
   */
  readonly ecsCpu?: MonitorAlarmOptions;
  /**
   * Average memory of the ECS service's tasks (`AWS/ECS` MemoryUtilization) above `threshold` percent (only with
   * `ecsService`).
   * @default - threshold 85, 3 of 3 periods
   */
  readonly ecsMemory?: MonitorAlarmOptions;
  /**
   * At least `threshold` tasks fewer running than desired (`ECS/ContainerInsights` DesiredTaskCount minus the lowest
   * RunningTaskCount of the period; only with `ecsService`, and the cluster needs Container Insights, or the alarm has no
   * data and stays OK). Synth warns (`cdk-waf-guard:ecsContainerInsights`) for a cluster of the app whose Container
   * Insights is off or not set; an imported cluster cannot be checked.
   * @default - threshold 1, 3 of 3 periods
   */
  readonly ecsRunningTasks?: MonitorAlarmOptions;
}
