import { App, Aspects, CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ElasticCredentials, ElasticWafMonitor, ElasticWafMonitorProps, SearchEngine } from '../../src';
import { COLLECTOR_CONFIG_ENV, CollectorConfig, validateCollectorConfig } from '../../src/elastic-monitoring/runtime/config';
import { ACKNOWLEDGED_RULES_METADATA_KEY } from '../../src/shared/nag';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:waf-os-credentials-AbCdEf';
const DOMAIN_ARN = 'arn:aws:es:eu-west-1:111111111111:domain/waf-logs';
const COLLECTION_ARN = 'arn:aws:aoss:eu-central-1:111111111111:collection/k1b2c3d4e5f6g7h8';
const DOMAIN_ENDPOINT = 'https://search-waf-logs-abc123xyz.eu-west-1.es.amazonaws.com';

function monitor(props: Partial<ElasticWafMonitorProps>, withSecret = false) {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ARN);
  const construct = new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: DOMAIN_ENDPOINT,
    indexPattern: 'waf-logs-*',
    ...(withSecret ? { credentials: ElasticCredentials.basicAuth(secret) } : {}),
    ...props,
  });
  return { app, stack, construct, secret };
}

function config(stack: Stack): CollectorConfig {
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [COLLECTOR_CONFIG_ENV]: Match.anyValue() } } },
  }));
  return JSON.parse(fn.Properties.Environment.Variables[COLLECTOR_CONFIG_ENV]);
}

