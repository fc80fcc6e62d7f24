import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, TimeZone, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ReportFunction } from './report-function';
import { CostGrouping, WafReportingProps } from './reporting-props';
import {
  ReportConfig, REPORT_CONFIG_ENV, REPORT_FAILURES_METRIC, DEFAULT_ELASTIC_BILLING_ENDPOINT, DAILY_RUNS_METRIC, MONTHLY_RUNS_METRIC,
  MONTHLY_REPORT_MISSING_METRIC, MAX_RECIPIENTS, recipientsLimitError, FINISH_RESERVE_MS,
} from './runtime/config';
import { DEFAULT_DAILY_RUN_TIME, DEFAULT_MONTHLY_RUN_TIME, firstSkippedDay, isValidTimeZone, parseTimeOfDay, TimeOfDay, timeZoneErrors } from './runtime/period';
import { credentialsConfig, fieldNameErrors, resolveFieldNames } from '../elastic-monitoring/connection-config';
import { HISTORY_TABLE } from '../realtime-waf-guard/table-schemas';
import { encryptedAlarmTopic } from '../shared/alarm-topic';
import { iamDescription, limitLength } from '../shared/cfn-text';
import { allowVpcNetworking, handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';
import { endpointErrors } from '../shared/runtime/elastic/connection';
import { emailAddressErrors, metricNamespaceError } from '../shared/validation';

const DEFAULTS = {
  timeZone: 'UTC',
  namespace: 'CdkWafGuard/Reporting',
  retention: Duration.days(730),
  timeout: Duration.minutes(5),
  memorySize: 1024,
  apdexThreshold: Duration.millis(30),
  requestTimeout: Duration.seconds(60),
  topClientIps: 25,
  maxRunDelay: Duration.hours(6),
  deadLetterRetention: Duration.days(14),
};

/** Lambda's longest timeout. */
const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);

/** Whether a duration lies in min..max milliseconds and is a whole multiple of `stepMs`. */
function durationWithin(d: Duration, minMs: number, maxMs: number, stepMs: number): boolean {
  const ms = d.toMilliseconds({ integral: false });
  return Number.isFinite(ms) && ms >= minMs && ms <= maxMs && Number.isInteger(ms / stepMs);
}

/** Hours without a completed daily run before the missed-run alarm: runs are 23 to 25 hours apart around DST changes. */
const MISSED_DAILY_RUN_HOURS = 26;
/** Added to the monthly run's time, retries and timeout before its report must be in the bucket. */
const MONTHLY_REPORT_MARGIN = Duration.minutes(30);
/**
 * Alarms the report reads: their names travel in the function's configuration, and Lambda allows 4 KB of environment
 * variables in all.
 */
const MAX_ALARMS = 25;

/**
 * A search must fit in the function's timeout with the time kept for the files and the email: at run time searches are
 * cut to the time left anyway, so a longer one could never run as configured.
 */
function requestTimeoutErrors(requestTimeout: Duration | undefined, timeout: Duration | undefined): string[] {
  const search = requestTimeout ?? DEFAULTS.requestTimeout;
  const fn = timeout ?? DEFAULTS.timeout;
  const reserve = Duration.millis(FINISH_RESERVE_MS);
  if (search.toMilliseconds() + reserve.toMilliseconds() <= fn.toMilliseconds()) return [];
  const given = (d: Duration, prop: string, set: boolean) => `${prop} (${d.toHumanString()}${set ? '' : ', the default'})`;
  const left = fn.toMilliseconds() - reserve.toMilliseconds();
  const fix = left > 0
    ? `give elastic.requestTimeout at most ${Duration.millis(left).toHumanString()}, or timeout at least ${Duration.millis(search.toMilliseconds() + reserve.toMilliseconds()).toHumanString()}`
    : `give timeout at least ${Duration.millis(search.toMilliseconds() + reserve.toMilliseconds()).toHumanString()}`;
  return [`${given(search, 'elastic.requestTimeout', requestTimeout !== undefined)} must leave the ${reserve.toHumanString()} a run keeps to write its files and send the email within ${given(fn, 'timeout', timeout !== undefined)}: ${fix}`];
}

/**
 * Daily and monthly WAF reports by email (SES), per-customer and block CSVs and monthly cost workbooks in S3, from a
 * `RealtimeWafGuard`'s history and/or a WAF's request documents in Elasticsearch.
 */
