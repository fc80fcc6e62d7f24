import { barChart } from './charts';
import { CostNotes, totalLabel } from './cost-record';
import { CostLine } from './costs';
import { TableId } from './csv';
import { CustomerCut, ElasticSummary, HostRow, MAX_CUSTOMERS, MAX_HOSTS, TimelinePoint, hostRows, statusRows } from './elastic-report';
import { escapeHtml, formatClock, formatCount, formatDecimal, formatDuration, formatMoney, formatPercent, formatTime } from './format';
import { GuardSummary } from './guard-summary';
import { centsToDollars, costTotals } from './money';
import { ReportPeriod, localTime } from './period';

/**
 * The email, as HTML and plain text from one model (pure). Values are escaped where they enter the HTML, never earlier,
 * so the text part shows them verbatim.
 */

export interface ReportProblem {
  /** Which part of the run: `guard`, `elastic:customers`, `cost-explorer`, `elastic-billing`, `email`, `s3:<key>`... */
  readonly source: string;
  readonly message: string;
}

export interface ReportModel {
  readonly reportName: string;
  readonly period: ReportPeriod;
  readonly generatedAt: Date;
  /** Undefined when the guard is not a source; `null` when it is but could not be read. */
  readonly guard?: GuardSummary | null;
  readonly elastic?: ElasticSummary | null;
  readonly costs?: { readonly aws?: readonly CostLine[]; readonly elastic?: readonly CostLine[]; readonly notes?: CostNotes };
  readonly problems: readonly ReportProblem[];
  /** Object keys (or local paths) of the files this run wrote. */
  readonly files: readonly string[];
  /** Where the rows of each table the email shortens were written (a CSV, the cost workbook), for its pointer. */
  readonly tableFiles?: TableFiles;
}

/** The file holding all rows of each shortened table, by {@link TableId} (and `costs` for the cost workbook). */
export type TableFiles = Readonly<Partial<Record<TableId | 'costs', string>>>;

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Rows beyond this are left out of the email tables; the run writes those tables' CSVs (see `tableCsvs`). */
export const MAX_ROWS = 25;

interface Column<T> {
  readonly title: string;
  readonly value: (row: T) => string;
  readonly numeric?: boolean;
}

/** How a table is cut: at most `limit` rows, of `of` in all (more than `rows` when the list was cut earlier). */
interface Cut {
  readonly file?: TableId | 'costs';
  readonly of?: number;
  readonly limit?: number;
}

/** "Showing N of M rows" and where the rest are, the same sentence in both parts; undefined when nothing is cut. */
function cutPointer(shown: number, cut: Cut, files: TableFiles): string | undefined {
  const total = cut.of ?? shown;
  if (total <= shown) return undefined;
  const where = cut.file && files[cut.file];
  return `Showing ${formatCount(shown)} of ${formatCount(total)} rows; ${where ? `all of them are in ${where}` : 'the file with all of them was not written'}.`;
}

function htmlTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string, limit = MAX_ROWS, pointer?: string): string {
  if (rows.length === 0) return `<p style="color:#666;margin:4px 0 12px">${escapeHtml(empty)}</p>`;
  const th = columns.map((c) => `<th style="text-align:${c.numeric ? 'right' : 'left'};padding:3px 8px;border-bottom:1px solid #ccc">${escapeHtml(c.title)}</th>`).join('');
  const body = rows.slice(0, limit).map((r, i) =>
    `<tr style="background:${i % 2 ? '#f6f8fa' : '#fff'}">${columns.map((c) => `<td style="text-align:${c.numeric ? 'right' : 'left'};padding:3px 8px;font-variant-numeric:tabular-nums">${escapeHtml(c.value(r))}</td>`).join('')}</tr>`).join('');
  const more = pointer ? `<p style="color:#666;font-size:12px">${escapeHtml(pointer)}</p>` : '';
  return `<table style="border-collapse:collapse;font-size:13px;margin:4px 0 12px">${`<tr>${th}</tr>`}${body}</table>${more}`;
}

function textTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string, limit = MAX_ROWS, pointer?: string): string {
  if (rows.length === 0) return `  ${empty}`;
  const cells = [columns.map((c) => c.title), ...rows.slice(0, limit).map((r) => columns.map((c) => c.value(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const lines = cells.map((row) => `  ${row.map((cell, i) => (columns[i].numeric ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd()}`);
  if (pointer) lines.push(`  ${pointer}`);
  return lines.join('\n');
}

interface Section {
  readonly title: string;
  readonly html: string[];
  readonly text: string[];
  /** Where shortened tables have all their rows. */
  readonly files?: TableFiles;
}

/** A table in both parts: the text part shows the rows the HTML shows, and both say "N of M" when cut. */
function table<T>(section: Section, rows: readonly T[], columns: readonly Column<T>[], empty: string, caption?: string, cut: Cut = {}): void {
  if (caption) {
    section.html.push(`<h3 style="font-size:14px;margin:12px 0 2px">${escapeHtml(caption)}</h3>`);
    section.text.push('', caption);
  }
  const limit = cut.limit ?? MAX_ROWS;
  const pointer = cutPointer(Math.min(rows.length, limit), { ...cut, of: Math.max(cut.of ?? 0, rows.length) }, section.files ?? {});
  section.html.push(htmlTable(rows, columns, empty, limit, pointer));
  section.text.push(textTable(rows, columns, empty, limit, pointer));
}

function guardSection(summary: GuardSummary | null, period: ReportPeriod, files: TableFiles): Section {
  const s: Section = { title: 'Realtime WAF guard', html: [], text: [], files };
  if (summary === null) {
    s.html.push('<p style="color:#b00020">The guard history could not be read; see the problems below.</p>');
    s.text.push('  The guard history could not be read; see the problems below.');
    return s;
  }
  const tz = period.timeZone;
  const t = summary.totals;
  const figures: Array<[string, string]> = [
    ['Blocks', formatCount(t.blocked)],
    ['Renewals', formatCount(t.renewed)],
    ['Would block (COUNT rules)', formatCount(t.wouldBlock)],
    ['Releases', formatCount(t.released)],
    ['IP-set cap hits (blocks not applied)', formatCount(t.notApplied)],
    ['New-block budget spent (offenders not blocked)', summary.budgetExceeded === undefined ? '–' : formatCount(summary.budgetExceeded)],
  ];
  table(s, figures, [{ title: 'Figure', value: (r) => r[0] }, { title: 'Count', value: (r) => r[1], numeric: true }], '');
  s.html.push(barChart(summary.timeline, { title: period.kind === 'daily' ? `Blocks per hour (${tz})` : `Blocks per day (${tz})`, color: '#b03a2e' }));
  table(s, summary.byRule, [
    { title: 'Rule', value: (r) => r.ruleId },
    { title: 'Host', value: (r) => r.host },
    { title: 'Blocked', value: (r) => formatCount(r.blocked), numeric: true },
    { title: 'Renewed', value: (r) => formatCount(r.renewed), numeric: true },
    { title: 'Would block', value: (r) => formatCount(r.wouldBlock), numeric: true },
    { title: 'Released', value: (r) => formatCount(r.released), numeric: true },
    { title: 'Not applied', value: (r) => formatCount(r.notApplied), numeric: true },
  ], 'No guard activity in this period.', 'Per rule and host', { file: 'rules' });
  const offenderColumns = [
    { title: 'Client (IP or prefix)', value: (r: GuardSummary['topOffenders'][number]) => r.ip },
    { title: 'Rules', value: (r: GuardSummary['topOffenders'][number]) => r.rules.join(', ') },
    { title: 'Blocks', value: (r: GuardSummary['topOffenders'][number]) => formatCount(r.blocks), numeric: true },
    { title: 'Blocked for', value: (r: GuardSummary['topOffenders'][number]) => formatDuration(r.blockedMs), numeric: true },
    { title: 'Peak requests', value: (r: GuardSummary['topOffenders'][number]) => formatCount(r.peakObserved), numeric: true },
  ];
  const all = summary.allOffenders;
  table(s, summary.topOffenders, offenderColumns, 'No client was blocked.', 'Top offenders', { file: 'offenders', of: all?.length });
  table(s, summary.repeatOffenders, offenderColumns, 'No client was blocked more than once.', 'Repeat offenders', { file: 'offenders', of: all?.filter((o) => o.blocks > 1).length });
  table(s, summary.busiestMinutes, [
    { title: `Minute (${tz})`, value: (r) => (period.kind === 'daily' ? formatClock(r.minute, tz) : formatTime(r.minute, tz)) },
    { title: 'Decisions', value: (r) => formatCount(r.decisions), numeric: true },
  ], 'No decisions.', 'Busiest minutes', { file: 'busiest-minutes', of: summary.allMinutes?.length });
  return s;
}

/** A line in both parts: what was left out, as "N of M". */
function cutNote(section: Section, sentence: string): void {
  section.html.push(`<p style="color:#8a5a00;margin:4px 0">${escapeHtml(sentence)}</p>`);
  section.text.push(`  ${sentence}`);
}

function customerCutSentence(what: string, cut: CustomerCut): string {
  const why = cut.failed ? 'the search failed after them, see the problems' : `a report holds at most ${formatCount(MAX_CUSTOMERS)}`;
  return `${what} cover ${formatCount(cut.shown)} of about ${formatCount(cut.ofAbout)} customers (the first ${formatCount(cut.shown)} by name; ${why}).`;
}

function timelineLabel(p: TimelinePoint, period: ReportPeriod): string {
  const t = localTime(new Date(p.start), period.timeZone);
  return period.kind === 'daily' ? String(t.hour).padStart(2, '0') : String(t.day);
}

function elasticSection(summary: ElasticSummary | null, period: ReportPeriod, files: TableFiles): Section {
  const s: Section = { title: 'WAF traffic (Elasticsearch)', html: [], text: [], files };
  if (summary === null) {
    s.html.push('<p style="color:#b00020">Elasticsearch could not be read; see the problems below.</p>');
    s.text.push('  Elasticsearch could not be read; see the problems below.');
    return s;
  }
  const tz = period.timeZone;
  if (summary.totalRequests !== undefined) {
    s.html.push(`<p style="margin:4px 0">Requests: <b>${escapeHtml(formatCount(summary.totalRequests))}</b></p>`);
    s.text.push(`  Requests: ${formatCount(summary.totalRequests)}`);
  }
  if (summary.customers) {
    table(s, summary.customers, [
      { title: 'Customer', value: (r) => r.customer },
      { title: 'Requests', value: (r) => formatCount(r.requests), numeric: true },
      { title: 'Apdex', value: (r) => formatDecimal(r.apdex, 3), numeric: true },
    ], 'No requests in this period.', 'Requests and Apdex per customer', { file: 'customers' });
  }
  for (const [cut, what] of [[summary.customersCut, 'Per-customer figures'], [summary.trafficCut, 'Per-customer traffic CSVs']] as const) {
    if (cut) cutNote(s, customerCutSentence(what, cut));
  }
  for (const [list, what] of [[summary.customers, 'the host tables'], [summary.traffic, 'the traffic CSVs']] as const) {
    const over = (list ?? []).filter((c) => c.unlistedHostRequests !== undefined);
    if (over.length === 0) continue;
    const requests = over.reduce((sum, c) => sum + (c.unlistedHostRequests ?? 0), 0);
    cutNote(s, `${formatCount(over.length)} of ${formatCount(list!.length)} customers have more than ${formatCount(MAX_HOSTS)} hosts: ${what} list their ${formatCount(MAX_HOSTS)} busiest, and ${formatCount(requests)} requests on the others are in the totals only (${over.slice(0, 5).map((c) => c.customer).join(', ')}${over.length > 5 ? ', ...' : ''}).`);
  }
  if (summary.timeline) {
    const points = summary.timeline;
    const unit = period.kind === 'daily' ? 'hour' : 'day';
    s.html.push(barChart(points.map((p) => ({ label: timelineLabel(p, period), value: p.requests })), { title: `Requests per ${unit} (${tz})` }));
    s.html.push(barChart(points.map((p) => ({ label: timelineLabel(p, period), value: p.avgLatencyMs })), { title: `Average WAF latency per ${unit}, ms (${tz})`, color: '#7a4fb0', decimals: 1 }));
    table(s, points, [
      { title: period.kind === 'daily' ? `Hour (${tz})` : `Day (${tz})`, value: (p) => (period.kind === 'daily' ? formatClock(p.start, tz) : formatTime(p.start, tz).slice(0, 10)) },
      { title: 'Requests', value: (p) => formatCount(p.requests), numeric: true },
      { title: 'Avg latency (ms)', value: (p) => formatDecimal(p.avgLatencyMs, 1), numeric: true },
    ], 'No requests in this period.', `Requests and average latency per ${unit}`, { limit: Infinity });
  }
  if (summary.customers) {
    table(s, statusRows(summary.customers), [
      { title: 'Customer', value: (r) => r.customer },
      { title: 'Host', value: (r) => r.host },
      { title: 'Status', value: (r) => r.code },
      { title: 'Count', value: (r) => formatCount(r.count), numeric: true },
      { title: 'Share', value: (r) => formatPercent(r.share), numeric: true },
    ], 'No responses.', 'Status codes per customer and host', { file: 'status-codes' });
    const hosts = hostRows(summary.customers);
    const hostColumns: Array<Column<HostRow>> = [
      { title: 'Customer', value: (r) => r.customer },
      { title: 'Host', value: (r) => r.host },
      { title: 'Requests', value: (r) => formatCount(r.requests), numeric: true },
    ];
    if (summary.breachField) hostColumns.push({ title: 'Data-breach hits', value: (r) => formatCount(r.breachHits), numeric: true });
    table(s, hosts, hostColumns, 'No requests.', 'Requests per customer and host', { file: 'hosts' });
  }
  if (summary.clientIps) {
    table(s, summary.clientIps, [
      { title: 'Client IP', value: (r) => r.ip },
      { title: 'Requests', value: (r) => formatCount(r.requests), numeric: true },
    ], 'No clients.', `Top ${summary.clientIps.length || ''} client IPs`.replace('  ', ' '), { file: 'client-ips' });
  }
  return s;
}

function costSection(costs: NonNullable<ReportModel['costs']>, files: TableFiles): Section {
  const s: Section = { title: 'Costs', html: [], text: [], files };
  // Which figures are not this run's, missing or estimated: said before the figures, so nobody reconciles a partial total.
  for (const note of [costs.notes?.aws, costs.notes?.elastic]) {
    if (!note) continue;
    s.html.push(`<p style="margin:4px 0;color:${note.label === 'estimated' ? '#8a5a00' : '#b00020'}">${escapeHtml(note.sentence)}</p>`);
    s.text.push(`  ${note.sentence}`);
  }
  // Rounded as in the workbooks, so the email's figures are the workbook's.
  const totals = costTotals(costs.aws ?? [], costs.elastic);
  const lines = [...totals.aws.lines, ...(totals.elastic?.lines ?? [])];
  table(s, lines, [
    { title: 'Source', value: (r) => r.source },
    { title: 'Item', value: (r) => r.item },
    { title: 'Amount (USD)', value: (r) => formatMoney(centsToDollars(r.cents)), numeric: true },
  ], 'No cost figures.', undefined, { file: 'costs' });
  const total = centsToDollars(totals.totalCents);
  const label = totalLabel(costs.notes);
  s.html.push(`<p style="margin:4px 0">${escapeHtml(label)}: <b>${escapeHtml(formatMoney(total))}</b></p>`);
  s.text.push(`  ${label}: ${formatMoney(total)}`);
  return s;
}

export function renderEmail(model: ReportModel): RenderedEmail {
  const { period } = model;
  const what = period.kind === 'daily' ? 'Daily' : 'Monthly';
  const subject = `${what} WAF report ${period.label}: ${model.reportName}${model.problems.length > 0 ? ` (${model.problems.length} problem${model.problems.length > 1 ? 's' : ''})` : ''}`;
  const sections: Section[] = [];
  const files = model.tableFiles ?? {};
  if (model.guard !== undefined) sections.push(guardSection(model.guard, period, files));
  if (model.elastic !== undefined) sections.push(elasticSection(model.elastic, period, files));
  if (model.costs) sections.push(costSection(model.costs, files));
  const problems: Section = { title: 'Problems', html: [], text: [] };
  if (model.problems.length > 0) {
    table(problems, model.problems, [{ title: 'Part', value: (p) => p.source }, { title: 'Problem', value: (p) => p.message }], '', undefined, { limit: Infinity });
    sections.push(problems);
  }
  if (model.files.length > 0) {
    sections.push({
      title: 'Files',
      html: [`<ul style="font-size:13px">${model.files.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`],
      text: model.files.map((f) => `  ${f}`),
    });
  }
  const range = `${formatTime(period.start, period.timeZone)} to ${formatTime(period.end, period.timeZone)} (${period.timeZone})`;
  const html = [
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#222;max-width:860px;margin:0 auto;padding:12px">',
    `<h1 style="font-size:20px;margin:0 0 4px">${escapeHtml(`${what} WAF report ${period.label}`)}</h1>`,
    `<p style="color:#555;margin:0 0 12px">${escapeHtml(model.reportName)} · ${escapeHtml(range)}</p>`,
    ...sections.map((sec) => `<h2 style="font-size:16px;border-bottom:2px solid #2f6fb0;padding-bottom:2px;margin:18px 0 6px">${escapeHtml(sec.title)}</h2>${sec.html.join('')}`),
    `<p style="color:#888;font-size:11px;margin-top:24px">${escapeHtml(`Generated ${formatTime(model.generatedAt, period.timeZone)} (${period.timeZone}) by cdk-waf-guard.`)}</p>`,
    '</body></html>',
  ].join('\n');
  const text = [
    `${what} WAF report ${period.label}`,
    `${model.reportName} · ${range}`,
    ...sections.flatMap((sec) => ['', sec.title.toUpperCase(), ...sec.text]),
    '',
    `Generated ${formatTime(model.generatedAt, period.timeZone)} (${period.timeZone}) by cdk-waf-guard.`,
  ].join('\n');
  return { subject, html, text };
}
