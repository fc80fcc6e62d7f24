import { readFileSync } from 'fs';
import { join } from 'path';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { newStack } from './construct-fixtures';
import { Detection, ElasticCredentials, RealtimeWafGuard, WafReporting } from '../../src';

/**
 * The README's "Removing the guard" runbook, held to the template: what it says stays is retained, nothing else is, and
 * the retained resources can be found and left behind without blocking a new deployment.
 */
type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

/** A guard with every optional resource that can be retained (key, Timestream, query detection) and a WafReporting. */
function fullStack(removalPolicy?: RemovalPolicy): Resources {
  const stack = newStack();
  new RealtimeWafGuard(stack, 'Guard', { timestream: {}, detection: Detection.TIMESTREAM_QUERY, removalPolicy });
  reporting(stack, 'Reports', removalPolicy);
  return Template.fromStack(stack).toJSON().Resources;
}

function reporting(stack: Stack, id: string, removalPolicy?: RemovalPolicy, guard?: RealtimeWafGuard): WafReporting {
  return new WafReporting(stack, id, {
    sender: 'reports@example.com',
    recipients: ['security@example.com'],
    guard,
    elastic: guard ? undefined : {
      endpoint: 'https://waf-logs.example.com:9243',
      credentials: ElasticCredentials.apiKey(secretsmanager.Secret.fromSecretNameV2(stack, 'EsKey', 'waf/es')),
      indexPattern: 'waf-logs-*',
      breachField: 'waf.breach',
    },
    removalPolicy,
  });
}

const retained = (resources: Resources) => Object.keys(resources).filter((id) => resources[id].DeletionPolicy === 'Retain').sort();

/** The logical id fragments of the runbook's table of what is left behind. */
function runbookFragments(): string[] {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.split('### Removing the guard\n')[1].split('\n### ')[0].split('\n<!--')[0];
  const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Left behind') && !line.startsWith('|---'));
  expect(rows.length).toBeGreaterThanOrEqual(6);
  return rows.flatMap((row) => [...row.split('|')[2].matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]));
}

test('the runbook\'s table names every resource a default stack leaves behind, and nothing it names is deleted', () => {
  const resources = fullStack();
  const fragments = runbookFragments();
  const kept = retained(resources);
  expect(kept.filter((id) => !fragments.some((f) => id.includes(f)))).toEqual([]);
  for (const fragment of fragments) expect({ fragment, retained: kept.some((id) => id.includes(fragment)) }).toEqual({ fragment, retained: true });
  // each row's resources, by type
  const typesOf = (fragment: string) => [...new Set(kept.filter((id) => id.includes(fragment)).map((id) => resources[id].Type))];
  expect(typesOf('GuardKey')).toEqual(['AWS::KMS::Key']);
  expect(typesOf('RulesTable')).toEqual(['AWS::DynamoDB::Table']);
  expect(typesOf('HistoryTable')).toEqual(['AWS::DynamoDB::Table']);
  expect(typesOf('TimestreamDatabase')).toEqual(['AWS::Timestream::Database']);
  expect(typesOf('TimestreamTable')).toEqual(['AWS::Timestream::Table']);
  expect(typesOf('ReportsBucket')).toEqual(['AWS::S3::Bucket']);
  expect(typesOf('ReportsAlarmTopicKey')).toEqual(['AWS::KMS::Key']);
  // log processor, IP set sync, rules seeder, console widget, query detector, report function
  expect(kept.filter((id) => id.includes('LogGroup')).map((id) => resources[id].Type)).toEqual(Array(6).fill('AWS::Logs::LogGroup'));
  // a replacement keeps the old resource too, and none has a fixed name that a new deployment would collide with
  for (const id of kept) {
    expect({ id, replace: resources[id].UpdateReplacePolicy }).toEqual({ id, replace: 'Retain' });
    // a literal name is fixed; a reference (the Timestream table's database) is not
    const names = Object.entries(resources[id].Properties ?? {})
      .filter(([p, value]) => /^(TableName|LogGroupName|DatabaseName|BucketName)$/.test(p) && typeof value === 'string').map(([p]) => p);
    expect({ id, names }).toEqual({ id, names: [] });
  }
});

