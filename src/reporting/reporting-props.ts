import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ElasticDocumentFields } from '../elastic-monitoring/document-fields';
import { ElasticCredentials } from '../elastic-monitoring/elastic-credentials';
import { RealtimeWafGuard } from '../realtime-waf-guard/realtime-waf-guard';

/** The WAF whose request documents are in Elasticsearch, read as `ElasticWafMonitor` reads it. */
export interface WafReportingElasticSource {
  /** Cluster URL (`https://host:port`), without user info. */
  readonly endpoint: string;
  /**
   * Accept an `http://` endpoint (credentials then travel unencrypted: only inside a VPC).
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
  /** Secret with basic-auth or API-key credentials; the report function may read only this secret. */
  readonly credentials: ElasticCredentials;
  /** Index pattern of the request documents, e.g. `waf-logs-*`. */
  readonly indexPattern: string;
  /**
   * Names of the document fields.
   * @default - the ECS-style defaults of `ElasticDocumentFields`
   */
  readonly fields?: ElasticDocumentFields;
  /**
   * A field present only on requests that matched a data-breach (data leak) rule; its hits are counted per customer and
   * host.
   * @default - no breach column
   */
  readonly breachField?: string;
  /**
   * Apdex T for the per-customer Apdex (whole milliseconds, at least 1 ms).
   * @default Duration.millis(30)
   */
  readonly apdexThreshold?: Duration;
  /**
   * Timeout of each search request (whole milliseconds, at least 1 ms). Searches run one after another; a run cuts each
   * to the time left before the last minute of the function's `timeout` (kept for the files and the email) and leaves
   * out those that no longer fit, so this plus one minute must fit in `timeout`.
   * @default Duration.seconds(60)
   */
  readonly requestTimeout?: Duration;
  /**
   * Client IPs listed, busiest first (1..100).
   * @default 25
   */
  readonly topClientIps?: number;
  /**
   * VPC the report function runs in, when the cluster is reachable only there. The subnets need routes to S3, SES,
   * DynamoDB, Secrets Manager and Cost Explorer (NAT or endpoints).
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc`.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the function in `vpc`.
   * @default - a new security group
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** How Cost Explorer groups the AWS costs of the month. */
export enum CostGrouping {
  /** One line: the account's total. */
  TOTAL = 'TOTAL',
  /** One line per AWS service. */
  SERVICE = 'SERVICE',
  /** One line per member account (organizations). */
  LINKED_ACCOUNT = 'LINKED_ACCOUNT',
  /** One line per Region. */
  REGION = 'REGION',
  /** One line per usage type. */
  USAGE_TYPE = 'USAGE_TYPE',
}

/** Costs of resources with a cost allocation tag. */
export interface CostTagFilter {
  /** The tag key, activated as a cost allocation tag. */
  readonly key: string;
  /** Values to include. */
  readonly values: string[];
}

/** The AWS part of the monthly cost workbook. */
export interface CostExplorerOptions {
  /**
   * Read AWS costs at all (Cost Explorer charges $0.01 per request; a month is usually one request).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Lines of the workbook.
   * @default CostGrouping.SERVICE
   */
  readonly groupBy?: CostGrouping;
  /**
   * Group by this cost allocation tag instead of a dimension; not with `groupBy`.
   * @default - group by `groupBy`
   */
  readonly groupByTag?: string;
  /**
   * Only costs of resources with this tag.
   * @default - all costs of the account
   */
  readonly tagFilter?: CostTagFilter;
}

/** The Elastic Cloud part of the monthly cost workbook. */
export interface ElasticCloudBillingOptions {
  /** Secret holding an Elastic Cloud API key with billing read access, as JSON (`{"apiKey": "..."}`) or bare. */
  readonly apiKeySecret: secretsmanager.ISecret;
  /** Elastic Cloud organization id. */
  readonly organizationId: string;
  /**
   * JSON key of the API key in the secret.
   * @default 'apiKey'
   */
  readonly apiKeyKey?: string;
  /**
   * Billing API endpoint.
   * @default 'https://billing.elastic-cloud.com'
   */
  readonly endpoint?: string;
}

/** Properties of {@link WafReporting}. */
export interface WafReportingProps {
  /**
   * A guard whose history (blocks, renewals, would-blocks, releases) is reported; its `alarms` are listed in the
   * "needs attention" banner.
   * @default - no guard section; `elastic` is then required
   */
  readonly guard?: RealtimeWafGuard;
  /**
   * A WAF whose request documents in Elasticsearch are reported.
   * @default - no traffic section; `guard` is then required
   */
  readonly elastic?: WafReportingElasticSource;
  /**
   * More alarms for the "needs attention" banner, e.g. an `ElasticWafMonitor`'s `alarms`. Each report lists those in
   * ALARM now or at some time of its period (when, how often) and counts them in the headline. Metric alarms in the
   * stack's Region; the function may describe these alarms and their history, no other. At most 25 with the guard's.
   * @default - the guard's alarms only
   */
  readonly alarms?: cloudwatch.IAlarm[];
  /** Sender address; an SES identity verified in the stack's Region (the address or its domain). */
  readonly sender: string;
  /**
   * Recipients of every report, at most 50 (one SES message takes no more; use a list address for more). SES sandbox
   * accounts: verified addresses only.
   */
  readonly recipients: string[];
  /**
   * IANA time zone of the reports: days and months, hours and times shown, e.g. `Europe/Berlin`, spelled as IANA spells
   * it (Elasticsearch and EventBridge Scheduler match zone names case-sensitively).
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Name in the subject and the `service` dimension of the failure metric.
   * @default - the construct path
   */
  readonly reportName?: string;
  /**
   * Local time (`HH:MM`, 24 h, in `timeZone`) of the daily run, which reports the day before. EventBridge Scheduler runs
   * it in `timeZone` and follows daylight saving changes; a time a change skips in `timeZone` (e.g. 02:30 in New York)
   * is refused at synth, because Scheduler would skip that day's run.
   * @default '04:00'
   */
  readonly dailyRunTime?: string;
  /**
   * Local time (`HH:MM`, in `timeZone`) of the monthly run on the 1st, which reports the month before.
   * @default '04:30'
   */
  readonly monthlyRunTime?: string;
  /**
   * Bucket for the CSV files, the archived reports and the cost workbooks.
   * @default - a new bucket: encrypted (S3 managed keys), TLS only, public access blocked, versioned, objects expire
   * after `reportRetention`
   */
  readonly bucket?: s3.IBucket;
  /**
   * Key prefix of every object, e.g. `waf/` (empty or ending in `/`).
   * @default ''
   */
  readonly bucketPrefix?: string;
  /**
   * Lifecycle of the created bucket: objects expire this long after they were written (whole days).
   * @default Duration.days(730)
   */
  readonly reportRetention?: Duration;
  /**
   * AWS costs in the monthly workbook.
   * @default - on, grouped by service
   */
  readonly costExplorer?: CostExplorerOptions;
  /**
   * Elastic Cloud costs in the monthly workbook.
   * @default - no Elastic Cloud costs
   */
  readonly elasticCloudBilling?: ElasticCloudBillingOptions;
  /**
   * How long Scheduler retries a run it could not start (throttling, a missing permission) before the run goes to the
   * dead-letter queue. A run that started is never retried (it would send the email twice).
   * @default Duration.hours(6)
   */
  readonly maxRunDelay?: Duration;
  /**
   * Topic the failure, missed-run, missed-monthly-report and dead-letter alarms notify.
   * @default - the guard's alert topic, or a new encrypted topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Email subscriptions of the topic the construct creates; not with `alarmTopic` or `guard` (subscribe to those).
   * @default - none
   */
  readonly alertEmails?: string[];
  /**
   * CloudWatch namespace of the `ReportFailures` metric.
   * @default 'CdkWafGuard/Reporting'
   */
  readonly metricsNamespace?: string;
  /**
   * Timeout of the report function: whole seconds, at most 15 minutes (Lambda's limit); its last minute is kept for
   * the files and the email (see `elastic.requestTimeout`).
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Memory of the report function in MB, 256..10240 (workbooks and a month of figures are built in memory).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the created bucket, topic key and log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}
