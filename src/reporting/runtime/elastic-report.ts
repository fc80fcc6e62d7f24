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
 * Customers per report, in name order (a composite aggregation pages through them). Each gets a CSV, one S3 request
 * each, and the function has 5 minutes; beyond this the report says "N of about M customers".
 */
export const MAX_CUSTOMERS = 2_000;
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
}

export interface ElasticSummary {
  readonly totalRequests?: number;
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

/**
 * Pages a search with a `customers` composite aggregation through `after_key` until a short page or `max` customers.
 * At the limit one more customer is asked for: when there is one, the cut is reported with the larger of the
 * cardinality estimate and what is known to exist.
 */
export async function pageCustomers(body: Json, send: (body: Json) => Promise<unknown>, max = MAX_CUSTOMERS): Promise<PagedCustomers> {
  const aggs = obj(body.aggs);
  const composite = obj(obj(aggs.customers).composite);
  const pageSize = Number(composite.size ?? CUSTOMER_PAGE);
  const pages: unknown[] = [];
  const all: Bucket[] = [];
  let after: unknown;
  let more = true;
  while (more && all.length <= max) {
    const size = all.length === max ? 1 : Math.min(pageSize, max - all.length);
    const { customer_count: _count, ...rest } = aggs;
    const pageAggs = pages.length === 0 ? aggs : rest;
    let response: unknown;
    try {
      response = await send({
        ...body,
        aggs: { ...pageAggs, customers: { ...obj(aggs.customers), composite: { ...composite, size, ...(after === undefined ? {} : { after }) } } },
      });
    } catch (error) {
      // Without the first page there is nothing to keep; after it, the customers so far are real figures, said as N of M.
      if (pages.length === 0) throw error;
      const first = obj(pages[0]);
      const counted = Number(obj(obj(first.aggregations).customer_count).value ?? 0) + (all.some((b) => obj(b.key).customer === null) ? 1 : 0);
      return {
        response: { ...first, aggregations: { customers: { buckets: all } } },
        pages,
        cut: { shown: all.length, ofAbout: Math.max(counted, all.length + 1), failed: true },
        error,
      };
    }
    pages.push(response);
    const agg = obj(obj(obj(response).aggregations).customers);
    const list = buckets(obj(response).aggregations, 'customers');
    if (all.length === max) {
      more = list.length > 0;
      break;
    }
    all.push(...list);
    after = agg.after_key;
    more = list.length === size && after !== undefined;
  }
  const first = obj(pages[0]);
  // The cardinality leaves out documents without a customer; composite puts their bucket (null key) first.
  const unnamed = all.some((b) => obj(b.key).customer === null) ? 1 : 0;
  const estimate = Number(obj(obj(first.aggregations).customer_count).value ?? 0) + unnamed;
  return {
    response: { ...first, aggregations: { customers: { buckets: all } } },
    pages,
    cut: more ? { shown: all.length, ofAbout: Math.max(estimate, all.length + 1) } : undefined,
  };
}
