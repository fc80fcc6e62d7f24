import { escapeHtml, formatCount, formatDecimal, formatDuration, formatMoney, formatPercent, formatTime } from '../../src/reporting/runtime/format';
import { dayPeriod, isValidTimeZone, monthPeriod, previousDay, previousMonth, utcDays } from '../../src/reporting/runtime/period';
import { requestedPeriod } from '../../src/reporting/runtime/request';

describe('report periods in a time zone', () => {
  test('a Berlin day starts at 23:00 UTC the day before, and covers two UTC dates', () => {
    const p = dayPeriod('2026-11-30', 'Europe/Berlin');
    expect(p.start.toISOString()).toBe('2026-11-29T23:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(utcDays(p)).toEqual(['2026-11-29', '2026-11-30']);
  });

  test('daylight saving days are 23 and 25 hours long', () => {
    const spring = dayPeriod('2026-03-29', 'Europe/Berlin');
    const autumn = dayPeriod('2026-10-25', 'Europe/Berlin');
    expect((spring.end.getTime() - spring.start.getTime()) / 3_600_000).toBe(23);
    expect((autumn.end.getTime() - autumn.start.getTime()) / 3_600_000).toBe(25);
    const ny = dayPeriod('2026-11-01', 'America/New_York');
    expect(ny.start.toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(ny.end.toISOString()).toBe('2026-11-02T05:00:00.000Z');
  });

  test('months, and the last complete day or month before a run', () => {
    const m = monthPeriod('2026-12', 'Asia/Tokyo');
    expect(m.start.toISOString()).toBe('2026-11-30T15:00:00.000Z');
    expect(m.end.toISOString()).toBe('2026-12-31T15:00:00.000Z');
    // 01:00 UTC on Dec 1st is still Nov 30th in Los Angeles: the last complete day there is Nov 29th.
    expect(previousDay(new Date('2026-12-01T01:00:00Z'), 'America/Los_Angeles').label).toBe('2026-11-29');
    expect(previousDay(new Date('2026-12-01T01:00:00Z'), 'Europe/Berlin').label).toBe('2026-11-30');
    expect(previousMonth(new Date('2027-01-01T02:00:00Z'), 'UTC').label).toBe('2026-12');
  });

  test('bad dates, zones and payloads are refused with the expected form', () => {
    expect(() => dayPeriod('2026-02-30', 'UTC')).toThrow(/YYYY-MM-DD/);
    expect(() => monthPeriod('2026-13', 'UTC')).toThrow(/YYYY-MM/);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(() => requestedPeriod({ kind: 'weekly' }, new Date(), 'UTC')).toThrow(/daily" or "monthly/);
    expect(() => requestedPeriod({ kind: 'daily', month: '2026-11' }, new Date(), 'UTC')).toThrow(/takes "day"/);
    expect(requestedPeriod({ month: '2026-10' }, new Date(), 'UTC')).toMatchObject({ kind: 'monthly', label: '2026-10' });
    expect(requestedPeriod({ kind: 'daily', day: '2026-11-30' }, new Date(), 'UTC').label).toBe('2026-11-30');
  });
});

describe('formats', () => {
  test('thousands separators, decimals, money, percent, and a dash for missing values', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(undefined)).toBe('–');
    expect(formatDecimal(1234.56, 1)).toBe('1,234.6');
    expect(formatDecimal(0.9166666, 3)).toBe('0.917');
    expect(formatMoney(12345.678)).toBe('$12,345.68');
    expect(formatPercent(0.1234)).toBe('12.3%');
    expect(formatDuration(90 * 60_000)).toBe('1 h 30 min');
    expect(formatDuration(50 * 3_600_000)).toBe('2 d 2 h');
  });

  test('times are shown in the configured zone', () => {
    expect(formatTime(Date.parse('2026-11-29T23:30:00Z'), 'Europe/Berlin')).toBe('2026-11-30 00:30');
    expect(formatTime(Date.parse('2026-11-29T23:30:00Z'), 'Asia/Kolkata')).toBe('2026-11-30 05:00');
  });

  test('HTML escaping covers the five special characters', () => {
    expect(escapeHtml('<a href="x">\'&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&lt;/a&gt;');
  });
});
