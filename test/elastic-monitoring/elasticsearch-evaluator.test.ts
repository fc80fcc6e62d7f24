import * as fc from 'fast-check';
import { Doc, EsError, EvaluatedCluster, exactPercentile } from '../support/elasticsearch-evaluator';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 12, minute)).toISOString();
const doc = (minute: number, host: string, latency: number | undefined, status = 'allowed'): Doc => ({
  '@timestamp': at(minute),
  'url': { domain: host },
  'waf': { latency_ms: latency, status },
});

function error(fn: () => unknown): EsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EsError) return e;
    throw e;
  }
  throw new Error('expected an Elasticsearch error');
}

describe('queries', () => {
  const docs = [doc(0, 'a', 10), doc(1, 'b', 20, 'blocked'), doc(2, 'a', 30, 'alerted'), doc(3, 'c', undefined), doc(5, 'a', 50)];
  const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 2 }]);
  const total = (query: object) => es.search('waf-*', { size: 0, query }).hits.total.value;

  test('range on a date: gte inclusive, lt exclusive, ISO bounds', () => {
    expect(total({ range: { '@timestamp': { gte: at(1), lt: at(3), format: 'strict_date_optional_time' } } })).toBe(2);
    expect(total({ range: { '@timestamp': { gt: at(1), lte: at(3) } } })).toBe(2);
  });

  test('range on a number, term, terms, exists, and bool filter/should/must_not', () => {
    expect(total({ range: { 'waf.latency_ms': { gt: 10, lte: 30 } } })).toBe(2);
    expect(total({ term: { 'waf.status': 'blocked' } })).toBe(1);
    expect(total({ term: { 'waf.status': { value: 'allowed' } } })).toBe(3);
    expect(total({ terms: { 'url.domain': ['a', 'c'] } })).toBe(4);
    expect(total({ exists: { field: 'waf.latency_ms' } })).toBe(4);
    expect(total({ bool: { filter: [{ term: { 'url.domain': 'a' } }], must_not: [{ range: { 'waf.latency_ms': { gte: 50 } } }] } })).toBe(2);
    expect(total({ bool: { should: [{ term: { 'url.domain': 'b' } }, { term: { 'url.domain': 'c' } }], minimum_should_match: 1 } })).toBe(2);
    expect(total({ bool: { filter: [{ term: { 'url.domain': 'a' } }], should: [{ term: { 'url.domain': 'b' } }], minimum_should_match: 1 } })).toBe(0);
  });

  test('an unknown query is a 400, not a silent match', () => {
    expect(error(() => total({ match_phrase: { 'url.domain': 'a' } })).status).toBe(400);
  });

  test('track_total_hits: false leaves hits.total out', () => {
    expect(es.search('waf-1', { size: 0, track_total_hits: false }).hits).not.toHaveProperty('total');
  });
});

