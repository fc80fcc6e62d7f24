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
   * Crashed ECS tasks (stop code with Error, Failed or Exited) at least `threshold` per period (only with
   * `ecsService`).
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
   * data and stays OK).
   * @default - threshold 1, 3 of 3 periods
   */
  readonly ecsRunningTasks?: MonitorAlarmOptions;
}
