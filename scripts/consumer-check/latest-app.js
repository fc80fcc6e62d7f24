// A consumer app on the newest aws-cdk-lib with the context `cdk init` writes, run by scripts/consumer-check.js in a
// temp dir where only the packed library and the consumer's own dependencies are installed.
// It synthesizes every construct in several configurations with cdk-nag 2 (aspects) and cdk-nag 3 (a validation
// plugin) registered as their READMEs say, reads the validation report CDK writes (CloudFormation schema, nag 3, and
// annotations, which carry nag 2's findings), checks what the report cannot see (ENI permissions of functions in a
// VPC), and writes { problems, summary } as JSON to the file named by CONSUMER_CHECK_RESULT. Every problem names its
// configuration and construct path.
const fs = require('fs');
const path = require('path');
const { App, Aspects, Duration, FeatureFlags, RemovalPolicy, Stack, Validations } = require('aws-cdk-lib');
const acm = require('aws-cdk-lib/aws-certificatemanager');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const ec2 = require('aws-cdk-lib/aws-ec2');
const ecs = require('aws-cdk-lib/aws-ecs');
const iam = require('aws-cdk-lib/aws-iam');
const kinesis = require('aws-cdk-lib/aws-kinesis');
const kms = require('aws-cdk-lib/aws-kms');
const logs = require('aws-cdk-lib/aws-logs');
const s3 = require('aws-cdk-lib/aws-s3');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const sns = require('aws-cdk-lib/aws-sns');
const wafv2 = require('aws-cdk-lib/aws-wafv2');
const { AwsSolutionsChecks: AwsSolutionsChecks2 } = require('cdk-nag2');
const { AwsSolutionsChecks: AwsSolutionsChecks3 } = require('cdk-nag');
const { Counting, ElasticCredentials, ElasticWafMonitor, RealtimeWafGuard, RuleAction } = require('cdk-waf-guard');

const VALIDATE_FLAG = '@aws-cdk/core:validateAgainstDefaultRules';
const SCHEMA_PLUGIN = 'CloudFormation Validate';
// cdk-nag 2 findings are annotations; with the recommended flags CDK reports annotations as this plugin.
const ANNOTATIONS_PLUGIN = 'Construct Annotations';
const NAG2_PLUGIN = 'cdk-nag 2';
const NAG3_PLUGIN = 'AwsSolutions';
const ENI_ACTIONS = ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface'];
const ENI_MANAGED_POLICIES = ['AWSLambdaVPCAccessExecutionRole', 'AWSLambdaENIManagementAccess'];
const problems = [];
const notes = [];
// Configuration of each stack, so every message names the configuration it comes from.
const configurationOf = {};
// Constructs of the library: findings under them count.
const libraryConstructs = [];
// The consumer's own resources (distributions, VPC, ECS, keys, topics): their findings are the consumer's business.
const consumerConstructs = [];
// Deliberately non-compliant consumer resources, placed inside a guard and a monitor (nag) or next to a guard (schema):
// each must be reported, or a clean result would prove nothing.
const negativeControls = [];

const own = (construct) => {
  consumerConstructs.push(construct.node.path);
  return construct;
};
function nagControl(bucket) {
  for (const plugin of [NAG2_PLUGIN, NAG3_PLUGIN]) negativeControls.push({ path: bucket.node.path, plugin, rule: 'AwsSolutions-S10' });
}
const library = (construct) => {
  libraryConstructs.push(construct.node.path);
  return construct;
};

// `new App()` with no context argument reads CDK_CONTEXT_JSON, which the CDK CLI fills from cdk.json: this app reads
// its feature flags exactly as an app started by `cdk synth` does.
const app = new App();
if (!FeatureFlags.of(app).isEnabled(VALIDATE_FLAG)) {
  problems.push(`setup: ${VALIDATE_FLAG} is not on in the app's context, so schema violations would only be warnings`);
}

function edgeStack(configuration, id) {
  const stack = new Stack(app, id, { env: { region: 'us-east-1' } });
  configurationOf[id] = configuration;
  return stack;
}

function monitoringStack(configuration, id) {
  const stack = new Stack(app, id, { env: { region: 'eu-west-1' } });
  configurationOf[id] = configuration;
  return stack;
}

// A guarded distribution has its own domain names: the guard refuses its *.cloudfront.net name by default.
function distribution(stack, props = {}) {
  return own(new cloudfront.Distribution(stack, 'Distribution', {
    domainNames: ['www.example.com', 'api.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555'),
    defaultBehavior: { origin: new origins.HttpOrigin('www.example.com') },
    additionalBehaviors: { '/api/*': { origin: new origins.HttpOrigin('api.example.com') } },
    ...props,
  }));
}

