import { testConfig } from './es-fixtures';
import { DEFAULT_FIELDS } from '../../src/elastic-monitoring/runtime/config';
import {
  LATENCY_BUCKET_BOUNDS_MS,
  NODE_STATS_REQUEST,
  SEARCH_ORDER,
  buildMsearch,
  collectionWindow,
  comparisonSearchBody,
  freshnessSearchBody,
  hostDetailSearchBody,
  statusCodesSearchBody,
  topHostsSearchBody,
  windowSearchBody,
} from '../../src/elastic-monitoring/runtime/queries';

const customFields = {
  timestamp: 'ts',
  latency: 'timing.waf',
  status: 'verdict',
  host: 'req.host',
  customer: 'tenant',
  clientIp: 'src_ip',
  requestBytes: 'bytes_in',
  responseBytes: 'bytes_out',
  httpStatusCode: 'code',
};

describe('collectionWindow', () => {
  test('ends on an interval boundary before the ingest delay and stamps the last interval', () => {
    const w = collectionWindow(new Date('2026-11-21T12:07:30Z'), testConfig());
    expect(w.end.toISOString()).toBe('2026-11-21T12:05:00.000Z');
    expect(w.start.toISOString()).toBe('2026-11-21T12:00:00.000Z');
    expect(w.timestamp.toISOString()).toBe('2026-11-21T12:00:00.000Z');
  });

  test('a run just after the boundary still waits for the ingest delay', () => {
    const w = collectionWindow(new Date('2026-11-21T12:05:20Z'), testConfig());
    expect(w.end.toISOString()).toBe('2026-11-21T12:00:00.000Z');
  });

  test('a window longer than the interval overlaps the previous one but keeps one timestamp per interval', () => {
    const w = collectionWindow(new Date('2026-11-21T12:07:30Z'), testConfig({ windowMs: 900_000 }));
    expect(w.start.toISOString()).toBe('2026-11-21T11:50:00.000Z');
    expect(w.end.toISOString()).toBe('2026-11-21T12:05:00.000Z');
    expect(w.timestamp.toISOString()).toBe('2026-11-21T12:00:00.000Z');
  });
});

describe('LATENCY_BUCKET_BOUNDS_MS', () => {
  test('increase by at most 2x (1.5x from 20 ms on) up to 10 minutes', () => {
    const b = LATENCY_BUCKET_BOUNDS_MS;
    for (let i = 1; i < b.length; i++) {
      expect(b[i]).toBeGreaterThan(b[i - 1]);
      expect(b[i] / b[i - 1]).toBeLessThanOrEqual(b[i - 1] >= 20 ? 1.5 : 2);
    }
    expect(b[b.length - 1]).toBe(600_000);
  });
});

