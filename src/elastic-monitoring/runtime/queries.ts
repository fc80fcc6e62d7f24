import { COMPARISON_OFFSETS, CollectorConfig } from './config';

/** The time range one run covers. */
export interface CollectionWindow {
  /** Inclusive. */
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
  /**
   * Timestamp of the emitted metrics: the start of the window's last interval, so each CloudWatch period of the
   * schedule's length holds exactly one datapoint even when windows overlap.
   */
  readonly timestamp: Date;
}

/**
 * Windows end on multiples of the interval (minus the ingest delay), so a late or retried run measures the same range
 * as the run it replaces instead of a shifted one.
 */
export function collectionWindow(now: Date, config: CollectorConfig): CollectionWindow {
  const end = Math.floor((now.getTime() - config.ingestDelayMs) / config.intervalMs) * config.intervalMs;
  return {
    start: new Date(end - config.windowMs),
    end: new Date(end),
    timestamp: new Date(end - config.intervalMs),
  };
}

/**
 * Latency bucket bounds (ms) for the slowest-5% average. Computing it exactly needs the 95th percentile first, a second
 * round trip the collector does not make; instead each bucket returns its count and exact sum, the tail is summed from
 * the top bucket down, and only the one bucket the 95th percentile falls in is estimated. Bounds grow by at most 1.5x,
 * which bounds that estimate; a percentile-only estimate was off by more than 5% on heavy tails (timeouts).
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 200, 250, 300, 400, 500, 600, 750, 1_000, 1_500,
  2_000, 3_000, 4_500, 6_000, 9_000, 12_000, 18_000, 27_000, 40_000, 60_000, 90_000, 120_000, 180_000, 240_000,
  300_000, 450_000, 600_000,
];

/** Share of the slowest requests averaged in the slowest-5% figures. */
export const SLOWEST_SHARE = 0.05;

/** Every search body the collector sends through `_msearch`, by its position in the request. */
export const SEARCH_ORDER = ['window', 'comparison'] as const;

type Json = Record<string, unknown>;

function rangeQuery(field: string, from: Date, to: Date): Json {
  return {
    range: {
      [field]: { gte: from.toISOString(), lt: to.toISOString(), format: 'strict_date_optional_time' },
    },
  };
}

function latencyFigures(config: CollectorConfig): Json {
  const bounds = LATENCY_BUCKET_BOUNDS_MS;
  const ranges = [
    { to: bounds[0] },
    ...bounds.slice(1).map((to, i) => ({ from: bounds[i], to })),
    { from: bounds[bounds.length - 1] },
  ];
  return {
    latency: { stats: { field: config.fields.latency } },
    latency_buckets: {
      range: { field: config.fields.latency, ranges, keyed: false },
      aggs: { sum: { sum: { field: config.fields.latency } } },
    },
  };
}

/** All figures of the current window in one search: latency, timeouts, slowest 5%, Apdex, status split, top-N hosts. */
export function windowSearchBody(config: CollectorConfig, window: CollectionWindow): Json {
  const { fields } = config;
  const t = config.apdexTMs;
  return {
    size: 0,
    track_total_hits: true,
    query: { bool: { filter: [rangeQuery(fields.timestamp, window.start, window.end)] } },
    aggs: {
      ...latencyFigures(config),
      within_timeout: {
        filter: { range: { [fields.latency]: { lte: config.timeoutThresholdMs } } },
        aggs: latencyFigures(config),
      },
      apdex_satisfied: { filter: { range: { [fields.latency]: { lte: t } } } },
      apdex_tolerating: { filter: { range: { [fields.latency]: { gt: t, lte: 4 * t } } } },
      status: {
        filters: {
          filters: {
            allowed: { term: { [fields.status]: config.statusValues.allowed } },
            blocked: { term: { [fields.status]: config.statusValues.blocked } },
            alerted: { term: { [fields.status]: config.statusValues.alerted } },
          },
        },
      },
      top_hosts: {
        terms: { field: fields.host, size: config.topN, order: { avg_latency: 'desc' } },
        aggs: {
          avg_latency: { avg: { field: fields.latency } },
          timeouts: { filter: { range: { [fields.latency]: { gt: config.timeoutThresholdMs } } } },
          customer: { terms: { field: fields.customer, size: 1 } },
          clients: { cardinality: { field: fields.clientIp } },
          request_bytes: { sum: { field: fields.requestBytes } },
          response_bytes: { sum: { field: fields.responseBytes } },
          server_errors: { filter: { range: { [fields.httpStatusCode]: { gte: 500 } } } },
        },
      },
    },
  };
}

/** Average latency of the same window now and 1 h .. 3 days ago, one keyed date_range bucket each. */
export function comparisonSearchBody(config: CollectorConfig, window: CollectionWindow): Json {
  const ranges = COMPARISON_OFFSETS.map((o) => ({
    key: o.label,
    from: new Date(window.start.getTime() - o.offsetMs),
    to: new Date(window.end.getTime() - o.offsetMs),
  }));
  return {
    size: 0,
    track_total_hits: false,
    // Only the compared windows are read, not the three days between them.
    query: {
      bool: {
        filter: [
          {
            bool: {
              should: ranges.map((r) => rangeQuery(config.fields.timestamp, r.from, r.to)),
              minimum_should_match: 1,
            },
          },
        ],
      },
    },
    aggs: {
      windows: {
        date_range: {
          field: config.fields.timestamp,
          format: 'strict_date_optional_time',
          keyed: true,
          ranges: ranges.map((r) => ({ key: r.key, from: r.from.toISOString(), to: r.to.toISOString() })),
        },
        aggs: { avg_latency: { avg: { field: config.fields.latency } } },
      },
    },
  };
}

/** The `searches` of the one `_msearch` request of a run, header and body alternating in {@link SEARCH_ORDER}. */
export function buildMsearch(config: CollectorConfig, window: CollectionWindow): Json[] {
  // A pattern matching no index yet (a fresh cluster, a rolled-over name) is an empty window, not an error.
  const header = { index: config.indexPattern, ignore_unavailable: true, allow_no_indices: true };
  return [header, windowSearchBody(config, window), header, comparisonSearchBody(config, window)];
}

/** The `_nodes/stats` request: only the metric groups read, trimmed further by filter_path. */
export const NODE_STATS_REQUEST = {
  metric: ['process', 'os', 'jvm', 'fs'],
  filter_path: [
    '_nodes',
    'cluster_name',
    'nodes.*.name',
    'nodes.*.process.cpu.percent',
    'nodes.*.os.cpu.percent',
    'nodes.*.jvm.mem.heap_used_percent',
    'nodes.*.fs.total.total_in_bytes',
    'nodes.*.fs.total.available_in_bytes',
  ],
};
