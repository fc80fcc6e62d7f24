import * as fc from 'fast-check';
import {
  WafDoc,
  clusterOf,
  directFigures,
  clusterHealthBody,
  nodeStats,
  nodesStatsBody,
  securityExceptionBody,
  testConfig,
  wafDoc,
} from './es-fixtures';
import { FakeEngine, MockCluster, collectOver, refused, timedOut, unauthorized } from './mock-cluster';
import { freshnessThresholdSeconds } from '../../src/elastic-monitoring/alarm-defaults';
import { collect } from '../../src/elastic-monitoring/runtime/collector';
import { CollectorConfig, EngineConfig } from '../../src/elastic-monitoring/runtime/config';
import { collectorTransport, searchClient } from '../../src/elastic-monitoring/runtime/elastic-client';
import { SEARCH_ORDER, collectionWindow, topHostsSearchBody } from '../../src/elastic-monitoring/runtime/queries';
import { headerAuthenticator, sigV4Authenticator } from '../../src/elastic-monitoring/runtime/request-auth';
import { Log } from '../../src/shared/runtime/telemetry';
import { IndexDefinition } from '../support/elasticsearch-evaluator';

const config = testConfig({ endpoint: 'https://waf-logs.es.example.com:9243', topN: 3 });
const TEST_AWS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'eu-west-1' };

/** The engines the suite runs against: the same tests, each fake answering as its product does. */
const ENGINES: ReadonlyArray<{ readonly fake: FakeEngine; readonly engine: EngineConfig; readonly signed: boolean }> = [
  { fake: 'elasticsearch-8', engine: { kind: 'elasticsearch' }, signed: false },
  { fake: 'elasticsearch-7.17', engine: { kind: 'elasticsearch' }, signed: false },
  { fake: 'opensearch-2', engine: { kind: 'opensearch' }, signed: false },
  { fake: 'amazon-opensearch-service', engine: { kind: 'amazon-opensearch-service', region: 'eu-west-1' }, signed: true },
];
const now = new Date('2026-11-21T12:07:30Z');
const window = collectionWindow(now, config);

interface LogLine { level: string; message: string; attributes: Record<string, any> }

function recorder() {
  const logs: LogLine[] = [];
  const emf: any[] = [];
  const logger: Log = {
    info: (message, attributes) => logs.push({ level: 'info', message, attributes: attributes ?? {} }),
    warn: (message, attributes) => logs.push({ level: 'warn', message, attributes: attributes ?? {} }),
    error: (message, attributes) => logs.push({ level: 'error', message, attributes: attributes ?? {} }),
  };
  // Parsed back from the written line, as CloudWatch Logs would.
  const writeEmf = (line: string) => emf.push(JSON.parse(line));
  return { logs, emf, logger, writeEmf };
}

/** One run of the collector over HTTP against `cluster` served as `fake`, authenticated as that engine needs. */
async function runAgainst(
  target: (typeof ENGINES)[number],
  cluster: MockCluster,
  overrides: Partial<CollectorConfig> = {},
  at: Date = now,
  maxLoggedProblems?: number,
) {
  const r = recorder();
  const server = await cluster.listen({ engine: target.fake, sigV4: target.signed ? TEST_AWS : undefined });
  try {
    const cfg: CollectorConfig = {
      ...config,
      endpoint: server.endpoint,
      allowInsecureHttp: true,
      engine: target.engine,
      ...(target.signed ? { credentials: undefined } : {}),
      ...overrides,
    };
    const authenticate = target.signed
      ? sigV4Authenticator('es', TEST_AWS.region, { accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: TEST_AWS.secretAccessKey })
      : headerAuthenticator({ username: 'waf-monitor', password: 's3cret' });
    const transport = collectorTransport(cfg, authenticate);
    const summary = await collect({
      client: searchClient(transport), config: cfg, now: at, logger: r.logger, writeEmf: r.writeEmf, maxLoggedProblems,
    });
    transport.close();
    return { ...r, summary, endpoint: server.endpoint };
  } finally {
    await server.close();
  }
}

/** Metrics of the EMF line whose dimensions are exactly `dims`, keyed by metric name. */
function emfValues(emf: any[], dims: Record<string, string>): Record<string, number> {
  const line = emf.find((l) => {
    const names: string[] = l._aws.CloudWatchMetrics[0].Dimensions[0];
    return names.length === Object.keys(dims).length && names.every((n) => l[n] === dims[n]);
  });
  if (!line) throw new Error(`no EMF line with dimensions ${JSON.stringify(dims)}`);
  return Object.fromEntries(line._aws.CloudWatchMetrics[0].Metrics.map((m: any) => [m.Name, line[m.Name]]));
}

