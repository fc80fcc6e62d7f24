import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 4 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: Match.objectLike({ Input: '{"kind":"daily","scheduledTime":"<aws.scheduler.scheduled-time>"}' }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 4 1 * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: Match.objectLike({ Input: '{"kind":"monthly","scheduledTime":"<aws.scheduler.scheduled-time>"}' }),
    });
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
      costExplorer: { groupByTag: 'customer', tagFilter: { key: 'app', values: ['waf'] } },
      timeZone: 'America/New_York',
      dailyRunTime: '05:30',
    }));
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'oncall@example.com', Protocol: 'email' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 5 * * ? *)', ScheduleExpressionTimezone: 'America/New_York' });
    const config = reportConfig(template);
    expect(config.guard).toBeUndefined();
    expect(config.costs).toEqual({ groupByTag: 'customer', tagFilter: { key: 'app', values: ['waf'] } });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('schedules: Scheduler in the report\'s zone, retries and a dead-letter queue; a role that may invoke only the report function', () => {
    const { reporting, template, stack } = synth((s) => ({ elastic: elasticSource(s), timeZone: 'Pacific/Auckland', alertEmails: ['oncall@example.com'], maxRunDelay: Duration.hours(2) }));
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);
    expect(schedules.map((p) => [p.ScheduleExpression, p.ScheduleExpressionTimezone, p.FlexibleTimeWindow.Mode])).toEqual([
      ['cron(0 4 * * ? *)', 'Pacific/Auckland', 'OFF'],
      ['cron(30 4 1 * ? *)', 'Pacific/Auckland', 'OFF'],
    ]);
    const fnArn = stack.resolve(reporting.reportFunction.functionArn);
    const dlqArn = stack.resolve(reporting.deadLetterQueue.queueArn);
    for (const p of schedules) {
      expect(p.Target.Arn).toEqual(fnArn);
      expect(p.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 185 });
      expect(p.Target.DeadLetterConfig).toEqual({ Arn: dlqArn });
    }
    // The schedules' role: invoke the report function (and its versions), send to the dead-letter queue; nothing else.
    const roleRef = schedules[0].Target.RoleArn['Fn::GetAtt'][0];
    expect(schedules[1].Target.RoleArn['Fn::GetAtt'][0]).toBe(roleRef);
    const role = template.toJSON().Resources[roleRef];
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleRef }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const actions = statements.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    const invoke = statements.find((st) => [st.Action].flat().includes('lambda:InvokeFunction'))!;
    for (const r of [invoke.Resource].flat()) expect(JSON.stringify(r)).toContain(JSON.stringify(fnArn['Fn::GetAtt'][0]));
    expect(statements.find((st) => [st.Action].flat().includes('sqs:SendMessage'))!.Resource).toEqual(dlqArn);

    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('alarms: a daily run missing for 26 hours, a run in the dead-letter queue; both to the alarm topic', () => {
    const { template, stack, reporting } = synth((s) => ({ elastic: elasticSource(s), reportName: 'edge', alertEmails: ['oncall@example.com'] }));
    const topic = stack.resolve(reporting.alarmTopic.topicArn);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkWafGuard/Reporting',
      MetricName: 'ScheduledDailyRuns',
      Dimensions: [{ Name: 'service', Value: 'edge' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [topic],
      OKActions: [topic],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(reporting.deadLetterQueue.queueName) }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(stack.resolve(reporting.metricScheduledRuns('monthly').metricName)).toBe('ScheduledMonthlyRuns');
  });

  test('a missed monthly report: each daily run\'s MonthlyReportMissing, alarmed to the alarm topic; due after the run, retries, timeout and margin', () => {
    const { template, stack, reporting } = synth((s) => ({
      elastic: elasticSource(s),
      reportName: 'edge',
      alertEmails: ['oncall@example.com'],
      monthlyRunTime: '05:15',
      maxRunDelay: Duration.hours(2),
      timeout: Duration.minutes(10),
    }));
    const topic = stack.resolve(reporting.alarmTopic.topicArn);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkWafGuard/Reporting',
      MetricName: 'MonthlyReportMissing',
      Dimensions: [{ Name: 'service', Value: 'edge' }],
      Statistic: 'Maximum',
      Period: 3600,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // One value a day: the hours between keep the state.
      TreatMissingData: 'ignore',
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(stack.resolve((reporting.missedMonthlyReportAlarm as cloudwatch.Alarm).alarmArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/MissedMonthlyReportAlarm/), 'Arn'] });
    // 2 hours of retries, 10 minutes of timeout and 30 minutes of margin after 05:15 on the 1st.
    expect(reportConfig(template).monthlyReportCheck).toEqual({ runTime: '05:15', dueAfterMinutes: 160 });
  });

  test('alarms: the guard\'s and the alarms prop are read by name, and the role may describe those alarms only; cdk-nag clean', () => {
    const { stack, template, reporting } = synth((s) => {
      const monitored = new cloudwatch.Alarm(s, 'Latency', {
        metric: new cloudwatch.Metric({ namespace: 'CdkWafGuard/Elastic', metricName: 'LatencyP99' }), threshold: 100, evaluationPeriods: 1,
      });
      const imported = cloudwatch.Alarm.fromAlarmArn(s, 'Imported', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:origin-5xx');
      return {
        guard: new RealtimeWafGuard(s, 'Guard', { rules: [{ host: 'www.example.com', threshold: 100, window: Duration.minutes(1) }] }),
        alarms: [monitored, imported],
      };
    });
    const guard = stack.node.findChild('Guard') as RealtimeWafGuard;
    expect(guard.alarms.length).toBeGreaterThan(3);
    expect(reporting.reportedAlarms).toEqual([...guard.alarms, stack.node.findChild('Latency'), stack.node.findChild('Imported')]);

    // The configuration names every alarm (tokens for the stack's own).
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [REPORT_CONFIG_ENV]: Match.anyValue() } } } });
    const raw = JSON.stringify(Object.values(fns)[0].Properties.Environment.Variables[REPORT_CONFIG_ENV]);
    for (const alarm of reporting.reportedAlarms) {
      const name = stack.resolve(alarm.alarmName);
      expect(raw).toContain(typeof name === 'string' ? name : JSON.stringify(name));
    }
    expect(reportConfig(template).alarmNames).toHaveLength(reporting.reportedAlarms.length);

    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('cloudwatch:Describe')));
    expect(statements).toHaveLength(1);
    expect([statements[0].Action].flat().sort()).toEqual(['cloudwatch:DescribeAlarmHistory', 'cloudwatch:DescribeAlarms']);
    expect(statements[0].Resource).toEqual(reporting.reportedAlarms.map((a) => stack.resolve(a.alarmArn)));
    expect(nagFindings(stack)).toEqual([]);
  });

  test('no guard and no alarms prop: no alarm is read and the role may describe none', () => {
    const { template } = synth((s) => ({ elastic: elasticSource(s) }));
    expect(JSON.stringify(template.toJSON())).not.toContain('cloudwatch:DescribeAlarm');
    expect(reportConfig(template).alarmNames).toBeUndefined();
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
    ['request timeout beyond the function timeout', (s) => ({ elastic: { ...elasticSource(s), requestTimeout: Duration.minutes(10) } }),
      /elastic\.requestTimeout \(10 minutes\) must leave the 1 minute a run keeps to write its files and send the email within timeout \(5 minutes, the default\): give elastic\.requestTimeout at most 4 minutes, or timeout at least 11 minutes/],
    ['short function timeout with the default request timeout', (s) => ({ elastic: elasticSource(s), timeout: Duration.seconds(90) }),
      /elastic\.requestTimeout \(1 minute, the default\) must leave the 1 minute .* within timeout \(1 minute 30 seconds\): give elastic\.requestTimeout at most 30 seconds, or timeout at least 2 minutes/],
    ['run time not HH:MM', (s) => ({ elastic: elasticSource(s), dailyRunTime: '4am' }), /dailyRunTime "4am" must be a local time as HH:MM/],
    ['run time a DST change skips', (s) => ({ elastic: elasticSource(s), timeZone: 'America/New_York', monthlyRunTime: '02:30' }),
      /monthlyRunTime 02:30 does not exist in America\/New_York on \d{4}-03-\d\d \(a daylight saving change skips it\)/],
    ['run delay beyond Scheduler', (s) => ({ elastic: elasticSource(s), maxRunDelay: Duration.days(2) }), /maxRunDelay must be 1 minute\.\.24 hours/],
    ['alert emails with topic', (s) => ({ elastic: elasticSource(s), alarmTopic: new sns.Topic(s, 'T'), alertEmails: ['a@example.com'] }), /alertEmails subscribe to a topic the construct creates/],
    ['composite alarm', (s) => ({
      elastic: elasticSource(s),
      alarms: [new cloudwatch.CompositeAlarm(s, 'Any', { alarmRule: cloudwatch.AlarmRule.fromAlarm(cloudwatch.Alarm.fromAlarmName(s, 'A', 'a'), cloudwatch.AlarmState.ALARM) })],
    }), /alarms: GuardStack\/Any is a composite alarm, .* give its metric alarms instead/],
    ['alarm in another Region', (s) => ({ elastic: elasticSource(s), alarms: [cloudwatch.Alarm.fromAlarmArn(s, 'Far', 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:far')] }),
      /alarms: GuardStack\/Far is in eu-west-1, the report reads alarms in its own Region \(us-east-1\) only/],
    ['too many alarms', (s) => ({
      elastic: elasticSource(s),
      alarms: Array.from({ length: 26 }, (_, i) => cloudwatch.Alarm.fromAlarmArn(s, `A${i}`, `arn:aws:cloudwatch:us-east-1:111111111111:alarm:a${i}`)),
    }), /the report lists at most 25 alarms \(the guard's and the alarms prop\), got 26/],
    ['Apdex T of 0 ms, which every run refuses', (s) => ({ elastic: { ...elasticSource(s), apdexThreshold: Duration.millis(0) } }),
      /elastic\.apdexThreshold must be a whole number of milliseconds, at least 1 ms \(e\.g\. Duration\.millis\(30\)\), got 0 millis/],
    ['Apdex T below a millisecond', (s) => ({ elastic: { ...elasticSource(s), apdexThreshold: Duration.millis(0.5) } }), /elastic\.apdexThreshold must be a whole number of milliseconds/],
    ['search timeout of 0', (s) => ({ elastic: { ...elasticSource(s), requestTimeout: Duration.seconds(0) } }), /elastic\.requestTimeout must be a whole number of milliseconds, at least 1 ms/],
    ['timeout beyond Lambda\'s 15 minutes', (s) => ({ elastic: elasticSource(s), timeout: Duration.minutes(20) }),
      /timeout must be a whole number of seconds, 1 second\.\.15 minutes \(Lambda's limit\), got 20 minutes/],
    ['timeout of half a second', (s) => ({ elastic: elasticSource(s), timeout: Duration.millis(500) }), /timeout must be a whole number of seconds/],
    ['fractional memory', (s) => ({ elastic: elasticSource(s), memorySize: 1024.5 }), /memorySize must be a whole number of MB, 256\.\.10240, got 1024\.5/],
    ['51 recipients, one more than an SES message takes', (s) => ({ elastic: elasticSource(s), recipients: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }),
      /recipients: SES sends one message to at most 50 recipients, got 51: send the reports to a mailing list address instead/],
    ['a zone in the wrong case, which Elasticsearch and Scheduler refuse', (s) => ({ elastic: elasticSource(s), timeZone: 'europe/berlin' }),
      /timeZone "europe\/berlin" must be spelled as IANA spells it, .*: did you mean Europe\/Berlin\?/],
    ['a link in the wrong case', (s) => ({ elastic: elasticSource(s), timeZone: 'us/eastern' }), /timeZone "us\/eastern" must be spelled as IANA spells it, .*: did you mean America\/New_York\?/],
    ['groupBy and groupByTag', (s) => ({ elastic: elasticSource(s), costExplorer: { groupBy: CostGrouping.REGION, groupByTag: 'team' } }),
      /costExplorer: give groupBy \(REGION\) or groupByTag \("team"\), not both/],
  ])('synth error: %s', (_name, build, message) => {
    expect(() => synth(build)).toThrow(message);
  });

  test('the new checks are collected with the other prop errors into one message', () => {
    expect(() => synth((s) => ({
      elastic: { ...elasticSource(s), apdexThreshold: Duration.millis(0) },
      timeZone: 'europe/berlin',
      timeout: Duration.minutes(20),
      recipients: Array.from({ length: 60 }, (_, i) => `u${i}@example.com`),
      costExplorer: { groupBy: CostGrouping.REGION, groupByTag: 'team' },
      bucketPrefix: 'waf',
    }))).toThrow(new RegExp([
      'invalid props:',
      '- timeZone "europe/berlin" must be spelled as IANA spells it',
      '- recipients: SES sends one message to at most 50 recipients, got 60',
      '- bucketPrefix "waf"',
      '- timeout must be a whole number of seconds',
      '- elastic\\.apdexThreshold',
      '- costExplorer: give groupBy',
    ].join('[^]*')));
  });

  test('limits are inclusive, and correctly spelled zones and links synth as given', () => {
    for (const timeZone of ['Europe/Berlin', 'Asia/Kolkata', 'US/Eastern', 'Etc/GMT+5', 'UTC']) {
      const { template } = synth((s) => ({
        elastic: { ...elasticSource(s), apdexThreshold: Duration.millis(1), requestTimeout: Duration.millis(1) },
        timeZone,
        timeout: Duration.minutes(15),
        recipients: Array.from({ length: 50 }, (_, i) => `u${i}@example.com`),
      }));
      template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpressionTimezone: timeZone });
      template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900 });
      const config = reportConfig(template);
      expect([config.timeZone, config.recipients.length, config.elastic?.apdexTMs, config.elastic?.requestTimeoutMs]).toEqual([timeZone, 50, 1, 1]);
    }
  });
});
