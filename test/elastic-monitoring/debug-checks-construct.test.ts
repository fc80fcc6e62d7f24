import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DebugChecksOptions, ElasticCredentials, ElasticWafMonitor, WebProtocol } from '../../src';
import { CHECKER_LOCATION_ENV, DEBUG_CONFIG_ENV } from '../../src/elastic-monitoring/runtime/debug-checks';

function build(debug: (stack: Stack, vpc: ec2.IVpc) => Partial<DebugChecksOptions> = () => ({})) {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:es-AbCdEf');
  const vpc = new ec2.Vpc(stack, 'WafVpc', { maxAzs: 2 });
  vpc.addFlowLog('FlowLog');
  const monitor = new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://es.example.com:9243',
    indexPattern: 'waf-*',
    credentials: ElasticCredentials.basicAuth(secret),
    debugChecks: {
      vpc,
      frontDoor: { dnsNames: ['waf-1.elb.eu-west-1.amazonaws.com'], egressIpAddresses: ['198.51.100.1'] },
      customers: [{ name: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: '10.0.5.5', upstreamProtocol: WebProtocol.HTTP, upstreamPort: 8080 }] }],
      ...debug(stack, vpc),
    },
  });
  return { app, stack, monitor, template: Template.fromStack(stack) };
}

function fnWith(template: Template, location: string) {
  const fns = Object.entries(template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [CHECKER_LOCATION_ENV]: location } } },
  }));
  expect(fns).toHaveLength(1);
  return { id: fns[0][0], props: fns[0][1].Properties };
}