describe('aggregations', () => {
  const docs = [doc(0, 'a', 1), doc(1, 'b', 2, 'blocked'), doc(2, 'a', 3), doc(3, 'c', undefined), doc(4, 'a', 250)];
  const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 3 }]);
  const aggs = (a: object) => es.search('waf-1', { size: 0, aggs: a }).aggregations;

  test('stats, avg, sum, min, max, value_count and cardinality over the values present', () => {
    const r = aggs({
      s: { stats: { field: 'waf.latency_ms' } },
      a: { avg: { field: 'waf.latency_ms' } },
      t: { sum: { field: 'waf.latency_ms' } },
      lo: { min: { field: 'waf.latency_ms' } },
      hi: { max: { field: 'waf.latency_ms' } },
      n: { value_count: { field: 'waf.latency_ms' } },
      hosts: { cardinality: { field: 'url.domain' } },
    });
    expect(r.s).toEqual({ count: 4, min: 1, max: 250, avg: 64, sum: 256 });
    expect([r.a.value, r.t.value, r.lo.value, r.hi.value, r.n.value, r.hosts.value]).toEqual([64, 256, 1, 250, 4, 3]);
  });

  test('over no values: stats count 0 with null min/max/avg, avg null, sum 0', () => {
    const r = es.search('waf-1', { size: 0, query: { term: { 'url.domain': 'c' } }, aggs: { s: { stats: { field: 'waf.latency_ms' } }, a: { avg: { field: 'waf.latency_ms' } }, t: { sum: { field: 'waf.latency_ms' } } } }).aggregations;
    expect(r).toEqual({ s: { count: 0, min: null, max: null, avg: null, sum: 0 }, a: { value: null }, t: { value: 0 } });
  });

  test('filter and keyed filters with sub-aggregations', () => {
    const r = aggs({
      slow: { filter: { range: { 'waf.latency_ms': { gt: 2 } } }, aggs: { avg: { avg: { field: 'waf.latency_ms' } } } },
      status: { filters: { filters: { allowed: { term: { 'waf.status': 'allowed' } }, blocked: { term: { 'waf.status': 'blocked' } } } } },
    });
    expect(r.slow).toEqual({ doc_count: 2, avg: { value: 126.5 } });
    expect(r.status.buckets).toEqual({ allowed: { doc_count: 4 }, blocked: { doc_count: 1 } });
  });

  test('range: from inclusive, to exclusive, keyed false as a list with Elasticsearch keys', () => {
    const r = aggs({ r: { range: { field: 'waf.latency_ms', keyed: false, ranges: [{ to: 2 }, { from: 2, to: 3 }, { from: 3 }] }, aggs: { s: { sum: { field: 'waf.latency_ms' } } } } });
    expect(r.r.buckets).toEqual([
      { key: '*-2.0', to: 2, doc_count: 1, s: { value: 1 } },
      { key: '2.0-3.0', from: 2, to: 3, doc_count: 1, s: { value: 2 } },
      { key: '3.0-*', from: 3, doc_count: 2, s: { value: 253 } },
    ]);
  });

  test('date_range keyed by the given keys, with epoch and string bounds', () => {
    const r = aggs({ d: { date_range: { field: '@timestamp', keyed: true, ranges: [{ key: 'early', from: at(0), to: at(2) }, { key: 'late', from: at(2), to: at(9) }] } } });
    expect(r.d.buckets.early).toEqual({ from: Date.parse(at(0)), from_as_string: at(0), to: Date.parse(at(2)), to_as_string: at(2), doc_count: 2 });
    expect(r.d.buckets.late.doc_count).toBe(3);
  });

  test('terms by count, ties by key, with size, min_doc_count and sum_other_doc_count', () => {
    const r = aggs({ h: { terms: { field: 'url.domain', size: 2 } } });
    expect(r.h.buckets).toEqual([{ key: 'a', doc_count: 3 }, { key: 'b', doc_count: 1 }]);
    expect(r.h.sum_other_doc_count).toBe(1);
    expect(aggs({ h: { terms: { field: 'url.domain', min_doc_count: 2 } } }).h.buckets).toEqual([{ key: 'a', doc_count: 3 }]);
  });

  test('terms ordered by a sub-aggregation; buckets without a value go last', () => {
    const r = aggs({ h: { terms: { field: 'url.domain', size: 3, order: { avg: 'desc' } }, aggs: { avg: { avg: { field: 'waf.latency_ms' } } } } });
    expect(r.h.buckets.map((b: any) => [b.key, b.avg.value])).toEqual([['a', 254 / 3], ['b', 2], ['c', null]]);
  });
});

describe('multi-shard terms semantics', () => {
  // Host "x" is slow in one request on shard 0 and fast in 100 requests on shard 1, where 11 other hosts are slower.
  const docs: Array<Doc & { shard: number }> = [
    { ...doc(0, 'x', 1000), shard: 0 },
    ...Array.from({ length: 100 }, () => ({ ...doc(1, 'x', 1), shard: 1 })),
    ...Array.from({ length: 11 }, (_, i) => ({ ...doc(1, `y${i}`, 50 + i), shard: 1 })),
  ];
  const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 2, shardOf: (d) => d.shard as number }]);
  const top = (terms: object) => es.search('waf-1', {
    size: 0,
    aggs: { h: { terms: { field: 'url.domain', ...terms, order: { avg: 'desc' } }, aggs: { avg: { avg: { field: 'waf.latency_ms' } } } } },
  }).aggregations.h;

  test('with the default shard_size (size x 1.5 + 10), a shard leaves a term out and the merged figures are wrong', () => {
    const h = top({ size: 1 });
    // as Elasticsearch answers: shard 1 ranked x 12th of 12 and returned 11, so only shard 0's one request counts
    expect(h.buckets).toEqual([{ key: 'x', doc_count: 1, avg: { value: 1000 } }]);
    expect(h.doc_count_error_upper_bound).toBe(-1);
  });

  test('a shard_size above the number of terms per shard makes the result exact', () => {
    const h = top({ size: 1, shard_size: 12 });
    expect(h.buckets).toEqual([{ key: 'y10', doc_count: 1, avg: { value: 60 } }]);
    expect(h.doc_count_error_upper_bound).toBe(0);
    expect(top({ size: 13, shard_size: 100 }).buckets.find((b: any) => b.key === 'x')).toEqual({ key: 'x', doc_count: 101, avg: { value: 1100 / 101 } });
  });

  test('shard_size below size is refused', () => {
    expect(error(() => top({ size: 5, shard_size: 2 })).status).toBe(400);
  });
});

