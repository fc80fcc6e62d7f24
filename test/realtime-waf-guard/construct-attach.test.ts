import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { newDistribution, newStack, testCertificate } from './construct-fixtures';
import { RealtimeWafGuard } from '../../src';

function distributionConfig(stack: Stack, fragment = 'Distribution'): any {
  const distributions = Template.fromStack(stack).findResources('AWS::CloudFront::Distribution');
  const id = Object.keys(distributions).find((key) => key.startsWith(fragment))!;
  return distributions[id].Properties.DistributionConfig;
}

function logConfigArn(stack: Stack): unknown {
  const id = Object.keys(Template.fromStack(stack).findResources('AWS::CloudFront::RealtimeLogConfig'))[0];
  return { 'Fn::GetAtt': [id, 'Arn'] };
}

describe('attachTo', () => {
  test('sets the real-time log config on the default and every additional behavior, and the WebACL', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    const distribution = newDistribution(stack);
    distribution.addBehavior('/static/*', new origins.HttpOrigin('static.example.com'));
    guard.attachTo(distribution);

    const config = distributionConfig(stack);
    const arn = logConfigArn(stack);
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(arn);
    expect(config.CacheBehaviors.map((b: any) => [b.PathPattern, b.RealtimeLogConfigArn])).toEqual([
      ['/api/*', arn],
      ['/static/*', arn],
    ]);
    const webAclId = Object.keys(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'))[0];
    expect(config.WebACLId).toEqual({ 'Fn::GetAtt': [webAclId, 'Arn'] });
  });

  test('behaviors added after attachTo are covered too, and their other settings are kept', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    const distribution = newDistribution(stack);
    guard.attachTo(distribution);
    distribution.addBehavior('/late/*', new origins.HttpOrigin('late.example.com'), {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
    });

    const behaviors = distributionConfig(stack).CacheBehaviors;
    expect(behaviors).toHaveLength(2);
    expect(behaviors[1]).toMatchObject({
      PathPattern: '/late/*',
      ViewerProtocolPolicy: 'redirect-to-https',
      RealtimeLogConfigArn: logConfigArn(stack),
    });
    expect(behaviors.every((b: any) => typeof b.TargetOriginId === 'string')).toBe(true);
  });

  test('a distribution with only a default behavior gets no CacheBehaviors list', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', {
      domainNames: ['www.example.com'],
      certificate: testCertificate(stack),
      defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
    });
    guard.attachTo(distribution);
    const config = distributionConfig(stack);
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(stack));
    expect(config.CacheBehaviors).toBeUndefined();
  });

  test('one guard serves several distributions', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    guard.attachTo(newDistribution(stack, 'DistributionA'));
    guard.attachTo(newDistribution(stack, 'DistributionB'));
    for (const fragment of ['DistributionA', 'DistributionB']) {
      const config = distributionConfig(stack, fragment);
      expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(stack));
      expect(config.CacheBehaviors[0].RealtimeLogConfigArn).toEqual(logConfigArn(stack));
      expect(config.WebACLId).toBeDefined();
    }
  });

  test('without its own WebACL the guard leaves the distribution\'s WebACL alone', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false });
    const distribution = new cloudfront.Distribution(stack, 'Distribution', {
      domainNames: ['www.example.com'],
      certificate: testCertificate(stack),
      defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
      webAclId: 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/mine/abc',
    });
    guard.attachTo(distribution);
    const config = distributionConfig(stack);
    expect(config.WebACLId).toBe('arn:aws:wafv2:us-east-1:111111111111:global/webacl/mine/abc');
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(stack));
  });

  test.each([true, false])('attaching the same distribution twice is a no-op (createWebAcl: %s)', (createWebAcl) => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl });
    const distribution = newDistribution(stack);
    guard.attachTo(distribution);
    guard.attachTo(distribution);
    guard.attachTo(distribution.node.defaultChild as cloudfront.CfnDistribution);
    const config = distributionConfig(stack);
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(stack));
    const webAcls = Object.keys(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'));
    expect(config.WebACLId).toEqual(createWebAcl ? { 'Fn::GetAtt': [webAcls[0], 'Arn'] } : undefined);
  });

  test('a distribution that already has a WebACL is refused with a way out', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', {
      domainNames: ['www.example.com'],
      certificate: testCertificate(stack),
      defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
      webAclId: 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/mine/abc',
    });
    expect(() => guard.attachTo(distribution)).toThrow(/already has a WebACL.*createWebAcl: false.*blockRules/);
  });

  test('an L1 CfnDistribution gets the log config on every behavior and the WebACL', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    const behavior = { targetOriginId: 'origin', viewerProtocolPolicy: 'redirect-to-https', cachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6' };
    const cfn = new cloudfront.CfnDistribution(stack, 'Distribution', {
      distributionConfig: {
        enabled: true,
        aliases: ['www.example.com'],
        origins: [{ id: 'origin', domainName: 'origin.example.com', customOriginConfig: { originProtocolPolicy: 'https-only' } }],
        defaultCacheBehavior: behavior,
        cacheBehaviors: [{ ...behavior, pathPattern: '/a/*' }, { ...behavior, pathPattern: '/b/*' }],
      },
    });
    guard.attachTo(cfn);
    const config = distributionConfig(stack);
    const arn = logConfigArn(stack);
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(arn);
    expect(config.CacheBehaviors.map((b: any) => [b.PathPattern, b.RealtimeLogConfigArn])).toEqual([['/a/*', arn], ['/b/*', arn]]);
    const webAclId = Object.keys(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'))[0];
    expect(config.WebACLId).toEqual({ 'Fn::GetAtt': [webAclId, 'Arn'] });
  });

  test('an L1 CfnDistribution with another WebACL is refused', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    const cfn = new cloudfront.CfnDistribution(stack, 'Distribution', {
      distributionConfig: {
        enabled: true,
        webAclId: 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/mine/abc',
        defaultCacheBehavior: { targetOriginId: 'o', viewerProtocolPolicy: 'allow-all' },
      },
    });
    expect(() => guard.attachTo(cfn)).toThrow(/Distribution already has a WebACL.*webacl\/mine.*createWebAcl: false.*blockRules/);
  });

  test('an imported distribution fails at synth naming the two settings to make by hand', () => {
    const stack = newStack();
    const imported = cloudfront.Distribution.fromDistributionAttributes(stack, 'Imported', {
      distributionId: 'E1ABCDEF', domainName: 'd111111abcdef8.cloudfront.net',
    });
    expect(() => new RealtimeWafGuard(stack, 'Guard').attachTo(imported))
      .toThrow(/Imported is not a distribution this stack defines.*RealtimeLogConfigArn of every cache behavior.*WebACLId = guard\.webAcl\.attrArn/);
    expect(() => new RealtimeWafGuard(stack, 'NoAcl', { createWebAcl: false }).attachTo(imported))
      .toThrow(/RealtimeLogConfigArn of every cache behavior = guard\.realtimeLogConfig\.realtimeLogConfigArn\.$/);
  });

  test('with createWebAcl: false the log config is still set, and no WebACL', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { createWebAcl: false });
    guard.attachTo(newDistribution(stack));
    const config = distributionConfig(stack);
    expect(config.DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(stack));
    expect(config.CacheBehaviors[0].RealtimeLogConfigArn).toEqual(logConfigArn(stack));
    expect(config.WebACLId).toBeUndefined();
  });

  test('a distribution without alternate domain names fails at synth while the default domain is refused', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard');
    guard.attachTo(new cloudfront.Distribution(stack, 'Bare', { defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') } }));
    expect(() => Template.fromStack(stack))
      .toThrow(/Bare\/Resource has no alternate domain names.*Give the distribution its domainNames.*blockCloudFrontDomain: false/);
  });

  test('with blockCloudFrontDomain: false such a distribution is guarded and the WebACL has no default-domain rule', () => {
    const stack = newStack();
    const guard = new RealtimeWafGuard(stack, 'Guard', { blockCloudFrontDomain: false, guardName: 'edge' });
    guard.attachTo(new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') } }));
    expect(distributionConfig(stack).DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(stack));
    const [acl] = Object.values(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'));
    expect(acl.Properties.Rules.map((r: any) => r.Name)).toEqual(['edge-BlockedIPv4', 'edge-BlockedIPv6']);
  });

  describe('a behavior that already has a real-time log config', () => {
    /** Another team's real-time log config, delivering to its own stream. */
    function otherConfig(stack: Stack): cloudfront.RealtimeLogConfig {
      return new cloudfront.RealtimeLogConfig(stack, 'OtherTeamConfig', {
        endPoints: [cloudfront.Endpoint.fromKinesisStream(new kinesis.Stream(stack, 'OtherTeamStream'))],
        fields: ['timestamp', 'c-ip'],
        samplingRate: 100,
      });
    }

    test('is refused at synth, naming the behavior by its path pattern and both ways out', () => {
      const stack = newStack();
      const guard = new RealtimeWafGuard(stack, 'Guard');
      const distribution = newDistribution(stack);
      distribution.addBehavior('/reports/*', new origins.HttpOrigin('reports.example.com'), { realtimeLogConfig: otherConfig(stack) });
      guard.attachTo(distribution);
      expect(() => Template.fromStack(stack)).toThrow(new RegExp(
        'attachTo: GuardStack/Distribution/Resource already sends the real-time logs of cache behavior "/reports/\\*" to ' +
        'GuardStack/OtherTeamConfig \\(\\{"Fn::GetAtt":\\["OtherTeamConfig.*guard\\.stream.*additionalLogFields.*' +
        'guard\\.attachTo\\(distribution, \\{ replaceExistingRealtimeLogConfig: true \\}\\)'));
    });

    test('set on the default behavior by a property override of the L1 is seen too', () => {
      const stack = newStack();
      const guard = new RealtimeWafGuard(stack, 'Guard');
      const distribution = newDistribution(stack);
      (distribution.node.defaultChild as cloudfront.CfnDistribution).addPropertyOverride(
        'DistributionConfig.DefaultCacheBehavior.RealtimeLogConfigArn', 'arn:aws:cloudfront::111111111111:realtime-log-config/other-team');
      guard.attachTo(distribution);
      expect(() => Template.fromStack(stack))
        .toThrow(/already sends the real-time logs of the default cache behavior to "arn:aws:cloudfront::111111111111:realtime-log-config\/other-team"\./);
    });

    test('a second guard on the same distribution is refused: the first one\'s logs would stop', () => {
      const stack = newStack();
      const first = new RealtimeWafGuard(stack, 'First', { createWebAcl: false });
      const second = new RealtimeWafGuard(stack, 'Second', { createWebAcl: false });
      const distribution = newDistribution(stack);
      first.attachTo(distribution);
      second.attachTo(distribution);
      expect(() => Template.fromStack(stack)).toThrow(/already sends the real-time logs of the default cache behavior to GuardStack\/First\/[^ ]*RealtimeLogConfig[^ ]* \(\{"Fn::GetAtt":\["FirstDetection/);
    });

    test('given as a Ref to a config of the app, is named by its construct path', () => {
      const stack = newStack();
      const guard = new RealtimeWafGuard(stack, 'Guard');
      const team = otherConfig(stack);
      const distribution = newDistribution(stack);
      (distribution.node.defaultChild as cloudfront.CfnDistribution).addPropertyOverride(
        'DistributionConfig.DefaultCacheBehavior.RealtimeLogConfigArn', { Ref: stack.getLogicalId(team.node.defaultChild as cloudfront.CfnRealtimeLogConfig) });
      guard.attachTo(distribution);
      expect(() => Template.fromStack(stack))
        .toThrow(/already sends the real-time logs of the default cache behavior to GuardStack\/OtherTeamConfig \(\{"Ref":"OtherTeamConfig[0-9A-F]{8}"\}\)\./);
    });

    test('is replaced with replaceExistingRealtimeLogConfig, and attaching one guard twice is no clash', () => {
      const stack = newStack();
      const guard = new RealtimeWafGuard(stack, 'Guard');
      const distribution = newDistribution(stack);
      distribution.addBehavior('/reports/*', new origins.HttpOrigin('reports.example.com'), { realtimeLogConfig: otherConfig(stack) });
      guard.attachTo(distribution, { replaceExistingRealtimeLogConfig: true });
      const arn = logConfigArn(stack);
      const config = distributionConfig(stack);
      expect(config.CacheBehaviors.map((b: any) => [b.PathPattern, b.RealtimeLogConfigArn])).toEqual([['/api/*', arn], ['/reports/*', arn]]);

      const again = newStack();
      const twice = new RealtimeWafGuard(again, 'Guard', { createWebAcl: false });
      const target = newDistribution(again);
      twice.attachTo(target);
      twice.attachTo(target);
      expect(distributionConfig(again).DefaultCacheBehavior.RealtimeLogConfigArn).toEqual(logConfigArn(again));
    });
  });
});

describe('the default-domain rule, as WAF evaluates it', () => {
  // WAF applies the text transformation, then the regex, to the Host header (HTTP/2 :authority included).
  const rule = new RealtimeWafGuard(newStack(), 'Guard').blockRules(0).find((r) => r.name.endsWith('-CloudFrontDomain'))!;
  const statement = (rule.statement as any).regexMatchStatement;
  const matches = (host: string) => {
    const transformed = statement.textTransformations[0].type === 'LOWERCASE' ? host.toLowerCase() : host;
    return new RegExp(statement.regexString).test(transformed);
  };

  test.each([
    'd111111abcdef8.cloudfront.net', 'D111111ABCDEF8.CloudFront.NET', 'd111111abcdef8.cloudfront.net.', 'd111111abcdef8.cloudfront.net:443',
  ])('blocks %s', (host) => expect(matches(host)).toBe(true));

  test.each([
    'www.example.com', 'cloudfront.net.example.com', 'api.evilcloudfront.net', 'www.example.com:443',
  ])('lets %s through', (host) => expect(matches(host)).toBe(false));
});
