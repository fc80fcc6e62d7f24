import { COMPARISON_OFFSETS, CollectorConfig, FieldNames } from './config';
import {
  freshnessLookbackMs,
  HOST_DETAIL_SEARCHES,
  HostDetailSearch,
  LATENCY_PERCENTS,
  SLOWEST_SHARE,
  SearchName,
  SEARCH_ORDER,
  hostShardSize,
  searchFields,
} from './queries';
import { apdexScore } from '../../shared/runtime/elastic/apdex';
import { Problem, elasticReason } from '../../shared/runtime/elastic/problems';

/** One of the slowest hosts of the window; logged, never a metric. */
export interface HostFigures {
  readonly rank: number;
  readonly host: string;
  readonly requests: number;
  readonly avgLatencyMs?: number;
  readonly timeouts: number;
  /** Absent when the host_traffic search failed, like the other details of their searches. */
  readonly serverErrors?: number;
  readonly customer?: string;
  readonly distinctClients?: number;
  readonly requestBytes?: number;
  readonly responseBytes?: number;
}

export interface StatusCounts {
  readonly allowed: number;
  readonly blocked: number;
  readonly alerted: number;
}

/** Figures of the current window. Averages, percentages and Apdex are absent (never 0) when nothing backs them. */
export interface WindowFigures {
  readonly requests: number;
  /** Requests that carry a latency. */
  readonly latencyCount: number;
  readonly latencyAverageMs?: number;
  readonly latencyAverageWithoutTimeoutsMs?: number;
  readonly slowest5PctAverageMs?: number;
  readonly slowest5PctAverageWithoutTimeoutsMs?: number;
  /** 95th and 99th percentile of the latencies (Elasticsearch's `percentiles`, TDigest: exact on small windows). */
  readonly latencyP95Ms?: number;
  readonly latencyP99Ms?: number;
  readonly timeouts: number;
  /** Timeouts among the requests with a latency, percent. */
  readonly timeoutPercent?: number;
  /** Documents without a latency value (often blocked requests): in `requests`, not in the latency figures. */
  readonly withoutLatency: number;
  /** Documents whose status is missing or none of the configured status values. */
  readonly withoutStatus: number;
  readonly status: StatusCounts;
  readonly statusPercent?: StatusCounts;
  readonly apdex?: number;
}

/** The window's HTTP answers by status code (the status_codes search). */
export interface StatusCodeFigures {
  /** Requests with an HTTP status code. */
  readonly withCode: number;
  /** Requests answered with a 5xx. */
  readonly serverErrors: number;
  /** `serverErrors` of `withCode`, percent; absent when no request has a code. */
  readonly serverErrorPercent?: number;
}

export interface ComparisonFigure {
  readonly offset: string;
  readonly requests: number;
  readonly averageLatencyMs?: number;
}

export interface NodeFigures {
  readonly id: string;
  readonly name: string;
  readonly cpuPercent?: number;
  readonly heapUsedPercent?: number;
  readonly diskFreePercent?: number;
}

export interface Mapped<T> {
  readonly value?: T;
  readonly problems: Problem[];
}

type Obj = Record<string, unknown>;

/** The value as a JSON object, or undefined. */
export function asObj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** The value at `path` inside a JSON answer, or undefined where any step is missing. */
export function at(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    const o = asObj(cur);
    if (!o) return undefined;
    cur = o[key];
  }
  return cur;
}

/** A finite number, or undefined. */
export function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Raised while reading a response whose shape is not what the request asked for. */
class ShapeError extends Error {}

function required(root: unknown, path: readonly string[], what: string): unknown {
  const v = at(root, path);
  if (v === undefined) throw new ShapeError(`${what} lacks ${path.join('.')}`);
  return v;
}

function count(root: unknown, path: readonly string[], what: string): number {
  const v = finite(required(root, path, what));
  if (v === undefined) throw new ShapeError(`${what}: ${path.join('.')} is not a number`);
  return v;
}

