import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A cdk-nag finding that the library accepts on one of its own resources, with the reason.
 */
export interface NagSuppression {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is accepted; shown in nag reports. */
  readonly reason: string;
  /** The exact findings (e.g. `Resource::*`) the suppression covers; all findings of the rule when absent. */
  readonly appliesTo?: string[];
}

/**
 * Ships suppressions as `cdk_nag` metadata, the format cdk-nag reads, so the library needs no runtime dependency on
 * cdk-nag and users see the reasons in their own nag reports.
 */
export function suppressNag(scope: IConstruct, suppressions: NagSuppression[]): void {
  const resource = scope instanceof CfnResource ? scope : scope.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`suppressNag: ${scope.node.path} has no CloudFormation resource to annotate`);
  }
  const existing = (resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as unknown[];
  resource.addMetadata('cdk_nag', {
    rules_to_suppress: [
      ...existing,
      ...suppressions.map((s) => ({ id: s.id, reason: s.reason, ...(s.appliesTo ? { applies_to: s.appliesTo } : {}) })),
    ],
  });
}
