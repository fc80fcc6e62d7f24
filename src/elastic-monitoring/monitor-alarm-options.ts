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
   * Average WAF latency over the window above `threshold` milliseconds.
   * @default - threshold 4 x Apdex T (the frustrated boundary), 3 of 3 periods
   */
  readonly latency?: MonitorAlarmOptions;
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
