import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ElasticCredentials, ElasticWafMonitor, ElasticWafMonitorProps, KibanaDashboardsFlavour, SearchEngine,
} from '../../src';
import { DASHBOARDS_RESOURCE_TYPE } from '../../src/elastic-monitoring/runtime/kibana-dashboards-resource';
import { VPC_NETWORKING_ACTIONS } from '../../src/shared/handler-defaults';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:waf-es-credentials-AbCdEf';
const DOMAIN_ARN = 'arn:aws:es:eu-west-1:111111111111:domain/waf-logs';
const DOMAIN_URL = 'https://search-waf-logs-abc123.eu-west-1.es.amazonaws.com';

function synth(overrides: Partial<ElasticWafMonitorProps> = {}, options: { vpc?: boolean; nag?: boolean } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', SECRET_ARN);
  const vpc = options.vpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, flowLogs: { FlowLog: {} } }) : undefined;
  if (options.nag) Aspects.of(app).add(new AwsSolutionsChecks());
  const monitor = new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
    credentials: ElasticCredentials.basicAuth(secret),
    indexPattern: 'waf-logs-*',
    kibanaDashboards: { endpoint: 'https://kibana.example.com:5601' },
    ...(vpc ? { vpc } : {}),
    ...overrides,
  });
  if (options.nag) app.synth();
  return { app, stack, monitor, template: Template.fromStack(stack) };
}

function dashboardsResource(template: Template): any {
  const [resource, ...more] = Object.values(template.findResources(DASHBOARDS_RESOURCE_TYPE));
  expect(more).toEqual([]);
  return resource;
}

function functionByDescription(template: Template, pattern: RegExp): [string, any] {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, f]) => pattern.test(f.Properties.Description));
  expect(found).toHaveLength(1);
  return found[0];
}

/** Every statement of every policy attached to the function's role, as [actions, resources] sorted. */
function roleStatements(template: Template, fn: any): string[] {
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as any[]).some((r) => r.Ref === role));
  const managed = template.findResources('AWS::IAM::Role')[role].Properties.ManagedPolicyArns;
  expect(managed).toBeUndefined();
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[])
    .map((s) => `${s.Effect} ${[s.Action].flat().sort().join(',')} ON ${JSON.stringify(s.Resource)}`).sort();
}