/** `hits.total` is `{value, relation}` in 8.x, or a number with `rest_total_hits_as_int`. */
function totalHits(item: unknown, what: string): number {
  const total = required(item, ['hits', 'total'], what);
  const n = finite(total) ?? finite(asObj(total)?.value);
  if (n === undefined) throw new ShapeError(`${what}: hits.total is not a count`);
  return n;
}

/** A latency range bucket: count and exact sum of the latencies in [from, to). */
export interface LatencyBucket {
  readonly from?: number;
  readonly to?: number;
  readonly count: number;
  readonly sum: number;
}

/**
 * Mean of the slowest `share` of the requests from range buckets (see LATENCY_BUCKET_BOUNDS_MS): whole buckets from the
 * top count exactly; in the bucket holding the boundary, the slowest values are taken as spread evenly up to the
 * bucket's upper bound (or the maximum), kept between the bucket's mean and that bound.
 */
export function slowestShareMean(
  buckets: readonly LatencyBucket[],
  max: number | undefined,
  share = SLOWEST_SHARE,
): number | undefined {
  const total = buckets.reduce((a, b) => a + b.count, 0);
  if (total <= 0) return undefined;
  const wanted = total * share;
  let need = wanted;
  let sum = 0;
  const top = [...buckets].sort((a, b) => (b.from ?? -Infinity) - (a.from ?? -Infinity));
  for (const bucket of top) {
    if (need <= 0) break;
    if (bucket.count === 0) continue;
    if (bucket.count <= need) {
      sum += bucket.sum;
      need -= bucket.count;
      continue;
    }
    const mean = bucket.sum / bucket.count;
    const upper = Math.min(bucket.to ?? Infinity, max ?? Infinity);
    const lower = bucket.from ?? 0;
    const spread = Number.isFinite(upper) ? upper - ((need / bucket.count) * (upper - lower)) / 2 : mean;
    sum += need * Math.max(mean, Math.min(upper, spread));
    need = 0;
  }
  return sum / wanted;
}

function latencyBuckets(aggs: unknown, path: readonly string[], what: string): LatencyBucket[] {
  const raw = required(aggs, [...path, 'latency_buckets', 'buckets'], what);
  if (!Array.isArray(raw)) throw new ShapeError(`${what}: ${[...path, 'latency_buckets', 'buckets'].join('.')} is not a list`);
  return raw.map((b) => ({
    from: finite(at(b, ['from'])),
    to: finite(at(b, ['to'])),
    count: count(b, ['doc_count'], what),
    sum: finite(at(b, ['sum', 'value'])) ?? 0,
  }));
}

/** Where each configuration field is set on the construct, for messages that say what to change. */
const FIELD_PROPS: Record<keyof FieldNames, string> = {
  timestamp: 'fields.timestamp',
  latency: 'fields.latencyMs',
  status: 'fields.status',
  host: 'fields.host',
  customer: 'fields.customer',
  clientIp: 'fields.clientIp',
  requestBytes: 'fields.requestBytes',
  responseBytes: 'fields.responseBytes',
  httpStatusCode: 'fields.httpStatusCode',
};

/** What an operator loses while a search fails. */
const SEARCH_FIGURES: Record<SearchName, string> = {
  window: 'request counts, latency, slowest 5%, Apdex and status split',
  top_hosts: 'the slowest-hosts table',
  host_customer: 'the customer of each slow host',
  host_clients: 'distinct clients per slow host',
  host_traffic: 'bytes and 5xx counts per slow host',
  comparison: 'latency against earlier windows',
  status_codes: 'the share of 5xx answers',
  freshness: 'the age of the newest document',
};

/**
 * A configured field Elasticsearch refused to aggregate, read from the error: `text` fields (fielddata disabled) and
 * numeric aggregations on a `keyword` field. Elasticsearch names the field in brackets in either message.
 */
