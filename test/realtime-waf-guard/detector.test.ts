import fc from 'fast-check';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import {
  bucketMs, bucketsPerWindow, busiestWindow, hostMatches, maxWindowTotal, normalisePath, pathReadings, resolveClient, RuleMatcher,
  scaleToRealRequests, TrafficCounter, windowTotal,
} from '../../src/realtime-waf-guard/runtime/detector';
import { CidrSet, parseCidrList, parseIp } from '../../src/realtime-waf-guard/runtime/ip';
import { Malformed } from '../../src/realtime-waf-guard/runtime/log-parser';
import { logLine, recordData } from '../support/log-lines';

const fields = deliveredFieldOrder([]);
const rule = (over: Partial<StoredRule>): StoredRule => ({
  ruleId: 'r', host: 'api.example.com', threshold: 10, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true, ...over,
});
const none = new CidrSet([]);
const cidrs = (...c: string[]) => new CidrSet(parseCidrList(c, 'test'));
const line = (ip: string, host = 'api.example.com', extra: Record<string, string> = {}, ts = '1700000000.000') =>
  logLine(fields, { 'timestamp': ts, 'c-ip': ip, 'cs-host': host, 'cs-uri-stem': '/x', ...extra });

describe('windows', () => {
  test('twelve buckets per window, never covering more than the window, and eleven covering at least 10/11 of it', () => {
    for (const w of [10, 11, 15, 59, 60, 61, 300, 3599, 3600]) {
      expect(bucketsPerWindow(w)).toBe(12);
      expect(bucketsPerWindow(w) * bucketMs(w)).toBeLessThanOrEqual(w * 1000);
      expect((bucketsPerWindow(w) - 1) * bucketMs(w) * 1.1).toBeGreaterThanOrEqual(w * 1000);
    }
    expect(bucketMs(60)).toBe(5000);
    expect(bucketMs(10)).toBe(833);
  });

  test('windowTotal sums only the buckets of the window ending at the current bucket', () => {
    const buckets = new Map([[100, 5], [101, 1], [105, 2], [112, 7], [113, 9]]);
    // 12 buckets: 101..112 when the current one is 112
    expect(windowTotal(buckets, 60, 112)).toBe(1 + 2 + 7);
    expect(windowTotal(buckets, 60, 113)).toBe(2 + 7 + 9);
  });

  test('busiestWindow looks at every window holding a bucket of the range, also ones ending after it', () => {
    const buckets = new Map([[100, 5], [105, 2], [111, 4], [116, 6], [130, 50]]);
    // windows holding bucket 105: ending 105..116; the busiest is 105..116 (2 + 4 + 6), not 94..105 (5 + 2)
    expect(busiestWindow(buckets, 60, 105, 105)).toEqual({ total: 12, firstBucket: 105, lastBucket: 116 });
    expect(busiestWindow(buckets, 60, 100, 100)).toEqual({ total: 11, firstBucket: 100, lastBucket: 111 });
    expect(busiestWindow(buckets, 60)).toEqual({ total: 50, firstBucket: 130, lastBucket: 130 });
    expect(busiestWindow(new Map(), 60).total).toBe(0);
  });

  test('busiestWindow\'s lastBucket is the newest bucket with requests of the busiest window, where it reached its total', () => {
    const perWindow = bucketsPerWindow(60);
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 30 }),
      fc.nat(), fc.nat(),
      (pairs, i, j) => {
        const buckets = new Map<number, number>();
        for (const [b, c] of pairs) buckets.set(b, (buckets.get(b) ?? 0) + c);
        // As the counter store calls it: the range of the buckets one batch added to, each with requests.
        const [x, y] = [pairs[i % pairs.length][0], pairs[j % pairs.length][0]];
        const [from, to] = [Math.min(x, y), Math.max(x, y)];
        // The model: every window ending at some bucket e, holding a bucket of [from, to].
        let most = 0;
        for (let e = from; e < to + perWindow; e++) most = Math.max(most, windowTotal(buckets, 60, e));
        const best = busiestWindow(buckets, 60, from, to);
        expect(best.total).toBe(most);
        // It has requests, ends the window (nothing newer in it), and the window up to it holds the whole total.
        expect(buckets.get(best.lastBucket) ?? 0).toBeGreaterThan(0);
        expect(best.lastBucket).toBeGreaterThanOrEqual(best.firstBucket);
        expect(best.lastBucket - best.firstBucket).toBeLessThan(perWindow);
        expect(windowTotal(buckets, 60, best.lastBucket)).toBe(best.total);
        expect(best.lastBucket).toBeGreaterThanOrEqual(from);
        expect(best.lastBucket - perWindow).toBeLessThan(to);
      },
    ), { numRuns: 500 });
    // The late-shard case: 4 requests in the bucket of 65 s, 5 of 80 s, 1 of 100 s, 1 of 120 s (5 s buckets), the late
    // shard's own requests only up to 80 s: the window reached 11 at 120 s, after them.
    const late = new Map([[13, 4], [16, 5], [20, 1], [24, 1]]);
    expect(busiestWindow(late, 60, 13, 16)).toEqual({ total: 11, firstBucket: 13, lastBucket: 24 });
  });

  test('sampled counts scale to real requests', () => {
    expect(scaleToRealRequests(5, 100)).toBe(5);
    expect(scaleToRealRequests(5, 10)).toBe(50);
    expect(scaleToRealRequests(3, 3)).toBeCloseTo(100);
  });
});

