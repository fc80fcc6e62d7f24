import { ElasticSourceConfig } from './config';
import { ReportPeriod } from './period';
import { apdexScore } from '../../shared/runtime/elastic/apdex';

/**
 * The report's Elasticsearch searches (pure bodies) and the shaping of their responses. Each search is sent on its
 * own, one after another: a month of WAF documents is heavy, and four sequential searches load a cluster less than
 * one big request or four parallel ones.
 */

type Json = Record<string, unknown>;

/** How far back the per-customer traffic CSVs look. */
export const TRAFFIC_DAYS = 30;
/**
 * Customers per report (a composite aggregation pages through them). Each gets a CSV, one S3 request each, and the
 * function has 5 minutes; beyond this the report keeps the customers with the most requests and says "N of about M".
 */
export const MAX_CUSTOMERS = 2_000;
/**
 * Customers per page of the ranking pass (a key and a request count each, no sub-aggregations): well under
 * `search.max_buckets` (65,535 by default).
 */
export const RANK_PAGE = 10_000;
/**
 * Pages of the ranking pass, so the largest customers are chosen among the first 250,000 by name. Each page is a pass
 * over the period's documents: this bounds the work of a run; beyond it the email says among how many they were chosen.
 */
export const MAX_RANK_PAGES = 25;
/** Customers per composite page: each brings its hosts and status codes, so a page stays well under `search.max_buckets`. */
export const CUSTOMER_PAGE = 250;
/** Hosts listed per customer (busiest first); requests on the others are counted, and the email says how many. */
export const MAX_HOSTS = 1000;
/**
 * Status codes listed per customer and per host, most frequent first. HTTP has far fewer in use, so the limit is hit only
 * by odd values; then the list says "50 of about M" and an `(other codes)` row holds the rest of the requests.
 */
export const MAX_STATUS_CODES = 50;
/** Status codes of one customer or host: a cardinality estimate, exact well above the few hundred codes HTTP has. */
const STATUS_CODE_PRECISION = 1_000;
/** Client IPs counted for "top N of about M client IPs" (HyperLogLog, close to exact below this). */
const CLIENT_IP_PRECISION = 40_000;

function range(config: ElasticSourceConfig, from: Date, to: Date): Json {
  return { range: { [config.fields.timestamp]: { gte: from.toISOString(), lt: to.toISOString(), format: 'strict_date_optional_time' } } };
}

function searchBody(config: ElasticSourceConfig, from: Date, to: Date, aggs: Json): Json {
  return { size: 0, track_total_hits: true, query: { bool: { filter: [range(config, from, to)] } }, aggs };
}

export type ElasticSearchName = 'customers' | 'timeline' | 'clientIps' | 'traffic';

export interface ElasticSearch {
  readonly name: ElasticSearchName;
  readonly body: Json;
}

/** The period the traffic CSVs cover: the 30 days ending with the report's period, or the month itself. */
export function trafficRange(period: ReportPeriod): { from: Date; to: Date } {
  if (period.kind === 'monthly') return { from: period.start, to: period.end };
  return { from: new Date(period.end.getTime() - TRAFFIC_DAYS * 86_400_000), to: period.end };
}

