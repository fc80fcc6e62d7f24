import { IAspect, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { IConstruct } from 'constructs';

/**
 * Sets a real-time log config on the default and every additional cache behavior of one distribution.
 *
 * An aspect, because behaviors may be added after `attachTo()` (`distribution.addBehavior(...)`): aspects run after
 * all app code, when the behavior list is final. The L2 renders behaviors lazily and exposes no list, so the count is
 * read from the resolved L1 config and each behavior gets a property override by index.
 */
export class RealtimeLogAttachment implements IAspect {
  constructor(private readonly distribution: cloudfront.CfnDistribution, private readonly realtimeLogConfigArn: string) {}

  public visit(node: IConstruct): void {
    if (node !== this.distribution) return;
    const cfn = this.distribution;
    const arn = this.realtimeLogConfigArn;
    cfn.addPropertyOverride('DistributionConfig.DefaultCacheBehavior.RealtimeLogConfigArn', arn);
    const config = Stack.of(cfn).resolve(cfn.distributionConfig) as { cacheBehaviors?: unknown[] } | undefined;
    const count = config?.cacheBehaviors?.length ?? 0;
    for (let index = 0; index < count; index++) {
      cfn.addPropertyOverride(`DistributionConfig.CacheBehaviors.${index}.RealtimeLogConfigArn`, arn);
    }
  }
}
