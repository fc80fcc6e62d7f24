import { execFile } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Readable } from 'stream';
import { CliIo, main, silenceSdkNodeVersionWarning } from '../../src/cli/cdk-waf-guard';

/**
 * The CLI's own checks run before any AWS client exists: these tests run with no AWS configuration at all (no
 * variables, a HOME without ~/.aws, no instance metadata), so a check that came after the credential lookup would
 * report "no AWS credentials" instead of the message asserted.
 */
const saved = { ...process.env };
let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cli-args-'));
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
  process.env.HOME = home;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterAll(() => {
  process.env = saved;
  rmSync(home, { recursive: true, force: true });
});

async function run(argv: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), stdin: stdin === undefined ? undefined : Readable.from([stdin]) };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('blocks: arguments are checked before credentials (exit 2, no AWS call)', () => {
  test.each([
    [['block', '203.0.113.5', '--for', '1h', '--stack', 'Shop'], 'cdk-waf-guard: --reason <text> is required'],
    [['block', 'not-an-ip', '--for', '1h', '--reason', 'x', '--stack', 'Shop'], 'cdk-waf-guard: "not-an-ip" is not an IPv4 or IPv6 address or CIDR range'],
    [['block', '10.0.0.0/8', '--for', '1h', '--reason', 'x', '--stack', 'Shop'],
      'cdk-waf-guard: 10.0.0.0/8 is wider than /16: block a smaller network, or use a WAF rule for whole ranges'],
    [['block', '203.0.113.5', '--for', 'soon', '--reason', 'x', '--stack', 'Shop'],
      'cdk-waf-guard: the block period must be a duration like "30m", "2h" or "1d", from 1m to 90d (got "soon")'],
    [['extend', '203.0.113.5', '--reason', 'x', '--stack', 'Shop'], 'cdk-waf-guard: --by <period> is required'],
    [['unblock', '203.0.113.5', '--reason', 'x', '--shield', '1y', '--stack', 'Shop'],
      'cdk-waf-guard: the shield period must be a duration like "30m", "2h" or "1d", from 1m to 30d (got "1y")'],
    [['unblock', '--reason', 'x', '--stack', 'Shop'], 'cdk-waf-guard: blocks unblock takes one address or prefix (got 0)'],
    [['allow', '203.0.113.5', '--reason', '   ', '--stack', 'Shop'], 'cdk-waf-guard: a reason is required'],
    [['history', '203.0.113.5', '--since', 'yesterday', '--stack', 'Shop'], 'cdk-waf-guard: --since must be a duration like "1d" or an ISO time (got yesterday)'],
    [['list', '--active', '--would-block', '--stack', 'Shop'], 'cdk-waf-guard: give --active or --would-block, not both'],
    [['list', '--ipv6-prefix-length', '200', '--stack', 'Shop'], 'cdk-waf-guard: --ipv6-prefix-length must be a whole number from 48 to 128 (got 200)'],
    [['block', '203.0.113.5', '--for', '1h', '--reason', 'x'], 'cdk-waf-guard: name the guard: --stack <stack name>, or --blocks-table <name> --history-table <name>'],
  ])('blocks %j', async (argv, message) => {
    const result = await run(['blocks', ...argv]);
    expect(result).toEqual({ code: 2, out: '', err: message });
  });
});

