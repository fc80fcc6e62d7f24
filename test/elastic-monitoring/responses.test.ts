import {
  WafDoc,
  directFigures,
  msearchItems,
  nodeStats,
  nodesStatsBody,
  testConfig,
  wafDoc,
} from './es-fixtures';
import { SEARCH_ORDER, SearchName, collectionWindow } from '../../src/elastic-monitoring/runtime/queries';
import { mapComparisonResponse, mapNodeStats, mapSearchResponses, mapWindowResponse, slowestShareMean } from '../../src/elastic-monitoring/runtime/responses';
import { apdexScore } from '../../src/shared/runtime/elastic/apdex';

const config = testConfig();
const window = collectionWindow(new Date('2026-11-21T12:07:30Z'), config);
const inWindow = (i: number) => new Date(window.start.getTime() + (i % 299) * 1000);

/** Deterministic latencies with a long tail: mostly fast, some slow, a few timeouts. */
function latencies(n: number): number[] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => {
    if (i % 250 === 0) return 250_000 + Math.round(next() * 50_000); // timeouts
    const r = next();
    return r < 0.8 ? Math.round(5 + r * 30) : Math.round(40 + r ** 4 * 2000);
  });
}

function exactTailMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const tail = sorted.slice(Math.floor(sorted.length * 0.95));
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

describe('apdexScore', () => {
  test('is (satisfied + tolerating/2) / total', () => {
    expect(apdexScore(60, 30, 100)).toBeCloseTo(0.75);
    expect(apdexScore(100, 0, 100)).toBe(1);
    expect(apdexScore(0, 0, 10)).toBe(0);
  });

  test('has no value for an empty window instead of a misleading 0 or 1', () => {
    expect(apdexScore(0, 0, 0)).toBeUndefined();
  });

  test('rejects counts that cannot come from one window', () => {
    expect(() => apdexScore(8, 5, 10)).toThrow(/inconsistent/);
  });
});

describe('slowestShareMean', () => {
  test('whole top buckets count exactly', () => {
    // 100 requests; the slowest 5 are exactly the top bucket.
    const buckets = [
      { to: 10, count: 95, sum: 95 * 5 },
      { from: 10, to: 1000, count: 5, sum: 5 * 400 },
    ];
    expect(slowestShareMean(buckets, 900)).toBe(400);
  });

  test('the boundary bucket contributes its slowest values, between its mean and its upper bound', () => {
    // 100 requests: 2 in the top bucket (sum 2000), the other 3 of the slowest 5 come from [100, 200).
    const buckets = [
      { to: 100, count: 80, sum: 80 * 50 },
      { from: 100, to: 200, count: 18, sum: 18 * 150 },
      { from: 200, count: 2, sum: 2000 },
    ];
    const mean = slowestShareMean(buckets, 1500)!;
    // 3 of 18 evenly spread over [100, 200): upper 200 - (3/18)*(100)/2 = 191.67
    expect(mean).toBeCloseTo((2000 + 3 * (200 - (3 / 18) * 50)) / 5, 6);
    expect(mean).toBeGreaterThan((2000 + 3 * 150) / 5);
    expect(mean).toBeLessThan((2000 + 3 * 200) / 5);
  });

  test('an open top bucket is capped by the maximum', () => {
    const buckets = [
      { to: 600_000, count: 19, sum: 19 * 10 },
      { from: 600_000, count: 1, sum: 700_000 },
    ];
    // the slowest 5% of 20 requests is the single slowest one
    expect(slowestShareMean(buckets, 700_000)).toBe(700_000);
  });

  test('no requests, no value', () => {
    expect(slowestShareMean([{ to: 1, count: 0, sum: 0 }], undefined)).toBeUndefined();
  });
});

