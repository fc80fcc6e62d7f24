import { errors } from '@elastic/elasticsearch';
import * as fc from 'fast-check';
import { INDEX, clusterHealthBody, nodeStats, nodesStatsBody, testConfig, wafDoc } from './es-fixtures';
import { MockCluster, collectOver, refused, timedOut, unauthorized } from './mock-cluster';
import { evaluateExpression } from '../../examples/monitor-local-run/alarm-model';
import { rejectionsExpression, mapClusterHealth, mapNodeHealth, nodeSetId } from '../../src/elastic-monitoring/runtime/cluster-health';
import { NODE_STATS_REQUEST, collectionWindow } from '../../src/elastic-monitoring/runtime/queries';
import { Log } from '../../src/shared/runtime/telemetry';
import { Doc, EvaluatedCluster, IndexDefinition, NodeDefinition } from '../support/elasticsearch-evaluator';

type Series = ReadonlyArray<number | undefined>;

/** What CloudWatch computes from one datapoint per period (the local-run model's metric math). */
function evaluateMetricMath(expression: string, metrics: Record<string, Series>): Series {
  const length = Math.max(...Object.values(metrics).map((s) => s.length));
  const series = (id: string, at: number) => metrics[id][at];
  return Array.from({ length }, (_, i) => evaluateExpression(expression, series, i, 1));
}

const config = testConfig({ endpoint: 'https://waf-logs.es.example.com:9243', topN: 3 });
const start = new Date('2026-11-21T12:07:30Z');
const GIB = 1024 ** 3;
const PERIOD_MS = config.intervalMs;

