import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { MonitorAlarmOptions } from './monitor-alarm-options';

/** One alarm the monitor may create, with its defaults. */
export interface AlarmDefinition {
  readonly id: string;
  readonly metric: cloudwatch.Metric;
  readonly options?: MonitorAlarmOptions;
  readonly defaultThreshold: number;
  readonly defaultEvaluationPeriods: number;
  /** @default - equal to the evaluation periods */
  readonly defaultDatapointsToAlarm?: number;
  /** Thresholds that make sense for the metric; anything else fails at synth. */
  readonly thresholdRange: { readonly min: number; readonly max: number; readonly unit: string };
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** What the alarm means and where to look, given the threshold in use. */
  readonly describe: (threshold: number) => string;
  /** Alarm on this expression over metrics (ids as in the expression) instead of on `metric`. */
  readonly math?: { readonly expression: string; readonly usingMetrics: Record<string, cloudwatch.Metric> };
  /**
   * An anomaly-detection alarm on `metric`: the threshold is the band's width in standard deviations and the
   * comparison one of the anomaly operators.
   */
  readonly anomalyBand?: boolean;
  /** Created unless the options say otherwise. @default true */
  readonly defaultEnabled?: boolean;
}

/** The threshold the alarm is created with (also the dashboard's annotation); undefined when the alarm is off. */
export function alarmThreshold(definition: AlarmDefinition): number | undefined {
  if ((definition.options?.enabled ?? definition.defaultEnabled ?? true) === false) return undefined;
  return definition.options?.threshold ?? definition.defaultThreshold;
}

