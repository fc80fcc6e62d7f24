import { App, Duration, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sns from 'aws-cdk-lib/aws-sns';
import { expectSynthError, newStack, synthGuard } from './construct-fixtures';
import { RealtimeWafGuard, RuleAction } from '../../src';

const rule = { host: 'shop.example.com', threshold: 100, window: Duration.minutes(1) };

describe('region', () => {
  test('a stack outside us-east-1 is refused, naming the region and the fix', () => {
    expectSynthError({}, /must be in us-east-1.*stack GuardStack is in eu-west-1.*env: \{ region: 'us-east-1' \}/,
      { env: { region: 'eu-west-1' } });
  });

  test('an environment-agnostic stack is refused with the fix', () => {
    expectSynthError({}, /needs a stack with an explicit region.*env: \{ region: 'us-east-1' \}/, {});
  });

  test('us-east-1 without an account is fine', () => {
    const stack = new Stack(new App(), 'NoAccount', { env: { region: 'us-east-1' } });
    expect(() => new RealtimeWafGuard(stack, 'Guard')).not.toThrow();
  });
});

describe('sampling and fields', () => {
  test.each([0, 101, 1.5, -5])('sampling rate %p is refused', (samplingRate) => {
    expectSynthError({ samplingRate }, /samplingRate must be a whole number from 1 to 100/);
  });

  test('sampling rate 1 and 100 are accepted', () => {
    expect(() => synthGuard({ samplingRate: 1 })).not.toThrow();
    expect(() => synthGuard({ samplingRate: 100 })).not.toThrow();
  });

  test('a threshold the sampling bound cannot judge fails, giving the lowest threshold and rate that work', () => {
    // at 1%, a threshold of 50 is half a logged request, and a block needs 7 logged requests in one window
    expectSynthError({ samplingRate: 1, rules: [{ ...rule, id: 'login', threshold: 50 }] },
      /rules\[0\] \("login"\): threshold 50 at samplingRate 1% is 0.5 logged requests per window, and keeping false blocks under 1 in 1,000 client-days takes 7 in one window, so even a client at 10 times the threshold would not be blocked within a window \(99%\): raise threshold to at least 249 or samplingRate to at least 5$/);
    expect(() => synthGuard({ samplingRate: 1, rules: [{ ...rule, threshold: 249 }] })).not.toThrow();
    expect(() => synthGuard({ samplingRate: 5, rules: [{ ...rule, threshold: 50 }] })).not.toThrow();
  });

  test('minLoggedRequests is deprecated: it no longer refuses a rule the bound accepts', () => {
    expect(() => synthGuard({ samplingRate: 10, minLoggedRequests: 50, rules: [rule] })).not.toThrow();
  });

  test('at 100% sampling nothing is estimated, so a low threshold is fine', () => {
    expect(synthGuard({ rules: [{ ...rule, threshold: 3 }] }).guard.alarms.length).toBeGreaterThan(0);
  });

  test.each([0, 1.5, 100_001])('minLoggedRequests %p is refused', (minLoggedRequests) => {
    expectSynthError({ minLoggedRequests }, /minLoggedRequests must be a whole number from 1 to 100000/);
  });

  test('an unknown log field is named', () => {
    expectSynthError({ additionalLogFields: ['sc-status', 'user-agent'] }, /Unknown CloudFront real-time log field\(s\): user-agent\./);
  });
});

describe('CIDRs', () => {
  test.each([
    ['allowList', { allowList: ['10.0.0.0/33'] }, /allowList\[0\]: "10.0.0.0\/33" has an invalid prefix length \(IPv4: 1 to 32\)/],
    ['allowList', { allowList: ['2001:db8::/129'] }, /allowList\[0\]: .* \(IPv6: 1 to 128\)/],
    ['allowList', { allowList: ['203.0.113.0/24', 'not-an-ip'] }, /allowList\[1\]: "not-an-ip" is not an IPv4 or IPv6 address or CIDR/],
    ['allowList', { allowList: ['300.1.1.1'] }, /is not an IPv4 or IPv6 address/],
    ['allowList', { allowList: ['0.0.0.0/0'] }, /allowList\[0\]: "0.0.0.0\/0" covers every address/],
    ['allowList', { allowList: ['::/0'] }, /covers every address/],
    ['trustedProxies', { trustedProxies: ['10.0.0.0/8/1'] }, /trustedProxies\[0\]: .* (is not an IPv4 or IPv6|invalid prefix)/],
    ['trustedProxies', { trustedProxies: ['0.0.0.0/0'] }, /trustedProxies\[0\]: .* covers every address/],
  ])('%s: bad entry %j', (_prop, props, message) => {
    expectSynthError(props, message);
  });
});

describe('ipv6PrefixLength', () => {
  test.each([32, 47, 129, 64.5])('%p is refused, naming the prop and the range', (ipv6PrefixLength) => {
    expectSynthError({ ipv6PrefixLength }, /ipv6PrefixLength must be a whole number from 48 to 128 \(got /);
  });

  test('the log processor counts per the configured prefix, /64 by default', () => {
    const env = (t: ReturnType<typeof synthGuard>['template']) => Object.values(t.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables ?? {})
      .find((v) => v.RULES_TABLE_NAME !== undefined && v.COUNTERS_TABLE_NAME !== undefined);
    expect(env(synthGuard().template).IPV6_PREFIX_LENGTH).toBe('64');
    expect(env(synthGuard({ ipv6PrefixLength: 56 }).template).IPV6_PREFIX_LENGTH).toBe('56');
  });
});

describe('conflicting resources', () => {
  test('existing stream and shard count together', () => {
    const stack = newStack();
    const stream = kinesis.Stream.fromStreamArn(stack, 'S', 'arn:aws:kinesis:us-east-1:111111111111:stream/logs');
    expect(() => new RealtimeWafGuard(stack, 'Guard', { existingStream: stream, shardCount: 2 }))
      .toThrow(/Give either existingStream or shardCount, not both/);
  });

  test('alert topic and alert emails together', () => {
    const stack = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'T', 'arn:aws:sns:us-east-1:111111111111:ops');
    expect(() => new RealtimeWafGuard(stack, 'Guard', { alertTopic: topic, alertEmails: ['a@example.com'] }))
      .toThrow(/Give either alertTopic or alertEmails, not both/);
  });

  test('managed rule groups without the guard\'s WebACL', () => {
    expectSynthError({ createWebAcl: false, managedRuleGroups: [{ name: 'AWSManagedRulesCommonRuleSet' }] },
      /managedRuleGroups need the guard's WebACL/);
  });
});

describe('numbers and durations', () => {
  test.each([
    ['shardCount 0', { shardCount: 0 }, /shardCount must be a whole number from 1/],
    ['batchSize 10001', { batchSize: 10_001 }, /batchSize must be a whole number from 1 to 10000/],
    ['maxBatchingWindow 6 min', { maxBatchingWindow: Duration.minutes(6) }, /maxBatchingWindow must be whole seconds from 0 s to 300 s \(got 360 s\)/],
    ['maxBatchingWindow 1.5 s', { maxBatchingWindow: Duration.millis(1500) }, /maxBatchingWindow must be whole seconds/],
    ['retryAttempts -1', { retryAttempts: -1 }, /retryAttempts must be a whole number from 0 to 10000/],
    ['maxRecordAge 30 s', { maxRecordAge: Duration.seconds(30) }, /maxRecordAge must be whole seconds from 60 s/],
    ['counterRetention 30 min', { counterRetention: Duration.minutes(30) }, /counterRetention must be whole seconds from 3600 s/],
    ['counterRetention shorter than maxRecordAge', { counterRetention: Duration.hours(2), maxRecordAge: Duration.hours(5) },
      /counterRetention must be whole seconds from 18000 s/],
    ['maxNewBlocksPerMinute 0', { maxNewBlocksPerMinute: 0 }, /maxNewBlocksPerMinute must be a whole number from 1/],
    ['logProcessorMemorySize 64', { logProcessorMemorySize: 64 }, /logProcessorMemorySize must be a whole number from 128/],
    ['historyRetention 36 h', { historyRetention: Duration.hours(36) }, /historyRetention must be whole days from 1 to 3650 \(got 1 day 12 hours\)/],
    ['rulesCacheDuration 2 h', { rulesCacheDuration: Duration.hours(2) }, /rulesCacheDuration must be whole seconds from 0 s to 3600 s/],
    ['metricsNamespace with a leading colon', { metricsNamespace: ':Waf' }, /metricsNamespace must be .*not starting with ":"/],
    ['metricsNamespace of 256', { metricsNamespace: 'N'.repeat(256) }, /metricsNamespace must be 1-255/],
    ['excluded rule with a space', { managedRuleGroups: [{ name: 'AWSManagedRulesCommonRuleSet', excludedRules: ['No User Agent'] }] },
      /managedRuleGroups\[0\].excludedRules\[0\] "No User Agent" must be a rule name of the group/],
    ['blank vendor', { managedRuleGroups: [{ name: 'BotControl', vendorName: ' ' }] }, /managedRuleGroups\[0\].vendorName must be the vendor/],
  ])('%s is refused', (_name, props, message) => {
    expectSynthError(props, message);
  });
});

describe('rules', () => {
  test('a window below 10 s names the rule and the range', () => {
    expectSynthError({ rules: [{ ...rule, window: Duration.seconds(5) }] },
      /rules\[0\]: rule "shop.example.com": window must be whole seconds from 10 s to 1 hour \(got 5 s\)/);
  });

  test('a rule id reserved for manual blocks fails at synth', () => {
    expectSynthError({ rules: [{ ...rule, id: '#manual' }] }, /rules\[0\]: rule "#manual": ruleId must not start with "#" .*rename the rule/);
  });

  test('duplicate rule ids', () => {
    expectSynthError({ rules: [rule, { ...rule, threshold: 50, action: RuleAction.COUNT }] },
      /rules\[1\]: rule id "shop.example.com" is used twice/);
  });

  test('a host with a scheme', () => {
    expectSynthError({ rules: [{ ...rule, host: 'https://shop.example.com' }] }, /rules\[0\].*must be a DNS name/);
  });

  test('a zero threshold', () => {
    expectSynthError({ rules: [{ ...rule, threshold: 0 }] }, /threshold must be a whole number of requests/);
  });
});

describe('WAF props', () => {
  test('a backstop limit below 10', () => {
    expectSynthError({ rateBasedBackstop: { limit: 5 } }, /rateBasedBackstop.limit must be a whole number from 10/);
  });

  test('a backstop window of 90 s', () => {
    expectSynthError({ rateBasedBackstop: { limit: 100, evaluationWindow: Duration.seconds(90) } },
      /evaluationWindow must be 60, 120, 300 or 600 seconds, as WAF allows \(got 90 s\)/);
  });

  test('a managed group listed twice', () => {
    expectSynthError({ managedRuleGroups: [{ name: 'AWSManagedRulesCommonRuleSet' }, { name: 'AWSManagedRulesCommonRuleSet', vendorName: 'AWS' }] },
      /managedRuleGroups\[1\]: AWS-AWSManagedRulesCommonRuleSet is listed twice/);
  });

  test('a managed group name with spaces', () => {
    expectSynthError({ managedRuleGroups: [{ name: 'Common Rule Set' }] }, /managedRuleGroups\[0\].name "Common Rule Set" must be a WAF rule group name/);
  });
});

describe('names and emails', () => {
  test('a guard name with dots', () => {
    expectSynthError({ guardName: 'shop.guard' }, /guardName "shop.guard" must be 1 to 64 letters, digits/);
  });

  test('a malformed email address', () => {
    expectSynthError({ alertEmails: ['ops@example.com', 'oncall'] }, /alertEmails\[1\] "oncall" does not look like an email address/);
  });

  test('a very long construct path still gives a valid guard name', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'G'.repeat(80));
    expect(guard.guardName).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
