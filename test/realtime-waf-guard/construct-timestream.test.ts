import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { expectSynthError, nagFindings, newStack, synthGuard } from './construct-fixtures';
import { Detection, RealtimeWafGuard } from '../../src';

const rules = [{ host: 'api.example.com', threshold: 100, window: Duration.minutes(1) }];

/** Every statement of every inline policy in the template, flattened. */
function statements(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function functionEnv(template: Template, descriptionPart: string): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))
    .find((f: any) => String(f.Properties.Description).includes(descriptionPart)) as any;
  return fn.Properties.Environment.Variables;
}

describe('Timestream option', () => {
  test('off by default: no Timestream resources, permissions or settings', () => {
    const { guard, template } = synthGuard({ rules });
    template.resourceCountIs('AWS::Timestream::Database', 0);
    template.resourceCountIs('AWS::Timestream::Table', 0);
    expect(JSON.stringify(statements(template))).not.toContain('timestream:');
    expect(functionEnv(template, 'Counts CloudFront')).not.toHaveProperty('TIMESTREAM_DATABASE');
    expect(guard.timestreamDatabaseName).toBeUndefined();
    expect(guard.timestreamTableName).toBeUndefined();
    expect(guard.queryDetector).toBeUndefined();
    expect(guard.logFields).not.toContain('x-edge-request-id');
  });

  test('on: a new database and table with the retention, the sink fields delivered, writes scoped to the table', () => {
    const { guard, template, stack } = synthGuard({
      rules,
      timestream: { memoryRetention: Duration.hours(12), magneticRetention: Duration.days(365), fields: ['sc-status', 'time-taken', 'cs-user-agent'] },
    });
    // encrypted with the guard's key, like the stream carrying the same addresses and paths
    template.hasResourceProperties('AWS::Timestream::Database', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::Timestream::Table', {
      DatabaseName: { Ref: Match.anyValue() },
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: '12', MagneticStoreRetentionPeriodInDays: '365' },
    });
    template.hasResource('AWS::Timestream::Table', { DeletionPolicy: 'Retain' });
    expect(guard.logFields).toEqual(expect.arrayContaining(['sc-status', 'time-taken', 'cs-user-agent', 'x-edge-request-id']));
    const env = functionEnv(template, 'Counts CloudFront');
    expect(env).toMatchObject({ ANALYTICS_FIELDS: 'sc-status,time-taken,cs-user-agent', DETECTION: 'STREAMING' });
    expect(stack.resolve(guard.timestreamDatabaseName)).toEqual({ Ref: expect.stringMatching(/Database/) });
    expect(stack.resolve(guard.timestreamTableName)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Table/), 'Name'] });
    const writes = statements(template).filter((s) => JSON.stringify(s.Action).includes('timestream:'));
    expect(writes).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'timestream:WriteRecords', Resource: { 'Fn::GetAtt': [expect.stringMatching(/Table/), 'Arn'] } }),
      expect.objectContaining({ Action: 'timestream:DescribeEndpoints', Resource: '*' }),
    ]));
    expect(writes.some((s) => s.Action === 'timestream:Select')).toBe(false);
    template.resourceCountIs('AWS::Events::Rule', 1);
  });

  test('an existing database and table: nothing created, permissions on that table', () => {
    const { guard, template } = synthGuard({ rules, timestream: { database: 'analytics', table: 'cloudfront' } });
    template.resourceCountIs('AWS::Timestream::Database', 0);
    template.resourceCountIs('AWS::Timestream::Table', 0);
    expect(guard.timestreamDatabaseName).toBe('analytics');
    expect(guard.timestreamTableName).toBe('cloudfront');
    const write = statements(template).find((s) => s.Action === 'timestream:WriteRecords');
    expect(JSON.stringify(write.Resource)).toContain(':database/analytics/table/cloudfront');
  });

  test('a new table in an existing database', () => {
    const { template } = synthGuard({ rules, timestream: { database: 'analytics' } });
    template.resourceCountIs('AWS::Timestream::Database', 0);
    template.hasResourceProperties('AWS::Timestream::Table', {
      DatabaseName: 'analytics',
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: '24', MagneticStoreRetentionPeriodInDays: '90' },
    });
  });

  test('query detection: a scheduled function with read access to the table and the guard tables, and a cost warning', () => {
    const { guard, template, stack } = synthGuard({ rules, timestream: {}, detection: Detection.TIMESTREAM_QUERY });
    expect(guard.queryDetector).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    expect(functionEnv(template, 'Counts CloudFront')).toMatchObject({ DETECTION: 'TIMESTREAM_QUERY' });
    expect(functionEnv(template, 'Queries the guard Timestream')).toMatchObject({ QUERY_INTERVAL_SECONDS: '60', SAMPLING_RATE: '100' });
    const actions = statements(template).flatMap((s) => [].concat(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['timestream:Select', 'dynamodb:Scan']));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Query detection runs every 1 minute'));
    expect(warnings).toHaveLength(1);
  });

  test('no cost warning from 5 minutes on', () => {
    const { stack, template } = synthGuard({ rules, timestream: { queryInterval: Duration.minutes(5) }, detection: Detection.TIMESTREAM_QUERY });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Query detection'))).toHaveLength(0);
  });

  test('invalid settings fail at synth naming the prop', () => {
    expectSynthError({ detection: Detection.TIMESTREAM_QUERY }, /detection: Detection.TIMESTREAM_QUERY needs timestream/);
    expectSynthError({ timestream: { table: 'table1' } }, /timestream.table .*timestream.database/);
    expectSynthError({ timestream: { database: 'db1', table: 'table1', memoryRetention: Duration.hours(2) } }, /memoryRetention and magneticRetention/);
    expectSynthError({ timestream: { queryInterval: Duration.minutes(5) } }, /queryInterval only applies/);
    expectSynthError({ timestream: { fields: ['cs-cookie'] } }, /timestream.fields: cs-cookie/);
    expectSynthError({ timestream: { fields: ['no-such-field'] } }, /Unknown CloudFront real-time log field/);
    expectSynthError({ timestream: { memoryRetention: Duration.minutes(90) } }, /memoryRetention must be whole hours/);
    expectSynthError({ timestream: { memoryRetention: Duration.hours(1) }, maxRecordAge: Duration.hours(2) }, /memoryRetention \(1 h\) must cover maxRecordAge/);
    expectSynthError({ timestream: { database: 'a b' } }, /timestream.database "a b"/);
  });

  test('cdk-nag: no unsuppressed finding with the sink and query detection', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard', { rules, timestream: {}, detection: Detection.TIMESTREAM_QUERY, trustedProxies: ['198.51.100.0/24'] });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('cdk-nag: no unsuppressed finding when the guard has no key for the database', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard', {
      rules,
      timestream: {},
      existingStream: new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED }),
      alertTopic: new sns.Topic(stack, 'Topic', { enforceSSL: true, masterKey: kms.Alias.fromAliasName(stack, 'SnsKey', 'alias/aws/sns') }),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Timestream::Database', { KmsKeyId: Match.absent() });
    expect(nagFindings(stack)).toEqual([]);
  });
});
