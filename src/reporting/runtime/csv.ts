import { createHash } from 'crypto';
import { stringify } from 'csv-stringify/sync';
import { CustomerTraffic, ElasticSummary, hostRows, statusRows } from './elastic-report';
import { toMegabytes } from './format';
import { GuardSummary, HistoryRecord } from './guard-summary';

/**
 * CSV files of the report, RFC 4180 (quotes doubled, CRLF), through csv-stringify rather than string joins. Times are
 * ISO 8601 in UTC: spreadsheets and scripts read them unambiguously.
 *
 * Host names come from the client-controlled Host header and rule ids and customer names from configuration, so every
 * text cell is treated as hostile (OWASP "CSV Injection"):
 * - a text cell that a spreadsheet could take for a formula gets a leading `'` (see {@link neutraliseFormula});
 * - every text cell is quoted, so a `,` inside it stays in the cell;
 * - so does every part of a cell after a `,`, `;`, CR or LF (see {@link neutraliseCell}): Excel in a locale whose list
 *   separator is `;` (German, French...) reads our comma-separated lines unsplit, takes only the first field's quotes as
 *   quotes, and splits the rest of the line at every `;`, even one inside our quotes; a line break outside its quotes
 *   starts a row. Any of these can begin a cell there, so none may be followed by a formula;
 * - numbers are written as numbers (a column is text or number by declaration, never by looking at the value), so a
 *   negative count stays a number.
 * Files start with a UTF-8 byte order mark: without it Excel reads them in the system code page and garbles non-ASCII
 * names.
 */

/**
 * Cells starting with `=`, `+`, `-`, `@`, tab, carriage return or line feed (OWASP's list, plus the full-width forms that
 * Apple Numbers normalises to them), also after leading spaces or quotes, which some importers trim (a control
 * character also after quotes: a `;` reading unwraps a leading pair of them), and after invisible format characters
 * (zero-width space, non-joiner and joiner, word joiner, soft hyphen, BOM, bidi marks, embeddings, overrides and
 * isolates), which importers and copy-paste drop: `\u200B=1+1` is a formula once they are gone. A cell that already
 * starts with `'` is prefixed too, so removing one leading `'` always gives back the original text.
 */
const INVISIBLE = '\\u00AD\\u061C\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u2069\\uFEFF';
const FORMULA_START = new RegExp(`^(?:[${INVISIBLE}"]*[\\t\\r\\n\\0']|[\\s"'${INVISIBLE}]*[=+\\-@\\uFF1D\\uFF0B\\uFF0D\\uFF20])`);

/** The text a spreadsheet shows as text: `'` before anything that could start a formula. Reverse: drop one leading `'`. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Where some reading of the file can start a cell inside a text field: list separators (`,` and `;`) and line breaks. */
const CELL_BREAK = /([,;\r\n])/;

/**
 * A text field as written: every part that can begin a cell in some reading (the start, and after each `,`, `;`, CR and
 * LF) is neutralised by {@link neutraliseFormula}, the first with the whole text. A last part after a break that is
 * empty or only spaces and quotes gets a `'` too: in a `;` reading the field's closing quote would open a quoted run
 * there that swallows the line break and begins the cell with the next row. Reverse: split at the same characters and
 * drop one leading `'` from each part.
 */
