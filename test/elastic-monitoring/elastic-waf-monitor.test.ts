import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ElasticCredentials,
  ElasticWafMetrics,
  ElasticWafMonitor,
  ElasticWafMonitorProps,
  ApdexDefinition,
} from '../../src';
import { COLLECTOR_CONFIG_ENV, CollectorConfig } from '../../src/elastic-monitoring/runtime/config';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:waf-es-credentials-AbCdEf';

function newStack() {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', SECRET_ARN);
  return { app, stack, secret };
}

function monitor(overrides: Partial<ElasticWafMonitorProps> = {}) {
  const { app, stack, secret } = newStack();
  const construct = new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
    credentials: ElasticCredentials.basicAuth(secret),
    indexPattern: 'waf-logs-*',
    alertEmails: ['oncall@example.com'],
    ...overrides,
  });
  return { app, stack, construct, template: Template.fromStack(stack) };
}

function collectorConfig(template: Template): CollectorConfig {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [COLLECTOR_CONFIG_ENV]: Match.anyValue() } } },
  });
  const [fn] = Object.values(fns);
  return JSON.parse(fn.Properties.Environment.Variables[COLLECTOR_CONFIG_ENV]);
}

/** The dashboard body with every deploy-time value replaced by TOKEN, parsed. */
function dashboardBody(template: Template): any {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody;
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
}

/** Metric math alarms on the ECS service's metrics (the cluster health rejection alarms are math alarms too). */
function ecsMathAlarms(template: Template) {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Metrics: Match.anyValue() } }))
    .filter((a) => JSON.stringify(a.Properties.Metrics).includes('ECS/ContainerInsights'));
}

function alarmWith(template: Template, metricName: string) {
  const alarms = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } });
  const values = Object.values(alarms);
  expect(values).toHaveLength(1);
  return values[0].Properties;
}

describe('collector', () => {
  test('a Node.js 22 function whose only configuration is non-secret JSON, with the documented defaults', () => {
    const { template } = monitor();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Timeout: 60,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: Match.anyValue() },
    });
    const config = collectorConfig(template);
    expect(config).toEqual({
      endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
      indexPattern: 'waf-logs-*',
      fields: {
        timestamp: '@timestamp',
        latency: 'waf.latency_ms',
        status: 'waf.status',
        host: 'url.domain',
        customer: 'waf.customer',
        clientIp: 'client.ip',
        requestBytes: 'http.request.bytes',
        responseBytes: 'http.response.bytes',
        httpStatusCode: 'http.response.status_code',
      },
      statusValues: { allowed: 'allowed', blocked: 'blocked', alerted: 'alerted' },
      intervalMs: 300_000,
      windowMs: 300_000,
      ingestDelayMs: 60_000,
      timeoutThresholdMs: 240_000,
      apdexTMs: 30,
      topN: 15,
      namespace: 'WafGuard/Elastic',
      clusterName: 'WafHealth',
      requestTimeoutMs: 30_000,
      credentials: { kind: 'basic', secretArn: SECRET_ARN, usernameKey: 'username', passwordKey: 'password' },
    });
  });

  test('custom field names, status values and figures reach the collector', () => {
    const { template } = monitor({
      fields: { latencyMs: 'timing.waf_ms', host: 'host.keyword', timestamp: 'ts' },
      statusValues: { blocked: 'DENY' },
      topHostCount: 25,
      apdexThreshold: Duration.millis(50),
      timeoutThreshold: Duration.seconds(60),
      collectionInterval: Duration.minutes(10),
      window: Duration.minutes(15),
      metricNamespace: 'Acme/Waf',
      clusterName: 'eu-prod',
    });
    const config = collectorConfig(template);
    expect(config.fields).toEqual(expect.objectContaining({ latency: 'timing.waf_ms', host: 'host.keyword', timestamp: 'ts', status: 'waf.status' }));
    expect(config.statusValues).toEqual({ allowed: 'allowed', blocked: 'DENY', alerted: 'alerted' });
    expect(config).toEqual(expect.objectContaining({ topN: 25, apdexTMs: 50, timeoutThresholdMs: 60_000, intervalMs: 600_000, windowMs: 900_000, namespace: 'Acme/Waf', clusterName: 'eu-prod' }));
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    // the ranking's documented default bound is the collector's default, not written into the configuration
    expect(config).not.toHaveProperty('hostShardSize');
    expect(collectorConfig(monitor({ topHostsShardSize: 12_000 }).template).hostShardSize).toBe(12_000);
  });

  test('an API key secret is configured as such', () => {
    const { stack, secret } = newStack();
    new ElasticWafMonitor(stack, 'M', { endpoint: 'https://es:9243', indexPattern: 'w', credentials: ElasticCredentials.apiKey(secret, { apiKeyKey: 'key' }) });
    expect(collectorConfig(Template.fromStack(stack)).credentials).toEqual({ kind: 'apiKey', secretArn: SECRET_ARN, apiKeyKey: 'key' });
  });

  test('runs every 5 minutes with no retries, from EventBridge or from Lambda', () => {
    const { template, stack, construct } = monitor();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [stack.getLogicalId(construct.collector.node.defaultChild as any), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  test('least privilege: write to its own log group, read only the credentials secret, no PutMetricData', () => {
    const { template, stack, construct } = monitor();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(construct.collectorLogGroup.node.defaultChild as any), 'Arn'] },
      },
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: SECRET_ARN },
    ]);
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('cloudwatch:PutMetricData');
  });

  test('without a VPC the function runs outside one', () => {
    const { template, construct } = monitor();
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
    expect(construct.collectorSecurityGroups).toEqual([]);
  });

  test('with a VPC the function runs in the selected subnets with its own security group', () => {
    const { stack, secret } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const m = new ElasticWafMonitor(stack, 'M', {
      endpoint: 'https://10.0.9.9:9200',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.basicAuth(secret),
      vpc,
      vpcSubnets: { subnetGroupName: 'data' },
    });
    const template = Template.fromStack(stack);
    const dataSubnets = vpc.selectSubnets({ subnetGroupName: 'data' }).subnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as any) }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: dataSubnets, SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^MCollectorFunctionSecurityGroup'), 'GroupId'] }] },
    });
    expect(m.collectorSecurityGroups).toHaveLength(1);
    const [roleId, role] = Object.entries(template.findResources('AWS::IAM::Role'))[0];
    // Lambda refuses to create a VPC function whose role cannot manage network interfaces; the managed
    // AWSLambdaVPCAccessExecutionRole would also allow logs on every log group, so the role gets only the ENI actions.
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const eni = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId) && JSON.stringify(p).includes('ec2:CreateNetworkInterface'));
    expect(eni).toHaveLength(1);
    expect(eni[0].Metadata.cdk_nag.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })]);
  });
});