function mappingProblem(errorText: string, config: CollectorConfig, search: SearchName): Problem | undefined {
  for (const key of searchFields(search)) {
    const field = config.fields[key];
    if (!errorText.includes(`[${field}]`)) continue;
    const prop = FIELD_PROPS[key];
    const text = /Text fields are not optimised|fielddata/i.test(errorText);
    const typed = /of type \[([a-z_]+)\] is not supported for aggregation/.exec(errorText);
    if (!text && !typed) continue;
    const fix = text
      ? `is a text field, which Elasticsearch cannot aggregate: set ${prop} to its keyword sub-field "${field}.keyword" (or another keyword field)`
      : `is mapped as ${typed![1]}, but ${prop} must be a numeric field: map it as long or double, or point ${prop} at a numeric field`;
    return {
      kind: 'field-mapping',
      source: `${search} search`,
      field,
      message: `the field "${field}" (${prop}) ${fix}; until then ${SEARCH_FIGURES[search]} are missing, the other figures are unaffected`,
    };
  }
  return undefined;
}

/** An `_msearch` item that is an error (`{error, status}`) instead of a search response. */
function itemProblem(item: unknown, search: SearchName, config: CollectorConfig): Problem | undefined {
  const source = `${search} search`;
  const o = asObj(item);
  if (!o) return { kind: 'response', source, message: `${source}: _msearch returned no response for this search` };
  if (o.error === undefined) return undefined;
  const reason = elasticReason(o) ?? 'unknown error';
  const status = finite(o.status);
  if (status === 401 || status === 403) {
    return { kind: 'auth', source, message: `${source}: Elasticsearch refused the search with HTTP ${status} (${reason}); grant the user read on the index pattern` };
  }
  const mapping = mappingProblem(JSON.stringify(o.error), config, search);
  if (mapping) return mapping;
  return {
    kind: 'response',
    source,
    message: `${source}: search failed with HTTP ${status ?? '?'} (${reason}); check the index pattern and that the configured fields are keyword, numeric or date fields`,
  };
}

function guarded<T>(source: string, read: () => Mapped<T>): Mapped<T> {
  try {
    return read();
  } catch (e) {
    if (e instanceof ShapeError || e instanceof RangeError) {
      return { problems: [{ kind: 'response', source, message: `${source}: unexpected response: ${e.message}` }] };
    }
    throw e;
  }
}

function percentOf(part: number, whole: number): number {
  return (part / whole) * 100;
}

function firstKey(buckets: unknown): unknown {
  return Array.isArray(buckets) && buckets.length > 0 ? asObj(buckets[0])?.key : undefined;
}

/** Figures of a window without documents: counts of zero, and no averages, percentages or Apdex. */
function emptyWindow(): WindowFigures {
  return { requests: 0, latencyCount: 0, timeouts: 0, withoutLatency: 0, withoutStatus: 0, status: { allowed: 0, blocked: 0, alerted: 0 } };
}

/**
 * A percentile from a `percentiles` answer: keyed (`{"95.0": v}`, the default and what the collector asks for) or not
 * (`[{key: 95, value: v}]`); null (no value in the window) is absent.
 */
function percentile(aggs: unknown, name: string, percent: number): number | undefined {
  const values = at(aggs, [name, 'values']);
  if (Array.isArray(values)) return finite(asObj(values.find((v) => finite(asObj(v)?.key) === percent))?.value);
  const o = asObj(values);
  if (!o) return undefined;
  const key = Object.keys(o).find((k) => Number(k) === percent);
  return key === undefined ? undefined : finite(o[key]);
}

