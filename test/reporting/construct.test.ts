import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CostGrouping, ElasticCredentials, RealtimeWafGuard, WafReporting, WafReportingProps } from '../../src';
import { REPORT_CONFIG_ENV, ReportConfig } from '../../src/reporting/runtime/config';
import { nagFindings, newStack } from '../realtime-waf-guard/construct-fixtures';

function elasticSource(stack: Stack) {
  return {
    endpoint: 'https://waf-logs.example.com:9243',
    credentials: ElasticCredentials.apiKey(secretsmanager.Secret.fromSecretNameV2(stack, 'EsKey', 'waf/es')),
    indexPattern: 'waf-logs-*',
    breachField: 'waf.breach',
  };
}

function synth(build: (stack: Stack) => Partial<WafReportingProps>) {
  const stack = newStack();
  const reporting = new WafReporting(stack, 'Reports', {
    sender: 'reports@example.com',
    recipients: ['security@example.com'],
    ...build(stack),
  } as WafReportingProps);
  return { stack, reporting, template: Template.fromStack(stack) };
}

function reportConfig(template: Template): ReportConfig {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [REPORT_CONFIG_ENV]: Match.anyValue() } } } });
  const raw = Object.values(fns)[0].Properties.Environment.Variables[REPORT_CONFIG_ENV];
  // Tokens (table names) come out as Fn::Join parts; the literal parts are enough to read the shape.
  const text = typeof raw === 'string' ? raw : (raw['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text) as ReportConfig;
}

describe('WafReporting construct', () => {
  test('guard and Elasticsearch sources: one Node.js 22 arm64 function, schedules, bucket, alarms; cdk-nag clean', () => {
    const { stack, reporting, template } = synth((s) => ({
      guard: new RealtimeWafGuard(s, 'Guard', { rules: [{ host: 'www.example.com', threshold: 100, window: Duration.minutes(1) }] }),
      elastic: elasticSource(s),
      timeZone: 'Europe/Berlin',
      elasticCloudBilling: { apiKeySecret: secretsmanager.Secret.fromSecretNameV2(s, 'Billing', 'elastic/billing'), organizationId: '123456' },
    }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Description: Match.stringLikeRegexp('WAF reports'),
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 1 * * ? *)', Targets: [Match.objectLike({ Input: '{"kind":"daily"}' })] });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 2 1 * ? *)', Targets: [Match.objectLike({ Input: '{"kind":"monthly"}' })] });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 730 })]) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReportFailures',
      Namespace: 'CdkWafGuard/Reporting',
      Dimensions: [{ Name: 'service', Value: 'GuardStack/Reports' }],
      AlarmActions: [Match.anyValue()],
    });
    // The guard's alert topic, not a new one.
    expect(reporting.alarmTopic).toBe((stack.node.findChild('Guard') as RealtimeWafGuard).alertTopic);
    template.resourceCountIs('AWS::SNS::Topic', 1);

    const config = reportConfig(template);
    expect(config.timeZone).toBe('Europe/Berlin');
    expect(config.guard?.historyIndex).toBe('byDay');
    expect(config.elastic?.fields.host).toBe('url.domain');
    expect(config.elastic?.breachField).toBe('waf.breach');
    expect(config.costs).toEqual({ groupByDimension: 'SERVICE' });
    expect(config.elasticBilling?.organizationId).toBe('123456');
    expect(JSON.stringify(config)).not.toMatch(/password|apiKey":"[^a]/);

    expect(nagFindings(stack)).toEqual([]);
  });

  test('least privilege: SES on the sender identity, S3 under the prefix, Query on the history index only', () => {
    const { template } = synth((s) => ({
      guard: new RealtimeWafGuard(s, 'Guard', { rules: [{ host: 'www.example.com', threshold: 100, window: Duration.minutes(1) }] }),
      bucketPrefix: 'waf/',
    }));
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p).includes('ses:SendEmail'));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
    const byAction = (action: string) => statements.find((st) => [st.Action].flat().includes(action))!;
    expect(JSON.stringify(byAction('ses:SendEmail').Resource)).toMatch(/identity\/reports@example\.com.*identity\/example\.com/);
    expect(JSON.stringify(byAction('s3:PutObject').Resource)).toMatch(/\/waf\/\*"/);
    expect(JSON.stringify(byAction('dynamodb:Query').Resource)).toMatch(/\/index\/byDay"/);
    expect(byAction('ce:GetCostAndUsage').Resource).toBe('*');
    expect(statements.flatMap((st) => [st.Action].flat())).not.toContain('dynamodb:Scan');
  });

  test('Elasticsearch only with an existing bucket, a new KMS-encrypted topic with email, cost grouping by tag; cdk-nag clean', () => {
    const { stack, template } = synth((s) => ({
      elastic: elasticSource(s),
      bucket: s3.Bucket.fromBucketName(s, 'Existing', 'my-reports'),
      alertEmails: ['oncall@example.com'],
      costExplorer: { groupBy: CostGrouping.TOTAL, groupByTag: 'customer', tagFilter: { key: 'app', values: ['waf'] } },
      dailySchedule: events.Schedule.cron({ minute: '30', hour: '5' }),
    }));
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'oncall@example.com', Protocol: 'email' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 5 * * ? *)' });
    const config = reportConfig(template);
    expect(config.guard).toBeUndefined();
    expect(config.costs).toEqual({ groupByTag: 'customer', tagFilter: { key: 'app', values: ['waf'] } });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('Cost Explorer off: no ce permission', () => {
    const { template } = synth((s) => ({ elastic: elasticSource(s), costExplorer: { enabled: false } }));
    expect(JSON.stringify(template.toJSON())).not.toContain('ce:GetCostAndUsage');
    expect(reportConfig(template).costs).toBeUndefined();
  });

  test.each<[string, (s: Stack) => Partial<WafReportingProps>, RegExp]>([
    ['no source', () => ({}), /at least one source/],
    ['bad time zone', (s) => ({ elastic: elasticSource(s), timeZone: 'Mars/Olympus' }), /timeZone "Mars\/Olympus" is not an IANA time zone/],
    ['no recipients', (s) => ({ elastic: elasticSource(s), recipients: [] }), /recipients must list at least one/],
    ['bad recipient', (s) => ({ elastic: elasticSource(s), recipients: ['security'] }), /recipients\[0\] "security"/],
    ['bad sender', (s) => ({ elastic: elasticSource(s), sender: 'reports' }), /sender "reports"/],
    ['http endpoint', (s) => ({ elastic: { ...elasticSource(s), endpoint: 'http://es.local:9200' } }), /elastic\.endpoint .* uses http:\/\//],
    ['prefix without slash', (s) => ({ elastic: elasticSource(s), bucketPrefix: 'waf' }), /bucketPrefix "waf" must be empty or end in "\/"/],
    ['retention with own bucket', (s) => ({ elastic: elasticSource(s), bucket: s3.Bucket.fromBucketName(s, 'B', 'bbb'), reportRetention: Duration.days(30) }), /reportRetention applies to the bucket the construct creates/],
    ['top IPs', (s) => ({ elastic: { ...elasticSource(s), topClientIps: 0 } }), /topClientIps must be a whole number 1\.\.100/],
    ['alert emails with topic', (s) => ({ elastic: elasticSource(s), alarmTopic: new sns.Topic(s, 'T'), alertEmails: ['a@example.com'] }), /alertEmails subscribe to a topic the construct creates/],
  ])('synth error: %s', (_name, build, message) => {
    expect(() => synth(build)).toThrow(message);
  });
});
