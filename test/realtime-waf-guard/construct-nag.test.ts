import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { nagFindings, newDistribution, newStack } from './construct-fixtures';
import { RealtimeWafGuard, RuleAction } from '../../src';

describe('cdk-nag AwsSolutionsChecks', () => {
  test('a fully featured guard has no unsuppressed finding', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard', {
      rules: [
        { host: 'shop.example.com', pathPrefix: '/login', threshold: 50, window: Duration.minutes(1) },
        { host: '*.example.com', threshold: 5000, window: Duration.minutes(5), action: RuleAction.COUNT },
      ],
      shardCount: 2,
      additionalLogFields: ['sc-status', 'cs-user-agent'],
      allowList: ['203.0.113.0/24'],
      trustedProxies: ['198.51.100.0/24'],
      alertEmails: ['oncall@example.com'],
      rateBasedBackstop: { limit: 2000 },
      managedRuleGroups: [{ name: 'AWSManagedRulesCommonRuleSet' }],
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('a guard with an existing stream, key and topic and no WebACL has no unsuppressed finding', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const topic = new sns.Topic(stack, 'Topic', { masterKey: key, enforceSSL: true });
    new RealtimeWafGuard(stack, 'Guard', { existingStream: stream, encryptionKey: key, alertTopic: topic, createWebAcl: false });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the check does report findings: a bare distribution next to the guard is flagged', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard').attachTo(newDistribution(stack));
    const findings = nagFindings(stack);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.includes('/Distribution/') && /AwsSolutions-CFR\d/.test(f))).toBe(true);
  });

  test('every shipped suppression carries a reason', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard');
    const resources = Object.values(Template.fromStack(stack).toJSON().Resources) as Array<{ Metadata?: any }>;
    const suppressions: Array<{ id: string; reason: string }> = resources
      .flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(suppressions.map((s) => s.id).sort()).toEqual([
      'AwsSolutions-DDB3', 'AwsSolutions-IAM5', 'AwsSolutions-KDS3',
      'AwsSolutions-L1', 'AwsSolutions-L1', 'AwsSolutions-L1', 'AwsSolutions-L1', 'AwsSolutions-SQS3',
    ]);
    for (const s of suppressions) expect(s.reason.length).toBeGreaterThan(40);
  });
});