export function reportSearches(config: ElasticSourceConfig, period: ReportPeriod): ElasticSearch[] {
  const f = config.fields;
  const t = config.apdexTMs;
  // The count of codes only for "50 of about M" when the list is cut (`sum_other_doc_count` > 0).
  const statusAggs: Json = {
    status_codes: { terms: { field: f.httpStatusCode, size: MAX_STATUS_CODES } },
    status_code_count: { cardinality: { field: f.httpStatusCode, precision_threshold: STATUS_CODE_PRECISION } },
  };
  const hostAggs: Json = {
    ...statusAggs,
    ...(config.breachField ? { breach: { filter: { exists: { field: config.breachField } } } } : {}),
  };
  const traffic = trafficRange(period);
  // Composite, not terms: terms returns the top N and drops the rest silently; composite pages through every customer.
  const byCustomer = (aggs: Json): Json => ({
    composite: { size: CUSTOMER_PAGE, sources: [{ customer: { terms: { field: f.customer, missing_bucket: true } } }] },
    aggs,
  });
  // Only for "N of about M" when the limit is hit: HyperLogLog, close to exact below the threshold.
  const customerCount: Json = { cardinality: { field: f.customer, precision_threshold: 40_000 } };
  return [
    {
      name: 'customers',
      body: searchBody(config, period.start, period.end, {
        customers: byCustomer({
          apdex_satisfied: { filter: { range: { [f.latency]: { lte: t } } } },
          apdex_tolerating: { filter: { range: { [f.latency]: { gt: t, lte: 4 * t } } } },
          ...statusAggs,
          hosts: { terms: { field: f.host, size: MAX_HOSTS }, aggs: hostAggs },
        }),
        customer_count: customerCount,
      }),
    },
    {
      name: 'timeline',
      body: searchBody(config, period.start, period.end, {
        timeline: {
          date_histogram: {
            field: f.timestamp,
            calendar_interval: period.kind === 'daily' ? '1h' : '1d',
            time_zone: period.timeZone,
            min_doc_count: 0,
            extended_bounds: { min: period.start.getTime(), max: period.end.getTime() - 1 },
          },
          aggs: { avg_latency: { avg: { field: f.latency } } },
        },
      }),
    },
    {
      name: 'clientIps',
      body: searchBody(config, period.start, period.end, {
        client_ips: { terms: { field: f.clientIp, size: config.topClientIps } },
        client_ip_count: { cardinality: { field: f.clientIp, precision_threshold: CLIENT_IP_PRECISION } },
      }),
    },
    {
      name: 'traffic',
      body: searchBody(config, traffic.from, traffic.to, {
        customers: byCustomer({
          hosts: {
            terms: { field: f.host, size: MAX_HOSTS },
            aggs: { request_bytes: { sum: { field: f.requestBytes } }, response_bytes: { sum: { field: f.responseBytes } } },
          },
        }),
        customer_count: customerCount,
      }),
    },
  ];
}

export interface StatusShare { readonly code: string; readonly count: number; readonly share: number }
/** Set when a status-code list stopped at {@link MAX_STATUS_CODES}: of about how many codes, and the other requests. */
export interface StatusCut {
  readonly shown: number;
  readonly ofAbout: number;
  /** Requests with a code not listed (`sum_other_doc_count`). */
  readonly otherRequests: number;
  readonly otherShare: number;
}
export interface HostFigures {
  readonly host: string;
  readonly requests: number;
  readonly statusCodes: StatusShare[];
  readonly statusCut?: StatusCut;
  readonly breachHits?: number;
}
export interface CustomerFigures {
  readonly customer: string;
  readonly requests: number;
  readonly apdex?: number;
  readonly statusCodes: StatusShare[];
  readonly statusCut?: StatusCut;
  readonly hosts: HostFigures[];
  /** Requests on hosts beyond the {@link MAX_HOSTS} listed (`sum_other_doc_count`). */
  readonly unlistedHostRequests?: number;
}
export interface TimelinePoint { readonly start: number; readonly requests: number; readonly avgLatencyMs?: number }
export interface HostTraffic { readonly host: string; readonly requests: number; readonly requestBytes: number; readonly responseBytes: number }
export interface CustomerTraffic {
  readonly customer: string;
  readonly hosts: HostTraffic[];
  /** Requests on hosts beyond the {@link MAX_HOSTS} in the CSV. */
  readonly unlistedHostRequests?: number;
}

/** Set when a per-customer search stopped at {@link MAX_CUSTOMERS}: how many it has, of about how many. */
export interface CustomerCut {
  readonly shown: number;
  readonly ofAbout: number;
  /** The search failed after these customers (the error is a problem of its own) rather than reaching the limit. */
  readonly failed?: boolean;
  /** How many customers with the most requests were chosen (`shown` of them answered); without it, the first by name. */
  readonly largest?: number;
  /** The ranking stopped after this many customers by name ({@link MAX_RANK_PAGES}): the largest among them. */
  readonly rankedAmong?: number;
}