describe('RuleMatcher', () => {
  test('wildcards match subdomains only; disabled rules never match', () => {
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'badexample.com')).toBe(false);
    const m = new RuleMatcher([rule({ ruleId: 'w', host: '*.example.com' }), rule({ ruleId: 'off', host: 'api.example.com', enabled: false })]);
    expect(m.match('api.example.com', { path: '/' }).map((i) => m.rules[i].ruleId)).toEqual(['w']);
  });

  test('path prefixes match the decoded path, so encoding cannot dodge a rule', () => {
    const m = new RuleMatcher([rule({ ruleId: 'login', pathPrefix: '/login' }), rule({ ruleId: 'all' })]);
    const ids = (path?: string) => m.match('api.example.com', { path }).map((i) => m.rules[i].ruleId);
    expect(ids('/login?x=1')).toEqual(['login', 'all']);
    expect(ids('/%6Cogin')).toEqual(['login', 'all']);
    expect(ids('/home')).toEqual(['all']);
    expect(ids(undefined)).toEqual(['all']);
  });
});

describe('resolveClient', () => {
  const proxies = cidrs('10.0.0.0/8');
  const resolve = (peer: string, xff?: string) => resolveClient(parseIp(peer)!, { forwardedFor: xff }, proxies)?.text;

  test('X-Forwarded-For is ignored unless the peer is a trusted proxy', () => {
    expect(resolve('198.51.100.7', '203.0.113.1')).toBe('198.51.100.7');
    expect(resolveClient(parseIp('10.1.1.1')!, { forwardedFor: '203.0.113.1' }, none)?.text).toBe('10.1.1.1');
  });

  test('behind a trusted proxy the address it appended (the right-most) is the client, not what the client wrote', () => {
    // the client spoofs 192.0.2.66 as the first hop; the proxy appends the real peer
    expect(resolve('10.1.1.1', '192.0.2.66, 198.51.100.23')).toBe('198.51.100.23');
    expect(resolve('10.1.1.1', 'garbage,%20198.51.100.23')).toBe('198.51.100.23');
    expect(resolve('10.1.1.1', '2001:db8::5')).toBe('2001:db8::5');
  });

  test('through a chain of trusted proxies nobody is blamed: WAF\'s forwarded match (LAST) could not enforce the block', () => {
    expect(resolve('10.1.1.1', '192.0.2.66,%20198.51.100.23,%2010.2.2.2')).toBeUndefined();
  });

  test('a proxy with no usable client address is never blamed', () => {
    expect(resolve('10.1.1.1')).toBeUndefined();
    expect(resolve('10.1.1.1', 'garbage')).toBeUndefined();
    expect(resolve('10.1.1.1', '10.3.3.3')).toBeUndefined();
  });
});

