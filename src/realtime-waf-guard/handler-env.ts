/**
 * Environment variable names shared by the construct (which sets them) and the handlers (which read them).
 * None of them is a secret.
 */
export const ENV = {
  RULES_TABLE: 'RULES_TABLE_NAME',
  COUNTERS_TABLE: 'COUNTERS_TABLE_NAME',
  BLOCKS_TABLE: 'BLOCKS_TABLE_NAME',
  HISTORY_TABLE: 'HISTORY_TABLE_NAME',
  /** Configured log fields in delivered (canonical) order, comma-separated. */
  FIELDS: 'LOG_FIELDS',
  /** Percent of viewer requests CloudFront logs, 1..100. */
  SAMPLING_RATE: 'SAMPLING_RATE',
  /** Comma-separated CIDRs that are never blocked. */
  ALLOW_LIST: 'ALLOW_LIST',
  /** Comma-separated CIDRs of proxies whose X-Forwarded-For is trusted. */
  TRUSTED_PROXIES: 'TRUSTED_PROXIES',
  /** IPv6 clients are counted and blocked per prefix of this length (48..128). */
  IPV6_PREFIX_LENGTH: 'IPV6_PREFIX_LENGTH',
  /** Widest run-time allow-list entry the console takes, as IPv4 and IPv6 prefix lengths. */
  ALLOW_WIDEST_PREFIX_IPV4: 'ALLOW_WIDEST_PREFIX_IPV4',
  ALLOW_WIDEST_PREFIX_IPV6: 'ALLOW_WIDEST_PREFIX_IPV6',
  MAX_NEW_BLOCKS_PER_MINUTE: 'MAX_NEW_BLOCKS_PER_MINUTE',
  /** Fewest logged requests per window a rule's threshold may stand for when sampling; rows below are refused. */
  RULES_CACHE_SECONDS: 'RULES_CACHE_SECONDS',
  /** How long counter items (and the claim and progress items) live after their last update (DynamoDB TTL). */
  COUNTER_RETENTION_SECONDS: 'COUNTER_RETENTION_SECONDS',
  WAF_SCOPE: 'WAF_SCOPE',
  IPV4_SET_NAME: 'IPV4_SET_NAME',
  IPV4_SET_ID: 'IPV4_SET_ID',
  IPV6_SET_NAME: 'IPV6_SET_NAME',
  IPV6_SET_ID: 'IPV6_SET_ID',
  /** The sets matched on the forwarded address of requests from trusted proxies (set only with trusted proxies). */
  FORWARDED_IPV4_SET_NAME: 'FORWARDED_IPV4_SET_NAME',
  FORWARDED_IPV4_SET_ID: 'FORWARDED_IPV4_SET_ID',
  FORWARDED_IPV6_SET_NAME: 'FORWARDED_IPV6_SET_NAME',
  FORWARDED_IPV6_SET_ID: 'FORWARDED_IPV6_SET_ID',
  /** Most addresses a set may hold; WAF's limit is 10,000. */
  MAX_SET_SIZE: 'MAX_IP_SET_SIZE',
  TOPIC_ARN: 'ALERT_TOPIC_ARN',
  HISTORY_RETENTION_DAYS: 'HISTORY_RETENTION_DAYS',
  /** The Timestream database and table of the analytics sink (set only with `timestream`). */
  TIMESTREAM_DATABASE: 'TIMESTREAM_DATABASE',
  TIMESTREAM_TABLE: 'TIMESTREAM_TABLE',
  /** Log fields the sink writes besides those every record has, comma-separated. */
  ANALYTICS_FIELDS: 'ANALYTICS_FIELDS',
  /** STREAMING or TIMESTREAM_QUERY: with query detection the log processor only feeds Timestream. */
  DETECTION: 'DETECTION',
  /** EXACT, or LOCAL_FIRST:<slack percent> (see Counting). */
  COUNTING: 'COUNTING',
  /** Seconds between query detection runs. */
  QUERY_INTERVAL_SECONDS: 'QUERY_INTERVAL_SECONDS',
  /** Console link to the history table, shown by the dashboard widget. */
  HISTORY_URL: 'HISTORY_TABLE_URL',
  METRICS_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Metric names the handlers emit and the construct's metric helpers read. */
export const METRIC = {
  RECORDS: 'RecordsProcessed',
  MALFORMED: 'MalformedLines',
  LAG: 'ProcessingLagMs',
  NEW_BLOCKS: 'BlocksCreated',
  WOULD_BLOCK: 'WouldBlock',
  BLOCK_BUDGET_EXCEEDED: 'BlockBudgetExceeded',
  RELEASES: 'BlocksReleased',
  ACTIVE_BLOCKS: 'ActiveBlocks',
  /** The same, per set: source-address IPv4 and IPv6, and the forwarded sets (both families). */
  ACTIVE_BLOCKS_IPV4: 'ActiveBlocksIpv4',
  ACTIVE_BLOCKS_IPV6: 'ActiveBlocksIpv6',
  ACTIVE_BLOCKS_PROXIED: 'ActiveBlocksProxied',
  DROPPED_OVER_CAP: 'BlocksOverIpSetCap',
  SYNC_ERRORS: 'IpSetSyncErrors',
  INVALID_RULE_ROWS: 'InvalidRuleRows',
  STALE_OFFENCES: 'StaleOffences',
  /** Records the Timestream sink wrote, had rejected (with reasons in the log) or lost to a failed call. */
  ANALYTICS_WRITTEN: 'AnalyticsRecordsWritten',
  ANALYTICS_REJECTED: 'AnalyticsRecordsRejected',
  ANALYTICS_FAILED: 'AnalyticsRecordsFailed',
  /** Records not sent because what detection needs of them (client, host, request id) exceeds a record's 2 KB. */
  ANALYTICS_TOO_LARGE: 'AnalyticsRecordsTooLarge',
  /** Under Counting.LOCAL_FIRST: records of a batch delivered again that were already counted, and skipped. */
  RECORDS_ALREADY_COUNTED: 'RecordsAlreadyCounted',
  /** Under Counting.LOCAL_FIRST: counter writes that failed (their counts stay in memory for the next batch). */
  COUNTER_WRITE_ERRORS: 'CounterWriteErrors',
  /** Under Counting.LOCAL_FIRST: sampled requests dropped because a failed write could not be checked. */
  HELD_COUNTS_DROPPED: 'HeldCountsDropped',
  /** Under Counting.LOCAL_FIRST: (rule, client) pairs an execution environment holds in memory after a batch. */
  HELD_PAIRS: 'HeldPairs',
  /** Rule queries of query detection that failed. */
  DETECTION_QUERY_ERRORS: 'DetectionQueryErrors',
} as const;

/**
 * Counters, and under `Counting.LOCAL_FIRST` the shards' claims, must outlive the longest window (1 hour) and the
 * longest retry of a batch (the event source's maximum record age), or a retry could count again what an expired item
 * had counted. Shards, environments and write marks not heard of within it are forgotten.
 */
export const DEFAULT_COUNTER_RETENTION_SECONDS = 2 * 3600;

/** Timeout of the IP-set sync function; its claims' leases are derived from it. */
export const SYNC_TIMEOUT_SECONDS = 120;

/** Default CloudWatch namespace of the guard's metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'CdkWafGuard';
