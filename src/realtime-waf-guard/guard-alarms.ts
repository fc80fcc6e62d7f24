import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { limitLength } from '../shared/cfn-text';

export interface GuardAlarmsProps {
  readonly guardName: string;
  readonly alertTopic: sns.ITopic;
  readonly budgetExceeded: cloudwatch.IMetric;
  readonly blocksOverIpSetCap: cloudwatch.IMetric;
  /** Rule rows refused by the log processor (maximum per batch). */
  readonly invalidRuleRows: cloudwatch.IMetric;
  /** Failed counter writes of `Counting.LOCAL_FIRST`; undefined with exact counting. */
  readonly counterWriteErrors?: cloudwatch.IMetric;
  readonly logProcessor: lambda.IFunction;
  readonly ipSetSync: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
}

/** Failures of the guard itself, notifying the alert topic: each one means clients that should be blocked may not be. */
export class GuardAlarms extends Construct {
  public readonly budgetExceeded: cloudwatch.IAlarm;
  public readonly ipSetFull: cloudwatch.IAlarm;
  public readonly syncErrors: cloudwatch.IAlarm;
  public readonly deadLetter: cloudwatch.IAlarm;
  public readonly processingLag: cloudwatch.IAlarm;
  public readonly invalidRules: cloudwatch.IAlarm;
  public readonly counterWrites?: cloudwatch.IAlarm;

  constructor(scope: Construct, id: string, private readonly props: GuardAlarmsProps) {
    super(scope, id);
    const minute = Duration.minutes(1);
    this.budgetExceeded = this.alarm('BudgetExceededAlarm', props.budgetExceeded, 1, 1,
      'Clients over a threshold were not blocked: the new-block budget per minute was spent (a bad rule, or a large attack).');
    this.ipSetFull = this.alarm('IpSetFullAlarm', props.blocksOverIpSetCap, 1, 1,
      'Blocks are left out of WAF: an IP set holds its 10,000 addresses.');
    // Lambda's own error count: it also counts timeouts, which end the function before it can emit a metric.
    this.syncErrors = this.alarm('SyncErrorsAlarm', props.ipSetSync.metricErrors({ period: minute, statistic: cloudwatch.Stats.SUM }), 1, 3,
      'The IP set sync failed three minutes in a row: new blocks and releases are not reaching WAF.');
    this.deadLetter = this.alarm('DeadLetterAlarm',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM }), 1, 1,
      'Batches of real-time logs or block changes failed every retry and were set aside in the dead-letter queue.');
    this.processingLag = this.alarm('ProcessingLagAlarm',
      props.logProcessor.metric('IteratorAge', { period: minute, statistic: cloudwatch.Stats.MAXIMUM }), 60_000, 5,
      'Log processing has been more than a minute behind the stream for five minutes: detection is late.');
    this.invalidRules = this.alarm('InvalidRulesAlarm', props.invalidRuleRows, 1, 1,
      'Rows of the rules table are refused and detect nothing (a field typed wrong, or a threshold too low for the ' +
      'sampling rate): the log processor log names each row and field.');
    // Under LOCAL_FIRST a failed counter write no longer fails the batch (it was claimed), so Lambda's errors miss it.
    if (props.counterWriteErrors) {
      this.counterWrites = this.alarm('CounterWritesAlarm', props.counterWriteErrors, 1, 3,
        'Counter writes have failed three minutes in a row: counts wait in the log processor\'s memory and blocks are ' +
        'late; counts are lost if its environments end.');
    }
  }

  /** Every alarm, in a fixed order. */
  public get all(): cloudwatch.IAlarm[] {
    return [
      this.budgetExceeded, this.ipSetFull, this.syncErrors, this.deadLetter, this.processingLag, this.invalidRules,
      ...(this.counterWrites ? [this.counterWrites] : []),
    ];
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, periods: number, description: string): cloudwatch.IAlarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: limitLength(`${this.props.guardName}: ${description}`, 1024),
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.props.alertTopic));
    return alarm;
  }
}
