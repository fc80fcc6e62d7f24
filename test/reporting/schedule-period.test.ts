import { DEFAULT_DAILY_RUN_TIME, DEFAULT_MONTHLY_RUN_TIME, firstSkippedDay, localTime, parseTimeOfDay } from '../../src/reporting/runtime/period';
import { requestedPeriod } from '../../src/reporting/runtime/request';

const ZONES = ['America/New_York', 'Pacific/Auckland', 'Asia/Kolkata', 'Europe/Berlin', 'Europe/London', 'America/Santiago', 'Australia/Lord_Howe', 'UTC'];

/**
 * The instant a local wall time occurs, found by trying every quarter-hour offset and reading the result back (an
 * oracle independent of period.ts's offset arithmetic); the earlier one when the hour repeats.
 */
function instantOf(y: number, mo: number, d: number, hour: number, minute: number, zone: string): Date {
  const wall = Date.UTC(y, mo - 1, d, hour, minute);
  const candidates: number[] = [];
  for (let q = -14 * 4; q <= 14 * 4; q++) {
    const instant = wall - q * 15 * 60_000;
    const t = localTime(new Date(instant), zone);
    if (Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute) === wall) candidates.push(instant);
  }
  if (candidates.length === 0) throw new Error(`${y}-${mo}-${d} ${hour}:${minute} does not exist in ${zone}`);
  return new Date(Math.min(...candidates));
}

const dateIn = (instant: number, zone: string) => ymd(localTime(new Date(instant), zone));
/** `instant` is the first second of local date `date`: it reads as that date, the second before as the day before. */
function expectDayStart(instant: Date, date: { year: number; month: number; day: number }, zone: string): void {
  const dayBefore = calendar(date.year, date.month, date.day - 1);
  expect([dateIn(instant.getTime(), zone), dateIn(instant.getTime() - 1000, zone)]).toEqual([ymd(date), ymd(dayBefore)]);
}

