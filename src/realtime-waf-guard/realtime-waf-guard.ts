import { Annotations, Aspects, CfnResource, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, IConstruct } from 'constructs';
import { guardTable } from './guard-table';
import {
  integerInRange, normalizeCidrs, resolveGuardName, secondsInRange, stableId, validateEmails,
} from './guard-validation';
import { DEFAULT_COUNTER_RETENTION_SECONDS, DEFAULT_METRICS_NAMESPACE, ENV, METRIC } from './handler-env';
import { HostRule, toStoredRules } from './host-rule';
import { IpSetSyncFunction } from './ip-set-sync-function';
import { DETECTION_FIELDS, deliveredFieldOrder } from './log-fields';
import { LogProcessorFunction } from './log-processor-function';
import { attachWebAcl, RealtimeLogAttachment } from './realtime-log-attachment';
import { RulesSeederFunction } from './rules-seeder-function';
import { BLOCKS_TABLE, COUNTERS_TABLE, HISTORY_TABLE, RULES_TABLE } from './table-schemas';
import {
  ManagedRuleGroup, managedGroupRule, RateBasedBackstop, rateBasedStatement, validateManagedRuleGroups, visibility,
} from './waf-rules';
import { limitLength, wafDescription } from '../shared/cfn-text';
import { handlerDefaults, PINNED_RUNTIME_REASON } from '../shared/handler-defaults';
import { NagSuppression, suppressNag } from '../shared/nag';

/** Properties of a {@link RealtimeWafGuard}. All are optional; the defaults are the secure, documented choice. */
export interface RealtimeWafGuardProps {
  /**
   * Name of this guard: the `service` dimension of its metrics and the prefix of its WAF rule names, so several guards
   * in one account keep them apart. 1 to 64 letters, digits, `_` or `-`.
   * @default - the stack name and construct path, e.g. `MyStack-Guard`
   */
  readonly guardName?: string;

  /**
   * Host rules seeded into the rules table. Operators may add, change or disable rows at run time; rows the stack did
   * not create are never touched by deployments.
   * @default - no rules: nothing is detected until rows are added to the rules table
   */
  readonly rules?: HostRule[];

  /**
   * An existing Kinesis stream to receive the real-time logs, instead of a new one. Give no `shardCount` with it.
   * @default - a new stream encrypted with `encryptionKey`
   */
  readonly existingStream?: kinesis.IStream;

  /**
   * Shards of a provisioned stream; each takes 1,000 records/s (logged requests/s after sampling).
   * @default - on-demand capacity, which follows traffic (and attacks) without planning
   */
  readonly shardCount?: number;

  /**
   * Customer managed key for the stream and the alert topic the guard creates. With a key of your own and the guard's
   * alarms, let `cloudwatch.amazonaws.com` use it (`kms:Decrypt`, `kms:GenerateDataKey*`), or alarms cannot reach the
   * topic. Unused (and a synth warning) when both `existingStream` and `alertTopic` are given.
   * @default - a new key with yearly rotation, usable by CloudWatch alarms of this account, when the guard creates the
   * stream or the topic; no key otherwise
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Real-time log fields to deliver besides those detection needs (`timestamp`, `c-ip`, `cs-host`, `cs-uri-stem`,
   * `x-forwarded-for`), for other consumers of the stream. Names as CloudFront spells them.
   * @default - only the detection fields, the smallest and cheapest records
   */
  readonly additionalLogFields?: string[];

  /**
   * Percent of viewer requests CloudFront logs, 1 to 100. Sampled counts are scaled by 100 / rate before comparison
   * with rule thresholds, so thresholds stay in real requests; a low rate makes detection of slow attackers coarser.
   * @default 100
   */
  readonly samplingRate?: number;

  /**
   * CIDRs (IPv4 or IPv6; bare addresses become /32 or /128) the guard never blocks, e.g. your monitoring and offices.
   * Applies to the guard's own blocks, not to the rate-based backstop or managed rule groups.
   * @default - none
   */
  readonly allowList?: string[];

  /**
   * CIDRs of proxies in front of CloudFront whose `X-Forwarded-For` is trusted: for requests from them, the right-most
   * address in `X-Forwarded-For` that is not a trusted proxy is the client. Without it the header, which any client
   * can forge, is ignored.
   * @default - none: the client is always `c-ip`
   */
  readonly trustedProxies?: string[];