/** Creates the alarm unless disabled, notifying the topic on ALARM and on OK. */
export function createMonitorAlarm(
  scope: Construct,
  definition: AlarmDefinition,
  defaultPeriod: Duration,
  topic: sns.ITopic,
): cloudwatch.IAlarm | undefined {
  const threshold = alarmThreshold(definition);
  if (threshold === undefined) return undefined;
  const options = definition.options ?? {};
  const evaluationPeriods = options.evaluationPeriods ?? definition.defaultEvaluationPeriods;
  const period = options.period ?? defaultPeriod;
  // Without the graph label, so the alarm is a plain metric alarm rather than a one-metric math alarm.
  const plain = (m: cloudwatch.Metric) => new cloudwatch.Metric({
    namespace: m.namespace,
    metricName: m.metricName,
    dimensionsMap: m.dimensions as Record<string, string> | undefined,
    statistic: m.statistic,
    period,
  });
  const math = definition.math;
  const alarm = definition.anomalyBand ? new cloudwatch.AnomalyDetectionAlarm(scope, definition.id, {
    metric: plain(definition.metric),
    stdDevs: threshold,
    evaluationPeriods,
    datapointsToAlarm: options.datapointsToAlarm ?? evaluationPeriods,
    comparisonOperator: definition.comparisonOperator,
    treatMissingData: definition.treatMissingData,
    alarmDescription: definition.describe(threshold),
  }) : new cloudwatch.Alarm(scope, definition.id, {
    metric: math
      ? new cloudwatch.MathExpression({
        expression: math.expression,
        usingMetrics: Object.fromEntries(Object.entries(math.usingMetrics).map(([id, m]) => [id, plain(m)])),
        period,
      })
      : plain(definition.metric),
    threshold,
    evaluationPeriods,
    datapointsToAlarm: options.datapointsToAlarm ?? Math.min(definition.defaultDatapointsToAlarm ?? evaluationPeriods, evaluationPeriods),
    comparisonOperator: definition.comparisonOperator,
    treatMissingData: definition.treatMissingData,
    alarmDescription: definition.describe(threshold),
  });
  const action = new cloudwatchActions.SnsAction(topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}

/** Every problem with one alarm's options, for the synth-time error message. */
export function alarmDefinitionErrors(name: string, definition: AlarmDefinition, interval: Duration): string[] {
  const options = definition.options;
  if (!options) return [];
  const errors: string[] = [];
  const where = `alarms.${name}`;
  const { min, max, unit } = definition.thresholdRange;
  if (options.threshold !== undefined && !(options.threshold >= min && options.threshold <= max)) {
    errors.push(`${where}.threshold must be from ${min} to ${max} ${unit}, got ${options.threshold}`);
  }
  const periods = options.evaluationPeriods;
  if (periods !== undefined && !(Number.isInteger(periods) && periods >= 1)) {
    errors.push(`${where}.evaluationPeriods must be a whole number >= 1, got ${periods}`);
  }
  const datapoints = options.datapointsToAlarm;
  const evaluated = periods ?? definition.defaultEvaluationPeriods;
  if (datapoints !== undefined && !(Number.isInteger(datapoints) && datapoints >= 1 && datapoints <= evaluated)) {
    errors.push(`${where}.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${evaluated}), got ${datapoints}`);
  }
  errors.push(...periodErrors(`${where}.period`, options.period, interval));
  return errors;
}

/**
 * CloudWatch alarm periods for metrics like these are whole minutes. The collector writes one datapoint per interval:
 * a shorter period leaves most periods empty (alarms treating missing data as breaching flap, the others never fire),
 * and a period that is not a whole multiple of the interval holds one datapoint in some periods and two in others.
 */
export function periodErrors(where: string, period: Duration | undefined, interval: Duration): string[] {
  if (period === undefined) return [];
  const seconds = period.toSeconds({ integral: false });
  if (!(seconds >= 60 && seconds % 60 === 0)) return [`${where} must be a whole number of minutes, got ${period.toHumanString()}`];
  const intervalSeconds = interval.toSeconds({ integral: false });
  if (intervalSeconds > 0 && seconds % intervalSeconds !== 0) {
    return [`${where} (${period.toHumanString()}) must be a whole multiple of collectionInterval (${interval.toHumanString()}), `
      + 'which writes one datapoint per interval: use the interval or a multiple of it, or leave the period out'];
  }
  return [];
}

/**
 * A run stamps its datapoint at the start of the last interval of its window, and the window ends `ingestDelay`
 * (rounded down to the interval) before the run: the datapoint arrives less than ingestDelay + 2 intervals after the
 * start of its period. CloudWatch reads only the last EvaluationPeriods + 2 periods at each evaluation, so an alarm that
 * treats missing data as breaching must find the newest arrived datapoint within them, or it sits in ALARM on a healthy
 * cluster: ingestDelay + 2 intervals <= (EvaluationPeriods + 1) periods.
 */
export function arrivalLagErrors(
  name: string,
  definition: AlarmDefinition,
  timing: { readonly interval: Duration; readonly ingestDelay: Duration; readonly defaultPeriod: Duration },
): string[] {
  if (definition.treatMissingData !== cloudwatch.TreatMissingData.BREACHING || alarmThreshold(definition) === undefined) return [];
  const minutes = (d: Duration) => d.toSeconds({ integral: false }) / 60;
  const period = minutes(definition.options?.period ?? timing.defaultPeriod);
  const interval = minutes(timing.interval);
  const delay = minutes(timing.ingestDelay);
  const periods = definition.options?.evaluationPeriods ?? definition.defaultEvaluationPeriods;
  const lag = delay + 2 * interval;
  if (!(period > 0) || lag <= (periods + 1) * period) return [];
  const maxDelay = (periods + 1) * period - 2 * interval;
  const neededPeriods = Math.ceil(lag / period) - 1;
  const plural = (n: number) => `${n} minute${n === 1 ? '' : 's'}`;
  return [`ingestDelay (${plural(delay)}) is too long for alarms.${name}: its datapoints arrive up to `
    + `ingestDelay + 2 × collectionInterval (${plural(lag)}) after their period starts, but CloudWatch reads only the last `
    + `${periods} + 2 periods (${plural((periods + 2) * period)}), and this alarm counts missing data as breaching, so it would `
    + `stay in ALARM on a healthy cluster; lower ingestDelay to at most ${maxDelay >= 0 ? plural(maxDelay) : '0 minutes and raise the period'}, `
    + `or raise alarms.${name}.evaluationPeriods to at least ${neededPeriods} (or its period)`];
}
