import { ANALYTICS_MEASURE_NAME, COUNTED_ROUTES } from './analytics-records';
import type { BlockCandidate, ClientRoute } from './block-store';
import { bucketMs as bucketLength, bucketsPerWindow, prefixReading, scaleToRealRequests } from './detector';
import { IpAddress, parseCidr, parseIp } from './ip';
import { loggedThreshold, overThreshold } from './sampling-bound';
import { StoredRule } from '../rule-model';

/**
 * Query detection's SQL and the reading of its answers. Pure: the detector runs the queries.
 *
 * One query per rule counts, per client and bucket (a twelfth of the rule's window, as in streaming detection), the
 * counted requests (routes DIRECT and PROXY) to the rule's host (and path prefix) over the period the run examines.
 * Clients are grouped per host, never per path, so spreading requests over many paths does not dilute a count. Only
 * clients whose total over the period reaches the rule's logged threshold (k*, see sampling-bound.ts) come back; the sliding-window
 * maximum is then computed here exactly like streaming detection's buckets.
 *
 * Every value from the rules table enters the query as a string literal with its quotes doubled, or as a number the
 * code computed: a host or path prefix can change what a literal says, never the query around it.
 */

/** A SQL string literal: the value between single quotes, each quote doubled. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier (database, table, column), each double quote doubled. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A rule's host pattern as a condition on the `host` column (already lower case, without port or trailing dot). */
function hostCondition(pattern: string): string {
  if (!pattern.startsWith('*.')) return `"host" = ${sqlString(pattern)}`;
  // A wildcard matches any subdomain, not the apex: a host longer than the suffix that ends with it. substr rather
  // than LIKE, so no character of the pattern can act as a wildcard.
  const suffix = pattern.slice(1);
  const n = [...suffix].length;
  return `length("host") > ${n} AND substr("host", length("host") - ${n - 1}) = ${sqlString(suffix)}`;
}

/** The path prefix in the form the sink writes paths: decoded once and normalised, as UTF-8 text. */
export function prefixAsWritten(pathPrefix: string): string {
  return Buffer.from(prefixReading(pathPrefix, false), 'latin1').toString('utf8');
}

/**
 * The sink writes one reading of the path (the nginx one, case kept), so this matches the prefix on it alone; a rule
 * that ignores case compares `lower("path")` with the prefix in lower case.
 */
function pathCondition(rule: StoredRule & { readonly pathPrefix: string }): string {
  const written = prefixAsWritten(rule.pathPrefix);
  const prefix = rule.pathCaseSensitive ? written : written.toLowerCase();
  const column = rule.pathCaseSensitive ? '"path"' : 'lower("path")';
  return `substr(${column}, 1, ${[...prefix].length}) = ${sqlString(prefix)}`;
}

export interface QueryTable {
  readonly database: string;
  readonly table: string;
}