export interface ElasticSummary {
  /** `hits.total` of the customers search's first page: the period's count even when a later page fails. */
  readonly totalRequests?: number;
  /** That first page answered in part (shards failed, timed out): the count may be low. */
  readonly totalRequestsPartial?: boolean;
  readonly customers?: CustomerFigures[];
  readonly customersCut?: CustomerCut;
  readonly trafficCut?: CustomerCut;
  readonly timeline?: TimelinePoint[];
  readonly clientIps?: Array<{ readonly ip: string; readonly requests: number }>;
  /** Set when there are more client IPs than listed: of about how many, and the requests of the others. */
  readonly clientIpsCut?: { readonly ofAbout: number; readonly otherRequests: number };
  readonly traffic?: CustomerTraffic[];
  readonly trafficFrom: Date;
  readonly trafficTo: Date;
  readonly breachField?: string;
}

/** Raised when a response lacks what the report reads: the message names the search and the path. */
export class ResponseShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseShapeError';
  }
}

interface Bucket { key: unknown; key_as_string?: string; doc_count: number; [agg: string]: unknown }

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

function buckets(parent: unknown, name: string): Bucket[] {
  const agg = obj(parent)[name];
  const list = obj(agg).buckets;
  return Array.isArray(list) ? (list as Bucket[]) : [];
}

/** Documents in the terms buckets not returned; undefined when none. */
function otherCount(parent: unknown, name: string): number | undefined {
  const n = Number(obj(obj(parent)[name]).sum_other_doc_count ?? 0);
  return n > 0 ? n : undefined;
}

/** Total hits of a search response; 0 for a pattern matching no index (no `aggregations` key then). */
export function totalHits(response: unknown): number {
  const total = obj(obj(response).hits).total;
  if (typeof total === 'number') return total;
  const value = obj(total).value;
  return typeof value === 'number' ? value : 0;
}

function statusShares(parent: unknown, total: number): StatusShare[] {
  return buckets(parent, 'status_codes').map((b) => ({
    code: String(b.key_as_string ?? b.key),
    count: b.doc_count,
    share: total > 0 ? b.doc_count / total : 0,
  }));
}

/** A cut status-code list: the estimate is at least one more code than listed, as some requests have another one. */
function statusCut(parent: unknown, total: number): StatusCut | undefined {
  const other = otherCount(parent, 'status_codes');
  if (other === undefined) return undefined;
  const shown = buckets(parent, 'status_codes').length;
  const estimate = Number(obj(obj(parent).status_code_count).value ?? 0);
  return { shown, ofAbout: Math.max(estimate, shown + 1), otherRequests: other, otherShare: total > 0 ? other / total : 0 };
}

/** A composite bucket's `{ customer: ... }` key (null for documents without the field), or a terms bucket's key. */
function customerName(key: unknown): string {
  const k = typeof key === 'object' && key !== null ? (key as Json).customer : key;
  return k === null || k === undefined ? '(none)' : String(k);
}

/** Customers sorted by requests, largest first (pages come in name order). */
export function mapCustomers(response: unknown): CustomerFigures[] {
  const aggs = obj(response).aggregations;
  return buckets(aggs, 'customers').map((c) => {
    const satisfied = Number(obj(c.apdex_satisfied).doc_count ?? 0);
    const tolerating = Number(obj(c.apdex_tolerating).doc_count ?? 0);
    return {
      customer: customerName(c.key),
      requests: c.doc_count,
      apdex: apdexScore(satisfied, tolerating, c.doc_count),
      statusCodes: statusShares(c, c.doc_count),
      statusCut: statusCut(c, c.doc_count),
      unlistedHostRequests: otherCount(c, 'hosts'),
      hosts: buckets(c, 'hosts').map((h) => ({
        host: String(h.key),
        requests: h.doc_count,
        statusCodes: statusShares(h, h.doc_count),
        statusCut: statusCut(h, h.doc_count),
        breachHits: h.breach === undefined ? undefined : Number(obj(h.breach).doc_count ?? 0),
      })),
    };
  }).sort((a, b) => b.requests - a.requests || (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0));
}

export interface StatusRow extends StatusShare { readonly customer: string; readonly host: string }

/** The row that holds the requests of the codes a cut list leaves out, so a list adds up to its requests. */
export const OTHER_CODES = '(other codes)';