const statuses = ['allowed', 'allowed', 'blocked', 'alerted'];
const docs: WafDoc[] = Array.from({ length: 400 }, (_, i) =>
  wafDoc(new Date(window.start.getTime() + i * 700), i % 100 === 0 ? 250_000 : 10 + (i % 7) * 10, statuses[i % 4], `h${i % 5}.example.com`),
);
const earlier = [wafDoc(new Date(window.start.getTime() - 3_600_000 + 1000), 33, 'allowed', 'h1.example.com')];
const healthyNodes = nodesStatsBody({
  Xy1: nodeStats('es-hot-1', 41, 63, 1000, 150),
  Xy2: nodeStats('es-hot-2', 87, 72, 1000, 600),
});

function healthyCluster(index: Partial<IndexDefinition> = {}, documents: readonly WafDoc[] = [...docs, ...earlier]) {
  return new MockCluster().serve(clusterOf(documents, index)).onNodesStats(() => healthyNodes);
}

describe('freshness over an empty index, for any schedule the construct accepts', () => {
  const MINUTE = 60_000;
  // Whole minutes up to a day; the window from the interval up to a day (often exactly a day, the longest); a delay of
  // up to an hour.
  const schedule = fc.integer({ min: 1, max: 1440 }).chain((intervalMin) => fc.record({
    intervalMs: fc.constant(intervalMin * MINUTE),
    windowMs: fc.oneof(fc.constant(1440 * MINUTE), fc.integer({ min: intervalMin, max: 1440 }).map((m) => m * MINUTE)),
    ingestDelayMs: fc.integer({ min: 0, max: 3600 }).map((s) => s * 1000),
    offsetMs: fc.integer({ min: 0, max: 86_399 }).map((s) => s * 1000),
  }));

  test('the age emitted when no document is found lies above the default freshness threshold, so a dead pipeline alarms', async () => {
    await fc.assert(fc.asyncProperty(schedule, async ({ intervalMs, windowMs, ingestDelayMs, offsetMs }) => {
      const cfg: CollectorConfig = { ...config, intervalMs, windowMs, ingestDelayMs };
      const r = recorder();
      const at = new Date(Date.parse('2026-11-21T00:00:00Z') + offsetMs);
      const empty = new MockCluster().serve(clusterOf([])).onNodesStats(() => healthyNodes);
      await collectOver(empty, { config: cfg, now: at, logger: r.logger, writeEmf: r.writeEmf });
      const age = emfValues(r.emf, { Cluster: 'prod' }).NewestDocumentAgeSeconds;
      expect(age).toBeGreaterThan(freshnessThresholdSeconds(intervalMs, windowMs, ingestDelayMs));
    }), { numRuns: 30 });
  });
});

