import { Annotations as CoreAnnotations, App, CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { newStack, synthGuard, US_EAST_1 } from './construct-fixtures';
import { Counting, RealtimeWafGuard, RuleAction } from '../../src';
import { METRIC } from '../../src/realtime-waf-guard/handler-env';
import { ipSetSyncConfigFromEnv, logProcessorConfigFromEnv } from '../../src/realtime-waf-guard/runtime/config';

type Resources = Record<string, { Type: string; Properties: any; DependsOn?: string[]; DeletionPolicy?: string }>;

function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

function logicalIdOf(template: Template, type: string, pathFragment: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.includes(pathFragment));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The statements of the default policy of the role whose logical id contains the fragment. */
function statementsOf(template: Template, roleFragment: string): any[] {
  const policies = Object.entries(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter(([id]) => id.includes(roleFragment));
  expect(policies).toHaveLength(1);
  return policies[0][1].Properties.PolicyDocument.Statement;
}

function envOf(template: Template, functionFragment: string): Record<string, unknown> {
  const id = logicalIdOf(template, 'AWS::Lambda::Function', functionFragment);
  return template.toJSON().Resources[id].Properties.Environment.Variables;
}

describe('stream', () => {
  test('a new stream is on-demand and encrypted with a rotating customer managed key', () => {
    const { template } = synthGuard();
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('GuardKey'), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('shardCount makes a provisioned stream', () => {
    const { template } = synthGuard({ shardCount: 3 });
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 3,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });

  test('an existing stream is used instead of creating one', () => {
    const stack = newStack();
    const existing = kinesis.Stream.fromStreamArn(stack, 'Existing', 'arn:aws:kinesis:us-east-1:111111111111:stream/logs');
    const guard = new RealtimeWafGuard(stack, 'Guard', { existingStream: existing });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    expect(guard.stream).toBe(existing);
    template.hasResourceProperties('AWS::CloudFront::RealtimeLogConfig', {
      EndPoints: [{ StreamType: 'Kinesis', KinesisStreamConfig: Match.objectLike({ StreamArn: existing.streamArn }) }],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: existing.streamArn });
  });
});

describe('real-time log config', () => {
  test('delivers the detection fields in canonical order at 100% by default', () => {
    const { template, guard } = synthGuard();
    const fields = ['timestamp', 'c-ip', 'cs-host', 'cs-uri-stem', 'x-forwarded-for'];
    template.hasResourceProperties('AWS::CloudFront::RealtimeLogConfig', { Fields: fields, SamplingRate: 100 });
    expect(guard.logFields).toEqual(fields);
  });

  test('added optional fields land in canonical position, and the handler gets the same order', () => {
    const { template } = synthGuard({ additionalLogFields: ['asn', 'sc-status', 'cs-user-agent', 'c-ip'], samplingRate: 25 });
    const expected = ['timestamp', 'c-ip', 'sc-status', 'cs-host', 'cs-uri-stem', 'cs-user-agent', 'x-forwarded-for', 'asn'];
    template.hasResourceProperties('AWS::CloudFront::RealtimeLogConfig', { Fields: expected, SamplingRate: 25 });
    const env = envOf(template, 'LogProcessor');
    expect(env.LOG_FIELDS).toBe(expected.join(','));
    expect(env.SAMPLING_RATE).toBe('25');
  });

  test('the CloudFront role may write to the stream and generate data keys, nothing else', () => {
    const { template } = synthGuard();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' } })] },
    });
    expect(statementsOf(template, 'RealtimeLogRole')).toEqual([
      {
        Effect: 'Allow',
        Action: ['kinesis:DescribeStreamSummary', 'kinesis:DescribeStream', 'kinesis:PutRecord', 'kinesis:PutRecords'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::Kinesis::Stream', 'DetectionStream'), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', 'GuardKey'), 'Arn'] },
      },
    ]);
  });
});

