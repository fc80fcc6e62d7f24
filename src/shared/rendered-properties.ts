import { CfnResource, Stack } from 'aws-cdk-lib';

/**
 * A resource's CloudFormation properties as they will be written (CloudFormation casing), resolved in its stack: its
 * properties with the property overrides applied, so a value a user set with `addPropertyOverride` is seen too. Read
 * through `_toCloudFormation`, the method every CDK version renders templates with (internal, so not in the typings).
 */
export function renderedProperties(resource: CfnResource): Record<string, any> {
  const render = (resource as unknown as { _toCloudFormation(): object })._toCloudFormation;
  const template = Stack.of(resource).resolve(render.call(resource)) as { Resources: Record<string, { Properties?: Record<string, any> }> };
  const [entry] = Object.values(template.Resources);
  return entry?.Properties ?? {};
}

/** A value as CloudFormation will read it in `resource`'s stack, for comparing with a rendered property. */
export function renderedValue(resource: CfnResource, value: unknown): string {
  return JSON.stringify(Stack.of(resource).resolve(value));
}
