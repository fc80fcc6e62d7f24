/**
 * Test data: WAF request documents, a cluster holding them (the query-DSL evaluator of test/support answers the
 * collector's real request bodies), and Elasticsearch 8 bodies for node stats and errors.
 */
import { CollectorConfig, DEFAULT_FIELDS, DEFAULT_STATUS_VALUES } from '../../src/elastic-monitoring/runtime/config';
import { CollectionWindow, buildMsearch } from '../../src/elastic-monitoring/runtime/queries';
import { Doc, EvaluatedCluster, IndexDefinition } from '../support/elasticsearch-evaluator';

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

/** The index the test documents live in; the collector's pattern `waf-logs-*` matches it. */
export const INDEX = 'waf-logs-2026.11.21';

/** A cluster holding `docs` in one index of three shards (round robin), unless `index` says otherwise. */
export function clusterOf(docs: readonly object[], index: Partial<IndexDefinition> = {}): EvaluatedCluster {
  return new EvaluatedCluster([{ name: INDEX, shards: 3, ...index, docs: docs as Doc[] }]);
}

/** The `_msearch` items the cluster answers to the run's searches over `docs`. */
export function msearchItems(
  docs: readonly object[],
  config: CollectorConfig,
  window: CollectionWindow,
  index: Partial<IndexDefinition> = {},
): unknown[] {
  return clusterOf(docs, index).msearch(buildMsearch(config, window)).responses;
}

/** A node of `_nodes/stats?filter_path=...` as Elasticsearch 8 returns it. */
export function nodeStats(
  name: string, cpu: number, heap: number, totalBytes: number, availableBytes: number,
  health: { oldUsedPercent?: number; searchRejected?: number; writeRejected?: number } = {},
) {
  const heapMax = 4 * 1024 ** 3;
  return {
    name,
    process: { cpu: { percent: cpu } },
    os: { cpu: { percent: cpu + 3 } },
    jvm: {
      mem: {
        heap_used_percent: heap,
        heap_max_in_bytes: heapMax,
        pools: { old: { used_in_bytes: Math.round((heapMax * (health.oldUsedPercent ?? heap - 5)) / 100), max_in_bytes: heapMax } },
      },
    },
    fs: { total: { total_in_bytes: totalBytes, available_in_bytes: availableBytes } },
    thread_pool: { search: { rejected: health.searchRejected ?? 0 }, write: { rejected: health.writeRejected ?? 0 } },
  };
}

