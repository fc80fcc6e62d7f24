import { ReportPeriod, dayPeriod, monthPeriod, previousDay, previousMonth } from './period';

/**
 * What to report, from the invoke payload. Scheduled runs send `{"kind": "daily"}` or `{"kind": "monthly"}` and get the
 * last complete day or month in the report's time zone; an on-demand run names the period:
 * `{"kind": "daily", "day": "2026-11-30"}`, `{"kind": "monthly", "month": "2026-10"}`.
 */
export interface ReportRequest {
  readonly kind?: string;
  readonly day?: string;
  readonly month?: string;
}

export function requestedPeriod(request: ReportRequest | undefined, now: Date, timeZone: string): ReportPeriod {
  const r = request ?? {};
  if (r.day !== undefined && r.month !== undefined) throw new RangeError('give either "day" or "month", not both');
  const kind = r.kind ?? (r.month !== undefined ? 'monthly' : 'daily');
  if (kind !== 'daily' && kind !== 'monthly') throw new RangeError(`"kind" must be "daily" or "monthly", got "${kind}"`);
  if (kind === 'daily') {
    if (r.month !== undefined) throw new RangeError('a daily report takes "day" (YYYY-MM-DD), not "month"');
    return r.day !== undefined ? dayPeriod(r.day, timeZone) : previousDay(now, timeZone);
  }
  if (r.day !== undefined) throw new RangeError('a monthly report takes "month" (YYYY-MM), not "day"');
  return r.month !== undefined ? monthPeriod(r.month, timeZone) : previousMonth(now, timeZone);
}