describe('ElasticWafMonitor kibanaDashboards', () => {
  test('a custom resource backed by its own Node.js 22 function, with the field settings as properties', () => {
    const { template, monitor } = synth();
    const resource = dashboardsResource(template);
    const [fnId, fn] = functionByDescription(template, /^Imports the WAF dashboard/);
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(resource.Properties).toMatchObject({
      Endpoint: 'https://kibana.example.com:5601',
      Flavour: 'kibana',
      RemoveOnDelete: 'false',
      Credentials: JSON.stringify({ kind: 'basic', secretArn: SECRET_ARN, usernameKey: 'username', passwordKey: 'password' }),
    });
    expect(resource.Properties.SigningRegion).toBeUndefined();
    const source = JSON.parse(resource.Properties.Source);
    expect(source).toEqual(expect.objectContaining({ indexPattern: 'waf-logs-*', apdexTMs: 30 }));
    // The secret's ARN and the cluster's URL are not part of what the objects are generated from.
    expect(Object.keys(source).sort()).toEqual(['apdexTMs', 'fields', 'indexPattern', 'statusValues']);
    expect(resource.DeletionPolicy).toBe('Delete');
    expect(monitor.kibanaDashboardsFunction).toBeDefined();
    expect(template.findResources(DASHBOARDS_RESOURCE_TYPE)).not.toEqual({});
  });

  test('no resource or function without kibanaDashboards', () => {
    const { template, monitor } = synth({ kibanaDashboards: undefined });
    expect(template.findResources(DASHBOARDS_RESOURCE_TYPE)).toEqual({});
    expect(Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => /Imports the WAF/.test(f.Properties.Description))).toEqual([]);
    expect(monitor.kibanaDashboardsFunction).toBeUndefined();
  });

  test('a renamed field or status value changes Source and Digest (an Update); the endpoint and flavour stay', () => {
    const base = dashboardsResource(synth().template).Properties;
    const renamed = dashboardsResource(synth({ fields: { latencyMs: 'edge.duration_ms' } }).template).Properties;
    const status = dashboardsResource(synth({ statusValues: { blocked: 'DENY' } }).template).Properties;
    for (const changed of [renamed, status]) {
      expect(changed.Source).not.toEqual(base.Source);
      expect(changed.Digest).not.toEqual(base.Digest);
      expect([changed.Endpoint, changed.Flavour]).toEqual([base.Endpoint, base.Flavour]);
    }
    expect(JSON.parse(renamed.Source).fields.latency).toBe('edge.duration_ms');
    expect(dashboardsResource(synth().template).Properties).toEqual(base);
  });

  test('same network as the collector: VPC subnets and the collector\'s security groups', () => {
    const { template } = synth({}, { vpc: true });
    const [, collector] = functionByDescription(template, /^Collects WAF health/);
    const [, dashboards] = functionByDescription(template, /^Imports the WAF dashboard/);
    expect(collector.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    expect(dashboards.Properties.VpcConfig).toEqual(collector.Properties.VpcConfig);
    const given = synth({}, { vpc: true });
    expect(given.monitor.collectorSecurityGroups).toHaveLength(1);
  });

  test('IAM exact with a secret in a VPC: its log group, the secret, the ENI actions; nothing on the domain', () => {
    const { template } = synth({}, { vpc: true });
    const [, fn] = functionByDescription(template, /^Imports the WAF dashboard/);
    const logGroup = fn.Properties.LoggingConfig.LogGroup.Ref;
    expect(roleStatements(template, fn)).toEqual([
      `Allow ${[...VPC_NETWORKING_ACTIONS].sort().join(',')} ON "*"`,
      `Allow logs:CreateLogStream,logs:PutLogEvents ON ${JSON.stringify({ 'Fn::GetAtt': [logGroup, 'Arn'] })}`,
      `Allow secretsmanager:DescribeSecret,secretsmanager:GetSecretValue ON "${SECRET_ARN}"`,
    ].sort());
  });

  test('Amazon OpenSearch Service with SigV4: POST on the import route, DELETE on saved objects only with removeOnDelete; OpenSearch flavour', () => {
    const engine = () => SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN });
    const statements = (removeOnDelete: boolean) => {
      const { template } = synth({ endpoint: DOMAIN_URL, engine: engine(), credentials: undefined, kibanaDashboards: { endpoint: `${DOMAIN_URL}/_dashboards`, removeOnDelete } });
      const [, fn] = functionByDescription(template, /^Imports the WAF dashboard/);
      return { template, list: roleStatements(template, fn).filter((s) => !s.includes('logs:')) };
    };
    const keep = statements(false);
    // The saved-objects routes of the domain's Dashboards only: no index of the domain can be written or deleted.
    expect(keep.list).toEqual([`Allow es:ESHttpPost ON "${DOMAIN_ARN}/_dashboards/api/saved_objects/_import"`]);
    expect(dashboardsResource(keep.template).Properties).toMatchObject({ Flavour: 'opensearch', SigningRegion: 'eu-west-1', RemoveOnDelete: 'false' });
    expect(dashboardsResource(keep.template).Properties.Credentials).toBeUndefined();
    expect(statements(true).list.sort()).toEqual([
      'Allow cloudformation:DescribeStackResources ON {"Ref":"AWS::StackId"}',
      `Allow es:ESHttpDelete ON "${DOMAIN_ARN}/_dashboards/api/saved_objects/*"`,
      `Allow es:ESHttpPost ON "${DOMAIN_ARN}/_dashboards/api/saved_objects/_import"`,
    ]);
  });

  test('the resource waits for the role\'s policies', () => {
    const { template } = synth({ endpoint: DOMAIN_URL, engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }), credentials: undefined, kibanaDashboards: { endpoint: `${DOMAIN_URL}/_dashboards` } }, { vpc: true });
    const resource = dashboardsResource(template);
    const [, fn] = functionByDescription(template, /^Imports the WAF dashboard/);
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => (p.Properties.Roles as any[]).some((r) => r.Ref === role)).map(([id]) => id);
    expect(policies.length).toBe(3);
    expect(resource.DependsOn).toEqual(expect.arrayContaining([role, ...policies]));
  });

  test('cdk-nag AwsSolutions: no unsuppressed findings (secret in a VPC; SigV4 with removeOnDelete)', () => {
    for (const [overrides, vpc] of [
      [{}, true],
      [{ endpoint: DOMAIN_URL, engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }), credentials: undefined, kibanaDashboards: { endpoint: `${DOMAIN_URL}/_dashboards`, removeOnDelete: true } }, false],
    ] as Array<[Partial<ElasticWafMonitorProps>, boolean]>) {
      const { stack } = synth(overrides, { vpc, nag: true });
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    }
  });

  describe('props are checked at synth', () => {
    const fails = (overrides: Partial<ElasticWafMonitorProps>, message: RegExp) => expect(() => synth(overrides)).toThrow(message);

    test('https only, unless allowInsecureHttp', () => {
      fails({ kibanaDashboards: { endpoint: 'http://kibana.internal:5601' } },
        /kibanaDashboards\.endpoint must be https:\/\/ \(got http:\/\/kibana\.internal:5601\).*set the monitor's allowInsecureHttp/);
      const { template } = synth({ endpoint: 'http://es.internal:9200', allowInsecureHttp: true, kibanaDashboards: { endpoint: 'http://kibana.internal:5601' } }, { vpc: true });
      expect(dashboardsResource(template).Properties.Endpoint).toBe('http://kibana.internal:5601');
    });

    test('no user info, query or unreadable URL', () => {
      fails({ kibanaDashboards: { endpoint: 'https://elastic:changeme@kibana.example.com' } }, /kibanaDashboards\.endpoint: it must not contain user info/);
      expect(() => synth({ kibanaDashboards: { endpoint: 'https://elastic:changeme@kibana.example.com' } })).toThrow(/^(?![\s\S]*changeme)/);
      fails({ kibanaDashboards: { endpoint: 'https://kibana.example.com/?space=x' } }, /kibanaDashboards\.endpoint: it must not contain a query/);
      fails({ kibanaDashboards: { endpoint: 'kibana.example.com' } }, /kibanaDashboards\.endpoint: it must be Kibana's or OpenSearch Dashboards' URL/);
      fails({ kibanaDashboards: { endpoint: 'https://kibana.example.com/api/saved_objects/_import' } }, /must be the product's base URL, not an API or app path .*give https:\/\/kibana\.example\.com$/m);
      fails({ kibanaDashboards: { endpoint: 'https://kibana.example.com/s/my space' } },
        /kibanaDashboards\.endpoint: it must not contain spaces or other whitespace \(got "https:\/\/kibana\.example\.com\/s\/my space"\)/);
      fails({ kibanaDashboards: { endpoint: 'https://kibana.example.com/s/a\tb' } }, /must not contain spaces or other whitespace/);
    });

    test('Amazon OpenSearch Service: the /_dashboards path, and no Kibana flavour', () => {
      const aos = { endpoint: DOMAIN_URL, engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }), credentials: undefined };
      fails({ ...aos, kibanaDashboards: { endpoint: DOMAIN_URL } }, new RegExp(`serves Dashboards under /_dashboards: give ${DOMAIN_URL.replace(/\./g, '\\.')}/_dashboards`));
      // Any other path on a domain misses Dashboards, whatever engine the monitor names (the CLI's check is the same function).
      fails({ kibanaDashboards: { endpoint: `${DOMAIN_URL}/kibana` } }, new RegExp(`serves Dashboards under /_dashboards \\(got /kibana\\): give ${DOMAIN_URL.replace(/\./g, '\\.')}/_dashboards`));
      fails({ ...aos, kibanaDashboards: { endpoint: `${DOMAIN_URL}/_dashboards`, flavour: KibanaDashboardsFlavour.KIBANA } },
        /kibanaDashboards\.flavour: an Amazon OpenSearch Service domain serves OpenSearch Dashboards/);
    });

    test('an endpoint is required (JavaScript callers can leave it out)', () => {
      fails({ kibanaDashboards: {} as any }, /kibanaDashboards\.endpoint is required: give Kibana's or OpenSearch Dashboards' URL/);
    });

    test('not with OpenSearch Serverless', () => {
      fails({
        endpoint: 'https://abc123.eu-west-1.aoss.amazonaws.com',
        engine: SearchEngine.amazonOpenSearchServerless({ collectionArn: 'arn:aws:aoss:eu-west-1:111111111111:collection/abc123' }),
        credentials: undefined,
        kibanaDashboards: { endpoint: 'https://abc123.eu-west-1.aoss.amazonaws.com/_dashboards' },
      }, /kibanaDashboards is not available with SearchEngine\.amazonOpenSearchServerless\(\)/);
    });

    test('a flavour that does not match the engine is refused', () => {
      fails({ engine: SearchEngine.openSearch(), kibanaDashboards: { endpoint: 'https://k.example.com', flavour: KibanaDashboardsFlavour.KIBANA } },
        /kibanaDashboards\.flavour: SearchEngine\.openSearch\(\) is shown by OpenSearch Dashboards, not Kibana: use KibanaDashboardsFlavour\.OPENSEARCH_DASHBOARDS or leave flavour out/);
      fails({ kibanaDashboards: { endpoint: 'https://k.example.com', flavour: KibanaDashboardsFlavour.OPENSEARCH_DASHBOARDS } },
        /kibanaDashboards\.flavour: SearchEngine\.elasticsearch\(\) \(the default engine\) is shown by Kibana, not OpenSearch Dashboards: use KibanaDashboardsFlavour\.KIBANA/);
    });

    test('an explicit flavour that matches the engine is kept', () => {
      const { template } = synth({ engine: SearchEngine.openSearch(), kibanaDashboards: { endpoint: 'https://dashboards.example.com', flavour: KibanaDashboardsFlavour.OPENSEARCH_DASHBOARDS } });
      expect(dashboardsResource(template).Properties.Flavour).toBe('opensearch');
      expect(dashboardsResource(synth({ engine: SearchEngine.openSearch() }).template).Properties.Flavour).toBe('opensearch');
      expect(dashboardsResource(synth({ kibanaDashboards: { endpoint: 'https://k.example.com', flavour: KibanaDashboardsFlavour.KIBANA } }).template).Properties.Flavour).toBe('kibana');
    });
  });
});