describe.each(ENGINES)('collector against $fake', (target) => {
  const run = (cluster: MockCluster, overrides: Partial<CollectorConfig> = {}, at: Date = now) => runAgainst(target, cluster, overrides, at);

  test('a healthy run makes exactly three round trips: _msearch with every search, _nodes/stats and _cluster/health', async () => {
    const cluster = healthyCluster();
    await run(cluster);
    expect(cluster.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /_cluster/health',
      'GET /_nodes/stats/process,os,jvm,fs,thread_pool',
      'POST /_msearch',
    ]);
    expect(cluster.requests.find((r) => r.path.startsWith('/_nodes'))!.querystring).toContain('filter_path=');
    expect(cluster.requests.find((r) => r.path.startsWith('/_cluster'))!.querystring).toContain('filter_path=');
    const body = cluster.msearchBodies[0] as any[];
    expect(body).toHaveLength(2 * SEARCH_ORDER.length);
    expect(body[0].index).toBe('waf-logs-*');
    expect(Object.keys(body[1].aggs)).toEqual(expect.arrayContaining(['latency', 'within_timeout', 'status']));
    expect(body[3].aggs.top_hosts.terms.shard_size).toBe(5_000);
    expect(body[11].aggs.windows.date_range.ranges).toHaveLength(6);
  });

  test('emits the window figures as EMF with the window timestamp', async () => {
    const { emf, summary } = await run(healthyCluster());
    expect(summary.problems).toEqual([]);
    for (const line of emf) {
      expect(line._aws.Timestamp).toBe(window.timestamp.getTime());
      expect(line._aws.CloudWatchMetrics[0].Namespace).toBe('WafGuard/Elastic');
    }
    const cluster = emfValues(emf, { Cluster: 'prod' });
    const latencies = docs.map((d) => d.waf.latency_ms!);
    const within = latencies.filter((l) => l <= 240_000);
    expect(cluster.RequestCount).toBe(400);
    expect(cluster.TimeoutCount).toBe(4);
    expect(cluster.LatencyAverage).toBeCloseTo(latencies.reduce((a, b) => a + b, 0) / 400, 6);
    expect(cluster.LatencyAverageWithoutTimeouts).toBeCloseTo(within.reduce((a, b) => a + b, 0) / within.length, 6);
    // The slowest 5% (20 requests) are the 4 timeouts and 16 of the 70 ms requests.
    expect(cluster.LatencySlowest5PctAverage).toBeGreaterThan((4 * 250_000 + 16 * 70) / 20 - 1);
    expect(cluster.LatencySlowest5PctAverage).toBeLessThan((4 * 250_000 + 16 * 75) / 20);
    // ...and without timeouts, 19.8 of the 70 ms requests: estimated within the 60-75 ms bucket, within 2%.
    expect(Math.abs(cluster.LatencySlowest5PctAverageWithoutTimeouts - 70) / 70).toBeLessThan(0.02);
    expect([cluster.AllowedCount, cluster.BlockedCount, cluster.AlertedCount]).toEqual([200, 100, 100]);
    expect([cluster.AllowedPercent, cluster.BlockedPercent, cluster.AlertedPercent]).toEqual([50, 25, 25]);
    const t = 30;
    const apdex = (latencies.filter((l) => l <= t).length + latencies.filter((l) => l > t && l <= 4 * t).length / 2) / 400;
    expect(cluster.Apdex).toBeCloseTo(apdex, 10);
    expect(cluster.NodeCpuPercentMax).toBe(87);
    expect(cluster.NodeHeapUsedPercentMax).toBe(72);
    expect(cluster.NodeDiskFreePercentMin).toBe(15);
    expect(cluster.CollectorErrors).toBe(0);
    expect(cluster.PartialRun).toBe(0);
  });

  test('every emitted window figure equals a direct computation over the documents', async () => {
    const { emf } = await run(healthyCluster());
    const d = directFigures([...docs, ...earlier], config, window);
    const c = emfValues(emf, { Cluster: 'prod' });
    expect([c.RequestCount, c.TimeoutCount, c.AllowedCount, c.BlockedCount, c.AlertedCount])
      .toEqual([d.requests, d.timeouts, d.status.allowed, d.status.blocked, d.status.alerted]);
    expect(c.LatencyAverage).toBeCloseTo(d.latencyAverageMs!, 9);
    expect(c.LatencyAverageWithoutTimeouts).toBeCloseTo(d.latencyAverageWithoutTimeoutsMs!, 9);
    // estimated from range buckets: within 2% of the exact tail means
    expect(Math.abs(c.LatencySlowest5PctAverage / d.slowest5PctAverageMs! - 1)).toBeLessThan(0.02);
    expect(Math.abs(c.LatencySlowest5PctAverageWithoutTimeouts / d.slowest5PctAverageWithoutTimeoutsMs! - 1)).toBeLessThan(0.02);
    expect([c.AllowedPercent, c.BlockedPercent, c.AlertedPercent])
      .toEqual([d.statusPercent!.allowed, d.statusPercent!.blocked, d.statusPercent!.alerted]);
    expect(c.Apdex).toBeCloseTo(d.apdexAllRequests!, 12);
    expect(c.LatencyP95).toBeCloseTo(d.latencyP95Ms!, 9);
    expect(c.LatencyP99).toBeCloseTo(d.latencyP99Ms!, 9);
    expect(c.TimeoutPercent).toBeCloseTo(d.timeoutPercent!, 12);
    expect(c.ServerErrorPercent).toBeCloseTo(d.serverErrorPercent!, 12);
    expect([c.DocumentsWithoutLatency, c.DocumentsWithoutStatus]).toEqual([d.withoutLatency, d.withoutStatus]);
    expect(c.NewestDocumentAgeSeconds).toBe((now.getTime() - d.newestDocumentAt!.getTime()) / 1000);
    for (const offset of d.comparison) {
      if (offset.averageLatencyMs === undefined) continue;
      expect(emfValues(emf, { Cluster: 'prod', Offset: offset.offset }).LatencyAverageByOffset).toBeCloseTo(offset.averageLatencyMs, 9);
    }
  });

  describe('top hosts on several shards', () => {
    // A host slow in one request on shard 0 and fast in 100 requests on shard 1, where 12 other hosts are slower on
    // average: with the terms aggregation's default shard_size (3 x 1.5 + 10 = 14) shard 1 leaves it out, and the
    // merged bucket would be only shard 0's one slow request.
    const at = (i: number) => new Date(window.start.getTime() + i * 100);
    const layout: Array<{ doc: WafDoc; shard: number }> = [
      { doc: wafDoc(at(0), 5_000, 'allowed', 'trap.example.com'), shard: 0 },
      ...Array.from({ length: 100 }, (_, i) => ({ doc: wafDoc(at(i + 1), 2, 'allowed', 'trap.example.com', { ip: `203.0.113.${i}` }), shard: 1 })),
      ...Array.from({ length: 14 }, (_, i) => ({ doc: wafDoc(at(200 + i), 100 + i, 'allowed', `slow-${i}.example.com`), shard: 1 })),
      ...Array.from({ length: 30 }, (_, i) => ({ doc: wafDoc(at(300 + i), 40 + i, 'allowed', `other-${i % 10}.example.com`, { code: i % 4 === 0 ? 502 : 200 }), shard: i % 3 })),
    ];
    const layoutDocs = layout.map((l) => l.doc);
    const index = { shards: 3, shardOf: (_doc: unknown, i: number) => layout[i].shard };

    test('the logged ranking and every per-host figure equal a direct computation', async () => {
      const { logs } = await run(healthyCluster(index, layoutDocs));
      const logged = logs.filter((l) => l.attributes.event === 'top-host').map((l) => {
        const { event, windowStart, windowEnd, ...figures } = l.attributes;
        return figures;
      });
      const expected = directFigures(layoutDocs, config, window).topHosts;
      expect(logged).toEqual(expected.map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined))));
      expect(logged.map((h) => h.host)).toEqual(['slow-13.example.com', 'slow-12.example.com', 'slow-11.example.com']);
    });

    test('the same search without shard_size ranks the trap host first with one request: the bound is what makes it exact', () => {
      const body = topHostsSearchBody(config, window) as any;
      delete body.aggs.top_hosts.terms.shard_size;
      const answer = clusterOf(layoutDocs, index).search('waf-logs-*', body);
      expect(answer.aggregations.top_hosts.buckets[0]).toEqual(expect.objectContaining({ key: 'trap.example.com', doc_count: 1 }));
    });
  });

  test('an index pattern matching no index: an empty window, one NoMatchingIndex warning, no collector error', async () => {
    const { emf, logs, summary } = await run(healthyCluster({ name: 'waf-archive-2026' }));
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values).toEqual(expect.objectContaining({ RequestCount: 0, TimeoutCount: 0, AllowedCount: 0, CollectorErrors: 0, PartialRun: 0 }));
    expect(values).not.toHaveProperty('LatencyAverage');
    expect(summary.problems).toEqual([]);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    const warnings = logs.filter((l) => l.attributes.event === 'collector-warning');
    expect(warnings.map((w) => w.attributes.kind)).toEqual(['NoMatchingIndex']);
    expect(warnings[0].attributes.indexPattern).toBe('waf-logs-*');
    expect(logs.filter((l) => l.attributes.event === 'empty-window')).toHaveLength(1);
  });

  test('a failed shard: the figures of the other shards are emitted with PartialRun 1, and the run says so', async () => {
    const { emf, logs, summary } = await run(healthyCluster({ failedShards: [1] }));
    const surviving = [...docs, ...earlier].filter((_, i) => i % 3 !== 1);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values.PartialRun).toBe(1);
    expect(values.CollectorErrors).toBe(0);
    expect(values.RequestCount).toBe(directFigures(surviving, config, window).requests);
    expect(summary.partial).toBe(true);
    const warning = logs.find((l) => l.attributes.event === 'collector-warning')!;
    expect(warning.attributes.kind).toBe('PartialResults');
    expect(warning.message).toContain('1 of 3 shards failed');
    const hosts = logs.filter((l) => l.attributes.event === 'top-host');
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((h) => h.attributes.partial === true)).toBe(true);
  });

  test('per node and per compared window, one EMF line each with its own dimension', async () => {
    const { emf } = await run(healthyCluster());
    expect(emfValues(emf, { Cluster: 'prod', Node: 'es-hot-1' })).toEqual({ NodeCpuPercent: 41, NodeHeapUsedPercent: 63, NodeDiskFreePercent: 15, NodeJvmMemoryPressure: expect.closeTo(58, 6) });
    expect(emfValues(emf, { Cluster: 'prod', Node: 'es-hot-2' })).toEqual({ NodeCpuPercent: 87, NodeHeapUsedPercent: 72, NodeDiskFreePercent: 60, NodeJvmMemoryPressure: expect.closeTo(67, 6) });
    expect(emfValues(emf, { Cluster: 'prod', Offset: '1h' })).toEqual({ LatencyAverageByOffset: 33 });
    // no traffic 6 hours ago: no datapoint rather than a zero
    expect(() => emfValues(emf, { Cluster: 'prod', Offset: '6h' })).toThrow(/no EMF line/);
    expect(emfValues(emf, { Cluster: 'prod', Offset: 'now' }).LatencyAverageByOffset)
      .toBeCloseTo(emfValues(emf, { Cluster: 'prod' }).LatencyAverage, 6);
  });

  test('top-N hosts go to the log as structured events, not to metrics', async () => {
    const { logs, emf } = await run(healthyCluster());
    const top = logs.filter((l) => l.attributes.event === 'top-host');
    expect(top.map((l) => l.attributes.rank)).toEqual([1, 2, 3]);
    expect(top[0].attributes).toEqual(expect.objectContaining({
      host: 'h0.example.com', // every 100th request (a timeout) is on h0
      requests: 80,
      timeouts: 4,
      windowStart: '2026-11-21T12:00:00.000Z',
      windowEnd: '2026-11-21T12:05:00.000Z',
    }));
    expect(JSON.stringify(emf)).not.toContain('example.com');
  });

  test('an empty window emits zero counts but no averages, percentages or Apdex, and says so', async () => {
    const cluster = healthyCluster({}, []);
    const { emf, logs, summary } = await run(cluster);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values).toEqual(expect.objectContaining({
      RequestCount: 0, AllowedCount: 0, BlockedCount: 0, AlertedCount: 0, TimeoutCount: 0, CollectorErrors: 0,
    }));
    for (const absent of ['LatencyAverage', 'LatencyAverageWithoutTimeouts', 'LatencySlowest5PctAverage', 'Apdex', 'BlockedPercent']) {
      expect(values).not.toHaveProperty(absent);
    }
    expect(summary.problems).toEqual([]);
    expect(logs.find((l) => l.attributes.event === 'empty-window')?.level).toBe('warn');
  });

  test('401 on every request: a clear auth log line per request, CollectorErrors 3, no retries, no throw', async () => {
    const cluster = new MockCluster()
      .onMsearch(() => unauthorized(securityExceptionBody('waf-monitor', '/_msearch')))
      .onNodesStats(() => unauthorized(securityExceptionBody('waf-monitor', '/_nodes/stats/process,os,jvm,fs,thread_pool')))
      .onClusterHealth(() => unauthorized(securityExceptionBody('waf-monitor', '/_cluster/health')));
    const { emf, logs, summary } = await run(cluster);
    expect(cluster.requests).toHaveLength(3);
    expect(summary.problems.map((p) => p.kind)).toEqual(['auth', 'auth', 'auth']);
    expect(summary.problems.map((p) => p.source)).toEqual(['_msearch', '_nodes/stats', '_cluster/health']);
    const errorsLogged = logs.filter((l) => l.level === 'error');
    expect(errorsLogged).toHaveLength(3);
    expect(errorsLogged[0].attributes).toEqual(expect.objectContaining({ event: 'collector-error', kind: 'auth', source: '_msearch' }));
    expect(errorsLogged[0].message).toContain('HTTP 401');
    // Elasticsearch names the user; the OpenSearch security plugin answers a bare "Unauthorized".
    expect(errorsLogged[0].message).toContain(target.fake.startsWith('elasticsearch') ? 'unable to authenticate user [waf-monitor]' : 'Unauthorized');
    expect(errorsLogged[0].message).toContain(target.signed ? "check that the collector's role may call es:ESHttpGet" : 'check the credentials in the secret');
    expect(emfValues(emf, { Cluster: 'prod' })).toEqual({ CollectorErrors: 3 });
    expect(emf).toHaveLength(1);
  });

  test('a timeout of _msearch is not retried; node figures still arrive', async () => {
    const cluster = new MockCluster().onMsearch(() => timedOut()).onNodesStats(() => healthyNodes).onClusterHealth(() => clusterHealthBody('green', 0));
    const { emf, summary, logs } = await run(cluster, { requestTimeoutMs: 300 });
    expect(cluster.requests.filter((r) => r.path === '/_msearch')).toHaveLength(1);
    expect(summary.problems).toEqual([expect.objectContaining({ kind: 'timeout', source: '_msearch' })]);
    expect(logs.find((l) => l.level === 'error')!.message).toMatch(/timed out/);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values.CollectorErrors).toBe(1);
    expect(values.NodeCpuPercentMax).toBe(87);
    expect(values).not.toHaveProperty('RequestCount');
  });

  test('a connection dropped by the cluster is reported as unreachable, without retries (the next run is the retry)', async () => {
    const cluster = new MockCluster()
      .onMsearch(() => refused('10.0.3.7:9243'))
      .onNodesStats(() => refused('10.0.3.7:9243'))
      .onClusterHealth(() => refused('10.0.3.7:9243'));
    const { summary } = await run(cluster);
    expect(cluster.requests).toHaveLength(3);
    expect(summary.problems.map((p) => p.kind)).toEqual(['unreachable', 'unreachable', 'unreachable']);
    expect(summary.problems[0].message).toContain('ECONNRESET');
    expect(summary.problems[0].message).toContain('security groups');
  });

  test('a port nobody listens on is reported as unreachable with ECONNREFUSED', async () => {
    const closed = await new MockCluster().listen({ engine: target.fake });
    await closed.close();
    const r = recorder();
    const cfg: CollectorConfig = { ...config, endpoint: closed.endpoint, allowInsecureHttp: true, engine: target.engine };
    const transport = collectorTransport(cfg, headerAuthenticator({ username: 'waf-monitor', password: 's3cret' }));
    const summary = await collect({ client: searchClient(transport), config: cfg, now, logger: r.logger, writeEmf: r.writeEmf });
    transport.close();
    expect(summary.problems.map((p) => p.kind)).toEqual(['unreachable', 'unreachable', 'unreachable']);
    expect(summary.problems[0].message).toContain('ECONNREFUSED');
  });

  test('a text host field and missing node fields count as collector errors; every other figure is still emitted', async () => {
    const cluster = new MockCluster()
      .serve(clusterOf(docs, { mappings: { 'url.domain': 'text' } }))
      .onNodesStats(() => nodesStatsBody({ Xy1: nodeStats('es-hot-1', 41, 63, 1000, 150), Xy3: { name: 'es-warm-1', jvm: { mem: { heap_used_percent: 50 } } } }));
    const { emf, summary, logs } = await run(cluster);
    expect(summary.problems.map((p) => `${p.kind}:${p.source}`)).toEqual([
      'field-mapping:top_hosts search, host_customer search, host_clients search, host_traffic search',
      'missing-field:node:es-warm-1',
      'missing-field:node:es-warm-1',
      // and the health figures it lacks: old-generation pool, search and write rejection counters
      'missing-field:node:es-warm-1',
      'missing-field:node:es-warm-1',
      'missing-field:node:es-warm-1',
    ]);
    const error = logs.find((l) => l.attributes.kind === 'field-mapping')!;
    expect(error.message).toContain('"url.domain" (fields.host) is a text field');
    expect(error.message).toContain('"url.domain.keyword"');
    expect(logs.filter((l) => l.attributes.event === 'top-host')).toEqual([]);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values.CollectorErrors).toBe(6);
    expect(values.RequestCount).toBe(400);
    expect(values.Apdex).toBeCloseTo(directFigures(docs, config, window).apdexAllRequests!, 12);
    expect(values.NodeCpuPercentMax).toBe(41);
    expect(emfValues(emf, { Cluster: 'prod', Node: 'es-warm-1' })).toEqual({ NodeHeapUsedPercent: 50 });
    expect(emfValues(emf, { Cluster: 'prod', Offset: 'now' }).LatencyAverageByOffset).toBeGreaterThan(0);
  });

  describe('a dead log pipeline (documents stop at 11:55)', () => {
    const stop = Date.parse('2026-11-21T11:55:00Z');
    // one request every 2 s from 11:00 until the pipeline dies
    const before = Array.from({ length: 1650 }, (_, i) =>
      wafDoc(new Date(stop - 2_000 * (i + 1)), 10 + (i % 9), 'allowed', `h${i % 4}.example.com`));
    const newest = stop - 2_000;
    const runs = ['12:07:30', '12:12:30', '12:17:30', '12:22:30'].map((t) => new Date(`2026-11-21T${t}Z`));
    const threshold = freshnessThresholdSeconds(config.intervalMs, config.windowMs, config.ingestDelayMs);

    test('before it dies the newest document is seconds old, under the default freshness threshold', async () => {
      const at = new Date('2026-11-21T11:52:30Z');
      const alive = before.filter((d) => Date.parse(d['@timestamp']) <= at.getTime());
      const { emf } = await run(healthyCluster({}, before), {}, at);
      const values = emfValues(emf, { Cluster: 'prod' });
      const newestThen = alive.map((d) => Date.parse(d['@timestamp'])).reduce((a, b) => Math.max(a, b));
      expect(values.NewestDocumentAgeSeconds).toBe((at.getTime() - newestThen) / 1000);
      expect(values.NewestDocumentAgeSeconds).toBeLessThan(threshold);
      expect(values.RequestCount).toBeGreaterThan(0);
    });

    test.each(runs)('the run at %s emits RequestCount 0 and the newest document\'s age, past the freshness threshold', async (at) => {
      const { emf, summary, logs } = await run(healthyCluster({}, before), {}, at);
      const values = emfValues(emf, { Cluster: 'prod' });
      expect(values.RequestCount).toBe(0);
      expect(values.CollectorErrors).toBe(0);
      expect(values.NewestDocumentAgeSeconds).toBe((at.getTime() - newest) / 1000);
      expect(values.NewestDocumentAgeSeconds).toBeGreaterThan(threshold);
      expect(summary.problems).toEqual([]);
      expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    });

    test('nothing at all in the last day: the age is the lookback\'s length (the newest document is at least that old) and a warning says why', async () => {
      const at = new Date('2026-11-22T12:07:30Z');
      const { emf, logs } = await run(healthyCluster({}, before), {}, at);
      const values = emfValues(emf, { Cluster: 'prod' });
      // 24 h before the window's end (12:05) up to the run (12:07:30).
      expect(values.NewestDocumentAgeSeconds).toBe(24 * 3600 + 150);
      expect(values.RequestCount).toBe(0);
      expect(values.CollectorErrors).toBe(0);
      const warning = logs.find((l) => l.attributes.kind === 'NoRecentDocuments')!;
      expect(warning.level).toBe('warn');
      expect(warning.message).toContain('the log pipeline may be down');
    });

    test('an index renamed by rollover (the pattern matches nothing): RequestCount 0 and the lookback as age, so both alarms breach', async () => {
      const { emf, summary } = await run(healthyCluster({ name: 'waf-archive-000002' }, before), {}, runs[0]);
      const values = emfValues(emf, { Cluster: 'prod' });
      expect(values.RequestCount).toBe(0);
      expect(values.NewestDocumentAgeSeconds).toBe(24 * 3600 + 150);
      expect(summary.notices.map((n) => n.kind)).toEqual(['NoMatchingIndex']);
    });

    test('the freshness figure is the newest document\'s age even when a producer\'s clock runs ahead (future documents are left out)', async () => {
      const ahead = wafDoc(new Date(runs[0].getTime() + 3_600_000), 12, 'allowed', 'h0.example.com');
      const { emf } = await run(healthyCluster({}, [...before, ahead]), {}, runs[0]);
      expect(emfValues(emf, { Cluster: 'prod' }).NewestDocumentAgeSeconds).toBe((runs[0].getTime() - newest) / 1000);
    });
  });

  test('timeouts: 1,500 requests at 5-20 ms and one of 241 s give a p95 and p99 of at most 20 ms, a timeout share of 1/1501 and the 5xx share', async () => {
    const at = (i: number) => new Date(window.start.getTime() + (i * 199) % 300_000);
    const timeoutDocs = [
      ...Array.from({ length: 1500 }, (_, i) => wafDoc(at(i), 5 + (i % 16), 'allowed', `h${i % 20}.example.com`, { code: i % 50 === 0 ? 502 : 200 })),
      wafDoc(at(1500), 241_000, 'allowed', 'h3.example.com', { code: 504 }),
    ];
    const { emf } = await run(healthyCluster({}, timeoutDocs));
    const c = emfValues(emf, { Cluster: 'prod' });
    const d = directFigures(timeoutDocs, config, window);
    // the average the old latency alarm watched: far above 4 x T
    expect(c.LatencyAverage).toBeGreaterThan(4 * config.apdexTMs);
    expect(c.LatencyP95).toBeCloseTo(d.latencyP95Ms!, 9);
    expect(c.LatencyP99).toBeCloseTo(d.latencyP99Ms!, 9);
    expect(c.LatencyP95).toBeLessThanOrEqual(20);
    expect(c.LatencyP99).toBeLessThanOrEqual(20);
    expect(c.LatencyAverageWithoutTimeouts).toBeLessThan(20);
    expect(c.TimeoutCount).toBe(1);
    expect(c.TimeoutPercent).toBeCloseTo((1 / 1501) * 100, 12);
    expect(c.ServerErrorPercent).toBeCloseTo((31 / 1501) * 100, 12);
    expect(c.ServerErrorPercent).toBeCloseTo(d.serverErrorPercent!, 12);
  });

  test('a quiet window of 4 blocked requests without a latency is a count and a warning, not a collector error', async () => {
    const quiet = [0, 1, 2, 3].map((i) => wafDoc(new Date(window.start.getTime() + i * 60_000), undefined, 'blocked', 'h1.example.com'));
    const { emf, logs, summary } = await run(healthyCluster({}, quiet));
    const c = emfValues(emf, { Cluster: 'prod' });
    expect(c.CollectorErrors).toBe(0);
    expect(summary.problems).toEqual([]);
    expect(c.RequestCount).toBe(4);
    expect(c.DocumentsWithoutLatency).toBe(4);
    expect(c.DocumentsWithoutStatus).toBe(0);
    expect(c.BlockedCount).toBe(4);
    expect(c).not.toHaveProperty('LatencyAverage');
    expect(c).not.toHaveProperty('LatencyP95');
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    const warning = logs.find((l) => l.attributes.kind === 'DocumentsWithoutLatency')!;
    expect(warning.level).toBe('warn');
    expect(warning.attributes.event).toBe('collector-warning');
  });

  test('an approximate ranking: every top-host line carries approximate: true; an exact one carries no such field', async () => {
    const approximate = await run(healthyCluster(), { hostShardSize: 3 });
    const hosts = approximate.logs.filter((l) => l.attributes.event === 'top-host');
    expect(hosts).toHaveLength(3);
    expect(hosts.every((h) => h.attributes.approximate === true)).toBe(true);
    expect(approximate.summary.notices.map((n) => n.kind)).toContain('TopHostsApproximate');
    const exact = await run(healthyCluster());
    const exactHosts = exact.logs.filter((l) => l.attributes.event === 'top-host');
    expect(exactHosts).toHaveLength(3);
    expect(exactHosts.some((h) => 'approximate' in h.attributes)).toBe(false);
  });
});

