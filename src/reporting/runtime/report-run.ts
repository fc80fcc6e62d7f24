import { AlarmStatus, alarmedInPeriod } from './alarm-summary';
import { FINISH_RESERVE_MS, MONTHLY_REPORT_MISSING_METRIC, ReportConfig, REPORT_FAILURES_METRIC } from './config';
import { CostRecord, mergeCosts, parseCostRecord, serializeCostRecord } from './cost-record';
import { AwsCosts, CostLine } from './costs';
import { blocksCsv, customerTrafficCsv, safeFileName, TableId, tableCsvs } from './csv';
import {
  ElasticSearchName, ElasticSummary, mapClientIps, mapClientIpsCut, mapCustomers, mapTimeline, mapTraffic, pageCustomers, partialResultWarning,
  reportSearches, totalHits, trafficRange,
} from './elastic-report';
import { GuardSummary, HistoryRecord, summarizeGuard } from './guard-summary';
import { KeyFigures, keyFigures, parseKeyFigures, requestsPartial, serializeKeyFigures } from './headline';
import { costTotals } from './money';
import { checkMonthlyReport } from './monthly-report-check';
import { previousDay, previousMonth, ReportPeriod } from './period';
import { MAX_ROWS, RenderedEmail, ReportModel, ReportProblem, TableFiles, renderEmail } from './render';
import { monthlyCostWorkbook, updateYearWorkbook } from './workbook';
import { Log, MetricsSink } from '../../shared/runtime/telemetry';

/**
 * One report run: gather, render, write, send. Each part that can fail (a source, a file, the email) is tried on its
 * own: a failure becomes a problem (a log line, a count in `ReportFailures`, a line in the email) and the rest of the
 * run goes on, so an Elasticsearch outage still leaves the guard report, the CSVs and the workbooks.
 */

/** Where the figures come from; each is absent when its source is not configured. */
export interface ReportSources {
  readonly readHistory?: (period: ReportPeriod) => Promise<HistoryRecord[]>;
  readonly readBudgetExceeded?: (period: ReportPeriod) => Promise<number | undefined>;
  /** One search; `timeoutMs` replaces the configured request timeout when the run has less time left than that. */
  readonly elasticSearch?: (name: ElasticSearchName, body: Record<string, unknown>, timeoutMs?: number) => Promise<unknown>;
  readonly readAwsCosts?: (period: ReportPeriod) => Promise<AwsCosts>;
  readonly readElasticCosts?: (period: ReportPeriod) => Promise<CostLine[]>;
  /** The alarms the banner lists: their state now and their changes in the period. */
  readonly readAlarms?: (period: ReportPeriod) => Promise<AlarmStatus[]>;
}

/** Where the results go: S3 and SES in Lambda, a directory in a dry run. */
export interface ReportOutputs {
  /**
   * Where `getObject` reads recorded figures from, for the email, when that is not the report bucket: a dry run reads
   * its output directory, so a month the function recorded reads as not recorded there.
   */
  readonly recordsIn?: string;
  putObject(key: string, body: Buffer | string, contentType: string): Promise<string>;
  getObject(key: string): Promise<Buffer | undefined>;
  sendEmail(email: RenderedEmail, from: string, to: readonly string[]): Promise<string | undefined>;
}

export interface ReportRun {
  readonly config: ReportConfig;
  readonly period: ReportPeriod;
  readonly now: Date;
  readonly sources: ReportSources;
  readonly outputs: ReportOutputs;
  readonly log: Log;
  readonly metrics: MetricsSink;
  /**
   * When the function is stopped (Lambda's remaining time at the start). Searches are cut short, and left out when
   * too little is left, to keep {@link FINISH_RESERVE_MS} before it for the files and the email. Absent in a dry run:
   * then only each search's own timeout limits it.
   */
  readonly deadline?: Date;
}

/** Below this much time (before the reserve), a search is not started: it would only time out. */
export const MIN_SEARCH_MS = 2_000;

/** A search not sent because the run is out of time; names what it kept the time for. */
class OutOfTimeError extends Error {
  constructor(left: number) {
    super(`${Math.max(0, Math.round(left / 100) / 10)} s of the function's time was left before the last ${FINISH_RESERVE_MS / 1000} s, which are kept to write the files and send the email`);
    this.name = 'OutOfTimeError';
  }
}

export interface ReportResult {
  readonly period: string;
  readonly kind: string;
  /** Where each written file went (object keys, or paths in a dry run). */
  readonly files: string[];
  readonly problems: ReportProblem[];
  readonly messageId?: string;
  readonly email: RenderedEmail;
}