function apiKeySecret(stack) {
  return own(new secretsmanager.Secret(stack, 'ElasticApiKey'));
}

// A construction error (a prop the library rejects) is a problem of that configuration; the others still run.
let constructionFailed = false;
function configure(configuration, build) {
  try {
    build();
  } catch (error) {
    constructionFailed = true;
    problems.push(`[${configuration}] construction failed: ${error.message}`);
  }
}

// ---- default: every construct with only its required props, guard and monitor in one stack
configure('default', () => {
  const stack = edgeStack('default', 'DefaultEdge');
  const guard = library(new RealtimeWafGuard(stack, 'Guard'));
  guard.attachTo(distribution(stack));
  library(new ElasticWafMonitor(stack, 'Monitor', {
    endpoint: 'https://es.example.com:9243',
    credentials: ElasticCredentials.apiKey(apiKeySecret(stack)),
    indexPattern: 'waf-*',
  }));
});

// ---- full: every optional feature on; construct ids with `_` and digits, a 64-character guard name
configure('full', () => {
  const edge = edgeStack('full', 'FullEdge');
  const guard = library(new RealtimeWafGuard(edge, 'Edge_Guard_2', {
    guardName: 'consumer_check-guard-with-a-long-name-0123456789_abcdefghijklmno',
    rules: [
      { host: 'www.example.com', threshold: 100, window: Duration.minutes(1) },
      { id: 'login_2', host: '*.example.com', pathPrefix: '/login', threshold: 20, window: Duration.seconds(10), blockFor: Duration.hours(1), action: RuleAction.COUNT },
      { host: 'api.example.com', pathPrefix: '/v1/', threshold: 5000, window: Duration.hours(1), blockFor: Duration.days(30), action: RuleAction.BLOCK },
    ],
    shardCount: 2,
    additionalLogFields: ['cs-user-agent', 'sc-status', 'cs-method'],
    samplingRate: 50,
    allowList: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'],
    trustedProxies: ['192.0.2.0/24', '2001:db8:1::/48'],
    maxNewBlocksPerMinute: 100,
    rulesCacheDuration: Duration.seconds(10),
    batchSize: 500,
    maxBatchingWindow: Duration.seconds(2),
    retryAttempts: 5,
    maxRecordAge: Duration.hours(2),
    logProcessorMemorySize: 1024,
    rateBasedBackstop: { limit: 2000, evaluationWindow: Duration.minutes(2) },
    managedRuleGroups: [
      { name: 'AWSManagedRulesCommonRuleSet', excludedRules: ['SizeRestrictions_BODY', 'NoUserAgent_HEADER'] },
      { name: 'AWSManagedRulesKnownBadInputsRuleSet' },
    ],
    alertEmails: ['waf-oncall@example.com', 'security@example.org'],
    logRetention: logs.RetentionDays.ONE_YEAR,
    historyRetention: Duration.days(365),
    counterRetention: Duration.hours(3),
    removalPolicy: RemovalPolicy.DESTROY,
    metricsNamespace: 'Consumer/WafGuard',
    counting: Counting.localFirst(20),
  }));
  guard.attachTo(distribution(edge));
  // Negative control next to the guard's own resources, under its construct path: no SSL enforcement, no access logs.
  nagControl(new s3.Bucket(guard, 'ConsumerBucket_1'));

  const monitoring = monitoringStack('full', 'FullMonitoring');
  const vpc = own(new ec2.Vpc(monitoring, 'Vpc', { maxAzs: 2, natGateways: 1 }));
  const cluster = own(new ecs.Cluster(monitoring, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }));
  const wafLogs = own(new logs.LogGroup(monitoring, 'WafLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }));
  const taskDefinition = own(new ecs.FargateTaskDefinition(monitoring, 'WafTask'));
  taskDefinition.addContainer('waf', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    logging: ecs.LogDrivers.awsLogs({ logGroup: wafLogs, streamPrefix: 'waf' }),
  });
  const service = own(new ecs.FargateService(monitoring, 'WafService', { cluster, taskDefinition }));
  const credentials = own(new secretsmanager.Secret(monitoring, 'ElasticLogin', {
    generateSecretString: { secretStringTemplate: JSON.stringify({ user: 'waf-monitor' }), generateStringKey: 'pass' },
  }));
  const monitor = library(new ElasticWafMonitor(monitoring, 'Waf_Monitor_2', {
    endpoint: 'https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443',
    credentials: ElasticCredentials.basicAuth(credentials, { usernameKey: 'user', passwordKey: 'pass' }),
    indexPattern: 'waf-logs-*',
    fields: { latencyMs: 'waf.duration_ms', host: 'host.keyword', status: 'waf.status' },
    statusValues: { allowed: 'pass', blocked: 'deny', alerted: 'flag' },
    vpc,
    collectionInterval: Duration.minutes(2),
    window: Duration.minutes(4),
    ingestDelay: Duration.minutes(2),
    timeoutThreshold: Duration.seconds(60),
    apdexThreshold: Duration.millis(50),
    topHostCount: 25,
    requestTimeout: Duration.seconds(45),
    metricNamespace: 'Consumer/Elastic',
    clusterName: 'waf-prod_1',
    alarms: {
      latency: { threshold: 150 },
      blockedPercent: { threshold: 40, evaluationPeriods: 3, datapointsToAlarm: 2 },
      nodeDiskFree: { enabled: false },
      ecsTaskCrashes: { threshold: 2 },
    },
    alertEmails: ['waf-oncall@example.com'],
    ecsService: service,
    ecsLogGroup: wafLogs,
    dashboardName: 'waf-health_2',
    // The custom resource that imports the saved objects, in the VPC with the collector's secret.
    kibanaDashboards: { endpoint: 'https://waf-logs.kb.eu-west-1.aws.elastic-cloud.com:9243/s/waf', removeOnDelete: true },
    logRetention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  }));
  nagControl(new s3.Bucket(monitor, 'ConsumerBucket_2'));
});