/** Status codes per customer (host `(all hosts)`) and per host, with an {@link OTHER_CODES} row where a list is cut. */
export function statusRows(customers: readonly CustomerFigures[]): StatusRow[] {
  const rows = (customer: string, host: string, list: StatusShare[], cut: StatusCut | undefined): StatusRow[] => [
    ...list.map((st) => ({ customer, host, ...st })),
    ...(cut ? [{ customer, host, code: OTHER_CODES, count: cut.otherRequests, share: cut.otherShare }] : []),
  ];
  return customers.flatMap((c) => [
    ...rows(c.customer, '(all hosts)', c.statusCodes, c.statusCut),
    ...c.hosts.flatMap((h) => rows(c.customer, h.host, h.statusCodes, h.statusCut)),
  ]);
}

export interface StatusCutRow extends StatusCut { readonly customer: string; readonly host: string }

/** Every cut status-code list, the customer's own (host `(all hosts)`) first: for the email's "N of about M" note. */
export function statusCuts(customers: readonly CustomerFigures[]): StatusCutRow[] {
  return customers.flatMap((c) => [
    ...(c.statusCut ? [{ customer: c.customer, host: '(all hosts)', ...c.statusCut }] : []),
    ...c.hosts.flatMap((h) => (h.statusCut ? [{ customer: c.customer, host: h.host, ...h.statusCut }] : [])),
  ]);
}

export interface HostRow extends HostFigures { readonly customer: string }

/** Requests (and breach hits) per customer and host: the email's table and its CSV. */
export function hostRows(customers: readonly CustomerFigures[]): HostRow[] {
  return customers.flatMap((c) => c.hosts.map((h) => ({ customer: c.customer, ...h })));
}

export function mapTimeline(response: unknown): TimelinePoint[] {
  return buckets(obj(response).aggregations, 'timeline').map((b) => {
    const avg = obj(b.avg_latency).value;
    return { start: Number(b.key), requests: b.doc_count, avgLatencyMs: typeof avg === 'number' ? avg : undefined };
  });
}

export function mapClientIps(response: unknown): Array<{ ip: string; requests: number }> {
  return buckets(obj(response).aggregations, 'client_ips').map((b) => ({ ip: String(b.key_as_string ?? b.key), requests: b.doc_count }));
}

/** "Of about M client IPs" when the top list leaves some out; undefined when it lists every client. */
export function mapClientIpsCut(response: unknown): ElasticSummary['clientIpsCut'] {
  const aggs = obj(response).aggregations;
  const other = otherCount(aggs, 'client_ips');
  if (other === undefined) return undefined;
  const estimate = Number(obj(obj(aggs).client_ip_count).value ?? 0);
  return { ofAbout: Math.max(estimate, buckets(aggs, 'client_ips').length + 1), otherRequests: other };
}

/** Hosts per customer, each sorted by requests, largest first. */
export function mapTraffic(response: unknown): CustomerTraffic[] {
  return buckets(obj(response).aggregations, 'customers').map((c) => ({
    customer: customerName(c.key),
    unlistedHostRequests: otherCount(c, 'hosts'),
    hosts: buckets(c, 'hosts')
      .map((h) => ({
        host: String(h.key),
        requests: h.doc_count,
        requestBytes: Number(obj(h.request_bytes).value ?? 0),
        responseBytes: Number(obj(h.response_bytes).value ?? 0),
      }))
      .sort((a, b) => b.requests - a.requests || b.responseBytes - a.responseBytes || a.host.localeCompare(b.host)),
  }));
}

/** `_shards.failed` or `timed_out`: the figures are partial, still usable, but the reader should know. */
export function partialResultWarning(name: string, response: unknown): string | undefined {
  const r = obj(response);
  const failed = Number(obj(r._shards).failed ?? 0);
  if (r.timed_out === true || failed > 0) {
    return `search "${name}" returned partial results (${failed} shard(s) failed${r.timed_out === true ? ', timed out' : ''}); figures may be low`;
  }
  return undefined;
}