/** The period a run examines, in epoch milliseconds: `fromMs` inclusive, `toMs` inclusive. */
export interface QueryPeriod {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The query of one rule: per candidate client, its buckets over the period. */
export function ruleQuery(rule: StoredRule, target: QueryTable, period: QueryPeriod, samplingRate: number): string {
  const bucket = `${bucketLength(rule.windowSeconds)}ms`;
  const conditions = [
    `time BETWEEN from_milliseconds(${Math.floor(period.fromMs)}) AND from_milliseconds(${Math.floor(period.toMs)})`,
    `measure_name = ${sqlString(ANALYTICS_MEASURE_NAME)}`,
    `"route" IN (${COUNTED_ROUTES.map(sqlString).join(', ')})`,
    hostCondition(rule.host),
    ...(rule.pathPrefix !== undefined ? [pathCondition({ ...rule, pathPrefix: rule.pathPrefix })] : []),
  ];
  return [
    'WITH buckets AS (',
    `  SELECT "client", bin(time, ${bucket}) AS bucket, COUNT(*) AS requests,`,
    '    SUM(CASE WHEN "route" = \'PROXY\' THEN 1 ELSE 0 END) AS proxied, MIN(time) AS first_at, MAX(time) AS last_at',
    `  FROM ${sqlIdentifier(target.database)}.${sqlIdentifier(target.table)}`,
    `  WHERE ${conditions.join('\n    AND ')}`,
    `  GROUP BY "client", bin(time, ${bucket})`,
    ')',
    'SELECT "client", to_milliseconds(bucket) AS bucket_ms, requests, proxied,',
    '  to_milliseconds(first_at) AS first_ms, to_milliseconds(last_at) AS last_ms',
    'FROM buckets',
    `WHERE "client" IN (SELECT "client" FROM buckets GROUP BY "client" HAVING SUM(requests) >= ${loggedThreshold(rule.threshold, samplingRate, rule.windowSeconds)})`,
    'ORDER BY "client", bucket_ms',
  ].join('\n');
}

/** One row of a rule query's answer. */
export interface BucketRow {
  readonly client: string;
  readonly bucketMs: number;
  readonly requests: number;
  readonly proxied: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

/** A column-name-keyed row from Timestream's answer; null for a NULL value. */
export type NamedRow = Readonly<Record<string, string | null>>;

/** Reads a row of the answer; undefined when a value is missing or not a number. */
export function toBucketRow(row: NamedRow): BucketRow | undefined {
  const number = (name: string) => {
    const text = row[name];
    const value = text === null || text === undefined ? NaN : Number(text);
    return Number.isFinite(value) ? value : undefined;
  };
  const client = row.client;
  const bucketMs = number('bucket_ms');
  const requests = number('requests');
  const proxied = number('proxied') ?? 0;
  const firstMs = number('first_ms');
  const lastMs = number('last_ms');
  if (!client || bucketMs === undefined || requests === undefined || firstMs === undefined || lastMs === undefined) return undefined;
  return { client, bucketMs, requests, proxied, firstMs, lastMs };
}

/** The client a `client` value names: an IPv4 address or an IPv6 prefix in CIDR form, as the sink writes them. */
export function clientAddress(text: string): IpAddress | undefined {
  if (text.includes('/')) {
    const cidr = parseCidr(text);
    if (typeof cidr === 'string' || cidr.family !== 6) return undefined;
    return { family: 6, text: cidr.text, value: cidr.network };
  }
  const ip = parseIp(text);
  return ip?.family === 4 ? ip : undefined;
}

/**
 * The clients over the rule's threshold in some window that ends at or after `newSinceMs` (windows ending earlier were
 * judged by the previous run). The window total is the largest sum of consecutive buckets a window holds, as in
 * streaming detection, judged against the rule's logged threshold like streaming detection's.
 */
export function offenders(rule: StoredRule, rows: readonly BucketRow[], samplingRate: number, newSinceMs: number): BlockCandidate[] {
  const bucketMs = bucketLength(rule.windowSeconds);
  const perWindow = bucketsPerWindow(rule.windowSeconds);
  const byClient = new Map<string, BucketRow[]>();
  for (const row of rows) {
    const list = byClient.get(row.client);
    if (list) list.push(row);
    else byClient.set(row.client, [row]);
  }
  const candidates: BlockCandidate[] = [];
  const firstNewBucket = Math.floor(newSinceMs / bucketMs);
  for (const [client, list] of byClient) {
    const ip = clientAddress(client);
    if (!ip) continue;
    const buckets = list.map((r) => ({ ...r, index: Math.floor(r.bucketMs / bucketMs) })).sort((a, b) => a.index - b.index);
    let best: { total: number; end: number; proxied: number; requests: number } | undefined;
    let tail = 0;
    let total = 0;
    let proxied = 0;
    for (let i = 0; i < buckets.length; i++) {
      total += buckets[i].requests;
      proxied += buckets[i].proxied;
      while (buckets[tail].index <= buckets[i].index - perWindow) {
        total -= buckets[tail].requests;
        proxied -= buckets[tail].proxied;
        tail++;
      }
      if (buckets[i].index >= firstNewBucket && (!best || total > best.total)) best = { total, end: i, proxied, requests: total };
    }
    if (!best) continue;
    if (!overThreshold(best.total, rule, samplingRate)) continue;
    const observed = scaleToRealRequests(best.total, samplingRate);
    candidates.push({
      rule,
      ip,
      observed,
      firstSeenMs: Math.min(...list.map((r) => r.firstMs)),
      crossedAtMs: buckets[best.end].lastMs,
      route: routeOf(best.proxied, best.requests),
    });
  }
  return candidates;
}

function routeOf(proxied: number, requests: number): ClientRoute {
  if (proxied <= 0) return 'DIRECT';
  return proxied >= requests ? 'PROXY' : 'BOTH';
}