// ---- existing: the consumer's own stream, key, topic, WebACL (createWebAcl: false + blockRules()) and L1 distribution;
// an imported secret and the consumer's alarm topic for the monitor
configure('existing', () => {
  const edge = edgeStack('existing', 'ExistingEdge');
  const key = own(new kms.Key(edge, 'ConsumerKey', { enableKeyRotation: true }));
  // As the guard's docs ask: CloudWatch alarms publish to the key-encrypted topic.
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
  }));
  const stream = own(new kinesis.Stream(edge, 'ConsumerStream', {
    encryption: kinesis.StreamEncryption.KMS, encryptionKey: key, streamMode: kinesis.StreamMode.ON_DEMAND,
  }));
  const topic = own(new sns.Topic(edge, 'ConsumerTopic', { masterKey: key, enforceSSL: true }));
  const guard = library(new RealtimeWafGuard(edge, 'guard_3', {
    existingStream: stream,
    alertTopic: topic,
    createWebAcl: false,
    rules: [{ host: 'shop.example.com', threshold: 300, window: Duration.minutes(5) }],
    rateBasedBackstop: { limit: 10_000 },
  }));
  const webAcl = own(new wafv2.CfnWebACL(edge, 'ConsumerWebAcl', {
    scope: 'CLOUDFRONT',
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'consumer-web-acl', sampledRequestsEnabled: true },
    rules: guard.blockRules(10),
  }));
  guard.attachTo(distribution(edge, { webAclId: webAcl.attrArn }));
  // The consumer's key for what the guard creates (stream, topic), on a distribution the consumer defines as an L1.
  const cfnDistribution = own(new cloudfront.CfnDistribution(edge, 'CfnDistribution', {
    distributionConfig: {
      enabled: true,
      aliases: ['shop.example.com'],
      viewerCertificate: {
        acmCertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555',
        sslSupportMethod: 'sni-only',
        minimumProtocolVersion: 'TLSv1.2_2021',
      },
      origins: [{ id: 'shop', domainName: 'shop.example.com', customOriginConfig: { originProtocolPolicy: 'https-only' } }],
      defaultCacheBehavior: {
        targetOriginId: 'shop',
        viewerProtocolPolicy: 'redirect-to-https',
        cachePolicyId: cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
      },
    },
  }));
  library(new RealtimeWafGuard(edge, 'Guard4Key', {
    encryptionKey: key,
    rules: [{ host: 'shop.example.com', pathPrefix: '/cart', threshold: 50, window: Duration.seconds(30), action: RuleAction.COUNT }],
  })).attachTo(cfnDistribution);
  // Schema negative control: WAF descriptions reject `;`, so this must be a validation error with the flag on.
  negativeControls.push({
    path: new wafv2.CfnIPSet(edge, 'SchemaControl', {
      scope: 'CLOUDFRONT', ipAddressVersion: 'IPV4', addresses: [], description: 'Consumer set; not valid',
    }).node.path,
    plugin: 'CloudFormation Validate',
    rule: 'F3031',
  });

  const monitoring = monitoringStack('existing', 'ExistingMonitoring');
  const alarmTopic = own(new sns.Topic(monitoring, 'ConsumerAlarms', {
    masterKey: own(new kms.Key(monitoring, 'AlarmKey', { enableKeyRotation: true })), enforceSSL: true,
  }));
  library(new ElasticWafMonitor(monitoring, 'Monitor', {
    endpoint: 'https://es.internal.example.com',
    credentials: ElasticCredentials.apiKey(
      secretsmanager.Secret.fromSecretCompleteArn(monitoring, 'ImportedApiKey', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:es-api-key-AbCdEf'),
      { apiKeyKey: 'key' }),
    indexPattern: 'waf-*',
    alarmTopic,
  }));
});


