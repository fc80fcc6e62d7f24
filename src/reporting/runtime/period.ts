/**
 * Report periods in the reader's time zone. A "day" is a local calendar day: 23, 24 or 25 hours long around daylight
 * saving changes, which is why periods are computed from local calendar fields and never by adding 24 hours.
 */

export type ReportKind = 'daily' | 'monthly';

export interface ReportPeriod {
  readonly kind: ReportKind;
  /** `YYYY-MM-DD` for a day, `YYYY-MM` for a month: the name of the period in the reader's time zone. */
  readonly label: string;
  /** Inclusive. */
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
  readonly timeZone: string;
}

/** Local calendar fields of an instant in a time zone. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is an IANA zone name this Node.js knows (the construct checks at synth, the handler at run). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * How IANA spells `timeZone`, or undefined when it is no zone. Intl matches zone names in any case, but Elasticsearch's
 * `time_zone` and EventBridge Scheduler match them exactly: `europe/berlin` works here and fails there. Node.js before 22
 * answers a link with its target (US/Eastern -> America/New_York, Asia/Kolkata -> Asia/Calcutta), so a link is kept as
 * given when each of its parts starts in upper case, as every IANA name's does, and corrected to the target otherwise.
 */
export function timeZoneSpelling(timeZone: string): string | undefined {
  if (!isValidTimeZone(timeZone)) return undefined;
  const resolved = new Intl.DateTimeFormat(undefined, { timeZone }).resolvedOptions().timeZone;
  if (resolved.toLowerCase() === timeZone.toLowerCase()) return resolved;
  return timeZone.split('/').every((part) => /^[A-Z]/.test(part)) ? timeZone : resolved;
}

/** What is wrong with `timeZone` as the reports' zone (the construct checks at synth, the handler and the CLI at run). */
export function timeZoneErrors(timeZone: string): string[] {
  const spelling = timeZoneSpelling(timeZone);
  if (spelling === undefined) return [`timeZone "${timeZone}" is not an IANA time zone such as Europe/Berlin or America/New_York`];
  if (spelling !== timeZone) {
    return [`timeZone "${timeZone}" must be spelled as IANA spells it, because Elasticsearch and EventBridge Scheduler match zone names case-sensitively: did you mean ${spelling}?`];
  }
  return [];
}

export function localTime(instant: Date, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour % 24, minute: parts.minute, second: parts.second };
}

/** Milliseconds the zone is ahead of UTC at `instant`. */
function offsetMs(instant: number, timeZone: string): number {
  const t = localTime(new Date(instant), timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * Whether the local wall time of `instant` occurs twice in its zone (the hour a change back to standard time repeats,
 * `01:00`-`01:59` on 2026-11-01 in New York): another instant, under the offset the zone has a few hours before or after,
 * reads the same.
 */
export function isRepeatedLocalTime(instant: number | Date, timeZone: string): boolean {
  const t = new Date(instant).getTime();
  const own = offsetMs(t, timeZone);
  return [t - 6 * 3_600_000, t + 6 * 3_600_000].some((near) => {
    const other = offsetMs(near, timeZone);
    return other !== own && offsetMs(t + own - other, timeZone) === other;
  });
}

/** `UTC-04:00`, `UTC+05:30`: the zone's offset at `instant`. */
export function utcOffsetLabel(instant: number | Date, timeZone: string): string {
  const minutes = Math.round(offsetMs(new Date(instant).getTime(), timeZone) / 60_000);
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** `01 UTC-04:00` where the local time repeats, else `label`: both occurrences of a repeated hour say which they are. */
export function withRepeatOffset(label: string, instant: number | Date, timeZone: string): string {
  return isRepeatedLocalTime(instant, timeZone) ? `${label} ${utcOffsetLabel(instant, timeZone)}` : label;
}

/**
 * The instant local midnight starts `year-month-day` (month 1-12, overflow allowed: month 13 is January next year).
 * The zone's offsets a day before and after are the candidates: midnight is the earlier one that reads back as
 * midnight (a repeated midnight starts the day at its first occurrence); where a change skips midnight (Santiago,
 * Asunción, Havana), the day starts at the change, which the offset before it gives.
 */
export function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  const candidates = [wall - offsetMs(wall - 86_400_000, timeZone), wall - offsetMs(wall + 86_400_000, timeZone)];
  const readsBack = candidates.filter((instant) => {
    const t = localTime(new Date(instant), timeZone);
    return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) === wall;
  });
  return new Date(readsBack.length > 0 ? Math.min(...readsBack) : Math.max(...candidates));
}

/**
 * The instant a local wall-clock time happens in `timeZone` (month 1-12, overflow allowed), the first one when a change
 * repeats it. A time a change skips maps to the instant after the change; the run times are checked at synth so that
 * no scheduled run falls on one.
 */
export function localWallTime(year: number, month: number, day: number, time: TimeOfDay, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, time.hour, time.minute);
  const candidates = [wall - offsetMs(wall - 86_400_000, timeZone), wall - offsetMs(wall + 86_400_000, timeZone)];
  const readsBack = candidates.filter((instant) => {
    const t = localTime(new Date(instant), timeZone);
    return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) === wall;
  });
  return new Date(readsBack.length > 0 ? Math.min(...readsBack) : Math.max(...candidates));
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A local day given as `YYYY-MM-DD`; throws a RangeError naming the expected form. */
export function dayPeriod(day: string, timeZone: string): ReportPeriod {
  const m = DAY.exec(day);
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (!m || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`day must be a calendar date as YYYY-MM-DD, got "${day}"`);
  }
  return { kind: 'daily', label: day, start: localMidnight(y, mo, d, timeZone), end: localMidnight(y, mo, d + 1, timeZone), timeZone };
}