  /**
   * Most new blocks per minute across all rules; further offenders are alerted but not blocked, so a bad rule cannot
   * block the world.
   * @default 50
   */
  readonly maxNewBlocksPerMinute?: number;

  /**
   * How long the log processor caches the rules table; an edit takes effect after at most this long.
   * @default Duration.seconds(30)
   */
  readonly rulesCacheDuration?: Duration;

  /**
   * Most records per log processor invocation, 1 to 10,000.
   * @default 1000
   */
  readonly batchSize?: number;

  /**
   * How long Lambda gathers records before invoking the log processor, 0 to 300 s; detection latency grows with it.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retries of a failed batch (halved each time by bisection) before it goes to the dead-letter queue, 0 to 10,000.
   * Failures are mostly throttling during the very spikes the guard exists for, so the default retries generously;
   * `maxRecordAge` bounds how long.
   * @default 10
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are skipped and sent to the dead-letter queue: blocking on stale traffic has no value.
   * 1 minute to 7 days.
   * @default Duration.hours(1)
   */
  readonly maxRecordAge?: Duration;

  /**
   * Memory of the log processor in MB, 128 to 10,240 (CPU grows with it).
   * @default 512
   */
  readonly logProcessorMemorySize?: number;

  /**
   * Create a WebACL with the guard's rules. With `false`, add `blockRules()` to a WebACL you own.
   * @default true
   */
  readonly createWebAcl?: boolean;

  /**
   * A native WAF rate-based rule after the IP-set rules, as a backstop.
   * @default - none
   */
  readonly rateBasedBackstop?: RateBasedBackstop;

  /**
   * AWS managed rule groups added to the guard's WebACL after its own rules. Needs `createWebAcl`.
   * @default - none
   */
  readonly managedRuleGroups?: ManagedRuleGroup[];

  /**
   * Email addresses subscribed to the alert topic (each confirms by email). Not together with `alertTopic`.
   * @default - no subscriptions
   */
  readonly alertEmails?: string[];

  /**
   * An existing topic for alerts, instead of a new one. Not together with `alertEmails`. If it is encrypted, its key
   * must let `cloudwatch.amazonaws.com` use it for the guard's alarms to be delivered.
   * @default - a new topic encrypted with `encryptionKey`
   */
  readonly alertTopic?: sns.ITopic;

  /**
   * Retention of the handlers' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * How long block and release history is kept, in whole days (1 day to 10 years).
   * @default Duration.days(90)
   */
  readonly historyRetention?: Duration;

  /**
   * How long a request counter lives after its last update (DynamoDB TTL). It must cover the longest rule window
   * (1 hour) and `maxRecordAge`, so that a late retry of a batch still finds the marks that stop it counting twice.
   * @default - 2 hours, or `maxRecordAge` when that is longer
   */
  readonly counterRetention?: Duration;

  /**
   * Removal policy of what is worth keeping: the KMS key, the rules table, the history table and the handlers' log
   * groups. The stream, counters, blocks, queue and topic only hold short-lived data and are always destroyed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * CloudWatch namespace of the handlers' metrics.
   * @default 'CdkWafGuard'
   */
  readonly metricsNamespace?: string;

  /**
   * Alarms on the guard's own health, notifying the alert topic: the new-block budget spent, an IP set full, repeated
   * sync errors, batches in the dead-letter queue, and log processing more than a minute behind.
   * @default true
   */
  readonly operationalAlarms?: boolean;
}

/**
 * Blocks abusive clients of CloudFront distributions within seconds: CloudFront real-time logs feed a Kinesis stream,
 * a Lambda counts requests per host rule and client IP, and a single-writer Lambda keeps WAF IP sets in line with
 * a DynamoDB block table, releasing blocks on time and alerting by SNS.
 *
 * All resources are in us-east-1, where CloudFront-scope WAF resources live.
 */