describe('a 1.6 MB _nodes/stats answer of 60,000 nodes that report no figures', () => {
  const target = ENGINES[0];
  const bareNodes = () => nodesStatsBody(Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`id${i}`, { name: `n${i}` }])));
  const cluster = () => new MockCluster().serve(clusterOf([...docs, ...earlier])).onNodesStats(bareNodes);
  const paths = [
    'process.cpu.percent',
    'jvm.mem.heap_used_percent',
    'fs.total.total_in_bytes/available_in_bytes',
    'jvm.mem.pools.old.used_in_bytes/max_in_bytes',
    'thread_pool.search.rejected',
    'thread_pool.write.rejected',
  ];

  test('one problem per missing field with the node count and three names; CollectorErrors counts the 6 fields, not the nodes', async () => {
    const { summary, logs, emf } = await runAgainst(target, cluster());
    expect(summary.problems.map((p) => [p.kind, p.source, p.message])).toEqual(paths.map((path) => [
      'missing-field', '_nodes/stats', `60000 nodes report no ${path} in _nodes/stats, e.g. n0, n1, n2 and 59997 more`,
    ]));
    expect(logs.filter((l) => l.attributes.event === 'collector-error')).toHaveLength(6);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values.CollectorErrors).toBe(6);
    // The search figures of the same run are all there.
    expect(values.RequestCount).toBe(400);
  });

  test('problems past the per-run cap are not logged, and one warning says how many were left out', async () => {
    const { summary, logs, emf } = await runAgainst(target, cluster(), {}, now, 2);
    expect(summary.problems).toHaveLength(6);
    expect(logs.filter((l) => l.attributes.event === 'collector-error').map((l) => l.message)).toEqual([
      'collector error (missing-field) in _nodes/stats: 60000 nodes report no process.cpu.percent in _nodes/stats, e.g. n0, n1, n2 and 59997 more',
      'collector error (missing-field) in _nodes/stats: 60000 nodes report no jvm.mem.heap_used_percent in _nodes/stats, e.g. n0, n1, n2 and 59997 more',
    ]);
    const leftOut = logs.filter((l) => l.attributes.kind === 'problems-left-out');
    expect(leftOut.map((l) => [l.level, l.message, l.attributes.leftOut])).toEqual([
      ['warn', '4 more collector errors in this run were left out of the log (6 in all, the first 2 logged)', 4],
    ]);
    expect(emfValues(emf, { Cluster: 'prod' }).CollectorErrors).toBe(6);
  });
});
