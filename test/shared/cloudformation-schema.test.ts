import { StandardDiagnostic } from '@aws/cloudformation-validate';
import { App, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  ApdexDefinition, Counting, Detection, ElasticCredentials, ElasticWafMonitor, ElasticWafMonitorProps, RealtimeWafGuard, RealtimeWafGuardProps,
  RuleAction, WebProtocol,
} from '../../src';
import { newDistribution } from '../realtime-waf-guard/construct-fixtures';
import {
  dashboardProblems, formatFindings, freeSchemaValidator, isSchemaViolation, schemaFindings, validateTemplate,
} from '../support/cloudformation-schema';

/**
 * Names, descriptions and metric names the constructs derive from user input (construct ids and paths, guardName,
 * clusterName, dashboardName, namespaces, rules) checked against the CloudFormation resource schemas and the
 * CloudWatch limits the schemas cannot express, for every input the constructs accept.
 */

const ACCOUNT = '111111111111';
const US_EAST_1: StackProps = { env: { account: ACCOUNT, region: 'us-east-1' } };
const EU_WEST_1: StackProps = { env: { account: ACCOUNT, region: 'eu-west-1' } };
const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:waf-es-credentials-AbCdEf`;

afterAll(() => freeSchemaValidator());

/** Every schema violation and dashboard limit breach of the stack, one readable line each. */
function problemsOf(stack: Stack): string[] {
  const template = Template.fromStack(stack).toJSON();
  return [...formatFindings(schemaFindings(template, stack.region)), ...dashboardProblems(template)];
}

/**
 * A configuration the construct either must accept (`within documented limits`) or may refuse with an error naming
 * the prop. What it accepts must deploy: accepting a value and emitting a template CloudFormation rejects is the bug.
 */
interface Case {
  readonly name: string;
  readonly build: () => Stack;
  /** Absent: the input is within the documented limits and must synthesize. */
  readonly mayRejectWith?: RegExp;
}

function check(c: Case): void {
  let stack: Stack;
  try {
    stack = c.build();
  } catch (error) {
    if (!c.mayRejectWith) throw error;
    // A refusal must say which prop is wrong, not be any crash.
    expect((error as Error).message).toMatch(c.mayRejectWith);
    return;
  }
  expect(problemsOf(stack)).toEqual([]);
}

// ---- RealtimeWafGuard

function guardStack(id: string, props: RealtimeWafGuardProps = {}, nest: string[] = [], stackId = 'GuardStack'): Stack {
  const stack = new Stack(new App(), stackId, US_EAST_1);
  const scope = nest.reduce<Construct>((parent, childId) => new Construct(parent, childId), stack);
  const guard = new RealtimeWafGuard(scope, id, props);
  guard.attachTo(newDistribution(stack));
  return stack;
}

const LONG_ID = (c: string) => `${c.repeat(180)}_${c.toUpperCase().repeat(19)}`;

/** Every optional feature of the guard on, with names at their limits. */
function fullGuardProps(): RealtimeWafGuardProps {
  return {
    guardName: `g_${'x'.repeat(60)}-1`,
    rules: [
      { host: 'api.example.com', pathPrefix: '/login', threshold: 200, window: Duration.minutes(1) },
      { id: 'rule_with.odd-chars:1', host: '*.example.com', threshold: 5000, window: Duration.hours(1), blockFor: Duration.days(30), action: RuleAction.COUNT },
      { host: 'xn--bcher-kva.example', pathPrefix: '/a b/%20/ü?x=1&y=2', threshold: 143, window: Duration.seconds(10) },
    ],
    shardCount: 2,
    additionalLogFields: ['cs-user-agent', 'sc-status', 'cs-referer'],
    samplingRate: 7,
    allowList: ['203.0.113.7', '2001:db8::/32'],
    trustedProxies: ['198.51.100.0/24'],
    maxNewBlocksPerMinute: 10_000,
    rulesCacheDuration: Duration.seconds(0),
    batchSize: 10_000,
    maxBatchingWindow: Duration.seconds(300),
    retryAttempts: 10_000,
    maxRecordAge: Duration.days(7),
    logProcessorMemorySize: 10_240,
    rateBasedBackstop: { limit: 2_000_000_000, evaluationWindow: Duration.minutes(10) },
    managedRuleGroups: [
      { name: 'AWSManagedRulesCommonRuleSet', excludedRules: ['SizeRestrictions_BODY', 'NoUserAgent_HEADER'] },
      { name: 'AWSManagedRulesKnownBadInputsRuleSet' },
      { name: 'G'.repeat(128), vendorName: 'Vendor_1-x' },
    ],
    alertEmails: ['oncall@example.com', 'waf-team+alerts@sub.example.co.uk'],
    logRetention: logs.RetentionDays.TEN_YEARS,
    historyRetention: Duration.days(3650),
    counterRetention: Duration.days(7),
    removalPolicy: RemovalPolicy.DESTROY,
    metricsNamespace: `Custom/Waf.Guard_#1:${'n'.repeat(200)}`,
    counting: Counting.localFirst(50),
    operationalAlarms: true,
  };
}

