import { CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { KibanaDashboardsFunction } from './kibana-dashboards-function';
import { KibanaDashboardsFlavour, KibanaDashboardsOptions } from './kibana-dashboards-options';
import { SearchEngine, SearchEngineKind } from './search-engine';
import { allowVpcNetworking, handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';
import { CollectorConfig } from './runtime/config';
import {
  DASHBOARDS_RESOURCE_TYPE, dashboardsDigest, DashboardsResourceProperties, resourceSource,
} from './runtime/kibana-dashboards-resource';
import { importUrlErrors, isAmazonOpenSearchServiceHost } from './runtime/saved-objects-import';
import { DashboardFlavour, flavourOf } from './saved-objects/saved-objects';

// Not exported from the package: the custom resource behind the monitor's `kibanaDashboards`.

/** The flavour the options ask for, else the one the engine calls for. */
export function dashboardsFlavour(options: KibanaDashboardsOptions, config: CollectorConfig): DashboardFlavour {
  return options.flavour === KibanaDashboardsFlavour.OPENSEARCH_DASHBOARDS ? 'opensearch'
    : options.flavour === KibanaDashboardsFlavour.KIBANA ? 'kibana' : flavourOf(config);
}

/** Every problem of `kibanaDashboards` with the monitor's engine and settings, each saying what to change. */
export function kibanaDashboardsErrors(options: KibanaDashboardsOptions | undefined, engine: SearchEngine, allowInsecureHttp: boolean): string[] {
  if (!options) return [];
  const errors: string[] = [];
  const flavourValues = Object.values(KibanaDashboardsFlavour) as string[];
  if (options.flavour !== undefined && !flavourValues.includes(options.flavour)) {
    errors.push(`kibanaDashboards.flavour must be KibanaDashboardsFlavour.KIBANA or OPENSEARCH_DASHBOARDS, got "${options.flavour}"`);
  }
  if (engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVERLESS) {
    errors.push('kibanaDashboards is not available with SearchEngine.amazonOpenSearchServerless(): a collection\'s Dashboards take no ' +
      'saved-objects import signed with a role; remove kibanaDashboards and import the file of `cdk-waf-guard dashboards export` in the console');
  }
  const kibanaForDomain = engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVICE && options.flavour === KibanaDashboardsFlavour.KIBANA;
  if (kibanaForDomain) {
    errors.push('kibanaDashboards.flavour: an Amazon OpenSearch Service domain serves OpenSearch Dashboards: use KibanaDashboardsFlavour.OPENSEARCH_DASHBOARDS or leave flavour out');
  }
  // The objects follow the flavour, the monitor's queries the engine: Kibana's objects cannot read OpenSearch's documents
  // the monitor describes, nor OpenSearch Dashboards' Elasticsearch's (and each product refuses the other's import).
  if (engine.kind === SearchEngineKind.OPENSEARCH && options.flavour === KibanaDashboardsFlavour.KIBANA) {
    errors.push('kibanaDashboards.flavour: SearchEngine.openSearch() is shown by OpenSearch Dashboards, not Kibana: ' +
      'use KibanaDashboardsFlavour.OPENSEARCH_DASHBOARDS or leave flavour out');
  }
  if (engine.kind === SearchEngineKind.ELASTICSEARCH && options.flavour === KibanaDashboardsFlavour.OPENSEARCH_DASHBOARDS) {
    errors.push('kibanaDashboards.flavour: SearchEngine.elasticsearch() (the default engine) is shown by Kibana, not OpenSearch Dashboards: ' +
      'use KibanaDashboardsFlavour.KIBANA or leave flavour out; for an OpenSearch cluster set engine to SearchEngine.openSearch()');
  }
  const endpoint = options.endpoint;
  if (endpoint === undefined) {
    errors.push('kibanaDashboards.endpoint is required: give Kibana\'s or OpenSearch Dashboards\' URL, such as https://kibana.example.com:5601');
  }
  if (endpoint === undefined || Token.isUnresolved(endpoint)) return errors;
  const urlErrors = importUrlErrors(endpoint);
  errors.push(...urlErrors.map((e) => `kibanaDashboards.endpoint: ${e.replace(/^the URL/, 'it')}`));
  if (urlErrors.length > 0) return errors;
  const url = new URL(endpoint);
  if (url.protocol === 'http:' && !allowInsecureHttp) {
    errors.push(`kibanaDashboards.endpoint must be https:// (got ${url.protocol}//${url.host}): the credentials would travel unencrypted; ` +
      'set the monitor\'s allowInsecureHttp only for a Kibana reachable solely inside your VPC');
  }
  const path = url.pathname.replace(/\/+$/, '');
  // importUrlErrors refuses any other path on a domain; the bare endpoint, which the CLI completes, is refused here so
  // the template names the URL the import uses.
  if (engine.kind === SearchEngineKind.AMAZON_OPENSEARCH_SERVICE && isAmazonOpenSearchServiceHost(url.hostname) && path === '') {
    errors.push(`kibanaDashboards.endpoint: an Amazon OpenSearch Service domain serves Dashboards under /_dashboards: give ${url.protocol}//${url.host}/_dashboards`);
  }
  return errors;
}

export interface KibanaDashboardsProps {
  readonly options: KibanaDashboardsOptions;
  readonly config: CollectorConfig;
  readonly engine: SearchEngine;
  /** Grants the role the collector's search-engine access for the import (SigV4 on the domain); none with a secret. */
  readonly grantAccess: (scope: Construct, role: iam.IRole) => void;
  readonly secret?: secretsmanager.ISecret;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The collector's own groups: the same rules reach the cluster and Kibana. */
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The WAF dashboard's saved objects, imported by a custom resource backed directly by its function (no provider
 * framework): the collector's credentials and network, the monitor's field settings as properties.
 */
export class KibanaDashboards extends Construct {
  public readonly function: lambda.IFunction;
  public readonly role: iam.IRole;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: KibanaDashboardsProps) {
    super(scope, id);
    const { config, options } = props;
    const flavour = dashboardsFlavour(options, config);
    const defaults = handlerDefaults(this, '', {
      description: `Imports the WAF dashboard of ${config.clusterName} into ${flavour === 'kibana' ? 'Kibana' : 'OpenSearch Dashboards'}`,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      // One import, or one delete per object (11), each within 30 s: a timed-out function would leave CloudFormation
      // waiting an hour for an answer. An unreachable product stops the deletes at the first.
      timeout: Duration.minutes(7),
    });
    if (props.vpc) allowVpcNetworking(defaults.role);
    const fn = new KibanaDashboardsFunction(this, 'Function', {
      ...defaults.functionOptions,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.vpc ? props.securityGroups : undefined,
    });
    suppressNag(fn, [pinnedRuntime()]);
    props.secret?.grantRead(defaults.role);
    props.grantAccess(this, defaults.role);
    if (options.removeOnDelete === true) {
      // Before removing, the function checks that no live resource of this stack (a replacement) holds the same objects.
      defaults.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStackResources'], resources: [Stack.of(this).stackId] }));
    }

    const source = resourceSource(config);
    const properties: DashboardsResourceProperties = {
      Endpoint: options.endpoint,
      Flavour: flavour,
      Source: JSON.stringify(source),
      Digest: dashboardsDigest(source, flavour),
      RemoveOnDelete: options.removeOnDelete === true ? 'true' : 'false',
      ...(config.credentials
        ? { Credentials: JSON.stringify(config.credentials) }
        : { SigningRegion: config.engine?.region }),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: DASHBOARDS_RESOURCE_TYPE,
      properties: { ...properties },
    });
    // The role's policies (secret, domain, network interfaces) must exist before CloudFormation invokes the function.
    this.resource.node.addDependency(defaults.role, ...this.node.children.filter((c) => c instanceof iam.Policy));
    this.function = fn;
    this.role = defaults.role;
  }
}