const ymd = (t: { year: number; month: number; day: number }) => `${t.year}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
const calendar = (y: number, mo: number, d: number) => {
  const c = new Date(Date.UTC(y, mo - 1, d));
  return { year: c.getUTCFullYear(), month: c.getUTCMonth() + 1, day: c.getUTCDate() };
};

/** Daylight saving change days of 2026/2027 in the zones above, the days around them, and every 1st of a month. */
const DAYS: Array<[number, number, number]> = [
  [2026, 3, 8], [2026, 3, 9], [2026, 11, 1], [2026, 11, 2], // New York
  [2026, 4, 5], [2026, 4, 6], [2026, 9, 27], [2026, 9, 28], // Auckland, Santiago (Apr 5, Sep 6), Lord Howe
  [2026, 9, 6], [2026, 9, 7],
  [2026, 3, 29], [2026, 3, 30], [2026, 10, 25], [2026, 10, 26], // Berlin, London
  [2027, 3, 14], [2027, 3, 28], [2027, 4, 4], [2027, 9, 26], [2027, 10, 31], [2027, 11, 7],
  ...Array.from({ length: 24 }, (_, i): [number, number, number] => [2026 + Math.floor(i / 12), (i % 12) + 1, 1]),
];

describe('a scheduled run at its local time reports the last complete local day or month', () => {
  const daily = parseTimeOfDay(DEFAULT_DAILY_RUN_TIME)!;
  const monthly = parseTimeOfDay(DEFAULT_MONTHLY_RUN_TIME)!;
  // The clock is far off on purpose: the period follows from the scheduled time the schedule sends.
  const clock = new Date('2000-06-15T12:00:00Z');

  test.each(ZONES)('daily in %s: yesterday, midnight to midnight local', (zone) => {
    for (const [y, mo, d] of DAYS) {
      const at = instantOf(y, mo, d, daily.hour, daily.minute, zone);
      const p = requestedPeriod({ kind: 'daily', scheduledTime: at.toISOString() }, clock, zone);
      const yesterday = calendar(y, mo, d - 1);
      expect([`${y}-${mo}-${d}`, p.label]).toEqual([`${y}-${mo}-${d}`, ymd(yesterday)]);
      expectDayStart(p.start, yesterday, zone);
      expectDayStart(p.end, calendar(y, mo, d), zone);
      expect(p.end.getTime()).toBeLessThanOrEqual(at.getTime());
    }
  });

  test.each(ZONES)('monthly in %s: last month, 1st to 1st local', (zone) => {
    for (const [y, mo, d] of DAYS.filter(([, , day]) => day === 1)) {
      const at = instantOf(y, mo, d, monthly.hour, monthly.minute, zone);
      const p = requestedPeriod({ kind: 'monthly', scheduledTime: at.toISOString() }, clock, zone);
      const last = calendar(y, mo - 1, 1);
      expect(p.label).toBe(ymd(last).slice(0, 7));
      expectDayStart(p.start, last, zone);
      expectDayStart(p.end, calendar(y, mo, 1), zone);
    }
  });

  test('the defect: a UTC 01:00 run in New York reported the day before yesterday; the scheduled local time does not', () => {
    const utcRun = new Date('2026-12-01T01:00:00Z');
    expect(requestedPeriod({ kind: 'daily' }, utcRun, 'America/New_York').label).toBe('2026-11-29');
    expect(requestedPeriod({ kind: 'daily', scheduledTime: '2026-12-01T09:00:00Z' }, utcRun, 'America/New_York').label).toBe('2026-11-30');
    expect(requestedPeriod({ kind: 'monthly', scheduledTime: '2026-12-01T09:30:00Z' }, utcRun, 'America/New_York').label).toBe('2026-11');
  });

  test('where a change skips midnight (Santiago, Sep 6th 2026), the day starts at the change and the day before keeps its last hour', () => {
    const before = requestedPeriod({ kind: 'daily', day: '2026-09-05' }, new Date(), 'America/Santiago');
    const skipped = requestedPeriod({ kind: 'daily', day: '2026-09-06' }, new Date(), 'America/Santiago');
    expect(before.end.toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect((before.end.getTime() - before.start.getTime()) / 3_600_000).toBe(24);
    expect(skipped.start).toEqual(before.end);
    expect((skipped.end.getTime() - skipped.start.getTime()) / 3_600_000).toBe(23);
  });

  test('a named day or month that has not ended is refused, naming the last complete one; one that just ended is reported', () => {
    const at = new Date('2026-12-08T00:30:00Z'); // 01:30 on the 8th in Berlin, still the 7th in New York
    expect(() => requestedPeriod({ kind: 'daily', day: '2099-01-01' }, at, 'UTC'))
      .toThrow(new RangeError('the day 2099-01-01 has not ended yet in UTC: report a past day; the last complete one is 2026-12-07'));
    expect(() => requestedPeriod({ kind: 'daily', day: '2026-12-07' }, at, 'America/New_York'))
      .toThrow('the day 2026-12-07 has not ended yet in America/New_York: report a past day; the last complete one is 2026-12-06');
    expect(requestedPeriod({ kind: 'daily', day: '2026-12-07' }, at, 'Europe/Berlin').label).toBe('2026-12-07');
    expect(() => requestedPeriod({ kind: 'monthly', month: '2026-12' }, at, 'Europe/Berlin'))
      .toThrow('the month 2026-12 has not ended yet in Europe/Berlin: report a past month; the last complete one is 2026-11');
    expect(() => requestedPeriod({ month: '2099-01' }, at, 'UTC')).toThrow(/the month 2099-01 has not ended yet/);
    // The end is exclusive: at the very instant a day ends, it is complete.
    const end = requestedPeriod({ kind: 'daily', day: '2026-12-06' }, at, 'Europe/Berlin').end;
    expect(requestedPeriod({ kind: 'daily', day: '2026-12-06' }, end, 'Europe/Berlin').label).toBe('2026-12-06');
    expect(() => requestedPeriod({ kind: 'daily', day: '2026-12-06' }, new Date(end.getTime() - 1), 'Europe/Berlin')).toThrow(/has not ended yet/);
  });

  test('a bad scheduledTime is refused; a named period ignores it', () => {
    expect(() => requestedPeriod({ kind: 'daily', scheduledTime: 'yesterday' }, new Date(), 'UTC')).toThrow(/scheduledTime" must be an ISO 8601 time/);
    expect(requestedPeriod({ kind: 'daily', day: '2026-11-30', scheduledTime: '2027-01-01T00:00:00Z' }, new Date(), 'UTC').label).toBe('2026-11-30');
  });
});

describe('local run times and daylight saving changes', () => {
  test('HH:MM only', () => {
    expect(parseTimeOfDay('04:30')).toEqual({ hour: 4, minute: 30 });
    for (const bad of ['4:30', '24:00', '04:60', '04:30:00', ' 04:30', '']) expect(parseTimeOfDay(bad)).toBeUndefined();
  });

  test('times a spring change skips are found, with the day', () => {
    const from = new Date('2026-01-01T12:00:00Z');
    expect(firstSkippedDay({ hour: 2, minute: 30 }, 'America/New_York', from, 366)).toBe('2026-03-08');
    expect(firstSkippedDay({ hour: 2, minute: 0 }, 'Europe/Berlin', from, 366)).toBe('2026-03-29');
    expect(firstSkippedDay({ hour: 1, minute: 15 }, 'Europe/London', from, 366)).toBe('2026-03-29');
    expect(firstSkippedDay({ hour: 2, minute: 0 }, 'Pacific/Auckland', from, 366)).toBe('2026-09-27');
    expect(firstSkippedDay({ hour: 2, minute: 10 }, 'Australia/Lord_Howe', from, 366)).toBe('2026-10-04');
    // The repeated autumn hour is not skipped (Scheduler runs it once).
    expect(firstSkippedDay({ hour: 1, minute: 30 }, 'America/New_York', new Date('2026-10-01T12:00:00Z'), 60)).toBeUndefined();
    expect(firstSkippedDay({ hour: 2, minute: 30 }, 'Asia/Kolkata', from, 366)).toBeUndefined();
  });

  test('the default run times exist every day of the year in every zone this Node.js knows', () => {
    const from = new Date('2026-01-01T12:00:00Z');
    const skipped = Intl.supportedValuesOf('timeZone').flatMap((zone) => [DEFAULT_DAILY_RUN_TIME, DEFAULT_MONTHLY_RUN_TIME]
      .map((t) => [zone, t, firstSkippedDay(parseTimeOfDay(t)!, zone, from, 366)])
      .filter(([, , day]) => day !== undefined));
    expect(skipped).toEqual([]);
  });
});
