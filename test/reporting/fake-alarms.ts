import {
  CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmHistoryCommandInput, DescribeAlarmsCommand, DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';

/** An alarm as it is now. */
export interface FakeAlarm {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly since: string;
}

/** One entry of an account's alarm history. */
export interface FakeHistoryEntry {
  readonly name: string;
  readonly at: string;
  readonly type?: 'StateUpdate' | 'ConfigurationUpdate' | 'Action';
  readonly from?: string;
  readonly to?: string;
}

const accessDenied = (action: string) => Object.assign(
  new Error(`User is not authorized to perform: cloudwatch:${action} on resource: arn:aws:cloudwatch:us-east-1:111111111111:alarm:*`),
  { name: 'AccessDenied' },
);

/**
 * CloudWatch's DescribeAlarms and DescribeAlarmHistory through aws-sdk-client-mock, answering from an account's alarms
 * and history and the request: names (at most 100, unknown ones left out), history item type, date range (inclusive),
 * scan order, pages of `pageSize` (or fewer `MaxRecords`) with NextToken. Like a role scoped to alarm ARNs, it refuses
 * a request that names no alarm.
 */
export function fakeAlarms(alarms: readonly FakeAlarm[], history: readonly FakeHistoryEntry[], options: { pageSize?: number; fail?: Error } = {}) {
  const pageSize = options.pageSize ?? 2;
  const cw = mockClient(CloudWatchClient);
  const page = <T>(items: readonly T[], token: string | undefined, max: number) => {
    const from = Number(token ?? 0);
    const to = from + max;
    return { items: items.slice(from, to), next: to < items.length ? String(to) : undefined };
  };
  cw.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
    if (options.fail) throw options.fail;
    if (!input.AlarmNames || input.AlarmNames.length === 0) throw accessDenied('DescribeAlarms');
    if (input.AlarmNames.length > 100) throw Object.assign(new Error('The collection AlarmNames must not have a size greater than 100.'), { name: 'ValidationError' });
    const matched = alarms.filter((a) => input.AlarmNames!.includes(a.name));
    const { items, next } = page(matched, input.NextToken, Math.min(pageSize, input.MaxRecords ?? 100));
    return {
      MetricAlarms: items.map((a) => ({ AlarmName: a.name, StateValue: a.state, StateUpdatedTimestamp: new Date(a.since) })),
      CompositeAlarms: [],
      NextToken: next,
    };
  });
  cw.on(DescribeAlarmHistoryCommand).callsFake((input: DescribeAlarmHistoryCommandInput) => {
    if (options.fail) throw options.fail;
    if (!input.AlarmName) throw accessDenied('DescribeAlarmHistory');
    const start = input.StartDate ? new Date(input.StartDate).getTime() : -Infinity;
    const end = input.EndDate ? new Date(input.EndDate).getTime() : Infinity;
    const matched = history
      .filter((h) => h.name === input.AlarmName && (!input.HistoryItemType || (h.type ?? 'StateUpdate') === input.HistoryItemType))
      .filter((h) => Date.parse(h.at) >= start && Date.parse(h.at) <= end)
      .sort((a, b) => (input.ScanBy === 'TimestampAscending' ? 1 : -1) * (Date.parse(a.at) - Date.parse(b.at)));
    const { items, next } = page(matched, input.NextToken, Math.min(pageSize, input.MaxRecords ?? 100));
    return {
      AlarmHistoryItems: items.map((h) => ({
        AlarmName: h.name,
        AlarmType: 'MetricAlarm' as const,
        Timestamp: new Date(h.at),
        HistoryItemType: h.type ?? 'StateUpdate',
        HistorySummary: h.type && h.type !== 'StateUpdate' ? `Alarm "${h.name}" updated` : `Alarm updated from ${h.from} to ${h.to}`,
        HistoryData: JSON.stringify(h.type && h.type !== 'StateUpdate'
          ? { type: 'Update', version: '1.0' }
          : { version: '1.0', oldState: { stateValue: h.from, stateReason: 'r' }, newState: { stateValue: h.to, stateReason: 'r' } }),
      })),
      NextToken: next,
    };
  });
  return cw;
}