describe('alarm topic', () => {
  test('the topic, its key and a named dashboard keep their logical ids across versions: replacing them would drop confirmed subscriptions or fail the deploy', () => {
    const { template } = monitor({ dashboardName: 'waf-health' });
    const ids = (type: string) => Object.keys(template.findResources(type));
    // Ids of the construct's first release; a refactor that moves these resources must keep them.
    expect(ids('AWS::SNS::Topic')).toEqual([expect.stringMatching(/^WafHealthAlarmTopic[0-9A-F]{8}$/)]);
    expect(ids('AWS::KMS::Key')).toEqual([expect.stringMatching(/^WafHealthAlarmTopicKey[0-9A-F]{8}$/)]);
    expect(ids('AWS::CloudWatch::Dashboard')).toEqual([expect.stringMatching(/^WafHealthDashboard[0-9A-F]{8}$/)]);
  });

  test('a new topic is encrypted with a rotated key CloudWatch may use, TLS-only, with the email subscriptions', () => {
    const { template, stack, construct } = monitor({ alertEmails: ['oncall@example.com', 'waf-team@example.com'] });
    const keyId = stack.getLogicalId(construct.alarmTopicKey!.node.defaultChild as any);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const subs = Object.values(template.findResources('AWS::SNS::Subscription')).map((s) => [s.Properties.Protocol, s.Properties.Endpoint]);
    expect(subs).toEqual([['email', 'oncall@example.com'], ['email', 'waf-team@example.com']]);
  });

  test('an existing topic is used as is', () => {
    const { stack, secret } = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:eu-west-1:111111111111:ops-alerts');
    const m = new ElasticWafMonitor(stack, 'M', { endpoint: 'https://es:9243', indexPattern: 'w', credentials: ElasticCredentials.basicAuth(secret), alarmTopic: topic });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(m.alarmTopic).toBe(topic);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:111111111111:ops-alerts']);
      expect(alarm.Properties.OKActions).toEqual(['arn:aws:sns:eu-west-1:111111111111:ops-alerts']);
    }
  });

  test('alertEmails with an existing topic is an error: the monitor does not subscribe addresses to a topic it does not own', () => {
    const { stack, secret } = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:eu-west-1:111111111111:ops-alerts');
    const props = { endpoint: 'https://es:9243', indexPattern: 'w', credentials: ElasticCredentials.basicAuth(secret), alarmTopic: topic };
    expect(() => new ElasticWafMonitor(stack, 'M', { ...props, alertEmails: ['oncall@example.com'] })).toThrow(
      'Give either alarmTopic or alertEmails, not both: subscribe the addresses to your own topic instead',
    );
    expect(() => new ElasticWafMonitor(stack, 'N', { ...props, alertEmails: [] })).not.toThrow();
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('alarms', () => {
  test('default alarms on p95 latency, timeouts, 5xx, freshness, traffic, Apdex, blocked share, node CPU/heap/disk and collector errors', () => {
    const { template, construct, stack } = monitor();
    const topicRef = { Ref: stack.getLogicalId(construct.alarmTopic.node.defaultChild as any) };
    template.resourceCountIs('AWS::CloudWatch::Alarm', 17);
    expect(construct.alarms).toHaveLength(17);
    const expectations: Array<[string, string, number, string, number, string]> = [
      // p95, not the average: one timeout among 1,500 fast requests does not move it
      ['LatencyP95', 'Average', 120, 'GreaterThanThreshold', 3, 'notBreaching'],
      ['TimeoutPercent', 'Average', 1, 'GreaterThanThreshold', 3, 'notBreaching'],
      ['ServerErrorPercent', 'Average', 5, 'GreaterThanThreshold', 3, 'notBreaching'],
      // ingest delay 60 s + interval 300 s + window 300 s; no datapoint (no document, no index) is breaching
      ['NewestDocumentAgeSeconds', 'Maximum', 660, 'GreaterThanThreshold', 2, 'notBreaching'],
      ['RequestCount', 'Sum', 1, 'LessThanThreshold', 3, 'breaching'],
      ['Apdex', 'Average', 0.85, 'LessThanThreshold', 3, 'notBreaching'],
      ['BlockedPercent', 'Average', 25, 'GreaterThanThreshold', 2, 'notBreaching'],
      ['NodeCpuPercentMax', 'Maximum', 90, 'GreaterThanThreshold', 3, 'notBreaching'],
      ['NodeHeapUsedPercentMax', 'Maximum', 85, 'GreaterThanThreshold', 3, 'notBreaching'],
      ['NodeDiskFreePercentMin', 'Minimum', 15, 'LessThanThreshold', 1, 'notBreaching'],
      ['CollectorErrors', 'Sum', 1, 'GreaterThanOrEqualToThreshold', 2, 'breaching'],
    ];
    for (const [metric, statistic, threshold, comparison, periods, missing] of expectations) {
      const alarm = alarmWith(template, metric);
      const a = alarm;
      expect([a.Namespace, a.Statistic, a.Threshold, a.ComparisonOperator, a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData, a.Period])
        .toEqual(['WafGuard/Elastic', statistic, threshold, comparison, periods, periods, missing, 300]);
      expect(alarm.Dimensions).toEqual([{ Name: 'Cluster', Value: 'WafHealth' }]);
      expect(alarm.AlarmActions).toEqual([topicRef]);
      expect(alarm.OKActions).toEqual([topicRef]);
      expect(alarm.AlarmDescription).toContain('WafHealth');
    }
    expect(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'LatencyAverage' } })).toEqual({});
    const named = [
      construct.latencyAlarm, construct.timeoutPercentAlarm, construct.serverErrorPercentAlarm, construct.freshnessAlarm, construct.trafficFloorAlarm,
    ];
    expect(named.every((a) => a !== undefined && construct.alarms.includes(a))).toBe(true);
  });

  test('the freshness threshold follows interval, window and ingest delay; the traffic floor and freshness are options like the others', () => {
    const { template, construct } = monitor({
      collectionInterval: Duration.minutes(10),
      window: Duration.minutes(15),
      ingestDelay: Duration.minutes(2),
      alarms: { trafficFloor: { threshold: 50, evaluationPeriods: 2 }, timeoutPercent: { enabled: false } },
    });
    expect(alarmWith(template, 'NewestDocumentAgeSeconds').Threshold).toBe(120 + 600 + 900);
    const floor = alarmWith(template, 'RequestCount');
    expect([floor.Threshold, floor.EvaluationPeriods, floor.TreatMissingData]).toEqual([50, 2, 'breaching']);
    expect(construct.timeoutPercentAlarm).toBeUndefined();
    expect(() => monitor({ alarms: { freshness: { threshold: 10 } } })).toThrow(/alarms.freshness.threshold must be from 60/);
    expect(() => monitor({ alarms: { trafficFloor: { threshold: 0 } } })).toThrow(/alarms.trafficFloor.threshold must be from 1/);
  });

  test('a traffic anomaly band alarm is off by default and, enabled, alarms below the band of RequestCount', () => {
    const byDefault = monitor();
    const anomaly = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { ThresholdMetricId: Match.anyValue() } }));
    expect(anomaly(byDefault.template)).toEqual([]);
    expect(byDefault.construct.trafficAnomalyAlarm).toBeUndefined();
    const { template, construct } = monitor({ alarms: { trafficAnomaly: { enabled: true, threshold: 2.5 } } });
    const [alarm] = anomaly(template);
    const p = alarm.Properties;
    expect([p.ComparisonOperator, p.EvaluationPeriods, p.TreatMissingData]).toEqual(['LessThanLowerThreshold', 3, 'breaching']);
    const band = p.Metrics.find((q: any) => q.Id === p.ThresholdMetricId);
    expect(band.Expression).toMatch(/^ANOMALY_DETECTION_BAND\(\w+, 2\.5\)$/);
    const requests = p.Metrics.find((q: any) => q.MetricStat);
    expect([requests.MetricStat.Metric.MetricName, requests.MetricStat.Stat, requests.MetricStat.Period]).toEqual(['RequestCount', 'Sum', 300]);
    expect(construct.trafficAnomalyAlarm).toBeDefined();
    expect(construct.alarms).toHaveLength(18);
    expect(() => monitor({ alarms: { trafficAnomaly: { enabled: true, threshold: 20 } } })).toThrow(/alarms.trafficAnomaly.threshold must be from 0.5 to 10 standard deviations/);
  });

  test('thresholds and periods are props; an alarm can be switched off', () => {
    const { template, construct } = monitor({
      alarms: {
        period: Duration.minutes(15),
        latency: { threshold: 250, evaluationPeriods: 4, datapointsToAlarm: 2 },
        apdex: { threshold: 0.7, period: Duration.hours(1) },
        blockedPercent: { enabled: false },
      },
    });
    const latency = alarmWith(template, 'LatencyP95');
    expect([latency.Threshold, latency.EvaluationPeriods, latency.DatapointsToAlarm, latency.Period]).toEqual([250, 4, 2, 900]);
    const apdex = alarmWith(template, 'Apdex');
    expect([apdex.Threshold, apdex.Period]).toEqual([0.7, 3600]);
    expect(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'BlockedPercent' } })).toEqual({});
    expect(construct.blockedPercentAlarm).toBeUndefined();
    expect(construct.alarms).toHaveLength(16);
  });

  test('cluster health alarms: red at once, a lasting yellow, lasting unassigned shards, rejections, JVM memory pressure', () => {
    const { template, construct } = monitor();
    const byDescription = (text: string) => {
      const found = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
        .filter((a) => String(a.Properties.AlarmDescription).includes(text));
      expect(found).toHaveLength(1);
      return found[0].Properties;
    };
    const summary = (a: any) =>
      [a.MetricName, a.Statistic, a.Threshold, a.ComparisonOperator, a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData, a.Period];
    expect(summary(byDescription('is red'))).toEqual(['ClusterStatus', 'Maximum', 2, 'GreaterThanOrEqualToThreshold', 1, 1, 'notBreaching', 300]);
    expect(summary(byDescription('has not been green'))).toEqual(['ClusterStatus', 'Maximum', 1, 'GreaterThanOrEqualToThreshold', 3, 3, 'notBreaching', 300]);
    expect(summary(alarmWith(template, 'UnassignedShards'))).toEqual(['UnassignedShards', 'Minimum', 1, 'GreaterThanOrEqualToThreshold', 6, 6, 'notBreaching', 300]);
    expect(summary(alarmWith(template, 'JvmMemoryPressureMax'))).toEqual(['JvmMemoryPressureMax', 'Maximum', 90, 'GreaterThanThreshold', 3, 3, 'notBreaching', 300]);
    for (const [pool, metricName] of [['search', 'ThreadPoolSearchRejectedTotal'], ['write', 'ThreadPoolWriteRejectedTotal']]) {
      const a = byDescription(`${pool} request(s) in a period`);
      expect([a.Threshold, a.ComparisonOperator, a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData])
        .toEqual([1, 'GreaterThanOrEqualToThreshold', 2, 1, 'notBreaching']);
      const stats = Object.fromEntries(a.Metrics.filter((q: any) => q.MetricStat)
        .map((q: any) => [q.Id, [q.MetricStat.Metric.MetricName, q.MetricStat.Stat, q.MetricStat.Period]]));
      expect(stats).toEqual({ total: [metricName, 'Maximum', 300], nodes: ['StatsNodeSet', 'Maximum', 300] });
      expect(a.Metrics.find((q: any) => q.ReturnData !== false).Expression).toBe('IF(DIFF(nodes) == 0, IF(DIFF(total) > 0, DIFF(total), 0), 0)');
    }
    for (const alarm of [construct.clusterRedAlarm, construct.clusterYellowAlarm, construct.unassignedShardsAlarm,
      construct.searchRejectionsAlarm, construct.writeRejectionsAlarm, construct.jvmMemoryPressureAlarm]) {
      expect(construct.alarms).toContain(alarm);
    }
  });

  test('cluster health alarms are tuned and switched off through alarms; nonsense thresholds are refused at synth', () => {
    const { template, construct } = monitor({
      alarms: {
        clusterYellow: { evaluationPeriods: 6 },
        jvmMemoryPressure: { threshold: 85 },
        searchRejections: { threshold: 50, evaluationPeriods: 3, datapointsToAlarm: 2 },
        writeRejections: { enabled: false },
      },
    });
    expect(construct.writeRejectionsAlarm).toBeUndefined();
    expect(alarmWith(template, 'JvmMemoryPressureMax').Threshold).toBe(85);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.filter((a) => JSON.stringify(a.Metrics ?? []).includes('ThreadPoolWriteRejectedTotal'))).toEqual([]);
    const search = alarms.find((a) => JSON.stringify(a.Metrics ?? []).includes('ThreadPoolSearchRejectedTotal'));
    expect([search.Threshold, search.EvaluationPeriods, search.DatapointsToAlarm]).toEqual([50, 3, 2]);
    expect(alarms.find((a) => a.MetricName === 'ClusterStatus' && a.Threshold === 1).EvaluationPeriods).toBe(6);
    expect(() => monitor({ alarms: { clusterRed: { threshold: 3 } } })).toThrow(/alarms.clusterRed.threshold must be from 1 to 2 \(1 yellow, 2 red\), got 3/);
    expect(() => monitor({ alarms: { searchRejections: { threshold: 0 } } })).toThrow(/alarms.searchRejections.threshold must be from 1/);
  });
});