/** Reads the window search (see windowSearchBody) into figures, and flags fields the documents do not carry. */
export function mapWindowResponse(item: unknown, config: CollectorConfig): Mapped<WindowFigures> {
  const source = 'window search';
  return guarded(source, () => {
    const what = source;
    const aggs = required(item, ['aggregations'], what);
    const requests = totalHits(item, what);
    const latencyCount = count(aggs, ['latency', 'count'], what);
    const withinCount = count(aggs, ['within_timeout', 'latency', 'count'], what);
    const status: StatusCounts = {
      allowed: count(aggs, ['status', 'buckets', 'allowed', 'doc_count'], what),
      blocked: count(aggs, ['status', 'buckets', 'blocked', 'doc_count'], what),
      alerted: count(aggs, ['status', 'buckets', 'alerted', 'doc_count'], what),
    };
    const hasLatency = latencyCount > 0;
    const [p95, p99] = LATENCY_PERCENTS;
    const timeouts = latencyCount - withinCount;
    const apdexTotal = config.apdexDefinition === 'allowedRequests'
      ? count(aggs, ['apdex_total', 'doc_count'], what)
      : latencyCount;
    const figures: WindowFigures = {
      requests,
      latencyCount,
      latencyAverageMs: hasLatency ? finite(at(aggs, ['latency', 'avg'])) : undefined,
      latencyAverageWithoutTimeoutsMs: withinCount > 0 ? finite(at(aggs, ['within_timeout', 'latency', 'avg'])) : undefined,
      slowest5PctAverageMs: hasLatency
        ? slowestShareMean(latencyBuckets(aggs, [], what), finite(at(aggs, ['latency', 'max'])))
        : undefined,
      slowest5PctAverageWithoutTimeoutsMs:
        withinCount > 0
          ? slowestShareMean(
            latencyBuckets(aggs, ['within_timeout'], what),
            finite(at(aggs, ['within_timeout', 'latency', 'max'])),
          )
          : undefined,
      latencyP95Ms: hasLatency ? percentile(aggs, 'latency_percentiles', p95) : undefined,
      latencyP99Ms: hasLatency ? percentile(aggs, 'latency_percentiles', p99) : undefined,
      timeouts,
      timeoutPercent: hasLatency ? percentOf(timeouts, latencyCount) : undefined,
      withoutLatency: count(aggs, ['without_latency', 'doc_count'], what),
      withoutStatus: count(aggs, ['without_status', 'doc_count'], what),
      status,
      statusPercent:
        requests > 0
          ? {
            allowed: percentOf(status.allowed, requests),
            blocked: percentOf(status.blocked, requests),
            alerted: percentOf(status.alerted, requests),
          }
          : undefined,
      apdex: apdexScore(
        count(aggs, ['apdex_satisfied', 'doc_count'], what),
        count(aggs, ['apdex_tolerating', 'doc_count'], what),
        apdexTotal,
      ),
    };
    return { value: figures, problems: [] };
  });
}

/**
 * Documents without a latency or status value are a figure of the window (`DocumentsWithoutLatency`,
 * `DocumentsWithoutStatus`) and a warning, not a collector error: a quiet window of a few blocked requests without a
 * latency is normal. When no document of the window has the value, the warning says to check the field name.
 */
export function missingValueNotices(w: WindowFigures, config: CollectorConfig): Notice[] {
  const notices: Notice[] = [];
  if (w.withoutLatency > 0) {
    const field = config.fields.latency;
    notices.push({
      kind: 'DocumentsWithoutLatency',
      searches: ['window'],
      message: w.withoutLatency >= w.requests
        ? `none of the ${w.requests} documents in the window has a numeric value in the latency field "${field}"; if that is not expected (e.g. only blocked requests), check fields.latencyMs`
        : `${w.withoutLatency} of the ${w.requests} documents in the window have no value in the latency field "${field}" (often blocked requests): they count in RequestCount and DocumentsWithoutLatency, not in the latency figures`,
    });
  }
  if (w.withoutStatus > 0) {
    const field = config.fields.status;
    const values = Object.values(config.statusValues).join('/');
    notices.push({
      kind: 'DocumentsWithoutStatus',
      searches: ['window'],
      message: w.withoutStatus >= w.requests
        ? `none of the ${w.requests} documents in the window has one of the values ${values} in the status field "${field}"; check fields.status and statusValues`
        : `${w.withoutStatus} of the ${w.requests} documents in the window have none of the values ${values} in the status field "${field}": they count in RequestCount and DocumentsWithoutStatus, not in the status split`,
    });
  }
  return notices;
}

/** Reads the status_codes search (see statusCodesSearchBody). */
export function mapStatusCodesResponse(item: unknown): Mapped<StatusCodeFigures> {
  const source = 'status_codes search';
  return guarded(source, () => {
    const withCode = count(item, ['aggregations', 'with_code', 'doc_count'], source);
    const serverErrors = count(item, ['aggregations', 'server_errors', 'doc_count'], source);
    return {
      value: { withCode, serverErrors, serverErrorPercent: withCode > 0 ? percentOf(serverErrors, withCode) : undefined },
      problems: [],
    };
  });
}

