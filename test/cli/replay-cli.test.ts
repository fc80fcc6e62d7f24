import { readFileSync } from 'fs';
import { builtinModules } from 'module';
import { dirname, join, resolve } from 'path';
import { Readable } from 'stream';
import { CliIo, main } from '../../src/cli/cdk-waf-guard';
import { ReplayReport } from '../../src/cli/replay';

const fixture = (name: string) => join(__dirname, 'fixtures', name);
const RULES = fixture('rules.json');

async function run(argv: string[], stdin?: Buffer | string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => { out += `${t}\n`; },
    stderr: (t) => { err += `${t}\n`; },
    stdin: stdin === undefined ? undefined : Readable.from([stdin]),
  };
  const code = await main(argv, io);
  return { code, out, err };
}

async function report(argv: string[], stdin?: Buffer): Promise<ReplayReport> {
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
describe('cdk-waf-guard replay', () => {
  test('blocks the IPv4 and IPv6 clients over threshold, for the rule\'s block period, and nobody else', async () => {
    const r = await report(['--rules', RULES, fixture('traffic.log')]);
    expect(blocksOf(r)).toEqual([
      ['login', '203.0.113.7', 60_000, 30],
      ['api.example.com', '2001:db8::7', 300_000, 32],
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
    expect(r.firstMalformed.map((m) => [m.lineNumber, m.reason])).toEqual([
      [4, 'wrong number of fields for the configured field set'],
      [20, 'timestamp is not epoch seconds'],
      [50, 'c-ip is not an IP address'],
    ]);
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
      expect.stringMatching(/^cdk-waf-guard: warning: rule "login": threshold 20 at --sampling 10% is 2 logged requests per window.*at least 100 or --sampling to at least 50/),
      expect.stringMatching(/^cdk-waf-guard: warning: rule "api.example.com": threshold 20/),
    ]);
    expect((JSON.parse(out) as ReplayReport).rules).toHaveLength(2);
  });

  test('scales sampled counts: at 50% sampling a client needs half the lines', async () => {
    const r = await report(['--rules', RULES, '--sampling', '50', fixture('traffic.log')]);
    // 192.0.2.10's 5 login lines stand for 10 requests, still under 20; its peak doubles.
    expect(r.rules[0].nearMisses).toEqual([{ ip: '192.0.2.10', peak: 10 }]);
    expect(r.rules[0].blocks[0]).toMatchObject({ ip: '203.0.113.7', peak: 60 });
    expect(r.rules[0].blocks[0].blockedAt).toBeLessThanOrEqual(1_700_000_000_000 + 4000);
  });

  test('the allow-list spares a client over threshold', async () => {
    const r = await report(['--rules', RULES, '--allow-list', '203.0.113.0/24', fixture('traffic.log')]);
    expect(blocksOf(r).map((b) => b[1])).toEqual(['2001:db8::7']);
    expect(r.skipped).toBe(50 + 30);
  });

  test('--fields gives positions: the minimal set read as a wider one makes every line malformed', async () => {
    const r = await report(['--rules', RULES, '--fields', 'sc-status', fixture('traffic.log')]);
    expect(r.malformed).toBe(120);
    expect(blocksOf(r)).toEqual([]);
  });

  test('prints a readable report with the blocked clients, times and peaks', async () => {
    const { code, out } = await run(['replay', '--rules', RULES, fixture('traffic.log')]);
    expect(code).toBe(0);
    expect(out).toContain('Rule login: host www.example.com, path /login*, threshold 20 per 10 s, block 1 min, BLOCK');
    expect(out).toMatch(/203\.0\.113\.7\s+2023-11-14T22:13:2\dZ\s+2023-11-14T22:14:2\dZ\s+2\d\s+30 \(3\.0\/s\)/);
    expect(out).toContain('first at ');
    expect(out).toContain('traffic.log:4, ');
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
