import { QueryCommand, QueryCommandInput, QueryCommandOutput, TimestreamQueryClient, ValidationException as QueryValidationException } from '@aws-sdk/client-timestream-query';
import {
  _Record, RejectedRecord, RejectedRecordsException, ThrottlingException, TimestreamWriteClient, ValidationException, WriteRecordsCommand,
  WriteRecordsCommandInput, WriteRecordsCommandOutput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';

const meta = { $metadata: { httpStatusCode: 200 } };
/** Timestream's errors carry their text as `Message`; the SDK sets `message` from it. */
const text = (message: string) => ({ message, Message: message });

/**
 * Timestream's quota: a record may hold at most 2 KB. The quota page does not say how the size is counted; this counts
 * it as the write-metering page does (8 bytes of time; the UTF-8 bytes of each dimension name and value and of the
 * measure name; each measure's name and its value: 8 bytes for BIGINT, DOUBLE and TIMESTAMP, 1 for BOOLEAN, UTF-8 bytes
 * for VARCHAR) and takes 2 KB as 2,048 bytes. A lone surrogate counts as the 3 bytes of U+FFFD it is sent as.
 */
export const MAX_RECORD_BYTES = 2048;

export function recordSize(r: _Record): number {
  const bytes = (s: string | undefined) => Buffer.byteLength(s ?? '', 'utf8');
  let size = 8 + bytes(r.MeasureName);
  for (const d of r.Dimensions ?? []) size += bytes(d.Name) + bytes(d.Value);
  for (const m of r.MeasureValues ?? []) {
    size += bytes(m.Name) + (m.Type === 'VARCHAR' ? bytes(m.Value) : m.Type === 'BOOLEAN' ? 1 : 8);
  }
  if (r.MeasureValue !== undefined) size += r.MeasureValueType === 'VARCHAR' ? bytes(r.MeasureValue) : 8;
  return size;
}

interface StoredRow {
  readonly time: number;
  readonly dimensions: Record<string, string>;
  readonly measureName: string;
}

/**
 * Timestream for LiveAnalytics as the guard meets it. WriteRecords: at most 100 records, each needing time, measure
 * name and values and at most 2 KB (see recordSize); records older than the memory store holds are rejected in RejectedRecordsException with their
 * index and the service's reason, the others of the call are written; a record equal in dimensions, time and measure
 * name to a stored one with other values is rejected as a duplicate. Query: the guard's rule queries are read back from
 * their text (period, host and path conditions, routes, bucket size and threshold) and answered from the stored
 * records, a few rows per page, the first page empty as while a query still runs.
 */
export class FakeTimestream {
  public readonly rows: StoredRow[] = [];
  public readonly writeCalls: WriteRecordsCommandInput[] = [];
  public readonly queries: string[] = [];
  /** Calls to throttle (after the client's retries, as the handler would see them). */
  public throttleCalls = 0;
  public rowsPerPage = 2;
  private readonly pages = new Map<string, { rows: string[][]; columns: string[] }>();
  private tokenCounter = 0;

  constructor(
    public readonly database: string,
    public readonly table: string,
    /** The fake's clock and memory store retention: what decides rejections. */
    private readonly clock: { now: () => number; memoryRetentionMs: number },
  ) {}

  public writeRecords(input: WriteRecordsCommandInput): WriteRecordsCommandOutput {
    this.writeCalls.push(input);
    if (input.DatabaseName !== this.database || input.TableName !== this.table) {
      throw new ValidationException({ ...meta, ...text(`The table ${input.DatabaseName}.${input.TableName} does not exist.`) });
    }
    const records = input.Records ?? [];
    if (records.length === 0 || records.length > 100) {
      throw new ValidationException({ ...meta, ...text("1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to 100") });
    }
    if (this.throttleCalls > 0) {
      this.throttleCalls--;
      throw new ThrottlingException({ ...meta, ...text('Rate exceeded') });
    }
    const rejected: RejectedRecord[] = [];
    records.forEach((r, i) => {
      const reason = this.problem(r);
      if (reason) rejected.push({ RecordIndex: i, Reason: reason });
      else this.store(r);
    });
    if (rejected.length > 0) {
      throw new RejectedRecordsException({
        ...meta, $metadata: { httpStatusCode: 419 }, ...text('One or more records have been rejected. See RejectedRecords for details.'), RejectedRecords: rejected,
      });
    }
    return { ...meta, RecordsIngested: { Total: records.length, MemoryStore: records.length, MagneticStore: 0 } };
  }

  private problem(r: _Record): string | undefined {
    if (r.TimeUnit !== 'MILLISECONDS' || !/^\d+$/.test(r.Time ?? '')) return 'Invalid time for record.';
    if (!r.MeasureName || r.MeasureValueType !== 'MULTI' || !(r.MeasureValues?.length)) return 'Invalid measure for record.';
    const time = Number(r.Time);
    const now = this.clock.now();
    if (time < now - this.clock.memoryRetentionMs || time > now + 15 * 60_000) {
      return `The record timestamp is outside the time range [${new Date(now - this.clock.memoryRetentionMs).toISOString()}, ` +
        `${new Date(now + 15 * 60_000).toISOString()}) of the memory store.`;
    }
    for (const d of r.Dimensions ?? []) {
      if (!d.Value) return `Dimension ${d.Name} has an empty value.`;
    }
    const size = recordSize(r);
    if (size > MAX_RECORD_BYTES) return `Record size ${size} bytes exceeds the maximum record size of 2 KB.`;
    const key = this.key(r);
    const existing = this.rows.find((row) => this.rowKey(row) === key);
    if (existing && JSON.stringify((existing as any).values) !== JSON.stringify(r.MeasureValues)) {
      return 'A record with the same dimensions, timestamp and measure name but different measure values already exists.';
    }
    return undefined;
  }

  private key(r: _Record): string {
    const dims = Object.fromEntries((r.Dimensions ?? []).map((d) => [d.Name!, d.Value!]));
    return this.rowKey({ time: Number(r.Time), dimensions: dims, measureName: r.MeasureName! });
  }

  private rowKey(row: StoredRow): string {
    return JSON.stringify([row.time, row.measureName, Object.entries(row.dimensions).sort()]);
  }

  private store(r: _Record): void {
    const key = this.key(r);
    if (this.rows.some((row) => this.rowKey(row) === key)) return;
    const dimensions = Object.fromEntries((r.Dimensions ?? []).map((d) => [d.Name!, d.Value!]));
    const row = { time: Number(r.Time), dimensions, measureName: r.MeasureName! };
    this.rows.push(Object.assign(row, { values: r.MeasureValues }));
  }

  public query(input: QueryCommandInput): QueryCommandOutput {
    if (input.NextToken) {
      const pending = this.pages.get(input.NextToken);
      if (!pending) throw new QueryValidationException({ ...meta, ...text('Invalid next token') });
      this.pages.delete(input.NextToken);
      return this.page(pending.columns, pending.rows);
    }
    const sql = input.QueryString ?? '';
    this.queries.push(sql);
    const columns = ['client', 'bucket_ms', 'requests', 'proxied', 'first_ms', 'last_ms'];
    const rows = this.answer(sql);
    // The first page is empty, as while the query still runs.
    const token = `t${++this.tokenCounter}`;
    this.pages.set(token, { columns, rows });
    return { ...meta, QueryId: `q${this.tokenCounter}`, ColumnInfo: this.columnInfo(columns), Rows: [], NextToken: token };
  }

  private page(columns: string[], rows: string[][]): QueryCommandOutput {
    const here = rows.slice(0, this.rowsPerPage);
    const rest = rows.slice(this.rowsPerPage);
    let nextToken: string | undefined;
    if (rest.length > 0) {
      nextToken = `t${++this.tokenCounter}`;
      this.pages.set(nextToken, { columns, rows: rest });
    }
    return {
      ...meta,
      QueryId: `q${this.tokenCounter}`,
      ColumnInfo: this.columnInfo(columns),
      Rows: here.map((values) => ({ Data: values.map((v) => ({ ScalarValue: v })) })),
      NextToken: nextToken,
      QueryStatus: { ProgressPercentage: rest.length > 0 ? 50 : 100 },
    };
  }

  private columnInfo(columns: string[]) {
    return columns.map((name) => ({ Name: name, Type: { ScalarType: name === 'client' ? 'VARCHAR' as const : 'BIGINT' as const } }));
  }

  /** Reads the query's conditions from its text and evaluates them on the stored rows. */
  private answer(sql: string): string[][] {
    const literal = "'((?:[^']|'')*)'";
    const unquote = (s: string) => s.replace(/''/g, "'");
    const from = sql.match(/FROM "((?:[^"]|"")*)"\."((?:[^"]|"")*)"/);
    if (!from || from[1] !== this.database || from[2] !== this.table) {
      throw new QueryValidationException({ ...meta, ...text('line 1:1: Table does not exist') });
    }
    const period = sql.match(/time BETWEEN from_milliseconds\((\d+)\) AND from_milliseconds\((\d+)\)/)!;
    const bucketMs = Number(sql.match(/bin\(time, (\d+)ms\)/)![1]);
    const routes = [...sql.match(/"route" IN \(([^)]*)\)/)![1].matchAll(new RegExp(literal, 'g'))].map((m) => unquote(m[1]));
    const exactHost = sql.match(new RegExp(`"host" = ${literal}`));
    const suffix = sql.match(new RegExp(`substr\\("host", length\\("host"\\) - (\\d+)\\) = ${literal}`));
    const path = sql.match(new RegExp(`substr\\((lower\\()?"path"\\)?, 1, (\\d+)\\) = ${literal}`));
    const minimum = Number(sql.match(/HAVING SUM\(requests\) >= (\d+)\)/)![1]);
    const matches = (row: StoredRow) => {
      const host = row.dimensions.host;
      if (row.time < Number(period[1]) || row.time > Number(period[2]) || row.measureName !== 'request') return false;
      if (!routes.includes(row.dimensions.route)) return false;
      if (exactHost && host !== unquote(exactHost[1])) return false;
      if (suffix && !(host !== undefined && host.length > suffix[2].replace(/''/g, "'").length && host.endsWith(unquote(suffix[2])))) return false;
      const rowPath = row.dimensions.path ?? '';
      if (path && !(path[1] ? rowPath.toLowerCase() : rowPath).startsWith(unquote(path[3]))) return false;
      return true;
    };
    const groups = new Map<string, { client: string; bucket: number; requests: number; proxied: number; first: number; last: number }>();
    for (const row of this.rows.filter(matches)) {
      const bucket = Math.floor(row.time / bucketMs) * bucketMs;
      const key = `${row.dimensions.client}|${bucket}`;
      const g = groups.get(key) ?? { client: row.dimensions.client, bucket, requests: 0, proxied: 0, first: row.time, last: row.time };
      g.requests++;
      if (row.dimensions.route === 'PROXY') g.proxied++;
      g.first = Math.min(g.first, row.time);
      g.last = Math.max(g.last, row.time);
      groups.set(key, g);
    }
    const totals = new Map<string, number>();
    for (const g of groups.values()) totals.set(g.client, (totals.get(g.client) ?? 0) + g.requests);
    return [...groups.values()]
      .filter((g) => totals.get(g.client)! >= minimum)
      .sort((a, b) => a.client.localeCompare(b.client) || a.bucket - b.bucket)
      .map((g) => [g.client, String(g.bucket), String(g.requests), String(g.proxied), String(g.first), String(g.last)]);
  }

  /** Routes every Timestream write and query client in this process to the fake. */
  public install(): { restore: () => void } {
    const write = mockClient(TimestreamWriteClient);
    write.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => this.writeRecords(input));
    const query = mockClient(TimestreamQueryClient);
    query.on(QueryCommand).callsFake((input: QueryCommandInput) => this.query(input));
    return { restore: () => { write.restore(); query.restore(); } };
  }
}