describe('TrafficCounter', () => {
  test('counts per rule and canonical client, IPv4 and IPv6, and counts malformed lines by reason', () => {
    const c = new TrafficCounter({ fields, rules: [rule({})], allowList: none, trustedProxies: none });
    const lines = [
      line('192.0.2.1'), line('192.0.2.1'), line('2001:DB8:0:0::1'), line('2001:db8::1'),
      line('192.0.2.2', 'other.example.com'), 'garbage', line('not-an-ip'), '',
    ];
    lines.forEach((l, i) => c.addBase64(recordData(l), i));
    const counts = Object.fromEntries(c.entries().map((e) => [e.ip.text, [...e.buckets.values()].reduce((a, b) => a + b, 0)]));
    expect(counts).toEqual({ '192.0.2.1': 2, '2001:db8::/64': 2 });
    expect(c.stats).toMatchObject({ lines: 8, matched: 4, unmatched: 1, malformed: 3 });
    expect(c.stats.malformedByReason.get(Malformed.FIELD_COUNT)).toBe(1);
    expect(c.stats.malformedByReason.get(Malformed.CLIENT_IP)).toBe(1);
    expect(c.stats.malformedByReason.get(Malformed.EMPTY)).toBe(1);
    expect(c.addBase64('***not base64***', 9)).toBe(Malformed.EMPTY);
  });

  test('a spoofed X-Forwarded-For does not count against the spoofed address', () => {
    const c = new TrafficCounter({ fields, rules: [rule({})], allowList: none, trustedProxies: none });
    for (let i = 0; i < 50; i++) c.add(line('198.51.100.9', 'api.example.com', { 'x-forwarded-for': '192.0.2.200' }), i);
    expect(c.entries().map((e) => e.ip.text)).toEqual(['198.51.100.9']);
  });

  test('allow-listed clients are not counted at all', () => {
    const c = new TrafficCounter({ fields, rules: [rule({})], allowList: cidrs('192.0.2.0/24', '2001:db8::/32'), trustedProxies: none });
    c.add(line('192.0.2.1'), 0);
    c.add(line('2001:db8::9'), 1);
    c.add(line('198.51.100.1'), 2);
    expect(c.entries().map((e) => e.ip.text)).toEqual(['198.51.100.1']);
    expect(c.stats.allowListed).toBe(2);
  });

  test('records first and last record positions and spreads counts over time buckets', () => {
    const c = new TrafficCounter({ fields, rules: [rule({ windowSeconds: 60 })], allowList: none, trustedProxies: none });
    c.add(line('192.0.2.1', 'api.example.com', {}, '1700000000.000'), 3);
    c.add(line('192.0.2.1', 'api.example.com', {}, '1700000015.000'), 7);
    const [e] = c.entries();
    expect([e.firstRecord, e.lastRecord, e.lastTimestampMs]).toEqual([3, 7, 1700000015000]);
    expect([...e.buckets.entries()]).toEqual([[340000000, 1], [340000003, 1]]);
  });
});

describe('evasion', () => {
  const m = new RuleMatcher([rule({ ruleId: 'login', pathPrefix: '/login' }), rule({ ruleId: 'api', host: 'api.example.com', pathPrefix: '/v1/ü' })]);
  const ids = (host: string, path?: string) => m.match(host, { path }).map((i) => m.rules[i].ruleId);

  test('a stray or broken escape elsewhere in the URI does not stop the decoding of the path', () => {
    expect(ids('api.example.com', '/%6Cogin?x=%')).toEqual(['login']);
    expect(ids('api.example.com', '/%6Cogin?q=%E0%A4%A')).toEqual(['login']);
    expect(ids('api.example.com', '/%6cogin')).toEqual(['login']);
  });

  test('non-ASCII prefixes match their UTF-8 escapes', () => {
    expect(ids('api.example.com', '/v1/%C3%BCber')).toEqual(['api']);
  });

  test('case, a port or a trailing dot in the Host header do not dodge a host rule', () => {
    expect(ids('API.Example.COM', '/login')).toEqual(['login']);
    expect(ids('api.example.com:443', '/login')).toEqual(['login']);
    expect(ids('api.example.com.', '/login')).toEqual(['login']);
    expect(ids('api.example.com.:8443', '/login')).toEqual(['login']);
    expect(ids('api.example.com.evil', '/login')).toEqual([]);
  });
});