/** Reads the freshness search (see freshnessSearchBody): the newest document's time, absent when there is none. */
export function mapFreshnessResponse(item: unknown): Mapped<Date | undefined> {
  const source = 'freshness search';
  return guarded(source, () => {
    required(item, ['aggregations', 'newest'], source);
    const raw = at(item, ['aggregations', 'newest', 'value']);
    // A date field's max is epoch milliseconds; value_as_string is its ISO form.
    const ms = finite(raw) ?? (typeof at(item, ['aggregations', 'newest', 'value_as_string']) === 'string'
      ? Date.parse(String(at(item, ['aggregations', 'newest', 'value_as_string'])))
      : undefined);
    if (raw !== null && raw !== undefined && (ms === undefined || Number.isNaN(ms))) {
      throw new ShapeError(`${source}: aggregations.newest.value is not a time`);
    }
    return { value: ms === undefined || Number.isNaN(ms) ? undefined : new Date(ms), problems: [] };
  });
}

function missingField(field: string, prop: string, requests: number, extra: string): Problem {
  return {
    kind: 'missing-field',
    source: 'window search',
    message: `none of the ${requests} documents in the window has ${extra}the ${prop} field "${field}"; check the ${prop} field name of the monitor`,
  };
}

function hostBuckets(item: unknown, what: string): unknown[] {
  const buckets = required(item, ['aggregations', 'top_hosts', 'buckets'], what);
  if (!Array.isArray(buckets)) throw new ShapeError(`${what}: top_hosts.buckets is not a list`);
  return buckets;
}

/** The ranking of the top_hosts search, with the details of the detail searches that answered, matched by host. */
export function mapTopHosts(
  ranking: unknown,
  details: Partial<Record<HostDetailSearch, unknown>>,
): Mapped<HostFigures[]> {
  const source = 'top_hosts search';
  return guarded(source, () => {
    const byHost = new Map<string, Record<string, unknown>>();
    for (const [search, item] of Object.entries(details)) {
      for (const b of hostBuckets(item, `${search} search`)) {
        const key = String(required(b, ['key'], `${search} search`));
        byHost.set(key, { ...byHost.get(key), ...asObj(b) });
      }
    }
    const value = hostBuckets(ranking, source).map((bucket, i): HostFigures => {
      const host = String(required(bucket, ['key'], source));
      const d = byHost.get(host) ?? {};
      const customer = firstKey(at(d, ['customer', 'buckets']));
      return {
        rank: i + 1,
        host,
        requests: count(bucket, ['doc_count'], source),
        avgLatencyMs: finite(at(bucket, ['avg_latency', 'value'])),
        timeouts: finite(at(bucket, ['timeouts', 'doc_count'])) ?? 0,
        serverErrors: finite(at(d, ['server_errors', 'doc_count'])),
        customer: customer === undefined ? undefined : String(customer),
        distinctClients: finite(at(d, ['clients', 'value'])),
        requestBytes: finite(at(d, ['request_bytes', 'value'])),
        responseBytes: finite(at(d, ['response_bytes', 'value'])),
      };
    });
    return { value, problems: [] };
  });
}

/** Reads the comparison search (see comparisonSearchBody): the average latency of each compared window. */
export function mapComparisonResponse(item: unknown): Mapped<ComparisonFigure[]> {
  const source = 'comparison search';
  return guarded(source, () => {
    const buckets = required(item, ['aggregations', 'windows', 'buckets'], source);
    const figures = COMPARISON_OFFSETS.map((o) => {
      const bucket = required(buckets, [o.label], source);
      const requests = count(bucket, ['doc_count'], source);
      return {
        offset: o.label,
        requests,
        averageLatencyMs: requests > 0 ? finite(at(bucket, ['avg_latency', 'value'])) : undefined,
      };
    });
    return { value: figures, problems: [] };
  });
}