// As each major's README registers it: cdk-nag 2 as an aspect, cdk-nag 3 as a validation plugin.
Aspects.of(app).add(new AwsSolutionsChecks2());
Validations.of(app).addPlugins(new AwsSolutionsChecks3(app));

const outdir = app.outdir;
const reportFile = path.join(outdir, 'validation-report.json');
fs.rmSync(reportFile, { force: true });
if (!constructionFailed) {
  try {
    app.synth();
  } catch (error) {
    // Expected: the negative controls fail validation. Anything that wrote no report is a real synthesis error.
    if (!fs.existsSync(reportFile)) problems.push(`synth failed before validation: ${error.stack ?? error}`);
  }
}

const stackIdOf = (p) => p.replace(/^\//, '').split('/')[0];
const describe = (p) => `[${configurationOf[stackIdOf(p)] ?? 'unknown configuration'}] ${p.replace(/^\//, '')}`;
const labelOf = (plugin) => ({ [NAG2_PLUGIN]: 'cdk-nag 2', [NAG3_PLUGIN]: 'cdk-nag 3' })[plugin] ?? plugin;
const under = (p, prefix) => p === prefix || p.startsWith(`${prefix}/`);
const inLibrary = (p) => libraryConstructs.some((c) => under(p, c));
const inConsumer = (p) => consumerConstructs.some((c) => under(p, c));

const summary = {
  cdkLib: require('aws-cdk-lib/package.json').version,
  nag2: require('cdk-nag2/package.json').version,
  nag3: require('cdk-nag/package.json').version,
  configurations: [...new Set(Object.values(configurationOf))],
  stacks: Object.keys(configurationOf).length,
  libraryConstructs: libraryConstructs.length,
  resources: 0,
  libraryResources: 0,
  vpcFunctions: 0,
  findings: { schema: 0, nag2: 0, nag3: 0, annotations: 0, vpcFunctions: 0 },
};

if (!constructionFailed && fs.existsSync(reportFile)) {
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  const seenControls = new Set();
  for (const pluginReport of report.pluginReports) {
    for (const violation of pluginReport.violations) {
      for (const construct of violation.violatingConstructs) {
        const p = construct.constructPath ?? '';
        const text = String(violation.description ?? '').trim();
        // Annotation descriptions start with the nag rule for cdk-nag 2 findings, e.g. `AwsSolutions-S10: ...`.
        const nag2Rule = pluginReport.pluginName === ANNOTATIONS_PLUGIN ? /^(AwsSolutions-[A-Za-z0-9]+(\[[^\]]*\])?):/.exec(text) : null;
        const plugin = nag2Rule ? NAG2_PLUGIN : pluginReport.pluginName;
        const rule = nag2Rule ? nag2Rule[1] : violation.ruleName;
        const control = negativeControls.find((c) => c.plugin === plugin && under(p, c.path));
        if (control) {
          const severe = plugin !== SCHEMA_PLUGIN || violation.severity === 'error';
          if (rule.startsWith(control.rule) && severe) seenControls.add(control);
          continue;
        }
        const where = `${describe(p)}${construct.cloudFormationResource?.logicalId ? ` (${construct.cloudFormationResource.logicalId})` : ''}`;
        const line = `${where}: ${rule} (${violation.severity}): ${nag2Rule ? text.slice(nag2Rule[0].length).trim() : text}`;
        if (plugin === SCHEMA_PLUGIN) {
          // Schema errors fail the user's synth wherever they are; the consumer's own resources here are plain
          // aws-cdk-lib L2s, so a violation there means this app is wrong and must be fixed too.
          summary.findings.schema++;
          problems.push(`CloudFormation schema: ${line}${inLibrary(p) ? '' : ' [consumer resource of this check]'}`);
        } else if (plugin === NAG2_PLUGIN || plugin === NAG3_PLUGIN) {
          // Findings on the consumer's own resources are the consumer's business; any other resource was made by the
          // library (inside its constructs, or at stack level on its behalf).
          if (inConsumer(p)) continue;
          summary.findings[plugin === NAG2_PLUGIN ? 'nag2' : 'nag3']++;
          problems.push(`${labelOf(plugin)}: ${line}`);
        } else if (pluginReport.pluginName === ANNOTATIONS_PLUGIN) {
          if (inConsumer(p)) continue;
          // The library's own error annotations fail a user's synth; warnings are noise users see but can live with.
          if (violation.severity === 'error') {
            summary.findings.annotations++;
            problems.push(`annotation: ${line}`);
          } else {
            notes.push(`warning annotation: ${line}`);
          }
        } else {
          problems.push(`${pluginReport.pluginName}: ${line}`);
        }
      }
    }
  }
  for (const control of negativeControls) {
    if (!seenControls.has(control)) {
      problems.push(`negative control not reported: ${labelOf(control.plugin)} did not report ${control.rule}` +
        `${control.plugin === SCHEMA_PLUGIN ? ' as an error' : ''} on ${describe(control.path)}, so a clean result would prove nothing`);
    }
  }

  // Functions in a VPC: Lambda refuses to create them unless the role may manage ENIs when the function is created.
  // CloudFormation validation and cdk-nag do not look at this, and a synth succeeds; a deployment does not.
  for (const file of fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf8'));
    const resources = template.Resources ?? {};
    summary.resources += Object.keys(resources).length;
    for (const [logicalId, resource] of Object.entries(resources)) {
      const p = resource.Metadata?.['aws:cdk:path'] ?? `${file.replace('.template.json', '')}/${logicalId}`;
      if (!inLibrary(p)) continue;
      summary.libraryResources++;
      if (resource.Type === 'AWS::Lambda::Function' && resource.Properties?.VpcConfig) {
        summary.vpcFunctions++;
        const missing = missingEniPermissions(resources, logicalId, resource);
        if (missing) summary.findings.vpcFunctions++;
        if (missing) problems.push(`VPC function: ${describe(p)} (${logicalId}): ${missing}`);
      }
    }
  }
}