export class WafReporting extends Construct {
  /** The report function; invoke it with `{"kind": "daily", "day": "YYYY-MM-DD"}` or `{"kind": "monthly", "month": "YYYY-MM"}`. */
  public readonly reportFunction: lambda.IFunction;
  /** Its role: SES on the sender identity, S3 on the prefix, the sources' reads, nothing else. */
  public readonly reportRole: iam.IRole;
  /** Its log group; each failed part of a run is a JSON line with `event: "report-problem"`, `source` and `problem`. */
  public readonly reportLogGroup: logs.ILogGroup;
  /** Where files go. */
  public readonly bucket: s3.IBucket;
  /** The key prefix of every object ('' or ending in `/`). */
  public readonly bucketPrefix: string;
  /** The daily EventBridge Scheduler schedule, at `dailyRunTime` in `timeZone`. */
  public readonly dailySchedule: scheduler.ISchedule;
  /** The monthly schedule, on the 1st at `monthlyRunTime` in `timeZone`. */
  public readonly monthlySchedule: scheduler.ISchedule;
  /** Runs Scheduler could not start after its retries (SQS-encrypted, TLS only, kept 14 days). */
  public readonly deadLetterQueue: sqs.IQueue;
  /** Topic of the alarms. */
  public readonly alarmTopic: sns.ITopic;
  /** `ReportFailures` >= 1: a source, file or email failed in a run. */
  public readonly failuresAlarm: cloudwatch.IAlarm;
  /** The function itself failed (timeout, out of memory). */
  public readonly errorsAlarm: cloudwatch.IAlarm;
  /** No scheduled daily run completed in the last 26 hours (a run was skipped, never started or crashed). */
  public readonly missedRunAlarm: cloudwatch.IAlarm;
  /** A scheduled run is in the dead-letter queue: Scheduler could not start it. */
  public readonly deadLetterAlarm: cloudwatch.IAlarm;
  /** The last due monthly report is not in the bucket (checked by each daily run). */
  public readonly missedMonthlyReportAlarm: cloudwatch.IAlarm;
  /** The alarms each report lists in its "needs attention" banner: the guard's and those of the `alarms` prop. */
  public readonly reportedAlarms: cloudwatch.IAlarm[];
  /** Name in subjects and the `service` dimension of the metric. */
  public readonly reportName: string;
  /** IANA time zone of the reports. */
  public readonly timeZone: string;

  private readonly namespace: string;
  private readonly dailyRunTime: string;
  private readonly monthlyRunTime: string;

  constructor(scope: Construct, id: string, props: WafReportingProps) {
    super(scope, id);
    this.timeZone = props.timeZone ?? DEFAULTS.timeZone;
    this.reportName = props.reportName ?? this.node.path;
    this.namespace = props.metricsNamespace ?? DEFAULTS.namespace;
    this.bucketPrefix = props.bucketPrefix ?? '';
    this.dailyRunTime = props.dailyRunTime ?? DEFAULT_DAILY_RUN_TIME;
    this.monthlyRunTime = props.monthlyRunTime ?? DEFAULT_MONTHLY_RUN_TIME;
    this.reportedAlarms = [...new Set([...(props.guard?.alarms ?? []), ...(props.alarms ?? [])])];
    this.validate(props);

    this.bucket = props.bucket ?? this.createBucket(props);
    const config = this.reportConfig(props);
    const fn = this.createFunction(props, config);
    this.reportFunction = fn.function;
    this.reportRole = fn.role;
    this.reportLogGroup = fn.logGroup;
    this.grantAccess(props, fn.role);
    this.deadLetterQueue = this.createDeadLetterQueue();
    [this.dailySchedule, this.monthlySchedule] = this.createSchedules(props);
    this.alarmTopic = this.resolveAlarmTopic(props);
    [this.failuresAlarm, this.errorsAlarm, this.missedRunAlarm, this.deadLetterAlarm, this.missedMonthlyReportAlarm] = this.createAlarms();
  }

