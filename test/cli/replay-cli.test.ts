import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { builtinModules } from 'module';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { Readable } from 'stream';
import { createGzip } from 'zlib';
import { CliIo, main } from '../../src/cli/cdk-waf-guard';
import { InputLine, MAX_LINE_BYTES, readLines, streamSource } from '../../src/cli/log-input';
import { ReplayJson } from '../../src/cli/replay-report';

type ReplayReport = ReplayJson;

const fixture = (name: string) => join(__dirname, 'fixtures', name);
const RULES = fixture('rules.json');

type Stdin = Buffer | string | AsyncIterable<Buffer | string>;

async function run(argv: string[], stdin?: Stdin): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => { out += `${t}\n`; },
    stderr: (t) => { err += `${t}\n`; },
    stdin: stdin === undefined ? undefined : typeof stdin === 'string' || Buffer.isBuffer(stdin) ? Readable.from([stdin]) : stdin,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

async function report(argv: string[], stdin?: Stdin): Promise<ReplayReport> {
  const { code, out, err } = await run(['replay', '--json', ...argv], stdin);
  expect(err).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out) as ReplayReport;
}

function blocksOf(r: ReplayReport): Array<[string, string, number, number]> {
  return r.rules.flatMap((rule) => rule.blocks.map((b): [string, string, number, number] => [
    rule.rule.ruleId, b.ip, b.blockedUntil - b.blockedAt, Math.round(b.peak),
  ]));
}