describe('tables', () => {
  test('four on-demand, encrypted tables with the shared key schemas, TTL and the block stream', () => {
    const { template } = synthGuard();
    const tables = Object.entries(resourcesOf(template, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(4);
    for (const [, table] of tables) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    }
    const byId = (fragment: string) => tables.find(([id]) => id.includes(fragment))![1];
    expect(byId('RulesTable').Properties.KeySchema).toEqual([{ AttributeName: 'ruleId', KeyType: 'HASH' }]);
    expect(byId('BlocksTable').Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'ip', KeyType: 'HASH' }, { AttributeName: 'ruleId', KeyType: 'RANGE' }],
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(byId('CountersTable').Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(byId('HistoryTable').Properties.GlobalSecondaryIndexes).toEqual([expect.objectContaining({
      IndexName: 'byDay',
      KeySchema: [{ AttributeName: 'day', KeyType: 'HASH' }, { AttributeName: 'at', KeyType: 'RANGE' }],
    })]);
  });

  test('point-in-time recovery on rules, blocks and history, not on short-lived counters', () => {
    const { template } = synthGuard();
    const pitr = (fragment: string) => template.toJSON().Resources[logicalIdOf(template, 'AWS::DynamoDB::Table', fragment)]
      .Properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;
    expect([pitr('RulesTable'), pitr('BlocksTable'), pitr('HistoryTable'), pitr('CountersTable')]).toEqual([true, true, true, false]);
  });

  test('rules, history and key are retained by default; transient data is destroyed', () => {
    const { template } = synthGuard();
    const policy = (type: string, fragment: string) => template.toJSON().Resources[logicalIdOf(template, type, fragment)].DeletionPolicy;
    expect(policy('AWS::DynamoDB::Table', 'RulesTable')).toBe('Retain');
    expect(policy('AWS::DynamoDB::Table', 'HistoryTable')).toBe('Retain');
    expect(policy('AWS::KMS::Key', 'GuardKey')).toBe('Retain');
    expect(policy('AWS::DynamoDB::Table', 'CountersTable')).toBe('Delete');
    expect(policy('AWS::DynamoDB::Table', 'BlocksTable')).toBe('Delete');
    expect(policy('AWS::Kinesis::Stream', 'DetectionStream')).toBe('Delete');
  });

  test('removalPolicy DESTROY applies to rules, history, key and log groups', () => {
    const { template } = synthGuard({ removalPolicy: RemovalPolicy.DESTROY });
    const policies = ['RulesTable', 'HistoryTable'].map((f) => template.toJSON().Resources[logicalIdOf(template, 'AWS::DynamoDB::Table', f)].DeletionPolicy);
    expect(policies).toEqual(['Delete', 'Delete']);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });
});

describe('log processor', () => {
  test('the Kinesis event source mapping cannot be stalled by a poison batch, and keeps per-shard order', () => {
    const { template } = synthGuard();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::Kinesis::Stream', 'DetectionStream'), 'Arn'] },
      StartingPosition: 'LATEST',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue', 'DeadLetterQueue'), 'Arn'] } },
      },
    });
  });

  test('batching props are passed through', () => {
    const { template } = synthGuard({
      batchSize: 500, maxBatchingWindow: Duration.seconds(5), retryAttempts: 7, maxRecordAge: Duration.minutes(10),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500, MaximumBatchingWindowInSeconds: 5, MaximumRetryAttempts: 7, MaximumRecordAgeInSeconds: 600, ParallelizationFactor: 1,
    });
  });

  test('the dead-letter queue is KMS encrypted and refuses plain HTTP', () => {
    const { template, guard } = synthGuard();
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: 'alias/aws/sqs' });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    expect(guard.deadLetterQueue.queueArn).toBeTruthy();
  });

  test('function settings and environment', () => {
    const { template } = synthGuard({
      allowList: ['203.0.113.7', '2001:DB8:0:0::/48', '10.1.2.3/8'],
      // A /8 is wider than the default widest allow-list entry (/16): widened on purpose.
      allowListWidestPrefixIpv4: 8,
      trustedProxies: ['198.51.100.0/24'],
      maxNewBlocksPerMinute: 20,
      rulesCacheDuration: Duration.seconds(10),
      guardName: 'shop-guard',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Counts CloudFront'),
      MemorySize: 512,
      Timeout: 60,
      Runtime: 'nodejs22.x',
    });
    expect(envOf(template, 'LogProcessor')).toMatchObject({
      RULES_TABLE_NAME: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', 'RulesTable') },
      COUNTERS_TABLE_NAME: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', 'CountersTable') },
      BLOCKS_TABLE_NAME: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', 'BlocksTable') },
      ALLOW_LIST: '203.0.113.7/32,2001:db8::/48,10.0.0.0/8',
      TRUSTED_PROXIES: '198.51.100.0/24',
      MAX_NEW_BLOCKS_PER_MINUTE: '20',
      RULES_CACHE_SECONDS: '10',
      COUNTER_RETENTION_SECONDS: '7200',
      POWERTOOLS_METRICS_NAMESPACE: 'CdkWafGuard',
      POWERTOOLS_SERVICE_NAME: 'shop-guard',
    });
  });

  test('counter retention follows maxRecordAge when that is longer, or takes the prop', () => {
    expect(envOf(synthGuard({ maxRecordAge: Duration.hours(6) }).template, 'LogProcessor').COUNTER_RETENTION_SECONDS).toBe('21600');
    expect(envOf(synthGuard({ counterRetention: Duration.hours(3) }).template, 'LogProcessor').COUNTER_RETENTION_SECONDS).toBe('10800');
  });

  test('IAM: exact table actions on exact tables, stream read, DLQ send; no wildcard resources', () => {
    const { template } = synthGuard();
    const arn = (fragment: string) => ({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table', fragment), 'Arn'] });
    const statements = statementsOf(template, 'LogProcessorRole');
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'dynamodb:Scan', Resource: arn('RulesTable') }),
      expect.objectContaining({ Action: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], Resource: arn('CountersTable') }),
      // GetItem: BlockStore reads a block in force for its end and any unblock
      expect.objectContaining({ Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:GetItem'], Resource: arn('BlocksTable') }),
      // stale offences only: it may add history events, never read or remove them
      expect.objectContaining({ Action: 'dynamodb:PutItem', Resource: arn('HistoryTable') }),
      expect.objectContaining({ Action: expect.arrayContaining(['kinesis:GetRecords']) }),
      expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']) }),
    ]));
    expect(JSON.stringify(statements)).not.toContain('"*"');
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('dynamodb:DeleteItem');
    const onHistory = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(arn('HistoryTable')));
    expect(onHistory.flatMap((s) => [s.Action].flat())).toEqual(['dynamodb:PutItem']);
  });
});