describe('rules: arguments are checked before credentials (exit 2, no AWS call)', () => {
  test.each([
    [['set', 'login', '--threshold', '0', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": threshold must be a whole number of requests from 1 to 100000000 (got 0)'],
    [['set', 'login', '--threshold', '1e3', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": threshold must be a whole number of requests from 1 to 100000000 (got "1e3")'],
    [['set', 'login', '--window', '5s', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": window must be whole seconds from 10 s to 1 hour (got 5 s)'],
    [['set', 'login', '--window', 'a while', '--stack', 'Shop'], 'cdk-waf-guard: --window must be seconds (a number) or a string like "60s", "5m", "1h" (got "a while")'],
    [['set', 'login', '--host', 'WWW.example.com', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": host "WWW.example.com" must be lower case'],
    [['set', 'login', '--path-prefix', 'login', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": pathPrefix must start with "/" (got "login")'],
    [['set', 'login', '--action', 'drop', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": action must be BLOCK or COUNT (got "DROP")'],
    [['set', 'login', '--enabled', 'yes', '--stack', 'Shop'], 'cdk-waf-guard: rule "login": enabled must be true or false (got "yes")'],
    [['set', '#manual', '--threshold', '10', '--stack', 'Shop'],
      'cdk-waf-guard: rule "#manual": ruleId must not start with "#" (reserved for the guard\'s own rows, such as #manual for manual blocks); rename the rule'],
    [['set', 'login', '--stack', 'Shop'], expect.stringContaining('cdk-waf-guard: rules set: give the fields to change (--host, ')],
    [['disable', '--stack', 'Shop'], 'cdk-waf-guard: rules disable takes one rule id (got 0)'],
    [['enable', 'login'], 'cdk-waf-guard: name the guard: --stack <stack name>, or --rules-table <name>'],
    [['list', '--sampling', '0', '--rules-table', 't'], 'cdk-waf-guard: --sampling must be a whole percentage from 1 to 100 (got 0)'],
    [['set', 'r', '--sampling', '10', '--threshold', '1', '--window', '10s', '--stack', 'Shop'],
      expect.stringMatching(/^cdk-waf-guard: the guard would refuse this row: rule "r": threshold 1 at samplingRate 10% .*; nothing written$/)],
  ])('rules %j', async (argv, message) => {
    const result = await run(['rules', ...argv]);
    expect(result).toEqual({ code: 2, out: '', err: message });
  });
});

test('--version prints the version of the package the CLI belongs to', async () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
  expect(await run(['--version'])).toEqual({ code: 0, out: version, err: '' });
  expect((await run(['--help'])).out).toContain('--version');
});

test('the SDK\'s Node.js version warning is turned off by its own switch, and a value the user set is kept', () => {
  const env: NodeJS.ProcessEnv = {};
  silenceSdkNodeVersionWarning(env);
  expect(env).toEqual({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const mine: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
  silenceSdkNodeVersionWarning(mine);
  expect(mine.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('false');
});

/** Runs the CLI as a user does, in a process of its own. */
function spawnCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const cli = join(__dirname, '../../src/cli/cdk-waf-guard.ts');
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', 'ts-node/register/transpile-only', cli, ...argv], {
      cwd: join(__dirname, '../..'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env },
      timeout: 60_000,
    }, (error, _stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code) : 0, stderr: String(stderr) }));
  });
}

describe('failures outside the command line (exit 1, a message, no stack, no SDK warning)', () => {
  test('no credentials', async () => {
    const { code, stderr } = await spawnCli(['blocks', 'list', '--blocks-table', 'b', '--history-table', 'h'], {});
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    expect(stderr.trim()).toBe('cdk-waf-guard: no AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(code).toBe(1);
  });

  test('AWS out of reach, with credentials', async () => {
    const { code, stderr } = await spawnCli(['rules', 'list', '--rules-table', 'r'], {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1',
    });
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim()).toMatch(/^cdk-waf-guard: AWS could not be reached \(ECONNREFUSED: .*\): check the network, --region and any AWS_ENDPOINT_URL$/);
    expect(code).toBe(1);
  });
});

test('replay: ISO 8601 times in the timestamp field are named, with the same time as the guard reads it', async () => {
  const rules = join(__dirname, 'fixtures', 'rules.json');
  const lines = '2023-11-14T22:13:20.000Z\t203.0.113.7\twww.example.com\t/login\t-\n2023-11-14T22:13:21.500Z\t203.0.113.7\twww.example.com\t/login\t-\n';
  const { code, err } = await run(['replay', '--rules', rules], lines);
  expect(code).toBe(3);
  expect(err).toContain('2 of 2 lines are malformed, most (2) for "timestamp is not epoch seconds" (timestamp)');
  expect(err).toContain('the timestamp field holds ISO 8601 times ("2023-11-14T22:13:20.000Z"), but CloudFront real-time logs give epoch seconds '
    + 'with milliseconds: that time is "1700000000.000"');
  // one ISO line among good ones: no warning, and the report's malformed section names the format
  const mixed = await run(['replay', '--rules', rules], `1700000000.000\t203.0.113.7\twww.example.com\t/login\t-\n${lines}1700000002.000\t203.0.113.7\twww.example.com\t/login\t-\n`
    .replace(/^2023-11-14T22:13:21.*\n/m, ''));
  expect(mixed.code).toBe(0);
  expect(mixed.out).toContain('1  timestamp is not epoch seconds (timestamp)\n      the timestamp field holds ISO 8601 times ("2023-11-14T22:13:20.000Z")');
  const other = await run(['replay', '--rules', rules], 'yesterday\t203.0.113.7\twww.example.com\t/login\t-\n');
  expect(other.err).toContain('the timestamp field must be epoch seconds with milliseconds like "1700000000.123" (got "yesterday")');
});

test('replay: a time without a zone is taken as UTC, whatever this machine\'s zone, and the command suggested does the same', async () => {
  const rules = join(__dirname, 'fixtures', 'rules.json');
  const zone = process.env.TZ;
  process.env.TZ = 'America/New_York';
  try {
    const { code, err } = await run(['replay', '--rules', rules], '2023-11-14 22:13:20\t203.0.113.7\twww.example.com\t/login\t-\n');
    expect(code).toBe(3);
    expect(err).toContain('that time is "1700000000.000" (taken as UTC: it names no zone). '
      + 'Convert the times (e.g. date -u -d \'2023-11-14 22:13:20\' +%s.%3N)');
    const zoned = await run(['replay', '--rules', rules], '2023-11-14T23:13:20+01:00\t203.0.113.7\twww.example.com\t/login\t-\n');
    expect(zoned.err).toContain('that time is "1700000000.000". Convert the times (e.g. date -d \'2023-11-14T23:13:20+01:00\' +%s.%3N)');
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('replay: the README\'s sample lines are read as log lines (none malformed)', async () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  const sample = /two lines read:\n\n```text\n([^`]+)```/.exec(readme)?.[1];
  expect(sample?.split('\n').filter(Boolean)).toHaveLength(2);
  const rules = join(__dirname, 'fixtures', 'rules.json');
  const { code, out } = await run(['replay', '--json', '--rules', rules], sample);
  expect(code).toBe(0);
  expect(JSON.parse(out)).toMatchObject({ lines: 2, malformed: 0, firstTimestampMs: 1_700_000_000_123, lastTimestampMs: 1_700_000_000_456 });
});
