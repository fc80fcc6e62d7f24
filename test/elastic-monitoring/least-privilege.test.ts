import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ElasticCredentials, ElasticWafMonitor } from '../../src';
import { VPC_NETWORKING_ACTIONS } from '../../src/shared/handler-defaults';

function monitorInVpc() {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:es-AbCdEf');
  const vpc = new ec2.Vpc(stack, 'WafVpc', { maxAzs: 2 });
  vpc.addFlowLog('FlowLog');
  new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://es.example.com:9243',
    indexPattern: 'waf-*',
    credentials: ElasticCredentials.basicAuth(secret),
    vpc,
    debugChecks: { vpc, frontDoor: { dnsNames: ['waf-1.elb.eu-west-1.amazonaws.com'] } },
    kibanaDashboards: { endpoint: 'https://kibana.example.com:5601' },
  });
  return { app, stack };
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

describe('roles of functions in a VPC', () => {
  test('no role of the monitor holds a managed policy or a statement allowing logs actions on "*" (EMF lines are metrics)', () => {
    const { stack } = monitorInVpc();
    const template = Template.fromStack(stack);
    const roles = template.findResources('AWS::IAM::Role');
    const vpcFunctions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } }));
    expect(vpcFunctions.length).toBeGreaterThanOrEqual(3); // the collector, the inside checker, the dashboards import
    for (const [id, role] of Object.entries(roles)) {
      if (id.startsWith('WafVpc')) continue; // the flow log's role is the user's VPC
      expect({ id, managed: role.Properties.ManagedPolicyArns }).toEqual({ id, managed: undefined });
    }
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>);
    const logsOnStar = statements.filter((s) => asList(s.Action).some((a) => String(a).startsWith('logs:')) && asList(s.Resource).includes('*'));
    expect(logsOnStar).toEqual([]);
  });

  test('each function in a VPC gets exactly Lambda\'s ENI actions, created before the function', () => {
    const { stack } = monitorInVpc();
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ec2:CreateNetworkInterface']) })]) } },
    });
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } });
    for (const [, fn] of Object.entries(functions)) {
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const [policyId, policy] = Object.entries(policies).find(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))!;
      expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Action: VPC_NETWORKING_ACTIONS, Effect: 'Allow', Resource: '*' }]);
      expect(fn.DependsOn).toContain(policyId);
    }
    expect(Object.keys(policies)).toHaveLength(Object.keys(functions).length);
  });

  test('cdk-nag is clean for the monitor\'s resources, the ENI wildcard acknowledged on exactly Resource::*', () => {
    const { app, stack } = monitorInVpc();
    Aspects.of(app).add(new AwsSolutionsChecks());
    app.synth();
    const findings = [
      ...Annotations.fromStack(stack).findError('/Monitoring/WafHealth*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(stack).findWarning('/Monitoring/WafHealth*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ];
    expect(findings).toEqual([]);
    const eni = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ec2:CreateNetworkInterface']) })]) } },
    }));
    for (const p of eni) {
      expect(p.Metadata.cdk_nag.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })]);
    }
  });
});