/** A local month given as `YYYY-MM`. */
export function monthPeriod(month: string, timeZone: string): ReportPeriod {
  const m = MONTH.exec(month);
  const [y, mo] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || mo < 1 || mo > 12) throw new RangeError(`month must be YYYY-MM, got "${month}"`);
  return { kind: 'monthly', label: month, start: localMidnight(y, mo, 1, timeZone), end: localMidnight(y, mo + 1, 1, timeZone), timeZone };
}

/** The last complete local day before `now`: what a scheduled daily run reports. */
export function previousDay(now: Date, timeZone: string): ReportPeriod {
  const t = localTime(now, timeZone);
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day - 1));
  return dayPeriod(`${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`, timeZone);
}

/** The last complete local month before `now`. */
export function previousMonth(now: Date, timeZone: string): ReportPeriod {
  const t = localTime(now, timeZone);
  const d = new Date(Date.UTC(t.year, t.month - 2, 1));
  return monthPeriod(`${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`, timeZone);
}

/** The UTC dates (`YYYY-MM-DD`) a period touches: the history index is partitioned by UTC day. */
export function utcDays(period: Pick<ReportPeriod, 'start' | 'end'>): string[] {
  const days: string[] = [];
  let t = Date.UTC(period.start.getUTCFullYear(), period.start.getUTCMonth(), period.start.getUTCDate());
  for (; t < period.end.getTime(); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * Default local times of the scheduled runs. No time zone skips 04:00-04:59 at a daylight saving change (the changes
 * are at 00:00, 01:00, 02:00 or 03:00 local), so the runs happen every day; and late documents have had four hours.
 */
export const DEFAULT_DAILY_RUN_TIME = '04:00';
/** On the 1st of the month, after the daily run. */
export const DEFAULT_MONTHLY_RUN_TIME = '04:30';

/** A wall-clock time of day as `HH:MM` (24 h), e.g. a scheduled run's local time. */
export interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
}

/** `HH:MM` (00:00..23:59) as a time of day; undefined for anything else. */
export function parseTimeOfDay(text: string): TimeOfDay | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined;
}

/**
 * The first local date in `days` days from `from` on which `time` does not exist in `timeZone` (a daylight saving change
 * skips it), as `YYYY-MM-DD`; undefined if it exists on every day. EventBridge Scheduler skips a cron run whose local
 * time does not exist, so such a time would lose that day's report.
 */
export function firstSkippedDay(time: TimeOfDay, timeZone: string, from: Date, days: number): string | undefined {
  const start = localTime(from, timeZone);
  for (let i = 0; i < days; i++) {
    const wall = Date.UTC(start.year, start.month - 1, start.day + i, time.hour, time.minute);
    // A wall time that exists maps to an instant that reads back as itself with the offset of either side.
    const exists = [wall - offsetMs(wall - 86_400_000, timeZone), wall - offsetMs(wall + 86_400_000, timeZone)].some((instant) => {
      const t = localTime(new Date(instant), timeZone);
      return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute) === wall;
    });
    if (!exists) return new Date(wall).toISOString().slice(0, 10);
  }
  return undefined;
}
