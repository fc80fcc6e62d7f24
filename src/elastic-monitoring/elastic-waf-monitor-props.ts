import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ApdexDefinition } from './apdex-definition';
import { DebugChecksOptions } from './debug-checks-options';
import { ElasticDocumentFields, WafStatusValues } from './document-fields';
import { ElasticCredentials } from './elastic-credentials';
import { KibanaDashboardsOptions } from './kibana-dashboards-options';
import { ElasticWafMonitorAlarms } from './monitor-alarm-options';
import { SearchEngine } from './search-engine';

/** Properties of {@link ElasticWafMonitor}. */
export interface ElasticWafMonitorProps {
  /**
   * URL of the cluster, e.g. `https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443` or an Amazon OpenSearch Service
   * domain's `https://search-waf-logs-abc123.eu-west-1.es.amazonaws.com`. Must be
   * `https://` (see `allowInsecureHttp`) and must not contain user info (`user:password@`): credentials come only from
   * `credentials`.
   */
  readonly endpoint: string;
  /**
   * Accept an `http://` endpoint. The credentials then travel unencrypted, so only set this for a cluster reachable
   * solely inside your VPC (with `vpc`), never across the internet.
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
  /**
   * Which search engine the endpoint is: Elasticsearch 7.17/8.x, OpenSearch 2.x, an Amazon OpenSearch Service domain
   * or an Amazon OpenSearch Serverless collection.
   * @default SearchEngine.elasticsearch()
   */
  readonly engine?: SearchEngine;
  /**
   * The secret the collector authenticates with; only this secret is readable by the collector. Required for
   * Elasticsearch and self-managed OpenSearch; leave it out for Amazon OpenSearch Service and Serverless, whose
   * requests the collector signs with its role (or give basic auth for a domain with fine-grained access control).
   * @default - none: requests are signed with the collector's role (Amazon OpenSearch engines only)
   */
  readonly credentials?: ElasticCredentials;
  /**
   * Import the WAF dashboard (data view or index pattern, searches, visualizations, one dashboard, generated from
   * `indexPattern`, `fields`, `statusValues` and the Apdex settings) into Kibana or OpenSearch Dashboards at deployment,
   * from a custom resource with the collector's credentials and network. A change of those settings imports them again
   * with overwrite (same ids: updated, not copied); deleting the resource leaves them unless `removeOnDelete`.
   * @default - nothing is imported (`cdk-waf-guard dashboards export` writes the file for a manual import)
   */
  readonly kibanaDashboards?: KibanaDashboardsOptions;
  /** Index pattern of the WAF's request documents, e.g. `waf-logs-*`. */
  readonly indexPattern: string;
  /**
   * Field names of the request documents.
   * @default - the defaults listed on ElasticDocumentFields
   */
  readonly fields?: ElasticDocumentFields;
  /**
   * Values of the status field.
   * @default - allowed, blocked, alerted
   */
  readonly statusValues?: WafStatusValues;
  /**
   * VPC to run the collector in, for a cluster reachable only from inside it. The subnets then need a route to
   * Secrets Manager (NAT or an interface endpoint).
   * @default - the collector runs outside any VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the collector.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the collector in `vpc`.
   * @default - a new group allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * How often the collector runs, in whole minutes.
   * @default Duration.minutes(5)
   */
  readonly collectionInterval?: Duration;
  /**
   * Length of the window each run measures; at least the interval, so no request falls between windows.
   * @default - the collection interval
   */
  readonly window?: Duration;
  /**
   * How long before the run the window ends, so documents still being indexed are not missed.
   * @default Duration.minutes(1)
   */
  readonly ingestDelay?: Duration;
  /**
   * Requests slower than this count as timeouts.
   * @default Duration.seconds(240)
   */
  readonly timeoutThreshold?: Duration;
  /**
   * Apdex target T: requests up to T satisfy, up to 4T are tolerated, slower ones frustrate.
   * @default Duration.millis(30)
   */
  readonly apdexThreshold?: Duration;
  /**
   * Which requests Apdex counts: all requests with `<= T` satisfied and `(T, 4T]` tolerating, or allowed requests only
   * with `< T` satisfied and `[T, 4T)` tolerating.
   * @default ApdexDefinition.ALL_REQUESTS
   */
  readonly apdexDefinition?: ApdexDefinition;
  /**
   * How many of the slowest hosts each run logs for the dashboard's table (1..100).
   * @default 15
   */
  readonly topHostCount?: number;
  /**
   * `shard_size` of the slowest-hosts ranking (100..20,000). The ranking orders hosts by average latency, which
   * Elasticsearch computes exactly only when no shard cuts its list of hosts: it is exact while no shard holds more
   * distinct hosts in one window than this. Each run counts the window's distinct hosts and logs a
   * `TopHostsApproximate` warning above it. Larger values cost cluster memory per run.
   * @default 5000
   */
  readonly topHostsShardSize?: number;
  /**
   * Time limit of each Elasticsearch request. The collector's own timeout is this plus 30 s, and must fit the
   * collection interval so runs never overlap.
   * @default Duration.seconds(30)
   */
  readonly requestTimeout?: Duration;
  /**
   * CloudWatch namespace of the metrics.
   * @default 'WafGuard/Elastic'
   */
  readonly metricNamespace?: string;
  /**
   * Value of the `Cluster` dimension on every metric, telling monitors in one namespace apart.
   * @default - the construct's id
   */
  readonly clusterName?: string;
  /**
   * Alarm thresholds and periods.
   * @default - every alarm with its documented defaults
   */
  readonly alarms?: ElasticWafMonitorAlarms;
  /**
   * Email addresses subscribed to the topic the monitor creates. Not together with `alarmTopic`: subscribe the
   * addresses to your own topic instead.
   * @default - no subscription; subscribe to `alarmTopic` yourself
   */
  readonly alertEmails?: string[];
  /**
   * Topic the alarms notify, instead of one the monitor creates; its subscriptions are yours to manage.
   * @default - a new topic encrypted with a new KMS key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * ECS service running the WAF: its task state changes are logged and crashed tasks raise an alarm.
   * @default - no ECS monitoring
   */
  readonly ecsService?: ecs.IBaseService;
  /**
   * Other alarms of the team (the WAF's load balancer, the upstreams...) to list in the dashboard's alarm status widget
   * beside the monitor's own. They are only shown: the monitor adds no actions to them.
   * @default - only the monitor's alarms
   */
  readonly additionalAlarms?: cloudwatch.IAlarm[];
  /**
   * Log group of the WAF's containers: WARNING and ERROR lines are counted and alarmed on.
   * @default - no log line monitoring
   */
  readonly ecsLogGroup?: logs.ILogGroup;
  /**
   * One-click debugging on the dashboard: per customer, buttons that check the WAF, the upstream (from inside and
   * outside the WAF's VPC) and DNS, with the results in a popup and a log group.
   * @default - no debugging checks
   */
  readonly debugChecks?: DebugChecksOptions;
  /**
   * Name of the dashboard.
   * @default - generated by CloudFormation
   */
  readonly dashboardName?: string;
  /**
   * Retention of the log groups the monitor creates.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups and the topic key when the monitor is removed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}
