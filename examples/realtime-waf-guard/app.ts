/**
 * Example: a CloudFront distribution guarded by RealtimeWafGuard.
 *
 *   npx ts-node --project tsconfig.dev.json examples/realtime-waf-guard/app.ts   # synthesizes into ./cdk.out
 *
 * Deploy with the CDK CLI from this folder (see README.md). Everything is in us-east-1, where CloudFront-scope WAF lives.
 */
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { RealtimeWafGuard, RuleAction } from '../../src';

/** Builds the example stack into the app; the test builds it the same way, without spawning a process. */
export function buildExampleStack(app: App): Stack {
  const stack = new Stack(app, 'WafGuardExample', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: 'us-east-1' },
    description: 'cdk-waf-guard example: CloudFront distribution with real-time abuse blocking',
  });

  // Your certificate (us-east-1) for the hosts below: `npx cdk deploy -c certificateArn=arn:aws:acm:us-east-1:...`.
  const certificateArn: string = app.node.tryGetContext('certificateArn') ??
    'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000';
  const distribution = new cloudfront.Distribution(stack, 'Distribution', {
    comment: 'cdk-waf-guard example',
    // The guard refuses requests to the distribution's own *.cloudfront.net name, so it serves its hosts only.
    domainNames: ['www.example.com', 'api.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', certificateArn),
    defaultBehavior: {
      origin: new origins.HttpOrigin('www.example.com'),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
    },
    additionalBehaviors: {
      '/api/*': {
        origin: new origins.HttpOrigin('api.example.com'),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      },
    },
  });

  const guard = new RealtimeWafGuard(stack, 'Guard', {
    rules: [
      // Credential stuffing: 30 login attempts a minute from one address is not a person.
      { host: 'www.example.com', pathPrefix: '/login', threshold: 30, window: Duration.minutes(1), blockFor: Duration.hours(1) },
      // Scrapers hammering the API.
      { host: 'api.example.com', threshold: 3000, window: Duration.minutes(5) },
      // A new rule on every subdomain, in dry run: alerts "would block" until its threshold is trusted.
      { id: 'all-subdomains-dry-run', host: '*.example.com', threshold: 10_000, window: Duration.minutes(5), action: RuleAction.COUNT },
    ],
    allowList: ['192.0.2.0/24', '2001:db8:1234::/48'],
    alertEmails: ['security@example.com'],
    rateBasedBackstop: { limit: 20_000 },
  });
  guard.attachTo(distribution);

  // Findings on the example's own distribution, which a real app configures for its domain; the guard ships its own.
  NagSuppressions.addResourceSuppressions(distribution, [
    { id: 'AwsSolutions-CFR1', reason: 'Example: no geo restriction; the audience is worldwide.' },
    { id: 'AwsSolutions-CFR3', reason: 'Example: the guard\'s real-time logs record requests; standard access logs are the app\'s choice.' },
  ]);
  return stack;
}

if (require.main === module) {
  const started = Date.now();
  // The CDK CLI passes CDK_OUTDIR; run directly, the app writes to ./cdk.out (gitignored).
  const app = new App(process.env.CDK_OUTDIR ? {} : { outdir: 'cdk.out' });
  const stack = buildExampleStack(app);
  Aspects.of(app).add(new AwsSolutionsChecks());
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: object };
  console.log(
    `Synthesized ${stack.stackName} (${Object.keys(template.Resources).length} resources) into ${assembly.directory} ` +
    `in ${Date.now() - started} ms.`,
  );
}
