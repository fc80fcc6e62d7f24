import { CfnResource, Stack } from 'aws-cdk-lib';
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
 * The construct metadata type of aws-cdk-lib's `Validations.of(scope).acknowledge()` (`ACKNOWLEDGED_RULES_METADATA_KEY`),
 * which cdk-nag 3 reads. Written by hand: the library supports aws-cdk-lib versions that predate the API.
 */
export const ACKNOWLEDGED_RULES_METADATA_KEY = 'aws:cdk:acknowledged-rules';

/**
 * Ships suppressions in the two forms cdk-nag reads, so users see the reasons in their own nag reports whichever major
 * they run, and the library needs no runtime dependency on cdk-nag:
 * - cdk-nag 2 (`Aspects`): `cdk_nag.rules_to_suppress` in the resource's CloudFormation metadata;
 * - cdk-nag 3 (`Validations` plugins): an acknowledgement per rule on the construct, a finding of a rule with
 *   `appliesTo` as `Rule[finding]`, exactly as cdk-nag 3 names it, so nothing beyond the named findings is accepted.
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
  const acknowledged: Record<string, string> = {};
  for (const s of suppressions) {
    for (const id of s.appliesTo ? s.appliesTo.map((finding) => `${s.id}[${finding}]`) : [s.id]) acknowledged[id] = s.reason;
  }
  resource.node.addMetadata(ACKNOWLEDGED_RULES_METADATA_KEY, acknowledged);
}

/**
 * A value of a policy (a resource ARN, often a token) as cdk-nag names it in a finding: `Ref` as `<Id>`, `Fn::GetAtt` as
 * `<Id.Attr>`, `Fn::Join` joined, `${...}` of `Fn::Sub` as `<...>`, as cdk-nag's `flattenCfnReference` does, so an
 * `appliesTo` can name the finding exactly for both majors whatever the token stands for (a parameter, an import).
 */
export function nagFindingName(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const o = node as Record<string, any>;
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(visit).join(o['Fn::Join'][0]);
    if (o['Fn::Sub']) return visit(o['Fn::Sub']);
    if (o['Fn::GetAtt']) return `<${visit(o['Fn::GetAtt'][0])}.${visit(o['Fn::GetAtt'][1])}>`;
    if (o['Fn::ImportValue']) return visit(o['Fn::ImportValue']);
    if (o.Ref) return `<${visit(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}