describe('windowSearchBody', () => {
  const config = testConfig({ fields: customFields, statusValues: { allowed: 'PASS', blocked: 'DENY', alerted: 'LOG' }, topN: 7, apdexTMs: 50, timeoutThresholdMs: 10_000 });
  const window = collectionWindow(new Date('2026-11-21T12:07:30Z'), config);
  const body = windowSearchBody(config, window) as any;

  test('filters the window on the timestamp field, start inclusive and end exclusive', () => {
    expect(body.query.bool.filter).toEqual([
      { range: { ts: { gte: '2026-11-21T12:00:00.000Z', lt: '2026-11-21T12:05:00.000Z', format: 'strict_date_optional_time' } } },
    ]);
    expect(body.size).toBe(0);
    expect(body.track_total_hits).toBe(true);
  });

  test('latency figures use the latency field, and the no-timeout variant keeps requests up to the threshold', () => {
    expect(body.aggs.latency).toEqual({ stats: { field: 'timing.waf' } });
    const buckets = body.aggs.latency_buckets;
    expect(buckets.range.field).toBe('timing.waf');
    expect(buckets.range.ranges[0]).toEqual({ to: 1 });
    expect(buckets.range.ranges[1]).toEqual({ from: 1, to: 2 });
    expect(buckets.range.ranges[buckets.range.ranges.length - 1]).toEqual({ from: 600_000 });
    expect(buckets.range.ranges).toHaveLength(LATENCY_BUCKET_BOUNDS_MS.length + 1);
    expect(buckets.aggs).toEqual({ sum: { sum: { field: 'timing.waf' } } });
    expect(body.aggs.within_timeout.filter).toEqual({ range: { 'timing.waf': { lte: 10_000 } } });
    expect(body.aggs.within_timeout.aggs.latency_buckets).toEqual(buckets);
  });

  test('Apdex buckets follow satisfied <= T < tolerating <= 4T', () => {
    expect(body.aggs.apdex_satisfied.filter).toEqual({ range: { 'timing.waf': { lte: 50 } } });
    expect(body.aggs.apdex_tolerating.filter).toEqual({ range: { 'timing.waf': { gt: 50, lte: 200 } } });
  });

  test('status split uses the configured status values, one named filter each', () => {
    expect(body.aggs.status.filters.filters).toEqual({
      allowed: { term: { verdict: 'PASS' } },
      blocked: { term: { verdict: 'DENY' } },
      alerted: { term: { verdict: 'LOG' } },
    });
  });

  test('the window search aggregates no host, customer, client or byte field, so their mappings cannot fail it', () => {
    const text = JSON.stringify(body);
    for (const f of ['req.host', 'tenant', 'src_ip', 'bytes_in', 'bytes_out', '"code"']) expect(text).not.toContain(f);
  });

  test('Apdex over allowed requests only: < T satisfied, [T, 4T) tolerating, its own total', () => {
    const allowed = windowSearchBody({ ...config, apdexDefinition: 'allowedRequests' }, window) as any;
    const isAllowed = { term: { verdict: 'PASS' } };
    expect(allowed.aggs.apdex_total.filter.bool.filter).toEqual([isAllowed, { exists: { field: 'timing.waf' } }]);
    expect(allowed.aggs.apdex_satisfied.filter.bool.filter).toEqual([isAllowed, { range: { 'timing.waf': { lt: 50 } } }]);
    expect(allowed.aggs.apdex_tolerating.filter.bool.filter).toEqual([isAllowed, { range: { 'timing.waf': { gte: 50, lt: 200 } } }]);
  });
});

describe('host searches', () => {
  const config = testConfig({ fields: customFields, topN: 7, timeoutThresholdMs: 10_000 });
  const window = collectionWindow(new Date('2026-11-21T12:07:30Z'), config);

  test('the ranking: top-N by average latency with a shard_size that makes it exact, ties by host, and the host count that checks the bound', () => {
    const body = topHostsSearchBody(config, window) as any;
    expect(body.aggs.top_hosts.terms).toEqual({
      field: 'req.host', size: 7, shard_size: 5_000, order: [{ avg_latency: 'desc' }, { _key: 'asc' }],
    });
    expect(body.aggs.top_hosts.aggs.avg_latency).toEqual({ avg: { field: 'timing.waf' } });
    expect(body.aggs.top_hosts.aggs.timeouts.filter).toEqual({ range: { 'timing.waf': { gt: 10_000 } } });
    expect(body.aggs.distinct_hosts.cardinality).toEqual({ field: 'req.host', precision_threshold: 5_000 });
    expect(topHostsSearchBody({ ...config, hostShardSize: 300 }, window)).toHaveProperty('aggs.top_hosts.terms.shard_size', 300);
  });

  test('each detail search ranks the same way and aggregates only its own fields', () => {
    const ranking = (topHostsSearchBody(config, window) as any).aggs.top_hosts.terms;
    const customer = hostDetailSearchBody(config, window, 'host_customer') as any;
    const clients = hostDetailSearchBody(config, window, 'host_clients') as any;
    const traffic = hostDetailSearchBody(config, window, 'host_traffic') as any;
    for (const b of [customer, clients, traffic]) expect(b.aggs.top_hosts.terms).toEqual(ranking);
    expect(Object.keys(customer.aggs.top_hosts.aggs)).toEqual(['avg_latency', 'customer']);
    expect(customer.aggs.top_hosts.aggs.customer.terms.field).toBe('tenant');
    expect(clients.aggs.top_hosts.aggs.clients.cardinality.field).toBe('src_ip');
    expect(traffic.aggs.top_hosts.aggs.request_bytes.sum.field).toBe('bytes_in');
    expect(traffic.aggs.top_hosts.aggs.response_bytes.sum.field).toBe('bytes_out');
    expect(traffic.aggs.top_hosts.aggs.server_errors.filter).toEqual({ range: { code: { gte: 500 } } });
  });

  test('no default field name leaks into a query with custom fields', () => {
    const text = JSON.stringify(buildMsearch(config, window));
    for (const name of Object.values(DEFAULT_FIELDS)) expect(text).not.toContain(`"${name}"`);
  });
});