describe('ECS service monitoring', () => {
  function withEcs() {
    const { stack, secret, app } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    vpc.addFlowLog('FlowLog');
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'waf-cluster', vpc });
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'Service', { cluster, serviceName: 'waf-proxy' });
    const serviceLogs = logs.LogGroup.fromLogGroupName(stack, 'ServiceLogs', '/ecs/waf-proxy');
    const m = new ElasticWafMonitor(stack, 'WafHealth', {
      endpoint: 'https://10.0.9.9:9200',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.basicAuth(secret),
      vpc,
      ecsService: service,
      ecsLogGroup: serviceLogs,
      alertEmails: ['oncall@example.com'],
    });
    return { app, stack, construct: m, template: Template.fromStack(stack) };
  }

  test('WARNING/ERROR lines of the service log group are counted and alarmed on', () => {
    const { template, construct } = withEcs();
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: '/ecs/waf-proxy',
      FilterPattern: '?"WARNING" ?"ERROR"',
      MetricTransformations: [{ MetricNamespace: 'WafGuard/Elastic', MetricName: 'EcsLogWarningsErrors', MetricValue: '1' }],
    });
    const alarm = alarmWith(template, 'EcsLogWarningsErrors');
    expect([alarm.Threshold, alarm.ComparisonOperator, alarm.Statistic]).toEqual([10, 'GreaterThanOrEqualToThreshold', 'Sum']);
    expect(construct.ecsLogErrorsAlarm).toBeDefined();
  });

  test('task state changes of the service go to a log group under /aws/events/ through a scoped resource policy', () => {
    const { template, stack, construct } = withEcs();
    const logGroupId = stack.getLogicalId(construct.ecsTaskEventsLogGroup!.node.defaultChild as any);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        'detail': { clusterArn: [Match.anyValue()], group: ['service:waf-proxy'] },
      },
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: logGroupId }])]) }) })],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/events/ecs-task-state/'), RetentionInDays: 30 });
    const policies = Object.values(template.findResources('AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    const document = JSON.stringify(policies[0].Properties.PolicyDocument);
    expect(document).toContain('\\"Service\\":\\"events.amazonaws.com\\"');
    expect(document).toContain('\\"Action\\":[\\"logs:CreateLogStream\\",\\"logs:PutLogEvents\\"]');
    const ruleId = stack.getLogicalId(construct.ecsTaskStateRule!.node.defaultChild as any);
    expect(document).toContain(`{"Fn::GetAtt":["${ruleId}","Arn"]}`);
    expect(document).toContain('aws:SourceArn');
    template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 0);
  });

  test('crashed tasks are counted per service, alarm on the first one, and each cause has a metric on the dashboard', () => {
    const { template } = withEcs();
    // which events count is tested on realistic events in ecs-task-crashes.test.ts
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter', {
      Properties: { MetricTransformations: [Match.objectLike({ MetricName: Match.stringLikeRegexp('^EcsTaskCrashes') })] },
    }));
    expect(filters.map((f) => f.Properties.MetricTransformations[0].MetricName).sort()).toEqual([
      'EcsTaskCrashes', 'EcsTaskCrashesContainerExited', 'EcsTaskCrashesFailedToStart', 'EcsTaskCrashesHealthChecks', 'EcsTaskCrashesOutOfMemory',
    ]);
    // CloudWatch Logs allows regexes in at most 5 filter patterns of a log group: these use none
    for (const f of filters) {
      expect(f.Properties.FilterPattern).not.toContain('%');
      expect(f.Properties.MetricTransformations[0].Dimensions).toEqual([{ Key: 'ServiceGroup', Value: '$.detail.group' }]);
    }
    const alarm = alarmWith(template, 'EcsTaskCrashes');
    expect([alarm.Threshold, alarm.ComparisonOperator, alarm.EvaluationPeriods]).toEqual([1, 'GreaterThanOrEqualToThreshold', 1]);
    expect(alarm.Dimensions).toEqual([{ Name: 'ServiceGroup', Value: 'service:waf-proxy' }]);
    expect(alarm.AlarmDescription).toContain('failed health checks, out of memory');
    const graph = (dashboardBody(template).widgets as any[]).find((w) => w.properties.title === 'WAF service: warnings/errors and crashed tasks');
    expect(graph.properties.metrics.map((m: any[]) => m[m.length - 1].label)).toEqual([
      'WARNING/ERROR lines', 'Crashed tasks', 'Crashed: failed to start', 'Crashed: essential container exited',
      'Crashed: failed health checks', 'Crashed: out of memory',
    ]);
  });

  test('CPU and memory of the service alarm from AWS/ECS, with the documented defaults', () => {
    const { template, construct } = withEcs();
    const dims = [{ Name: 'ClusterName', Value: 'waf-cluster' }, { Name: 'ServiceName', Value: 'waf-proxy' }];
    const cpu = alarmWith(template, 'CPUUtilization');
    expect([cpu.Namespace, cpu.Statistic, cpu.Threshold, cpu.EvaluationPeriods, cpu.ComparisonOperator, cpu.Period])
      .toEqual(['AWS/ECS', 'Average', 85, 3, 'GreaterThanThreshold', 300]);
    expect(cpu.Dimensions).toEqual(dims);
    const memory = alarmWith(template, 'MemoryUtilization');
    expect([memory.Namespace, memory.Threshold]).toEqual(['AWS/ECS', 85]);
    expect(memory.Dimensions).toEqual(dims);
    expect(construct.ecsCpuAlarm).toBe(construct.alarms.find((a) => a === construct.ecsCpuAlarm));
    expect(construct.ecsMemoryAlarm).toBeDefined();
  });

  test('fewer running than desired tasks alarms from Container Insights: desired - lowest running >= 1 for 3 periods', () => {
    const { template, construct } = withEcs();
    const alarms = ecsMathAlarms(template);
    expect(alarms).toHaveLength(1);
    const alarm = alarms[0].Properties;
    expect([alarm.Threshold, alarm.ComparisonOperator, alarm.EvaluationPeriods, alarm.TreatMissingData])
      .toEqual([1, 'GreaterThanOrEqualToThreshold', 3, 'notBreaching']);
    const byId = Object.fromEntries(alarm.Metrics.map((m: any) => [m.Id, m]));
    expect(byId.expr_1?.Expression ?? alarm.Metrics.find((m: any) => m.Expression).Expression).toBe('desired - running');
    expect(byId.desired.MetricStat).toEqual(expect.objectContaining({ Stat: 'Maximum', Period: 300 }));
    expect(byId.desired.MetricStat.Metric).toEqual(expect.objectContaining({ Namespace: 'ECS/ContainerInsights', MetricName: 'DesiredTaskCount' }));
    expect(byId.running.MetricStat).toEqual(expect.objectContaining({ Stat: 'Minimum' }));
    expect(byId.running.MetricStat.Metric.MetricName).toBe('RunningTaskCount');
    expect(byId.running.MetricStat.Metric.Dimensions).toEqual([{ Name: 'ClusterName', Value: 'waf-cluster' }, { Name: 'ServiceName', Value: 'waf-proxy' }]);
    expect(construct.ecsRunningTasksAlarm).toBeDefined();
  });

  test('the dashboard graphs the service\'s CPU and memory with the alarm lines, and running against desired tasks', () => {
    const { template } = withEcs();
    const byTitle = Object.fromEntries((dashboardBody(template).widgets as any[]).map((w) => [w.properties.title, w]));
    const cpu = byTitle['WAF service CPU (%)'].properties;
    // a graph's default statistic is Average, which the dashboard body leaves out
    expect(cpu.metrics.map((m: any[]) => [m[0], m[1], m[m.length - 1].stat ?? 'Average'])).toEqual([['AWS/ECS', 'CPUUtilization', 'Average'], ['AWS/ECS', 'CPUUtilization', 'Maximum']]);
    expect(cpu.annotations.horizontal).toEqual([{ value: 85, label: 'CPU alarm', yAxis: 'left' }]);
    expect(byTitle['WAF service memory (%)'].properties.metrics[0][1]).toBe('MemoryUtilization');
    const tasks = byTitle['WAF service tasks (Container Insights)'].properties.metrics;
    expect(tasks.map((m: any[]) => m[1])).toEqual(['RunningTaskCount', 'DesiredTaskCount']);
  });

  test('ECS service alarms can be tuned or switched off', () => {
    const { stack, secret } = newStack();
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'C', { clusterName: 'c', vpc: new ec2.Vpc(stack, 'V') });
    const m = new ElasticWafMonitor(stack, 'M', {
      endpoint: 'https://es:9243',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.basicAuth(secret),
      ecsService: ecs.FargateService.fromFargateServiceAttributes(stack, 'S', { cluster, serviceName: 'waf' }),
      alarms: { ecsCpu: { threshold: 70 }, ecsRunningTasks: { enabled: false } },
    });
    const template = Template.fromStack(stack);
    expect(alarmWith(template, 'CPUUtilization').Threshold).toBe(70);
    expect(m.ecsRunningTasksAlarm).toBeUndefined();
    expect(ecsMathAlarms(template)).toHaveLength(0);
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'S2', { cluster, serviceName: 'waf' });
    expect(() => new ElasticWafMonitor(stack, 'M2', {
      endpoint: 'https://es:9243',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.basicAuth(secret),
      ecsService: service,
      alarms: { ecsMemory: { threshold: 120 } },
    })).toThrow(/alarms.ecsMemory.threshold must be from 0 to 100 percent, got 120/);
  });

  test('cdk-nag AwsSolutions: no unsuppressed findings with VPC, ECS and a created topic', () => {
    const { app, stack } = withEcs();
    Aspects.of(app).add(new AwsSolutionsChecks());
    app.synth();
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });
});