describe('IP set sync', () => {
  test('single writer with a 2 minute timeout and the WAF environment', () => {
    const { template } = synthGuard({ historyRetention: Duration.days(30) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Rebuilds the WAF IP sets'),
      ReservedConcurrentExecutions: 1,
      Timeout: 120,
    });
    const ipv4 = logicalIdOf(template, 'AWS::WAFv2::IPSet', 'Ipv4Set');
    expect(envOf(template, 'IpSetSync')).toMatchObject({
      WAF_SCOPE: 'CLOUDFRONT',
      IPV4_SET_ID: { 'Fn::GetAtt': [ipv4, 'Id'] },
      IPV4_SET_NAME: { 'Fn::Select': [0, { 'Fn::Split': ['|', { Ref: ipv4 }] }] },
      IPV6_SET_ID: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::WAFv2::IPSet', 'Ipv6Set'), 'Id'] },
      MAX_IP_SET_SIZE: '10000',
      ALERT_TOPIC_ARN: { Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertTopic') },
      HISTORY_RETENTION_DAYS: '30',
      HISTORY_TABLE_NAME: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', 'HistoryTable') },
    });
  });

  test('triggered by new or changed, not yet notified block rows, with bisect, retries and the DLQ', () => {
    const { template } = synthGuard();
    const mapping = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'))
      .find((m) => JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'))!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table', 'BlocksTable'), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      DestinationConfig: { OnFailure: { Destination: expect.anything() } },
    });
    const patterns = mapping.Properties.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern));
    expect(patterns).toEqual([{
      eventName: ['INSERT', 'MODIFY'],
      // exists works on leaf nodes only: the number's N, not the attribute
      dynamodb: { NewImage: { notifiedAt: { N: [{ exists: false }] }, retryAt: { N: [{ exists: false }] } } },
    }, {
      // an operator's unblock ends an announced row: released within seconds rather than at the next sweep
      eventName: ['MODIFY'],
      dynamodb: { NewImage: { manualAction: { S: ['UNBLOCK', 'UNALLOW'] }, releasedAt: { N: [{ exists: false }] }, retryAt: { N: [{ exists: false }] } } },
    }, {
      // a block in force that gained a route (its client came the other way): applied within seconds
      eventName: ['MODIFY'],
      dynamodb: {
        NewImage: { routeAddedAt: { N: [{ exists: true }] }, releasedAt: { N: [{ exists: false }] }, retryAt: { N: [{ exists: false }] } },
      },
    }]);
  });

  test('swept every minute for expiry', () => {
    const { template } = synthGuard();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::Lambda::Function', 'IpSetSync'), 'Arn'] } })],
    });
  });

  test('IAM: WAF actions only on the two IP sets, exact table actions, publish with the topic key', () => {
    const { template } = synthGuard();
    const statements = statementsOf(template, 'IpSetSyncRole');
    const waf = statements.filter((s) => JSON.stringify(s.Action).includes('wafv2:'));
    expect(waf).toEqual([{
      Effect: 'Allow',
      Action: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'],
      Resource: [
        { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::WAFv2::IPSet', 'Ipv4Set'), 'Arn'] },
        { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::WAFv2::IPSet', 'Ipv6Set'), 'Arn'] },
      ],
    }]);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Action: ['dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table', 'BlocksTable'), 'Arn'] },
      }),
      expect.objectContaining({
        Action: 'dynamodb:PutItem',
        Resource: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table', 'HistoryTable'), 'Arn'] },
      }),
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertTopic') } }),
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', 'GuardKey'), 'Arn'] },
      }),
    ]));
    // The only wildcard resource is ListStreams, which has no resource-level permissions; it is suppressed by name.
    const wildcards = statements.filter((s) => s.Resource === '*');
    expect(wildcards).toEqual([{ Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' }]);
    const policyId = Object.keys(resourcesOf(template, 'AWS::IAM::Policy')).find((id) => id.includes('IpSetSyncRole'))!;
    expect(template.toJSON().Resources[policyId].Metadata.cdk_nag.rules_to_suppress).toEqual([
      expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] }),
    ]);
  });

  test('two empty CLOUDFRONT IP sets, one per address family', () => {
    const { template } = synthGuard();
    template.resourceCountIs('AWS::WAFv2::IPSet', 2);
    for (const version of ['IPV4', 'IPV6']) {
      template.hasResourceProperties('AWS::WAFv2::IPSet', { Scope: 'CLOUDFRONT', IPAddressVersion: version, Addresses: [] });
    }
  });
});