/** A per-customer search paged to its end or to the limit: one response with every page's buckets. */
export interface PagedCustomers {
  /** Shaped like one search response (`hits`, `aggregations.customers.buckets`), so the mappers read it unchanged. */
  readonly response: unknown;
  /** Each page's raw response, for the partial-result check. */
  readonly pages: readonly unknown[];
  readonly cut?: CustomerCut;
  /** A page after the first failed: the customers before it are kept, `cut` says how many. */
  readonly error?: unknown;
}

/** Limits of {@link pageCustomers}; the defaults are the report's. */
export interface CustomerLimits {
  /** @default MAX_CUSTOMERS */
  readonly max?: number;
  /** @default RANK_PAGE */
  readonly rankPage?: number;
  /** @default MAX_RANK_PAGES */
  readonly rankPages?: number;
}

const customerKey = (b: Bucket): unknown => obj(b.key).customer ?? null;

/** The `customers` composite of a search body, with its page size and the customer field. */
function compositeOf(body: Json): { aggs: Json; composite: Json; pageSize: number; field: string } {
  const aggs = obj(body.aggs);
  const composite = obj(obj(aggs.customers).composite);
  const sources = Array.isArray(composite.sources) ? (composite.sources as unknown[]) : [];
  const field = String(obj(obj(obj(sources[0]).customer).terms).field);
  return { aggs, composite, pageSize: Number(composite.size ?? CUSTOMER_PAGE), field };
}

/** The cardinality estimate of the first page, plus the bucket of documents without a customer (not in it). */
function customerEstimate(firstPage: unknown, all: readonly Bucket[]): number {
  return Number(obj(obj(obj(firstPage).aggregations).customer_count).value ?? 0) + (all.some((b) => customerKey(b) === null) ? 1 : 0);
}

interface ByName { pages: unknown[]; all: Bucket[]; more: boolean; error?: unknown }

/**
 * Pages through `after_key` in name order until a short page or `max` customers; at the limit one more is asked for, to
 * know whether there is one. With `stopAbove`, stops after the first page when the estimate says there are more
 * customers than that: paging them by name would be work thrown away. A failed first page throws.
 */
async function pageByName(body: Json, send: (body: Json) => Promise<unknown>, max: number, stopAbove?: number): Promise<ByName> {
  const { aggs, composite, pageSize } = compositeOf(body);
  const { customer_count: _count, ...rest } = aggs;
  const pages: unknown[] = [];
  const all: Bucket[] = [];
  let after: unknown;
  let more = true;
  while (more && all.length <= max) {
    const size = all.length === max ? 1 : Math.min(pageSize, max - all.length);
    let response: unknown;
    try {
      response = await send({
        ...body,
        aggs: {
          ...(pages.length === 0 ? aggs : rest),
          customers: { ...obj(aggs.customers), composite: { ...composite, size, ...(after === undefined ? {} : { after }) } },
        },
      });
    } catch (error) {
      if (pages.length === 0) throw error;
      return { pages, all, more: true, error };
    }
    pages.push(response);
    const list = buckets(obj(response).aggregations, 'customers');
    if (all.length === max) {
      more = list.length > 0;
      break;
    }
    all.push(...list);
    after = obj(obj(obj(response).aggregations).customers).after_key;
    more = list.length === size && after !== undefined;
    if (more && pages.length === 1 && stopAbove !== undefined && customerEstimate(response, all) > stopAbove) break;
  }
  return { pages, all, more };
}

interface Ranking { keys: unknown[]; counted: number; complete: boolean; pages: unknown[] }

/**
 * Every customer's request count (composite pages of keys and counts only, at most `rankPages`), keeping the `max`
 * largest; among equal counts the first by name. Throws when a page fails.
 */
