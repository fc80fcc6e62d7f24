import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENV } from '../../src/realtime-waf-guard/handler-env';

const assets = path.join(__dirname, '../../assets');

/** What the constructs put in each function's environment, enough for module initialisation. */
const realtimeEnv = {
  [ENV.RULES_TABLE]: 'rules',
  [ENV.COUNTERS_TABLE]: 'counters',
  [ENV.BLOCKS_TABLE]: 'blocks',
  [ENV.HISTORY_TABLE]: 'history',
  [ENV.FIELDS]: 'timestamp,c-ip,cs-host,cs-uri-stem,x-forwarded-for',
  [ENV.SAMPLING_RATE]: '100',
  [ENV.IPV4_SET_NAME]: 'v4',
  [ENV.IPV4_SET_ID]: 'id4',
  [ENV.IPV6_SET_NAME]: 'v6',
  [ENV.IPV6_SET_ID]: 'id6',
  [ENV.TIMESTREAM_DATABASE]: 'guard-db',
  [ENV.TIMESTREAM_TABLE]: 'requests',
  AWS_REGION: 'us-east-1',
};

const bundles = fs.existsSync(assets)
  ? fs.readdirSync(assets).flatMap((feature) => fs.readdirSync(path.join(assets, feature)).map((h) => path.join(assets, feature, h, 'index.js')))
  : [];

test('every handler is bundled', () => {
  expect(bundles.map((b) => path.relative(assets, b)).sort()).toEqual([
    'cli/blocks-command/index.js',
    'cli/dashboards-command/index.js',
    'elastic-monitoring/collector.lambda/index.js',
    'elastic-monitoring/debug-checker.lambda/index.js',
    'elastic-monitoring/debug-widget.lambda/index.js',
    'elastic-monitoring/kibana-dashboards.lambda/index.js',
    'realtime-waf-guard/console-widget.lambda/index.js',
    'realtime-waf-guard/ip-set-sync.lambda/index.js',
    'realtime-waf-guard/log-processor.lambda/index.js',
    'realtime-waf-guard/query-detector.lambda/index.js',
    'realtime-waf-guard/rules-seeder.lambda/index.js',
    'reporting/report-cli/index.js',
    'reporting/report.lambda/index.js',
  ]);
});

// A bundle that requires a stubbed or missing module at load time would crash every cold start in Lambda.
test.each(bundles.filter((b) => b.includes('.lambda')).map((b) => [path.relative(assets, b), b]))('%s loads in a fresh Node process and exports a handler', (_name, bundle) => {
  const run = spawnSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`], {
    env: { PATH: process.env.PATH, ...realtimeEnv },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: 'function' });
  expect(run.stderr).not.toMatch(/Error|Cannot find module/);
});

// Package users have none of the devDependencies: the dashboards command must run on what its bundle holds alone.
test('the dashboards command loads in a fresh Node process and checks its arguments', () => {
  // Copied out of the repository, so that no node_modules above it can supply what the bundle lacks.
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dashboards-bundle-')), 'index.js');
  fs.copyFileSync(path.join(assets, 'cli/dashboards-command/index.js'), bundle);
  const script = `require(${JSON.stringify(bundle)}).runDashboards(['import', '--url', 'https://k.example.com', '--sigv4', '--flavour', 'kibana', '--region', 'eu-west-1', '--file', 'w.ndjson'], `
    + '{ stdout: () => {}, stderr: (t) => process.stdout.write(t.split("\\n")[0]) }).then((code) => process.stdout.write(` exit ${code}`))';
  const run = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 30_000, cwd: os.tmpdir() });
  expect({ status: run.status, stdout: run.stdout }).toEqual({
    status: 0,
    stdout: 'cdk-waf-guard: --sigv4 signs for Amazon OpenSearch Service, whose Dashboards are OpenSearch Dashboards: use --flavour opensearch exit 2',
  });
});

// The report CLI engine is not a handler: it exports the dry run, and must load with every dependency inside.
test('the report CLI engine loads in a fresh Node process', () => {
  const bundle = path.join(assets, 'reporting/report-cli/index.js');
  const run = spawnSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle)}).dryRunReport)`], {
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: 'function' });
});
