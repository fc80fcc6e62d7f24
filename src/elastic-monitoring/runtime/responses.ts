import { COMPARISON_OFFSETS, CollectorConfig } from './config';
import { SLOWEST_SHARE } from './queries';
import { apdexScore } from '../../shared/runtime/elastic/apdex';
import { Problem, elasticReason } from '../../shared/runtime/elastic/problems';

/** One of the slowest hosts of the window; logged, never a metric. */
export interface HostFigures {
  readonly rank: number;
  readonly host: string;
  readonly requests: number;
  readonly avgLatencyMs?: number;
  readonly timeouts: number;
  readonly serverErrors: number;
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
  readonly timeouts: number;
  readonly status: StatusCounts;
  readonly statusPercent?: StatusCounts;
  readonly apdex?: number;
  readonly topHosts: readonly HostFigures[];
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

function asObj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function at(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    const o = asObj(cur);
    if (!o) return undefined;
    cur = o[key];
  }
  return cur;
}

function finite(v: unknown): number | undefined {
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

/** An `_msearch` item that is an error (`{error, status}`) instead of a search response. */
function itemProblem(item: unknown, source: string): Problem | undefined {
  const o = asObj(item);
  if (!o) return { kind: 'response', source, message: `${source}: _msearch returned no response for this search` };
  if (o.error === undefined) return undefined;
  const reason = elasticReason(o) ?? 'unknown error';
  const status = finite(o.status);
  if (status === 401 || status === 403) {
    return { kind: 'auth', source, message: `${source}: Elasticsearch refused the search with HTTP ${status} (${reason}); grant the user read on the index pattern` };
  }
  return {
    kind: 'response',
    source,
    message: `${source}: search failed with HTTP ${status ?? '?'} (${reason}); check the index pattern and that the configured fields are keyword, numeric or date fields`,
  };
}

function guarded<T>(source: string, item: unknown, read: () => Mapped<T>): Mapped<T> {
  const failed = itemProblem(item, source);
  if (failed) return { problems: [failed] };
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

function hostFigures(bucket: unknown, rank: number): HostFigures {
  const what = 'top_hosts bucket';
  const key = required(bucket, ['key'], what);
  const customer = firstKey(at(bucket, ['customer', 'buckets']));
  return {
    rank,
    host: String(key),
    requests: count(bucket, ['doc_count'], what),
    avgLatencyMs: finite(at(bucket, ['avg_latency', 'value'])),
    timeouts: finite(at(bucket, ['timeouts', 'doc_count'])) ?? 0,
    serverErrors: finite(at(bucket, ['server_errors', 'doc_count'])) ?? 0,
    customer: customer === undefined ? undefined : String(customer),
    distinctClients: finite(at(bucket, ['clients', 'value'])),
    requestBytes: finite(at(bucket, ['request_bytes', 'value'])),
    responseBytes: finite(at(bucket, ['response_bytes', 'value'])),
  };
}

function firstKey(buckets: unknown): unknown {
  return Array.isArray(buckets) && buckets.length > 0 ? asObj(buckets[0])?.key : undefined;
}

/** Reads the window search (see windowSearchBody) into figures, and flags fields the documents do not carry. */
export function mapWindowResponse(item: unknown, config: CollectorConfig): Mapped<WindowFigures> {
  const source = 'window search';
  return guarded(source, item, () => {
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
    const hostBuckets = required(aggs, ['top_hosts', 'buckets'], what);
    if (!Array.isArray(hostBuckets)) throw new ShapeError(`${what}: top_hosts.buckets is not a list`);
    const hasLatency = latencyCount > 0;
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
      timeouts: latencyCount - withinCount,
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
        latencyCount,
      ),
      topHosts: hostBuckets.map((b, i) => hostFigures(b, i + 1)),
    };
    const problems: Problem[] = [];
    const missing = (field: string, prop: string, extra = '') =>
      problems.push({
        kind: 'missing-field',
        source,
        message: `none of the ${requests} documents in the window has ${extra}the ${prop} field "${field}"; check the ${prop} field name of the monitor`,
      });
    if (requests > 0) {
      if (latencyCount === 0) missing(config.fields.latency, 'latency', 'a numeric value in ');
      if (status.allowed + status.blocked + status.alerted === 0) {
        const values = Object.values(config.statusValues).join('/');
        missing(config.fields.status, 'status', `one of the values ${values} in `);
      }
      if (figures.topHosts.length === 0) missing(config.fields.host, 'host', 'a keyword value in ');
    }
    return { value: figures, problems };
  });
}

/** Reads the comparison search (see comparisonSearchBody): the average latency of each compared window. */
export function mapComparisonResponse(item: unknown): Mapped<ComparisonFigure[]> {
  const source = 'comparison search';
  return guarded(source, item, () => {
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

/**
 * Reads `_nodes/stats`. A node missing a figure (an old version, a node still starting, filtered stats) keeps its
 * other figures and adds a missing-field problem naming the node and the path.
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
  for (const [id, node] of Object.entries(nodes)) {
    const reported = at(node, ['name']);
    const name = typeof reported === 'string' && reported.trim() !== '' ? reported : id;
    const missing = (path: string) =>
      problems.push({ kind: 'missing-field', source: `node:${name}`, message: `node ${name} reports no ${path} in ${source}` });
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
  return { value, problems };
}