// traffic.log: 120 lines over 10 s. 203.0.113.7 sends 30 login requests at 3/s (one as /%6Cogin), 192.0.2.10 sends 5
// login and 40 other requests, 2001:db8::7 sends 32 API requests at 4/s, 198.51.100.4 10 requests to a host no rule
// covers; malformed lines at 4 (missing fields), 20 (timestamp) and 50 (c-ip). Both rules: 20 requests per 10 s.
// Windows are 12 buckets of 833 ms: 203.0.113.7's 30 requests span 9.67 s, so its busiest window holds 29 of them.
describe('cdk-waf-guard replay', () => {
  test('blocks the IPv4 and IPv6 clients over threshold, for the rule\'s block period, and nobody else', async () => {
    const r = await report(['--rules', RULES, fixture('traffic.log')]);
    expect(blocksOf(r)).toEqual([
      ['login', '203.0.113.7', 60_000, 29],
      ['api.example.com', '2001:db8::/64', 300_000, 32],
    ]);
    expect(r.rules.map((x) => [x.rule.ruleId, x.matched, x.clients])).toEqual([['login', 35, 2], ['api.example.com', 32, 1]]);
    expect(r.rules[0].nearMisses).toEqual([{ ip: '192.0.2.10', peak: 5 }]);
  });

  test('decides no earlier than the request that crosses the threshold, within a batching window of it', async () => {
    const r = await report(['--rules', RULES, fixture('traffic.log')]);
    const t0 = 1_700_000_000_000;
    const [login] = r.rules[0].blocks;
    // The 20th login request of 203.0.113.7 is at t0 + 19/3 s.
    expect(login.blockedAt).toBeGreaterThanOrEqual(t0 + 6333);
    expect(login.blockedAt).toBeLessThanOrEqual(t0 + 6333 + 1000);
    expect(login.observed).toBeGreaterThanOrEqual(20);
    const [api] = r.rules[1].blocks;
    // The 20th API request is at t0 + 1 + 19/4 s.
    expect(api.blockedAt).toBeGreaterThanOrEqual(t0 + 5750);
    expect(api.blockedAt).toBeLessThanOrEqual(t0 + 5750 + 1000);
  });

  test('counts lines matched, skipped and malformed, with the first malformed line numbers and reasons', async () => {
    const r = await report(['--rules', RULES, fixture('traffic.log')]);
    expect([r.lines, r.matched, r.skipped, r.malformed]).toEqual([120, 67, 50, 3]);
    expect(r.firstMalformed.map((m) => [m.lineNumber, m.reason])).toEqual([[4, 'field-count'], [20, 'timestamp'], [50, 'client-ip']]);
  });

  test('counts the path readings of case-insensitive, Tomcat and double-decoding origins, as the handlers do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-waf-guard-readings-'));
    try {
      const rules = join(dir, 'rules.json');
      writeFileSync(rules, JSON.stringify([
        { id: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 20, window: '10s', blockFor: '1m' },
        { id: 'admin', host: 'www.example.com', pathPrefix: '/admin', pathCaseSensitive: true, threshold: 20, window: '10s', blockFor: '1m' },
      ]));
      const tricks = ['/LOGIN', '/Login', '/x/..;/login', '/;x/login', '/.;/login', '/%256Cogin'];
      const lines = [
        ...Array.from({ length: 24 }, (_, i) => `${(1_700_000_000 + i * 0.2).toFixed(3)}\t203.0.113.7\twww.example.com\t${tricks[i % tricks.length]}\t-`),
        ...Array.from({ length: 24 }, (_, i) => `${(1_700_000_000 + i * 0.2).toFixed(3)}\t198.51.100.9\twww.example.com\t/ADMIN\t-`),
      ];
      const r = await report(['--rules', rules], `${lines.join('\n')}\n`);
      expect(blocksOf(r)).toEqual([['login', '203.0.113.7', 60_000, 24]]);
      expect(r.rules.map((x) => [x.rule.ruleId, x.matched])).toEqual([['login', 24], ['admin', 0]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reads gzip files and gzip on stdin by their magic bytes, with the same result as plain text', async () => {
    const plain = await report(['--rules', RULES, fixture('traffic.log')]);
    const gz = await report(['--rules', RULES, fixture('traffic.log.gz')]);
    const piped = await report(['--rules', RULES], readFileSync(fixture('traffic.log.gz')));
    for (const other of [gz, piped]) {
      expect(blocksOf(other)).toEqual(blocksOf(plain));
      expect([other.lines, other.matched, other.skipped, other.malformed]).toEqual([plain.lines, plain.matched, plain.skipped, plain.malformed]);
    }
    expect(piped.firstMalformed[0].source).toBe('<stdin>');
  });

  test('warns about a rule the guard would refuse at this sampling rate, and still replays it', async () => {
    // rules.json: both rules have a threshold of 20; at 10% that is 2 logged requests per window
    const { code, out, err } = await run(['replay', '--json', '--rules', RULES, '--sampling', '10', fixture('traffic.log')]);
    expect(code).toBe(0);
    expect(err.trim().split('\n')).toEqual([
      expect.stringMatching(/^cdk-waf-guard: warning: rule "login": threshold 20 at --sampling 10% is 2 logged requests per window.*takes 11 in one window.*at least 23 or --sampling to at least 11\. The guard refuses such a rule\.$/),
      expect.stringMatching(/^cdk-waf-guard: warning: rule "api.example.com": threshold 20/),
    ]);
    expect((JSON.parse(out) as ReplayReport).rules).toHaveLength(2);
  });

  test('judges sampled counts by the guard\'s bound: at 50% sampling, 15 logged requests in a window for a threshold of 20', async () => {
    const r = await report(['--rules', RULES, '--sampling', '50', fixture('traffic.log')]);
    expect(r.rules[0].loggedThreshold).toBe(15);
    // 192.0.2.10's 5 login lines stand for 10 requests, still under 20; its peak doubles.
    expect(r.rules[0].nearMisses).toEqual([{ ip: '192.0.2.10', peak: 10 }]);
    expect(r.rules[0].blocks[0]).toMatchObject({ ip: '203.0.113.7', peak: 58 });
    // decided once 15 lines were in a window (its batch held 16), not at the 10 of the point estimate
    expect(r.rules[0].blocks[0].observed).toBeGreaterThanOrEqual(30);
  });

  test('the allow-list spares a client over threshold', async () => {
    const r = await report(['--rules', RULES, '--allow-list', '203.0.113.0/24', fixture('traffic.log')]);
    expect(blocksOf(r).map((b) => b[1])).toEqual(['2001:db8::/64']);
    expect(r.skipped).toBe(50 + 30);
  });

  test('--fields gives positions: the minimal set read as a wider one makes every line malformed, and the exit status says so', async () => {
    const { code, out, err } = await run(['replay', '--json', '--rules', RULES, '--fields', 'sc-status', fixture('traffic.log')]);
    expect(code).toBe(3);
    expect(err).toContain('WARNING: 120 of 120 lines are malformed, most (120) for "wrong number of fields for the configured field set" (field-count)');
    expect(err).toContain('the likely cause is the field list: --fields');
    expect(err).toContain('timestamp,c-ip,sc-status,cs-host,cs-uri-stem,x-forwarded-for');
    // The report is still printed, for the counts.
    const r = JSON.parse(out) as ReplayReport;
    expect(r.malformedByReason).toEqual({ 'field-count': 120 });
    expect(blocksOf(r)).toEqual([]);
  });

  test('half the lines malformed is still a report (exit 0); one more is not', async () => {
    const good = '1700000000.000\t192.0.2.1\twww.example.com\t/\t-\n';
    expect((await run(['replay', '--rules', RULES], `${good}bad\n`)).code).toBe(0);
    const { code, err } = await run(['replay', '--rules', RULES], `${good}bad\nworse\n`);
    expect(code).toBe(3);
    expect(err).toContain('2 of 3 lines are malformed');
  });

  test('prints a readable report with the blocked clients, times and peaks', async () => {
    const { code, out } = await run(['replay', '--rules', RULES, fixture('traffic.log')]);
    expect(code).toBe(0);
    expect(out).toContain('Rule login: host www.example.com, path /login*, threshold 20 per 10 s, block 1 min, BLOCK');
    expect(out).toMatch(/peak \(per 10 s\)\n\s+203\.0\.113\.7\s+2023-11-14T22:13:2\dZ\s+2023-11-14T22:14:2\dZ\s+2\d\s+29\n/);
    expect(out).toContain('first at ');
    expect(out).toContain('traffic.log:4, ');
  });
});