const GUARD_CASES: Case[] = [
  { name: 'defaults', build: () => guardStack('Guard') },
  { name: 'construct id with "_"', build: () => guardStack('My_Guard') },
  { name: 'construct id with digits, dots and spaces', build: () => guardStack('guard 2.0 edge') },
  { name: 'construct id with punctuation', build: () => guardStack('Guard (prod); #1 @edge') },
  { name: 'construct id with non-ASCII letters', build: () => guardStack('Wächter-überall-€') },
  { name: 'stack name at 128 characters', build: () => guardStack('Guard', {}, [], `S${'t'.repeat(126)}k`) },
  { name: 'construct id of 200 characters', build: () => guardStack(LONG_ID('g')) },
  {
    name: 'construct path of about 600 characters',
    build: () => guardStack(LONG_ID('g'), {}, [LONG_ID('a'), LONG_ID('b')]),
  },
  { name: 'exact counting (no counter-write alarm)', build: () => guardStack('Guard', { counting: Counting.EXACT }) },
  { name: 'guardName of 1 character', build: () => guardStack('Guard', { guardName: 'g' }) },
  { name: 'guardName "_"', build: () => guardStack('Guard', { guardName: '_' }) },
  { name: 'guardName "-"', build: () => guardStack('Guard', { guardName: '-' }) },
  { name: 'guardName of 64 characters with "_" and "-"', build: () => guardStack('Guard', { guardName: `_a-${'Z9_-'.repeat(15)}b` }) },
  {
    name: 'guardName over 64 characters',
    build: () => guardStack('Guard', { guardName: 'g'.repeat(65) }),
    mayRejectWith: /guardName/,
  },
  { name: 'metricsNamespace with every allowed punctuation', build: () => guardStack('Guard', { metricsNamespace: 'My.Company/Waf_Guard-1#edge:prod' }) },
  { name: 'metricsNamespace of 255 characters', build: () => guardStack('Guard', { metricsNamespace: 'N'.repeat(255) }) },
  {
    name: 'metricsNamespace of 256 characters',
    build: () => guardStack('Guard', { metricsNamespace: 'N'.repeat(256) }),
    mayRejectWith: /metricsNamespace/,
  },
  {
    name: 'metricsNamespace starting with ":"',
    build: () => guardStack('Guard', { metricsNamespace: ':Waf' }),
    mayRejectWith: /metricsNamespace/,
  },
  {
    name: 'metricsNamespace with a space',
    build: () => guardStack('Guard', { metricsNamespace: 'Waf Guard' }),
    mayRejectWith: /metricsNamespace/,
  },
  {
    name: 'managed rule group of another vendor with a space in its name',
    build: () => guardStack('Guard', { managedRuleGroups: [{ name: 'BotControl', vendorName: 'Some Vendor' }] }),
    mayRejectWith: /vendorName|managedRuleGroups/,
  },
  {
    name: 'managed rule group rule to exclude with a space in its name',
    build: () => guardStack('Guard', { managedRuleGroups: [{ name: 'AWSManagedRulesCommonRuleSet', excludedRules: ['No User Agent'] }] }),
    mayRejectWith: /excludedRules|managedRuleGroups/,
  },
  {
    name: 'every optional feature, names at their limits, in a deep path',
    build: () => {
      const stack = new Stack(new App(), 'GuardStack', US_EAST_1);
      const scope = new Construct(new Construct(stack, 'Edge_Protection v2'), 'Team.Payments');
      const guard = new RealtimeWafGuard(scope, 'Guard_Prod 1', fullGuardProps());
      guard.attachTo(newDistribution(stack));
      return stack;
    },
  },
  {
    name: 'Timestream sink and query detection, every optional feature, names at their limits',
    build: () => {
      const stack = new Stack(new App(), 'GuardStack', US_EAST_1);
      const scope = new Construct(new Construct(stack, 'Edge_Protection v2'), 'Team.Payments');
      const guard = new RealtimeWafGuard(scope, 'Guard_Prod 1', {
        ...fullGuardProps(),
        maxRecordAge: Duration.hours(1),
        timestream: {
          memoryRetention: Duration.hours(8766),
          magneticRetention: Duration.days(73_000),
          fields: ['sc-status', 'time-taken', 'cs-user-agent', 'c-ip', 'asn'],
          queryInterval: Duration.minutes(1),
        },
        detection: Detection.TIMESTREAM_QUERY,
      });
      guard.attachTo(newDistribution(stack));
      return stack;
    },
  },
  {
    name: 'Timestream sink into an existing database and table',
    build: () => guardStack('Guard', { timestream: { database: 'a'.repeat(256), table: 'cloudfront.requests-1_x' } }),
  },
  {
    name: 'a stream, key and topic of the user\'s',
    build: () => {
      const stack = new Stack(new App(), 'GuardStack', US_EAST_1);
      const encryptionKey = new kms.Key(stack, 'Key');
      new RealtimeWafGuard(stack, 'Guard_Own', {
        existingStream: new kinesis.Stream(stack, 'Stream', { encryptionKey }),
        encryptionKey,
        alertTopic: new sns.Topic(stack, 'Topic'),
        operationalAlarms: true,
      });
      return stack;
    },
  },
  {
    name: 'the guard\'s rules in a WebACL of the user\'s, no alarms',
    build: () => {
      const stack = new Stack(new App(), 'GuardStack', US_EAST_1);
      const guard = new RealtimeWafGuard(stack, 'Guard_Shared', {
        guardName: `shared_${'w'.repeat(57)}`,
        createWebAcl: false,
        operationalAlarms: false,
        rateBasedBackstop: { limit: 10, evaluationWindow: Duration.minutes(1) },
      });
      new wafv2.CfnWebACL(stack, 'OwnAcl', {
        scope: 'CLOUDFRONT',
        defaultAction: { allow: {} },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'own', sampledRequestsEnabled: true },
        rules: guard.blockRules(1_000_000),
      });
      return stack;
    },
  },
];