describe('rules seeding', () => {
  test('a custom resource backed directly by the seeder carries the validated rules', () => {
    const { template, stack } = synthGuard({
      rules: [
        { host: 'shop.example.com', pathPrefix: '/login', threshold: 100, window: Duration.minutes(1) },
        { id: 'api', host: '*.example.com', threshold: 5000, window: Duration.minutes(5), blockFor: Duration.hours(1), action: RuleAction.COUNT },
      ],
    });
    const seeder = logicalIdOf(template, 'AWS::Lambda::Function', 'RulesSeeder');
    const [resource] = Object.values(resourcesOf(template, 'Custom::WafGuardRules'));
    expect(resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [seeder, 'Arn'] });
    expect(resource.Properties.TableName).toEqual({ Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', 'RulesTable') });
    const managedBy = `${stack.stackName}/Guard`;
    expect(JSON.parse(resource.Properties.RulesJson)).toEqual([
      {
        ruleId: 'shop.example.com/login',
        host: 'shop.example.com',
        pathPrefix: '/login',
        threshold: 100,
        windowSeconds: 60,
        blockSeconds: 900,
        action: 'BLOCK',
        enabled: true,
        managedBy,
      },
      {
        ruleId: 'api',
        host: '*.example.com',
        threshold: 5000,
        windowSeconds: 300,
        blockSeconds: 3600,
        action: 'COUNT',
        enabled: true,
        managedBy,
      },
    ]);
    // CloudFormation must not invoke the seeder before its permissions exist.
    expect(resource.DependsOn).toEqual(expect.arrayContaining([
      Object.keys(resourcesOf(template, 'AWS::IAM::Policy')).find((id) => id.includes('RulesSeederRole')),
    ]));
  });

  test('pathCaseSensitive reaches the seeded row only when set, so existing rows and seeds read the same', () => {
    const { template } = synthGuard({
      rules: [
        { id: 'exact', host: 'shop.example.com', pathPrefix: '/Admin', pathCaseSensitive: true, threshold: 100, window: Duration.minutes(1) },
        { id: 'folded', host: 'shop.example.com', pathPrefix: '/login', pathCaseSensitive: false, threshold: 100, window: Duration.minutes(1) },
      ],
    });
    const [resource] = Object.values(resourcesOf(template, 'Custom::WafGuardRules'));
    const rows = JSON.parse(resource.Properties.RulesJson) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.ruleId, r.pathCaseSensitive])).toEqual([['exact', true], ['folded', undefined]]);
  });

  test('no rules seeds an empty list', () => {
    const { template } = synthGuard();
    template.hasResourceProperties('Custom::WafGuardRules', { RulesJson: '[]' });
  });

  test('the seeder may only put and delete rows of the rules table', () => {
    const { template } = synthGuard();
    const table = statementsOf(template, 'RulesSeederRole').filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(table).toEqual([{
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table', 'RulesTable'), 'Arn'] },
    }]);
  });
});

describe('alerts', () => {
  test('a KMS-encrypted, TLS-only topic with the email subscriptions', () => {
    const { template } = synthGuard({ alertEmails: ['oncall@example.com', 'sec@example.org'] });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', 'GuardKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'sec@example.org' });
  });

  test('an existing topic is used and granted, and no topic is created', () => {
    const stack = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Existing', 'arn:aws:sns:us-east-1:111111111111:ops');
    const guard = new RealtimeWafGuard(stack, 'Guard', { alertTopic: topic });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(guard.alertTopic).toBe(topic);
    expect(envOf(template, 'IpSetSync').ALERT_TOPIC_ARN).toBe('arn:aws:sns:us-east-1:111111111111:ops');
    expect(statementsOf(template, 'IpSetSyncRole')).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'sns:Publish', Resource: 'arn:aws:sns:us-east-1:111111111111:ops' }),
    ]));
  });
});

