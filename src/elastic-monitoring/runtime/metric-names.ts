/**
 * Metric and dimension names, shared by the collector (which emits them) and the construct (which graphs and alarms on
 * them), so the two cannot drift apart.
 */
export const METRIC = {
  requestCount: 'RequestCount',
  latencyAverage: 'LatencyAverage',
  latencyAverageWithoutTimeouts: 'LatencyAverageWithoutTimeouts',
  slowest5PctAverage: 'LatencySlowest5PctAverage',
  slowest5PctAverageWithoutTimeouts: 'LatencySlowest5PctAverageWithoutTimeouts',
  /** 95th and 99th percentile latency of the window. */
  latencyP95: 'LatencyP95',
  latencyP99: 'LatencyP99',
  timeoutCount: 'TimeoutCount',
  /** Timeouts among the requests with a latency. */
  timeoutPercent: 'TimeoutPercent',
  /** HTTP 5xx answers among the requests with an HTTP status code. */
  serverErrorPercent: 'ServerErrorPercent',
  /** Documents of the window without a latency value (not an error: blocked requests often have none). */
  documentsWithoutLatency: 'DocumentsWithoutLatency',
  /** Documents of the window whose status is missing or none of the configured values. */
  documentsWithoutStatus: 'DocumentsWithoutStatus',
  /** Age of the newest document at the run's time; absent when there is none in the lookback (a dead pipeline). */
  newestDocumentAgeSeconds: 'NewestDocumentAgeSeconds',
  allowedCount: 'AllowedCount',
  blockedCount: 'BlockedCount',
  alertedCount: 'AlertedCount',
  allowedPercent: 'AllowedPercent',
  blockedPercent: 'BlockedPercent',
  alertedPercent: 'AlertedPercent',
  apdex: 'Apdex',
  /** With the Offset dimension. */
  latencyAverageByOffset: 'LatencyAverageByOffset',
  /** With the Node dimension. */
  nodeCpuPercent: 'NodeCpuPercent',
  nodeHeapUsedPercent: 'NodeHeapUsedPercent',
  nodeDiskFreePercent: 'NodeDiskFreePercent',
  /** Worst node of the cluster: alarms cannot use SEARCH, and node names are unknown at deploy time. */
  nodeCpuPercentMax: 'NodeCpuPercentMax',
  nodeHeapUsedPercentMax: 'NodeHeapUsedPercentMax',
  nodeDiskFreePercentMin: 'NodeDiskFreePercentMin',
  /** Cluster health (see cluster-health.ts): 0 green, 1 yellow, 2 red. */
  clusterStatus: 'ClusterStatus',
  unassignedShards: 'UnassignedShards',
  /** Old-generation used / max of the fullest node, percent; per node with the Node dimension. */
  jvmMemoryPressureMax: 'JvmMemoryPressureMax',
  nodeJvmMemoryPressure: 'NodeJvmMemoryPressure',
  /** Rejections since node start, summed over the nodes of `statsNodeSet`: cumulative, differenced in CloudWatch. */
  searchRejectedTotal: 'ThreadPoolSearchRejectedTotal',
  writeRejectedTotal: 'ThreadPoolWriteRejectedTotal',
  /** Id of the set of nodes whose counters were summed; a change marks a period the difference cannot be trusted. */
  statsNodeSet: 'StatsNodeSet',
  collectorErrors: 'CollectorErrors',
  /** 1 when some shard failed or timed out, so the run's figures are partial; 0 for a complete run. */
  partialRun: 'PartialRun',
} as const;

export const DIMENSION = {
  cluster: 'Cluster',
  node: 'Node',
  offset: 'Offset',
} as const;

/** The `event` field of the structured log line written for each of the top-N hosts. */
export const TOP_HOST_EVENT = 'top-host';
/** The `event` field of the log line written for each collector problem. */
export const COLLECTOR_ERROR_EVENT = 'collector-error';
/** The `event` field of the log line written for each warning (`kind`: NoMatchingIndex, PartialResults, ...). */
export const COLLECTOR_WARNING_EVENT = 'collector-warning';
/** The field set to true on a top-host log line when the run's ranking is approximate (TopHostsApproximate). */
export const TOP_HOST_APPROXIMATE_FIELD = 'approximate';