async function run(cluster: MockCluster, now = start) {
  const emf: any[] = [];
  const logs: Array<{ level: string; message: string; attributes: Record<string, any> }> = [];
  const logger: Log = {
    info: (message, attributes) => logs.push({ level: 'info', message, attributes: attributes ?? {} }),
    warn: (message, attributes) => logs.push({ level: 'warn', message, attributes: attributes ?? {} }),
    error: (message, attributes) => logs.push({ level: 'error', message, attributes: attributes ?? {} }),
  };
  // A short time limit: the fake's timeouts never answer.
  const runConfig = { ...config, requestTimeoutMs: 500 };
  const summary = await collectOver(cluster, { config: runConfig, now, logger, writeEmf: (line) => emf.push(JSON.parse(line)) });
  return { emf, logs, summary };
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

const window = collectionWindow(start, config);
const docs = Array.from({ length: 30 }, (_, i) => wafDoc(new Date(window.start.getTime() + i * 1000), 20, 'allowed', 'h.example.com'));

function threeNodes(): NodeDefinition[] {
  return [
    { id: 'aB3dE5fG7hI9jK1lM3nO5p', name: 'instance-0000000001', oldUsedBytes: 2.8 * GIB, rejected: { search: 120, write: 4 } },
    { id: 'qR7sT9uV1wX3yZ5aB7cD9e', name: 'instance-0000000002', oldUsedBytes: 3.64 * GIB, rejected: { search: 0, write: 31 } },
    { id: 'fG1hI3jK5lM7nO9pQ1rS3t', name: 'instance-0000000003', oldUsedBytes: 1 * GIB, heapMaxBytes: 8 * GIB },
  ];
}

function fakeCluster(index: Partial<IndexDefinition> = {}, nodes = threeNodes()): EvaluatedCluster {
  return new EvaluatedCluster([{ name: INDEX, shards: 3, replicas: 1, ...index, docs: docs as unknown as Doc[] }], nodes);
}

describe('cluster health figures from an Elasticsearch 8 cluster', () => {
  test('status, unassigned shards, worst JVM memory pressure (old generation used / max) and summed rejection counters', async () => {
    const { emf, summary } = await run(new MockCluster().serve(fakeCluster()));
    expect(summary.problems).toEqual([]);
    const c = emfValues(emf, { Cluster: 'prod' });
    expect(c.ClusterStatus).toBe(0);
    expect(c.UnassignedShards).toBe(0);
    expect(c.JvmMemoryPressureMax).toBeCloseTo(91, 9); // 3.64 of 4 GiB
    expect(c.ThreadPoolSearchRejectedTotal).toBe(120);
    expect(c.ThreadPoolWriteRejectedTotal).toBe(35);
    expect(c.StatsNodeSet).toBe(nodeSetId(threeNodes().map((n) => n.id)));
    expect(emfValues(emf, { Cluster: 'prod', Node: 'instance-0000000003' }).NodeJvmMemoryPressure).toBeCloseTo(12.5, 9);
    expect(emfValues(emf, { Cluster: 'prod', Node: 'instance-0000000001' }).NodeJvmMemoryPressure).toBeCloseTo(70, 9);
  });

  test.each([
    ['three nodes, two replicas', { replicas: 2 }, 3, 0, 0],
    ['two nodes, two replicas: a third copy of each shard has no node', { replicas: 2 }, 2, 1, 3],
    ['one node, one replica', { replicas: 1 }, 1, 1, 3],
    ['a shard without any copy', { replicas: 1, failedShards: [1] }, 3, 2, 2],
  ])('%s: status and unassigned shards as Elasticsearch computes them', async (_, index, nodeCount, status, unassigned) => {
    const { emf } = await run(new MockCluster().serve(fakeCluster(index, threeNodes().slice(0, nodeCount))));
    const c = emfValues(emf, { Cluster: 'prod' });
    expect([c.ClusterStatus, c.UnassignedShards]).toEqual([status, unassigned]);
  });

  test('a node restart between runs: the counters fall back, and the per-period figure never exceeds what was rejected', async () => {
    const cluster = fakeCluster();
    const [n1, n2, n3] = threeNodes().map((n) => n.id);
    const mock = new MockCluster().serve(cluster);
    const steps: Array<{ events: (c: EvaluatedCluster) => void; search: number }> = [
      { events: () => undefined, search: 0 },
      { events: (c) => c.reject(n1, 'search', 5).reject(n2, 'search', 2), search: 7 },
      // n1 (120 + 5 rejections since it started) restarts and rejects 3 more: the sum falls by 122 and then rises by 7
      { events: (c) => c.restartNode(n1).reject(n1, 'search', 3).reject(n2, 'search', 4), search: 7 },
      { events: (c) => c.reject(n1, 'search', 6), search: 6 },
      // n3 does not answer, then answers again with counters it had all along: the set changed, no figure either time
      { events: (c) => c.setUnresponsive(n3, true).reject(n3, 'search', 1_000), search: 1_000 },
      { events: (c) => c.setUnresponsive(n3, false), search: 0 },
      { events: (c) => c.reject(n3, 'search', 2), search: 2 },
    ];
    const total: Series[number][] = [];
    const nodes: Series[number][] = [];
    for (const [i, step] of steps.entries()) {
      step.events(cluster.advance(PERIOD_MS));
      const { emf } = await run(mock, new Date(start.getTime() + i * PERIOD_MS));
      const c = emfValues(emf, { Cluster: 'prod' });
      total.push(c.ThreadPoolSearchRejectedTotal);
      nodes.push(c.StatsNodeSet);
    }
    expect(total).toEqual([120, 127, 9, 15, 15, 1_015, 1_017]);
    const perPeriod = evaluateMetricMath(rejectionsExpression(), { total, nodes });
    expect(perPeriod).toEqual([undefined, 7, 0, 6, 0, 0, 2]);
    perPeriod.forEach((v, i) => expect(v ?? 0).toBeLessThanOrEqual(steps[i].search));
  });

  test('property: over any restarts and nodes dropping out, the figure is never above the rejections, and exact without them', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('reject' as const), node: fc.nat(2), pool: fc.constantFrom('search' as const, 'write' as const), count: fc.integer({ min: 1, max: 500 }) }),
      fc.record({ kind: fc.constant('restart' as const), node: fc.nat(2) }),
      fc.record({ kind: fc.constant('toggle' as const), node: fc.nat(2) }),
    );
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 3, maxLength: 3 }),
      fc.array(fc.array(action, { maxLength: 4 }), { minLength: 2, maxLength: 10 }),
      (initial, periods) => {
        const defs = threeNodes().map((n, i) => ({ ...n, rejected: { search: initial[i], write: initial[(i + 1) % 3] } }));
        const ids = defs.map((n) => n.id);
        const cluster = fakeCluster({}, defs);
        const unresponsive = new Set<number>();
        const series = { search: [] as Series[number][], write: [] as Series[number][], nodes: [] as Series[number][] };
        // per period: rejections by pool and node, restarted nodes, nodes answering afterwards
        const history: Array<{ rejected: Record<'search' | 'write', number[]>; restarted: Set<number>; answering: Set<number> }> = [];
        for (const actions of periods) {
          const rejected = { search: [0, 0, 0], write: [0, 0, 0] };
          const restarted = new Set<number>();
          for (const a of actions) {
            if (a.kind === 'reject') {
              cluster.reject(ids[a.node], a.pool, a.count);
              rejected[a.pool][a.node] += a.count;
            } else if (a.kind === 'restart') {
              cluster.restartNode(ids[a.node]);
              restarted.add(a.node);
              // the bound counts what a counter can know: rejections before a restart go with the old counter
              rejected.search[a.node] = 0;
              rejected.write[a.node] = 0;
            } else {
              if (unresponsive.has(a.node)) unresponsive.delete(a.node);
              else unresponsive.add(a.node);
              cluster.setUnresponsive(ids[a.node], unresponsive.has(a.node));
            }
          }
          const mapped = mapNodeHealth(cluster.nodesStats(NODE_STATS_REQUEST.metric, NODE_STATS_REQUEST.filter_path)).value!;
          series.search.push(mapped.searchRejectedTotal);
          series.write.push(mapped.writeRejectedTotal);
          series.nodes.push(mapped.nodeSetId);
          history.push({ rejected, restarted, answering: new Set([0, 1, 2].filter((n) => !unresponsive.has(n))) });
        }
        for (const pool of ['search', 'write'] as const) {
          const figure = evaluateMetricMath(rejectionsExpression(), { total: series[pool], nodes: series.nodes });
          figure.forEach((value, i) => {
            if (value === undefined) return;
            expect(value).toBeGreaterThanOrEqual(0);
            const from = series.nodes.slice(0, i).map((v, k) => (v === undefined ? -1 : k)).filter((k) => k >= 0).pop()!;
            const span = history.slice(from + 1, i + 1);
            const all = span.reduce((a, p) => a + p.rejected[pool].reduce((x, y) => x + y, 0), 0);
            expect(value).toBeLessThanOrEqual(all);
            const same = [...history[from].answering].join() === [...history[i].answering].join();
            if (same && span.every((p) => p.restarted.size === 0)) {
              const counted = span.reduce((a, p) => a + [...history[i].answering].reduce((x, n) => x + p.rejected[pool][n], 0), 0);
              expect(value).toBe(counted);
            }
          });
        }
      },
    ), { numRuns: 200 });
  });
});

