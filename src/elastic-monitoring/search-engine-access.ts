import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ElasticCredentials, ElasticCredentialsKind } from './elastic-credentials';
import { SearchEngine, SearchEngineKind } from './search-engine';
import { nagFindingName, suppressNag } from '../shared/nag';
import { EngineConfig, regionOfEndpoint } from './runtime/config';

// Not exported from the package: what the monitor does with the engine prop (configuration, checks, grants).

const DOMAIN_ARN = /^arn:aws[a-z-]*:es:([a-z0-9-]+):\d{12}:domain\/[a-z][a-z0-9-]{2,27}$/;
const COLLECTION_ARN = /^arn:aws[a-z-]*:aoss:([a-z0-9-]+):\d{12}:collection\/[a-z0-9]{3,40}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const FACTORY: Record<SearchEngineKind, string> = {
  [SearchEngineKind.ELASTICSEARCH]: 'SearchEngine.elasticsearch()',
  [SearchEngineKind.OPENSEARCH]: 'SearchEngine.openSearch()',
  [SearchEngineKind.AMAZON_OPENSEARCH_SERVICE]: 'SearchEngine.amazonOpenSearchService()',
  [SearchEngineKind.AMAZON_OPENSEARCH_SERVERLESS]: 'SearchEngine.amazonOpenSearchServerless()',
};

/** The collector signs with its role: an Amazon engine and no credentials. */
export function signsWithRole(engine: SearchEngine, credentials: ElasticCredentials | undefined): boolean {
  return credentials === undefined
    && (engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVICE || engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVERLESS);
}

/** The engine as the collector's configuration holds it, with the region to sign for resolved where it is known. */
export function engineConfig(scope: Construct, engine: SearchEngine, endpoint: string): EngineConfig {
  if (engine.kind === SearchEngineKind.ELASTICSEARCH || engine.kind === SearchEngineKind.OPENSEARCH) return { kind: engine.kind };
  const arn = engine.resourceArn;
  const arnRegion = arn && !Token.isUnresolved(arn) ? (DOMAIN_ARN.exec(arn) ?? COLLECTION_ARN.exec(arn))?.[1] : undefined;
  const endpointRegion = Token.isUnresolved(endpoint) ? undefined : regionOfEndpoint(endpoint);
  return { kind: engine.kind, region: engine.region ?? arnRegion ?? endpointRegion ?? Stack.of(scope).region };
}

/** Every problem of the engine with the credentials, each saying what to change. */
export function engineErrors(engine: SearchEngine, credentials: ElasticCredentials | undefined): string[] {
  const errors: string[] = [];
  const factory = FACTORY[engine.kind];
  const arn = engine.resourceArn;
  switch (engine.kind) {
    case SearchEngineKind.ELASTICSEARCH:
    case SearchEngineKind.OPENSEARCH:
      if (!credentials) {
        errors.push(`credentials is required with ${factory}${engine.kind === SearchEngineKind.ELASTICSEARCH ? ' (the default engine)' : ''}: ` +
          'give ElasticCredentials.basicAuth(secret) or ElasticCredentials.apiKey(secret); only ' +
          'SearchEngine.amazonOpenSearchService() and amazonOpenSearchServerless() sign requests with the collector\'s role instead');
      }
      break;
    case SearchEngineKind.AMAZON_OPENSEARCH_SERVICE:
      if (arn === undefined && !credentials) {
        errors.push(`engine: ${factory} needs domain or domainArn, the domain the collector's role is granted es:ESHttpGet and es:ESHttpPost on ` +
          '(or give credentials for fine-grained access control with an internal user)');
      }
      if (arn !== undefined && !Token.isUnresolved(arn) && !DOMAIN_ARN.test(arn)) {
        errors.push(`engine: domainArn must look like arn:aws:es:<region>:<account>:domain/<name>, got "${arn}"`);
      }
      break;
    case SearchEngineKind.AMAZON_OPENSEARCH_SERVERLESS:
      if (credentials) {
        errors.push(`credentials must be left out with ${factory}: Serverless accepts only requests signed with the collector's role (SigV4)`);
      }
      if (arn !== undefined && !Token.isUnresolved(arn) && !COLLECTION_ARN.test(arn)) {
        errors.push(`engine: collectionArn must look like arn:aws:aoss:<region>:<account>:collection/<id>, got "${arn}"`);
      }
      break;
  }
  const openSearchWithKey = engine.kind === SearchEngineKind.OPENSEARCH || engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVICE;
  if (credentials?.kind === ElasticCredentialsKind.API_KEY && openSearchWithKey) {
    errors.push(`credentials: ElasticCredentials.apiKey() is an Elasticsearch API key, which OpenSearch does not accept with ${factory}: use ElasticCredentials.basicAuth(secret)`);
  }
  if (engine.region !== undefined && !Token.isUnresolved(engine.region) && !REGION.test(engine.region)) {
    errors.push(`engine: region must be an AWS region such as eu-west-1, got "${engine.region}"`);
  }
  return errors;
}