export function neutraliseCell(text: string): string {
  // [first, break, part, break, part, ...]
  const [first, ...rest] = text.split(CELL_BREAK);
  const after = rest.map((part, i) => {
    if (i % 2 === 0) return part;
    return i === rest.length - 1 && /^[\s"']*$/.test(part) ? `'${part}` : neutraliseFormula(part);
  });
  // The start is checked on the whole text: a CR or LF first is a formula start there, not an empty first part.
  return neutraliseFormula(first + after.join(''));
}

/** One column of a CSV: text cells are neutralised and quoted, number cells written as numbers (empty when absent). */
export type CsvColumn<T> =
  | { readonly header: string; readonly text: (row: T) => string | undefined }
  | { readonly header: string; readonly number: (row: T) => number | undefined };

function cell<T>(column: CsvColumn<T>, row: T): string | number | undefined {
  if ('text' in column) return neutraliseCell(column.text(row) ?? '');
  const n = column.number(row);
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A CSV file: UTF-8 BOM, a header row, one record per row, CRLF. Every CSV of the report goes through here. */
export function csvFile<T>(rows: readonly T[], columns: readonly CsvColumn<T>[]): string {
  const records: Array<Array<string | number | undefined>> = [
    columns.map((c) => neutraliseCell(c.header)),
    ...rows.map((r) => columns.map((c) => cell(c, r))),
  ];
  return stringify(records, { bom: true, quoted_string: true, record_delimiter: 'windows' });
}

/** Requests and traffic per hostname of one customer, largest first. */
export function customerTrafficCsv(traffic: CustomerTraffic): string {
  return csvFile(traffic.hosts, [
    { header: 'hostname', text: (h) => h.host },
    { header: 'requests', number: (h) => h.requests },
    { header: 'request_mb', number: (h) => toMegabytes(h.requestBytes) },
    { header: 'response_mb', number: (h) => toMegabytes(h.responseBytes) },
  ]);
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

/** Every history event of the period, oldest first. */
export function blocksCsv(records: readonly HistoryRecord[]): string {
  return csvFile(records, [
    { header: 'time', text: (r) => iso(r.at) },
    { header: 'event', text: (r) => r.event },
    { header: 'client', text: (r) => r.ip },
    { header: 'rule', text: (r) => r.ruleId },
    { header: 'host', text: (r) => r.host },
    { header: 'action', text: (r) => r.action },
    { header: 'observed', number: (r) => r.observed },
    { header: 'threshold', number: (r) => r.threshold },
    { header: 'window_seconds', number: (r) => r.windowSeconds },
    { header: 'blocked_at', text: (r) => iso(r.blockedAt) },
    { header: 'blocked_until', text: (r) => iso(r.blockedUntil) },
  ]);
}

/** The email's tables that can be longer than the email shows; each has a CSV with every row, named `<id>.csv`. */
export type TableId = 'rules' | 'offenders' | 'busiest-minutes' | 'customers' | 'status-codes' | 'hosts' | 'client-ips';

export interface TableCsv {
  readonly id: TableId;
  /** Rows in the file. */
  readonly rows: number;
  readonly body: () => string;
}

/** The CSV of every long table of the report, whether or not the email cuts it (the run decides what to write). */
export function tableCsvs(guard: GuardSummary | null | undefined, elastic: ElasticSummary | null | undefined): TableCsv[] {
  const tables: TableCsv[] = [];
  const add = <T>(id: TableId, rows: readonly T[] | undefined, columns: readonly CsvColumn<T>[]) => {
    if (rows) tables.push({ id, rows: rows.length, body: () => csvFile(rows, columns) });
  };
  if (guard) {
    add('rules', guard.byRule, [
      { header: 'rule', text: (r) => r.ruleId },
      { header: 'host', text: (r) => r.host },
      { header: 'blocked', number: (r) => r.blocked },
      { header: 'renewed', number: (r) => r.renewed },
      { header: 'would_block', number: (r) => r.wouldBlock },
      { header: 'released', number: (r) => r.released },
      { header: 'not_applied', number: (r) => r.notApplied },
      { header: 'other', number: (r) => r.other },
    ]);
    add('offenders', guard.allOffenders ?? guard.topOffenders, [
      { header: 'client', text: (r) => r.ip },
      { header: 'rules', text: (r) => r.rules.join(' ') },
      { header: 'blocks', number: (r) => r.blocks },
      { header: 'blocked_seconds', number: (r) => r.blockedMs / 1000 },
      { header: 'peak_requests', number: (r) => r.peakObserved },
    ]);
    add('busiest-minutes', guard.allMinutes ?? guard.busiestMinutes, [
      { header: 'minute', text: (r) => iso(r.minute) },
      { header: 'decisions', number: (r) => r.decisions },
    ]);
  }
  if (elastic?.customers) {
    add('customers', elastic.customers, [
      { header: 'customer', text: (r) => r.customer },
      { header: 'requests', number: (r) => r.requests },
      { header: 'apdex', number: (r) => r.apdex },
    ]);
    add('status-codes', statusRows(elastic.customers), [
      { header: 'customer', text: (r) => r.customer },
      { header: 'host', text: (r) => r.host },
      { header: 'status', text: (r) => r.code },
      { header: 'count', number: (r) => r.count },
      { header: 'share', number: (r) => r.share },
    ]);
    add('hosts', hostRows(elastic.customers), [
      { header: 'customer', text: (r) => r.customer },
      { header: 'host', text: (r) => r.host },
      { header: 'requests', number: (r) => r.requests },
      ...(elastic.breachField ? [{ header: 'breach_hits', number: (r: ReturnType<typeof hostRows>[number]) => r.breachHits }] : []),
    ]);
  }
  add('client-ips', elastic?.clientIps, [
    { header: 'client_ip', text: (r) => r.ip },
    { header: 'requests', number: (r) => r.requests },
  ]);
  return tables;
}

/**
 * A customer name as a file name: anything but letters, digits, `.`, `_` and `-` becomes `_`, and a changed name gets
 * a short hash of the original so `a/b` and `a_b` do not overwrite each other.
 */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 100);
  if (cleaned === name && name !== '') return name;
  return `${cleaned}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}
