import { alarmAttention, alarmedInPeriod, AlarmStatus } from './alarm-summary';
import { barChart } from './charts';
import { CostNotes, totalLabel } from './cost-record';
import { CostLine } from './costs';
import { TableId } from './csv';
import { CustomerCut, ElasticSummary, HostRow, MAX_CUSTOMERS, MAX_HOSTS, MAX_STATUS_CODES, OTHER_CODES, TimelinePoint, hostRows, statusCuts, statusRows } from './elastic-report';
import { escapeHtml, formatClock, formatCount, formatDecimal, formatDuration, formatMoney, formatPercent, formatTime, visible } from './format';
import { GuardSummary } from './guard-summary';
import { attentionItems, headlineFigures, KeyFigures, KeyFigureSources, requestsPartial, subjectFigures } from './headline';
import { centsToDollars, costTotals } from './money';
import { monthlyReportAttention, MonthlyReportState } from './monthly-report-check';
import { ReportPeriod, localTime, withRepeatOffset } from './period';
import { fileLines } from '../../shared/runtime/file-lines';

/**
 * The email, as HTML and plain text from one model (pure). Values are escaped where they enter the HTML, never earlier,
 * so the text part shows them verbatim, except control and bidi characters, shown as `\u202E` in both parts.
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
  /** The previous period's key figures, for the headline's changes; undefined when unknown ("no comparison"). */
  readonly previous?: KeyFigures;
  /** Where the rows of each table the email shortens were written (a CSV, the cost workbook), for its pointer. */
  readonly tableFiles?: TableFiles;
  /** The configured alarms (undefined when none are; `null` when CloudWatch could not be read). */
  readonly alarms?: readonly AlarmStatus[] | null;
  /** A daily run's check of the last due monthly report. */
  readonly monthlyReport?: MonthlyReportState;
}

/** The file holding all rows of each shortened table, by {@link TableId} (and `costs` for the cost workbook). */
export type TableFiles = Readonly<Partial<Record<TableId | 'costs', string>>>;

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/**
 * Phones: the email is read at ~360-430 px as often as on a desktop. Text cells break long names (host names and rule
 * ids come from traffic and have no spaces) anywhere; figures never break; a table still too wide for the screen
 * scrolls inside its own box instead of widening the page. Inline styles only: many mail clients drop <style>.
 */
const CELL_TEXT = 'text-align:left;padding:3px 6px;vertical-align:top;overflow-wrap:anywhere;word-break:break-word;min-width:7em';
const CELL_NUMBER = 'text-align:right;padding:3px 6px;vertical-align:top;white-space:nowrap;font-variant-numeric:tabular-nums';

function scrollBox(inner: string): string {
  return `<div style="max-width:100%;overflow-x:auto;margin:4px 0 12px">${inner}</div>`;
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
  const th = columns.map((c) => `<th style="text-align:${c.numeric ? 'right' : 'left'};padding:3px 6px;border-bottom:1px solid #ccc;vertical-align:bottom;overflow-wrap:normal;word-break:normal">${escapeHtml(c.title)}</th>`).join('');
  const body = rows.slice(0, limit).map((r, i) =>
    `<tr style="background:${i % 2 ? '#f6f8fa' : '#fff'}">${columns.map((c) => `<td style="${c.numeric ? CELL_NUMBER : CELL_TEXT}">${escapeHtml(c.value(r))}</td>`).join('')}</tr>`).join('');
  const more = pointer ? `<p style="color:#666;font-size:12px">${escapeHtml(pointer)}</p>` : '';
  return scrollBox(`<table style="border-collapse:collapse;font-size:13px">${`<tr>${th}</tr>`}${body}</table>`) + more;
}