/** Object keys of a run: reports by kind and date, cost workbooks by year. */
export function reportKeys(prefix: string, period: ReportPeriod) {
  const base = `${prefix}reports/${period.kind}/${period.label}/`;
  const year = period.label.slice(0, 4);
  return {
    html: `${base}report.html`,
    /** The headline's figures, read back by the next period's run to show changes. */
    figures: `${base}figures.json`,
    text: `${base}report.txt`,
    blocks: `${base}blocks.csv`,
    customer: (name: string) => `${base}customers/${safeFileName(name)}.csv`,
    /** All rows of a table the email shortens. */
    table: (id: TableId) => `${base}${id}.csv`,
    monthlyCosts: `${prefix}cost-reports/${year}/${period.label}.xlsx`,
    costRecord: `${prefix}cost-reports/${year}/${period.label}.figures.json`,
    yearlyCosts: `${prefix}cost-reports/${year}/Total_${year}.xlsx`,
  };
}

/** Files any completed run of a period writes (figures.json since the headline; report.html always). */
function monthlyReportFiles(prefix: string, period: ReportPeriod): string[] {
  const keys = reportKeys(prefix, period);
  return [keys.figures, keys.html];
}

const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export async function runReport(run: ReportRun): Promise<ReportResult> {
  const { config, period, sources, outputs, log } = run;
  const problems: ReportProblem[] = [];
  const files: string[] = [];
  const problem = (source: string, text: string) => {
    problems.push({ source, message: text });
    // `problem`, not `message`: Powertools reserves `message` for the line's own text and drops the attribute.
    log.error('report problem', { event: 'report-problem', source, problem: text, period: period.label, kind: period.kind });
  };
  const attempt = async <T>(source: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      problem(source, message(e));
      return undefined;
    }
  };
  const keys = reportKeys(config.prefix, period);
  const write = async (key: string, body: Buffer | string, contentType: string) => {
    const where = await attempt(`s3:${key}`, () => outputs.putObject(key, body, contentType));
    if (where !== undefined) files.push(where);
    return where;
  };
  const tableFiles: { -readonly [K in keyof TableFiles]: TableFiles[K] } = {};

  // Sources, one after another: the guard's history, then each Elasticsearch search, then costs.
  let guard: GuardSummary | null | undefined;
  if (sources.readHistory) {
    const rows = await attempt('guard-history', () => sources.readHistory!(period));
    const budget = sources.readBudgetExceeded ? await attempt('guard-metrics', () => sources.readBudgetExceeded!(period)) : undefined;
    guard = rows === undefined ? null : summarizeGuard(rows, period, { budgetExceeded: budget });
  }

  let elastic: ElasticSummary | null | undefined;
  if (sources.elasticSearch && config.elastic) {
    const traffic = trafficRange(period);
    const found: { -readonly [K in keyof ElasticSummary]?: ElasticSummary[K] } = {};
    let answered = 0;
    const searches = reportSearches(config.elastic, period);
    const requestTimeoutMs = config.elastic.requestTimeoutMs;
    // Each request (a search or one of its pages) gets the time left, if less than its timeout, and none below MIN_SEARCH_MS.
    const timeLeft = () => (run.deadline === undefined ? Infinity : run.deadline.getTime() - Date.now() - FINISH_RESERVE_MS);
    for (const [i, search] of searches.entries()) {
      const send = (body: Record<string, unknown>) => {
        const left = timeLeft();
        if (left < MIN_SEARCH_MS) return Promise.reject(new OutOfTimeError(left));
        return sources.elasticSearch!(search.name, body, Math.min(requestTimeoutMs, left));
      };
      const perCustomer = search.name === 'customers' || search.name === 'traffic';
      let paged: { response: unknown; pages?: readonly unknown[]; cut?: ElasticSummary['customersCut']; error?: unknown };
      try {
        paged = perCustomer ? await pageCustomers(search.body, send) : { response: await send(search.body) };
      } catch (e) {
        if (e instanceof OutOfTimeError) {
          problem(`elastic:${search.name}`, `not run: ${searches.slice(i).map((s) => s.name).join(', ')}: ${e.message}`);
          break;
        }
        // A timeout or a rejected search says nothing about the next search: go on. Only a cluster that cannot be
        // reached at all fails every search the same way; then the skipped searches are named in the one problem.
        const rest = searches.slice(i + 1).map((s) => s.name);
        const unreachable = /^(ConnectionError|NoLivingConnectionsError)$/.test((e as Error)?.name ?? '');
        problem(`elastic:${search.name}`, `${message(e)}${unreachable && rest.length > 0 ? `; not run: ${rest.join(', ')}` : ''}`);
        if (unreachable) break;
        continue;
      }
      const response = paged.response;
      answered++;
      if (paged.error !== undefined) {
        const kept = paged.cut?.largest === undefined
          ? `the first ${paged.cut?.shown} customers (by name)`
          : `${paged.cut.shown} of the ${paged.cut.largest} customers with the most requests`;
        problem(`elastic:${search.name}`, `${message(paged.error)}; kept ${kept} of the pages before it`);
      }
      const partial = (paged.pages ?? [response]).map((page) => partialResultWarning(search.name, page)).find((w) => w !== undefined);
      if (partial) problem(`elastic:${search.name}`, partial);
      if (search.name === 'customers') {
        found.totalRequests = totalHits(response);
        // The total comes with the first page: a later page failing cuts the customer list, not this count.
        found.totalRequestsPartial = partialResultWarning(search.name, (paged.pages ?? [response])[0]) !== undefined;
        if (found.totalRequests === 0) problem('elastic:no-data', `no WAF documents in ${config.elastic.indexPattern} from ${period.start.toISOString()} to ${period.end.toISOString()}; check that the WAF is logging and the index pattern and timestamp field are right`);
        found.customers = mapCustomers(response);
        found.customersCut = paged.cut;
      } else if (search.name === 'timeline') {
        found.timeline = mapTimeline(response);
      } else if (search.name === 'clientIps') {
        found.clientIps = mapClientIps(response);
        found.clientIpsCut = mapClientIpsCut(response);
      } else {
        found.traffic = mapTraffic(response);
        found.trafficCut = paged.cut;
      }
    }
    elastic = answered === 0 ? null : { ...found, trafficFrom: traffic.from, trafficTo: traffic.to, breachField: config.elastic.breachField };
  }

  /**
   * The month's figures: this run's answers merged into the recorded ones (a failed source keeps its last figures), the
   * record written first (it is what the next run merges into), then both workbooks from the merged figures.
   * `elasticLines` is undefined when billing is not configured, null when it failed.
   */
  async function recordCosts(aws: { lines: CostLine[]; estimated?: boolean } | undefined, elasticLines: CostLine[] | null | undefined): Promise<ReportModel['costs']> {
    let previous: CostRecord | undefined | null;
    try {
      const stored = await outputs.getObject(keys.costRecord);
      previous = stored === undefined ? undefined : parseCostRecord(stored.toString('utf8'), period.label);
    } catch (e) {
      previous = null;
      problem('cost-record', `${message(e)}; the recorded cost figures of ${period.label} are kept as they are`);
    }
    const failed = aws === undefined || elasticLines === null;
    // A month workbook without a record was written by an earlier version: its figures are not known here, so keep it.
    if (previous === undefined && failed && await outputs.getObject(keys.monthlyCosts).catch(() => true as const) !== undefined) previous = null;
    const merged = mergeCosts(period.label, previous, {
      aws,
      elastic: elasticLines ? { lines: elasticLines } : undefined,
      elasticConfigured: elasticLines !== undefined,
    }, run.now, outputs.recordsIn);
    // Without the record, a failed source's figure cannot be told from "never recorded": write nothing rather than blank it.
    if (previous === null && failed) return merged.costs;
    if (merged.changed) {
      const saved = await attempt(`s3:${keys.costRecord}`, () => outputs.putObject(keys.costRecord, serializeCostRecord(merged.record), JSON_TYPE));
      // Workbooks holding figures the record does not would be overwritten by the next failed run: keep them in step.
      if (saved === undefined) return merged.costs;
      files.push(saved);
    }
    if (merged.anyFigure) {
      const monthly = await attempt('cost-workbook', () => monthlyCostWorkbook(merged.costs));
      if (monthly) tableFiles.costs = await write(keys.monthlyCosts, monthly, XLSX);
      const yearly = await attempt('cost-workbook-year', async () => updateYearWorkbook(await outputs.getObject(keys.yearlyCosts), merged.costs));
      if (yearly) await write(keys.yearlyCosts, yearly, XLSX);
    }
    return merged.costs;
  }

  let costs: ReportModel['costs'];
  if (period.kind === 'monthly' && (sources.readAwsCosts || sources.readElasticCosts)) {
    const aws = sources.readAwsCosts ? await attempt('cost-explorer', () => sources.readAwsCosts!(period)) : { lines: [] };
    const elasticLines = sources.readElasticCosts ? await attempt('elastic-billing', () => sources.readElasticCosts!(period)) : undefined;
    costs = await recordCosts(aws, sources.readElasticCosts ? elasticLines ?? null : undefined);
  }

  if (guard) await write(keys.blocks, blocksCsv(guard.records), CSV);
  for (const customer of elastic?.traffic ?? []) await write(keys.customer(customer.customer), customerTrafficCsv(customer), CSV);
  // Each table the email shortens gets its CSV, so the email's "N of M rows" pointer names a file that exists.
  const shown: Partial<Record<TableId, number>> = { 'offenders': guard?.topOffenders.length, 'busiest-minutes': guard?.busiestMinutes.length };
  for (const t of tableCsvs(guard, elastic)) {
    if (t.rows > (shown[t.id] ?? MAX_ROWS)) tableFiles[t.id] = await write(keys.table(t.id), t.body(), CSV);
  }

  const alarms = sources.readAlarms ? (await attempt('cloudwatch:alarms', () => sources.readAlarms!(period))) ?? null : undefined;
  // Daily runs watch the monthly one: a missing-data alarm cannot look back a month.
  const monthlyReport = period.kind === 'daily' && config.monthlyReportCheck
    ? await attempt('monthly-report-check', () => checkMonthlyReport(outputs.getObject, { reportFiles: (p) => monthlyReportFiles(config.prefix, p) }, run.now, config.timeZone, config.monthlyReportCheck!))
    : undefined;
  if (monthlyReport) run.metrics.add(MONTHLY_REPORT_MISSING_METRIC, monthlyReport.missing ? 1 : 0, 'Count');

  const previous = await previousFigures(run);
  const alarmCount = alarms ? alarmedInPeriod(alarms).length : undefined;
  const figures = keyFigures({
    kind: period.kind, period: period.label, guard, elastic, costs, requestsPartial: requestsPartial(elastic), alarmCount,
  });
  await write(keys.figures, serializeKeyFigures(figures), JSON_TYPE);

  // The archived copy lists the files written so far; the email also reports a failed archive.
  const draft = (extraFiles: string[]): RenderedEmail => renderEmail({
    reportName: config.reportName,
    period,
    generatedAt: run.now,
    guard,
    elastic,
    costs,
    previous,
    alarms,
    monthlyReport,
    problems: [...problems],
    files: [...files, ...extraFiles],
    tableFiles,
  });
  const archived = draft([keys.html, keys.text]);
  await write(keys.html, archived.html, 'text/html; charset=utf-8');
  await write(keys.text, archived.text, 'text/plain; charset=utf-8');

  const email = draft([]);
  const messageId = await attempt('email', () => outputs.sendEmail(email, config.sender, config.recipients));
  run.metrics.add(REPORT_FAILURES_METRIC, problems.length, 'Count');
  log.info('report done', { event: 'report-done', kind: period.kind, period: period.label, files: files.length, problems: problems.length, messageId });
  return { period: period.label, kind: period.kind, files, problems, messageId, email };
}