describe('mapSearchResponses over the answers of a three-shard cluster', () => {
  const values = latencies(2000);
  const statuses = ['allowed', 'allowed', 'allowed', 'blocked', 'alerted'];
  const docs: WafDoc[] = values.map((l, i) => wafDoc(inWindow(i), l, statuses[i % 5], `host-${i % 40}.example.com`, {
    code: i % 97 === 0 ? 503 : 200, ip: `198.51.100.${i % 13}`, customer: i % 7 === 0 ? 'other' : undefined,
  }));
  // Outside the window on both sides: must not count.
  const outside = [wafDoc(window.end, 99_999, 'blocked', 'late.example.com'), wafDoc(new Date(window.start.getTime() - 1), 99_999, 'blocked', 'early.example.com')];
  const all = [...docs, ...outside];
  const results = mapSearchResponses(msearchItems(all, config, window), config);
  const f = results.window!;
  const direct = directFigures(all, config, window);
  const item = (items: unknown[], name: SearchName) => items[SEARCH_ORDER.indexOf(name)];

  test('counts and averages match the documents of the window', () => {
    expect(results.problems).toEqual([]);
    expect(results.notices).toEqual([]);
    expect(results.partial).toBe(false);
    expect(f.requests).toBe(2000);
    expect(f.latencyAverageMs).toBeCloseTo(direct.latencyAverageMs!, 6);
    expect(f.timeouts).toBe(direct.timeouts);
    expect(f.timeouts).toBe(8);
    expect(f.latencyAverageWithoutTimeoutsMs).toBeCloseTo(direct.latencyAverageWithoutTimeoutsMs!, 6);
    expect(f.latencyAverageWithoutTimeoutsMs!).toBeLessThan(f.latencyAverageMs!);
  });

  test('p95, p99, timeout share, 5xx share and the newest document equal a direct computation', () => {
    expect(f.latencyP95Ms).toBeCloseTo(direct.latencyP95Ms!, 9);
    expect(f.latencyP99Ms).toBeCloseTo(direct.latencyP99Ms!, 9);
    expect(f.latencyP95Ms!).toBeLessThan(f.latencyP99Ms!);
    expect(f.timeoutPercent).toBeCloseTo(direct.timeoutPercent!, 12);
    expect(f.timeoutPercent).toBeCloseTo((8 / 2000) * 100, 12);
    expect([f.withoutLatency, f.withoutStatus]).toEqual([0, 0]);
    expect(results.statusCodes!.serverErrorPercent).toBeCloseTo(direct.serverErrorPercent!, 12);
    // the late document at the window's end is after the window but before the run: the newest one
    expect(results.newestDocumentAt).toEqual(direct.newestDocumentAt);
    expect(results.newestDocumentAt).toEqual(window.end);
  });

  test('slowest 5% averages are close to the exact tail means, with and without timeouts', () => {
    const within = values.filter((l) => l <= config.timeoutThresholdMs);
    expect(Math.abs(f.slowest5PctAverageMs! - exactTailMean(values)) / exactTailMean(values)).toBeLessThan(0.02);
    expect(Math.abs(f.slowest5PctAverageWithoutTimeoutsMs! - exactTailMean(within)) / exactTailMean(within)).toBeLessThan(0.02);
    expect(f.slowest5PctAverageWithoutTimeoutsMs!).toBeLessThan(f.slowest5PctAverageMs!);
  });

  test('status counts and percentages', () => {
    expect(f.status).toEqual({ allowed: 1200, blocked: 400, alerted: 400 });
    expect(f.statusPercent).toEqual({ allowed: 60, blocked: 20, alerted: 20 });
  });

  test('Apdex equals a direct count over the latencies', () => {
    expect(f.apdex).toBeCloseTo(direct.apdexAllRequests!, 10);
  });

  test('Apdex over allowed requests only, < T satisfied and [T, 4T) tolerating, when so configured', () => {
    const allowedOnly = testConfig({ apdexDefinition: 'allowedRequests' });
    const edge = [10, 30, 30, 119, 120, 120, 500].map((l, i) => wafDoc(inWindow(i), l, 'allowed', 'a.example.com'));
    const blocked = [wafDoc(inWindow(9), 5, 'blocked', 'a.example.com')];
    const w = mapSearchResponses(msearchItems([...edge, ...blocked], allowedOnly, window), allowedOnly).window!;
    // satisfied: 10; tolerating: 30, 30, 119; frustrated: 120, 120, 500 (the blocked request does not count)
    expect(w.apdex).toBeCloseTo((1 + 3 / 2) / 7, 10);
    expect(w.apdex).toBeCloseTo(directFigures([...edge, ...blocked], allowedOnly, window).apdexAllowedRequests!, 10);
    const today = mapSearchResponses(msearchItems([...edge, ...blocked], config, window), config).window!;
    // satisfied: 5, 10, 30, 30; tolerating: 119, 120, 120; of 8
    expect(today.apdex).toBeCloseTo((4 + 3 / 2) / 8, 10);
  });

  test('top hosts: the N slowest by average latency, ranked, every figure as computed directly', () => {
    expect(results.topHosts).toHaveLength(15);
    expect(results.topHosts).toEqual(direct.topHosts);
    expect(results.topHosts!.some((h) => h.host === 'late.example.com' || h.host === 'early.example.com')).toBe(false);
  });

  test('a status missing from the window counts zero, with a zero percentage', () => {
    const noAlerts = docs.map((d) => (d.waf.status === 'alerted' ? { ...d, waf: { ...d.waf, status: 'allowed' } } : d));
    const m = mapSearchResponses(msearchItems(noAlerts, config, window), config).window!;
    expect(m.status.alerted).toBe(0);
    expect(m.statusPercent!.alerted).toBe(0);
    expect(m.status.allowed).toBe(1600);
  });

  test('an empty window (an index without documents in it) has counts of zero and no averages, percentages or Apdex', () => {
    const m = mapSearchResponses(msearchItems(outside, config, window), config);
    expect(m.problems).toEqual([]);
    expect(m.notices).toEqual([]);
    expect(m.window).toEqual({
      requests: 0,
      latencyCount: 0,
      latencyAverageMs: undefined,
      latencyAverageWithoutTimeoutsMs: undefined,
      slowest5PctAverageMs: undefined,
      slowest5PctAverageWithoutTimeoutsMs: undefined,
      latencyP95Ms: undefined,
      latencyP99Ms: undefined,
      timeouts: 0,
      timeoutPercent: undefined,
      withoutLatency: 0,
      withoutStatus: 0,
      status: { allowed: 0, blocked: 0, alerted: 0 },
      statusPercent: undefined,
      apdex: undefined,
    });
    expect(m.topHosts).toEqual([]);
  });

  test('a pattern matching no index: an empty window, one NoMatchingIndex notice, no problem', () => {
    const items = msearchItems(docs, config, window, { name: 'nginx-2026.11.21' });
    expect(item(items, 'window')).not.toHaveProperty('aggregations');
    const m = mapSearchResponses(items, config);
    expect(m.problems).toEqual([]);
    expect(m.window).toEqual({
      requests: 0, latencyCount: 0, timeouts: 0, withoutLatency: 0, withoutStatus: 0, status: { allowed: 0, blocked: 0, alerted: 0 },
    });
    expect(m.topHosts).toEqual([]);
    // no age at all: the freshness alarm treats the missing datapoint as breaching
    expect(m.newestDocumentAt).toBeUndefined();
    expect(m.comparison!.map((c) => [c.offset, c.requests, c.averageLatencyMs])).toEqual(
      ['now', '1h', '6h', '12h', '1d', '3d'].map((o) => [o, 0, undefined]));
    expect(m.notices).toHaveLength(1);
    expect(m.notices[0].kind).toBe('NoMatchingIndex');
    expect(m.notices[0].message).toContain('"waf-logs-*" matches no index');
    expect(m.partial).toBe(false);
  });

  test('a failed shard: figures of the other shards, marked partial with the reason', () => {
    const m = mapSearchResponses(msearchItems(docs, config, window, { failedShards: [2] }), config);
    const surviving = docs.filter((_, i) => i % 3 !== 2);
    expect(m.window!.requests).toBe(surviving.length);
    expect(m.window!.latencyAverageMs).toBeCloseTo(directFigures(surviving, config, window).latencyAverageMs!, 6);
    expect(m.partial).toBe(true);
    expect(m.problems).toEqual([]);
    expect(m.notices.map((n) => n.kind)).toEqual(['PartialResults']);
    expect(m.notices[0].message).toContain('window: 1 of 3 shards failed (node_not_connected_exception');
  });

  test('a timed-out search is partial too', () => {
    const m = mapSearchResponses(msearchItems(docs, config, window, { timedOutShards: [0] }), config);
    expect(m.partial).toBe(true);
    expect(m.notices[0].message).toContain('timed out');
    expect(m.window!.requests).toBe(docs.filter((_, i) => i % 3 !== 0).length);
  });

  test('a text host field costs only the host table; the error names the field and its keyword sub-field', () => {
    const m = mapSearchResponses(msearchItems(docs, config, window, { mappings: { 'url.domain': 'text' } }), config);
    expect(m.window).toEqual(f);
    expect(m.comparison).toEqual(results.comparison);
    expect(m.topHosts).toBeUndefined();
    expect(m.problems).toHaveLength(1);
    expect(m.problems[0]).toEqual(expect.objectContaining({ kind: 'field-mapping', field: 'url.domain' }));
    expect(m.problems[0].message).toContain('the field "url.domain" (fields.host) is a text field');
    expect(m.problems[0].message).toContain('"url.domain.keyword"');
    expect(m.problems[0].message).toContain('the slowest-hosts table');
  });

  test('a text customer field costs only the customer column of the host table', () => {
    const m = mapSearchResponses(msearchItems(docs, config, window, { mappings: { 'waf.customer': 'text' } }), config);
    expect(m.topHosts!.map((h) => h.customer)).toEqual(direct.topHosts.map(() => undefined));
    expect(m.topHosts!.map(({ customer, ...rest }) => rest)).toEqual(direct.topHosts.map(({ customer, ...rest }) => rest));
    expect(m.problems.map((p) => `${p.kind} ${p.field}`)).toEqual(['field-mapping waf.customer']);
    expect(m.problems[0].message).toContain('set fields.customer to its keyword sub-field "waf.customer.keyword"');
  });

  test('a latency field mapped as keyword fails every search that needs it: one problem naming the field', () => {
    const m = mapSearchResponses(msearchItems(docs, config, window, { mappings: { 'waf.latency_ms': 'keyword' } }), config);
    expect(m.window).toBeUndefined();
    expect(m.problems).toHaveLength(1);
    expect(m.problems[0].message).toContain('"waf.latency_ms" (fields.latencyMs) is mapped as keyword');
    expect(m.problems[0].message).toContain('latency against earlier windows');
  });

  test('more distinct hosts than the ranking\'s shard_size: a TopHostsApproximate notice', () => {
    const many = Array.from({ length: 300 }, (_, i) => wafDoc(inWindow(i), i, 'allowed', `h${i % 150}.example.com`));
    const small = testConfig({ hostShardSize: 100 });
    const m = mapSearchResponses(msearchItems(many, small, window), small);
    expect(m.notices.map((n) => n.kind)).toEqual(['TopHostsApproximate']);
    expect(m.notices[0].message).toContain('about 150 distinct hosts');
    expect(mapSearchResponses(msearchItems(many, testConfig(), window), testConfig()).notices).toEqual([]);
  });

  test('no document with a latency: counts stay, latency figures are absent, a notice (not a problem) names the field', () => {
    const noLatency = docs.slice(0, 50).map((d) => ({ ...d, waf: { status: d.waf.status, customer: d.waf.customer } }));
    const m = mapSearchResponses(msearchItems(noLatency, config, window), config);
    expect(m.window!.requests).toBe(50);
    expect(m.window!.withoutLatency).toBe(50);
    expect(m.window!.latencyAverageMs).toBeUndefined();
    expect(m.window!.latencyP95Ms).toBeUndefined();
    expect(m.window!.timeoutPercent).toBeUndefined();
    expect(m.window!.apdex).toBeUndefined();
    expect(m.problems).toEqual([]);
    expect(m.notices.map((n) => n.kind)).toEqual(['DocumentsWithoutLatency']);
    expect(m.notices[0].message).toContain('none of the 50 documents');
    expect(m.notices[0].message).toContain('"waf.latency_ms"');
  });

  test('some documents without a latency: counted in DocumentsWithoutLatency, left out of the latency figures', () => {
    const mixed = docs.slice(0, 30).map((d, i) => (i % 3 === 0 ? { ...d, waf: { status: 'blocked', customer: d.waf.customer } } : d));
    const m = mapSearchResponses(msearchItems(mixed, config, window), config);
    const d = directFigures(mixed, config, window);
    expect(m.window!.withoutLatency).toBe(10);
    expect(m.window!.withoutLatency).toBe(d.withoutLatency);
    expect(m.window!.latencyCount).toBe(20);
    expect(m.window!.latencyAverageMs).toBeCloseTo(d.latencyAverageMs!, 9);
    expect(m.problems).toEqual([]);
    expect(m.notices.map((n) => n.kind)).toEqual(['DocumentsWithoutLatency']);
    expect(m.notices[0].message).toContain('10 of the 30 documents');
  });

  test('documents without status: a notice and a count; without host: still a problem (no host table at all)', () => {
    const bare = docs.slice(0, 20).map((d) => ({ ...d, waf: { latency_ms: d.waf.latency_ms }, url: {} }));
    const m = mapSearchResponses(msearchItems(bare, config, window), config);
    expect(m.problems.map((p) => p.kind)).toEqual(['missing-field']);
    expect(m.problems[0].message).toContain('"url.domain"');
    expect(m.window!.withoutStatus).toBe(20);
    expect(m.notices.map((n) => n.kind)).toEqual(['DocumentsWithoutStatus']);
    expect(m.notices[0].message).toContain('"waf.status"');
    expect(m.notices[0].message).toContain('allowed/blocked/alerted');
    expect(m.window!.latencyAverageMs).toBeGreaterThan(0);
  });

  test('a response without aggregations from an index that exists is reported, not thrown', () => {
    const m = mapWindowResponse({ took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { total: { value: 3, relation: 'eq' }, hits: [] }, status: 200 }, config);
    expect(m.value).toBeUndefined();
    expect(m.problems[0].message).toMatch(/lacks aggregations/);
  });

  test('a missing _msearch item is a response problem of that search only', () => {
    const items = msearchItems(docs, config, window).slice(0, 5);
    const m = mapSearchResponses(items, config);
    expect(m.problems.map((p) => `${p.kind}:${p.source}`)).toEqual(['response:comparison search', 'response:status_codes search', 'response:freshness search']);
    expect(m.window).toEqual(f);
  });
});

