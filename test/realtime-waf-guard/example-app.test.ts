import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { nagFindings } from './construct-fixtures';
import { buildExampleStack } from '../../examples/realtime-waf-guard/app';

describe('example app', () => {
  test('synthesizes in us-east-1 with the guard attached to every behavior of the distribution', () => {
    const stack = buildExampleStack(new App());
    expect(stack.region).toBe('us-east-1');
    const template = Template.fromStack(stack);
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    const config = distribution.Properties.DistributionConfig;
    const logConfigId = Object.keys(template.findResources('AWS::CloudFront::RealtimeLogConfig'))[0];
    const webAclId = Object.keys(template.findResources('AWS::WAFv2::WebACL'))[0];
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual({ 'Fn::GetAtt': [logConfigId, 'Arn'] });
    expect(config.CacheBehaviors).toHaveLength(1);
    expect(config.CacheBehaviors[0].RealtimeLogConfigArn).toEqual({ 'Fn::GetAtt': [logConfigId, 'Arn'] });
    expect(config.WebACLId).toEqual({ 'Fn::GetAtt': [webAclId, 'Arn'] });
  });

  test('seeds three rules, one of them in COUNT mode, and subscribes the alert address', () => {
    const template = Template.fromStack(buildExampleStack(new App()));
    const [seed] = Object.values(template.findResources('Custom::WafGuardRules'));
    const rules = JSON.parse(seed.Properties.RulesJson) as Array<{ ruleId: string; action: string }>;
    expect(rules.map((r) => [r.ruleId, r.action])).toEqual([
      ['www.example.com/login', 'BLOCK'],
      ['api.example.com', 'BLOCK'],
      ['all-subdomains-dry-run', 'COUNT'],
    ]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'security@example.com' });
  });

  test('has no unsuppressed cdk-nag AwsSolutions finding', () => {
    expect(nagFindings(buildExampleStack(new App()))).toEqual([]);
  });
});
