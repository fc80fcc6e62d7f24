import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmDefinition, createMonitorAlarm } from './monitor-alarms';

export interface MonitorAlarmSetProps {
  /** By the name the alarm's options have in `alarms`. */
  readonly definitions: Record<string, AlarmDefinition>;
  /** Period of alarms whose options give none. */
  readonly period: Duration;
  readonly topic: sns.ITopic;
}

/** The monitor's alarms, each notifying the topic on ALARM and on OK; disabled ones are not created. */
export class MonitorAlarmSet extends Construct {
  /** Created alarms by definition name; a disabled alarm has no entry. */
  public readonly byName: Readonly<Record<string, cloudwatch.IAlarm>>;
  /** Every created alarm, in definition order. */
  public readonly all: cloudwatch.IAlarm[];

  constructor(scope: Construct, id: string, props: MonitorAlarmSetProps) {
    super(scope, id);
    const byName: Record<string, cloudwatch.IAlarm> = {};
    for (const [name, definition] of Object.entries(props.definitions)) {
      const alarm = createMonitorAlarm(this, definition, props.period, props.topic);
      if (alarm) byName[name] = alarm;
    }
    this.byName = byName;
    this.all = Object.values(byName);
  }
}