describe('mapComparisonResponse', () => {
  test('average latency per compared window; an empty earlier window has no average', () => {
    const docs = [
      wafDoc(new Date(window.start.getTime() + 1000), 10, 'allowed', 'a'),
      wafDoc(new Date(window.start.getTime() + 2000), 30, 'allowed', 'a'),
      wafDoc(new Date(window.start.getTime() - 3_600_000 + 5000), 80, 'allowed', 'a'),
      wafDoc(new Date(window.start.getTime() - 72 * 3_600_000), 5, 'allowed', 'a'),
      // between compared windows: counted nowhere
      wafDoc(new Date(window.start.getTime() - 2 * 3_600_000), 1000, 'allowed', 'a'),
    ];
    const m = mapComparisonResponse(msearchItems(docs, config, window)[SEARCH_ORDER.indexOf('comparison')]);
    expect(m.problems).toEqual([]);
    expect(m.value).toEqual([
      { offset: 'now', requests: 2, averageLatencyMs: 20 },
      { offset: '1h', requests: 1, averageLatencyMs: 80 },
      { offset: '6h', requests: 0, averageLatencyMs: undefined },
      { offset: '12h', requests: 0, averageLatencyMs: undefined },
      { offset: '1d', requests: 0, averageLatencyMs: undefined },
      { offset: '3d', requests: 1, averageLatencyMs: 5 },
    ]);
  });

  test('a missing bucket is a response problem', () => {
    const item = msearchItems([], config, window)[SEARCH_ORDER.indexOf('comparison')] as any;
    delete item.aggregations.windows.buckets['12h'];
    const m = mapComparisonResponse(item);
    expect(m.value).toBeUndefined();
    expect(m.problems[0].message).toContain('12h');
  });
});