  /** Failed parts of report runs (sources, files, the email); Sum over a day by default. */
  public metricReportFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: REPORT_FAILURES_METRIC,
      dimensionsMap: { service: this.reportName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.days(1),
      ...props,
    });
  }

  /** Scheduled runs that ran to the end (`kind`: daily or monthly); Sum per hour by default. */
  public metricScheduledRuns(kind: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (kind !== 'daily' && kind !== 'monthly') throw new Error(`metricScheduledRuns: kind must be "daily" or "monthly", got "${kind}"`);
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: kind === 'daily' ? DAILY_RUNS_METRIC : MONTHLY_RUNS_METRIC,
      dimensionsMap: { service: this.reportName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  /** Published by each daily run: 1 when the last due monthly report is not in the bucket, else 0; Maximum per hour. */
  public metricMonthlyReportMissing(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: MONTHLY_REPORT_MISSING_METRIC,
      dimensionsMap: { service: this.reportName },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  private validate(props: WafReportingProps): void {
    const errors: string[] = [];
    const literal = (v: string | undefined): v is string => v !== undefined && !Token.isUnresolved(v);
    if (!props.guard && !props.elastic) errors.push('give guard, elastic or both: a report needs at least one source');
    errors.push(...timeZoneErrors(this.timeZone));
    errors.push(...this.runTimeErrors('dailyRunTime', this.dailyRunTime), ...this.runTimeErrors('monthlyRunTime', this.monthlyRunTime));
    const delay = props.maxRunDelay;
    if (delay && (delay.toSeconds() < 60 || delay.toSeconds() > 86_400)) errors.push('maxRunDelay must be 1 minute..24 hours (EventBridge Scheduler\'s limits)');
    if (literal(props.sender) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.sender)) errors.push(`sender "${props.sender}" must be an email address of a verified SES identity`);
    if (!props.recipients || props.recipients.length === 0) errors.push('recipients must list at least one email address');
    if (props.recipients && props.recipients.length > MAX_RECIPIENTS) errors.push(recipientsLimitError(props.recipients.length));
    errors.push(...emailAddressErrors('recipients', props.recipients, Token.isUnresolved));
    errors.push(...emailAddressErrors('alertEmails', props.alertEmails, Token.isUnresolved));
    if (props.alertEmails?.length && (props.alarmTopic || props.guard)) {
      errors.push('alertEmails subscribe to a topic the construct creates; with alarmTopic or guard, the alarms use that topic: subscribe the addresses there');
    }
    if (this.bucketPrefix !== '' && (!this.bucketPrefix.endsWith('/') || this.bucketPrefix.startsWith('/'))) errors.push(`bucketPrefix "${this.bucketPrefix}" must be empty or end in "/" (and not start with one)`);
    const retention = props.reportRetention;
    if (retention && (props.bucket || !Number.isInteger(retention.toHours() / 24) || retention.toDays() < 1)) {
      errors.push(props.bucket ? 'reportRetention applies to the bucket the construct creates: set a lifecycle rule on your bucket instead' : 'reportRetention must be a whole number of days, at least 1');
    }
    const ns = metricNamespaceError('metricsNamespace', this.namespace);
    if (ns) errors.push(ns);
    if (props.memorySize !== undefined && !(Number.isInteger(props.memorySize) && props.memorySize >= 256 && props.memorySize <= 10240)) {
      errors.push(`memorySize must be a whole number of MB, 256..10240, got ${props.memorySize}`);
    }
    const timeout = props.timeout;
    if (timeout && !timeout.isUnresolved() && !durationWithin(timeout, 1000, LAMBDA_MAX_TIMEOUT.toMilliseconds(), 1000)) {
      errors.push(`timeout must be a whole number of seconds, 1 second..15 minutes (Lambda's limit), got ${timeout.toHumanString()}`);
    }
    const e = props.elastic;
    if (e) {
      if (literal(e.endpoint)) errors.push(...endpointErrors(e.endpoint, e.allowInsecureHttp === true).map((m) => `elastic.${m}`));
      if (literal(e.indexPattern) && e.indexPattern.trim() === '') errors.push('elastic.indexPattern must not be empty');
      errors.push(...fieldNameErrors('elastic.fields', e.fields));
      if (e.breachField !== undefined && e.breachField.trim() === '') errors.push('elastic.breachField must not be empty; leave it out for no breach column');
      // The function refuses a configuration with either below 1 ms, so every run would fail; fractions do not fit its whole milliseconds.
      const apdex = e.apdexThreshold;
      if (apdex && !apdex.isUnresolved() && !durationWithin(apdex, 1, Number.MAX_SAFE_INTEGER, 1)) {
        errors.push(`elastic.apdexThreshold must be a whole number of milliseconds, at least 1 ms (e.g. Duration.millis(30)), got ${apdex.toHumanString()}`);
      }
      const requestTimeout = e.requestTimeout;
      if (requestTimeout && !requestTimeout.isUnresolved() && !durationWithin(requestTimeout, 1, Number.MAX_SAFE_INTEGER, 1)) {
        errors.push(`elastic.requestTimeout must be a whole number of milliseconds, at least 1 ms (e.g. Duration.seconds(60)), got ${requestTimeout.toHumanString()}`);
      }
      const top = e.topClientIps ?? DEFAULTS.topClientIps;
      if (!Number.isInteger(top) || top < 1 || top > 100) errors.push(`elastic.topClientIps must be a whole number 1..100, got ${top}`);
      if (!e.vpc && (e.vpcSubnets || e.securityGroups)) errors.push('elastic.vpcSubnets and elastic.securityGroups need elastic.vpc');
      errors.push(...requestTimeoutErrors(e.requestTimeout, props.timeout));
    }
    const ce = props.costExplorer;
    if (ce?.tagFilter && (ce.tagFilter.key.trim() === '' || ce.tagFilter.values.length === 0)) errors.push('costExplorer.tagFilter needs a key and at least one value');
    if (ce?.groupByTag !== undefined && ce.groupByTag.trim() === '') errors.push('costExplorer.groupByTag must not be empty');
    // Cost Explorer groups by the tag instead of the dimension: both together would drop groupBy without a word.
    if (ce?.groupByTag !== undefined && ce.groupBy !== undefined) {
      errors.push(`costExplorer: give groupBy (${ce.groupBy}) or groupByTag ("${ce.groupByTag}"), not both: the workbook has one grouping`);
    }
    const billing = props.elasticCloudBilling;
    if (billing && literal(billing.organizationId) && billing.organizationId.trim() === '') errors.push('elasticCloudBilling.organizationId must not be empty');
    if (billing?.endpoint !== undefined && literal(billing.endpoint)) errors.push(...endpointErrors(billing.endpoint, false).map((m) => `elasticCloudBilling.${m}`));
    errors.push(...this.alarmErrors());
    if (errors.length > 0) throw new Error(`WafReporting ${this.node.path}: invalid props:\n- ${[...new Set(errors)].join('\n- ')}`);
  }

  private alarmErrors(): string[] {
    const errors: string[] = [];
    const alarms = this.reportedAlarms;
    if (alarms.length > MAX_ALARMS) errors.push(`alarms: the report lists at most ${MAX_ALARMS} alarms (the guard's and the alarms prop), got ${alarms.length}: give the ones that matter most`);
    const region = Stack.of(this).region;
    for (const alarm of alarms) {
      // DescribeAlarms and DescribeAlarmHistory return a composite alarm only to a role allowed them on "*".
      if (alarm instanceof cloudwatch.CompositeAlarm) errors.push(`alarms: ${alarm.node.path} is a composite alarm, which the report could read only with cloudwatch:DescribeAlarms on every alarm: give its metric alarms instead`);
      // An imported alarm's environment is the importing stack's: its ARN says where it is.
      const where = Token.isUnresolved(alarm.alarmArn) ? alarm.env.region : Arn.split(alarm.alarmArn, ArnFormat.COLON_RESOURCE_NAME).region;
      if (!Token.isUnresolved(where) && !Token.isUnresolved(region) && where !== region) errors.push(`alarms: ${alarm.node.path} is in ${where}, the report reads alarms in its own Region (${region}) only`);
    }
    return errors;
  }

  private runTimeErrors(prop: string, text: string): string[] {
    const time = parseTimeOfDay(text);
    if (!time) return [`${prop} "${text}" must be a local time as HH:MM (24 h), e.g. 04:00`];
    if (!isValidTimeZone(this.timeZone)) return [];
    // Two years from now covers every change the zone's current rules make.
    const skipped = firstSkippedDay(time, this.timeZone, new Date(), 731);
    return skipped
      ? [`${prop} ${text} does not exist in ${this.timeZone} on ${skipped} (a daylight saving change skips it) and Scheduler would skip that run: choose a time no change skips, e.g. 04:00`]
      : [];
  }

  private createBucket(props: WafReportingProps): s3.IBucket {
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      lifecycleRules: [{
        expiration: props.reportRetention ?? DEFAULTS.retention,
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    suppressNag(bucket, [{
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds generated reports only; reads and writes are by the report function, whose calls CloudTrail records.',
    }]);
    return bucket;
  }

  private reportConfig(props: WafReportingProps): ReportConfig {
    const e = props.elastic;
    const ce = props.costExplorer;
    const billing = props.elasticCloudBilling;
    const guardMetric = props.guard?.metricBudgetExceeded();
    const groupBy = ce?.groupBy ?? CostGrouping.SERVICE;
    return {
      reportName: this.reportName,
      timeZone: this.timeZone,
      sender: props.sender,
      recipients: props.recipients,
      prefix: this.bucketPrefix,
      ...(props.guard ? {
        guard: {
          historyTable: props.guard.historyTable.tableName,
          historyIndex: HISTORY_TABLE.globalIndexes![0].name,
          guardName: props.guard.guardName,
          metrics: { namespace: guardMetric!.namespace, dimensions: guardMetric!.dimensions as Record<string, string> },
        },
      } : {}),
      ...(e ? {
        elastic: {
          endpoint: e.endpoint,
          ...(e.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
          indexPattern: e.indexPattern,
          fields: resolveFieldNames(e.fields),
          credentials: credentialsConfig(e.credentials),
          apdexTMs: (e.apdexThreshold ?? DEFAULTS.apdexThreshold).toMilliseconds(),
          requestTimeoutMs: (e.requestTimeout ?? DEFAULTS.requestTimeout).toMilliseconds(),
          topClientIps: e.topClientIps ?? DEFAULTS.topClientIps,
          ...(e.breachField ? { breachField: e.breachField } : {}),
        },
      } : {}),
      ...(ce?.enabled === false ? {} : {
        costs: {
          ...(ce?.groupByTag ? { groupByTag: ce.groupByTag } : {}),
          ...(groupBy !== CostGrouping.TOTAL && !ce?.groupByTag ? { groupByDimension: groupBy } : {}),
          ...(ce?.tagFilter ? { tagFilter: { key: ce.tagFilter.key, values: ce.tagFilter.values } } : {}),
        },
      }),
      ...(this.reportedAlarms.length > 0 ? { alarmNames: this.reportedAlarms.map((a) => a.alarmName) } : {}),
      monthlyReportCheck: {
        runTime: this.monthlyRunTime,
        // The run may start as late as maxRunDelay and take up to the timeout.
        dueAfterMinutes: Math.ceil(
          (props.maxRunDelay ?? DEFAULTS.maxRunDelay).plus(props.timeout ?? DEFAULTS.timeout).plus(MONTHLY_REPORT_MARGIN).toSeconds() / 60,
        ),
      },
      ...(billing ? {
        elasticBilling: {
          secretArn: billing.apiKeySecret.secretArn,
          apiKeyKey: billing.apiKeyKey ?? 'apiKey',
          organizationId: billing.organizationId,
          endpoint: billing.endpoint ?? DEFAULT_ELASTIC_BILLING_ENDPOINT,
        },
      } : {}),
    };
  }

  private createFunction(props: WafReportingProps, config: ReportConfig) {
    const defaults = handlerDefaults(this, 'Report', {
      description: `Daily and monthly WAF reports of ${this.reportName}`,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      timeout: props.timeout ?? DEFAULTS.timeout,
      memorySize: props.memorySize ?? DEFAULTS.memorySize,
      environment: {
        [REPORT_CONFIG_ENV]: Stack.of(this).toJsonString(config),
        REPORT_BUCKET: this.bucket.bucketName,
        POWERTOOLS_METRICS_NAMESPACE: this.namespace,
        POWERTOOLS_SERVICE_NAME: this.reportName,
      },
    });
    const vpc = props.elastic?.vpc;
    if (vpc) allowVpcNetworking(defaults.role);
    const fn = new ReportFunction(this, 'Report', {
      ...defaults.functionOptions,
      vpc,
      vpcSubnets: vpc ? props.elastic?.vpcSubnets : undefined,
      securityGroups: props.elastic?.securityGroups,
      // A retried run would send the email twice; a failed run is alarmed and can be run again on demand.
      retryAttempts: 0,
    });
    suppressNag(fn, [pinnedRuntime()]);
    return { function: fn, role: defaults.role, logGroup: defaults.logGroup };
  }

  private grantAccess(props: WafReportingProps, role: iam.Role): void {
    const stack = Stack.of(this);
    const policy = new iam.Policy(this, 'ReportPolicy', { roles: [role] });
    const identity = (name: string) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    // SES authorizes SendEmail against the identity that verified the sender: the address or its domain.
    const senderIdentities = Token.isUnresolved(props.sender)
      ? [identity('*')]
      : [identity(props.sender), identity(props.sender.slice(props.sender.lastIndexOf('@') + 1))];
    policy.addStatements(new iam.PolicyStatement({ actions: ['ses:SendEmail'], resources: senderIdentities }));

    const objects = this.bucket.arnForObjects(`${this.bucketPrefix}*`);
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [objects] }),
      // Without ListBucket a missing yearly workbook reads as "access denied" instead of "no such key".
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${this.bucketPrefix}*`] } },
      }),
    );
    this.bucket.encryptionKey?.grantEncryptDecrypt(role);

    const wildcard: string[] = [];
    if (props.guard) {
      const table = props.guard.historyTable;
      policy.addStatements(new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${HISTORY_TABLE.globalIndexes![0].name}`],
      }));
      policy.addStatements(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricStatistics'], resources: ['*'] }));
      wildcard.push('cloudwatch:GetMetricStatistics (the new-block budget figure)');
    }
    if (this.reportedAlarms.length > 0) {
      // Both actions take alarm ARNs: the role reads these alarms, by name, and no other.
      policy.addStatements(new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: this.reportedAlarms.map((a) => a.alarmArn),
      }));
    }
    props.elastic?.credentials.secret.grantRead(role);
    props.elasticCloudBilling?.apiKeySecret.grantRead(role);
    if (props.costExplorer?.enabled !== false) {
      policy.addStatements(new iam.PolicyStatement({ actions: ['ce:GetCostAndUsage'], resources: ['*'] }));
      wildcard.push('ce:GetCostAndUsage (the monthly AWS costs)');
    }

    const objectsFinding = this.objectsFinding();
    const findings = [
      ...(wildcard.length > 0 ? ['Resource::*'] : []),
      ...(objectsFinding ? [`Resource::${objectsFinding}`] : []),
    ];
    suppressNag(policy, [{
      id: 'AwsSolutions-IAM5',
      reason: `${wildcard.length > 0 ? `${wildcard.join(' and ')} support no resource-level permissions; ` : ''}objects are granted under the report prefix only, whose keys are dated.`,
      appliesTo: findings,
    }]);
  }

  /**
   * The object ARN as cdk-nag prints it in an IAM5 finding; undefined for an imported bucket whose name is a token
   * (the finding then shows in the user's report, where they can judge their own bucket).
   */
  private objectsFinding(): string | undefined {
    const cfnBucket = this.bucket.node.defaultChild;
    if (cfnBucket instanceof s3.CfnBucket) return `<${Stack.of(this).getLogicalId(cfnBucket)}.Arn>/${this.bucketPrefix}*`;
    if (Token.isUnresolved(this.bucket.bucketName)) return undefined;
    return `arn:<AWS::Partition>:s3:::${this.bucket.bucketName}/${this.bucketPrefix}*`;
  }

  private createDeadLetterQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'RunDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEFAULTS.deadLetterRetention,
    });
    suppressNag(queue, [{ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the report schedules; its messages are alarmed on, not processed.' }]);
    return queue;
  }

  private createSchedules(props: WafReportingProps): [scheduler.ISchedule, scheduler.ISchedule] {
    const timeZone = TimeZone.of(this.timeZone);
    const stack = Stack.of(this);
    // Its own role rather than the stack-wide one the target would make: the report schedules may invoke the report
    // function and send to their dead-letter queue, nothing else.
    const role = new iam.Role(this, 'ScheduleRole', {
      description: iamDescription(`Lets EventBridge Scheduler start the WAF report runs of ${this.reportName}`),
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    const schedule = (id: string, kind: 'daily' | 'monthly', at: TimeOfDay, day?: string) => new scheduler.Schedule(this, id, {
      description: limitLength(`Runs the ${kind} WAF report of ${this.reportName} at ${kind === 'daily' ? this.dailyRunTime : this.monthlyRunTime} ${this.timeZone}`, 512),
      schedule: scheduler.ScheduleExpression.cron({ minute: String(at.minute), hour: String(at.hour), ...(day ? { day } : {}), timeZone }),
      target: new schedulerTargets.LambdaInvoke(this.reportFunction, {
        role,
        // The scheduled time, not the clock, names the period: a retried or late start reports the same day or month.
        input: scheduler.ScheduleTargetInput.fromObject({ kind, scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        deadLetterQueue: this.deadLetterQueue,
        // Scheduler retries only an invocation Lambda did not accept, so no run is sent twice.
        retryAttempts: 185,
        maxEventAge: props.maxRunDelay ?? DEFAULTS.maxRunDelay,
      }),
    });
    const schedules: [scheduler.ISchedule, scheduler.ISchedule] = [
      schedule('DailySchedule', 'daily', parseTimeOfDay(this.dailyRunTime)!),
      schedule('MonthlySchedule', 'monthly', parseTimeOfDay(this.monthlyRunTime)!, '1'),
    ];
    suppressNag(role.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: 'lambda:InvokeFunction on the report function and its versions and aliases (the grant Lambda targets get); no other function.',
      appliesTo: [`Resource::<${stack.getLogicalId(this.reportFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*`],
    }]);
    return schedules;
  }

  private resolveAlarmTopic(props: WafReportingProps): sns.ITopic {
    const existing = props.alarmTopic ?? props.guard?.alertTopic;
    if (existing) return existing;
    const { topic } = encryptedAlarmTopic(this, {
      keyDescription: iamDescription(`Encrypts the report failure alarm topic of ${this.reportName}`),
      displayName: `WAF report failures: ${this.reportName}`,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const email of props.alertEmails ?? []) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  private createAlarms(): [cloudwatch.IAlarm, cloudwatch.IAlarm, cloudwatch.IAlarm, cloudwatch.IAlarm, cloudwatch.IAlarm] {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const failures = this.metricReportFailures().createAlarm(this, 'FailuresAlarm', {
      alarmDescription: limitLength(`A part of a WAF report run of ${this.reportName} failed (source, file or email); see the report-problem lines in ${this.reportName}'s report log group.`, 1024),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errors = this.reportFunction.metricErrors({ period: Duration.days(1), statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'ErrorsAlarm', {
      alarmDescription: limitLength(`The WAF report function of ${this.reportName} failed (timeout or crash): no report was sent.`, 1024),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Missing hours count as breaching: only a completed run keeps the alarm OK, whatever stopped the others.
    const missed = this.metricScheduledRuns('daily').createAlarm(this, 'MissedRunAlarm', {
      alarmDescription: limitLength(`No scheduled daily WAF report of ${this.reportName} completed in ${MISSED_DAILY_RUN_HOURS} hours (runs at ${this.dailyRunTime} ${this.timeZone}): check the schedule, the run dead-letter queue and the report log group.`, 1024),
      threshold: 1,
      evaluationPeriods: MISSED_DAILY_RUN_HOURS,
      datapointsToAlarm: MISSED_DAILY_RUN_HOURS,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const deadLetters = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }).createAlarm(this, 'DeadLetterAlarm', {
      alarmDescription: limitLength(`EventBridge Scheduler could not start a WAF report run of ${this.reportName}; the message in the run dead-letter queue names the error. Run the report on demand for its period.`, 1024),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // One value a day; the hours between keep the last state (a daily run that failed to check changes nothing).
    const monthly = this.metricMonthlyReportMissing().createAlarm(this, 'MissedMonthlyReportAlarm', {
      alarmDescription: limitLength(`The last monthly WAF report of ${this.reportName} that is due (run on the 1st at ${this.monthlyRunTime} ${this.timeZone}) is not in the bucket: check the monthly schedule, the run dead-letter queue and the report log group, then run the month on demand.`, 1024),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    for (const alarm of [failures, errors, missed, deadLetters, monthly]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return [failures, errors, missed, deadLetters, monthly];
  }
}