describe('cluster behaviour', () => {
  const docs = Array.from({ length: 30 }, (_, i) => doc(i % 5, `h${i % 3}`, i));

  test('a pattern matching no index: 200, _shards.total 0, no aggregations', () => {
    const es = new EvaluatedCluster([{ name: 'other-1', docs }]);
    const r = es.search('waf-*', { size: 0, aggs: { a: { avg: { field: 'waf.latency_ms' } } } }, { ignore_unavailable: true, allow_no_indices: true });
    expect(r._shards).toEqual({ total: 0, successful: 0, skipped: 0, failed: 0 });
    expect(r.hits.total).toEqual({ value: 0, relation: 'eq' });
    expect(r).not.toHaveProperty('aggregations');
  });

  test('a missing concrete index is a 404 unless ignore_unavailable', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs }]);
    expect(error(() => es.search('waf-2', {})).status).toBe(404);
    expect(es.search('waf-2', {}, { ignore_unavailable: true })._shards.total).toBe(0);
    expect(error(() => es.search('nope-*', {}, { allow_no_indices: false })).status).toBe(404);
  });

  test('failed shards: their documents are missing, _shards.failed counts them with reasons, still 200', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 3, failedShards: [1] }]);
    const r = es.search('waf-1', { size: 0, aggs: { n: { value_count: { field: 'waf.latency_ms' } } } });
    expect(r._shards).toEqual(expect.objectContaining({ total: 3, successful: 2, failed: 1 }));
    expect(r._shards.failures[0]).toEqual(expect.objectContaining({ shard: 1, index: 'waf-1' }));
    expect(r.hits.total.value).toBe(20);
    expect(r.aggregations.n.value).toBe(20);
    expect(r.timed_out).toBe(false);
  });

  test('a timed-out shard: timed_out true and partial figures', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 3, timedOutShards: [2] }]);
    const r = es.search('waf-1', { size: 0 });
    expect(r.timed_out).toBe(true);
    expect(r.hits.total.value).toBe(20);
    expect(r._shards.failed).toBe(0);
  });

  test('every shard failed: 503', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 2, failedShards: [0, 1] }]);
    expect(error(() => es.search('waf-1', {})).status).toBe(503);
  });

  test('aggregating a text field fails the whole search with 400, naming the field; its keyword sub-field works', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs, mappings: { 'url.domain': 'text' } }]);
    const e = error(() => es.search('waf-1', { aggs: { h: { terms: { field: 'url.domain' } } } }));
    expect(e.status).toBe(400);
    expect(JSON.stringify(e.body)).toContain('set fielddata=true on [url.domain]');
    expect(es.search('waf-1', { aggs: { h: { terms: { field: 'url.domain.keyword', size: 1 } } } }).aggregations.h.buckets).toEqual([{ key: 'h0', doc_count: 10 }]);
    // a term query on a text field is not an error: it matches analyzed tokens
    expect(es.search('waf-1', { query: { term: { 'url.domain': 'h1' } } }).hits.total.value).toBe(10);
  });

  test('a numeric aggregation on a keyword field is a 400 naming field and aggregation', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs, mappings: { 'waf.latency_ms': 'keyword' } }]);
    const e = error(() => es.search('waf-1', { aggs: { a: { avg: { field: 'waf.latency_ms' } } } }));
    expect(JSON.stringify(e.body)).toContain('Field [waf.latency_ms] of type [keyword] is not supported for aggregation [avg]');
  });

  test('_msearch: one item per search, an error item does not affect the others', () => {
    const es = new EvaluatedCluster([{ name: 'waf-1', docs, mappings: { 'url.domain': 'text' } }]);
    const r = es.msearch([
      { index: 'waf-*' }, { size: 0, aggs: { h: { terms: { field: 'url.domain' } } } },
      { index: 'waf-*' }, { size: 0, aggs: { a: { sum: { field: 'waf.latency_ms' } } } },
    ]);
    expect(r.responses.map((i: any) => i.status)).toEqual([400, 200]);
    expect(r.responses[0].error.type).toBe('search_phase_execution_exception');
    expect(r.responses[1].aggregations.a.value).toBe(435);
  });
});