describe('dashboard', () => {
  const widgets = (template: Template) => dashboardBody(template).widgets as any[];
  const metricNames = (w: any) => (w.properties.metrics as any[]).map((m) => (Array.isArray(m) ? m[1] : m));

  test('latency, status split, comparison and Apdex graphs use the collector metrics of this cluster', () => {
    const { template } = monitor();
    const byTitle = Object.fromEntries(widgets(template).filter((w) => w.properties.title).map((w) => [w.properties.title, w]));
    expect(metricNames(byTitle['WAF latency (ms)'])).toEqual([
      'LatencyP95', 'LatencyP99', 'LatencyAverage', 'LatencyAverageWithoutTimeouts', 'LatencySlowest5PctAverage', 'LatencySlowest5PctAverageWithoutTimeouts',
    ]);
    expect(byTitle['WAF latency (ms)'].properties.annotations.horizontal[0]).toEqual(expect.objectContaining({ value: 120, label: 'Latency alarm (p95)' }));
    expect(byTitle['WAF latency (ms)'].properties.metrics[0][4].label).toBe('p95 latency');
    expect(metricNames(byTitle['Requests by status'])).toEqual(['AllowedCount', 'BlockedCount', 'AlertedCount', 'TimeoutCount']);
    expect(metricNames(byTitle['Status split (%)'])).toEqual(['AllowedPercent', 'BlockedPercent', 'AlertedPercent']);
    const comparison = byTitle['Average latency vs earlier windows (ms)'].properties.metrics;
    expect(comparison.map((m: any[]) => m.slice(1, 6))).toEqual(ElasticWafMetrics.comparisonOffsets().map((o) => ['LatencyAverageByOffset', 'Cluster', 'WafHealth', 'Offset', o]));
    expect(metricNames(byTitle['Apdex (T = 30 ms)'])).toEqual(['Apdex']);
    expect(byTitle['Apdex (T = 30 ms)'].properties.yAxis.left).toEqual({ min: 0, max: 1, showUnits: false });
    for (const w of Object.values(byTitle) as any[]) {
      for (const m of (w.properties.metrics ?? []) as any[]) if (Array.isArray(m) && typeof m[0] === 'string') expect(m.slice(0, 1).concat(m.slice(2, 4))).toEqual(['WafGuard/Elastic', 'Cluster', 'WafHealth']);
    }
  });

  test('node CPU and heap graphs and disk free gauges search the per-node metrics', () => {
    const { template } = monitor();
    const all = widgets(template);
    const cpu = all.find((w) => w.properties.title === 'Node CPU (%)');
    expect(cpu.properties.metrics[0][0].expression).toBe('SEARCH(\'{"WafGuard/Elastic",Cluster,Node} MetricName="NodeCpuPercent" Cluster="WafHealth"\', \'Maximum\', 300)');
    expect(cpu.properties.metrics[0][0].label).toBeUndefined();
    const heap = all.find((w) => w.properties.title === 'Node JVM heap used (%)');
    expect(heap.properties.metrics[0][0].expression).toContain('MetricName="NodeHeapUsedPercent"');
    const disk = all.find((w) => w.properties.title === 'Node disk free (%)');
    expect(disk.properties.view).toBe('gauge');
    expect(disk.properties.yAxis.left).toEqual({ min: 0, max: 100 });
    expect(disk.properties.metrics[0][0].expression).toContain('MetricName="NodeDiskFreePercent"');
  });

  test('cluster health: status with yellow/red lines and unassigned shards, rejections per period, memory pressure per node', () => {
    const { template } = monitor({ alarms: { jvmMemoryPressure: { threshold: 88 } } });
    const byTitle = Object.fromEntries(widgets(template).filter((w) => w.properties.title).map((w) => [w.properties.title, w.properties]));
    const status = byTitle['Cluster status (0 green, 1 yellow, 2 red) and unassigned shards'];
    expect(status.metrics.map((m: any[]) => m.slice(0, 4).join(' '))).toEqual([
      'WafGuard/Elastic ClusterStatus Cluster WafHealth', 'WafGuard/Elastic UnassignedShards Cluster WafHealth',
    ]);
    expect(status.metrics[1][4]).toEqual(expect.objectContaining({ yAxis: 'right', stat: 'Minimum' }));
    expect(status.annotations.horizontal.map((h: any) => [h.value, h.label])).toEqual([[1, 'yellow'], [2, 'red']]);
    const rejections = byTitle['Rejected requests per period (full thread-pool queues)'];
    const expressions = rejections.metrics.filter((m: any[]) => m[0].expression).map((m: any[]) => [m[0].expression, m[0].label]);
    expect(expressions).toEqual([
      ['IF(DIFF(nodeSet) == 0, IF(DIFF(searchTotal) > 0, DIFF(searchTotal), 0), 0)', 'Search rejections'],
      ['IF(DIFF(nodeSet) == 0, IF(DIFF(writeTotal) > 0, DIFF(writeTotal), 0), 0)', 'Write rejections'],
    ]);
    const pressure = byTitle['Node JVM memory pressure (old generation %)'];
    expect(pressure.metrics[0][0].expression).toContain('MetricName="NodeJvmMemoryPressure"');
    expect(pressure.annotations.horizontal).toEqual([expect.objectContaining({ value: 88, label: 'Memory pressure alarm' })]);
  });

  test('a request-count graph, and the collector graph shows errors and partial runs', () => {
    const { template } = monitor();
    const byTitle = Object.fromEntries(widgets(template).filter((w) => w.properties.title).map((w) => [w.properties.title, w]));
    expect(metricNames(byTitle['Requests per window'])).toEqual(['RequestCount']);
    expect(byTitle['Requests per window'].properties.metrics[0][4].stat).toBe('Sum');
    const collector = byTitle['Collector: errors and partial runs'].properties;
    expect(metricNames(byTitle['Collector: errors and partial runs'])).toEqual(['CollectorErrors', 'PartialRun']);
    expect(collector.metrics[1][4]).toEqual(expect.objectContaining({ yAxis: 'right', stat: 'Maximum' }));
  });

  test('additionalAlarms are listed beside the monitor\'s own, in widgets of at most 100', () => {
    const { stack, secret } = newStack();
    const team = Array.from({ length: 120 }, (_, i) => cloudwatch.Alarm.fromAlarmArn(stack, `Team${i}`, `arn:aws:cloudwatch:eu-west-1:111111111111:alarm:team-${i}`));
    const m = new ElasticWafMonitor(stack, 'M', {
      endpoint: 'https://es:9243', indexPattern: 'waf-*', credentials: ElasticCredentials.basicAuth(secret), additionalAlarms: team,
    });
    const alarmWidgets = widgets(Template.fromStack(stack)).filter((w) => w.type === 'alarm');
    expect(alarmWidgets.map((w) => w.properties.alarms.length)).toEqual([100, 37]);
    expect(alarmWidgets.map((w) => w.properties.title)).toEqual(['Alarms (1)', 'Alarms (2)']);
    const listed = alarmWidgets.flatMap((w) => w.properties.alarms);
    expect(listed).toContain('arn:aws:cloudwatch:eu-west-1:111111111111:alarm:team-0');
    expect(listed).toContain('arn:aws:cloudwatch:eu-west-1:111111111111:alarm:team-119');
    // only shown: the monitor's own list of alarms is unchanged
    expect(m.alarms).toHaveLength(17);
  });

  test('Apdex of allowed requests only is an option; the collector and the dashboard say which definition is used', () => {
    const { template } = monitor({ apdexDefinition: ApdexDefinition.ALLOWED_REQUESTS });
    expect(collectorConfig(template).apdexDefinition).toBe('allowedRequests');
    const titles = widgets(template).map((w) => w.properties.title);
    expect(titles).toContain('Apdex of allowed requests (T = 30 ms)');
    const text = widgets(template).find((w) => w.type === 'text').properties.markdown as string;
    expect(text).toContain('Apdex of allowed requests only, T 30 ms (satisfied under T, tolerating from T to under 4T)');
    const today = monitor();
    expect(collectorConfig(today.template)).not.toHaveProperty('apdexDefinition');
    expect(widgets(today.template).find((w) => w.type === 'text').properties.markdown).toContain('Apdex of all requests, T 30 ms (satisfied up to T');
  });

  test('an alarm status widget lists every alarm, and a Logs Insights table shows the top-N hosts', () => {
    const { template } = monitor({ topHostCount: 20 });
    const all = widgets(template);
    const alarmWidget = all.find((w) => w.type === 'alarm');
    expect(alarmWidget.properties.alarms).toHaveLength(17);
    const table = all.find((w) => w.type === 'log');
    expect(table.properties.view).toBe('table');
    expect(table.properties.title).toBe('Top 20 slowest hosts (approximateRuns > 0: ranked approximately in that many runs)');
    const query: string = table.properties.query;
    expect(query).toMatch(/^SOURCE 'TOKEN' \| filter event = "top-host"/);
    expect(query).toContain('by host');
    expect(query).toContain('sort worstAvgLatencyMs desc');
    expect(query).toMatch(/limit 20$/);
    // lines of an approximate ranking carry approximate: true, and only those: count(field) counts them per host
    expect(query).toContain('count(approximate) as approximateRuns');
    expect(query).toContain('count(*) as runs');
    expect(all.find((w) => w.type === 'text').properties.markdown).toContain('approximateRuns > 0 means');
  });

  test('the new figures have graphs: newest document age, timeout and 5xx shares, documents without latency or status', () => {
    const { template } = monitor();
    const byTitle = Object.fromEntries(widgets(template).filter((w) => w.properties.title).map((w) => [w.properties.title, w]));
    const freshness = byTitle['Log pipeline: age of the newest document (s)'];
    expect(metricNames(freshness)).toEqual(['NewestDocumentAgeSeconds']);
    expect(freshness.properties.annotations.horizontal[0].value).toBe(660);
    const shares = byTitle['Timeouts and HTTP 5xx (% of requests)'];
    expect(metricNames(shares)).toEqual(['TimeoutPercent', 'ServerErrorPercent']);
    expect(shares.properties.annotations.horizontal.map((a: any) => [a.label, a.value])).toEqual([['Timeout alarm', 1], ['5xx alarm', 5]]);
    expect(metricNames(byTitle['Documents without latency or status (not errors)'])).toEqual(['DocumentsWithoutLatency', 'DocumentsWithoutStatus']);
    expect(byTitle['Requests per window'].properties.annotations.horizontal[0]).toEqual(expect.objectContaining({ value: 1, label: 'Traffic floor alarm' }));
  });

  test('a markdown widget links the debugging log groups and escapes user text', () => {
    const { stack, secret } = newStack();
    new ElasticWafMonitor(stack, 'M', {
      endpoint: 'https://es:9243',
      indexPattern: 'waf_[prod]-*',
      clusterName: 'eu_*prod*',
      credentials: ElasticCredentials.basicAuth(secret),
      ecsLogGroup: logs.LogGroup.fromLogGroupName(stack, 'L', '/ecs/waf-proxy'),
    });
    const template = Template.fromStack(stack);
    const text = widgets(template).find((w) => w.type === 'text').properties.markdown as string;
    expect(text).toContain('# WAF health: eu\\_\\*prod\\*');
    expect(text).toContain('Index pattern waf\\_\\[prod\\]\\-\\*');
    expect(text).toContain('* [Collector: errors and top hosts](https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/TOKEN) `TOKEN`');
    expect(text).toContain('* [WAF service logs](https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fwaf-proxy) `/ecs/waf-proxy`');
    // the collector log group's name is turned into the console's form by CloudFormation
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(JSON.stringify(dashboard.Properties.DashboardBody)).toContain('{"Fn::Join":["$252F",{"Fn::Split":["/",{"Ref":"MCollectorLogGroup');
  });
});

