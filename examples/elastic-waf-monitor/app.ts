/**
 * Example: an ElasticWafMonitor watching a WAF that runs as an ECS Fargate service and logs its requests to Elasticsearch.
 *
 *   npx ts-node --project tsconfig.dev.json examples/elastic-waf-monitor/app.ts   # synthesizes into ./cdk.out
 *
 * Deploy with the CDK CLI from this folder (see README.md).
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ElasticCredentials, ElasticWafMonitor } from '../../src';

/** Builds the example stack into the app; the test builds it the same way, without spawning a process. */
export function buildMonitorExampleStack(app: App): Stack {
  const stack = new Stack(app, 'ElasticWafMonitorExample', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'eu-west-1' },
    description: 'cdk-waf-guard example: health, alarms and debugging of an ECS WAF logging to Elasticsearch',
  });

  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  vpc.addFlowLog('FlowLog');

  // The WAF itself: a Fargate service on a cluster with Container Insights, which the running-tasks alarm reads.
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const wafLogs = new logs.LogGroup(stack, 'WafLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'WafTask', { cpu: 512, memoryLimitMiB: 1024 });
  taskDefinition.addContainer('waf', {
    // Your WAF image; this public image stands in for it.
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    logging: ecs.LogDrivers.awsLogs({ logGroup: wafLogs, streamPrefix: 'waf' }),
    portMappings: [{ containerPort: 80 }],
  });
  const service = new ecs.FargateService(stack, 'WafService', {
    cluster,
    taskDefinition,
    desiredCount: 2,
    circuitBreaker: { rollback: true },
  });

  // {"username": "...", "password": "..."} of a user that may read waf-logs-* and the node stats.
  const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'EsCredentials', 'waf/elasticsearch-monitor');

  new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
    credentials: ElasticCredentials.basicAuth(secret),
    indexPattern: 'waf-logs-*',
    clusterName: 'waf-logs',
    alertEmails: ['oncall@example.com'],
    vpc,
    ecsService: service,
    ecsLogGroup: wafLogs,
    debugChecks: {
      vpc,
      frontDoor: { dnsNames: ['waf.example.com'], egressIpAddresses: ['203.0.113.10'] },
      customers: [
        { name: 'Example Shop', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: '10.0.20.15', upstreamPort: 8443 }] },
      ],
      requestTimeout: Duration.seconds(5),
    },
  });

  return stack;
}

if (require.main === module) {
  const app = new App();
  buildMonitorExampleStack(app);
  app.synth();
}
