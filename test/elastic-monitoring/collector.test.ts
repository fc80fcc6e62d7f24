import {
  WafDoc,
  nodeStats,
  nodesStatsBody,
  securityExceptionBody,
  simulateComparisonItem,
  simulateWindowItem,
  testConfig,
  textFieldAggregationError,
  wafDoc,
} from './es-fixtures';
import { MockCluster, refused, timedOut, unauthorized } from './mock-cluster';
import { collect } from '../../src/elastic-monitoring/runtime/collector';
import { searchClient } from '../../src/elastic-monitoring/runtime/elastic-client';
import { createElasticClient } from '../../src/shared/runtime/elastic/connection';
import { collectionWindow } from '../../src/elastic-monitoring/runtime/queries';
import { Log } from '../../src/shared/runtime/telemetry';

const config = testConfig({ endpoint: 'https://waf-logs.es.example.com:9243', topN: 3 });
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

async function run(cluster: MockCluster) {
  const r = recorder();
  const client = createElasticClient(config, { username: 'waf-monitor', password: 's3cret' }, cluster.connection());
  const summary = await collect({ client: searchClient(client), config, now, logger: r.logger, writeEmf: r.writeEmf });
  await client.close();
  return { ...r, summary };
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

function healthyCluster() {
  return new MockCluster()
    .onMsearch(() => ({
      took: 12,
      responses: [simulateWindowItem([...docs, ...earlier], config, window), simulateComparisonItem([...docs, ...earlier], config, window)],
    }))
    .onNodesStats(() => healthyNodes);
}

describe('collector against a mock Elasticsearch 8 cluster', () => {
  test('a healthy run makes exactly two round trips: _msearch with both searches, and _nodes/stats', async () => {
    const cluster = healthyCluster();
    await run(cluster);
    expect(cluster.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /_nodes/stats/process,os,jvm,fs',
      'POST /_msearch',
    ]);
    expect(cluster.requests.find((r) => r.path.startsWith('/_nodes'))!.querystring).toContain('filter_path=');
    const body = cluster.msearchBodies[0] as any[];
    expect(body).toHaveLength(4);
    expect(body[0].index).toBe('waf-logs-*');
    expect(Object.keys(body[1].aggs)).toEqual(expect.arrayContaining(['latency', 'within_timeout', 'status', 'top_hosts']));
    expect(body[3].aggs.windows.date_range.ranges).toHaveLength(6);
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
  });

  test('per node and per compared window, one EMF line each with its own dimension', async () => {
    const { emf } = await run(healthyCluster());
    expect(emfValues(emf, { Cluster: 'prod', Node: 'es-hot-1' })).toEqual({ NodeCpuPercent: 41, NodeHeapUsedPercent: 63, NodeDiskFreePercent: 15 });
    expect(emfValues(emf, { Cluster: 'prod', Node: 'es-hot-2' })).toEqual({ NodeCpuPercent: 87, NodeHeapUsedPercent: 72, NodeDiskFreePercent: 60 });
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
    const cluster = new MockCluster()
      .onMsearch(() => ({ took: 2, responses: [simulateWindowItem([], config, window), simulateComparisonItem([], config, window)] }))
      .onNodesStats(() => healthyNodes);
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

  test('401 on both requests: a clear auth log line per request, CollectorErrors 2, no retries, no throw', async () => {
    const cluster = new MockCluster()
      .onMsearch(() => unauthorized(securityExceptionBody('waf-monitor', '/_msearch')))
      .onNodesStats(() => unauthorized(securityExceptionBody('waf-monitor', '/_nodes/stats/process,os,jvm,fs')));
    const { emf, logs, summary } = await run(cluster);
    expect(cluster.requests).toHaveLength(2);
    expect(summary.problems.map((p) => p.kind)).toEqual(['auth', 'auth']);
    const errorsLogged = logs.filter((l) => l.level === 'error');
    expect(errorsLogged).toHaveLength(2);
    expect(errorsLogged[0].attributes).toEqual(expect.objectContaining({ event: 'collector-error', kind: 'auth', source: '_msearch' }));
    expect(errorsLogged[0].message).toContain('HTTP 401');
    expect(errorsLogged[0].message).toContain('unable to authenticate user [waf-monitor]');
    expect(errorsLogged[0].message).toContain('check the credentials in the secret');
    expect(emfValues(emf, { Cluster: 'prod' })).toEqual({ CollectorErrors: 2 });
    expect(emf).toHaveLength(1);
  });

  test('a timeout of _msearch is not retried; node figures still arrive', async () => {
    const cluster = new MockCluster().onMsearch(() => timedOut()).onNodesStats(() => healthyNodes);
    const { emf, summary, logs } = await run(cluster);
    expect(cluster.requests.filter((r) => r.path === '/_msearch')).toHaveLength(1);
    expect(summary.problems).toEqual([expect.objectContaining({ kind: 'timeout', source: '_msearch' })]);
    expect(logs.find((l) => l.level === 'error')!.message).toMatch(/timed out/);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values.CollectorErrors).toBe(1);
    expect(values.NodeCpuPercentMax).toBe(87);
    expect(values).not.toHaveProperty('RequestCount');
  });

  test('an unreachable cluster is reported as such, without retries (the next run is the retry)', async () => {
    const cluster = new MockCluster().onMsearch(() => refused('10.0.3.7:9243')).onNodesStats(() => refused('10.0.3.7:9243'));
    const { summary } = await run(cluster);
    expect(cluster.requests).toHaveLength(2);
    expect(summary.problems.map((p) => p.kind)).toEqual(['unreachable', 'unreachable']);
    expect(summary.problems[0].message).toContain('ECONNREFUSED');
    expect(summary.problems[0].message).toContain('security groups');
  });

  test('missing node fields and a failed search count as collector errors; the rest is still emitted', async () => {
    const cluster = new MockCluster()
      .onMsearch(() => ({ took: 4, responses: [textFieldAggregationError('url.domain'), simulateComparisonItem(docs, config, window)] }))
      .onNodesStats(() => nodesStatsBody({ Xy1: nodeStats('es-hot-1', 41, 63, 1000, 150), Xy3: { name: 'es-warm-1', jvm: { mem: { heap_used_percent: 50 } } } }));
    const { emf, summary } = await run(cluster);
    expect(summary.problems.map((p) => `${p.kind}:${p.source}`)).toEqual([
      'response:window search',
      'missing-field:node:es-warm-1',
      'missing-field:node:es-warm-1',
    ]);
    const values = emfValues(emf, { Cluster: 'prod' });
    expect(values.CollectorErrors).toBe(3);
    expect(values).not.toHaveProperty('RequestCount');
    expect(values.NodeCpuPercentMax).toBe(41);
    expect(emfValues(emf, { Cluster: 'prod', Node: 'es-warm-1' })).toEqual({ NodeHeapUsedPercent: 50 });
    expect(emfValues(emf, { Cluster: 'prod', Offset: 'now' }).LatencyAverageByOffset).toBeGreaterThan(0);
  });
});