/** Something a run's figures should be read with, that is not a collector error: logged once per run as a warning. */
export type NoticeKind =
  | 'NoMatchingIndex'
  | 'PartialResults'
  | 'TopHostsApproximate'
  | 'DocumentsWithoutLatency'
  | 'DocumentsWithoutStatus'
  | 'NoRecentDocuments';

export interface Notice {
  readonly kind: NoticeKind;
  readonly message: string;
  /** The searches it concerns. */
  readonly searches: readonly SearchName[];
}

/** Everything the `_msearch` of a run gave. */
export interface SearchResults {
  readonly window?: WindowFigures;
  readonly topHosts?: readonly HostFigures[];
  readonly comparison?: readonly ComparisonFigure[];
  readonly statusCodes?: StatusCodeFigures;
  /**
   * Time of the newest document from freshnessLookbackMs before the window's end up to the run; absent when there is
   * none (a dead pipeline, a pattern matching no index) or the freshness search failed.
   */
  readonly newestDocumentAt?: Date;
  /**
   * The freshness search worked and found no document in its lookback (or the pattern matched no index): the newest
   * document is at least that old.
   */
  readonly noDocumentInLookback: boolean;
  /** The slowest-hosts ranking may miss or misjudge hosts (more distinct hosts than its shard_size). */
  readonly topHostsApproximate: boolean;
  readonly problems: readonly Problem[];
  readonly notices: readonly Notice[];
  /** Some shard failed or timed out: the figures cover part of the documents. */
  readonly partial: boolean;
}

/** A search that answered without searching any shard: its index pattern matches no index. */
function noIndex(item: unknown): boolean {
  return finite(at(item, ['_shards', 'total'])) === 0;
}

/** Why a search's figures are partial, or undefined when every shard answered in time. */
function partialReason(item: unknown): string | undefined {
  const failed = finite(at(item, ['_shards', 'failed'])) ?? 0;
  const timedOut = at(item, ['timed_out']) === true;
  if (failed <= 0 && !timedOut) return undefined;
  const parts: string[] = [];
  if (failed > 0) {
    const total = finite(at(item, ['_shards', 'total']));
    const failures = at(item, ['_shards', 'failures']);
    const first = Array.isArray(failures) ? elasticReason({ error: at(failures[0], ['reason']) }) : undefined;
    parts.push(`${failed} of ${total ?? '?'} shards failed${first ? ` (${first})` : ''}`);
  }
  if (timedOut) parts.push('the search timed out on some shards');
  return parts.join(' and ');
}

/**
 * Reads the items of the run's `_msearch` (in {@link SEARCH_ORDER}). A failed item costs only its own figures; an
 * index pattern matching no index is an empty window with one `NoMatchingIndex` notice; failed or timed-out shards
 * keep the figures but mark the run partial.
 */
