import { ReportPeriod, localTime, withRepeatOffset } from './period';

/**
 * The guard's day or month, shaped from its history rows (pure). A row is one event of one block: see the history
 * table written by the IP-set sync. Event names the report does not know (added by later guard versions) are counted
 * under "other" instead of being dropped.
 */

export interface HistoryRecord {
  /** IPv4 address or IPv6 prefix such as `2001:db8:1:2::/64`. */
  readonly ip: string;
  /** Time of the event (ms), from the sort key. */
  readonly at: number;
  readonly event: string;
  readonly ruleId: string;
  readonly host: string;
  readonly action: string;
  readonly observed?: number;
  readonly threshold?: number;
  readonly windowSeconds?: number;
  readonly blockedAt?: number;
  readonly blockedUntil?: number;
}

/** Events that start a block (or a dry-run "would block"). */
const STARTS = new Set(['BLOCKED', 'RENEWED']);

export interface RuleActivity {
  readonly ruleId: string;
  readonly host: string;
  readonly blocked: number;
  readonly renewed: number;
  readonly wouldBlock: number;
  readonly released: number;
  /** Blocks that never reached WAF because an IP set was full. */
  readonly notApplied: number;
  readonly other: number;
}

export interface Offender {
  readonly ip: string;
  /** Rules it was blocked by, sorted. */
  readonly rules: string[];
  /** BLOCKED + RENEWED events. */
  readonly blocks: number;
  /** Sum of the blocked periods started in the report period. */
  readonly blockedMs: number;
  /** Highest request count observed at a decision. */
  readonly peakObserved: number;
}

export interface BusyMinute {
  /** Start of the minute (ms). */
  readonly minute: number;
  /** Blocks, renewals and would-blocks decided in that minute. */
  readonly decisions: number;
}

export interface GuardSummary {
  readonly events: number;
  readonly totals: {
    readonly blocked: number;
    readonly renewed: number;
    readonly wouldBlock: number;
    readonly released: number;
    readonly notApplied: number;
    readonly other: number;
  };
  readonly byRule: RuleActivity[];
  readonly topOffenders: Offender[];
  /** Blocked more than once in the period. */
  readonly repeatOffenders: Offender[];
  readonly busiestMinutes: BusyMinute[];
  /** Every offender, ranked as the top offenders are: the offenders CSV, and "N of M" for the cut tables. */
  readonly allOffenders?: Offender[];
  /** Every minute with a decision, busiest first: the busiest-minutes CSV. */
  readonly allMinutes?: BusyMinute[];
  /** Block starts per hour (daily) or per day (monthly) of the period, in the reader's zone, for the chart. */
  readonly timeline: Array<{ readonly label: string; readonly value: number }>;
  /** Offenders not blocked because the new-block budget was spent, when the guard's metrics could be read. */
  readonly budgetExceeded?: number;
  /** Every row of the period, oldest first: the blocks CSV. */
  readonly records: HistoryRecord[];
}

export interface SummaryOptions {
  readonly topOffenders?: number;
  readonly busiestMinutes?: number;
  readonly budgetExceeded?: number;
}

const EVENT_KEY: Record<string, keyof GuardSummary['totals']> = {
  BLOCKED: 'blocked',
  RENEWED: 'renewed',
  WOULD_BLOCK: 'wouldBlock',
  RELEASED: 'released',
  ENDED_NOT_APPLIED: 'notApplied',
};

