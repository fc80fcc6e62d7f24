import { dailyModel } from './email-models';
import { formatClock } from '../../src/reporting/runtime/format';
import { summarizeGuard, timelineBuckets } from '../../src/reporting/runtime/guard-summary';
import { dayPeriod, isRepeatedLocalTime } from '../../src/reporting/runtime/period';
import { renderEmail } from '../../src/reporting/runtime/render';

/**
 * The day a zone goes back to standard time has one local hour twice: each occurrence is labelled with its UTC offset
 * (tables, charts), so "01:00 01:00" never reads as a mistake or hides which hour is which. Other hours keep short labels.
 */

function dailyEmail(day: string, timeZone: string) {
  const period = dayPeriod(day, timeZone);
  const model = dailyModel();
  const timeline = timelineBuckets(period).map((b, i) => ({ start: b.start, requests: 100 + i, avgLatencyMs: 10 }));
  return renderEmail({ ...model, period, guard: summarizeGuard([], period), elastic: { ...model.elastic!, timeline } });
}

describe('hour labels on daylight saving days', () => {
  test('New York, 2026-11-01: both 01:00 hours carry their offset in the hourly table and both charts', () => {
    const email = dailyEmail('2026-11-01', 'America/New_York');
    const rows = email.text.split('\n').filter((l) => /^ {2}\d\d:00/.test(l)).map((l) => l.trim().split(/ {2,}/)[0]);
    expect(rows).toHaveLength(25);
    expect(rows.slice(0, 4)).toEqual(['00:00', '01:00 UTC-04:00', '01:00 UTC-05:00', '02:00']);
    expect(new Set(rows).size).toBe(25);
    // The chart's labels (and tooltips) in the HTML: the guard's blocks and the requests and latency charts.
    for (const offset of ['UTC-04:00', 'UTC-05:00']) {
      expect(email.html.match(new RegExp(`<title>01 ${offset}: `, 'g'))).toHaveLength(3);
      expect(email.html).toContain(`01:00 ${offset}</td>`);
    }
    expect(email.html).not.toMatch(/<title>(0[02-9]|1\d|2\d) UTC/);
  });

  test('Berlin, 2026-10-25: 02:00 repeats as UTC+02:00 then UTC+01:00; the guard timeline says so too', () => {
    const period = dayPeriod('2026-10-25', 'Europe/Berlin');
    expect(timelineBuckets(period).map((b) => b.label).slice(1, 5)).toEqual(['01', '02 UTC+02:00', '02 UTC+01:00', '03']);
    expect(formatClock(Date.parse('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toBe('02:30 UTC+02:00');
    expect(formatClock(Date.parse('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toBe('02:30 UTC+01:00');
  });

  test('a spring-forward day and an ordinary day have no offsets; no hour of a year in UTC repeats', () => {
    for (const [day, zone] of [['2026-03-08', 'America/New_York'], ['2026-11-30', 'Europe/Berlin']]) {
      const labels = timelineBuckets(dayPeriod(day, zone)).map((b) => b.label);
      expect(labels.every((l) => /^\d\d$/.test(l))).toBe(true);
      expect(dailyEmail(day, zone).text).not.toContain('UTC-');
    }
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000) expect(isRepeatedLocalTime(t, 'UTC')).toBe(false);
  });

  test('a year in New York: exactly the two hours of the change back repeat', () => {
    const repeated: string[] = [];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 1_800_000) if (isRepeatedLocalTime(t, 'America/New_York')) repeated.push(new Date(t).toISOString());
    expect(repeated).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T06:30:00.000Z']);
  });
});
