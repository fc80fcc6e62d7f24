import { IAspect, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { IConstruct } from 'constructs';

/**
 * Sets a real-time log config on the default and every additional cache behavior of one distribution.
 *
 * An aspect, because behaviors may be added after `attachTo()` (`distribution.addBehavior(...)`): aspects run after
 * all app code, when the behavior list is final. The L2 renders behaviors lazily and exposes no list, so the count is
 * read from the resolved L1 config and each behavior gets a property override by index. The same works for an L1
 * distribution written by hand.
 */
export class RealtimeLogAttachment implements IAspect {
  constructor(
    private readonly distribution: cloudfront.CfnDistribution,
    private readonly realtimeLogConfigArn: string,
    private readonly requireAliases: boolean,
  ) {}

  public visit(node: IConstruct): void {
    if (node !== this.distribution) return;
    const cfn = this.distribution;
    const arn = this.realtimeLogConfigArn;
    const config = Stack.of(cfn).resolve(cfn.distributionConfig) as { cacheBehaviors?: unknown[]; aliases?: unknown[] } | undefined;
    // Checked here, when the app has finished configuring the distribution.
    if (this.requireAliases && !(config?.aliases?.length)) {
      throw new Error(
        `${cfn.node.path} has no alternate domain names, so its *.cloudfront.net name is its only one, and the guard ` +
        'refuses requests to *.cloudfront.net names (blockCloudFrontDomain). Give the distribution its domainNames ' +
        '(aliases), or create the guard with blockCloudFrontDomain: false if it must answer on that name.',
      );
    }
    cfn.addPropertyOverride('DistributionConfig.DefaultCacheBehavior.RealtimeLogConfigArn', arn);
    const count = config?.cacheBehaviors?.length ?? 0;
    for (let index = 0; index < count; index++) {
      cfn.addPropertyOverride(`DistributionConfig.CacheBehaviors.${index}.RealtimeLogConfigArn`, arn);
    }
  }
}

/**
 * Sets the WebACL of a distribution at once, so that checks reading the distribution's properties (cdk-nag's CFR2) see
 * it: through the L2's own method when there is one, else on the L1 config. Another WebACL already set is an error.
 */
export function attachWebAcl(scope: IConstruct, cfn: cloudfront.CfnDistribution, webAclArn: string): void {
  const refuse = (detail: string) => new Error(
    `${scope.node.path} already has a WebACL (${detail}). A distribution has one WebACL: create the guard with ` +
    'createWebAcl: false and add guard.blockRules(priority) to that WebACL instead.');
  if (cfn !== scope && typeof (scope as Partial<cloudfront.Distribution>).attachWebAclId === 'function') {
    try {
      (scope as cloudfront.Distribution).attachWebAclId(webAclArn);
    } catch (error) {
      throw refuse((error as Error).message);
    }
    return;
  }
  const config = cfn.distributionConfig;
  const resolved = Stack.of(cfn).resolve(config) as { webAclId?: unknown } | undefined;
  if (resolved?.webAclId !== undefined) throw refuse(JSON.stringify(resolved.webAclId));
  if (Token.isUnresolved(config)) {
    cfn.addPropertyOverride('DistributionConfig.WebACLId', webAclArn);
  } else {
    cfn.distributionConfig = { ...(config as cloudfront.CfnDistribution.DistributionConfigProperty), webAclId: webAclArn };
  }
}