export function summarizeGuard(rows: readonly HistoryRecord[], period: ReportPeriod, options: SummaryOptions = {}): GuardSummary {
  const records = rows
    .filter((r) => r.at >= period.start.getTime() && r.at < period.end.getTime())
    .sort((a, b) => a.at - b.at || a.ip.localeCompare(b.ip));
  const totals = { blocked: 0, renewed: 0, wouldBlock: 0, released: 0, notApplied: 0, other: 0 };
  const rules = new Map<string, { -readonly [K in keyof RuleActivity]: RuleActivity[K] }>();
  const offenders = new Map<string, { ip: string; rules: Set<string>; blocks: number; blockedMs: number; peakObserved: number }>();
  const minutes = new Map<number, number>();

  const buckets = timelineBuckets(period);
  const timeline = buckets.map((b) => ({ label: b.label, value: 0 }));

  for (const r of records) {
    const key = EVENT_KEY[r.event] ?? 'other';
    totals[key]++;
    const ruleKey = `${r.ruleId}\u0000${r.host}`;
    let activity = rules.get(ruleKey);
    if (!activity) {
      activity = { ruleId: r.ruleId, host: r.host, blocked: 0, renewed: 0, wouldBlock: 0, released: 0, notApplied: 0, other: 0 };
      rules.set(ruleKey, activity);
    }
    activity[key]++;
    if (STARTS.has(r.event) || r.event === 'WOULD_BLOCK') {
      const minute = Math.floor(r.at / 60_000) * 60_000;
      minutes.set(minute, (minutes.get(minute) ?? 0) + 1);
    }
    if (STARTS.has(r.event)) {
      let o = offenders.get(r.ip);
      if (!o) {
        o = { ip: r.ip, rules: new Set(), blocks: 0, blockedMs: 0, peakObserved: 0 };
        offenders.set(r.ip, o);
      }
      o.rules.add(r.ruleId);
      o.blocks++;
      if (r.blockedAt !== undefined && r.blockedUntil !== undefined && r.blockedUntil > r.blockedAt) o.blockedMs += r.blockedUntil - r.blockedAt;
      o.peakObserved = Math.max(o.peakObserved, r.observed ?? 0);
      const i = bucketIndex(buckets, r.at);
      if (i >= 0) timeline[i].value++;
    }
  }

  const ranked: Offender[] = [...offenders.values()]
    .map((o) => ({ ip: o.ip, rules: [...o.rules].sort(), blocks: o.blocks, blockedMs: o.blockedMs, peakObserved: o.peakObserved }))
    .sort((a, b) => b.blocks - a.blocks || b.blockedMs - a.blockedMs || a.ip.localeCompare(b.ip));
  const allMinutes = [...minutes.entries()]
    .map(([minute, decisions]) => ({ minute, decisions }))
    .sort((a, b) => b.decisions - a.decisions || a.minute - b.minute);
  return {
    events: records.length,
    totals,
    byRule: [...rules.values()].sort((a, b) =>
      b.blocked + b.renewed + b.wouldBlock - (a.blocked + a.renewed + a.wouldBlock)
      || a.ruleId.localeCompare(b.ruleId) || a.host.localeCompare(b.host)),
    topOffenders: ranked.slice(0, options.topOffenders ?? 25),
    repeatOffenders: ranked.filter((o) => o.blocks > 1).slice(0, options.topOffenders ?? 25),
    busiestMinutes: allMinutes.slice(0, options.busiestMinutes ?? 5),
    allOffenders: ranked,
    allMinutes,
    timeline,
    budgetExceeded: options.budgetExceeded,
    records,
  };
}

interface Bucket { readonly label: string; readonly start: number; readonly end: number }

/** Hours of a local day (23 to 25 of them) or days of a local month. */
export function timelineBuckets(period: ReportPeriod): Bucket[] {
  const buckets: Bucket[] = [];
  const step = period.kind === 'daily' ? 3_600_000 : 86_400_000;
  // Walk in steps and cut at local boundaries: hour starts are whole UTC hours in every zone with whole-hour offsets;
  // for days, the local date changes are found by reading the local date of each step.
  if (period.kind === 'daily') {
    for (let t = period.start.getTime(); t < period.end.getTime(); t += step) {
      const local = localTime(new Date(t), period.timeZone);
      // The hour a change back to standard time repeats is labelled with its offset, both times.
      buckets.push({ label: withRepeatOffset(String(local.hour).padStart(2, '0'), t, period.timeZone), start: t, end: Math.min(t + step, period.end.getTime()) });
    }
    return buckets;
  }
  let start = period.start.getTime();
  let day = localTime(period.start, period.timeZone).day;
  for (let t = start + 3_600_000; t <= period.end.getTime(); t += 3_600_000) {
    const d = t === period.end.getTime() ? -1 : localTime(new Date(t), period.timeZone).day;
    if (d !== day) {
      buckets.push({ label: String(day), start, end: t });
      start = t;
      day = d;
    }
  }
  return buckets;
}

function bucketIndex(buckets: readonly Bucket[], t: number): number {
  return buckets.findIndex((b) => t >= b.start && t < b.end);
}

/** A history item as DynamoDB returns it, or undefined when it lacks what the report needs. */
export function parseHistoryItem(item: Record<string, unknown>): HistoryRecord | undefined {
  const ip = item.ip;
  const sortKey = item.at;
  if (typeof ip !== 'string' || typeof sortKey !== 'string') return undefined;
  const [time, eventFromKey, ...ruleParts] = sortKey.split('#');
  const at = Date.parse(time);
  if (Number.isNaN(at)) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
  return {
    ip,
    at,
    event: str(item.event, eventFromKey ?? 'UNKNOWN'),
    ruleId: str(item.ruleId, ruleParts.join('#')),
    host: str(item.host, ''),
    action: str(item.action, ''),
    observed: num(item.observed),
    threshold: num(item.threshold),
    windowSeconds: num(item.windowSeconds),
    blockedAt: num(item.blockedAt),
    blockedUntil: num(item.blockedUntil),
  };
}
