import { formatClock, formatCount, formatTime } from './format';
import { ReportPeriod } from './period';

/**
 * The alarms of the report's period (pure): which were in ALARM during it, and when, from what CloudWatch said about
 * them (DescribeAlarms now, DescribeAlarmHistory of the period). Read by `alarm-history.ts`.
 */

/** An alarm as DescribeAlarms answers now. */
export interface DescribedAlarm {
  readonly name: string;
  /** `OK`, `ALARM` or `INSUFFICIENT_DATA`. */
  readonly state: string;
  /** When it entered that state (epoch ms). */
  readonly since?: number;
}

/** A state change of the period, from DescribeAlarmHistory (`StateUpdate` items). */
export interface AlarmStateChange {
  readonly name: string;
  readonly at: number;
  readonly from?: string;
  readonly to?: string;
}

export interface AlarmStatus {
  readonly name: string;
  /** The state now; undefined when CloudWatch does not know the alarm (deleted or renamed). */
  readonly state?: string;
  readonly since?: number;
  /** When it went to ALARM during the period, in order. */
  readonly alarmedAt: readonly number[];
  /** It was in ALARM when the period began. */
  readonly alarmAtStart: boolean;
}

/** The named alarms' states, in the order given (duplicates once). */
export function summarizeAlarms(names: readonly string[], described: readonly DescribedAlarm[], changes: readonly AlarmStateChange[], period: Pick<ReportPeriod, 'start' | 'end'>): AlarmStatus[] {
  const start = period.start.getTime();
  const end = period.end.getTime();
  return [...new Set(names)].map((name) => {
    const now = described.find((d) => d.name === name);
    const own = changes.filter((c) => c.name === name && c.at >= start && c.at < end).sort((a, b) => a.at - b.at);
    // The state at the start is the one the period's first change left; without a change in the period, the current
    // state if it began before the period (a later change leaves the period's state unknown here: not counted).
    const alarmAtStart = own.length > 0
      ? own[0].from === 'ALARM'
      : now?.state === 'ALARM' && now.since !== undefined && now.since < start;
    return {
      name,
      state: now?.state,
      since: now?.since,
      alarmedAt: own.filter((c) => c.to === 'ALARM').map((c) => c.at),
      alarmAtStart,
    };
  });
}

/** Alarms that were in ALARM at some time of the period: the headline's count. */
export function alarmedInPeriod(alarms: readonly AlarmStatus[]): AlarmStatus[] {
  return alarms.filter((a) => a.alarmAtStart || a.alarmedAt.length > 0);
}

/** Times shown per alarm; the count says how many there were in all. */
const MAX_TIMES = 5;

/**
 * The banner's lines: every alarm in ALARM now or at some time of the period, and every alarm CloudWatch does not know
 * (its name in the configuration no longer matches one, so it watches nothing the report can see).
 */
export function alarmAttention(alarms: readonly AlarmStatus[], period: ReportPeriod): Array<{ source: string; message: string }> {
  const tz = period.timeZone;
  const when = (at: number) => (period.kind === 'daily' ? formatClock(at, tz) : formatTime(at, tz));
  const items: Array<{ source: string; message: string }> = [];
  for (const a of alarms) {
    if (a.state === undefined) {
      items.push({ source: `alarm ${a.name}`, message: 'not found in CloudWatch (deleted or renamed?); its state is not reported' });
      continue;
    }
    const n = a.alarmedAt.length;
    if (a.state !== 'ALARM' && n === 0 && !a.alarmAtStart) continue;
    const parts: string[] = [];
    parts.push(a.state === 'ALARM'
      ? `in ALARM now${a.since !== undefined ? ` (since ${formatTime(a.since, tz)} ${tz})` : ''}`
      : `${a.state} now`);
    if (n > 0) {
      const shown = a.alarmedAt.slice(0, MAX_TIMES).map(when).join(', ');
      parts.push(`went to ALARM ${n === 1 ? 'once' : `${formatCount(n)} times`} in the period: ${shown}${n > MAX_TIMES ? `, ... (${formatCount(n - MAX_TIMES)} more)` : ''}`);
    }
    if (a.alarmAtStart) parts.push('was in ALARM when the period began');
    items.push({ source: `alarm ${a.name}`, message: parts.join('; ') });
  }
  return items;
}
