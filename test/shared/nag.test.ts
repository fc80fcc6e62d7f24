import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { ElasticCredentials, ElasticWafMonitor, RealtimeWafGuard } from '../../src';
import { ACKNOWLEDGED_RULES_METADATA_KEY, suppressNag } from '../../src/shared/nag';

/** Acknowledgements as cdk-nag 3 reads them: every `aws:cdk:acknowledged-rules` entry of the construct, merged. */
function acknowledged(c: IConstruct): Record<string, string> {
  return Object.assign({}, ...c.node.metadata.filter((m) => m.type === ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
}

/** The ids cdk-nag 2 suppresses on a resource, in the `Rule[finding]` naming of cdk-nag 3. */
function v2Ids(resource: CfnResource): string[] {
  const rules = (resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as Array<{ id: string; applies_to?: string[] }>;
  return rules.flatMap((r) => r.applies_to ? r.applies_to.map((f) => `${r.id}[${f}]`) : [r.id]);
}

describe('nag suppressions in both cdk-nag forms', () => {
  test('a rule-wide suppression and one limited to findings', () => {
    const stack = new Stack(new App(), 'S');
    const resource = new CfnResource(stack, 'R', { type: 'AWS::SQS::Queue' });
    suppressNag(resource, [
      { id: 'AwsSolutions-SQS3', reason: 'the last stop' },
      { id: 'AwsSolutions-IAM5', reason: 'no resource-level permissions', appliesTo: ['Resource::*', 'Action::s3:Get*'] },
    ]);
    expect(acknowledged(resource)).toEqual({
      'AwsSolutions-SQS3': 'the last stop',
      'AwsSolutions-IAM5[Resource::*]': 'no resource-level permissions',
      'AwsSolutions-IAM5[Action::s3:Get*]': 'no resource-level permissions',
    });
    expect(resource.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [
        { id: 'AwsSolutions-SQS3', reason: 'the last stop' },
        { id: 'AwsSolutions-IAM5', reason: 'no resource-level permissions', applies_to: ['Resource::*', 'Action::s3:Get*'] },
      ],
    });
  });

  test('every suppression the constructs ship is acknowledged for cdk-nag 3 with the same reason, and nothing more', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    new RealtimeWafGuard(stack, 'Guard', { rateBasedBackstop: { limit: 100 } });
    new ElasticWafMonitor(stack, 'Monitor', {
      endpoint: 'https://es.example.com:9243',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.apiKey(new secretsmanager.Secret(stack, 'Key')),
    });
    const resources = stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c));
    const suppressed = resources.filter((r) => v2Ids(r).length > 0);
    expect(suppressed.length).toBeGreaterThanOrEqual(6);
    for (const resource of resources) {
      expect(Object.keys(acknowledged(resource)).sort()).toEqual(v2Ids(resource).sort());
      const reasons = (resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as Array<{ id: string; reason: string }>;
      for (const [id, reason] of Object.entries(acknowledged(resource))) {
        expect(reasons.find((r) => id === r.id || id.startsWith(`${r.id}[`))?.reason).toBe(reason);
      }
    }
  });
});