describe('mapNodeStats', () => {
  test('CPU, heap and disk free percent per node', () => {
    const m = mapNodeStats(nodesStatsBody({
      a1B2: nodeStats('instance-0000000001', 37, 61, 400_000_000_000, 100_000_000_000),
      c3D4: nodeStats('instance-0000000002', 12, 48, 400_000_000_000, 300_000_000_000),
    }));
    expect(m.problems).toEqual([]);
    expect(m.value).toEqual([
      { id: 'a1B2', name: 'instance-0000000001', cpuPercent: 37, heapUsedPercent: 61, diskFreePercent: 25 },
      { id: 'c3D4', name: 'instance-0000000002', cpuPercent: 12, heapUsedPercent: 48, diskFreePercent: 75 },
    ]);
  });

  test('a node missing fields keeps what it has and each missing path is a problem naming the node', () => {
    const partial = { name: 'instance-0000000003', os: { cpu: { percent: 22 } }, jvm: { mem: {} } };
    const m = mapNodeStats(nodesStatsBody({ e5F6: partial }));
    expect(m.value).toEqual([{ id: 'e5F6', name: 'instance-0000000003', cpuPercent: 22, heapUsedPercent: undefined, diskFreePercent: undefined }]);
    expect(m.problems.map((p) => [p.kind, p.source])).toEqual([
      ['missing-field', 'node:instance-0000000003'],
      ['missing-field', 'node:instance-0000000003'],
    ]);
    expect(m.problems[0].message).toContain('jvm.mem.heap_used_percent');
    expect(m.problems[1].message).toContain('available_in_bytes');
  });

  test('several nodes missing a field are one problem with their count and at most three names, each cut to 100 characters', () => {
    const long = 'x'.repeat(5_000);
    const m = mapNodeStats(nodesStatsBody({
      a: nodeStats('ok-1', 1, 2, 100, 50),
      b: { name: long, process: { cpu: { percent: 3 } }, fs: { total: { total_in_bytes: 100, available_in_bytes: 10 } } },
      c: { name: 'n-c', process: { cpu: { percent: 3 } }, fs: { total: { total_in_bytes: 100, available_in_bytes: 10 } } },
      d: { name: 'n-d', process: { cpu: { percent: 3 } }, fs: { total: { total_in_bytes: 100, available_in_bytes: 10 } } },
      e: { name: 'n-e', process: { cpu: { percent: 3 } }, fs: { total: { total_in_bytes: 100, available_in_bytes: 10 } } },
    }));
    expect(m.value).toHaveLength(5);
    expect(m.problems).toEqual([{
      kind: 'missing-field',
      source: '_nodes/stats',
      message: `4 nodes report no jvm.mem.heap_used_percent in _nodes/stats, e.g. ${'x'.repeat(100)}..., n-c, n-d and 1 more`,
    }]);
  });

  test('no nodes (a user without the monitor privilege gets an empty filtered body) is a problem', () => {
    const m = mapNodeStats({});
    expect(m.value).toEqual([]);
    expect(m.problems[0].message).toMatch(/no nodes.*monitor privilege/);
  });

  test('nodes that failed to report are a problem, the others are still read', () => {
    const m = mapNodeStats(nodesStatsBody({ a: nodeStats('n1', 1, 2, 100, 50) }, 2));
    expect(m.value).toHaveLength(1);
    expect(m.problems).toEqual([expect.objectContaining({ kind: 'response', message: expect.stringContaining('2 node(s)') })]);
  });
});