const T0 = 1_700_000_000; // epoch seconds of traffic.log's first line
const logLine = (seconds: number, ip: string, host = 'www.example.com', path = '/login') => `${seconds.toFixed(3)}\t${ip}\t${host}\t${path}\t-\n`;

/** `bytes` of one line without a break, generated chunk by chunk: never in memory whole. */
async function* longLine(bytes: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  for (let left = bytes; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

/** A valid login line, a 50 MB line, another valid line. */
async function* withHugeLine(): AsyncGenerator<Buffer> {
  yield Buffer.from(logLine(T0, '203.0.113.7'));
  yield* longLine(50 * 1024 * 1024);
  yield Buffer.from(`\n${logLine(T0 + 1, '203.0.113.7')}`);
}

describe('cdk-waf-guard replay input: lines in linear time and bounded memory', () => {
  test('a 50 MB line is one malformed line (line-too-long); the lines around it count', async () => {
    const r = await report(['--rules', RULES], withHugeLine());
    expect([r.lines, r.matched, r.malformed]).toEqual([3, 2, 1]);
    expect(r.malformedByReason).toEqual({ 'line-too-long': 1 });
    expect(r.firstMalformed).toEqual([{ source: '<stdin>', lineNumber: 2, reason: 'line-too-long' }]);
    expect(r.malformedMessages['line-too-long']).toContain('65,536 bytes');
  });

  test('the same through a gzip stream', async () => {
    const r = await report(['--rules', RULES], Readable.from(withHugeLine()).pipe(createGzip()));
    expect([r.lines, r.matched, r.malformed]).toEqual([3, 2, 1]);
    expect(r.malformedByReason).toEqual({ 'line-too-long': 1 });
  });

  test('an overlong line is yielded by its length, without its text; a line of exactly the maximum is kept', async () => {
    async function* input(): AsyncGenerator<Buffer> {
      yield Buffer.from('short\n');
      yield* longLine(MAX_LINE_BYTES);
      yield Buffer.from('\n');
      yield* longLine(MAX_LINE_BYTES + 1);
      yield Buffer.from('\nx\n');
      yield* longLine(3 * MAX_LINE_BYTES); // unterminated at the end of the input
    }
    const lines: InputLine[] = [];
    for await (const line of readLines([streamSource('s', input())])) lines.push(line);
    expect(lines.map((l) => [l.lineNumber, l.text.length, l.overlongBytes])).toEqual([
      [1, 5, undefined],
      [2, MAX_LINE_BYTES, undefined],
      [3, 0, MAX_LINE_BYTES + 1],
      [4, 1, undefined],
      [5, 0, 3 * MAX_LINE_BYTES],
    ]);
  });

  test('lines split across many small chunks are put back together', async () => {
    const text = logLine(T0, '203.0.113.7') + logLine(T0 + 1, '192.0.2.1');
    async function* bytes(): AsyncGenerator<Buffer> {
      for (let i = 0; i < text.length; i += 3) yield Buffer.from(text.slice(i, i + 3));
    }
    const lines: string[] = [];
    for await (const line of readLines([streamSource('s', bytes())])) lines.push(line.text);
    expect(lines).toEqual(text.trimEnd().split('\n'));
  });

  test('clients whose window has passed are let go: 120,000 clients over 3 hours, a few thousand held at once', async () => {
    const clients = 120_000;
    // 10 new clients a second of log time, one login request each; one near miss early on (15 requests, then gone
    // for good) and one attacker throughout (3 a second, 30 per 10 s window, over the threshold of 20).
    async function* traffic(): AsyncGenerator<string> {
      let batch = '';
      for (let i = 0; i < 15; i++) batch += logLine(T0 + i * 0.5, '198.51.100.99');
      for (let c = 0; c < clients; c++) {
        const t = T0 + 10 + c / 10;
        batch += logLine(t, `10.${Math.floor(c / 65_536) % 256}.${Math.floor(c / 256) % 256}.${c % 256}`);
        if (c % 10 === 0) for (let k = 0; k < 3; k++) batch += logLine(t + k / 3, '203.0.113.66');
        if (batch.length > 60_000) {
          yield batch;
          batch = '';
        }
      }
      yield batch;
    }
    const r = await report(['--rules', RULES], traffic());
    const [login] = r.rules;
    expect(login.clientsExact).toBe(false);
    expect(Math.abs(login.clients - (clients + 2)) / clients).toBeLessThan(0.03);
    expect(r.peakTrackedClients).toBeLessThan(5_000);
    expect(new Set(login.blocks.map((b) => b.ip))).toEqual(new Set(['203.0.113.66']));
    // A block of 1 min, renewed while the attack lasts (12,000 s): one block a minute or so.
    expect(login.blocks.length).toBeGreaterThan(180);
    expect(login.blocks.every((b) => b.peak === 30)).toBe(true);
    // Let go hours before the end, the near miss is still reported.
    expect(login.nearMisses[0]).toEqual({ ip: '198.51.100.99', peak: 15 });
  });
});

describe('cdk-waf-guard replay --json format', () => {
  test('has a format version, ISO times beside epoch ms, and malformed reasons by stable code', async () => {
    const r = await report(['--rules', RULES, fixture('traffic.log')]);
    expect(r.formatVersion).toBe(1);
    expect(r.maxLineBytes).toBe(65_536);
    expect([r.firstTimestampMs, r.firstTimestampIso]).toEqual([T0 * 1000, '2023-11-14T22:13:20.000Z']);
    expect([r.lastTimestampMs, r.lastTimestampIso]).toEqual([T0 * 1000 + 9850, '2023-11-14T22:13:29.850Z']);
    expect(r.malformedByReason).toEqual({ 'field-count': 1, 'timestamp': 1, 'client-ip': 1 });
    expect(r.malformedMessages).toEqual({
      'field-count': 'wrong number of fields for the configured field set',
      'timestamp': 'timestamp is not epoch seconds',
      'client-ip': 'c-ip is not an IP address',
    });
    const blocks = r.rules.flatMap((rule) => rule.blocks);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      expect(b.blockedAtIso).toBe(new Date(b.blockedAt).toISOString());
      expect(b.blockedUntilIso).toBe(new Date(b.blockedUntil).toISOString());
      expect(b.blockedAtIso).toMatch(/^2023-11-14T22:13:2\d\.\d{3}Z$/);
    }
    expect(r.rules.map((rule) => rule.clientsExact)).toEqual([true, true]);
  });

  test('the peak is the requests within one window, as the threshold counts them, not divided by the window', async () => {
    // 25 requests within one second, then quiet: the peak is 25 per 10 s, not 2.5 a second.
    const burst = Array.from({ length: 25 }, (_, i) => logLine(T0 + i / 25, '203.0.113.9')).join('');
    const json = await report(['--rules', RULES], burst);
    expect(json.rules[0].blocks.map((b) => [b.ip, b.peak])).toEqual([['203.0.113.9', 25]]);
    const { out } = await run(['replay', '--rules', RULES], burst);
    expect(out).toMatch(/peak \(per 10 s\)\n\s+203\.0\.113\.9\s+\S+\s+\S+\s+2\d\s+25\n/);
    expect(out).not.toMatch(/\/s\)/);
  });
});