describe('cluster health: missing parts', () => {
  test('a failing _cluster/health is a collector error; the search, node and other health figures are still emitted', async () => {
    const masterNotDiscovered = { error: { root_cause: [{ type: 'master_not_discovered_exception', reason: null }], type: 'master_not_discovered_exception', reason: null }, status: 503 };
    const mock = new MockCluster().serve(fakeCluster()).onClusterHealth(() =>
      new errors.ResponseError({ body: masterNotDiscovered, statusCode: 503, headers: {}, warnings: null, meta: {} as any }));
    const { emf, summary, logs } = await run(mock);
    expect(summary.problems.map((p) => `${p.kind}:${p.source}`)).toEqual(['response:_cluster/health']);
    expect(logs.find((l) => l.level === 'error')!.message).toContain('master_not_discovered_exception');
    const c = emfValues(emf, { Cluster: 'prod' });
    expect(c.CollectorErrors).toBe(1);
    expect(c).not.toHaveProperty('ClusterStatus');
    expect(c).not.toHaveProperty('UnassignedShards');
    expect(c.RequestCount).toBe(30);
    expect(c.NodeCpuPercentMax).toBe(10);
    expect(c.JvmMemoryPressureMax).toBeCloseTo(91, 9);
    expect(c.ThreadPoolSearchRejectedTotal).toBe(120);
  });

  test('a health answer without status or unassigned shards (a proxy\'s body) is a problem, not a green cluster', () => {
    const m = mapClusterHealth({ ok: true });
    expect(m.value).toEqual({ status: undefined, unassignedShards: undefined });
    expect(m.problems.map((p) => p.kind)).toEqual(['response', 'missing-field']);
    expect(m.problems[0].message).toContain('not green, yellow or red');
    expect(mapClusterHealth(clusterHealthBody('YELLOW', 2)).value).toEqual({ status: 'yellow', unassignedShards: 2 });
  });

  test('node stats without thread pools or JVM pools: a problem per node and figure; the node set counts only complete nodes', () => {
    const body = nodesStatsBody({
      a: nodeStats('es-1', 10, 50, 100, 50, { searchRejected: 3, writeRejected: 1, oldUsedPercent: 40 }),
      b: { name: 'es-2', jvm: { mem: { heap_used_percent: 50 } }, thread_pool: { search: { rejected: 9 } } },
    });
    const m = mapNodeHealth(body);
    expect(m.problems.map((p) => p.message)).toEqual([
      'node es-2 reports no jvm.mem.pools.old.used_in_bytes/max_in_bytes in _nodes/stats',
      'node es-2 reports no thread_pool.write.rejected in _nodes/stats',
    ]);
    expect(m.value).toEqual(expect.objectContaining({ countedNodes: 1, searchRejectedTotal: 3, writeRejectedTotal: 1, nodeSetId: nodeSetId(['a']) }));
    expect(m.value!.nodes[0].jvmMemoryPressurePercent).toBeCloseTo(40, 6);
  });

  test('an old generation without a maximum of its own (-1) is measured against the heap maximum', () => {
    const m = mapNodeHealth({ nodes: { a: { name: 'es-1', jvm: { mem: { heap_max_in_bytes: 1000, pools: { old: { used_in_bytes: 870, max_in_bytes: -1 } } } }, thread_pool: { search: { rejected: 0 }, write: { rejected: 0 } } } } });
    expect(m.problems).toEqual([]);
    expect(m.value!.nodes[0].jvmMemoryPressurePercent).toBeCloseTo(87, 9);
  });

  const outcomes = {
    ok: undefined,
    unauthorized: () => unauthorized({ error: { type: 'security_exception', reason: 'unable to authenticate' }, status: 401 }),
    timeout: () => timedOut(),
    refused: () => refused('10.0.3.7:9243'),
  } as const;
  type Outcome = keyof typeof outcomes;

  test('property: whatever each request does, a run makes at most 3 requests, counts each failure once and keeps the other parts', async () => {
    const outcome = fc.constantFrom(...(Object.keys(outcomes) as Outcome[]));
    await fc.assert(fc.asyncProperty(outcome, outcome, outcome, async (search, stats, health) => {
      const mock = new MockCluster().serve(fakeCluster());
      if (outcomes[search]) mock.onMsearch(outcomes[search]!);
      if (outcomes[stats]) mock.onNodesStats(outcomes[stats]!);
      if (outcomes[health]) mock.onClusterHealth(outcomes[health]!);
      const { emf, summary } = await run(mock);
      expect(mock.requests.length).toBeLessThanOrEqual(3);
      const failed = [search, stats, health].filter((o) => o !== 'ok').length;
      expect(summary.problems).toHaveLength(failed);
      const c = emfValues(emf, { Cluster: 'prod' });
      expect(c.CollectorErrors).toBe(failed);
      expect('RequestCount' in c).toBe(search === 'ok');
      expect('JvmMemoryPressureMax' in c && 'ThreadPoolWriteRejectedTotal' in c && 'NodeCpuPercentMax' in c).toBe(stats === 'ok');
      expect('ClusterStatus' in c && 'UnassignedShards' in c).toBe(health === 'ok');
    }), { numRuns: 30 });
  });
});