function actionMatches(pattern, action) {
  const re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

/** Why the function's role cannot create its ENIs at creation time, or undefined when it can. */
function missingEniPermissions(resources, functionId, fn) {
  const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
  if (!roleId || !resources[roleId]) return `its role (${JSON.stringify(fn.Properties.Role)}) is not a role of this stack; cannot verify ENI permissions`;
  const role = resources[roleId];
  const managed = JSON.stringify(role.Properties?.ManagedPolicyArns ?? []);
  if (ENI_MANAGED_POLICIES.some((name) => managed.includes(`/${name}`))) return undefined;
  const dependsOn = [fn.DependsOn ?? []].flat();
  const statements = [];
  for (const policy of role.Properties?.Policies ?? []) statements.push(...[policy.PolicyDocument?.Statement ?? []].flat());
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    if (!JSON.stringify(r.Properties?.Roles ?? []).includes(JSON.stringify({ Ref: roleId }))) continue;
    // A policy the function does not depend on may be attached only after Lambda has checked the role.
    if (!dependsOn.includes(id)) continue;
    statements.push(...[r.Properties.PolicyDocument?.Statement ?? []].flat());
  }
  const allowed = (action) => statements.some((s) => s.Effect === 'Allow' && [s.Action ?? []].flat().some((a) => actionMatches(a, action)));
  const missing = ENI_ACTIONS.filter((a) => !allowed(a));
  if (missing.length === 0) return undefined;
  return `has VpcConfig but role ${roleId} lacks ${missing.join(', ')} (neither ${ENI_MANAGED_POLICIES.join(' nor ')} nor a ` +
    `policy the function DependsOn grants them): Lambda rejects the function at deployment (${functionId})`;
}

// The full configuration runs the monitor's collector in a VPC: without it the ENI check above would check nothing.
if (!constructionFailed && summary.resources > 0 && summary.vpcFunctions === 0) {
  problems.push('VPC function: no library function with VpcConfig was found, so ENI permissions were not checked');
}

// By configuration, then construct path: one configuration's problems read together.
problems.sort((a, b) => a.localeCompare(b));
fs.writeFileSync(process.env.CONSUMER_CHECK_RESULT ?? path.join(outdir, 'consumer-check-result.json'),
  JSON.stringify({ problems, notes, summary }, undefined, 2));