/**
 * Lets the collector's role call the domain's or collection's HTTP API, when it signs its requests. The domain needs
 * its paths (`domain/<name>/*`); cdk-nag's wildcard finding on exactly that resource is acknowledged.
 */
export function grantSearchAccess(scope: Construct, engine: SearchEngine, credentials: ElasticCredentials | undefined, role: iam.IRole): void {
  const arn = engine.resourceArn;
  if (!signsWithRole(engine, credentials) || arn === undefined) return;
  if (engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVERLESS) {
    new iam.Policy(scope, 'SearchAccess', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['aoss:APIAccessAll'], resources: [arn] })],
    });
    return;
  }
  grantDomainHttp(scope, 'SearchAccess', arn, role, ['es:ESHttpGet', 'es:ESHttpPost'], 'the one domain the monitor reads');
}

/**
 * Lets the dashboards import's role call the domain's HTTP API when it signs its requests, on the saved-objects paths
 * of its Dashboards only (`/_dashboards/api/saved_objects/...`; IAM matches the request path after the domain's ARN):
 * POST to the import route, DELETE on the objects' routes only when they are removed on delete. A grant on the
 * domain's paths (domain/<name>/*) would let the function write or delete any index.
 */
export function grantDashboardsAccess(
  scope: Construct, engine: SearchEngine, credentials: ElasticCredentials | undefined, role: iam.IRole, removeOnDelete: boolean,
): void {
  const arn = engine.resourceArn;
  if (!signsWithRole(engine, credentials) || arn === undefined || engine.kind !== SearchEngineKind.AMAZON_OPENSEARCH_SERVICE) return;
  const savedObjects = `${arn}/_dashboards/api/saved_objects`;
  const statements = [new iam.PolicyStatement({ actions: ['es:ESHttpPost'], resources: [`${savedObjects}/_import`] })];
  if (removeOnDelete) statements.push(new iam.PolicyStatement({ actions: ['es:ESHttpDelete'], resources: [`${savedObjects}/*`] }));
  const policy = new iam.Policy(scope, 'DashboardsAccess', { roles: [role], statements });
  if (removeOnDelete) {
    suppressNag(policy, [{
      id: 'AwsSolutions-IAM5',
      reason: 'es:ESHttpDelete is granted on the saved-objects paths of the Dashboards the WAF dashboard is imported into ' +
        '(_dashboards/api/saved_objects/<type>/<id>): the objects it removes on delete, no index.',
      appliesTo: [`Resource::${nagFindingName(policy, `${savedObjects}/*`)}`],
    }]);
  }
}

function grantDomainHttp(scope: Construct, id: string, arn: string, role: iam.IRole, actions: string[], which: string): void {
  const policy = new iam.Policy(scope, id, {
    roles: [role],
    statements: [new iam.PolicyStatement({ actions, resources: [arn, `${arn}/*`] })],
  });
  // The paths' ARN as cdk-nag names it, for a literal ARN, a domain of the stack or a token (a parameter, an import).
  suppressNag(policy, [{
    id: 'AwsSolutions-IAM5',
    reason: `${actions.join(' and ')} ${actions.length > 1 ? 'are' : 'is'} granted on the paths of ${which} (domain/<name>/*), which is how Amazon OpenSearch Service scopes HTTP access.`,
    appliesTo: [`Resource::${nagFindingName(policy, `${arn}/*`)}`],
  }]);
}
