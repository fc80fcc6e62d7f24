import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { AlarmStateChange, AlarmStatus, DescribedAlarm, summarizeAlarms } from './alarm-summary';
import { ReportPeriod } from './period';

/** DescribeAlarms takes at most 100 names a request. */
const NAMES_PER_REQUEST = 100;

/**
 * The named alarms now (DescribeAlarms by name, every page) and their state changes in the period (DescribeAlarmHistory
 * per alarm, `StateUpdate` items of the period, every page). By name only: the role may read these alarms and no other.
 */
export async function readAlarms(cloudwatch: Pick<CloudWatchClient, 'send'>, names: readonly string[], period: ReportPeriod): Promise<AlarmStatus[]> {
  const unique = [...new Set(names)];
  const described: DescribedAlarm[] = [];
  for (let i = 0; i < unique.length; i += NAMES_PER_REQUEST) {
    let token: string | undefined;
    do {
      const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: unique.slice(i, i + NAMES_PER_REQUEST), NextToken: token }));
      for (const a of out.MetricAlarms ?? []) {
        if (a.AlarmName && a.StateValue) described.push({ name: a.AlarmName, state: a.StateValue, since: a.StateUpdatedTimestamp?.getTime() });
      }
      token = out.NextToken;
    } while (token);
  }
  const changes: AlarmStateChange[] = [];
  for (const name of unique) {
    let token: string | undefined;
    do {
      const out = await cloudwatch.send(new DescribeAlarmHistoryCommand({
        AlarmName: name,
        HistoryItemType: 'StateUpdate',
        StartDate: period.start,
        EndDate: period.end,
        ScanBy: 'TimestampAscending',
        MaxRecords: 100,
        NextToken: token,
      }));
      for (const item of out.AlarmHistoryItems ?? []) {
        if (item.AlarmName !== name || !item.Timestamp) continue;
        changes.push({ name, at: item.Timestamp.getTime(), ...stateChange(item.HistoryData, item.HistorySummary) });
      }
      token = out.NextToken;
    } while (token);
  }
  return summarizeAlarms(unique, described, changes, period);
}

/** The states of a `StateUpdate` item: its JSON data, else its summary (`Alarm updated from OK to ALARM`). */
export function stateChange(data: string | undefined, summary: string | undefined): { from?: string; to?: string } {
  try {
    const parsed = JSON.parse(data ?? '') as { oldState?: { stateValue?: unknown }; newState?: { stateValue?: unknown } };
    const from = parsed?.oldState?.stateValue;
    const to = parsed?.newState?.stateValue;
    if (typeof to === 'string') return { to, ...(typeof from === 'string' ? { from } : {}) };
  } catch {
    // The summary below says the same in words.
  }
  const m = /from (\w+) to (\w+)/.exec(summary ?? '');
  return m ? { from: m[1], to: m[2] } : {};
}