describe('maxWindowTotal', () => {
  test('finds the busiest window among the buckets, however they are spread', () => {
    // 12 buckets per window
    expect(maxWindowTotal(new Map([[100, 5], [101, 1], [105, 2], [112, 7], [200, 30]]), 60)).toBe(30);
    expect(maxWindowTotal(new Map([[100, 5], [101, 1], [105, 2], [112, 7]]), 60)).toBe(10);
    expect(maxWindowTotal(new Map(), 60)).toBe(0);
  });
});

describe('path normalisation', () => {
  const m = new RuleMatcher([rule({ ruleId: 'login', pathPrefix: '/login' }), rule({ ruleId: 'cafe', pathPrefix: '/caf%C3%A9' })]);
  const ids = (path: string) => m.match('api.example.com', { path }).map((i) => m.rules[i].ruleId);

  test.each(['//login', '/./login', '/%2e/login', '/x/../login', '/x/%2E%2E/login?next=/', '///login/'])('%s reaches /login', (path) => {
    expect(ids(path)).toEqual(['login']);
  });

  test('a prefix written with escapes or as UTF-8 text matches both spellings of the path', () => {
    expect(ids('/caf%C3%A9/menu')).toEqual(['cafe']);
    expect(ids('/café/menu'.replace('é', '\u00c3\u00a9'))).toEqual(['cafe']);
    expect(new RuleMatcher([rule({ ruleId: 'x', pathPrefix: '/café' })]).match('api.example.com', { path: '/caf%C3%A9' })).toEqual([0]);
  });

  test('normalisePath leaves ordinary paths alone and resolves the rest as nginx does', () => {
    expect(normalisePath('/a/b')).toBe('/a/b');
    expect(normalisePath('/a//b/../c/')).toBe('/a/c/');
    expect(normalisePath('/..')).toBe('/');
    expect(normalisePath('/a/b/.')).toBe('/a/b/');
    expect(normalisePath('/a/?/../b')).toBe('/a/b');
  });
});

describe('encoded path tricks', () => {
  const m = new RuleMatcher([rule({ ruleId: 'login', pathPrefix: '/login' })]);
  const counted = (path: string) => m.match('api.example.com', { path }).length === 1;

  test.each([
    // nginx: the query starts at the literal `?` only; `%3F` and `%23` decode to path characters
    '/%3F/../login', '/%3f/../login?x=1', '/%23/../login', '/a%3Fb/%2E%2E/login', '/x%2F..%2Flogin',
    // nginx on Windows, IIS: backslashes separate, also decoded ones
    '/x\\..\\login', '/x%5C..%5Clogin',
    // servers that keep a literal `#` in the path and clean it afterwards
    '/x#/../login',
    // WHATWG: `%2e` dot segments, but `%2F` does not separate
    '/a/../login%2F..%2F..%2Fy', '/x/%2e%2E/login',
    // origins that resolve nothing see the prefix as sent
    '/login/../../x', '/login%2F..%2F..%2Fx', '/login#/../x',
  ])('%s counts against /login', (path) => {
    expect(counted(path)).toBe(true);
  });

  test.each(['/home?next=/login', '/home?/../login', '/home#/login', '/x/login', '/log%3Fin', '/logout'])('%s does not', (path) => {
    expect(counted(path)).toBe(false);
  });

  test('the readings of a crafted path, each as one kind of origin resolves it', () => {
    // nginx, then as sent (WHATWG reads it as nginx does)
    expect(pathReadings('/%3F/../login')).toEqual(['/login', '/?/../login']);
    // nginx, as sent, WHATWG
    expect(pathReadings('/a/../b%2F..%2Fc')).toEqual(['/c', '/a/../b/../c', '/b/../c']);
    // nginx, as sent, nginx on Windows, cleaned without cutting at `#` (WHATWG reads it as nginx on Windows does)
    expect(pathReadings('/a\\..\\b#/../c')).toEqual(['/a\\..\\b', '/a\\..\\b#/../c', '/b', '/c']);
  });
});