describe('RealtimeWafGuard templates pass the CloudFormation schemas', () => {
  test.each(GUARD_CASES)('$name', check);

  test('the checked templates hold every kind of resource the guard creates', () => {
    // Without this, a case that synthesized nothing of a kind would pass the schema check vacuously.
    const full = GUARD_CASES.find((c) => c.name.startsWith('every optional feature'))!;
    const types = new Set(Object.values<any>(Template.fromStack(full.build()).toJSON().Resources).map((r) => r.Type as string));
    for (const type of [
      'AWS::WAFv2::IPSet', 'AWS::WAFv2::WebACL', 'AWS::Kinesis::Stream', 'AWS::DynamoDB::Table', 'AWS::Lambda::Function',
      'AWS::Lambda::EventSourceMapping', 'AWS::CloudWatch::Alarm', 'AWS::Logs::LogGroup', 'AWS::SNS::Topic',
      'AWS::SNS::Subscription', 'AWS::SQS::Queue', 'AWS::Events::Rule', 'AWS::IAM::Role', 'AWS::KMS::Key',
      'AWS::CloudFront::RealtimeLogConfig', 'AWS::CloudFront::Distribution',
    ]) {
      expect(types).toContain(type);
    }
    const timestream = GUARD_CASES.find((c) => c.name.startsWith('Timestream sink and query detection'))!;
    const withTimestream = new Set(Object.values<any>(Template.fromStack(timestream.build()).toJSON().Resources).map((r) => r.Type as string));
    for (const type of ['AWS::Timestream::Database', 'AWS::Timestream::Table', 'AWS::Events::Rule']) {
      expect(withTimestream).toContain(type);
    }
  });
});

// ---- ElasticWafMonitor

type MonitorOverrides = Partial<ElasticWafMonitorProps> | ((stack: Stack) => Partial<ElasticWafMonitorProps>);