describe('percentiles', () => {
  const docs = [doc(0, 'a', 1), doc(1, 'b', 2), doc(2, 'a', 3), doc(3, 'c', undefined), doc(4, 'a', 250)];
  const es = new EvaluatedCluster([{ name: 'waf-1', docs, shards: 3 }]);
  const aggs = (a: object) => es.search('waf-1', { size: 0, aggs: a }).aggregations;

  test('keyed by the percent as a double, over the values present, interpolated between neighbours (Hazen)', () => {
    // 4 values 1, 2, 3, 250 at ranks 0.5, 1.5, 2.5, 3.5 of 4
    expect(aggs({ p: { percentiles: { field: 'waf.latency_ms', percents: [10, 25, 50, 95] } } }).p)
      .toEqual({ values: { '10.0': 1, '25.0': 1.5, '50.0': 2.5, '95.0': 250 } });
    expect(aggs({ p: { percentiles: { field: 'waf.latency_ms', percents: [50], keyed: false } } }).p)
      .toEqual({ values: [{ key: 50, value: 2.5 }] });
  });

  test('no values: null per percent; a keyword field: 400', () => {
    expect(aggs({ f: { filter: { term: { 'url.domain': 'nobody' } }, aggs: { p: { percentiles: { field: 'waf.latency_ms', percents: [95] } } } } }).f.p)
      .toEqual({ values: { '95.0': null } });
    expect(error(() => aggs({ p: { percentiles: { field: 'url.domain', percents: [95] } } })).status).toBe(400);
  });

  test('a percentile lies between the minimum and maximum, grows with the percent, and p50 of an odd count is the median', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }),
      (raw, a, b) => {
        const sorted = [...raw].sort((x, y) => x - y);
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const pLo = exactPercentile(sorted, lo)!;
        const pHi = exactPercentile(sorted, hi)!;
        expect(pLo).toBeGreaterThanOrEqual(sorted[0]);
        expect(pHi).toBeLessThanOrEqual(sorted[sorted.length - 1]);
        expect(pLo).toBeLessThanOrEqual(pHi);
        if (sorted.length % 2 === 1) expect(exactPercentile(sorted, 50)).toBe(sorted[(sorted.length - 1) / 2]);
      }));
  });

  test('the max of a date field comes with its ISO string', () => {
    expect(aggs({ newest: { max: { field: '@timestamp' } } }).newest)
      .toEqual({ value: Date.parse(at(4)), value_as_string: at(4) });
  });
});

describe('node stats and cluster health', () => {
  const cluster = () => new EvaluatedCluster([{ name: 'logs', docs: [], shards: 2, replicas: 1 }], [
    { id: 'a', name: 'node-a', rejected: { search: 4 } },
    { id: 'b', name: 'node-b' },
  ]);

  test('_nodes/stats answers only the metric groups asked for, trimmed by filter_path (* and **)', () => {
    const c = cluster();
    expect(Object.keys(c.nodesStats(['jvm']).nodes.a).filter((k) => !['timestamp', 'name', 'transport_address', 'host', 'ip', 'roles', 'attributes'].includes(k))).toEqual(['jvm']);
    expect(c.nodesStats(['thread_pool', 'jvm'], ['nodes.*.thread_pool.search.rejected', 'nodes.*.name'])).toEqual({
      nodes: { a: { name: 'node-a', thread_pool: { search: { rejected: 4 } } }, b: { name: 'node-b', thread_pool: { search: { rejected: 0 } } } },
    });
    expect(c.nodesStats(['jvm'], ['nodes.*.thread_pool.search.rejected'])).toEqual({});
    expect(c.nodesStats(['jvm'], ['**.old.max_in_bytes']).nodes.a.jvm.mem.pools).toEqual({ old: { max_in_bytes: 4 * 1024 ** 3 } });
    expect(error(() => c.nodesStats(['jvm', 'threadpool'])).status).toBe(400);
  });

  test('rejection counters count since node start; a restart sets them back to 0 and keeps the id', () => {
    const c = cluster().reject('a', 'search', 3).advance(60_000);
    expect(c.nodesStats(['thread_pool']).nodes.a.thread_pool.search.rejected).toBe(7);
    c.restartNode('a').advance(1_000).reject('a', 'search', 1);
    const a = c.nodesStats(['thread_pool', 'jvm']).nodes.a;
    expect([a.thread_pool.search.rejected, a.jvm.uptime_in_millis]).toEqual([1, 1_000]);
  });

  test('an unresponsive node is counted in _nodes.failed and left out of nodes', () => {
    const body = cluster().setUnresponsive('b', true).nodesStats(['os']);
    expect(body._nodes).toEqual(expect.objectContaining({ total: 2, successful: 1, failed: 1 }));
    expect(Object.keys(body.nodes)).toEqual(['a']);
  });

  test('health: green with a node per copy, yellow when replicas lack a node, red when a shard has no copy', () => {
    expect(cluster().clusterHealth(['status', 'unassigned_shards'])).toEqual({ status: 'green', unassigned_shards: 0 });
    expect(cluster().removeNode('b').clusterHealth(['status', 'unassigned_shards'])).toEqual({ status: 'yellow', unassigned_shards: 2 });
    const red = new EvaluatedCluster([{ name: 'logs', docs: [], shards: 2, failedShards: [0] }]);
    expect(red.clusterHealth()).toEqual(expect.objectContaining({ status: 'red', unassigned_shards: 1, active_primary_shards: 1 }));
  });
});