/** The table's lines; cells are made {@link visible} before they are measured, so a tab or CR cannot shift a column. */
function textTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string, limit = MAX_ROWS, pointer?: string): string[] {
  if (rows.length === 0) return [`  ${empty}`];
  const cells = [columns.map((c) => c.title), ...rows.slice(0, limit).map((r) => columns.map((c) => visible(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const lines = cells.map((row) => `  ${row.map((cell, i) => (columns[i].numeric ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd()}`);
  if (pointer) lines.push(`  ${pointer}`);
  return lines;
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
  section.text.push(...textTable(rows, columns, empty, limit, pointer));
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
  // Repeat offenders are usually the top offenders again: only those the list above does not show get a table.
  const shown = new Set(summary.topOffenders.slice(0, MAX_ROWS).map((o) => o.ip));
  const unseen = summary.repeatOffenders.filter((o) => !shown.has(o.ip));
  if (summary.repeatOffenders.length > 0 && unseen.length === 0) {
    const count = summary.repeatOffenders.length;
    const sentence = `${count === 1 ? 'The repeat offender (blocked more than once) is' : `All ${formatCount(count)} repeat offenders (blocked more than once) are`} in the top offenders above.`;
    s.html.push(`<h3 style="font-size:14px;margin:12px 0 2px">Repeat offenders</h3><p style="margin:4px 0 12px">${escapeHtml(sentence)}</p>`);
    s.text.push('', 'Repeat offenders', `  ${sentence}`);
  } else {
    const title = unseen.length < summary.repeatOffenders.length ? 'Repeat offenders not in the top offenders above' : 'Repeat offenders';
    table(s, unseen, offenderColumns, 'No client was blocked more than once.', title,
      { file: 'offenders', of: all?.filter((o) => o.blocks > 1 && !shown.has(o.ip)).length });
  }
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
  const among = cut.rankedAmong === undefined ? '' : ` among the first ${formatCount(cut.rankedAmong)} by name`;
  const which = cut.largest === undefined
    ? `the first ${formatCount(cut.shown)} by name`
    : `${cut.shown === cut.largest ? 'the' : `${formatCount(cut.shown)} of the`} ${formatCount(cut.largest)} with the most requests${among}`;
  return `${what} cover ${formatCount(cut.shown)} of about ${formatCount(cut.ofAbout)} customers (${which}; ${why}).`;
}

/** "Top 25 of about 1,234 client IPs" when the list leaves clients out, with their requests so the figures add up. */
function clientIpsCaption(summary: ElasticSummary): string {
  const shown = summary.clientIps?.length ?? 0;
  const cut = summary.clientIpsCut;
  if (!cut) return shown === 0 ? 'Client IPs' : `All ${formatCount(shown)} client IP${shown > 1 ? 's' : ''}`;
  return `Top ${formatCount(shown)} of about ${formatCount(cut.ofAbout)} client IPs (the others sent ${formatCount(cut.otherRequests)} requests)`;
}

function timelineLabel(p: TimelinePoint, period: ReportPeriod): string {
  const t = localTime(new Date(p.start), period.timeZone);
  return period.kind === 'daily' ? withRepeatOffset(String(t.hour).padStart(2, '0'), p.start, period.timeZone) : String(t.day);
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
    const cuts = statusCuts(summary.customers);
    if (cuts.length > 0) {
      const lists = cuts.slice(0, 5).map((c) => `${c.customer} ${c.host}: ${formatCount(c.shown)} of about ${formatCount(c.ofAbout)}`);
      cutNote(s, `${formatCount(cuts.length)} status-code list${cuts.length > 1 ? 's' : ''} show${cuts.length > 1 ? '' : 's'} only the ${formatCount(MAX_STATUS_CODES)} most frequent codes (${lists.join('; ')}${cuts.length > 5 ? '; ...' : ''}); the requests with the other codes are in an "${OTHER_CODES}" row, so each list adds up to its requests.`);
    }
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
    ], 'No clients.', clientIpsCaption(summary), { file: 'client-ips' });
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

/** The headline's figures as tiles that sit side by side on a desktop and stack on a phone (inline-block, no CSS). */
function headlineHtml(figures: ReturnType<typeof headlineFigures>): string {
  const tiles = figures.map((f) => {
    const color = f.trend === 'up' ? '#8a3b00' : f.trend === 'down' ? '#1e6b35' : '#555';
    return '<div style="display:inline-block;vertical-align:top;box-sizing:border-box;min-width:150px;max-width:100%;margin:0 8px 8px 0;padding:8px 10px;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa">'
      + `<div style="font-size:12px;color:#555">${escapeHtml(f.label)}</div>`
      + `<div style="font-size:20px;font-weight:bold;font-variant-numeric:tabular-nums">${escapeHtml(f.value)}</div>`
      + (f.change ? `<div style="font-size:12px;color:${color}">${escapeHtml(f.change)}</div>` : '')
      + '</div>';
  });
  return `<div style="margin:8px 0 4px">${tiles.join('')}</div>`;
}

function attentionHtml(items: ReturnType<typeof attentionItems>): string {
  if (items.length === 0) return '<p style="margin:4px 0 12px;padding:6px 10px;background:#e9f5ec;border-left:4px solid #1e6b35">Nothing needs attention.</p>';
  return '<div style="margin:4px 0 12px;padding:6px 10px;background:#fdecea;border-left:4px solid #b00020">'
    + '<div style="font-weight:bold;color:#b00020;margin-bottom:2px">Needs attention</div>'
    + `<ul style="margin:0;padding-left:18px">${items.map((i) => `<li><b>${escapeHtml(i.source)}</b>: ${escapeHtml(i.message)}</li>`).join('')}</ul></div>`;
}

export function renderEmail(model: ReportModel): RenderedEmail {
  const { period } = model;
  const what = period.kind === 'daily' ? 'Daily' : 'Monthly';
  const sources: KeyFigureSources = {
    kind: period.kind,
    period: period.label,
    guard: model.guard,
    elastic: model.elastic,
    costs: model.costs,
    requestsPartial: requestsPartial(model.elastic),
    alarmCount: model.alarms ? alarmedInPeriod(model.alarms).length : undefined,
  };
  const figures = headlineFigures(sources, model.previous);
  const watched = [...(model.alarms ? alarmAttention(model.alarms, period) : []), ...monthlyReportAttention(model.monthlyReport, period.timeZone)];
  const attention = attentionItems(sources, [...model.problems, ...watched]);
  const keyFigures = subjectFigures(sources);
  const subject = `${what} WAF report ${period.label}: ${model.reportName}${keyFigures ? ` - ${keyFigures}` : ''}${model.problems.length > 0 ? ` (${model.problems.length} problem${model.problems.length > 1 ? 's' : ''})` : ''}`;
  const sections: Section[] = [];
  const files = model.tableFiles ?? {};
  if (model.guard !== undefined) sections.push(guardSection(model.guard, period, files));
  if (model.elastic !== undefined) sections.push(elasticSection(model.elastic, period, files));
  if (model.costs) sections.push(costSection(model.costs, files));
  if (model.files.length > 0) {
    const lines = fileLines(model.files);
    sections.push({
      title: 'Files',
      html: [`<ul style="font-size:13px;padding-left:18px">${lines.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`],
      text: lines.map((f) => `  ${f}`),
    });
  }
  const range = `${formatTime(period.start, period.timeZone)} to ${formatTime(period.end, period.timeZone)} (${period.timeZone})`;
  const html = [
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(subject)}</title></head>`,
    // A max-width column, not a fixed width: full width on a phone, 860 px on a desktop; long values wrap anywhere.
    '<body style="margin:0;padding:0;background:#fff">',
    '<div style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#222;max-width:860px;margin:0 auto;padding:12px;box-sizing:border-box;overflow-wrap:anywhere;word-break:break-word">',
    `<h1 style="font-size:20px;margin:0 0 4px">${escapeHtml(`${what} WAF report ${period.label}`)}</h1>`,
    `<p style="color:#555;margin:0 0 12px">${escapeHtml(model.reportName)} · ${escapeHtml(range)}</p>`,
    // The ten-second read: key figures, then what needs attention, then the details.
    headlineHtml(figures),
    attentionHtml(attention),
    ...sections.map((sec) => `<h2 style="font-size:16px;border-bottom:2px solid #2f6fb0;padding-bottom:2px;margin:18px 0 6px">${escapeHtml(sec.title)}</h2>${sec.html.join('')}`),
    `<p style="color:#888;font-size:11px;margin-top:24px">${escapeHtml(`Generated ${formatTime(model.generatedAt, period.timeZone)} (${period.timeZone}) by cdk-waf-guard.`)}</p>`,
    '</div></body></html>',
  ].join('\n');
  // One line per element: each is made visible whole, so no value can add a line, move a column or reverse text.
  const text = [
    `${what} WAF report ${period.label}`,
    `${model.reportName} · ${range}`,
    '',
    ...figures.map((f) => `${f.label}: ${f.value}${f.change ? ` (${f.change})` : ''}`),
    '',
    ...(attention.length === 0 ? ['Nothing needs attention.'] : ['NEEDS ATTENTION', ...attention.map((i) => `  ${i.source}: ${i.message}`)]),
    ...sections.flatMap((sec) => ['', sec.title.toUpperCase(), ...sec.text]),
    '',
    `Generated ${formatTime(model.generatedAt, period.timeZone)} (${period.timeZone}) by cdk-waf-guard.`,
  ].map(visible).join('\n');
  return { subject: visible(subject), html, text };
}
