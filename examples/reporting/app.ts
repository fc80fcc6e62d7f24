/**
 * Example: daily and monthly WAF reports of a guard and an Elasticsearch-logging WAF.
 *
 *   npx ts-node --project tsconfig.dev.json examples/reporting/app.ts   # synthesizes into ./cdk.out
 *
 * Deploy with the CDK CLI from this folder (see README.md). The guard needs us-east-1; the report runs beside it.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CostGrouping, ElasticCredentials, RealtimeWafGuard, WafReporting } from '../../src';

/** Builds the example stack into the app; the test builds it the same way. */
export function buildReportingStack(app: App): Stack {
  const stack = new Stack(app, 'WafReportingExample', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: 'us-east-1' },
    description: 'cdk-waf-guard example: daily and monthly WAF reports',
  });

  const guard = new RealtimeWafGuard(stack, 'Guard', {
    rules: [{ host: 'www.example.com', pathPrefix: '/login', threshold: 30, window: Duration.minutes(1), blockFor: Duration.hours(1) }],
    alertEmails: ['security@example.com'],
  });

  new WafReporting(stack, 'Reports', {
    guard,
    elastic: {
      endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
      // {"apiKey": "..."}: read on waf-logs-*.
      credentials: ElasticCredentials.apiKey(secretsmanager.Secret.fromSecretNameV2(stack, 'EsKey', 'waf/elasticsearch')),
      indexPattern: 'waf-logs-*',
      breachField: 'waf.data_breach',
    },
    // A verified SES identity in this Region; in the SES sandbox, recipients must be verified too.
    sender: 'waf-reports@example.com',
    recipients: ['security@example.com', 'customer-success@example.com'],
    timeZone: 'Europe/Berlin',
    // Berlin time, summer and winter: the day is complete and late documents are in.
    dailyRunTime: '05:00',
    costExplorer: { groupBy: CostGrouping.SERVICE },
    elasticCloudBilling: {
      apiKeySecret: secretsmanager.Secret.fromSecretNameV2(stack, 'BillingKey', 'elastic/billing-api-key'),
      organizationId: '1234567890',
    },
  });
  return stack;
}

if (require.main === module) {
  const app = new App();
  buildReportingStack(app);
  app.synth();
}