export function mapSearchResponses(items: readonly unknown[], config: CollectorConfig): SearchResults {
  const item = (name: SearchName) => items[SEARCH_ORDER.indexOf(name)];
  const problems: Problem[] = [];
  const ok = new Set<SearchName>();
  const empty = new Set<SearchName>();
  const partial: string[] = [];
  for (const name of SEARCH_ORDER) {
    const failed = itemProblem(item(name), name, config);
    if (failed) {
      problems.push(failed);
      continue;
    }
    if (noIndex(item(name))) {
      empty.add(name);
      continue;
    }
    ok.add(name);
    const reason = partialReason(item(name));
    if (reason) partial.push(`${name}: ${reason}`);
  }

  let window: WindowFigures | undefined;
  if (empty.has('window')) {window = emptyWindow();} else if (ok.has('window')) {
    const mapped = mapWindowResponse(item('window'), config);
    window = mapped.value;
    for (const p of mapped.problems) problems.push(p);
  }

  const notices: Notice[] = window ? missingValueNotices(window, config) : [];
  let topHostsApproximate = false;
  let topHosts: HostFigures[] | undefined;
  if (empty.has('top_hosts')) {topHosts = [];} else if (ok.has('top_hosts')) {
    const details: Partial<Record<HostDetailSearch, unknown>> = {};
    for (const d of HOST_DETAIL_SEARCHES) if (ok.has(d)) details[d] = item(d);
    const mapped = mapTopHosts(item('top_hosts'), details);
    topHosts = mapped.value;
    for (const p of mapped.problems) problems.push(p);
    const distinct = finite(at(item('top_hosts'), ['aggregations', 'distinct_hosts', 'value']));
    const shardSize = hostShardSize(config);
    if (distinct !== undefined && distinct > shardSize) {
      topHostsApproximate = true;
      notices.push({
        kind: 'TopHostsApproximate',
        searches: ['top_hosts', ...HOST_DETAIL_SEARCHES],
        message: `the window has about ${distinct} distinct hosts, more than the ranking's shard_size of ${shardSize}: the slowest-hosts table may miss or misjudge hosts (its lines carry approximate: true); raise topHostsShardSize`,
      });
    }
    if (window && window.requests > 0 && topHosts && topHosts.length === 0) {
      problems.push(missingField(config.fields.host, 'host', window.requests, 'a keyword value in '));
    }
  }

  let comparison: ComparisonFigure[] | undefined;
  if (empty.has('comparison')) {comparison = COMPARISON_OFFSETS.map((o) => ({ offset: o.label, requests: 0 }));} else if (ok.has('comparison')) {
    const mapped = mapComparisonResponse(item('comparison'));
    comparison = mapped.value;
    for (const p of mapped.problems) problems.push(p);
  }

  let statusCodes: StatusCodeFigures | undefined;
  if (empty.has('status_codes')) {statusCodes = { withCode: 0, serverErrors: 0 };} else if (ok.has('status_codes')) {
    const mapped = mapStatusCodesResponse(item('status_codes'));
    statusCodes = mapped.value;
    for (const p of mapped.problems) problems.push(p);
  }

  let newestDocumentAt: Date | undefined;
  let noDocumentInLookback = empty.has('freshness');
  if (ok.has('freshness')) {
    const mapped = mapFreshnessResponse(item('freshness'));
    newestDocumentAt = mapped.value;
    for (const p of mapped.problems) problems.push(p);
    if (mapped.problems.length === 0 && newestDocumentAt === undefined) {
      noDocumentInLookback = true;
      notices.push({
        kind: 'NoRecentDocuments',
        searches: ['freshness'],
        message: `no document in "${config.indexPattern}" from ${Number((freshnessLookbackMs(config) / 3_600_000).toFixed(1))} h before the window's end up to now: the log pipeline may be down; NewestDocumentAgeSeconds is emitted as the lookback's length (the newest document is at least that old)`,
      });
    }
  }

  if (empty.size > 0) {
    notices.unshift({
      kind: 'NoMatchingIndex',
      searches: [...empty],
      message: `the index pattern "${config.indexPattern}" matches no index, so the window counts as empty; check indexPattern against the cluster's index names (GET _cat/indices)`,
    });
  }
  if (partial.length > 0) {
    notices.push({
      kind: 'PartialResults',
      searches: SEARCH_ORDER.filter((n) => partial.some((p) => p.startsWith(`${n}:`))),
      message: `partial results: ${partial.join('; ')}; the figures of this run cover only the shards that answered and are emitted with PartialRun = 1`,
    });
  }
  return {
    window,
    topHosts,
    comparison,
    statusCodes,
    newestDocumentAt,
    noDocumentInLookback,
    topHostsApproximate,
    problems: dedupeMappingProblems(problems),
    notices,
    partial: partial.length > 0,
  };
}

/** A field refused by several searches (a text host field fails the ranking and every detail) is one problem. */
function dedupeMappingProblems(problems: Problem[]): Problem[] {
  const byField = new Map<string, Problem[]>();
  const rest: Problem[] = [];
  for (const p of problems) {
    if (p.kind === 'field-mapping' && p.field) byField.set(p.field, [...(byField.get(p.field) ?? []), p]);
    else rest.push(p);
  }
  const merged = [...byField.values()].map((group): Problem => {
    if (group.length === 1) return group[0];
    const lost = group.map((p) => SEARCH_FIGURES[p.source.replace(/ search$/, '') as SearchName]).join(', ');
    const first = group[0].message.split('; until then')[0];
    return { ...group[0], source: group.map((p) => p.source).join(', '), message: `${first}; until then ${lost} are missing, the other figures are unaffected` };
  });
  return [...merged, ...rest];
}

