import { ReportPeriod, dayPeriod, monthPeriod, previousDay, previousMonth } from './period';

/**
 * What to report, from the invoke payload. Scheduled runs send `{"kind": "daily"}` or `{"kind": "monthly"}` with the
 * schedule's `scheduledTime`, and get the last complete day or month in the report's time zone before it; an on-demand
 * run names the period: `{"kind": "daily", "day": "2026-11-30"}`, `{"kind": "monthly", "month": "2026-10"}`.
 */
export interface ReportRequest {
  readonly kind?: string;
  readonly day?: string;
  readonly month?: string;
  /**
   * When EventBridge Scheduler meant the run to start (ISO 8601). The period follows from it rather than from the clock,
   * so a retried or late delivery reports the same period.
   */
  readonly scheduledTime?: string;
}

/** Whether the request asks for the last complete period (a scheduled run) rather than a named one. */
export function isScheduledRequest(request: ReportRequest | undefined): boolean {
  return request?.day === undefined && request?.month === undefined;
}

/**
 * The period to report; a RangeError says what is wrong with the request. A named period that has not ended at `clock`
 * is refused: its figures would be partial (a future one's all zero, read as "WAF stopped logging?") and archived as if
 * final. A scheduled run's period ends by its scheduledTime, which is not compared with the clock: a Scheduler clock a
 * little ahead of Lambda's must not fail a run at 00:00.
 */
export function requestedPeriod(request: ReportRequest | undefined, clock: Date, timeZone: string): ReportPeriod {
  const period = periodOf(request, clock, timeZone);
  if (!isScheduledRequest(request) && period.end.getTime() > clock.getTime()) {
    const last = period.kind === 'daily' ? previousDay(clock, timeZone) : previousMonth(clock, timeZone);
    const what = period.kind === 'daily' ? 'day' : 'month';
    throw new RangeError(`the ${what} ${period.label} has not ended yet in ${timeZone}: report a past ${what}; the last complete one is ${last.label}`);
  }
  return period;
}

function periodOf(request: ReportRequest | undefined, clock: Date, timeZone: string): ReportPeriod {
  const r = request ?? {};
  if (r.day !== undefined && r.month !== undefined) throw new RangeError('give either "day" or "month", not both');
  const now = r.scheduledTime !== undefined ? new Date(r.scheduledTime) : clock;
  if ((r.scheduledTime !== undefined && typeof r.scheduledTime !== 'string') || Number.isNaN(now.getTime())) throw new RangeError(`"scheduledTime" must be an ISO 8601 time, got "${r.scheduledTime}"`);
  const kind = r.kind ?? (r.month !== undefined ? 'monthly' : 'daily');
  if (kind !== 'daily' && kind !== 'monthly') throw new RangeError(`"kind" must be "daily" or "monthly", got "${kind}"`);
  if (kind === 'daily') {
    if (r.month !== undefined) throw new RangeError('a daily report takes "day" (YYYY-MM-DD), not "month"');
    return r.day !== undefined ? dayPeriod(r.day, timeZone) : previousDay(now, timeZone);
  }
  if (r.day !== undefined) throw new RangeError('a monthly report takes "month" (YYYY-MM), not "day"');
  return r.month !== undefined ? monthPeriod(r.month, timeZone) : previousMonth(now, timeZone);
}