function monitorStack(id: string, overrides: MonitorOverrides = {}, nest: string[] = []): Stack {
  const stack = new Stack(new App(), 'Monitoring', EU_WEST_1);
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', SECRET_ARN);
  const scope = nest.reduce<Construct>((parent, childId) => new Construct(parent, childId), stack);
  new ElasticWafMonitor(scope, id, {
    endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
    credentials: ElasticCredentials.basicAuth(secret),
    indexPattern: 'waf-logs-*',
    alertEmails: ['oncall@example.com'],
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return stack;
}

/** An existing ECS service of the given name, as a user would import it. */
function importedService(stack: Stack, serviceName: string): ecs.IBaseService {
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'waf-cluster', vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) });
  return ecs.FargateService.fromFargateServiceAttributes(stack, 'Service', { cluster, serviceName });
}

/** Printable ASCII but quotes and backslashes: what the monitor documents for clusterName. */
const CLUSTER_PUNCTUATION = 'prod cluster #1 (eu) @edge: a.b_c-d/e+f=g!$%&*,;<>?[]^`{|}~';

const MONITOR_CASES: Case[] = [
  { name: 'defaults', build: () => monitorStack('WafHealth') },
  { name: 'construct id with "_", digits, dots and spaces', build: () => monitorStack('waf_health 2.0 prod') },
  {
    name: 'construct id with non-ASCII letters (the default clusterName)',
    build: () => monitorStack('Überwachung'),
    mayRejectWith: /clusterName/,
  },
  { name: 'construct path of about 600 characters', build: () => monitorStack(LONG_ID('m'), {}, [LONG_ID('a'), LONG_ID('b')]) },
  { name: 'clusterName of 1 character', build: () => monitorStack('WafHealth', { clusterName: 'c' }) },
  { name: 'clusterName with spaces and punctuation', build: () => monitorStack('WafHealth', { clusterName: CLUSTER_PUNCTUATION }) },
  { name: 'clusterName of 200 characters', build: () => monitorStack('WafHealth', { clusterName: `c ${'x'.repeat(197)}z` }) },
  {
    name: 'clusterName of 201 characters',
    build: () => monitorStack('WafHealth', { clusterName: 'c'.repeat(201) }),
    mayRejectWith: /clusterName/,
  },
  {
    name: 'clusterName with non-ASCII letters',
    build: () => monitorStack('WafHealth', { clusterName: 'prod-ü-€' }),
    mayRejectWith: /clusterName/,
  },
  {
    // ECS allows service names of 255 characters; the monitor puts "service:" and the name in a metric dimension.
    name: 'ECS service name of 255 characters',
    build: () => monitorStack('WafHealth', (stack) => ({ ecsService: importedService(stack, `waf_proxy-${'s'.repeat(245)}`) })),
    mayRejectWith: /ecsService/,
  },
  { name: 'dashboardName with "_" and "-"', build: () => monitorStack('WafHealth', { dashboardName: 'WAF_health-prod-1' }) },
  { name: 'dashboardName of 255 characters', build: () => monitorStack('WafHealth', { dashboardName: `d_${'x'.repeat(252)}-` }) },
  {
    name: 'dashboardName of 256 characters',
    build: () => monitorStack('WafHealth', { dashboardName: 'd'.repeat(256) }),
    mayRejectWith: /dashboardName/,
  },
  {
    name: 'dashboardName with a space',
    build: () => monitorStack('WafHealth', { dashboardName: 'WAF health' }),
    mayRejectWith: /dashboardName/,
  },
  { name: 'metricNamespace with every allowed punctuation', build: () => monitorStack('WafHealth', { metricNamespace: 'My.Company/Waf_Health-1#edge:prod' }) },
  { name: 'metricNamespace of 255 characters', build: () => monitorStack('WafHealth', { metricNamespace: 'N'.repeat(255) }) },
  {
    name: 'metricNamespace of 256 characters',
    build: () => monitorStack('WafHealth', { metricNamespace: 'N'.repeat(256) }),
    mayRejectWith: /metricNamespace/,
  },
  {
    name: 'metricNamespace starting with ":"',
    build: () => monitorStack('WafHealth', { metricNamespace: ':Waf' }),
    mayRejectWith: /metricNamespace/,
  },
  {
    name: 'every optional feature, names at their limits, in a deep path',
    build: () => {
      const stack = new Stack(new App(), 'Monitoring', EU_WEST_1);
      const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', SECRET_ARN);
      const ecsService = importedService(stack, 'waf_proxy-prod.1');
      const vpc = ecsService.cluster.vpc;
      const scope = new Construct(new Construct(stack, 'Edge_Monitoring v2'), 'Team.Payments');
      new ElasticWafMonitor(scope, 'Waf_Health 1', {
        endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
        credentials: ElasticCredentials.apiKey(secret, { apiKeyKey: 'api_key' }),
        indexPattern: 'waf-logs-*,other-*',
        fields: { latencyMs: 'waf.latency', host: 'host.name', customer: 'labels.customer' },
        statusValues: { allowed: 'ALLOW', blocked: 'BLOCK', alerted: 'ALERT' },
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        collectionInterval: Duration.minutes(10),
        window: Duration.minutes(15),
        ingestDelay: Duration.minutes(2),
        timeoutThreshold: Duration.seconds(60),
        apdexThreshold: Duration.millis(50),
        topHostCount: 100,
        requestTimeout: Duration.seconds(60),
        metricNamespace: `Custom/Waf.Health_#1:${'n'.repeat(200)}`,
        clusterName: `${CLUSTER_PUNCTUATION} ${'x'.repeat(200 - CLUSTER_PUNCTUATION.length - 2)}z`,
        alarms: {
          period: Duration.minutes(10),
          latency: { threshold: 500, evaluationPeriods: 5, datapointsToAlarm: 3 },
          apdex: { threshold: 0.9 },
          blockedPercent: { threshold: 50, period: Duration.minutes(20) },
          nodeCpu: { threshold: 95 },
          nodeHeap: { threshold: 90 },
          nodeDiskFree: { threshold: 10 },
          collectorErrors: { threshold: 2 },
          ecsLogErrors: { threshold: 100 },
          ecsTaskCrashes: { threshold: 1 },
          ecsCpu: { threshold: 70 },
          ecsMemory: { threshold: 80 },
          ecsRunningTasks: { threshold: 2, evaluationPeriods: 5 },
        },
        apdexDefinition: ApdexDefinition.ALLOWED_REQUESTS,
        topHostsShardSize: 20_000,
        additionalAlarms: [cloudwatch.Alarm.fromAlarmArn(stack, 'TeamAlarm', 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:team_upstream-5xx')],
        debugChecks: {
          vpc,
          frontDoor: { dnsNames: ['waf-alb-1.eu-west-1.elb.amazonaws.com'], ipAddresses: ['75.2.0.10'], egressIpAddresses: ['198.51.100.1'], port: 8443 },
          customers: [{ name: 'Acme Corp_1.eu', apps: [{ hostnames: ['shop.acme.example'], upstreamAddress: '10.0.5.5', upstreamProtocol: WebProtocol.HTTP, upstreamPort: 8080 }] }],
          customersTable: dynamodb.Table.fromTableName(stack, 'Customers', 'waf_customers-prod.1'),
          requestTimeout: Duration.seconds(10),
          concurrency: 32,
        },
        alertEmails: ['oncall@example.com', 'waf-team+alerts@sub.example.co.uk'],
        ecsService,
        ecsLogGroup: new logs.LogGroup(stack, 'WafServiceLogs'),
        dashboardName: `WAF_health-${'d'.repeat(244)}`,
        logRetention: logs.RetentionDays.TEN_YEARS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      return stack;
    },
  },
  {
    name: 'an alarm topic of the user\'s, every alarm off but one',
    build: () => {
      const stack = new Stack(new App(), 'Monitoring', EU_WEST_1);
      const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', SECRET_ARN);
      new ElasticWafMonitor(stack, 'Waf_Health', {
        endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
        credentials: ElasticCredentials.basicAuth(secret),
        indexPattern: 'waf-logs-*',
        alarmTopic: new sns.Topic(stack, 'Topic'),
        alarms: {
          latency: { enabled: false },
          apdex: { enabled: false },
          blockedPercent: { enabled: false },
          nodeCpu: { enabled: false },
          nodeHeap: { enabled: false },
          nodeDiskFree: { enabled: false },
        },
      });
      return stack;
    },
  },
];

describe('ElasticWafMonitor templates pass the CloudFormation schemas and CloudWatch limits', () => {
  test.each(MONITOR_CASES)('$name', check);

  test('the checked templates hold every kind of resource the monitor creates', () => {
    // The features of the full case, with names short enough not to depend on any length limit.
    const stack = monitorStack('WafHealth', (s) => {
      const ecsService = importedService(s, 'waf-proxy');
      return { ecsService, ecsLogGroup: new logs.LogGroup(s, 'WafServiceLogs'), vpc: ecsService.cluster.vpc, dashboardName: 'waf' };
    });
    const types = new Set(Object.values<any>(Template.fromStack(stack).toJSON().Resources).map((r) => r.Type as string));
    for (const type of [
      'AWS::Lambda::Function', 'AWS::Lambda::Permission', 'AWS::Events::Rule', 'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Dashboard', 'AWS::Logs::LogGroup', 'AWS::Logs::MetricFilter', 'AWS::SNS::Topic',
      'AWS::SNS::Subscription', 'AWS::IAM::Role', 'AWS::KMS::Key', 'AWS::EC2::SecurityGroup',
    ]) {
      expect(types).toContain(type);
    }
  });
});

// ---- Negative controls: the checks above find the kinds of bug they exist for

/** A stack with one resource built by the callback, and the findings on it. */
function findingsOf(build: (stack: Stack) => void, props: StackProps = US_EAST_1): string[] {
  const stack = new Stack(new App(), 'Control', props);
  build(stack);
  return problemsOf(stack);
}

const ipSet = (stack: Stack, description: string, ipAddressVersion = 'IPV4') =>
  new wafv2.CfnIPSet(stack, 'Set', { scope: 'CLOUDFRONT', ipAddressVersion, addresses: [], description });

// L1 resources: the L2 constructs check some of these limits themselves, and the controls are about the validator.
const fn = (stack: Stack, description: string) => new lambda.CfnFunction(stack, 'Fn', {
  runtime: 'nodejs22.x', handler: 'index.handler', code: { zipFile: 'exports.handler = () => {}' }, role: 'arn:aws:iam::111111111111:role/fn', description,
});

const alarm = (stack: Stack, metric: { namespace: string; metricName: string; dimensionValue: string }) =>
  new cloudwatch.CfnAlarm(stack, 'Alarm', {
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: [{ name: 'service', value: metric.dimensionValue }],
    statistic: 'Sum',
    period: 60,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
  });

describe('negative controls', () => {
  test('a WAF description with ";" breaks the WAFv2 description pattern; one without passes', () => {
    expect(findingsOf((s) => ipSet(s, 'Clients blocked by cdk-waf-guard; written by the guard sync function only'))).toEqual([
      expect.stringMatching(/^Set \(AWS::WAFv2::IPSet\) Properties\.Description = ".*;.*": F3031 .*does not match pattern/),
    ]);
    expect(findingsOf((s) => ipSet(s, 'Clients blocked by cdk-waf-guard, written by the guard sync function only'))).toEqual([]);
  });

  test('a WAF description with "_" (as from a construct path) breaks the pattern', () => {
    expect(findingsOf((s) => ipSet(s, 'Blocks clients detected by GuardStack/My_Guard'))).toEqual([
      expect.stringMatching(/Properties\.Description = "Blocks clients detected by GuardStack\/My_Guard": F3031/),
    ]);
  });

  test('a Lambda description over 256 characters breaks the length limit; 256 passes', () => {
    expect(findingsOf((s) => fn(s, 'd'.repeat(257)))).toEqual([
      expect.stringMatching(/^Fn \(AWS::Lambda::Function\) Properties\.Description = "d+": F3033 length 257 exceeds maximum 256/),
    ]);
    expect(findingsOf((s) => fn(s, 'd'.repeat(256)))).toEqual([]);
  });

  test('an enum value out of the schema counts, although the validator only warns', () => {
    expect(findingsOf((s) => ipSet(s, 'Blocked clients', 'IPV5'))).toEqual([
      expect.stringMatching(/Properties\.IPAddressVersion = "IPV5": W3030/),
    ]);
  });

  test('alarm metric names, namespaces and dimension values over their limits are found', () => {
    const findings = findingsOf((s) => alarm(s, {
      namespace: 'N'.repeat(256), metricName: 'M'.repeat(256), dimensionValue: 'v'.repeat(1025),
    }));
    expect(findings).toEqual(expect.arrayContaining([
      expect.stringMatching(/Properties\.Namespace = "N+": F3033 length 256 exceeds maximum 255/),
      expect.stringMatching(/Properties\.MetricName = "M+": F3033 length 256 exceeds maximum 255/),
      expect.stringMatching(/Properties\.Dimensions\.0\.Value = "v+.*: F3033 length 1025 exceeds maximum 1024/),
    ]));
    expect(findingsOf((s) => alarm(s, {
      namespace: 'N'.repeat(255), metricName: 'M'.repeat(255), dimensionValue: 'v'.repeat(1024),
    }))).toEqual([]);
  });

  test('WAF metric names with a space break the visibility config pattern', () => {
    expect(findingsOf((s) => new wafv2.CfnWebACL(s, 'Acl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'guard one', sampledRequestsEnabled: true },
    }))).toEqual([expect.stringMatching(/Properties\.VisibilityConfig\.MetricName = "guard one": F3031/)]);
  });

  test('lint is not counted: a create-only property is advice, not a schema error', () => {
    const stack = new Stack(new App(), 'Control', US_EAST_1);
    ipSet(stack, 'Blocked clients');
    const diagnostics = validateTemplate(Template.fromStack(stack).toJSON());
    // The validator does report it, so the empty list below is the filter at work.
    expect(diagnostics.map((d) => d.ruleId)).toContain('I9001');
    expect(problemsOf(stack)).toEqual([]);
  });

  test('schema rules count at any severity, other rules only as errors', () => {
    const diagnostic = (ruleId: string, severity: StandardDiagnostic['severity'], category: string) =>
      ({ ruleId, severity, category, message: '', source: 'SCHEMA' }) as StandardDiagnostic;
    expect(isSchemaViolation(diagnostic('W3030', 'WARN', 'Schema'))).toBe(true);
    expect(isSchemaViolation(diagnostic('F3033', 'FATAL', 'Schema'))).toBe(true);
    expect(isSchemaViolation(diagnostic('E2531', 'ERROR', 'Deprecation'))).toBe(true);
    expect(isSchemaViolation(diagnostic('W2531', 'WARN', 'Deprecation'))).toBe(false);
    expect(isSchemaViolation(diagnostic('W9003', 'WARN', 'Best Practice'))).toBe(false);
    expect(isSchemaViolation(diagnostic('I9001', 'INFO', 'Best Practice'))).toBe(false);
  });

  test('dashboard names over 255 characters or outside [A-Za-z0-9_-] are found; the schema states neither', () => {
    const dashboard = (name: string) => (s: Stack) => new cloudwatch.Dashboard(s, 'Dashboard', { dashboardName: name });
    expect(findingsOf(dashboard('d'.repeat(256)))).toEqual([expect.stringMatching(/DashboardName = "d+" \(256 chars\): must be 1 to 255/)]);
    expect(findingsOf(dashboard('d'.repeat(255)))).toEqual([]);
    // CDK checks the characters itself, so the template is edited as a construct bypassing that check would write it.
    const stack = new Stack(new App(), 'Control', US_EAST_1);
    (dashboard('ok')(stack).node.defaultChild as cloudwatch.CfnDashboard).addPropertyOverride('DashboardName', 'WAF health');
    expect(problemsOf(stack)).toEqual([expect.stringMatching(/DashboardName = "WAF health" \(10 chars\)/)]);
  });

  test('metrics inside the dashboard body over the CloudWatch limits are found', () => {
    const body = (metrics: unknown[]) => JSON.stringify({ widgets: [{ type: 'metric', properties: { metrics, region: 'us-east-1' } }] });
    const findings = findingsOf((s) => new cloudwatch.CfnDashboard(s, 'Dashboard', {
      dashboardBody: body([
        ['Waf', 'M'.repeat(256), 'Cluster', 'c'.repeat(1025)],
        [{ expression: `SEARCH('{Waf,Cluster} ${'x'.repeat(2048)}', 'Sum', 300)`, label: '', id: 'e1' }],
      ]),
    }));
    expect(findings).toEqual([
      expect.stringMatching(/metrics\[0\] metric name = "M+" \(256 chars\): must be 1 to 255/),
      expect.stringMatching(/metrics\[0\] dimension Cluster value = "c+" \(1025 chars\): must be 1 to 1024/),
      expect.stringMatching(/metrics\[1\] expression = "SEARCH.*" \(\d+ chars\): must be 1 to 2048/),
    ]);
    expect(findingsOf((s) => new cloudwatch.CfnDashboard(s, 'Dashboard', {
      dashboardBody: body([['Waf', 'M'.repeat(255), 'Cluster', 'c'.repeat(1024)], ['...', 'Other'], [{ expression: 'x'.repeat(2048), id: 'e1' }]]),
    }))).toEqual([]);
  });
});