describe('comparisonSearchBody', () => {
  const config = testConfig();
  const window = collectionWindow(new Date('2026-11-21T12:07:30Z'), config);
  const body = comparisonSearchBody(config, window) as any;

  test('compares the same window now, 1h, 6h, 12h, 1d and 3d ago', () => {
    const ranges = body.aggs.windows.date_range.ranges;
    expect(ranges.map((r: any) => r.key)).toEqual(['now', '1h', '6h', '12h', '1d', '3d']);
    expect(ranges[0]).toEqual({ key: 'now', from: '2026-11-21T12:00:00.000Z', to: '2026-11-21T12:05:00.000Z' });
    expect(ranges[1]).toEqual({ key: '1h', from: '2026-11-21T11:00:00.000Z', to: '2026-11-21T11:05:00.000Z' });
    expect(ranges[4]).toEqual({ key: '1d', from: '2026-11-20T12:00:00.000Z', to: '2026-11-20T12:05:00.000Z' });
    expect(ranges[5]).toEqual({ key: '3d', from: '2026-11-18T12:00:00.000Z', to: '2026-11-18T12:05:00.000Z' });
    expect(body.aggs.windows.date_range.keyed).toBe(true);
    expect(body.aggs.windows.aggs.avg_latency).toEqual({ avg: { field: DEFAULT_FIELDS.latency } });
  });

  test('the query reads only the compared windows, not the days between them', () => {
    const should = body.query.bool.filter[0].bool.should;
    expect(should).toHaveLength(6);
    expect(should[5]).toEqual({
      range: { '@timestamp': { gte: '2026-11-18T12:00:00.000Z', lt: '2026-11-18T12:05:00.000Z', format: 'strict_date_optional_time' } },
    });
    expect(body.query.bool.filter[0].bool.minimum_should_match).toBe(1);
  });
});

describe('buildMsearch', () => {
  test('is one request: a header and a body per search, in SEARCH_ORDER', () => {
    const config = testConfig();
    const window = collectionWindow(new Date('2026-11-21T12:07:30Z'), config);
    const searches = buildMsearch(config, window);
    expect(SEARCH_ORDER).toEqual(['window', 'top_hosts', 'host_customer', 'host_clients', 'host_traffic', 'comparison', 'status_codes', 'freshness']);
    expect(searches).toHaveLength(16);
    for (let i = 0; i < 16; i += 2) expect(searches[i]).toEqual({ index: 'waf-logs-*', ignore_unavailable: true, allow_no_indices: true });
    expect(searches[1]).toEqual(windowSearchBody(config, window));
    expect(searches[3]).toEqual(topHostsSearchBody(config, window));
    expect(searches[9]).toEqual(hostDetailSearchBody(config, window, 'host_traffic'));
    expect(searches[11]).toEqual(comparisonSearchBody(config, window));
    expect(searches[13]).toEqual(statusCodesSearchBody(config, window));
    expect(searches[15]).toEqual(freshnessSearchBody(config, window));
  });

  test('the freshness search: one max over the timestamp, a day before the window end up to the run, nothing else', () => {
    const config = testConfig();
    const window = collectionWindow(new Date('2026-11-21T12:07:30Z'), config);
    const body = freshnessSearchBody(config, window) as any;
    expect(body.size).toBe(0);
    expect(body.track_total_hits).toBe(false);
    expect(body.aggs).toEqual({ newest: { max: { field: '@timestamp' } } });
    expect(body.query.bool.filter).toEqual([{
      range: { '@timestamp': { gte: '2026-11-20T12:05:00.000Z', lte: '2026-11-21T12:07:30.000Z', format: 'strict_date_optional_time' } },
    }]);
  });

  test('node stats ask only for the figures read', () => {
    expect(NODE_STATS_REQUEST.metric).toEqual(['process', 'os', 'jvm', 'fs', 'thread_pool']);
    expect(NODE_STATS_REQUEST.filter_path).toEqual(expect.arrayContaining([
      'nodes.*.fs.total.available_in_bytes',
      'nodes.*.jvm.mem.pools.old.used_in_bytes',
      'nodes.*.thread_pool.search.rejected',
      'nodes.*.thread_pool.write.rejected',
    ]));
  });
});