describe('logs and metrics', () => {
  test('one log group per handler with the chosen retention', () => {
    const { template } = synthGuard({ logRetention: logs.RetentionDays.ONE_WEEK });
    // log processor, sync, rules seeder and the dashboard's widget
    template.resourceCountIs('AWS::Logs::LogGroup', 4);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('log retention defaults to one month', () => {
    const { template } = synthGuard();
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('metric helpers read the handlers\' namespace and the guard\'s service dimension', () => {
    const { guard } = synthGuard({ guardName: 'edge', metricsNamespace: 'Acme/Waf' });
    const blocks = guard.metricBlocks();
    expect(blocks).toMatchObject({ namespace: 'Acme/Waf', metricName: 'BlocksCreated', dimensions: { service: 'edge' }, statistic: 'Sum' });
    expect(guard.metricReleases().metricName).toBe('BlocksReleased');
    expect(guard.metricMalformedLines().metricName).toBe('MalformedLines');
    expect(guard.metricWouldBlock().metricName).toBe('WouldBlock');
    expect(guard.metricProcessingLag()).toMatchObject({ metricName: 'ProcessingLagMs', statistic: 'Maximum' });
    expect(guard.metricBlocks({ period: Duration.minutes(5) }).period.toMinutes()).toBe(5);
  });

  test('the default guard name comes from the stack name and construct path', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Edge Guard');
    expect(guard.guardName).toBe('GuardStack-Edge-Guard');
    expect(envOf(Template.fromStack(stack), 'LogProcessor').POWERTOOLS_SERVICE_NAME).toBe('GuardStack-Edge-Guard');
  });

  test('two guards in one stack get distinct names, rules and service dimensions', () => {
    const stack = newStack();
    const a = new RealtimeWafGuard(stack, 'A');
    const b = new RealtimeWafGuard(stack, 'B');
    expect(a.guardName).not.toBe(b.guardName);
    expect(a.blockRules(0)[0].name).not.toBe(b.blockRules(0)[0].name);
  });
});

describe('contract with the handlers', () => {
  /** The environment as the function would see it, with CloudFormation references replaced by placeholder names. */
  function deployedEnv(template: Template, functionFragment: string): Record<string, string> {
    return Object.fromEntries(Object.entries(envOf(template, functionFragment))
      .map(([name, value]) => [name, typeof value === 'string' ? value : `resolved-${name}`]));
  }

  test('the handlers\' config loaders accept the environment the construct sets', () => {
    const { template } = synthGuard({
      additionalLogFields: ['sc-status'],
      samplingRate: 10,
      allowList: ['203.0.113.7', '2001:db8::/48'],
      trustedProxies: ['198.51.100.0/24'],
      historyRetention: Duration.days(400),
      guardName: 'edge',
    });
    const processor = logProcessorConfigFromEnv(deployedEnv(template, 'LogProcessor'));
    expect(processor).toMatchObject({
      fields: ['timestamp', 'c-ip', 'sc-status', 'cs-host', 'cs-uri-stem', 'x-forwarded-for'],
      samplingRate: 10,
      historyRetentionDays: 400,
      maxNewBlocksPerMinute: 50,
      rulesCacheMs: 30_000,
    });
    const sync = ipSetSyncConfigFromEnv(deployedEnv(template, 'IpSetSync'));
    expect(sync).toMatchObject({ guardName: 'edge', scope: 'CLOUDFRONT', maxSetSize: 10_000, historyRetentionDays: 400 });
  });
});

describe('operational alarms', () => {
  test('the guard alarms on its own failures and notifies the alert topic', () => {
    const { template } = synthGuard();
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const byMetric: Record<string, any> = Object.fromEntries(Object.values(alarms).map((a) => [a.Properties.MetricName, a.Properties]));
    expect(Object.keys(byMetric).sort()).toEqual(
      ['ApproximateNumberOfMessagesVisible', 'BlockBudgetExceeded', 'BlocksOverIpSetCap', 'CounterWriteErrors', 'Errors', 'InvalidRuleRows', 'IteratorAge']);
    // refused rule rows are measured on every batch: one batch seeing one is enough
    expect(byMetric.InvalidRuleRows).toMatchObject({ Namespace: 'CdkWafGuard', Statistic: 'Maximum', Threshold: 1, EvaluationPeriods: 1 });
    expect(byMetric.BlockBudgetExceeded).toMatchObject({ Namespace: 'CdkWafGuard', Threshold: 1, EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    // Lambda's Errors metric of the sync function: it also counts timeouts
    expect(byMetric.Errors).toMatchObject({ Namespace: 'AWS/Lambda', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(byMetric.Errors.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalIdOf(template, 'AWS::Lambda::Function', 'IpSetSync') } }]);
    expect(byMetric.IteratorAge).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 60_000, Statistic: 'Maximum' });
    const topic = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertTopic');
    for (const props of Object.values(byMetric)) expect(props.AlarmActions).toEqual([{ Ref: topic }]);
  });

  test('the alert topic key lets CloudWatch alarms of this account publish to the encrypted topic', () => {
    const { template } = synthGuard();
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
    const statements = key.Properties.KeyPolicy.Statement as any[];
    expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
    })]));
  });

  test('operationalAlarms: false creates none', () => {
    const { template, guard } = synthGuard({ operationalAlarms: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(guard.alarms).toEqual([]);
    expect(guard.budgetExceededAlarm).toBeUndefined();
    expect(guard.processingLagAlarm).toBeUndefined();
    expect(guard.invalidRulesAlarm).toBeUndefined();
  });

  test('each alarm is a named property, in the alarms list too', () => {
    const { template, guard, stack } = synthGuard();
    const metricOf = (alarm: unknown) => {
      const id = stack.getLogicalId((alarm as Construct).node.defaultChild as CfnElement);
      return template.toJSON().Resources[id].Properties.MetricName;
    };
    const named = [
      guard.budgetExceededAlarm, guard.ipSetFullAlarm, guard.syncErrorsAlarm, guard.deadLetterAlarm, guard.processingLagAlarm,
      guard.invalidRulesAlarm, guard.counterWritesAlarm,
    ];
    expect(named.map(metricOf)).toEqual([
      'BlockBudgetExceeded', 'BlocksOverIpSetCap', 'Errors', 'ApproximateNumberOfMessagesVisible', 'IteratorAge', 'InvalidRuleRows', 'CounterWriteErrors',
    ]);
    expect(guard.alarms).toEqual(named);
  });
});