/**
 * The previous period's key figures for the headline: those its run stored, and for a month the cost total of its cost
 * record when every configured cost source is in it. Undefined when nothing is known: the email then says "no
 * comparison". Not a problem of this run: the first run of an installation has no previous period.
 */
async function previousFigures(run: ReportRun): Promise<KeyFigures | undefined> {
  const { period, config, outputs, sources, log } = run;
  const before = period.kind === 'daily' ? previousDay(period.start, period.timeZone) : previousMonth(period.start, period.timeZone);
  const keys = reportKeys(config.prefix, before);
  let figures: KeyFigures | undefined;
  try {
    const stored = await outputs.getObject(keys.figures);
    if (stored) figures = parseKeyFigures(stored.toString('utf8'), before.kind, before.label);
  } catch (e) {
    log.warn('previous key figures unreadable', { event: 'previous-figures', key: keys.figures, reason: message(e) });
  }
  if (period.kind === 'monthly' && (sources.readAwsCosts || sources.readElasticCosts)) {
    try {
      const stored = await outputs.getObject(keys.costRecord);
      const record = stored ? parseCostRecord(stored.toString('utf8'), before.label) : undefined;
      const complete = record && (!sources.readAwsCosts || record.sources.aws) && (!sources.readElasticCosts || record.sources.elastic);
      if (record && complete) {
        const elasticLines = sources.readElasticCosts ? record.sources.elastic?.lines ?? [] : undefined;
        const costCents = costTotals(record.sources.aws?.lines ?? [], elasticLines).totalCents;
        const estimated = record.sources.aws?.estimated === true || (elasticLines !== undefined && record.sources.elastic?.estimated === true);
        const { costEstimated: _stored, ...rest } = figures ?? { kind: before.kind, period: before.label };
        figures = { ...rest, costCents, ...(estimated ? { costEstimated: true } : {}) };
      }
    } catch (e) {
      log.warn('previous cost record unreadable', { event: 'previous-figures', key: keys.costRecord, reason: message(e) });
    }
  }
  return figures;
}

const CSV = 'text/csv; charset=utf-8';
const JSON_TYPE = 'application/json';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
