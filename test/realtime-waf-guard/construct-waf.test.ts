import { Annotations as CoreAnnotations, App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { newStack, synthGuard, US_EAST_1 } from './construct-fixtures';
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

describe('createWebAcl: false, when no WebACL of the app reads the guard\'s sets', () => {
  const UNREAD = /^createWebAcl is false and no WebACL or rule group of this app reads the guard's (.*): the guard detects clients and fills those IP sets, but no request is blocked\. Add guard\.blockRules\(priority\)/;
  const visibilityConfig = { cloudWatchMetricsEnabled: true, metricName: 'mine', sampledRequestsEnabled: true };
  const unreadWarnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(UNREAD.source))
    .map((w) => [w.id, UNREAD.exec(String(w.entry.data))![1]]);

  test('warns at synth, on the guard\'s enforcement part, naming the sets and what to add', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false });
    new wafv2.CfnWebACL(stack, 'UnrelatedAcl', { scope: 'CLOUDFRONT', defaultAction: { allow: {} }, visibilityConfig, rules: [] });
    expect(unreadWarnings(stack)).toEqual([['/GuardStack/Guard/Enforcement', 'IPv4 set (ipv4Set), IPv6 set (ipv6Set)']]);
  });

  test('names a set left out by hand, and the forwarded sets with trusted proxies', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false, trustedProxies: ['198.51.100.0/24'] });
    new wafv2.CfnWebACL(stack, 'MyAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig,
      rules: guard.blockRules(0).filter((r) => r.name.endsWith('-BlockedIPv4')),
    });
    expect(unreadWarnings(stack)).toEqual([['/GuardStack/Guard/Enforcement',
      'IPv6 set (ipv6Set), forwarded IPv4 set (forwardedIpv4Set), forwarded IPv6 set (forwardedIpv6Set)']]);
  });

  test('no warning when blockRules() is in a WebACL of another stack, or the sets are read by ARN in a rule group', () => {
    const app = new App();
    const edge = new Stack(app, 'Edge', US_EAST_1);
    const guard = new RealtimeWafGuard(edge, 'Guard', { createWebAcl: false });
    const waf = new Stack(app, 'Waf', US_EAST_1);
    new wafv2.CfnWebACL(waf, 'TeamAcl', { scope: 'CLOUDFRONT', defaultAction: { allow: {} }, visibilityConfig, rules: guard.blockRules(100) });
    expect(unreadWarnings(edge)).toEqual([]);

    const stack = newStack();
    const byHand = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false });
    new wafv2.CfnRuleGroup(stack, 'Group', {
      scope: 'CLOUDFRONT',
      capacity: 10,
      visibilityConfig,
      rules: [byHand.ipv4Set, byHand.ipv6Set].map((set, i) => ({
        name: `mine-${i}`, priority: i, action: { block: {} }, visibilityConfig, statement: { ipSetReferenceStatement: { arn: set.attrArn } },
      })),
    });
    expect(unreadWarnings(stack)).toEqual([]);
  });

  test('acknowledged by its id when the WebACL is outside the app; never with the guard\'s own WebACL', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false });
    CoreAnnotations.of(guard).acknowledgeWarning('cdk-waf-guard:ipSetsInNoWebAcl', 'our WebACL is in the network team\'s app');
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(unreadWarnings(synthGuard().stack)).toEqual([]);
  });
});