describe('metrics seen from another region', () => {
  test('the guard\'s metrics carry us-east-1 and the account, so a dashboard elsewhere draws them', () => {
    const app = new App();
    const guardStack = new Stack(app, 'Edge', US_EAST_1);
    const guard = new RealtimeWafGuard(guardStack, 'Guard', { guardName: 'edge' });
    expect(guard.metricBlocks()).toMatchObject({ region: 'us-east-1', account: '111111111111' });
    const ops = new Stack(app, 'Ops', { env: { account: '111111111111', region: 'eu-west-1' } });
    new cloudwatch.Dashboard(ops, 'Board', { widgets: [[new cloudwatch.GraphWidget({ left: [guard.metricBlocks()] })]] });
    const body = JSON.stringify(Template.fromStack(ops).toJSON().Resources);
    expect(body).toContain('\\"region\\":\\"us-east-1\\"');
    expect(body).toContain('BlocksCreated');
  });

  test('an alarm in another region on a guard metric fails at synth instead of watching an empty namespace', () => {
    const app = new App();
    const guard = new RealtimeWafGuard(new Stack(app, 'Edge', US_EAST_1), 'Guard');
    const ops = new Stack(app, 'Ops', { env: { account: '111111111111', region: 'eu-west-1' } });
    expect(() => new cloudwatch.Alarm(ops, 'Blocks', { metric: guard.metricBlocks(), threshold: 1, evaluationPeriods: 1 }))
      .toThrow(/region|us-east-1/i);
  });

  test('the guard\'s own alarms synthesize in an environment-agnostic account', () => {
    const stack = newStack({ env: { region: 'us-east-1' } });
    new RealtimeWafGuard(stack, 'Guard');
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });

  test('every metric name has a method, and an unknown name fails at synth', () => {
    const { guard } = synthGuard();
    const names = [
      guard.metricRecordsProcessed(), guard.metricMalformedLines(), guard.metricProcessingLag(), guard.metricBlocks(),
      guard.metricWouldBlock(), guard.metricBudgetExceeded(), guard.metricReleases(), guard.metricActiveBlocks(),
      guard.metricBlocksOverIpSetCap(), guard.metricSyncErrors(), guard.metricInvalidRuleRows(), guard.metricStaleOffences(),
      guard.metricActiveBlocksIpv4(), guard.metricActiveBlocksIpv6(), guard.metricActiveBlocksProxied(),
      guard.metricCounterWriteErrors(), guard.metricHeldCountsDropped(), guard.metricRecordsAlreadyCounted(), guard.metricHeldPairs(),
    ].map((m) => m.metricName);
    // Every metric the handlers emit has its own method, except the Timestream option's.
    const timestreamOnly = ['AnalyticsRecordsWritten', 'AnalyticsRecordsRejected', 'AnalyticsRecordsFailed', 'AnalyticsRecordsTooLarge', 'DetectionQueryErrors'];
    expect([...names].sort()).toEqual(Object.values(METRIC).filter((m) => !timestreamOnly.includes(m)).sort());
    for (const name of names) expect(guard.metric(name).metricName).toBe(name);
    expect(() => guard.metric('BlockCount')).toThrow(/metric\("BlockCount"\): the guard emits no such metric.*BlocksCreated/);
  });
});

