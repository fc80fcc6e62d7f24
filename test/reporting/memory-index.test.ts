import { searchDocuments, UnsupportedSearchError } from '../../src/reporting/sample/memory-index';

/** Five requests, small enough to count by hand; `late` has no latency, `flat` keeps its fields under dotted keys. */
const DOCS = [
  { '@timestamp': '2026-03-10T00:10:00Z', 'waf': { status: 'allowed', latency_ms: 10 }, 'http': { response: { status_code: 200 } } },
  { '@timestamp': '2026-03-10T00:20:00Z', 'waf': { status: 'allowed', latency_ms: 20 }, 'http': { response: { status_code: 304 } } },
  { '@timestamp': '2026-03-10T00:40:00Z', 'waf': { status: 'blocked', latency_ms: 30 }, 'http': { response: { status_code: 403 } } },
  { '@timestamp': '2026-03-10T01:05:00Z', 'waf': { status: 'blocked' }, 'http': { response: { status_code: 403 } } },
  { '@timestamp': '2026-03-10T01:30:00Z', 'waf.status': 'allowed', 'waf.latency_ms': 40, 'http.response.status_code': 503 },
];

const aggs = (body: Record<string, unknown>) => searchDocuments(DOCS, { size: 0, aggs: body }).aggregations;

test('term query: equal as a string, with or without `value`', () => {
  expect(searchDocuments(DOCS, { query: { term: { 'waf.status': 'blocked' } } }).hits.total.value).toBe(2);
  expect(searchDocuments(DOCS, { query: { term: { 'http.response.status_code': { value: 403 } } } }).hits.total.value).toBe(2);
  expect(searchDocuments(DOCS, { query: { term: { 'waf.status': 'alerted' } } }).hits.total.value).toBe(0);
});

test('filters aggregation: named buckets keyed by name, a list as a list; a document may be in several', () => {
  const named = aggs({
    f: { filters: { filters: { blocked: { term: { 'waf.status': 'blocked' } }, slow: { range: { 'waf.latency_ms': { gte: 20 } } } } } },
  });
  expect(named.f.buckets).toEqual({ blocked: { doc_count: 2 }, slow: { doc_count: 3 } });
  const listed = aggs({ f: { filters: { filters: [{ match_all: {} }, { exists: { field: 'waf.latency_ms' } }] } } });
  expect(listed.f.buckets).toEqual([{ doc_count: 5 }, { doc_count: 4 }]);
});

test('range aggregation: from inclusive, to exclusive, keys as Elasticsearch writes them, sub-aggregations per range', () => {
  const answer = aggs({
    r: { range: { field: 'http.response.status_code', ranges: [{ from: 200, to: 300 }, { from: 300, to: 400 }, { from: 400, to: 500 }, { from: 500 }] }, aggs: { l: { avg: { field: 'waf.latency_ms' } } } },
  });
  expect(answer.r.buckets).toEqual([
    { key: '200.0-300.0', from: 200, to: 300, doc_count: 1, l: { value: 10 } },
    { key: '300.0-400.0', from: 300, to: 400, doc_count: 1, l: { value: 20 } },
    { key: '400.0-500.0', from: 400, to: 500, doc_count: 2, l: { value: 30 } },
    { key: '500.0-*', from: 500, doc_count: 1, l: { value: 40 } },
  ]);
});

test('percentiles: interpolated between the nearest ranks of the documents that have the field, keyed "95.0"', () => {
  // latencies 10, 20, 30, 40: rank of p50 = 1.5 -> 25; p95 = 2.85 -> 38.5
  expect(aggs({ p: { percentiles: { field: 'waf.latency_ms', percents: [50, 95] } } }).p.values).toEqual({ '50.0': 25, '95.0': 38.5 });
  expect(aggs({ p: { percentiles: { field: 'missing', percents: [95] } } }).p.values).toEqual({ '95.0': null });
});

test('date_histogram with a fixed_interval: buckets of that length from the epoch, documents without the field in none', () => {
  const answer = aggs({ h: { date_histogram: { field: '@timestamp', fixed_interval: '30m' } } });
  expect(answer.h.buckets.map((b: any) => [b.key_as_string, b.doc_count])).toEqual([
    ['2026-03-10T00:00:00.000Z', 2], ['2026-03-10T00:30:00.000Z', 1], ['2026-03-10T01:00:00.000Z', 1], ['2026-03-10T01:30:00.000Z', 1],
  ]);
  expect(aggs({ h: { date_histogram: { field: 'nope', fixed_interval: '1h' } } }).h.buckets).toEqual([]);
  expect(() => aggs({ h: { date_histogram: { field: '@timestamp', fixed_interval: '1w' } } })).toThrow(UnsupportedSearchError);
});