describe('cdk-waf-guard errors (exit status 2)', () => {
  test('an unreadable log file is named', async () => {
    const { code, err } = await run(['replay', '--rules', RULES, fixture('missing.log')]);
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read .*missing\.log: ENOENT/);
  });

  test('a missing rules file is named', async () => {
    const { code, err } = await run(['replay', '--rules', fixture('nope.json'), fixture('traffic.log')]);
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read rules file .*nope\.json/);
  });

  test('bad JSON says so with the parser\'s message', async () => {
    const { code, err } = await run(['replay', '--rules', fixture('bad-json.json'), fixture('traffic.log')]);
    expect(code).toBe(2);
    expect(err).toMatch(/bad-json\.json is not valid JSON: /);
  });

  test('an invalid rule names the rule and the limit', async () => {
    const { code, err } = await run(['replay', '--rules', fixture('invalid-rule.json'), fixture('traffic.log')]);
    expect(code).toBe(2);
    expect(err).toContain('rules[0]: rule "api.example.com": window must be whole seconds from 10 s to 1 hour (got 5 s)');
  });

  test('a corrupt gzip stream is an input error, not a crash', async () => {
    const gz = readFileSync(fixture('traffic.log.gz'));
    const { code, err } = await run(['replay', '--rules', RULES], gz.subarray(0, gz.length - 20));
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read <stdin>: /);
  });

  test('IPv6 clients are counted per --ipv6-prefix-length (default 64), like the guard', async () => {
    // one host rotating through 30 addresses of its /64, 3 requests a second, and one request from the next /64
    const t0 = 1_700_000_000;
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => `${(t0 + i / 3).toFixed(3)}\t2001:db8:5:6::${(i + 1).toString(16)}\tapi.example.com\t/v1\t-`),
      `${t0}.500\t2001:db8:5:7::1\tapi.example.com\t/v1\t-`,
    ].join('\n');
    const byPrefix = await report(['--rules', RULES], Buffer.from(lines));
    // 30 requests over 9.67 s: the busiest 12-bucket window holds 29
    expect(blocksOf(byPrefix)).toEqual([['api.example.com', '2001:db8:5:6::/64', 300_000, 29]]);
    expect(byPrefix.rules[1].clients).toBe(2);
    const byAddress = await report(['--rules', RULES, '--ipv6-prefix-length', '128'], Buffer.from(lines));
    expect(blocksOf(byAddress)).toEqual([]);
    expect(byAddress.rules[1].clients).toBe(31);
    const bad = await run(['replay', '--rules', RULES, '--ipv6-prefix-length', '40'], Buffer.from(lines));
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/--ipv6-prefix-length must be a whole number from 48 to 128 \(got 40\)/)]);
  });

  test('a client over threshold directly and then behind a trusted proxy is one block, on both routes', async () => {
    const t0 = 1_700_000_000;
    const at = (i: number) => (t0 + i / 3).toFixed(3);
    const lines = [
      // 30 requests directly in 10 s, then 30 through the proxy, which appends the client's address
      ...Array.from({ length: 30 }, (_, i) => `${at(i)}\t192.0.2.77\tapi.example.com\t/v1\t-`),
      ...Array.from({ length: 30 }, (_, i) => `${at(30 + i)}\t10.0.0.1\tapi.example.com\t/v1\t198.51.100.1,%20192.0.2.77`),
    ].join('\n');
    const r = await report(['--rules', RULES, '--trusted-proxies', '10.0.0.0/8'], Buffer.from(lines));
    expect(r.rules[1].blocks.map((b) => [b.ip, b.route, b.notApplied])).toEqual([['192.0.2.77', 'BOTH', undefined]]);
    // through the proxy only: the forwarded-address sets
    const proxied = await report(['--rules', RULES, '--trusted-proxies', '10.0.0.0/8'], Buffer.from(lines.split('\n').slice(30).join('\n')));
    expect(proxied.rules[1].blocks.map((b) => [b.ip, b.route])).toEqual([['192.0.2.77', 'PROXY']]);
  });

  test('below 100% sampling a route is added on the guard\'s decision (k* logged requests), not on the scaled count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-route-'));
    try {
      const rules = join(dir, 'rules.json');
      writeFileSync(rules, JSON.stringify([{ id: 'api', host: 'api.example.com', threshold: 100, window: '1m', blockFor: '1h' }]));
      const t0 = 1_800_000_000;
      // 24 logged requests behind the proxy in 24 s (k* at 10% for 100 per minute), then `direct` of its own 5 minutes later
      const lines = (direct: number) => [
        ...Array.from({ length: 24 }, (_, i) => `${t0 + i}.000\t10.9.9.9\tapi.example.com\t/v1\t198.51.100.44`),
        ...Array.from({ length: direct }, (_, i) => `${t0 + 300 + 2 * i}.000\t198.51.100.44\tapi.example.com\t/v1\t-`),
      ].join('\n');
      const argv = ['--rules', rules, '--sampling', '10', '--trusted-proxies', '10.0.0.0/8'];
      const routes = async (direct: number) => (await report(argv, Buffer.from(lines(direct)))).rules[0].blocks.map((b) => [b.ip, b.route]);
      // 10 logged direct requests scale to 100, the threshold, but are fewer than k* = 24: the guard keeps PROXY
      expect(await routes(10)).toEqual([['198.51.100.44', 'PROXY']]);
      expect(await routes(24)).toEqual([['198.51.100.44', 'BOTH']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a block whose network holds a trusted proxy is reported as not applied, as the guard would keep it out of the sets', async () => {
    const t0 = 1_700_000_000;
    const lines = Array.from({ length: 30 }, (_, i) => `${(t0 + i / 3).toFixed(3)}\t2001:db8:aaaa:1::9\tapi.example.com\t/v1\t-`).join('\n');
    const r = await report(['--rules', RULES, '--trusted-proxies', '2001:db8:aaaa:1::5'], Buffer.from(lines));
    expect(r.rules[1].blocks.map((b) => [b.ip, b.route, b.notApplied])).toEqual([['2001:db8:aaaa:1::/64', 'DIRECT', 'TRUSTED_PROXY']]);
    const text = await run(['replay', '--rules', RULES, '--trusted-proxies', '2001:db8:aaaa:1::5'], Buffer.from(lines));
    expect(text.out).toMatch(/2001:db8:aaaa:1::\/64 .* DIRECT, NOT applied: holds a trusted proxy/);
    // beside the proxy's /64 it applies
    const beside = await report(['--rules', RULES, '--trusted-proxies', '2001:db8:aaaa:2::5'], Buffer.from(lines));
    expect(beside.rules[1].blocks.map((b) => b.notApplied)).toEqual([undefined]);
  });

  test('usage errors print the usage', async () => {
    for (const argv of [['replay', fixture('traffic.log')], ['replay', '--rules', RULES, '--sampling', '0'], ['replay', '--rules', RULES, '--bogus'], ['frobnicate']]) {
      const { code, err } = await run(argv);
      expect(code).toBe(2);
      expect(err).toContain('Usage: cdk-waf-guard replay');
    }
    expect((await run(['replay', '--rules', RULES])).err).toMatch(/stdin is a terminal/);
    expect((await run(['--help'])).code).toBe(0);
  });
});

describe('the CLI ships without devDependencies', () => {
  // Package users get only dependencies; the handlers' AWS SDK and Powertools are devDependencies, so the CLI may
  // import Node.js built-ins and the package's own modules only.
  test('every module the CLI reaches imports only Node.js built-ins and relative paths', () => {
    const builtins = new Set(builtinModules);
    const seen = new Set<string>();
    const external: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/^(?:import|export)\s(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
        const spec = m[1];
        if (spec.startsWith('.')) visit(`${resolve(dirname(file), spec)}.ts`);
        else if (!builtins.has(spec.replace(/^node:/, ''))) external.push(`${file}: ${spec}`);
      }
    };
    visit(resolve(__dirname, '../../src/cli/cdk-waf-guard.ts'));
    expect(external).toEqual([]);
    expect(seen.size).toBeGreaterThan(6);
  });
});