export class RealtimeWafGuard extends Construct {
  /** The guard's name: the `service` dimension of its metrics. */
  public readonly guardName: string;
  /** The stream CloudFront delivers real-time logs to. */
  public readonly stream: kinesis.IStream;
  /**
   * The key encrypting the stream and the alert topic the guard created; undefined when it created neither
   * (`existingStream` and `alertTopic` given) and no key was passed.
   */
  public readonly encryptionKey?: kms.IKey;
  /** The real-time log config; `attachTo()` sets it on distributions. */
  public readonly realtimeLogConfig: cloudfront.IRealtimeLogConfig;
  /** The delivered log fields, in the order CloudFront writes them. */
  public readonly logFields: string[];
  /** Host rules, keyed by rule id; operators may edit them at run time. */
  public readonly rulesTable: dynamodb.ITable;
  /** Request counters per rule, client IP and time bucket (expire by TTL). */
  public readonly countersTable: dynamodb.ITable;
  /** Active blocks: the source of truth of the WAF IP sets. */
  public readonly blocksTable: dynamodb.ITable;
  /** Every block and release, kept for `historyRetention`. */
  public readonly historyTable: dynamodb.ITable;
  /** Counts requests and records blocks, from the stream. */
  public readonly logProcessor: lambda.IFunction;
  /** The single writer of the WAF IP sets. */
  public readonly ipSetSync: lambda.IFunction;
  /** Backs the custom resource that seeds the rules table. */
  public readonly rulesSeeder: lambda.IFunction;
  /** Where batches that keep failing go (stream position metadata, not log lines). */
  public readonly deadLetterQueue: sqs.IQueue;
  /** Receives one digest of new blocks and releases per sync run. */
  public readonly alertTopic: sns.ITopic;
  /** Blocked IPv4 addresses (CLOUDFRONT scope); managed by the sync function only. */
  public readonly ipv4Set: wafv2.CfnIPSet;
  /** Blocked IPv6 addresses (CLOUDFRONT scope); managed by the sync function only. */
  public readonly ipv6Set: wafv2.CfnIPSet;
  /** The guard's WebACL, or undefined with `createWebAcl: false`. */
  public readonly webAcl: wafv2.CfnWebACL | undefined;
  /** Alarms on the guard's own health (empty with `operationalAlarms: false`). */
  public readonly alarms: cloudwatch.IAlarm[];
  /** Clients over a threshold were not blocked because the new-block budget was spent (undefined without alarms). */
  public readonly budgetExceededAlarm?: cloudwatch.IAlarm;
  /** An IP set holds WAF's 10,000 addresses and blocks are left out (undefined without alarms). */
  public readonly ipSetFullAlarm?: cloudwatch.IAlarm;
  /** The IP set sync failed three minutes in a row (undefined without alarms). */
  public readonly syncErrorsAlarm?: cloudwatch.IAlarm;
  /** Batches were set aside in the dead-letter queue (undefined without alarms). */
  public readonly deadLetterAlarm?: cloudwatch.IAlarm;
  /** Log processing is more than a minute behind the stream (undefined without alarms). */
  public readonly processingLagAlarm?: cloudwatch.IAlarm;

  private readonly metricsNamespace: string;
  private readonly backstop?: wafv2.CfnWebACL.RateBasedStatementProperty;

