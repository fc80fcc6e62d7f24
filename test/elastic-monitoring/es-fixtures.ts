/**
 * Test data shaped like real Elasticsearch 8 responses. `simulate*` compute the aggregations of the collector's
 * searches from raw documents with Elasticsearch's semantics (range bounds, null averages on empty
 * sets), so expectations can be derived from the documents by plain definitions.
 */
import { COMPARISON_OFFSETS, CollectorConfig, DEFAULT_FIELDS, DEFAULT_STATUS_VALUES } from '../../src/elastic-monitoring/runtime/config';
import { CollectionWindow, LATENCY_BUCKET_BOUNDS_MS } from '../../src/elastic-monitoring/runtime/queries';

export function testConfig(overrides: Partial<CollectorConfig> = {}): CollectorConfig {
  return {
    endpoint: 'https://waf-logs.es.example.com:9243',
    indexPattern: 'waf-logs-*',
    fields: DEFAULT_FIELDS,
    statusValues: DEFAULT_STATUS_VALUES,
    intervalMs: 300_000,
    windowMs: 300_000,
    ingestDelayMs: 60_000,
    timeoutThresholdMs: 240_000,
    apdexTMs: 30,
    topN: 15,
    namespace: 'WafGuard/Elastic',
    clusterName: 'prod',
    requestTimeoutMs: 30_000,
    credentials: { kind: 'basic', secretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:es-AbCdEf', usernameKey: 'username', passwordKey: 'password' },
    ...overrides,
  };
}

/** A WAF request document with the default field names. */
export interface WafDoc {
  readonly '@timestamp': string;
  readonly 'waf': { readonly latency_ms?: number; readonly status?: string; readonly customer?: string };
  readonly 'url': { readonly domain?: string };
  readonly 'client': { readonly ip: string };
  readonly 'http': { readonly request: { readonly bytes: number }; readonly response: { readonly bytes: number; readonly status_code: number } };
}

export function wafDoc(
  at: Date,
  latencyMs: number | undefined,
  status: string | undefined,
  host: string,
  extra: { customer?: string; ip?: string; code?: number } = {},
): WafDoc {
  return {
    '@timestamp': at.toISOString(),
    'waf': { latency_ms: latencyMs, status, customer: extra.customer ?? `customer-of-${host}` },
    'url': { domain: host },
    'client': { ip: extra.ip ?? '198.51.100.7' },
    'http': { request: { bytes: 500 }, response: { bytes: 2000, status_code: extra.code ?? 200 } },
  };
}

function get(doc: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc);
}

function num(doc: unknown, path: string): number | undefined {
  const v = get(doc, path);
  return typeof v === 'number' ? v : undefined;
}

function inRange(doc: unknown, field: string, from: Date, to: Date): boolean {
  const v = get(doc, field);
  if (typeof v !== 'string') return false;
  const t = Date.parse(v);
  return t >= from.getTime() && t < to.getTime();
}

function stats(values: number[]) {
  if (values.length === 0) return { count: 0, min: null, max: null, avg: null, sum: 0.0 };
  const sum = values.reduce((a, b) => a + b, 0);
  return { count: values.length, min: Math.min(...values), max: Math.max(...values), avg: sum / values.length, sum };
}

/** A keyed:false range aggregation over the latency buckets, with a sum per bucket, as Elasticsearch 8 renders it. */
function latencyBuckets(values: number[]) {
  const b = LATENCY_BUCKET_BOUNDS_MS;
  const fmt = (n: number) => n.toFixed(1);
  const ranges: Array<{ from?: number; to?: number }> = [{ to: b[0] }, ...b.slice(1).map((to, i) => ({ from: b[i], to })), { from: b[b.length - 1] }];
  return {
    buckets: ranges.map((r) => {
      const inside = values.filter((v) => (r.from === undefined || v >= r.from) && (r.to === undefined || v < r.to));
      return {
        key: `${r.from === undefined ? '*' : fmt(r.from)}-${r.to === undefined ? '*' : fmt(r.to)}`,
        ...(r.from === undefined ? {} : { from: r.from }),
        ...(r.to === undefined ? {} : { to: r.to }),
        doc_count: inside.length,
        sum: { value: inside.reduce((a, c) => a + c, 0) },
      };
    }),
  };
}

const shards = { total: 3, successful: 3, skipped: 0, failed: 0 };