/** `_cluster/health?filter_path=...` as Elasticsearch 8 returns it. */
export function clusterHealthBody(status: string, unassignedShards: number) {
  return { cluster_name: 'waf-logs', status, timed_out: false, number_of_nodes: 3, unassigned_shards: unassignedShards };
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

/**
 * What the figures of a window are by definition, computed with plain array operations over the documents (no query,
 * no aggregation), for checking what the collector emits.
 */
export function directFigures(docs: readonly WafDoc[], config: CollectorConfig, window: CollectionWindow) {
  const inRange = (d: WafDoc, from: number, to: number) => {
    const t = Date.parse(d['@timestamp']);
    return t >= from && t < to;
  };
  const inWindow = docs.filter((d) => inRange(d, window.start.getTime(), window.end.getTime()));
  const lat = (ds: readonly WafDoc[]) => ds.map((d) => d.waf.latency_ms).filter((v): v is number => typeof v === 'number');
  const mean = (vs: number[]) => (vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : undefined);
  const latencies = lat(inWindow);
  const within = latencies.filter((l) => l <= config.timeoutThresholdMs);
  const t = config.apdexTMs;
  const count = (value: string) => inWindow.filter((d) => d.waf.status === value).length;
  const sv = config.statusValues;
  const status = { allowed: count(sv.allowed), blocked: count(sv.blocked), alerted: count(sv.alerted) };
  const pct = (n: number) => (n / inWindow.length) * 100;
  const allowedLatencies = lat(inWindow.filter((d) => d.waf.status === config.statusValues.allowed));
  const apdexAll = latencies.length
    ? (latencies.filter((l) => l <= t).length + latencies.filter((l) => l > t && l <= 4 * t).length / 2) / latencies.length
    : undefined;
  const apdexAllowed = allowedLatencies.length
    ? (allowedLatencies.filter((l) => l < t).length + allowedLatencies.filter((l) => l >= t && l < 4 * t).length / 2) / allowedLatencies.length
    : undefined;
  const hosts = [...new Set(inWindow.map((d) => d.url.domain).filter((h): h is string => typeof h === 'string'))].map((host) => {
    const ds = inWindow.filter((d) => d.url.domain === host);
    const customers = new Map<string, number>();
    for (const d of ds) if (d.waf.customer) customers.set(d.waf.customer, (customers.get(d.waf.customer) ?? 0) + 1);
    return {
      host,
      requests: ds.length,
      avgLatencyMs: mean(lat(ds)),
      timeouts: lat(ds).filter((l) => l > config.timeoutThresholdMs).length,
      serverErrors: ds.filter((d) => d.http.response.status_code >= 500).length,
      customer: [...customers.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0],
      distinctClients: new Set(ds.map((d) => d.client.ip)).size,
      requestBytes: ds.reduce((a, d) => a + d.http.request.bytes, 0),
      responseBytes: ds.reduce((a, d) => a + d.http.response.bytes, 0),
    };
  });
  const topHosts = hosts
    .sort((a, b) => (b.avgLatencyMs ?? -Infinity) - (a.avgLatencyMs ?? -Infinity) || (a.host < b.host ? -1 : 1))
    .slice(0, config.topN)
    .map((h, i) => ({ rank: i + 1, ...h }));
  const offsets: Array<[string, number]> = [['now', 0], ['1h', 1], ['6h', 6], ['12h', 12], ['1d', 24], ['3d', 72]];
  const comparison = offsets.map(([offset, hours]) => {
    const shift = hours * 3_600_000;
    const ds = docs.filter((d) => inRange(d, window.start.getTime() - shift, window.end.getTime() - shift));
    return { offset, requests: ds.length, averageLatencyMs: ds.length ? mean(lat(ds)) : undefined };
  });
  const sortedAll = [...latencies].sort((a, b) => a - b);
  const tailMean = (sorted: number[]) => mean(sorted.slice(Math.floor(sorted.length * 0.95)));
  // Hazen's percentile (the evaluator's stated definition), written out here from the sorted latencies.
  const percentileOf = (p: number): number | undefined => {
    const n = sortedAll.length;
    if (n === 0) return undefined;
    const pos = Math.min(Math.max((p / 100) * n - 0.5, 0), n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    return sortedAll[lo] * (1 - (pos - lo)) + sortedAll[hi] * (pos - lo);
  };
  const withCode = inWindow.filter((d) => typeof d.http.response.status_code === 'number');
  const serverErrors = withCode.filter((d) => d.http.response.status_code >= 500 && d.http.response.status_code < 600).length;
  const knownStatus = new Set(Object.values(sv));
  const stamps = docs.map((d) => Date.parse(d['@timestamp']))
    .filter((ms) => ms >= window.end.getTime() - 24 * 3_600_000 && ms <= window.now.getTime());
  return {
    requests: inWindow.length,
    latencyCount: latencies.length,
    timeouts: latencies.length - within.length,
    latencyAverageMs: mean(latencies),
    latencyP95Ms: percentileOf(95),
    latencyP99Ms: percentileOf(99),
    timeoutPercent: latencies.length ? ((latencies.length - within.length) / latencies.length) * 100 : undefined,
    withoutLatency: inWindow.length - latencies.length,
    withoutStatus: inWindow.filter((d) => !knownStatus.has(d.waf.status ?? '')).length,
    serverErrorPercent: withCode.length ? (serverErrors / withCode.length) * 100 : undefined,
    newestDocumentAt: stamps.length ? new Date(stamps.reduce((a, b) => Math.max(a, b))) : undefined,
    latencyAverageWithoutTimeoutsMs: mean(within),
    slowest5PctAverageMs: tailMean(sortedAll),
    slowest5PctAverageWithoutTimeoutsMs: tailMean([...within].sort((a, b) => a - b)),
    status,
    statusPercent: inWindow.length ? { allowed: pct(status.allowed), blocked: pct(status.blocked), alerted: pct(status.alerted) } : undefined,
    apdexAllRequests: apdexAll,
    apdexAllowedRequests: apdexAllowed,
    topHosts,
    comparison,
  };
}