  constructor(scope: Construct, id: string, props: RealtimeWafGuardProps = {}) {
    super(scope, id);
    requireUsEast1(this);

    // Validate everything before creating resources, so a bad prop fails with its own message.
    this.guardName = resolveGuardName(props.guardName, this);
    const storedRules = toStoredRules(props.rules ?? [], stableId(this));
    this.logFields = deliveredFieldOrder([...DETECTION_FIELDS, ...(props.additionalLogFields ?? [])]);
    const samplingRate = integerInRange('samplingRate', props.samplingRate, 1, 100, 100);
    const allowList = normalizeCidrs('allowList', props.allowList);
    const trustedProxies = normalizeCidrs('trustedProxies', props.trustedProxies);
    const maxNewBlocksPerMinute = integerInRange('maxNewBlocksPerMinute', props.maxNewBlocksPerMinute, 1, 10_000, 50);
    const rulesCacheSeconds = secondsInRange('rulesCacheDuration', props.rulesCacheDuration, 0, 3600, 30);
    const batchSize = integerInRange('batchSize', props.batchSize, 1, 10_000, 1000);
    const batchingWindowSeconds = secondsInRange('maxBatchingWindow', props.maxBatchingWindow, 0, 300, 1);
    const retryAttempts = integerInRange('retryAttempts', props.retryAttempts, 0, 10_000, 10);
    const maxRecordAgeSeconds = secondsInRange('maxRecordAge', props.maxRecordAge, 60, 7 * 24 * 3600, 3600);
    const memorySize = integerInRange('logProcessorMemorySize', props.logProcessorMemorySize, 128, 10_240, 512);
    const historyDays = wholeDays(props.historyRetention);
    const counterRetentionSeconds = secondsInRange(
      'counterRetention', props.counterRetention, Math.max(3600, maxRecordAgeSeconds), 7 * 24 * 3600,
      Math.max(DEFAULT_COUNTER_RETENTION_SECONDS, maxRecordAgeSeconds));
    const alertEmails = validateEmails('alertEmails', props.alertEmails);
    const createWebAcl = props.createWebAcl ?? true;
    const managedGroups = props.managedRuleGroups ?? [];
    validateManagedRuleGroups(managedGroups);
    this.backstop = props.rateBasedBackstop ? rateBasedStatement(props.rateBasedBackstop) : undefined;
    if (props.existingStream && props.shardCount !== undefined) {
      throw new Error('Give either existingStream or shardCount, not both: shardCount only sizes a stream the guard creates');
    }
    if (props.alertTopic && alertEmails.length > 0) {
      throw new Error('Give either alertTopic or alertEmails, not both: subscribe the addresses to your own topic instead');
    }
    if (!createWebAcl && managedGroups.length > 0) {
      throw new Error('managedRuleGroups need the guard\'s WebACL: with createWebAcl: false, add them to your own WebACL');
    }
    const shardCount = props.shardCount === undefined ? undefined : integerInRange('shardCount', props.shardCount, 1, 10_000, 1);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;

    // A key only when something the guard creates uses it: a retained key that nothing uses still costs $1 a month.
    const needsKey = props.existingStream === undefined || props.alertTopic === undefined;
    if (props.encryptionKey) {
      if (!needsKey) {
        Annotations.of(this).addWarningV2('cdk-waf-guard:unusedEncryptionKey',
          'encryptionKey is not used: the guard creates neither a stream (existingStream is given) nor a topic ' +
          '(alertTopic is given). Leave encryptionKey out.');
      }
      this.encryptionKey = props.encryptionKey;
    } else if (needsKey) {
      const key = new kms.Key(this, 'Key', {
        description: `Encrypts the real-time log stream and alert topic of ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy,
      });
      // CloudWatch alarms publish to the encrypted alert topic as the CloudWatch service, which needs the key.
      key.addToResourcePolicy(new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }));
      this.encryptionKey = key;
    }

    this.stream = props.existingStream ?? this.createStream(shardCount, this.encryptionKey!);

    const cloudFrontRole = new iam.Role(this, 'RealtimeLogRole', {
      assumedBy: new iam.ServicePrincipal('cloudfront.amazonaws.com'),
      description: 'CloudFront writes real-time logs to the guard stream',
    });
    // Endpoint.fromKinesisStream grants the role exactly the stream and key actions CloudFront needs.
    this.realtimeLogConfig = new cloudfront.RealtimeLogConfig(this, 'RealtimeLogConfig', {
      endPoints: [cloudfront.Endpoint.fromKinesisStream(this.stream, cloudFrontRole)],
      fields: this.logFields,
      samplingRate,
    });

    this.rulesTable = guardTable(this, 'RulesTable', RULES_TABLE, { pointInTimeRecovery: true, removalPolicy });
    const countersTable = guardTable(this, 'CountersTable', COUNTERS_TABLE, {
      pointInTimeRecovery: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    suppressNag(countersTable, [{
      id: 'AwsSolutions-DDB3',
      reason: 'Short-lived counters: every item expires within the longest rule window; a restore would bring back stale counts.',
    }]);
    this.countersTable = countersTable;
    const blocksTable = guardTable(this, 'BlocksTable', BLOCKS_TABLE, { pointInTimeRecovery: true, removalPolicy: RemovalPolicy.DESTROY });
    this.blocksTable = blocksTable;
    this.historyTable = guardTable(this, 'HistoryTable', HISTORY_TABLE, { pointInTimeRecovery: true, removalPolicy });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      // The AWS managed key is usable by every principal of the account through SQS, so the handlers need no KMS grant
      // (a customer managed key would need kms:GenerateDataKey* and kms:ReEncrypt* wildcards).
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    suppressNag(this.deadLetterQueue, [{
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination of the guard\'s event source mappings; it has no further DLQ.',
    }]);

    if (props.alertTopic) {
      this.alertTopic = props.alertTopic;
    } else {
      const topic = new sns.Topic(this, 'AlertTopic', {
        displayName: `WAF guard ${this.guardName}`,
        masterKey: this.encryptionKey!,
        enforceSSL: true,
      });
      for (const email of alertEmails) topic.addSubscription(new subscriptions.EmailSubscription(email));
      this.alertTopic = topic;
    }

    this.ipv4Set = this.ipSet('Ipv4Set', 'IPV4');
    this.ipv6Set = this.ipSet('Ipv6Set', 'IPV6');

    const commonEnv = {
      [ENV.ALLOW_LIST]: allowList.join(','),
      [ENV.METRICS_NAMESPACE]: this.metricsNamespace,
      [ENV.SERVICE_NAME]: this.guardName,
    };

    // ---- LogProcessor: stream -> counters -> blocks
    const processor = handlerDefaults(this, 'LogProcessor', {
      description: 'Counts CloudFront real-time log lines per host rule and client IP and records blocks',
      logRetention,
      removalPolicy,
      timeout: Duration.seconds(60),
      memorySize,
      environment: {
        ...commonEnv,
        [ENV.RULES_TABLE]: this.rulesTable.tableName,
        [ENV.COUNTERS_TABLE]: this.countersTable.tableName,
        [ENV.BLOCKS_TABLE]: this.blocksTable.tableName,
        [ENV.FIELDS]: this.logFields.join(','),
        [ENV.SAMPLING_RATE]: String(samplingRate),
        [ENV.TRUSTED_PROXIES]: trustedProxies.join(','),
        [ENV.MAX_NEW_BLOCKS_PER_MINUTE]: String(maxNewBlocksPerMinute),
        [ENV.RULES_CACHE_SECONDS]: String(rulesCacheSeconds),
        [ENV.COUNTER_RETENTION_SECONDS]: String(counterRetentionSeconds),
      },
    });
    const logProcessor = new LogProcessorFunction(this, 'LogProcessor', processor.functionOptions);
    suppressNag(logProcessor, [pinnedRuntime()]);
    allow(processor.role, this.rulesTable, 'dynamodb:Scan');
    allow(processor.role, this.countersTable, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    allow(processor.role, this.blocksTable, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    logProcessor.addEventSource(new sources.KinesisEventSource(this.stream, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize,
      maxBatchingWindow: Duration.seconds(batchingWindowSeconds),
      // Must stay 1: counter updates are made idempotent per shard and batch, which relies on one invocation per shard
      // at a time, in order. A higher factor would let a retried batch and its successor race and double-count.
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      retryAttempts,
      maxRecordAge: Duration.seconds(maxRecordAgeSeconds),
      onFailure: new sources.SqsDlq(this.deadLetterQueue),
      reportBatchItemFailures: true,
    }));
    this.logProcessor = logProcessor;

    // ---- IpSetSync: blocks table -> WAF IP sets, history, alerts
    const sync = handlerDefaults(this, 'IpSetSync', {
      description: 'Rebuilds the WAF IP sets from the block table, releases expired blocks and sends alert digests',
      logRetention,
      removalPolicy,
      timeout: Duration.minutes(2),
      environment: {
        ...commonEnv,
        [ENV.BLOCKS_TABLE]: this.blocksTable.tableName,
        [ENV.HISTORY_TABLE]: this.historyTable.tableName,
        [ENV.WAF_SCOPE]: 'CLOUDFRONT',
        [ENV.IPV4_SET_NAME]: ipSetName(this.ipv4Set),
        [ENV.IPV4_SET_ID]: this.ipv4Set.attrId,
        [ENV.IPV6_SET_NAME]: ipSetName(this.ipv6Set),
        [ENV.IPV6_SET_ID]: this.ipv6Set.attrId,
        [ENV.MAX_SET_SIZE]: '10000',
        [ENV.TOPIC_ARN]: this.alertTopic.topicArn,
        [ENV.HISTORY_RETENTION_DAYS]: String(historyDays),
      },
    });
    const ipSetSync = new IpSetSyncFunction(this, 'IpSetSync', {
      ...sync.functionOptions,
      // The single writer: WAF allows about one IP-set write per second, and one writer never loses an update.
      reservedConcurrentExecutions: 1,
    });
    suppressNag(ipSetSync, [pinnedRuntime()]);
    sync.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'],
      resources: [this.ipv4Set.attrArn, this.ipv6Set.attrArn],
    }));
    allow(sync.role, this.blocksTable,
      'dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    allow(sync.role, this.historyTable, 'dynamodb:PutItem');
    grantPublish(sync.role, this.alertTopic);
    ipSetSync.addEventSource(new sources.DynamoEventSource(blocksTable, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: 3,
      onFailure: new sources.SqsDlq(this.deadLetterQueue),
      // Only rows not yet applied: the sync stamps notifiedAt on rows it has handled, which must not trigger it again.
      filters: [lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
        // `exists` only works on leaf nodes: the leaf of a number attribute in a stream image is its `N`.
        // Rows whose alert failed carry retryAt and wait for the scheduled run, so a failing run cannot retrigger itself.
        dynamodb: { NewImage: { notifiedAt: { N: lambda.FilterRule.notExists() }, retryAt: { N: lambda.FilterRule.notExists() } } },
      })],
    }));
    // Expiry does not wait for DynamoDB TTL (which may take days): a sweep every minute releases blocks on time.
    new events.Rule(this, 'ExpirySweep', {
      description: limitLength(`Releases expired blocks of ${this.node.path}`, 512),
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(ipSetSync)],
    });
    suppressNag(sync.role.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: 'dynamodb:ListStreams, granted for the block table stream trigger, supports no resource-level permissions.',
      appliesTo: ['Resource::*'],
    }]);
    this.ipSetSync = ipSetSync;

    // ---- Rules seeder: a custom resource backed directly by the function (no provider framework to maintain)
    const seeder = handlerDefaults(this, 'RulesSeeder', {
      description: 'Seeds the guard rules table from the stack rules, leaving operator rows alone',
      logRetention,
      removalPolicy,
      timeout: Duration.minutes(1),
    });
    const rulesSeeder = new RulesSeederFunction(this, 'RulesSeeder', seeder.functionOptions);
    suppressNag(rulesSeeder, [pinnedRuntime()]);
    allow(seeder.role, this.rulesTable, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    const rulesResource = new CustomResource(this, 'Rules', {
      serviceToken: rulesSeeder.functionArn,
      resourceType: 'Custom::WafGuardRules',
      properties: { TableName: this.rulesTable.tableName, RulesJson: JSON.stringify(storedRules) },
    });
    // The role's policy must exist before CloudFormation invokes the seeder.
    rulesResource.node.addDependency(seeder.role);
    this.rulesSeeder = rulesSeeder;

    this.webAcl = createWebAcl ? this.createWebAcl(managedGroups) : undefined;
    if (props.operationalAlarms ?? true) {
      const minute = Duration.minutes(1);
      this.budgetExceededAlarm = this.alarm('BudgetExceededAlarm', this.metricBudgetExceeded(), 1, 1,
        'Clients over a threshold were not blocked: the new-block budget per minute was spent (a bad rule, or a large attack).');
      this.ipSetFullAlarm = this.alarm('IpSetFullAlarm', this.metricBlocksOverIpSetCap(), 1, 1,
        'Blocks are left out of WAF: an IP set holds its 10,000 addresses.');
      // Lambda's own error count: it also counts timeouts, which end the function before it can emit a metric.
      this.syncErrorsAlarm = this.alarm('SyncErrorsAlarm', this.ipSetSync.metricErrors({ period: minute, statistic: cloudwatch.Stats.SUM }), 1, 3,
        'The IP set sync failed three minutes in a row: new blocks and releases are not reaching WAF.');
      this.deadLetterAlarm = this.alarm('DeadLetterAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM }), 1, 1,
        'Batches of real-time logs or block changes failed every retry and were set aside in the dead-letter queue.');
      this.processingLagAlarm = this.alarm('ProcessingLagAlarm',
        this.logProcessor.metric('IteratorAge', { period: minute, statistic: cloudwatch.Stats.MAXIMUM }), 60_000, 5,
        'Log processing has been more than a minute behind the stream for five minutes: detection is late.');
      this.alarms = [this.budgetExceededAlarm, this.ipSetFullAlarm, this.syncErrorsAlarm, this.deadLetterAlarm, this.processingLagAlarm];
    } else {
      this.alarms = [];
    }
  }

  /** A failure of the guard itself, notifying the alert topic: each one means clients that should be blocked may not be. */
  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, periods: number, description: string): cloudwatch.IAlarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: limitLength(`${this.guardName}: ${description}`, 1024),
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alertTopic));
    return alarm;
  }

  /**
   * Sets the guard's real-time log config on the default and every additional cache behavior of a distribution
   * (including behaviors added after this call), and the guard's WebACL when it has one (`createWebAcl`). With
   * `createWebAcl: false` only the log config is set: add `blockRules()` to the distribution's own WebACL.
   *
   * Accepts a `cloudfront.Distribution` (or another L2 whose default child is the distribution) and a
   * `cloudfront.CfnDistribution`. An imported distribution (`Distribution.fromDistributionAttributes`) cannot be changed
   * by a stack and fails at synth with the settings to make by hand. A behavior's own `realtimeLogConfig` is replaced;
   * a distribution that already has another WebACL fails at synth.
   *
   * @param distribution the distribution to protect: a `cloudfront.Distribution` or `cloudfront.CfnDistribution`
   */
  public attachTo(distribution: IConstruct): void {
    const cfn = distributionResource(distribution);
    if (!cfn) {
      throw new Error(
        `attachTo: ${distribution.node.path} is not a distribution this stack defines (an imported IDistribution cannot be ` +
        'changed). Pass the Distribution or CfnDistribution, or set by hand on that distribution: ' +
        'RealtimeLogConfigArn of every cache behavior = guard.realtimeLogConfig.realtimeLogConfigArn' +
        (this.webAcl ? ', and WebACLId = guard.webAcl.attrArn.' : '.'),
      );
    }
    if (this.webAcl) attachWebAcl(distribution, cfn, this.webAcl.attrArn);
    Aspects.of(cfn).add(new RealtimeLogAttachment(cfn, this.realtimeLogConfig.realtimeLogConfigArn));
  }

  /**
   * The guard's WebACL rules, for a WebACL you own (`createWebAcl: false`): block the IPv4 set, block the IPv6 set
   * and, when configured, the rate-based backstop, with consecutive priorities from `firstPriority`.
   */
  public blockRules(firstPriority: number): wafv2.CfnWebACL.RuleProperty[] {
    integerInRange('firstPriority', firstPriority, 0, 1_000_000, 0);
    const rule = (suffix: string, priority: number, statement: wafv2.CfnWebACL.StatementProperty): wafv2.CfnWebACL.RuleProperty => ({
      name: `${this.guardName}-${suffix}`,
      priority,
      action: { block: {} },
      statement,
      visibilityConfig: visibility(`${this.guardName}-${suffix}`),
    });
    const rules = [
      rule('BlockedIPv4', firstPriority, { ipSetReferenceStatement: { arn: this.ipv4Set.attrArn } }),
      rule('BlockedIPv6', firstPriority + 1, { ipSetReferenceStatement: { arn: this.ipv6Set.attrArn } }),
    ];
    if (this.backstop) rules.push(rule('RateBackstop', firstPriority + 2, { rateBasedStatement: this.backstop }));
    return rules;
  }

  /**
   * A metric the guard's handlers emit, with the guard's namespace, `service` dimension, region (us-east-1) and account,
   * so a graph in another region's dashboard draws it and an alarm in another region fails at synth instead of
   * watching an empty namespace. Sum per minute by default.
   *
   * @param metricName one of `RecordsProcessed`, `MalformedLines`, `ProcessingLagMs`, `BlocksCreated`, `WouldBlock`,
   * `BlockBudgetExceeded`, `BlocksReleased`, `ActiveBlocks`, `BlocksOverIpSetCap`, `IpSetSyncErrors` (each also has
   * its own method); any other name fails at synth
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const known: readonly string[] = Object.values(METRIC);
    if (!known.includes(metricName)) {
      throw new Error(`metric("${metricName}"): the guard emits no such metric. Use one of ${known.join(', ')}.`);
    }
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.guardName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(1),
      region: Stack.of(this).region,
      account: Stack.of(this).account,
      ...props,
    });
  }

  /** Log lines read from the stream (after sampling). Sum per period by default. */
  public metricRecordsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.RECORDS, props);
  }

  /** Clients over a threshold that were not blocked because the new-block budget was spent. Sum per period by default. */
  public metricBudgetExceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.BLOCK_BUDGET_EXCEEDED, props);
  }

  /** Addresses and prefixes in the IP sets after each sync run. Maximum per period by default. */
  public metricActiveBlocks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACTIVE_BLOCKS, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Active blocks left out of an IP set that holds WAF's 10,000 addresses. Maximum per period by default. */
  public metricBlocksOverIpSetCap(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DROPPED_OVER_CAP, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Failed WAF or DynamoDB calls of the IP set sync. Sum per period by default. */
  public metricSyncErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SYNC_ERRORS, props);
  }

  /** New blocks recorded (BLOCK rules). Sum per period by default. */
  public metricBlocks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.NEW_BLOCKS, props);
  }

  /** Clients a COUNT rule would have blocked. Sum per period by default. */
  public metricWouldBlock(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.WOULD_BLOCK, props);
  }

  /** Blocks released when their period ended. Sum per period by default. */
  public metricReleases(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.RELEASES, props);
  }

  /** Log lines that could not be parsed and were skipped. Sum per period by default. */
  public metricMalformedLines(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.MALFORMED, props);
  }

  /** Milliseconds from a record reaching the stream to its processing. Maximum per period by default. */
  public metricProcessingLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.LAG, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  private createStream(shardCount: number | undefined, encryptionKey: kms.IKey): kinesis.IStream {
    const stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey,
      streamMode: shardCount === undefined ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    suppressNag(stream, [{
      id: 'AwsSolutions-KDS3',
      reason: 'A customer managed key on purpose: the records hold client IPs and paths, and the key policy and CloudTrail ' +
        'control and audit who reads them. One key serves the stream and the alert topic.',
    }]);
    return stream;
  }

  private ipSet(id: string, ipAddressVersion: 'IPV4' | 'IPV6'): wafv2.CfnIPSet {
    return new wafv2.CfnIPSet(this, id, {
      scope: 'CLOUDFRONT',
      ipAddressVersion,
      addresses: [],
      // Constant on purpose: any change to the set's properties makes CloudFormation send its (empty) address list,
      // which unblocks everyone until the next sync (at most a minute).
      description: 'Clients blocked by cdk-waf-guard, written by the guard sync function only',
    });
  }

  private createWebAcl(managedGroups: readonly ManagedRuleGroup[]): wafv2.CfnWebACL {
    const own = this.blockRules(0);
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      description: wafDescription(`Blocks clients detected by ${this.node.path}`),
      visibilityConfig: visibility(this.guardName),
      rules: [...own, ...managedGroups.map((group, i) => managedGroupRule(group, own.length + i))],
    });
  }
}

/** CloudFront-scope WAF resources, and so the whole guard, exist only in us-east-1. */
function requireUsEast1(scope: Construct): void {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.region)) {
    throw new Error(
      `RealtimeWafGuard ${scope.node.path} needs a stack with an explicit region: CloudFront-scope WAF resources exist only ` +
      `in us-east-1. Create stack ${stack.stackName} with env: { region: 'us-east-1' }.`,
    );
  }
  if (stack.region !== 'us-east-1') {
    throw new Error(
      `RealtimeWafGuard ${scope.node.path} must be in us-east-1, where CloudFront-scope WAF resources live; stack ` +
      `${stack.stackName} is in ${stack.region}. Put the guard in a stack with env: { region: 'us-east-1' } ` +
      '(a distribution in another stack can still use it: set crossRegionReferences on your stacks).',
    );
  }
}

/** The CloudFormation distribution behind an L2 distribution, or the L1 itself; undefined for an imported one. */
function distributionResource(scope: IConstruct): cloudfront.CfnDistribution | undefined {
  // By resource type rather than instanceof, which fails across two copies of aws-cdk-lib.
  const isDistribution = (c: IConstruct | undefined): c is cloudfront.CfnDistribution =>
    c !== undefined && CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::CloudFront::Distribution';
  if (isDistribution(scope)) return scope;
  const child = scope.node.defaultChild;
  return isDistribution(child) ? child : undefined;
}

/** The IP set's name, from its Ref (`name|id|scope`): the set keeps the name CloudFormation generated. */
function ipSetName(set: wafv2.CfnIPSet): string {
  return Fn.select(0, Fn.split('|', set.ref));
}

function wholeDays(retention: Duration | undefined): number {
  if (retention === undefined) return 90;
  const days = retention.toDays({ integral: false });
  if (Token.isUnresolved(days) || !Number.isInteger(days) || days < 1 || days > 3650) {
    throw new Error(`historyRetention must be whole days from 1 to 3650 (got ${retention.toHumanString()})`);
  }
  return days;
}

/** Exactly these actions on exactly this table (no index ARNs, no KMS: the tables use the AWS managed key). */
function allow(role: iam.IRole, table: dynamodb.ITable, ...actions: string[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
}

/** sns:Publish plus the two KMS actions an encrypted topic needs (grantPublish would add kms:GenerateDataKey*). */
function grantPublish(role: iam.IRole, topic: sns.ITopic): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
  if (topic.masterKey) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [topic.masterKey.keyArn],
    }));
  }
}

function pinnedRuntime(): NagSuppression {
  return { id: 'AwsSolutions-L1', reason: PINNED_RUNTIME_REASON };
}
