import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { newStack, synthGuard } from './construct-fixtures';
import { RealtimeWafGuard } from '../../src';

function webAclRules(template: Template): any[] {
  const acls = Object.values(template.findResources('AWS::WAFv2::WebACL'));
  expect(acls).toHaveLength(1);
  return acls[0].Properties.Rules;
}

function ipSetArn(template: Template, fragment: string): unknown {
  const id = Object.keys(template.findResources('AWS::WAFv2::IPSet')).find((key) => key.includes(fragment));
  return { 'Fn::GetAtt': [id, 'Arn'] };
}

describe('WebACL', () => {
  test('by default: CLOUDFRONT scope, allow by default, blocks both IP sets first, with metrics', () => {
    const { template, guard } = synthGuard({ guardName: 'edge' });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'edge', SampledRequestsEnabled: true },
    });
    expect(webAclRules(template)).toEqual([
      {
        Name: 'edge-BlockedIPv4',
        Priority: 0,
        Action: { Block: {} },
        Statement: { IPSetReferenceStatement: { Arn: ipSetArn(template, 'Ipv4Set') } },
        VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'edge-BlockedIPv4', SampledRequestsEnabled: true },
      },
      {
        Name: 'edge-BlockedIPv6',
        Priority: 1,
        Action: { Block: {} },
        Statement: { IPSetReferenceStatement: { Arn: ipSetArn(template, 'Ipv6Set') } },
        VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'edge-BlockedIPv6', SampledRequestsEnabled: true },
      },
      {
        Name: 'edge-CloudFrontDomain',
        Priority: 2,
        Action: { Block: {} },
        Statement: {
          RegexMatchStatement: {
            FieldToMatch: { SingleHeader: { Name: 'host' } },
            RegexString: '\\.cloudfront\\.net\\.?(:[0-9]+)?$',
            TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }],
          },
        },
        VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'edge-CloudFrontDomain', SampledRequestsEnabled: true },
      },
    ]);
    expect(guard.webAcl).toBeInstanceOf(wafv2.CfnWebACL);
  });

  test('the rate-based backstop follows the IP-set rules, 5 minute window by default', () => {
    const { template } = synthGuard({ guardName: 'edge', rateBasedBackstop: { limit: 2000 } });
    expect(webAclRules(template)[2]).toMatchObject({
      Name: 'edge-RateBackstop',
      Priority: 2,
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
    });
  });

  test('the backstop window can be 1, 2 or 10 minutes', () => {
    const { template } = synthGuard({ rateBasedBackstop: { limit: 10, evaluationWindow: Duration.minutes(1) } });
    expect(webAclRules(template)[2].Statement.RateBasedStatement).toEqual({ Limit: 10, AggregateKeyType: 'IP', EvaluationWindowSec: 60 });
  });

  test('managed rule groups come last, let the group act (override none), and count their excluded rules', () => {
    const { template } = synthGuard({
      guardName: 'edge',
      rateBasedBackstop: { limit: 1000 },
      managedRuleGroups: [
        { name: 'AWSManagedRulesCommonRuleSet', excludedRules: ['SizeRestrictions_BODY', 'NoUserAgent_HEADER'] },
        { name: 'AWSManagedRulesAmazonIpReputationList', vendorName: 'AWS' },
      ],
    });
    const rules = webAclRules(template);
    expect(rules.map((r) => [r.Name, r.Priority])).toEqual([
      ['edge-BlockedIPv4', 0], ['edge-BlockedIPv6', 1], ['edge-RateBackstop', 2], ['edge-CloudFrontDomain', 3],
      ['AWS-AWSManagedRulesCommonRuleSet', 4], ['AWS-AWSManagedRulesAmazonIpReputationList', 5],
    ]);
    expect(rules[4]).toMatchObject({
      OverrideAction: { None: {} },
      Statement: {
        ManagedRuleGroupStatement: {
          VendorName: 'AWS',
          Name: 'AWSManagedRulesCommonRuleSet',
          RuleActionOverrides: [
            { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
            { Name: 'NoUserAgent_HEADER', ActionToUse: { Count: {} } },
          ],
        },
      },
    });
    expect(rules[4].Action).toBeUndefined();
    expect(rules[5].Statement.ManagedRuleGroupStatement.RuleActionOverrides).toBeUndefined();
  });
});

describe('createWebAcl: false', () => {
  test('creates no WebACL but keeps the IP sets, and blockRules() gives ready rules for the user\'s WebACL', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false, guardName: 'edge', rateBasedBackstop: { limit: 500 } });
    new wafv2.CfnWebACL(stack, 'MyAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'mine', sampledRequestsEnabled: true },
      rules: guard.blockRules(10),
    });
    expect(guard.webAcl).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.resourceCountIs('AWS::WAFv2::IPSet', 2);
    const rules = webAclRules(template);
    expect(rules.map((r) => [r.Name, r.Priority])).toEqual([
      ['edge-BlockedIPv4', 10], ['edge-BlockedIPv6', 11], ['edge-RateBackstop', 12], ['edge-CloudFrontDomain', 13],
    ]);
    expect(rules[0].Statement.IPSetReferenceStatement.Arn).toEqual(ipSetArn(template, 'Ipv4Set'));
    expect(rules[1].Statement.IPSetReferenceStatement.Arn).toEqual(ipSetArn(template, 'Ipv6Set'));
  });

  test('blockRules rejects a negative or fractional priority', () => {
    const { guard } = synthGuard({ createWebAcl: false });
    expect(() => guard.blockRules(-1)).toThrow(/firstPriority must be a whole number/);
    expect(() => guard.blockRules(1.5)).toThrow(/firstPriority must be a whole number/);
  });
});