async function rankCustomers(body: Json, send: (body: Json) => Promise<unknown>, max: number, rankPage: number, rankPages: number): Promise<Ranking> {
  const { composite } = compositeOf(body);
  const pages: unknown[] = [];
  let top: Array<{ key: unknown; count: number }> = [];
  let counted = 0;
  let after: unknown;
  for (let n = 0; n < rankPages; n++) {
    const page = { ...composite, size: rankPage, ...(after === undefined ? {} : { after }) };
    const response = await send({ ...body, track_total_hits: false, aggs: { customers: { composite: page } } });
    pages.push(response);
    const list = buckets(obj(response).aggregations, 'customers');
    counted += list.length;
    // A stable sort: pages come in name order, so among equal counts the earlier name stays.
    top = [...top, ...list.map((b) => ({ key: customerKey(b), count: b.doc_count }))].sort((a, b) => b.count - a.count).slice(0, max);
    after = obj(obj(obj(response).aggregations).customers).after_key;
    if (list.length < rankPage || after === undefined) return { keys: top.map((t) => t.key), counted, complete: true, pages };
  }
  return { keys: top.map((t) => t.key), counted, complete: false, pages };
}

/** Documents of these customers (`null`: documents without the field). */
function customerFilter(field: string, keys: readonly unknown[]): Json {
  const named = keys.filter((k) => k !== null);
  const should: Json[] = [{ terms: { [field]: named } }];
  if (named.length < keys.length) should.push({ bool: { must_not: [{ exists: { field } }] } });
  return { bool: { should, minimum_should_match: 1 } };
}

/**
 * Pages a search with a `customers` composite aggregation through `after_key`. Up to `max` customers, that is all.
 * Beyond it, the customers kept are those with the most requests, not the first by name: a ranking pass pages through
 * every customer's request count (bounded by `rankPages`), then the full search runs again for the chosen ones only
 * (a `terms` filter). When the first page's estimate already says there are more, the paging by name stops there.
 * The cut is reported with the counted total (exact when the ranking saw every customer), else the larger of the
 * cardinality estimate and what is known to exist. A failure after the first page keeps what was answered.
 */
export async function pageCustomers(body: Json, send: (body: Json) => Promise<unknown>, limits: CustomerLimits = {}): Promise<PagedCustomers> {
  const max = limits.max ?? MAX_CUSTOMERS;
  const byName = await pageByName(body, send, max, max);
  // The first page (unfiltered) has the request total and the estimate.
  const first = obj(byName.pages[0]);
  const estimate = customerEstimate(first, byName.all);
  const result = (list: Bucket[], pages: unknown[], cut?: CustomerCut, error?: unknown): PagedCustomers =>
    ({ response: { ...first, aggregations: { customers: { buckets: list } } }, pages, cut, ...(error === undefined ? {} : { error }) });
  const failedByName = (error: unknown, pages: unknown[]) => {
    const kept = byName.all.slice(0, max);
    return result(kept, pages, { shown: kept.length, ofAbout: Math.max(estimate, kept.length + 1), failed: true }, error);
  };
  if (byName.error !== undefined) return failedByName(byName.error, byName.pages);
  if (!byName.more) return result(byName.all, byName.pages);

  let ranking: Ranking;
  try {
    ranking = await rankCustomers(body, send, max, limits.rankPage ?? RANK_PAGE, limits.rankPages ?? MAX_RANK_PAGES);
  } catch (error) {
    return failedByName(error, byName.pages);
  }
  const pages = [...byName.pages, ...ranking.pages];
  const { aggs, field } = compositeOf(body);
  const { customer_count: _count, ...rest } = aggs;
  const query = body.query === undefined ? [] : [body.query];
  const chosen: Json = { ...body, aggs: rest, query: { bool: { filter: [...query, customerFilter(field, ranking.keys)] } } };
  const ofAbout = ranking.complete ? ranking.counted : Math.max(estimate, ranking.counted + 1);
  const cut = (shown: number, failed?: boolean): CustomerCut | undefined => (ranking.complete && ranking.counted <= max && !failed ? undefined : {
    shown,
    ofAbout: Math.max(ofAbout, shown + 1),
    largest: ranking.keys.length,
    ...(ranking.complete ? {} : { rankedAmong: ranking.counted }),
    ...(failed ? { failed } : {}),
  });
  let largest: ByName;
  try {
    largest = await pageByName(chosen, send, max);
  } catch (error) {
    return failedByName(error, pages);
  }
  if (largest.error !== undefined) return result(largest.all, [...pages, ...largest.pages], cut(largest.all.length, true), largest.error);
  return result(largest.all, [...pages, ...largest.pages], cut(largest.all.length));
}
