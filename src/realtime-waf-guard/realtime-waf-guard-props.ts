import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Counting } from './counting';
import { HostRule } from './host-rule';
import { Detection, TimestreamOptions } from './timestream-options';
import { ManagedRuleGroup, RateBasedBackstop } from './waf-rules';

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
   * Percent of viewer requests CloudFront logs, 1 to 100. Thresholds stay in real requests: below 100% a rule blocks
   * once a window holds a number of logged requests chosen so that a client steadily at 70% of the threshold is
   * blocked in under 1 in 1,000 days, and a rule for which even a client at 10 times its threshold would not be blocked
   * within a window fails at synth (the message gives the lowest threshold and rate that work). A low rate makes
   * detection of slow attackers slower; see the README's table of detection delays.
   * @default 100
   */
  readonly samplingRate?: number;

  /**
   * No longer used: a statistical bound on the logged count decides instead (see `samplingRate`), which keeps false
   * blocks rare however few requests a threshold stands for. Still checked (1 to 100,000) so that existing code
   * compiles and behaves as before at synth.
   * @deprecated the sampling bound replaces it; remove the prop.
   * @default 10
   */
  readonly minLoggedRequests?: number;

  /**
   * CIDRs (IPv4 or IPv6; bare addresses become /32 or /128) the guard never blocks, e.g. your monitoring and offices.
   * Applies to the guard's own blocks, not to the rate-based backstop or managed rule groups.
   * @default - none
   */
  readonly allowList?: string[];

  /**
   * CIDRs of proxies in front of CloudFront whose `X-Forwarded-For` is trusted: for requests from them, the right-most
   * address in `X-Forwarded-For` (the peer the proxy saw) is the client, and it is blocked in forwarded-address IP sets
   * that WAF applies only to requests from these proxies. Without it the header, which any client can forge, is ignored.
   * @default - none: the client is always `c-ip`
   */
  readonly trustedProxies?: string[];

  /**
   * IPv6 clients are counted, blocked, released and alerted per network of this many bits, 48 to 128: a host owns at
   * least a /64 and can rotate through all of it, so counting single IPv6 addresses lets it stay under every
   * threshold. IPv4 clients are always single addresses.
   * @default 64
   */
  readonly ipv6PrefixLength?: number;

  /**
   * Widest IPv4 network, as a prefix length (1 to 32), that `allowList` and the run-time allow-list (console widget,
   * CLI) take. Wider entries are refused because a few of them switch the guard off (`0.0.0.0/1` and `128.0.0.0/1`
   * together spare everyone); lower it on purpose, e.g. 8 for a corporate `10.0.0.0/8`. `/0` is refused always.
   * @default 16 - the widest network an operator may block by hand
   */
  readonly allowListWidestPrefixIpv4?: number;

  /**
   * Widest IPv6 network, as a prefix length (1 to 128), that `allowList` and the run-time allow-list take; see
   * `allowListWidestPrefixIpv4`.
   * @default 32 - the widest network an operator may block by hand
   */
  readonly allowListWidestPrefixIpv6?: number;

  /**
   * Most new blocks per minute across all rules; further offenders are alerted but not blocked, so a bad rule cannot
   * block the world. A renewal (a client still over its threshold when its block ends) counts as a new block.
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
   * Create a WebACL with the guard's rules. With `false`, add `blockRules()` to a WebACL you own: synth warns
   * (`cdk-waf-guard:ipSetsInNoWebAcl`) when no WebACL or rule group of the app reads the guard's IP sets, which would
   * then block nobody; acknowledge it when that WebACL is defined outside the app.
   * @default true
   */
  readonly createWebAcl?: boolean;

  /**
   * Refuse requests sent to a distribution's own `*.cloudfront.net` name (a WAF rule on the Host header, in the guard's
   * WebACL and in `blockRules()`). A distribution answers on that name too, so without this a client skips every rule
   * on your hosts by sending the same requests to `d111111abcdef8.cloudfront.net`. Every distribution passed to
   * `attachTo()` must then have alternate domain names (`domainNames`); one without them fails at synth.
   * @default true
   */
  readonly blockCloudFrontDomain?: boolean;

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
   * (1 hour) and `maxRecordAge`, so that a late retry of a batch still finds the marks (under `Counting.LOCAL_FIRST`,
   * the shard's claim) that stop it counting twice.
   * @default - 2 hours, or `maxRecordAge` when that is longer
   */
  readonly counterRetention?: Duration;

  /**
   * Removal policy of what is worth keeping: the KMS key, the rules table, the history table, the handlers' log
   * groups and the Timestream database and table the guard creates. The stream, counters, blocks, queue, topic, IP sets
   * and WebACL only hold short-lived or derived data and are always destroyed. See the README's "Removing the guard".
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
   * sync errors, batches in the dead-letter queue, log processing more than a minute behind, refused rule rows, and
   * (with `Counting.LOCAL_FIRST`) counter writes failing.
   * @default true
   */
  readonly operationalAlarms?: boolean;

  /**
   * Write every log record to Amazon Timestream for LiveAnalytics (a new or existing database and table), for ad-hoc
   * queries and Grafana; needed by query detection. Timestream for LiveAnalytics is open to existing customers only.
   * Records the service rejects are logged with their reasons and counted; a Timestream failure never stops
   * streaming detection or blocking. See the README for the schema, ready queries and costs.
   * @default - no Timestream
   */
  readonly timestream?: TimestreamOptions;

  /**
   * How offenders are found: streaming detection counts every batch in DynamoDB (blocks within seconds);
   * `Detection.TIMESTREAM_QUERY` queries the `timestream` table on a schedule instead (blocks within the query
   * interval, billed in Timestream compute units: read the README cost table first).
   * @default Detection.STREAMING
   */
  readonly detection?: Detection;

  /**
   * How the log processor keeps its per-client counts: `Counting.LOCAL_FIRST` holds clients far below every threshold
   * in memory and writes them to DynamoDB only once they could matter (a client is caught by the threshold plus 10%,
   * after a cold start within one more window); `Counting.EXACT` writes every (rule, client) pair of every batch.
   * See the README's counting section for the bounds and the cost of each.
   * @default - Counting.LOCAL_FIRST, or Counting.EXACT (said at synth) where every rule's threshold is too small for
   * LOCAL_FIRST to hold any client in memory, so that it would write as often as EXACT and more
   */
  readonly counting?: Counting;

  /**
   * A CloudWatch dashboard for operators: the guard's health graphs and alarms, the last day's decisions, and a
   * custom widget that lists blocks and dry-run catches and unblocks, extends, blocks and allow-lists by hand. Only
   * principals allowed to invoke the widget function (`consoleFunction`) can act.
   * @default true
   */
  readonly dashboard?: boolean;
}

/** Options of `RealtimeWafGuard.attachTo()`. */
export interface AttachOptions {
  /**
   * Replace a real-time log config a cache behavior already has (a behavior has one). Without it such a behavior fails
   * at synth, because replacing it silently cuts off that config's consumer: another team's, or another guard's.
   * @default false
   */
  readonly replaceExistingRealtimeLogConfig?: boolean;
}
