import { Annotations, Aspects, CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, IConstruct } from 'constructs';
import { localFirstHoldsNothing, localFirstRemedies, shardsText } from './counting';
import { grantGuardAccess } from './guard-access';
import { GuardAlarms } from './guard-alarms';
import { GuardConsole } from './guard-console';
import { addGuardOutputs } from './guard-outputs';
import { GuardSettings, resolveGuardSettings } from './guard-settings';
import { GuardTables } from './guard-tables';
import { METRIC } from './handler-env';
import { LogPipeline } from './log-pipeline';
import { attachWebAcl, RealtimeLogAttachment } from './realtime-log-attachment';
import { AttachOptions, RealtimeWafGuardProps } from './realtime-waf-guard-props';
import { TimestreamAnalytics } from './timestream-analytics';
import { WafEnforcement } from './waf-enforcement';
import { suppressNag } from '../shared/nag';


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
  /** Blocked IPv6 prefixes (CLOUDFRONT scope); managed by the sync function only. */
  public readonly ipv6Set: wafv2.CfnIPSet;
  /**
   * Blocked IPv4 clients as matched on the X-Forwarded-For address of requests from trusted proxies: those found behind a
   * proxy, and direct ones too, so that a blocked client is blocked on either route; managed by the sync function
   * only. Undefined without `trustedProxies`.
   */
  public readonly forwardedIpv4Set?: wafv2.CfnIPSet;
  /** Blocked IPv6 prefixes as matched behind trusted proxies, like `forwardedIpv4Set`. Undefined without `trustedProxies`. */
  public readonly forwardedIpv6Set?: wafv2.CfnIPSet;
  /** The trusted proxies' CIDRs, one set per address family (empty without `trustedProxies`); defined by the stack. */
  public readonly trustedProxySets: wafv2.CfnIPSet[];
  /** The guard's WebACL, or undefined with `createWebAcl: false`. */
  public readonly webAcl: wafv2.CfnWebACL | undefined;
  /** The Timestream database the records are written to; undefined without `timestream`. */
  public readonly timestreamDatabaseName?: string;
  /** The Timestream table the records are written to; undefined without `timestream`. */
  public readonly timestreamTableName?: string;
  /** Query detection's scheduled function; undefined with streaming detection. */
  public readonly queryDetector?: lambda.IFunction;
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
  /** Rows of the rules table are refused (malformed, or a threshold too low for the sampling rate) (undefined without alarms). */
  public readonly invalidRulesAlarm?: cloudwatch.IAlarm;
  /**
   * Counter writes of `Counting.LOCAL_FIRST` failed three minutes in a row: counts wait in memory and detection is
   * late (undefined without alarms or with `Counting.EXACT`, where such failures retry the batch).
   */
  public readonly counterWritesAlarm?: cloudwatch.IAlarm;
  /** The operator console dashboard (undefined with `dashboard: false`). */
  public readonly dashboard?: cloudwatch.Dashboard;
  /**
   * Backs the dashboard's custom widget: lists blocks and acts on them. Whoever may invoke it can unblock and block
   * (undefined with `dashboard: false`).
   */
  public readonly consoleFunction?: lambda.IFunction;

  private readonly metricsNamespace: string;
  private readonly enforcement: WafEnforcement;
  private readonly blocksCloudFrontDomain: boolean;
  /** The distributions attached so far, so that attaching one again changes nothing. */
  private readonly attachments = new Map<cloudfront.CfnDistribution, RealtimeLogAttachment>();

  constructor(scope: Construct, id: string, props: RealtimeWafGuardProps = {}) {
    super(scope, id);
    requireUsEast1(this);
    const settings = resolveGuardSettings(this, props);
    this.explainCounting(settings, props.existingStream !== undefined);
    this.guardName = settings.guardName;
    this.logFields = settings.logFields;
    this.metricsNamespace = settings.metricsNamespace;
    this.blocksCloudFrontDomain = settings.blockCloudFrontDomain;

    this.encryptionKey = this.createKeyIfUsed(props, settings);
    this.deadLetterQueue = this.createDeadLetterQueue();
    this.alertTopic = props.alertTopic ?? this.createAlertTopic(settings);

    const tables = new GuardTables(this, 'Tables', settings);
    this.rulesTable = tables.rules;
    this.countersTable = tables.counters;
    this.blocksTable = tables.blocks;
    this.historyTable = tables.history;
    this.rulesSeeder = tables.rulesSeeder;

    const pipeline = new LogPipeline(this, 'Detection', {
      settings, tables, deadLetterQueue: this.deadLetterQueue, existingStream: props.existingStream, encryptionKey: this.encryptionKey,
    });
    this.stream = pipeline.stream;
    this.realtimeLogConfig = pipeline.realtimeLogConfig;
    this.logProcessor = pipeline.logProcessor;
    if (settings.timestream) {
      const analytics = new TimestreamAnalytics(this, 'Timestream', {
        settings,
        timestream: settings.timestream,
        tables,
        logProcessor: pipeline.logProcessor,
        guardPath: this.node.path,
        encryptionKey: this.encryptionKey,
      });
      this.timestreamDatabaseName = analytics.databaseName;
      this.timestreamTableName = analytics.tableName;
      this.queryDetector = analytics.queryDetector;
    }

    this.enforcement = new WafEnforcement(this, 'Enforcement', {
      settings, tables, alertTopic: this.alertTopic, deadLetterQueue: this.deadLetterQueue, guardPath: this.node.path,
    });
    this.ipv4Set = this.enforcement.ipv4Set;
    this.ipv6Set = this.enforcement.ipv6Set;
    this.forwardedIpv4Set = this.enforcement.forwardedIpv4Set;
    this.forwardedIpv6Set = this.enforcement.forwardedIpv6Set;
    this.trustedProxySets = this.enforcement.trustedProxySets;
    this.ipSetSync = this.enforcement.ipSetSync;
    this.webAcl = this.enforcement.webAcl;

    if (settings.operationalAlarms) {
      const alarms = new GuardAlarms(this, 'Alarms', {
        guardName: this.guardName,
        alertTopic: this.alertTopic,
        budgetExceeded: this.metricBudgetExceeded(),
        blocksOverIpSetCap: this.metricBlocksOverIpSetCap(),
        invalidRuleRows: this.metricInvalidRuleRows(),
        counterWriteErrors: settings.counting.slackPercent === undefined ? undefined : this.metricCounterWriteErrors(),
        logProcessor: this.logProcessor,
        ipSetSync: this.ipSetSync,
        deadLetterQueue: this.deadLetterQueue,
      });
      this.budgetExceededAlarm = alarms.budgetExceeded;
      this.ipSetFullAlarm = alarms.ipSetFull;
      this.syncErrorsAlarm = alarms.syncErrors;
      this.deadLetterAlarm = alarms.deadLetter;
      this.processingLagAlarm = alarms.processingLag;
      this.invalidRulesAlarm = alarms.invalidRules;
      this.counterWritesAlarm = alarms.counterWrites;
      this.alarms = alarms.all;
    } else {
      this.alarms = [];
    }

    if (props.dashboard ?? true) {
      const operatorConsole = new GuardConsole(this, 'Console', {
        settings,
        blocksTable: this.blocksTable,
        historyTable: this.historyTable,
        // Both are functions the guard created, each with a log group of its own.
        logProcessorLogGroup: (this.logProcessor as lambda.Function).logGroup,
        ipSetSyncLogGroup: (this.ipSetSync as lambda.Function).logGroup,
        alarms: this.alarms,
        metric: (name, options) => this.metric(name, options),
      });
      this.dashboard = operatorConsole.dashboard;
      this.consoleFunction = operatorConsole.widgetFunction;
    }

    addGuardOutputs(this, this);
  }

  /**
   * Sets the guard's real-time log config on the default and every additional cache behavior of a distribution
   * (including behaviors added after this call), and the guard's WebACL when it has one (`createWebAcl`). With
   * `createWebAcl: false` only the log config is set: add `blockRules()` to the distribution's own WebACL.
   *
   * Accepts a `cloudfront.Distribution` (or another L2 whose default child is the distribution) and a
   * `cloudfront.CfnDistribution`. An imported distribution (`Distribution.fromDistributionAttributes`) cannot be changed
   * by a stack and fails at synth with the settings to make by hand. A behavior that already has another real-time log
   * config fails at synth, naming the behavior, unless `options.replaceExistingRealtimeLogConfig`; a distribution that
   * already has another WebACL fails at synth.
   *
   * @param distribution the distribution to protect: a `cloudfront.Distribution` or `cloudfront.CfnDistribution`
   * @param options what attaching may change
   */
  public attachTo(distribution: IConstruct, options: AttachOptions = {}): void {
    const cfn = distributionResource(distribution);
    if (!cfn) {
      throw new Error(
        `attachTo: ${distribution.node.path} is not a distribution this stack defines (an imported IDistribution cannot be ` +
        'changed). Pass the Distribution or CfnDistribution, or set by hand on that distribution: ' +
        'RealtimeLogConfigArn of every cache behavior = guard.realtimeLogConfig.realtimeLogConfigArn' +
        (this.webAcl ? ', and WebACLId = guard.webAcl.attrArn.' : '.'),
      );
    }
    // A second call for the same distribution (two code paths wiring it) is a no-op: the WebACL set is the guard's own.
    const earlier = this.attachments.get(cfn);
    if (earlier) {
      if (options.replaceExistingRealtimeLogConfig) earlier.replaceExisting = true;
      return;
    }
    if (this.webAcl) attachWebAcl(distribution, cfn, this.webAcl.attrArn);
    const attachment = new RealtimeLogAttachment(
      cfn, this.realtimeLogConfig.realtimeLogConfigArn, this.blocksCloudFrontDomain, options.replaceExistingRealtimeLogConfig ?? false);
    this.attachments.set(cfn, attachment);
    Aspects.of(cfn).add(attachment);
  }

  /**
   * The guard's WebACL rules, for a WebACL you own (`createWebAcl: false`): block the IPv4 set, block the IPv6 set,
   * with `trustedProxies` the forwarded IPv4 and IPv6 sets (requests from a trusted proxy whose right-most
   * X-Forwarded-For address is blocked), when configured the rate-based backstop, and with `blockCloudFrontDomain` the
   * default-domain rule, with consecutive priorities from `firstPriority`: 3 priorities by default (IPv4, IPv6, the
   * default-domain rule). At synth, a priority of these that
   * another rule of the same WebACL or rule group uses fails, naming both rules.
   */
  public blockRules(firstPriority: number): wafv2.CfnWebACL.RuleProperty[] {
    return this.enforcement.blockRules(firstPriority);
  }

  /**
   * Lets the grantee operate the guard: every `cdk-waf-guard blocks` and `rules` command and the dashboard's console
   * widget. Exactly: on the rules table `dynamodb:Scan`, `GetItem`, `PutItem`; on the blocks table `Scan`, `PutItem`,
   * `UpdateItem`; on the history table `Query`; `cloudformation:DescribeStackResources` on this stack's id (the CLI's
   * `--stack`); `lambda:GetFunctionConfiguration` on `logProcessor` (the sampling rate `rules` checks a row against);
   * with the dashboard, `lambda:GetFunctionConfiguration` and `lambda:InvokeFunction` on `consoleFunction` and
   * `cloudwatch:GetDashboard` on `dashboard`. No KMS permission: the tables use the AWS managed key.
   * The dashboard's graphs also need `cloudwatch:GetMetricData` and Logs Insights queries, which have no per-resource
   * form: grant those where the account's read-only policies are managed.
   *
   * @param grantee the principal of the operators (a role, user or group)
   */
  public grantOperator(grantee: iam.IGrantable): iam.Grant {
    return grantGuardAccess(this, grantee, this.accessTargets(), true);
  }

  /**
   * Lets the grantee look without acting: `cdk-waf-guard blocks list` and `history`, `rules list`, and the dashboard.
   * `grantOperator` without the table writes and without invoking the console widget (the widget acts for whoever may
   * invoke it, so a read-only viewer sees the dashboard with the widget refused; the CLI lists the same rows).
   *
   * @param grantee the principal of the viewers (a role, user or group)
   */
  public grantReadOnly(grantee: iam.IGrantable): iam.Grant {
    return grantGuardAccess(this, grantee, this.accessTargets(), false);
  }

  private accessTargets() {
    return {
      rulesTable: this.rulesTable,
      blocksTable: this.blocksTable,
      historyTable: this.historyTable,
      logProcessor: this.logProcessor,
      consoleFunction: this.consoleFunction,
      dashboard: this.dashboard,
    };
  }

  /**
   * A metric the guard's handlers emit, with the guard's namespace, `service` dimension, region (us-east-1) and account,
   * so a graph in another region's dashboard draws it and an alarm in another region fails at synth instead of
   * watching an empty namespace. Sum per minute by default.
   *
   * @param metricName one of `RecordsProcessed`, `MalformedLines`, `ProcessingLagMs`, `BlocksCreated`, `WouldBlock`,
   * `BlockBudgetExceeded`, `BlocksReleased`, `ActiveBlocks`, `ActiveBlocksIpv4`, `ActiveBlocksIpv6`,
   * `ActiveBlocksProxied`, `BlocksOverIpSetCap`, `IpSetSyncErrors`, `InvalidRuleRows`, `StaleOffences` (each also has
   * its own method), and with `timestream` `AnalyticsRecordsWritten`, `AnalyticsRecordsRejected`,
   * `AnalyticsRecordsFailed` and `DetectionQueryErrors`, and with `Counting.LOCAL_FIRST` `CounterWriteErrors`,
   * `HeldCountsDropped`, `RecordsAlreadyCounted` and `HeldPairs` (each with its own method); any other name fails at
   * synth
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

  /** IPv4 addresses in the source-address IP set after each sync run. Maximum per period by default. */
  public metricActiveBlocksIpv4(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACTIVE_BLOCKS_IPV4, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** IPv6 prefixes in the source-address IP set after each sync run. Maximum per period by default. */
  public metricActiveBlocksIpv6(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACTIVE_BLOCKS_IPV6, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Entries of the forwarded IP sets (blocked clients as matched behind trusted proxies) after each sync run. Maximum per period by default. */
  public metricActiveBlocksProxied(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ACTIVE_BLOCKS_PROXIED, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
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

  /**
   * Rows of the rules table the log processor refuses (a field it cannot read, or a threshold too low for the
   * sampling rate), measured on every batch. Maximum per period by default.
   */
  public metricInvalidRuleRows(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.INVALID_RULE_ROWS, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /**
   * Offences processed so late (a backlog) that their block would already have ended: recorded in history as
   * `STALE_OFFENCE`, not blocked. Sum per period by default.
   */
  public metricStaleOffences(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.STALE_OFFENCES, props);
  }

  /**
   * `Counting.LOCAL_FIRST`: counter writes that failed; their counts stay in memory for the next batch. Sum per
   * period by default.
   */
  public metricCounterWriteErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.COUNTER_WRITE_ERRORS, props);
  }

  /**
   * `Counting.LOCAL_FIRST`: sampled requests dropped from memory because a failed counter write could not be
   * checked either (holding them could count them twice). Sum per period by default.
   */
  public metricHeldCountsDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.HELD_COUNTS_DROPPED, props);
  }

  /**
   * `Counting.LOCAL_FIRST`: records of a batch delivered again that an earlier delivery had counted, skipped.
   * Sum per period by default.
   */
  public metricRecordsAlreadyCounted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.RECORDS_ALREADY_COUNTED, props);
  }

  /**
   * `Counting.LOCAL_FIRST`: (rule, client) pairs an execution environment holds in memory after a batch, the memory
   * the mode uses. Maximum per period by default.
   */
  public metricHeldPairs(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.HELD_PAIRS, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Milliseconds from a record reaching the stream to its processing. Maximum per period by default. */
  public metricProcessingLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.LAG, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /**
   * Says at synth when LOCAL_FIRST can hold no client back for any rule (see localFirstHoldsNothing): as information
   * when the guard chose EXACT for that reason, as a warning naming the fix when the user asked for LOCAL_FIRST.
   */
  private explainCounting(settings: GuardSettings, existingStream: boolean): void {
    const shards = shardsText(existingStream, settings.shardCount);
    if (settings.exactChosen) {
      Annotations.of(this).addInfo(
        `counting: Counting.EXACT chosen. At samplingRate ${settings.samplingRate} with ${shards}, every rule's threshold is ` +
        'too small for Counting.LOCAL_FIRST to keep any client in memory, so it would write as often as EXACT, plus ' +
        'one write per batch. Set counting to choose the mode yourself.');
      return;
    }
    const slack = settings.counting.slackPercent;
    if (slack === undefined) return;
    const environments = settings.countingEnvironments;
    if (!localFirstHoldsNothing(settings.rules, settings.samplingRate, slack, environments)) return;
    const remedies = localFirstRemedies(settings.rules, settings.samplingRate, slack, environments, existingStream, settings.shardCount);
    Annotations.of(this).addWarningV2('cdk-waf-guard:countingHoldsNothing',
      `counting: set counting: Counting.EXACT (cheaper here). At samplingRate ${settings.samplingRate} with ${shards}, ` +
      `${slack}% of every rule's threshold is at most one logged request per shard, so Counting.LOCAL_FIRST would write ` +
      'every request to DynamoDB as EXACT does, plus one write per batch. ' +
      (remedies.length > 0
        ? `Or keep LOCAL_FIRST with ${remedies.join(' or ')}; see the README on counting.`
        : 'No samplingRate, shard count or slack lets LOCAL_FIRST hold a client back for these thresholds; see the README on counting.'));
  }

  /** A key only when something the guard creates uses it: a retained key that nothing uses still costs $1 a month. */
  private createKeyIfUsed(props: RealtimeWafGuardProps, settings: GuardSettings): kms.IKey | undefined {
    const needsKey = props.existingStream === undefined || props.alertTopic === undefined;
    if (props.encryptionKey) {
      if (!needsKey) {
        Annotations.of(this).addWarningV2('cdk-waf-guard:unusedEncryptionKey',
          'encryptionKey is not used: the guard creates neither a stream (existingStream is given) nor a topic ' +
          '(alertTopic is given). Leave encryptionKey out.');
      }
      return props.encryptionKey;
    }
    if (!needsKey) return undefined;
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the real-time log stream and alert topic of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: settings.removalPolicy,
    });
    // CloudWatch alarms publish to the encrypted alert topic as the CloudWatch service, which needs the key.
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    return key;
  }

  private createDeadLetterQueue(): sqs.IQueue {
    const queue = new sqs.Queue(this, 'DeadLetterQueue', {
      // The AWS managed key is usable by every principal of the account through SQS, so the handlers need no KMS grant
      // (a customer managed key would need kms:GenerateDataKey* and kms:ReEncrypt* wildcards).
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    suppressNag(queue, [{
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination of the guard\'s event source mappings; it has no further DLQ.',
    }]);
    return queue;
  }

  private createAlertTopic(settings: GuardSettings): sns.ITopic {
    const topic = new sns.Topic(this, 'AlertTopic', {
      displayName: `WAF guard ${settings.guardName}`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    for (const email of settings.alertEmails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
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