describe('validation at synth time', () => {
  const cases: Array<[string, Partial<ElasticWafMonitorProps>, RegExp]> = [
    ['topN too small', { topHostCount: 0 }, /topHostCount must be a whole number from 1 to 100, got 0/],
    ['topN too large', { topHostCount: 101 }, /topHostCount must be a whole number from 1 to 100/],
    ['topN fractional', { topHostCount: 2.5 }, /topHostCount/],
    ['ranking shard_size too small', { topHostsShardSize: 99 }, /topHostsShardSize must be a whole number from 100 to 20000, got 99/],
    ['ranking shard_size too large', { topHostsShardSize: 20_001 }, /topHostsShardSize must be a whole number from 100 to 20000/],
    ['Apdex T of zero', { apdexThreshold: Duration.millis(0) }, /apdexThreshold must be greater than 0 ms/],
    ['window shorter than the schedule', { collectionInterval: Duration.minutes(10), window: Duration.minutes(5) }, /window \(5 minutes\) must be at least collectionInterval \(10 minutes\)/],
    ['interval not in minutes', { collectionInterval: Duration.seconds(90) }, /collectionInterval must be a whole number of minutes/],
    ['window over a day', { window: Duration.days(2) }, /window must be at most 1 day/],
    ['request timeout not fitting the interval', { collectionInterval: Duration.minutes(1), requestTimeout: Duration.seconds(45) }, /requestTimeout \(45 seconds\) plus 30 seconds must fit in collectionInterval \(1 minute\)/],
    ['reserved namespace', { metricNamespace: 'AWS/WAF' }, /metricNamespace must .* not start with "AWS\/"/],
    ['namespace with a leading colon', { metricNamespace: ':Waf' }, /metricNamespace must be .*not starting with ":"/],
    ['dashboard name over 255', { dashboardName: 'd'.repeat(256) }, /dashboardName must be 1-255 of A-Z a-z 0-9 - _/],
    ['dashboard name with a space', { dashboardName: 'waf health' }, /dashboardName must be 1-255/],
    ['quote in cluster name', { clusterName: 'a"b' }, /clusterName must be/],
    ['cluster name with surrounding spaces', { clusterName: ' prod ' }, /clusterName " prod " must not start or end with whitespace, or the metrics the collector emits would not match the alarms and dashboard; remove the surrounding spaces/],
    ['bad email', { alertEmails: ['oncall'] }, /alertEmails\[0\] "oncall" does not look like an email address \(name@example.com\)/],
    ['two addresses in one entry', { alertEmails: ['ops@example.com;dev'] }, /alertEmails\[0\] "ops@example.com;dev" does not look like an email address/],
    ['subnets without a VPC', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, /vpcSubnets and securityGroups need vpc/],
    ['endpoint without scheme', { endpoint: 'es.example.com:9243' }, /endpoint must be an https URL such as https:\/\/my-cluster.example.com:9243/],
    ['http endpoint', { endpoint: 'http://es.example.com:9200' }, /endpoint http:\/\/es.example.com:9200 uses http:\/\/, which sends the credentials unencrypted: use https:\/\/, or set allowInsecureHttp: true/],
    ['user info in the endpoint', { endpoint: 'https://waf:s3cret@es.example.com' }, /endpoint must not contain user info \(user:password@\): remove it from the URL/],
    ['empty field name', { fields: { host: ' ' } }, /fields.host must not be empty/],
    ['duplicate status values', { statusValues: { blocked: 'allowed' } }, /statusValues must be three different values/],
    ['Apdex alarm threshold above 1', { alarms: { apdex: { threshold: 2 } } }, /alarms.apdex.threshold must be from 0 to 1/],
    ['datapoints above the evaluated periods', { alarms: { nodeCpu: { datapointsToAlarm: 4 } } }, /alarms.nodeCpu.datapointsToAlarm must be a whole number from 1 to evaluationPeriods \(3\)/],
    ['alarm period in seconds', { alarms: { latency: { period: Duration.seconds(90) } } }, /alarms.latency.period must be a whole number of minutes/],
    ['default alarm period shorter than the collection interval', { alarms: { period: Duration.minutes(1) } },
      /alarms.period \(1 minute\) must be a whole multiple of collectionInterval \(5 minutes\)/],
    ['one alarm\'s period shorter than the collection interval', { collectionInterval: Duration.minutes(10), alarms: { trafficFloor: { period: Duration.minutes(5) } } },
      /alarms.trafficFloor.period \(5 minutes\) must be a whole multiple of collectionInterval \(10 minutes\)/],
    ['freshness threshold at the collector\'s lookback (a dead pipeline would never exceed it)', { alarms: { freshness: { threshold: 86_400 } } },
      /alarms.freshness.threshold must be from 60 to 86399 seconds \(below the freshness search's lookback/],
    ['freshness threshold above the lookback of a 1-day window (twice ingest delay + interval + window)', { window: Duration.days(1), alarms: { freshness: { threshold: 173_520 } } },
      /alarms.freshness.threshold must be from 60 to 173519 seconds/],
    ['alarm period not a multiple of the collection interval', { alarms: { collectorErrors: { period: Duration.minutes(7) } } },
      /alarms.collectorErrors.period \(7 minutes\) must be a whole multiple of collectionInterval/],
  ];

  test.each(cases)('%s', (_name, props, message) => {
    expect(() => monitor(props)).toThrow(message);
  });

  test('a password in the endpoint never reaches the template or the error', () => {
    for (const allowInsecureHttp of [false, true]) {
      let error: Error | undefined;
      try {
        monitor({ endpoint: 'http://waf:s3cret@es.example.com:9200', allowInsecureHttp });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(/must not contain user info/);
      expect(error?.message).not.toContain('s3cret');
    }
  });

  test('allowInsecureHttp admits an http endpoint and tells the collector so', () => {
    const { template } = monitor({ endpoint: 'http://es.internal:9200', allowInsecureHttp: true });
    expect(collectorConfig(template)).toEqual(expect.objectContaining({ endpoint: 'http://es.internal:9200', allowInsecureHttp: true }));
    expect(collectorConfig(monitor().template).allowInsecureHttp).toBeUndefined();
  });

  test('a construct id with surrounding spaces, the default cluster name, asks for clusterName', () => {
    const { stack, secret } = newStack();
    const props = { endpoint: 'https://es:9243', indexPattern: 'w', credentials: ElasticCredentials.basicAuth(secret) };
    expect(() => new ElasticWafMonitor(stack, 'Prod ', props)).toThrow(/must not start or end with whitespace.*\(it defaults to the construct id: give clusterName\)/);
    const other = newStack();
    const named = { ...props, credentials: ElasticCredentials.basicAuth(other.secret), clusterName: 'prod' };
    expect(() => new ElasticWafMonitor(other.stack, 'Prod ', named)).not.toThrow();
  });

  test('every problem is reported at once', () => {
    expect(() => monitor({ topHostCount: 0, apdexThreshold: Duration.millis(0) })).toThrow(/topHostCount[\s\S]*apdexThreshold/);
  });

  test('deploy-time endpoint and index pattern are not checked at synth', () => {
    const { stack, secret } = newStack();
    const endpoint = new secretsmanager.Secret(stack, 'Endpoint').secretValueFromJson('url').unsafeUnwrap();
    expect(() => new ElasticWafMonitor(stack, 'M', { endpoint, indexPattern: 'waf-*', credentials: ElasticCredentials.basicAuth(secret) })).not.toThrow();
  });

  test('metrics factory and credentials reject invalid input', () => {
    const metrics = new ElasticWafMetrics({ namespace: 'N', clusterName: 'c' });
    expect(() => metrics.latencyAverageByOffset('2h')).toThrow(/offset must be one of now, 1h, 6h, 12h, 1d, 3d/);
    expect(() => new ElasticWafMetrics({ namespace: 'N', clusterName: 'prod ' })).toThrow(/clusterName "prod " must not start or end with whitespace/);
    // callers get a copy: changing it changes neither the next copy nor the offsets the metrics accept
    const offsets = ElasticWafMetrics.comparisonOffsets();
    offsets.push('2h');
    offsets[0] = 'soon';
    expect(ElasticWafMetrics.comparisonOffsets()).toEqual(['now', '1h', '6h', '12h', '1d', '3d']);
    expect(() => metrics.latencyAverageByOffset('2h')).toThrow(/offset must be one of/);
    expect(metrics.latencyAverageByOffset('now').dimensions).toEqual({ Cluster: 'c', Offset: 'now' });
    const { secret } = newStack();
    expect(() => ElasticCredentials.basicAuth(secret, { usernameKey: '' })).toThrow(/usernameKey must not be empty/);
  });
});
