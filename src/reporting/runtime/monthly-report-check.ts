import { MonthlyReportCheckConfig } from './config';
import { formatTime } from './format';
import { ReportPeriod, dayPeriod, localTime, localWallTime, parseTimeOfDay, previousMonth } from './period';

/**
 * Whether the monthly report that is due is in the bucket. A CloudWatch alarm cannot watch a monthly heartbeat (it
 * evaluates at most 7 days), so each daily run looks for the last month whose run should have finished and publishes
 * `MonthlyReportMissing` (0 or 1), which an alarm watches; the daily email says so too.
 */

export interface MonthlyReportState {
  /** `YYYY-MM`. */
  readonly month: string;
  /** When its run should have finished: the 1st after it at the run time, plus retries, timeout and a margin. */
  readonly dueAt: Date;
  readonly missing: boolean;
}

/** When the report of `month` is due: the monthly run on the 1st after it at `runTime` local, plus `dueAfterMinutes`. */
export function monthlyReportDueAt(month: ReportPeriod, check: MonthlyReportCheckConfig): Date {
  // The period ends at local midnight of the 1st after it (or the change, where one skips midnight): its local date.
  const first = localTime(month.end, month.timeZone);
  const run = localWallTime(first.year, first.month, 1, parseTimeOfDay(check.runTime)!, month.timeZone);
  return new Date(run.getTime() + check.dueAfterMinutes * 60_000);
}

/**
 * The last month whose report is due at `now`: the month before, once its run has had time to finish, else the month
 * before that (so every daily run checks one month and the metric has a value each day).
 */
export function dueMonth(now: Date, timeZone: string, check: MonthlyReportCheckConfig): { month: ReportPeriod; dueAt: Date } {
  const last = previousMonth(now, timeZone);
  const dueAt = monthlyReportDueAt(last, check);
  if (now.getTime() >= dueAt.getTime()) return { month: last, dueAt };
  const before = previousMonth(last.start, timeZone);
  return { month: before, dueAt: monthlyReportDueAt(before, check) };
}

/** Object keys the check reads; `reportKeys` of report-run gives them. */
export interface MonthlyCheckKeys {
  /** The report files of a period, any of which shows its run completed. */
  readonly reportFiles: (period: ReportPeriod) => readonly string[];
}

/**
 * Looks for the due month's report (any of its files). When none is there, the month counts as missing only if the
 * reporting ran before that month's run: the daily report of the month's last day exists. Otherwise this installation
 * is newer than the run and nothing is missing (no alarm for the month before a first deployment).
 */
export async function checkMonthlyReport(
  getObject: (key: string) => Promise<Buffer | undefined>,
  keys: MonthlyCheckKeys,
  now: Date,
  timeZone: string,
  check: MonthlyReportCheckConfig,
): Promise<MonthlyReportState> {
  const { month, dueAt } = dueMonth(now, timeZone, check);
  const exists = async (period: ReportPeriod) => {
    for (const key of keys.reportFiles(period)) if (await getObject(key) !== undefined) return true;
    return false;
  };
  if (await exists(month)) return { month: month.label, dueAt, missing: false };
  const last = localTime(new Date(month.end.getTime() - 1), timeZone);
  const lastDay = dayPeriod(`${last.year}-${String(last.month).padStart(2, '0')}-${String(last.day).padStart(2, '0')}`, timeZone);
  return { month: month.label, dueAt, missing: await exists(lastDay) };
}

/** The banner's line for a missing monthly report; none when it is there. */
export function monthlyReportAttention(state: MonthlyReportState | undefined, timeZone: string): Array<{ source: string; message: string }> {
  if (!state?.missing) return [];
  return [{
    source: 'monthly report',
    message: `the monthly report of ${state.month} is not in the bucket; it was due by ${formatTime(state.dueAt, timeZone)} (${timeZone}). `
      + `Check the monthly schedule, its dead-letter queue and the report log group, then run it on demand: {"kind": "monthly", "month": "${state.month}"}`,
  }];
}
