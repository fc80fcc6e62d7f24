import { CfnResource, IAspect, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { IConstruct } from 'constructs';
import { renderedProperties, renderedValue } from '../shared/rendered-properties';

/**
 * Sets a real-time log config on the default and every additional cache behavior of one distribution.
 *
 * An aspect, because behaviors may be added after `attachTo()` (`distribution.addBehavior(...)`): aspects run after
 * all app code, when the behavior list is final. The L2 renders behaviors lazily and exposes no list, so the behaviors
 * are read from the rendered L1 (property overrides included) and each gets a property override by index. The same
 * works for an L1 distribution written by hand.
 *
 * A behavior that already delivers to another real-time log config (another team's consumer, or another guard) is
 * refused unless `replaceExisting`: a behavior has one config, and replacing it cuts that consumer off without a word.
 */
export class RealtimeLogAttachment implements IAspect {
  constructor(
    private readonly distribution: cloudfront.CfnDistribution,
    private readonly realtimeLogConfigArn: string,
    private readonly requireAliases: boolean,
    /** Set by a later `attachTo` of the same distribution that asks for it. */
    public replaceExisting: boolean,
  ) {}

  public visit(node: IConstruct): void {
    if (node !== this.distribution) return;
    const cfn = this.distribution;
    const arn = this.realtimeLogConfigArn;
    const config = (renderedProperties(cfn).DistributionConfig ?? {}) as {
      Aliases?: unknown[];
      DefaultCacheBehavior?: { RealtimeLogConfigArn?: unknown };
      CacheBehaviors?: Array<{ PathPattern?: unknown; RealtimeLogConfigArn?: unknown }>;
    };
    // Checked here, when the app has finished configuring the distribution.
    if (this.requireAliases && !(config.Aliases?.length)) {
      throw new Error(
        `${cfn.node.path} has no alternate domain names, so its *.cloudfront.net name is its only one, and the guard ` +
        'refuses requests to *.cloudfront.net names (blockCloudFrontDomain). Give the distribution its domainNames ' +
        '(aliases), or create the guard with blockCloudFrontDomain: false if it must answer on that name.',
      );
    }
    const behaviors = config.CacheBehaviors ?? [];
    if (!this.replaceExisting) this.refuseOtherConfigs(config.DefaultCacheBehavior, behaviors);
    cfn.addPropertyOverride('DistributionConfig.DefaultCacheBehavior.RealtimeLogConfigArn', arn);
    for (let index = 0; index < behaviors.length; index++) {
      cfn.addPropertyOverride(`DistributionConfig.CacheBehaviors.${index}.RealtimeLogConfigArn`, arn);
    }
  }

  private refuseOtherConfigs(
    defaultBehavior: { RealtimeLogConfigArn?: unknown } | undefined,
    behaviors: Array<{ PathPattern?: unknown; RealtimeLogConfigArn?: unknown }>,
  ): void {
    const ours = renderedValue(this.distribution, this.realtimeLogConfigArn);
    const taken = [
      { name: 'the default cache behavior', current: defaultBehavior?.RealtimeLogConfigArn },
      ...behaviors.map((b) => ({ name: `cache behavior "${String(b.PathPattern)}"`, current: b.RealtimeLogConfigArn })),
    ].filter((b) => b.current !== undefined && JSON.stringify(b.current) !== ours);
    if (taken.length === 0) return;
    throw new Error(
      `attachTo: ${this.distribution.node.path} already sends the real-time logs of ` +
      `${taken.map((b) => `${b.name} to ${describeConfig(this.distribution, b.current)}`).join(', ')}. A cache behavior has one real-time ` +
      'log config, and the guard\'s would replace it, cutting off that config\'s consumer. Either let that consumer read ' +
      'the guard\'s stream (guard.stream, with the fields it needs in additionalLogFields) and remove its config from ' +
      'the behavior, or replace it on purpose: guard.attachTo(distribution, { replaceExistingRealtimeLogConfig: true }).',
    );
  }
}

/**
 * Names a real-time log config for a message: a config of this app (a `Ref` or `Fn::GetAtt` of a resource of the
 * distribution's stack) by the path of the construct that made it, which the user can find in the code, else the value as written.
 */
function describeConfig(distribution: cloudfront.CfnDistribution, value: unknown): string {
  const ref = value as { 'Ref'?: unknown; 'Fn::GetAtt'?: unknown };
  const logicalId = typeof ref?.Ref === 'string' ? ref.Ref
    : Array.isArray(ref?.['Fn::GetAtt']) ? ref['Fn::GetAtt'][0] : undefined;
  if (typeof logicalId !== 'string') return JSON.stringify(value);
  const stack = Stack.of(distribution);
  const owner = stack.node.findAll().find((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack
    && stack.resolve((c as CfnResource).logicalId) === logicalId);
  if (!owner) return JSON.stringify(value);
  // The L2 the user wrote rather than its L1 `Resource`.
  const named = owner.node.scope?.node.defaultChild === owner ? owner.node.scope : owner;
  return `${named.node.path} (${JSON.stringify(value)})`;
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
