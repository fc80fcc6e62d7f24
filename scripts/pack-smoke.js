#!/usr/bin/env node
// Installs the packed tarball into a fresh CDK app, as a user would, and synthesizes a stack with every construct.
// Fails (exit 1) when the package is missing files, requires a devDependency, or does not synthesize.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const tarball = path.join(root, 'dist', 'js', `${pkg.name}@${pkg.version}.jsii.tgz`);
if (!fs.existsSync(tarball)) {
  console.error(`pack-smoke: ${tarball} not found; run the package task first`);
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-waf-guard-consumer-'));
fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
const cdkVersion = pkg.devDependencies['aws-cdk-lib'];
const constructsVersion = pkg.devDependencies.constructs;
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `aws-cdk-lib@${cdkVersion}`, `constructs@${constructsVersion}`, tarball], { cwd: dir, stdio: 'inherit' });
fs.writeFileSync(path.join(dir, 'app.js'), `
const { App, Stack, Duration } = require('aws-cdk-lib');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { RealtimeWafGuard, ElasticWafMonitor, ElasticCredentials } = require('cdk-waf-guard');
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer', { env: { region: 'us-east-1' } });
const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: new origins.HttpOrigin('www.example.com') } });
const guard = new RealtimeWafGuard(stack, 'Guard', { rules: [{ host: 'www.example.com', threshold: 100, window: Duration.minutes(1) }] });
guard.attachTo(distribution);
new ElasticWafMonitor(stack, 'Monitor', { endpoint: 'https://es.example.com:9243', credentials: ElasticCredentials.apiKey(new secretsmanager.Secret(stack, 'EsKey')), indexPattern: 'waf-*' });
const template = app.synth().getStackByName('Consumer').template;
const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
const staged = require('fs').readdirSync('cdk.out').filter((f) => f.startsWith('asset.'));
console.log(JSON.stringify({ resources: Object.keys(template.Resources).length, functions: functions.length, stagedAssets: staged.length }));
if (functions.length < 4 || staged.length < 4) process.exit(1);
`);
execFileSync('node', ['app.js'], { cwd: dir, stdio: 'inherit' });
// The replay CLI ships as the package's bin and must run with the package's own (runtime) dependencies only.
const fixtures = path.join(root, 'test', 'cli', 'fixtures');
const report = execFileSync(path.join(dir, 'node_modules', '.bin', 'cdk-waf-guard'),
  ['replay', '--rules', path.join(fixtures, 'rules.json'), path.join(fixtures, 'traffic.log.gz')], { cwd: dir, encoding: 'utf8' });
if (!/would block 1 client/.test(report)) {
  console.error(`pack-smoke: unexpected replay report:\n${report}`);
  process.exit(1);
}
fs.rmSync(dir, { recursive: true, force: true });
console.log('pack-smoke: the packed library installs and synthesizes in a fresh app');