describe('case, path parameters and double decoding', () => {
  const m = new RuleMatcher([
    rule({ ruleId: 'login', pathPrefix: '/login' }),
    rule({ ruleId: 'exact', pathPrefix: '/Admin', pathCaseSensitive: true }),
    rule({ ruleId: 'uber', pathPrefix: '/Über' }),
  ]);
  const ids = (path: string) => m.match('api.example.com', { path }).map((i) => m.rules[i].ruleId);

  test.each([
    // case-insensitive origins (IIS, ASP.NET, Express by default)
    '/LOGIN', '/Login', '/lOgIn?x=1', '/%4Cogin', '/LOGIN/..;/x/../login',
    // Tomcat, Spring, Jetty: `;` parameters removed from each segment before decoding
    '/x/..;/login', '/;x/login', '/.;/login', '/x/..;jsessionid=1/login', '/login;jsessionid=1', '/x;/..;/login',
    // decoded twice (a decoding proxy, then an origin that decodes again), also through nginx's resolution
    '/%256Cogin', '/%25%36%43ogin', '/x/%252e%252e/login', '/x/..%3B/login', '/%256Cogin/%252e%252e/..',
  ])('%s counts against /login (case ignored by default)', (path) => {
    expect(ids(path)).toEqual(['login']);
  });

  test.each(['/logout', '/x/login', '/x;/login', '/log;in', '/log%3Bin', '/home?/..;/login', '/%2525%36Cogin', '/x/..%253B/login'])('%s does not', (path) => {
    expect(ids(path)).toEqual([]);
  });

  test('pathCaseSensitive keeps the case: only the readings of the other origins count', () => {
    expect(ids('/Admin/x')).toEqual(['exact']);
    expect(ids('/x/..;/Admin')).toEqual(['exact']);
    expect(ids('/ADMIN')).toEqual([]);
    expect(ids('/admin')).toEqual([]);
  });

  test('non-ASCII letters fold too, escaped or not', () => {
    expect(ids('/%C3%BCber/x')).toEqual(['uber']);
    expect(ids('/%C3%9CBER')).toEqual(['uber']);
    expect(ids('/\u00c3\u009cBER')).toEqual(['uber']);
  });

  test('letters beyond ASCII fold as Java compares without case (Tomcat, Spring): lower case of the upper case', () => {
    const folds = new RuleMatcher([rule({ ruleId: 'login', pathPrefix: '/login' }), rule({ ruleId: 'session', pathPrefix: '/session' })]);
    const hit = (path: string) => folds.match('api.example.com', { path }).map((i) => folds.rules[i].ruleId);
    // ı (dotless i) and ſ (long s) upper-case to I and S; İ lower-cases to i in Java (two code points in JavaScript)
    expect(hit('/log%C4%B1n')).toEqual(['login']);
    expect(hit('/LOG%C4%B0N')).toEqual(['login']);
    expect(hit('/%C5%BFession')).toEqual(['session']);
    expect(hit('/%25C5%25BFession')).toEqual(['session']);
    // a prefix is folded the same way, so it matches every spelling, and letters with no such case do not match
    const dotless = new RuleMatcher([rule({ ruleId: 'x', pathPrefix: '/LOG\u0131N' })]);
    expect(dotless.match('api.example.com', { path: '/login' })).toEqual([0]);
    expect(dotless.match('api.example.com', { path: '/LOG%C4%B0N' })).toEqual([0]);
    expect(hit('/log%C3%AFn')).toEqual([]);
    expect(hit('/%C3%9Fession')).toEqual([]);
  });

  test.each(['/x%255c..%255clogin', '/x/..%255c..%255clogin', '/%255clogin', '/x%255C..%255Clogin'])(
    '%s counts: a decoding proxy in front of IIS separates at the doubly encoded backslash', (path) => {
      expect(ids(path)).toEqual(['login']);
    });

  test('the new readings: Tomcat, decoded twice, and decoded twice after nginx resolved the first', () => {
    // nginx (and as sent), Tomcat
    expect(pathReadings('/x/..;/login')).toEqual(['/x/..;/login', '/login']);
    // nginx (and as sent), decoded twice
    expect(pathReadings('/%256Cogin')).toEqual(['/%6Cogin', '/login']);
    // nginx, as sent, WHATWG, decoded twice, decoded twice after nginx's resolution
    expect(pathReadings('/%256Cogin/%252e%252e/..')).toEqual(['/%6Cogin/', '/%6Cogin/%2e%2e/..', '/', '/login/']);
    // a `;` decoded from `%3B` is no parameter to Tomcat behind a decoding proxy: it decodes after removing them
    expect(pathReadings('/x/..%253B/login')).toEqual(['/x/..%3B/login', '/x/..;/login']);
  });
});