test('what the runbook says goes with the stack has no Retain: stream, counters and blocks, queue, topic, IP sets, WebACL, log config', () => {
  const resources = fullStack();
  const policyOf = (type: string, fragment = '') => Object.entries(resources)
    .filter(([id, r]) => r.Type === type && id.includes(fragment)).map(([, r]) => r.DeletionPolicy ?? 'Delete');
  expect(policyOf('AWS::DynamoDB::Table', 'CountersTable')).toEqual(['Delete']);
  expect(policyOf('AWS::DynamoDB::Table', 'BlocksTable')).toEqual(['Delete']);
  expect(policyOf('AWS::Kinesis::Stream')).toEqual(['Delete']);
  expect(policyOf('AWS::SNS::Topic', 'GuardAlertTopic')).toEqual(['Delete']);
  expect(policyOf('AWS::SQS::Queue', 'GuardDeadLetterQueue')).toEqual(['Delete']);
  expect(policyOf('AWS::WAFv2::IPSet')).toEqual(['Delete', 'Delete']);
  expect(policyOf('AWS::WAFv2::WebACL')).toEqual(['Delete']);
  expect(policyOf('AWS::CloudFront::RealtimeLogConfig')).toEqual(['Delete']);
  expect(policyOf('AWS::CloudWatch::Dashboard')).toEqual(['Delete']);
  // The rules custom resource goes first (it refers to the table), running its Delete: the stack's own rows leave.
  expect(policyOf('Custom::WafGuardRules')).toEqual(['Delete']);
});

test('the Timestream database is encrypted with the guard\'s key: the runbook deletes the database before the key', () => {
  const resources = fullStack();
  const [database] = Object.values(resources).filter((r) => r.Type === 'AWS::Timestream::Database');
  const key = Object.keys(resources).find((id) => id.startsWith('GuardKey'))!;
  expect(database.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
});

test('removalPolicy DESTROY retains nothing, and the key waits CloudFormation\'s default (the guard sets no pending window)', () => {
  const resources = fullStack(RemovalPolicy.DESTROY);
  expect(retained(resources)).toEqual([]);
  const keys = Object.values(resources).filter((r) => r.Type === 'AWS::KMS::Key');
  expect(keys).toHaveLength(2);
  for (const key of keys) {
    expect(key.DeletionPolicy).toBe('Delete');
    expect(key.Properties?.PendingWindowInDays).toBeUndefined();
  }
});

test('no key is left when the guard creates none (encryptionKey given, or existingStream and alertTopic), nor for a WafReporting on the guard\'s topic', () => {
  const keyIds = (build: (stack: Stack) => void) => {
    const stack = newStack();
    build(stack);
    return retained(Template.fromStack(stack).toJSON().Resources).filter((id) => id.includes('Key'));
  };
  expect(keyIds((s) => new RealtimeWafGuard(s, 'Guard', { encryptionKey: kms.Key.fromKeyArn(s, 'Own', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab') }))).toEqual([]);
  expect(keyIds((s) => new RealtimeWafGuard(s, 'Guard', {
    existingStream: kinesis.Stream.fromStreamArn(s, 'Stream', 'arn:aws:kinesis:us-east-1:111111111111:stream/logs'),
    alertTopic: sns.Topic.fromTopicArn(s, 'Topic', 'arn:aws:sns:us-east-1:111111111111:alerts'),
  }))).toEqual([]);
  expect(keyIds((s) => reporting(s, 'Reports', undefined, new RealtimeWafGuard(s, 'Guard')))).toEqual([expect.stringMatching(/^GuardKey/)]);
});