describe('encryption key', () => {
  test('no key when the guard creates neither stream nor topic', () => {
    const stack = newStack();
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const topic = sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:111111111111:ops');
    const guard = new RealtimeWafGuard(stack, 'Guard', { existingStream: stream, alertTopic: topic });
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 0);
    expect(guard.encryptionKey).toBeUndefined();
  });

  test('a key when either is created', () => {
    const stack = newStack();
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const guard = new RealtimeWafGuard(stack, 'Guard', { existingStream: stream });
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
    expect(guard.encryptionKey).toBeDefined();
    const topic = Object.values(Template.fromStack(stack).findResources('AWS::SNS::Topic'))[0];
    const keyId = stack.getLogicalId(guard.encryptionKey!.node.defaultChild as CfnElement);
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('a key passed in but unused is a synth warning', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const topic = sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:111111111111:ops');
    new RealtimeWafGuard(stack, 'Guard', { existingStream: stream, alertTopic: topic, encryptionKey: key });
    Annotations.fromStack(stack).hasWarning('/GuardStack/Guard', Match.stringLikeRegexp('encryptionKey is not used'));
  });
});

describe('counting', () => {
  test('LOCAL_FIRST with 10% slack by default, read back by the handler, with an alarm on failed counter writes', () => {
    const { template, guard } = synthGuard();
    const env = envOf(template, 'LogProcessor') as Record<string, string>;
    expect(env.COUNTING).toBe('LOCAL_FIRST:10');
    expect(logProcessorConfigFromEnv(env).localFirstSlackPercent).toBe(10);
    expect(guard.counterWritesAlarm).toBeDefined();
    expect(guard.alarms).toContain(guard.counterWritesAlarm);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CounterWriteErrors', EvaluationPeriods: 3 });
  });

  test('Counting.EXACT and Counting.localFirst(n) reach the handler; EXACT has no counter-write alarm', () => {
    const exact = synthGuard({ counting: Counting.EXACT });
    const exactEnv = envOf(exact.template, 'LogProcessor') as Record<string, string>;
    expect(exactEnv.COUNTING).toBe('EXACT');
    expect(logProcessorConfigFromEnv(exactEnv).localFirstSlackPercent).toBeUndefined();
    expect(exact.guard.counterWritesAlarm).toBeUndefined();
    exact.template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'CounterWriteErrors' }, 0);
    const loose = envOf(synthGuard({ counting: Counting.localFirst(25) }).template, 'LogProcessor') as Record<string, string>;
    expect(logProcessorConfigFromEnv(loose).localFirstSlackPercent).toBe(25);
  });

  test('LOCAL_FIRST asked for where no rule leaves it anything to hold: a warning that names the fix, and only then', () => {
    const warnings = (props: Parameters<typeof synthGuard>[0]) => Annotations.fromStack(synthGuard(props).stack)
      .findWarning('*', Match.stringLikeRegexp('^counting: set counting: Counting.EXACT \\(cheaper here\\)')).length;
    // The slack is of the logged threshold k*: for 100 requests per 10 s, 25 logged requests at 10% sampling and 36 at
    // 20% (sampling-bound.ts). Shared by 4 environments (one per shard; a new on-demand stream starts with 4), 10% of
    // 36 is under one logged request each: nothing can be held.
    const rules = [{ host: 'www.example.com', threshold: 100, window: Duration.seconds(10) }];
    const localFirst = Counting.LOCAL_FIRST;
    expect(warnings({ rules, samplingRate: 20, counting: localFirst })).toBe(1);
    expect(warnings({ rules, samplingRate: 10, shardCount: 4, counting: localFirst })).toBe(1);
    expect(warnings({ rules, samplingRate: 20, shardCount: 2, counting: localFirst })).toBe(0);
    expect(warnings({ rules, samplingRate: 10, shardCount: 1, counting: localFirst })).toBe(0);
    expect(warnings({ rules, samplingRate: 50, counting: localFirst })).toBe(0);
    expect(warnings({ rules, samplingRate: 20, counting: Counting.EXACT })).toBe(0);
    expect(warnings({ rules, samplingRate: 20, counting: Counting.localFirst(20) })).toBe(0);
    // Acknowledgeable by its id, like every warning of the guard.
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { rules, samplingRate: 20, counting: localFirst });
    CoreAnnotations.of(guard).acknowledgeWarning('cdk-waf-guard:countingHoldsNothing', 'EXACT costs the same here');
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('the LOCAL_FIRST warning advises only what is possible, and says how an on-demand stream\'s shards were counted', () => {
    const message = (props: Parameters<typeof synthGuard>[0]) => {
      const found = Annotations.fromStack(synthGuard(props).stack)
        .findWarning('*', Match.stringLikeRegexp('^counting: set counting: Counting.EXACT'));
      expect(found).toHaveLength(1);
      return String(found[0].entry.data);
    };
    // 30 per minute at 100%: 10% of 30 over 4 shards is 0.75 of a request; 3 on one shard, 3.75 each at 50% slack.
    const rules = [{ host: 'www.example.com', threshold: 30, window: Duration.minutes(1) }];
    expect(message({ rules, counting: Counting.LOCAL_FIRST })).toBe(
      'counting: set counting: Counting.EXACT (cheaper here). At samplingRate 100 with 4 shards, as a new on-demand stream ' +
      'starts with, 10% of every rule\'s threshold is at most one logged request per shard, so Counting.LOCAL_FIRST would ' +
      'write every request to DynamoDB as EXACT does, plus one write per batch. Or keep LOCAL_FIRST with a provisioned ' +
      'stream of fewer shards (shardCount) or more slack (Counting.localFirst(n), up to 50); see the README on counting. ' +
      '[ack: cdk-waf-guard:countingHoldsNothing]');
    // 10 per minute on one provisioned shard at 100%: 10% is one request, and 50% over one shard is 5: only more slack.
    expect(message({ rules: [{ ...rules[0], threshold: 10 }], shardCount: 1, counting: Counting.LOCAL_FIRST }))
      .toMatch(/At samplingRate 100 with 1 shard, 10% .* Or keep LOCAL_FIRST with more slack \(Counting\.localFirst\(n\), up to 50\); see/);
    // At the most slack, on one shard, at 100%: nothing is left to advise.
    expect(message({ rules: [{ ...rules[0], threshold: 1 }], shardCount: 1, counting: Counting.localFirst(50) }))
      .toMatch(/plus one write per batch\. No samplingRate, shard count or slack lets LOCAL_FIRST hold a client back for these thresholds;/);
  });

  test('without counting, EXACT is chosen where LOCAL_FIRST could hold nothing, said as information, not as a warning', () => {
    // 30 per minute at 100%: 10% of 30 over 4 shards is 0.75 of a request (the README's reporting example).
    const small = synthGuard({ rules: [{ host: 'www.example.com', threshold: 30, window: Duration.minutes(1) }] });
    expect((envOf(small.template, 'LogProcessor') as Record<string, string>).COUNTING).toBe('EXACT');
    expect(small.guard.counterWritesAlarm).toBeUndefined();
    expect(Annotations.fromStack(small.stack).findWarning('*', Match.anyValue())).toEqual([]);
    Annotations.fromStack(small.stack).hasInfo('/GuardStack/Guard', Match.stringLikeRegexp('^counting: Counting.EXACT chosen'));
    // One shard: 3 requests each, LOCAL_FIRST holds; so does a larger threshold beside the small one.
    const oneShard = synthGuard({ rules: [{ host: 'www.example.com', threshold: 30, window: Duration.minutes(1) }], shardCount: 1 });
    expect((envOf(oneShard.template, 'LogProcessor') as Record<string, string>).COUNTING).toBe('LOCAL_FIRST:10');
    const mixed = synthGuard({
      rules: [
        { host: 'www.example.com', threshold: 30, window: Duration.minutes(1) },
        { host: 'api.example.com', threshold: 3000, window: Duration.minutes(5) },
      ],
    });
    expect((envOf(mixed.template, 'LogProcessor') as Record<string, string>).COUNTING).toBe('LOCAL_FIRST:10');
    expect(Annotations.fromStack(mixed.stack).findInfo('*', Match.stringLikeRegexp('^counting:'))).toEqual([]);
    // No rules at synth (they come from the table): the default stays.
    expect((envOf(synthGuard().template, 'LogProcessor') as Record<string, string>).COUNTING).toBe('LOCAL_FIRST:10');
  });

  test('a slack outside 1..50 fails at synth, and the handler refuses a setting it cannot read', () => {
    expect(() => Counting.localFirst(0)).toThrow(/Counting.localFirst\(slackPercent\): a whole percent from 1 to 50 \(got 0\); use Counting.EXACT/);
    expect(() => Counting.localFirst(51)).toThrow(/1 to 50/);
    expect(() => Counting.localFirst(2.5)).toThrow(/whole percent/);
    const env = envOf(synthGuard().template, 'LogProcessor') as Record<string, string>;
    expect(() => logProcessorConfigFromEnv({ ...env, COUNTING: 'LOCAL_FIRST:0' })).toThrow(/COUNTING must be EXACT or LOCAL_FIRST:<1..50>/);
    expect(() => logProcessorConfigFromEnv({ ...env, COUNTING: 'FAST' })).toThrow(/COUNTING/);
    // Held pairs scale with the function's memory (Lambda sets the variable); outside Lambda the default applies.
    expect(logProcessorConfigFromEnv({ ...env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' }).maxHeldPairs).toBe(51_200);
    expect(logProcessorConfigFromEnv({ ...env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048' }).maxHeldPairs).toBe(819_200);
    expect(logProcessorConfigFromEnv(env).maxHeldPairs).toBeUndefined();
    // Before the setting existed the handler counted exactly: an unset variable keeps that.
    expect(logProcessorConfigFromEnv({ ...env, COUNTING: undefined }).localFirstSlackPercent).toBeUndefined();
  });
});
