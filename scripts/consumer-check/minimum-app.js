// A consumer app on the library's minimum aws-cdk-lib, run by scripts/consumer-check.js: one stack with every construct.
// Exits 1 when the handlers' assets are not staged, i.e. the package is missing its bundles.
const fs = require('fs');
const { App, Stack, Duration } = require('aws-cdk-lib');
const acm = require('aws-cdk-lib/aws-certificatemanager');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { RealtimeWafGuard, ElasticWafMonitor, ElasticCredentials } = require('cdk-waf-guard');

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer', { env: { region: 'us-east-1' } });
const distribution = new cloudfront.Distribution(stack, 'Distribution', {
  domainNames: ['www.example.com'],
  certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555'),
  defaultBehavior: { origin: new origins.HttpOrigin('www.example.com') },
});
const guard = new RealtimeWafGuard(stack, 'Guard', { rules: [{ host: 'www.example.com', threshold: 100, window: Duration.minutes(1) }] });
guard.attachTo(distribution);
new ElasticWafMonitor(stack, 'Monitor', { endpoint: 'https://es.example.com:9243', credentials: ElasticCredentials.apiKey(new secretsmanager.Secret(stack, 'EsKey')), indexPattern: 'waf-*' });
const template = app.synth().getStackByName('Consumer').template;
const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
const staged = fs.readdirSync('cdk.out').filter((f) => f.startsWith('asset.'));
console.log(JSON.stringify({ resources: Object.keys(template.Resources).length, functions: functions.length, stagedAssets: staged.length }));
if (functions.length < 4 || staged.length < 4) process.exit(1);