/** How many node names a missing-field problem quotes, and how much of each. */
const EXAMPLE_NODES = 3;
const EXAMPLE_NODE_CHARS = 100;

/**
 * The figures nodes lack, one problem per path however many nodes lack it: a cluster of thousands of nodes (or an
 * answer faking one) must not turn into thousands of log lines and CollectorErrors counts. A problem names the node
 * when it is one, otherwise the count and a few names.
 */
export class MissingNodeFields {
  private readonly byPath = new Map<string, { count: number; examples: string[] }>();

  public constructor(private readonly source: string) {}

  public add(path: string, node: string): void {
    let gap = this.byPath.get(path);
    if (!gap) {
      gap = { count: 0, examples: [] };
      this.byPath.set(path, gap);
    }
    gap.count++;
    if (gap.examples.length < EXAMPLE_NODES) {
      gap.examples.push(node.length <= EXAMPLE_NODE_CHARS ? node : `${node.slice(0, EXAMPLE_NODE_CHARS)}...`);
    }
  }

  public problems(): Problem[] {
    return [...this.byPath].map(([path, { count: nodes, examples }]): Problem => nodes === 1
      ? { kind: 'missing-field', source: `node:${examples[0]}`, message: `node ${examples[0]} reports no ${path} in ${this.source}` }
      : {
        kind: 'missing-field',
        source: this.source,
        message: `${nodes} nodes report no ${path} in ${this.source}, e.g. ${examples.join(', ')}` +
          (nodes > examples.length ? ` and ${nodes - examples.length} more` : ''),
      });
  }
}

/**
 * Reads `_nodes/stats`. A node missing a figure (an old version, a node still starting, filtered stats) keeps its
 * other figures; each missing path is one missing-field problem naming the nodes (see {@link MissingNodeFields}).
 */
export function mapNodeStats(body: unknown): Mapped<NodeFigures[]> {
  const source = '_nodes/stats';
  const problems: Problem[] = [];
  const failed = finite(at(body, ['_nodes', 'failed'])) ?? 0;
  if (failed > 0) {
    problems.push({ kind: 'response', source, message: `${source}: ${failed} node(s) did not report stats` });
  }
  const nodes = asObj(at(body, ['nodes']));
  if (!nodes || Object.keys(nodes).length === 0) {
    problems.push({
      kind: 'response',
      source,
      message: `${source} returned no nodes; the user may lack the cluster monitor privilege`,
    });
    return { value: [], problems };
  }
  const value: NodeFigures[] = [];
  const gaps = new MissingNodeFields(source);
  for (const [id, node] of Object.entries(nodes)) {
    const reported = at(node, ['name']);
    const name = typeof reported === 'string' && reported.trim() !== '' ? reported : id;
    const missing = (path: string) => gaps.add(path, name);
    const cpuPercent = finite(at(node, ['process', 'cpu', 'percent'])) ?? finite(at(node, ['os', 'cpu', 'percent']));
    if (cpuPercent === undefined) missing('process.cpu.percent');
    const heapUsedPercent = finite(at(node, ['jvm', 'mem', 'heap_used_percent']));
    if (heapUsedPercent === undefined) missing('jvm.mem.heap_used_percent');
    const total = finite(at(node, ['fs', 'total', 'total_in_bytes']));
    const available = finite(at(node, ['fs', 'total', 'available_in_bytes']));
    let diskFreePercent: number | undefined;
    if (total !== undefined && total > 0 && available !== undefined) {
      diskFreePercent = percentOf(available, total);
    } else {
      missing('fs.total.total_in_bytes/available_in_bytes');
    }
    value.push({ id, name, cpuPercent, heapUsedPercent, diskFreePercent });
  }
  for (const p of gaps.problems()) problems.push(p);
  return { value, problems };
}