describe('debugChecks', () => {
  test('private upstreams and front doors pass synth (the inside checker contacts them)', () => {
    expect(() => build(() => ({
      frontDoor: { dnsNames: ['internal-waf.elb.eu-west-1.amazonaws.com'], ipAddresses: ['10.0.0.10'] },
      customers: [{ name: 'a', apps: [{ hostnames: ['a.test'], upstreamAddress: '172.16.5.5' }, { hostnames: ['b.test'], upstreamAddress: 'fd12::5' }] }],
    }))).not.toThrow();
  });

  test('a checker inside the VPC, one outside, both with the configured targets only', () => {
    const { template } = build();
    const inside = fnWith(template, 'inside');
    const outside = fnWith(template, 'outside');
    expect(inside.props.VpcConfig.SubnetIds).toHaveLength(2);
    expect(outside.props.VpcConfig).toBeUndefined();
    const config = JSON.parse(outside.props.Environment.Variables[DEBUG_CONFIG_ENV]);
    expect(config).toEqual({
      customers: [{ name: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: '10.0.5.5', upstreamPort: 8080, upstreamProtocol: 'http' }] }],
      frontDoor: { dnsNames: ['waf-1.elb.eu-west-1.amazonaws.com'], ipAddresses: [], egressIpAddresses: ['198.51.100.1'], port: 443, protocol: 'https' },
      requestTimeoutMs: 5000,
      concurrency: 8,
    });
    // 64 hosts in waves of 8 at 5 s, plus 10 s
    expect(outside.props.Timeout).toBe(50);
  });

  test('the widget function may invoke exactly the two checkers, nothing else', () => {
    const { template, monitor, stack } = build();
    const widgetRoleId = stack.getLogicalId((monitor.debugWidgetFunction as any).role.node.defaultChild);
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: widgetRoleId }] } }));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const invoke = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('lambda:')));
    expect(invoke).toEqual([{
      Action: 'lambda:InvokeFunction',
      Effect: 'Allow',
      Resource: [
        { 'Fn::GetAtt': [stack.getLogicalId((monitor.debugCheckerInside as any).node.defaultChild), 'Arn'] },
        { 'Fn::GetAtt': [stack.getLogicalId((monitor.debugCheckerOutside as any).node.defaultChild), 'Arn'] },
      ],
    }]);
    // the checkers themselves may invoke nothing
    for (const where of ['inside', 'outside']) {
      const roleRef = fnWith(template, where).props.Role['Fn::GetAtt'][0];
      const own = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleRef }] } }));
      expect(JSON.stringify(own)).not.toContain('lambda:Invoke');
    }
  });

  test('a customers table: Scan on that table only, for the checkers and the widget', () => {
    const { template } = build((stack) => ({
      customersTable: dynamodb.Table.fromTableName(stack, 'Customers', 'waf-customers'),
      requestTimeout: Duration.seconds(2),
      concurrency: 16,
    }));
    const scans = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(scans).toHaveLength(3);
    for (const s of scans) {
      expect(s.Action).toBe('dynamodb:Scan');
      expect(JSON.stringify(s.Resource)).toContain(':table/waf-customers');
      expect(JSON.stringify(s.Resource)).not.toContain('index');
    }
    const config = JSON.parse(fnWith(template, 'inside').props.Environment.Variables[DEBUG_CONFIG_ENV]);
    expect([config.customersTableName, config.requestTimeoutMs, config.concurrency]).toEqual(['waf-customers', 2000, 16]);
  });

  test('the dashboard has the custom widget and links every debugging log group', () => {
    const { template } = build();
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain('\\"type\\":\\"custom\\"');
    expect(body).toContain('Debugging checks per customer');
    for (const label of ['Debug checks from inside the VPC', 'Debug checks from outside the VPC', 'Debug widget']) expect(body).toContain(label);
  });

  test('cdk-nag AwsSolutions: no unsuppressed findings', () => {
    const { app, stack } = build((s) => ({ customersTable: dynamodb.Table.fromTableName(s, 'Customers', 'waf-customers') }));
    Aspects.of(app).add(new AwsSolutionsChecks());
    app.synth();
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test.each([
    ['no front door', () => ({ frontDoor: {} }), /debugChecks.frontDoor needs at least one of dnsNames or ipAddresses/],
    ['a URL as upstream', () => ({ customers: [{ name: 'a', apps: [{ hostnames: ['a.test'], upstreamAddress: 'http://10.0.0.1/' }] }] }), /"http:\/\/10.0.0.1\/" is not a DNS name or IP address/],
    ['a customer name with markup', () => ({ customers: [{ name: '<b>', apps: [] }] }), /name "<b>" must be 1-100/],
    ['a duplicate customer', () => ({ customers: [{ name: 'a', apps: [] }, { name: 'a', apps: [] }] }), /"a" appears twice/],
    ['a port out of range', () => ({ customers: [{ name: 'a', apps: [{ hostnames: ['a.test'], upstreamAddress: 'u.test', upstreamPort: 0 }] }] }), /upstreamPort must be 1-65535, got 0/],
    ['a long timeout', () => ({ requestTimeout: Duration.seconds(30) }), /requestTimeout must be from 1 to 10 seconds/],
    ['too much concurrency', () => ({ concurrency: 100 }), /concurrency must be a whole number from 1 to 32, got 100/],
    ...['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '::ffff:127.0.0.1', '::1', 'localhost', '169.254.169.254', 'fd00:ec2::254', '0.0.0.0', 'fe80::1']
      .map((address): [string, () => object, RegExp] => [
        `upstream ${address}`,
        () => ({ customers: [{ name: 'a', apps: [{ hostnames: ['a.test'], upstreamAddress: address }] }] }),
        new RegExp(`debugChecks.customers\\["a"\\]: upstreamAddress ${address.replace(/[.]/g, '\\.')}.* is an? (loopback|metadata|unspecified|link-local) (address|name).*: the checkers never contact it; give the upstream's routable address or DNS name`),
      ]),
    ['a metadata front door', () => ({ frontDoor: { ipAddresses: ['169.254.169.254'] } }),
      /debugChecks.frontDoor: 169\.254\.169\.254 is a metadata address \(cloud metadata 169\.254\.169\.254\): the checkers never contact it; give the WAF entry's DNS name or address/],
    ['a loopback front door name', () => ({ frontDoor: { dnsNames: ['localhost.'] } }), /debugChecks.frontDoor: localhost\. is a loopback name/],
  ])('%s fails at synth', (_name, options, error) => {
    expect(() => build(options as any)).toThrow(error);
  });

  test.each(['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '::ffff:127.0.0.1', '::1', 'localhost', '169.254.169.254', 'fd00:ec2::254'])(
    'upstreamAddress %s fails at synth, saying what to change', (u) => {
      expect(() => build(() => ({ customers: [{ name: 'a', apps: [{ hostnames: ['a.test'], upstreamAddress: u }] }] }) as any))
        .toThrow(/upstreamAddress .* the checkers never contact it; give the upstream's routable address or DNS name/);
    });
});