/** The `_msearch` item Elasticsearch 8 returns for the window search over `docs`. */
export function simulateWindowItem(docs: readonly WafDoc[], config: CollectorConfig, window: CollectionWindow) {
  const f = config.fields;
  const inWindow = docs.filter((d) => inRange(d, f.timestamp, window.start, window.end));
  const latencies = inWindow.map((d) => num(d, f.latency)).filter((v): v is number => v !== undefined);
  const within = latencies.filter((l) => l <= config.timeoutThresholdMs);
  const t = config.apdexTMs;
  const statusCount = (value: string) => inWindow.filter((d) => get(d, f.status) === value).length;
  const byHost = new Map<string, WafDoc[]>();
  for (const d of inWindow) {
    const host = get(d, f.host);
    if (typeof host !== 'string') continue;
    byHost.set(host, [...(byHost.get(host) ?? []), d]);
  }
  const hostBuckets = [...byHost.entries()]
    .map(([host, hostDocs]) => {
      const ls = hostDocs.map((d) => num(d, f.latency)).filter((v): v is number => v !== undefined);
      const customers = new Map<string, number>();
      for (const d of hostDocs) {
        const c = get(d, f.customer);
        if (typeof c === 'string') customers.set(c, (customers.get(c) ?? 0) + 1);
      }
      return {
        key: host,
        doc_count: hostDocs.length,
        avg_latency: { value: ls.length ? ls.reduce((a, b) => a + b, 0) / ls.length : null },
        timeouts: { doc_count: ls.filter((l) => l > config.timeoutThresholdMs).length },
        customer: {
          doc_count_error_upper_bound: 0,
          sum_other_doc_count: Math.max(0, [...customers.values()].reduce((a, b) => a + b, 0) - Math.max(0, ...customers.values())),
          buckets: [...customers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 1).map(([key, doc_count]) => ({ key, doc_count })),
        },
        clients: { value: new Set(hostDocs.map((d) => get(d, f.clientIp))).size },
        request_bytes: { value: hostDocs.reduce((a, d) => a + (num(d, f.requestBytes) ?? 0), 0) },
        response_bytes: { value: hostDocs.reduce((a, d) => a + (num(d, f.responseBytes) ?? 0), 0) },
        server_errors: { doc_count: hostDocs.filter((d) => (num(d, f.httpStatusCode) ?? 0) >= 500).length },
      };
    })
    .sort((a, b) => (b.avg_latency.value ?? -Infinity) - (a.avg_latency.value ?? -Infinity))
    .slice(0, config.topN);
  return {
    took: 7,
    timed_out: false,
    _shards: shards,
    hits: { total: { value: inWindow.length, relation: 'eq' }, max_score: null, hits: [] },
    aggregations: {
      latency: stats(latencies),
      latency_buckets: latencyBuckets(latencies),
      within_timeout: { doc_count: within.length, latency: stats(within), latency_buckets: latencyBuckets(within) },
      apdex_satisfied: { doc_count: latencies.filter((l) => l <= t).length },
      apdex_tolerating: { doc_count: latencies.filter((l) => l > t && l <= 4 * t).length },
      status: {
        buckets: {
          allowed: { doc_count: statusCount(config.statusValues.allowed) },
          blocked: { doc_count: statusCount(config.statusValues.blocked) },
          alerted: { doc_count: statusCount(config.statusValues.alerted) },
        },
      },
      top_hosts: { doc_count_error_upper_bound: 0, sum_other_doc_count: Math.max(0, byHost.size - config.topN), buckets: hostBuckets },
    },
    status: 200,
  };
}

/** The `_msearch` item Elasticsearch 8 returns for the comparison search over `docs`. */
export function simulateComparisonItem(docs: readonly WafDoc[], config: CollectorConfig, window: CollectionWindow) {
  const f = config.fields;
  const buckets: Record<string, unknown> = {};
  for (const o of COMPARISON_OFFSETS) {
    const from = new Date(window.start.getTime() - o.offsetMs);
    const to = new Date(window.end.getTime() - o.offsetMs);
    const ls = docs.filter((d) => inRange(d, f.timestamp, from, to)).map((d) => num(d, f.latency)).filter((v): v is number => v !== undefined);
    buckets[o.label] = {
      from: from.getTime(),
      from_as_string: from.toISOString(),
      to: to.getTime(),
      to_as_string: to.toISOString(),
      doc_count: docs.filter((d) => inRange(d, f.timestamp, from, to)).length,
      avg_latency: { value: ls.length ? ls.reduce((a, b) => a + b, 0) / ls.length : null },
    };
  }
  return {
    took: 3,
    timed_out: false,
    _shards: shards,
    hits: { total: { value: 0, relation: 'gte' }, max_score: null, hits: [] },
    aggregations: { windows: { buckets } },
    status: 200,
  };
}

/** A node of `_nodes/stats?filter_path=...` as Elasticsearch 8 returns it. */
export function nodeStats(name: string, cpu: number, heap: number, totalBytes: number, availableBytes: number) {
  return {
    name,
    process: { cpu: { percent: cpu } },
    os: { cpu: { percent: cpu + 3 } },
    jvm: { mem: { heap_used_percent: heap } },
    fs: { total: { total_in_bytes: totalBytes, available_in_bytes: availableBytes } },
  };
}

export function nodesStatsBody(nodes: Record<string, unknown>, failed = 0) {
  const total = Object.keys(nodes).length + failed;
  return { _nodes: { total, successful: total - failed, failed }, cluster_name: 'waf-logs', nodes };
}

/** Elasticsearch 8's body for a 401 on a REST request. */
export function securityExceptionBody(user: string, path: string) {
  const reason = `unable to authenticate user [${user}] for REST request [${path}]`;
  const header = { 'WWW-Authenticate': ['Basic realm="security" charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'] };
  return { error: { root_cause: [{ type: 'security_exception', reason, header }], type: 'security_exception', reason, header }, status: 401 };
}

/** Elasticsearch 8's `_msearch` item for an aggregation on a text field. */
export function textFieldAggregationError(field: string) {
  const reason = `Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [${field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory.`;
  return {
    error: {
      root_cause: [{ type: 'illegal_argument_exception', reason }],
      type: 'search_phase_execution_exception',
      reason: 'all shards failed',
      phase: 'query',
      grouped: true,
      failed_shards: [{ shard: 0, index: 'waf-logs-2026.11.21', node: 'x1', reason: { type: 'illegal_argument_exception', reason } }],
      caused_by: { type: 'illegal_argument_exception', reason, caused_by: { type: 'illegal_argument_exception', reason } },
    },
    status: 400,
  };
}