describe('priorities of a WebACL holding the guard\'s rules', () => {
  const visibilityConfig = { cloudWatchMetricsEnabled: true, metricName: 'mine', sampledRequestsEnabled: true };
  const ownRule = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
    name, priority, action: { block: {} }, visibilityConfig, statement: { geoMatchStatement: { countryCodes: ['KP'] } },
  });

  test('blockRules() takes three priorities by default, the default-domain rule included', () => {
    const { guard } = synthGuard({ createWebAcl: false, guardName: 'edge' });
    expect(guard.blockRules(5).map((r) => [r.name, r.priority])).toEqual([
      ['edge-BlockedIPv4', 5], ['edge-BlockedIPv6', 6], ['edge-CloudFrontDomain', 7],
    ]);
  });

  test('a clash with the team\'s own rule fails at synth, naming both rules, the range and a free first priority', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false, guardName: 'edge' });
    new wafv2.CfnWebACL(stack, 'TeamAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig,
      rules: [ownRule('team-geo', 0), ownRule('team-bots', 2), ...guard.blockRules(1)],
    });
    expect(() => Template.fromStack(stack)).toThrow(
      'WebACL GuardStack/TeamAcl: rules "team-bots" and "edge-BlockedIPv6" both have priority 2, and WAF refuses a WebACL ' +
      'whose rules share a priority (at deploy). guard.blockRules(firstPriority) takes 3 consecutive priorities, here 1 to 3: ' +
      'pass a firstPriority whose 3 priorities no other rule uses (e.g. 3, after your rules), or move your rule to a priority outside them.');
  });

  test('a clash added by a property override, or in the guard\'s own WebACL, is found too', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { guardName: 'edge' });
    guard.webAcl!.addPropertyOverride('Rules.3', {
      Name: 'team-extra',
      Priority: 0,
      Action: { Block: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'x', SampledRequestsEnabled: true },
      Statement: { GeoMatchStatement: { CountryCodes: ['XX'] } },
    });
    expect(() => Template.fromStack(stack)).toThrow(/^WebACL GuardStack\/Guard\/Enforcement\/WebAcl: rules "edge-BlockedIPv4" and "team-extra" both have priority 0/);
  });

  test('distinct priorities synthesize without a warning', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false, guardName: 'edge' });
    new wafv2.CfnWebACL(stack, 'TeamAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig,
      rules: [ownRule('team-geo', 0), ownRule('team-bots', 1), ...guard.blockRules(2)],
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('trusted proxies', () => {
  const setId = (template: Template, name: string) => Object.keys(template.findResources('AWS::WAFv2::IPSet')).find((k) => k.includes(name))!;

  test('proxied clients have forwarded sets, matched on the last X-Forwarded-For address only from the proxies', () => {
    const { template, guard } = synthGuard({ guardName: 'edge', trustedProxies: ['10.0.0.0/8', '2001:db8:ffff::/48'], rateBasedBackstop: { limit: 100 } });
    expect(Object.keys(template.findResources('AWS::WAFv2::IPSet')).sort().map((k) => k.replace(/^GuardEnforcement|[0-9A-F]{8}$/g, ''))).toEqual([
      'ForwardedIpv4Set', 'ForwardedIpv6Set', 'Ipv4Set', 'Ipv6Set', 'TrustedProxiesIpv4Set', 'TrustedProxiesIpv6Set',
    ]);
    template.hasResourceProperties('AWS::WAFv2::IPSet', { IPAddressVersion: 'IPV4', Addresses: ['10.0.0.0/8'] });
    template.hasResourceProperties('AWS::WAFv2::IPSet', { IPAddressVersion: 'IPV6', Addresses: ['2001:db8:ffff::/48'] });
    const fromProxies = {
      OrStatement: {
        Statements: [
          { IPSetReferenceStatement: { Arn: ipSetArn(template, 'TrustedProxiesIpv4Set') } },
          { IPSetReferenceStatement: { Arn: ipSetArn(template, 'TrustedProxiesIpv6Set') } },
        ],
      },
    };
    const forwarded = (fragment: string) => ({
      AndStatement: {
        Statements: [fromProxies, {
          IPSetReferenceStatement: {
            Arn: ipSetArn(template, fragment),
            IPSetForwardedIPConfig: { HeaderName: 'X-Forwarded-For', Position: 'LAST', FallbackBehavior: 'NO_MATCH' },
          },
        }],
      },
    });
    const rules = webAclRules(template);
    expect(rules.map((r) => [r.Name, r.Priority])).toEqual([
      ['edge-BlockedIPv4', 0], ['edge-BlockedIPv6', 1], ['edge-BlockedForwardedIPv4', 2], ['edge-BlockedForwardedIPv6', 3], ['edge-RateBackstop', 4],
      ['edge-CloudFrontDomain', 5],
    ]);
    expect(rules[2].Statement).toEqual(forwarded('ForwardedIpv4Set'));
    expect(rules[3].Statement).toEqual(forwarded('ForwardedIpv6Set'));
    expect(rules[2].Action).toEqual({ Block: {} });
    expect(guard.blockRules(7).map((r) => [r.name, r.priority]).slice(0, 5)).toEqual([
      ['edge-BlockedIPv4', 7], ['edge-BlockedIPv6', 8], ['edge-BlockedForwardedIPv4', 9], ['edge-BlockedForwardedIPv6', 10], ['edge-RateBackstop', 11],
    ]);
    expect(guard.forwardedIpv4Set).toBeInstanceOf(wafv2.CfnIPSet);
    expect(guard.trustedProxySets).toHaveLength(2);
  });

  test('the sync writes exactly the four sets it owns, never the proxies\' set, and knows them from its environment', () => {
    const { template } = synthGuard({ trustedProxies: ['10.0.0.0/8'] });
    const arn = (name: string) => ({ 'Fn::GetAtt': [setId(template, name), 'Arn'] });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const wafStatements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => JSON.stringify(s.Action).includes('wafv2:'));
    expect(wafStatements).toEqual([{
      Effect: 'Allow',
      Action: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'],
      Resource: [arn('GuardEnforcementIpv4Set'), arn('GuardEnforcementIpv6Set'), arn('ForwardedIpv4Set'), arn('ForwardedIpv6Set')],
    }]);
    const env = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment?.Variables ?? {})
      .find((v) => v.IPV4_SET_ID !== undefined)!;
    expect(env.FORWARDED_IPV4_SET_ID).toEqual({ 'Fn::GetAtt': [setId(template, 'ForwardedIpv4Set'), 'Id'] });
    expect(env.FORWARDED_IPV6_SET_ID).toEqual({ 'Fn::GetAtt': [setId(template, 'ForwardedIpv6Set'), 'Id'] });
    // only IPv4 proxies: one trusted set, referenced alone (an OR needs two statements)
    const rule = webAclRules(template).find((r) => r.Name.endsWith('BlockedForwardedIPv4'));
    expect(rule.Statement.AndStatement.Statements[0]).toEqual({ IPSetReferenceStatement: { Arn: arn('TrustedProxiesIpv4Set') } });
  });

  test('without trusted proxies there are no forwarded sets or rules', () => {
    const { template, guard } = synthGuard();
    expect(Object.keys(template.findResources('AWS::WAFv2::IPSet'))).toHaveLength(2);
    expect(webAclRules(template).map((r) => r.Name)).not.toContainEqual(expect.stringContaining('Forwarded'));
    expect([guard.forwardedIpv4Set, guard.forwardedIpv6Set, guard.trustedProxySets]).toEqual([undefined, undefined, []]);
  });
});