function statements(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function nagFindings(app: App, stack: Stack) {
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  return [
    ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ];
}

describe('engine prop', () => {
  test('Amazon OpenSearch Service by domain ARN: SigV4 config with the domain\'s region, es:ESHttpGet/Post on the domain only, no secret', () => {
    const { app, stack } = monitor({ engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }) });
    const c = config(stack);
    expect(c.engine).toEqual({ kind: 'amazon-opensearch-service', region: 'eu-west-1' });
    expect(c.credentials).toBeUndefined();
    expect(validateCollectorConfig(c)).toEqual([]);
    const all = statements(stack);
    expect(all).toContainEqual({ Action: ['es:ESHttpGet', 'es:ESHttpPost'], Effect: 'Allow', Resource: [DOMAIN_ARN, `${DOMAIN_ARN}/*`] });
    expect(JSON.stringify(all)).not.toContain('secretsmanager');
    expect(JSON.stringify(all)).not.toMatch(/"es:\*"|"Resource":"\*"/);
    expect(nagFindings(app, stack)).toEqual([]);
  });

  test('a domain defined in CDK, in a VPC: its ARN is granted, the collector runs in the VPC, and cdk-nag accepts the path wildcard', () => {
    const app = new App();
    const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const domain = new opensearch.Domain(stack, 'Domain', { version: opensearch.EngineVersion.OPENSEARCH_2_17 });
    new ElasticWafMonitor(stack, 'WafHealth', {
      endpoint: DOMAIN_ENDPOINT,
      indexPattern: 'waf-logs-*',
      engine: SearchEngine.amazonOpenSearchService({ domain }),
      vpc,
    });
    const logicalId = stack.getLogicalId(domain.node.defaultChild as opensearch.CfnDomain);
    expect(statements(stack)).toContainEqual({
      Action: ['es:ESHttpGet', 'es:ESHttpPost'],
      Effect: 'Allow',
      Resource: [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, '/*']] }],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }) });
    // The domain's own findings are the user's; none may come from the monitor's grant.
    Aspects.of(app).add(new AwsSolutionsChecks());
    app.synth();
    const fromMonitor = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
      .filter((f) => f.id.startsWith('/Monitoring/WafHealth'));
    expect(fromMonitor).toEqual([]);
  });

  test.each([
    ['a CfnParameter', (stack: Stack) => new CfnParameter(stack, 'DomArn').valueAsString, '<DomArn>/*'],
    ['an imported value', () => Fn.importValue('SearchDomainArn'), 'SearchDomainArn/*'],
    ['an ARN built from a parameter', (stack: Stack) => `arn:aws:es:eu-west-1:111111111111:domain/${new CfnParameter(stack, 'DomName').valueAsString}`,
      'arn:aws:es:eu-west-1:111111111111:domain/<DomName>/*'],
  ])('a domain ARN that is a token (%s): cdk-nag 2 is clean and cdk-nag 3 acknowledges exactly the domain paths', (_, domainArn, finding) => {
    const app = new App();
    const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
    const construct = new ElasticWafMonitor(stack, 'WafHealth', {
      endpoint: DOMAIN_ENDPOINT,
      indexPattern: 'waf-logs-*',
      engine: SearchEngine.amazonOpenSearchService({ domainArn: domainArn(stack) }),
    });
    const policy = construct.node.findAll().find((c) => c.node.path.endsWith('/SearchAccess/Resource'))!;
    const acknowledged = Object.assign({}, ...policy.node.metadata.filter((m) => m.type === ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
    expect(Object.keys(acknowledged)).toEqual([`AwsSolutions-IAM5[Resource::${finding}]`]);
    expect(nagFindings(app, stack)).toEqual([]);
  });

  test('fine-grained access control with an internal user: basic auth from the secret, no IAM grant on the domain', () => {
    const { stack } = monitor({ engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }) }, true);
    const c = config(stack);
    expect(c.credentials).toEqual(expect.objectContaining({ kind: 'basic', secretArn: SECRET_ARN }));
    expect(JSON.stringify(statements(stack))).not.toContain('es:ESHttp');
    expect(JSON.stringify(statements(stack))).toContain('secretsmanager:GetSecretValue');
  });

  test('Serverless: aoss:APIAccessAll on the collection, the collection\'s region, and Serverless in the collector\'s configuration', () => {
    const { app, stack } = monitor({
      endpoint: 'https://k1b2c3d4e5f6g7h8.eu-central-1.aoss.amazonaws.com',
      engine: SearchEngine.amazonOpenSearchServerless({ collectionArn: COLLECTION_ARN }),
    });
    expect(config(stack).engine).toEqual({ kind: 'amazon-opensearch-serverless', region: 'eu-central-1' });
    expect(statements(stack)).toContainEqual({ Action: 'aoss:APIAccessAll', Effect: 'Allow', Resource: COLLECTION_ARN });
    expect(nagFindings(app, stack)).toEqual([]);
  });

  test('Serverless: no node or cluster-health alarms or graphs, which could only stay empty; a domain keeps them', () => {
    const metricNames = (stack: Stack) => JSON.stringify(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    const dashboard = (stack: Stack) => JSON.stringify(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const { stack } = monitor({
      endpoint: 'https://k1b2c3d4e5f6g7h8.eu-central-1.aoss.amazonaws.com',
      engine: SearchEngine.amazonOpenSearchServerless({ collectionArn: COLLECTION_ARN }),
    });
    for (const name of ['NodeCpuPercentMax', 'NodeHeapUsedPercentMax', 'NodeDiskFreePercentMin', 'ClusterStatus', 'UnassignedShards', 'JvmMemoryPressureMax', 'ThreadPoolSearchRejectedTotal']) {
      expect(metricNames(stack)).not.toContain(name);
      expect(dashboard(stack)).not.toContain(name);
    }
    expect(metricNames(stack)).toContain('NewestDocumentAgeSeconds');
    const { stack: domain } = monitor({ endpoint: 'https://search-waf-logs-abc.eu-west-1.es.amazonaws.com', engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }) });
    expect(metricNames(domain)).toContain('ClusterStatus');
    expect(dashboard(domain)).toContain('NodeCpuPercent');
  });

  test('self-managed OpenSearch: basic auth, no AWS grant; the default engine leaves the configuration as it was', () => {
    const { stack } = monitor({ endpoint: 'https://opensearch.example.com:9200', engine: SearchEngine.openSearch() }, true);
    expect(config(stack).engine).toEqual({ kind: 'opensearch' });
    expect(JSON.stringify(statements(stack))).not.toMatch(/es:ESHttp|aoss:/);
    const { stack: esStack } = monitor({ endpoint: 'https://es.example.com:9243' }, true);
    expect(config(esStack).engine).toBeUndefined();
  });

  test('a custom domain endpoint signs for the region given, else the stack\'s', () => {
    const given = monitor({ endpoint: 'https://logs.example.com', engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN.replace('eu-west-1', 'us-east-2'), region: 'us-east-2' }) });
    expect(config(given.stack).engine!.region).toBe('us-east-2');
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'ap-south-1' } });
    const imported = opensearch.Domain.fromDomainAttributes(stack, 'D', {
      domainArn: stack.formatArn({ service: 'es', resource: 'domain', resourceName: 'logs' }),
      domainEndpoint: 'https://logs.example.com',
    });
    new ElasticWafMonitor(stack, 'M', { endpoint: 'https://logs.example.com', indexPattern: 'w', engine: SearchEngine.amazonOpenSearchService({ domain: imported }) });
    expect(config(stack).engine!.region).toBe('ap-south-1');
  });

  test.each<[string, Partial<ElasticWafMonitorProps>, boolean, RegExp]>([
    ['Elasticsearch without credentials', { endpoint: 'https://es.example.com' }, false,
      /credentials is required with SearchEngine.elasticsearch\(\) \(the default engine\): give ElasticCredentials.basicAuth\(secret\)/],
    ['OpenSearch without credentials', { engine: SearchEngine.openSearch() }, false, /credentials is required with SearchEngine.openSearch\(\)/],
    ['a domain without ARN nor credentials', { engine: SearchEngine.amazonOpenSearchService({}) }, false, /needs domain or domainArn/],
    ['a malformed domain ARN', { engine: SearchEngine.amazonOpenSearchService({ domainArn: 'arn:aws:es:eu-west-1:111111111111:waf-logs' }) }, false, /domainArn must look like arn:aws:es:<region>:<account>:domain\/<name>/],
    ['Serverless with credentials', { engine: SearchEngine.amazonOpenSearchServerless({ collectionArn: COLLECTION_ARN }) }, true, /credentials must be left out with SearchEngine.amazonOpenSearchServerless\(\)/],
    ['a malformed collection ARN', { engine: SearchEngine.amazonOpenSearchServerless({ collectionArn: 'arn:aws:aoss:eu-west-1:111111111111:index/x' }) }, false, /collectionArn must look like/],
    ['a region that is not one', { engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN, region: 'Ireland' }) }, false, /region must be an AWS region such as eu-west-1, got "Ireland"/],
  ])('%s is a synth error saying what to change', (_name, props, withSecret, message) => {
    expect(() => monitor(props, withSecret)).toThrow(message);
  });

  test('an Elasticsearch API key with OpenSearch is a synth error', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ARN);
    expect(() => new ElasticWafMonitor(stack, 'M', {
      endpoint: 'https://opensearch.example.com', indexPattern: 'w', engine: SearchEngine.openSearch(), credentials: ElasticCredentials.apiKey(secret),
    })).toThrow(/ElasticCredentials.apiKey\(\) is an Elasticsearch API key, which OpenSearch does not accept with SearchEngine.openSearch\(\): use ElasticCredentials.basicAuth\(secret\)/);
  });

  test('both domain and domainArn is a synth error', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const domain = opensearch.Domain.fromDomainEndpoint(stack, 'D', DOMAIN_ENDPOINT);
    expect(() => new ElasticWafMonitor(stack, 'M', {
      endpoint: DOMAIN_ENDPOINT, indexPattern: 'w', engine: SearchEngine.amazonOpenSearchService({ domain, domainArn: DOMAIN_ARN }),
    })).toThrow(/either domain or domainArn, not both/);
  });
});
