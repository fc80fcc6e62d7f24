import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import {
  BucketRow, clientAddress, offenders, prefixAsWritten, ruleQuery, sqlString,
} from '../../src/realtime-waf-guard/runtime/detection-query';
import { loggedThreshold } from '../../src/realtime-waf-guard/runtime/sampling-bound';

const T0 = 1_700_000_000_000;
const target = { database: 'guard-db', table: 'requests' };
const period = { fromMs: T0, toMs: T0 + 180_000 };
const rule = (over: Partial<StoredRule> = {}): StoredRule => ({
  ruleId: 'r', host: 'api.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK', enabled: true, ...over,
});

/** The query with every string literal replaced by a placeholder: what no rule value may change. */
const skeleton = (sql: string) => sql.replace(/'(?:[^']|'')*'/g, '?');

describe('rule query text', () => {
  test('exact host, every path: counted routes, the period, the rule bucket, the threshold in logged requests', () => {
    const sql = ruleQuery(rule(), target, period, 100);
    expect(sql).toContain('FROM "guard-db"."requests"');
    expect(sql).toContain(`time BETWEEN from_milliseconds(${T0}) AND from_milliseconds(${T0 + 180_000})`);
    expect(sql).toContain("measure_name = 'request'");
    expect(sql).toContain('"route" IN (\'DIRECT\', \'PROXY\')');
    expect(sql).toContain('"host" = \'api.example.com\'');
    expect(sql).toContain('bin(time, 5000ms)');
    expect(sql).toContain('HAVING SUM(requests) >= 100)');
    expect(sql).not.toContain('"path"');
    // per host: grouped by client and bucket only, never by path
    expect(sql).toContain('GROUP BY "client", bin(time, 5000ms)');
  });

  test('wildcard host: subdomains at any depth, not the apex, without LIKE wildcards', () => {
    const sql = ruleQuery(rule({ host: '*.example.com' }), target, period, 100);
    expect(sql).toContain('length("host") > 12 AND substr("host", length("host") - 11) = \'.example.com\'');
    expect(sql).not.toMatch(/LIKE/i);
  });

  test('path prefix: compared as written (decoded, normalised), by length in characters, without case by default', () => {
    const sql = ruleQuery(rule({ pathPrefix: '/L%6Fgin//Ü' }), target, period, 100);
    expect(prefixAsWritten('/L%6Fgin//Ü')).toBe('/Login/Ü');
    expect(sql).toContain('substr(lower("path"), 1, 8) = \'/login/ü\'');
    const exact = ruleQuery(rule({ pathPrefix: '/L%6Fgin//Ü', pathCaseSensitive: true }), target, period, 100);
    expect(exact).toContain('substr("path", 1, 8) = \'/Login/Ü\'');
  });

  test('wildcard host with a path prefix, and a one-hour window', () => {
    const sql = ruleQuery(rule({ host: '*.shop.example', pathPrefix: '/cart', windowSeconds: 3600 }), target, period, 100);
    expect(sql).toContain('substr("host", length("host") - 12) = \'.shop.example\'');
    expect(sql).toContain('substr(lower("path"), 1, 5) = \'/cart\'');
    expect(sql).toContain('bin(time, 300000ms)');
  });

  test('below 100% the query keeps the clients whose period total reaches the rule\'s logged threshold k*', () => {
    expect(ruleQuery(rule({ threshold: 1000 }), target, period, 100)).toContain('HAVING SUM(requests) >= 1000)');
    // k* for 1,000 per minute at 5% (see sampling-bound.test.ts): above the point estimate of 50
    expect(loggedThreshold(1000, 5, 60)).toBe(70);
    expect(ruleQuery(rule({ threshold: 1000 }), target, period, 5)).toContain('HAVING SUM(requests) >= 70)');
  });

  test('an injection attempt in a host or path prefix stays inside its string literal', () => {
    const benign = ruleQuery(rule({ host: '*.example.com', pathPrefix: '/login' }), target, period, 100);
    const hostile = ruleQuery(rule({
      host: "*.example.com' OR '1'='1",
      pathPrefix: "/x') OR 1=1 UNION SELECT \"client\", 0, 1000000, 0, 0, 0 FROM \"guard-db\".\"requests\" --",
    }), target, period, 100);
    expect(skeleton(hostile).replace(/\d+/g, 'N')).toBe(skeleton(benign).replace(/\d+/g, 'N'));
    expect(hostile).toContain('\'.example.com\'\' OR \'\'1\'\'=\'\'1\'');
    expect(sqlString("it's")).toBe("'it''s'");
  });

  test('quotes in database and table names cannot close the identifier', () => {
    expect(ruleQuery(rule(), { database: 'a"b', table: 't' }, period, 100)).toContain('FROM "a""b"."t"');
  });
});

describe('offenders from the answer', () => {
  const row = (client: string, second: number, requests: number, over: Partial<BucketRow> = {}): BucketRow => ({
    client, bucketMs: T0 + second * 1000, requests, proxied: 0, firstMs: T0 + second * 1000, lastMs: T0 + second * 1000 + 9_000, ...over,
  });

  test('a sliding window of buckets decides, by the sampling bound below 100%', () => {
    const r = rule({ threshold: 100 });
    // 60 + 50 in adjacent buckets of one window; 60 and 50 a window apart never add up.
    const rows = [row('198.51.100.7', 0, 60), row('198.51.100.7', 10, 50), row('192.0.2.1', 0, 60), row('192.0.2.1', 60, 50)];
    const found = offenders(r, rows, 100, T0);
    expect(found.map((c) => c.ip.text)).toEqual(['198.51.100.7']);
    expect(found[0].observed).toBe(110);
    expect(found[0].crossedAtMs).toBe(T0 + 19_000);
    expect(found[0].firstSeenMs).toBe(T0);
    expect(found[0].route).toBe('DIRECT');
    // At 10% sampling 11 logged requests estimate 110, but many windows a day would show that by chance for a client
    // at 70%: the sampling bound asks for 24 logged requests in one window, as streaming detection does.
    expect(offenders(r, [row('198.51.100.7', 0, 6), row('198.51.100.7', 10, 5)], 10, T0)).toEqual([]);
    expect(offenders(r, [row('198.51.100.7', 0, 14), row('198.51.100.7', 10, 10)], 10, T0).map((c) => c.observed)).toEqual([240]);
    expect(offenders(r, [row('198.51.100.7', 0, 14), row('198.51.100.7', 10, 9)], 10, T0)).toEqual([]);
  });

  test('windows judged by the previous run are not reported again', () => {
    const rows = [row('198.51.100.7', 0, 120), row('198.51.100.7', 100, 1)];
    expect(offenders(rule(), rows, 100, T0 + 50_000)).toEqual([]);
    expect(offenders(rule(), rows, 100, T0)).toHaveLength(1);
  });

  test('routes and clients: proxied, both, IPv6 prefixes; unreadable clients are skipped', () => {
    const rows = [
      row('198.51.100.7', 0, 120, { proxied: 120 }),
      row('192.0.2.1', 0, 120, { proxied: 30 }),
      row('2001:db8:1:2::/64', 0, 120),
      row('not-an-ip', 0, 500),
    ];
    const found = offenders(rule(), rows, 100, T0);
    expect(found.map((c) => [c.ip.text, c.ip.family, c.route])).toEqual([
      ['198.51.100.7', 4, 'PROXY'], ['192.0.2.1', 4, 'BOTH'], ['2001:db8:1:2::/64', 6, 'DIRECT'],
    ]);
    expect(clientAddress('10.0.0.0/8')).toBeUndefined();
  });
});
