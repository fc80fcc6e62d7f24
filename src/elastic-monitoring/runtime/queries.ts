import { COMPARISON_OFFSETS, CollectorConfig } from './config';

/** The time range one run covers. */
export interface CollectionWindow {
  /** Inclusive. */
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
  /** When the run measured it: the freshness search looks up to here, and ages are counted from here. */
  readonly now: Date;
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
    now,
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

/** Latency percentiles of the window (`percentiles` aggregation), emitted as `LatencyP95` and `LatencyP99`. */
export const LATENCY_PERCENTS = [95, 99] as const;

/**
 * The shortest lookback of the freshness search before the window's end. Bounded so the search stays cheap on a large
 * cluster (indices and shards wholly older than the range are skipped by the pre-filter phase).
 */
export const FRESHNESS_LOOKBACK_MS = 24 * 3_600_000;

/**
 * How far back before the window's end the freshness search looks for the newest document: at least a day, and twice
 * the default freshness threshold (ingest delay + interval + window). With no document in the lookback the collector
 * emits the lookback's length as the age, so that value must lie clearly above any threshold that a healthy schedule
 * needs (a 1-day window needs more than 24 h). Derived from the configuration, so the construct (which alarms on the
 * threshold) and the collector (which searches) compute the same number.
 */
export function freshnessLookbackMs(config: Pick<CollectorConfig, 'intervalMs' | 'windowMs' | 'ingestDelayMs'>): number {
  return Math.max(FRESHNESS_LOOKBACK_MS, 2 * (config.ingestDelayMs + config.intervalMs + config.windowMs));
}

/**
 * The searches of a run's one `_msearch`, in request order. Each figure group is its own search so that a problem with
 * one field (a `text` mapping fails the whole search it appears in) costs only the figures that need that field:
 * - `window`: counts, latency, slowest 5%, Apdex, status split (timestamp, latency, status fields);
 * - `top_hosts`: the slowest-hosts ranking (host, latency);
 * - `host_customer`, `host_clients`, `host_traffic`: details of the same ranked hosts (customer; client IP; bytes and
 *   HTTP status code), matched to the ranking by host;
 * - `comparison`: average latency of the same window 1 h .. 3 days ago;
 * - `status_codes`: the window's share of HTTP 5xx answers (HTTP status code field);
 * - `freshness`: the newest document's timestamp, from {@link freshnessLookbackMs} before the window's end up to the
 *   run's time, so a dead pipeline shows as a growing age rather than as an empty window only.
 */
export const SEARCH_ORDER = [
  'window', 'top_hosts', 'host_customer', 'host_clients', 'host_traffic', 'comparison', 'status_codes', 'freshness',
] as const;

export type SearchName = (typeof SEARCH_ORDER)[number];

/** The host detail searches and the configuration fields each aggregates. */
export const HOST_DETAIL_SEARCHES = ['host_customer', 'host_clients', 'host_traffic'] as const;

export type HostDetailSearch = (typeof HOST_DETAIL_SEARCHES)[number];

/**
 * Default `shard_size` of the slowest-hosts ranking. A terms aggregation ordered by a sub-aggregation (average latency)
 * is exact only when every shard returns every host it holds: each shard ranks its own hosts and returns its top
 * `shard_size`, so a host cut on one shard would be merged from the other shards' documents only, and the
 * Elasticsearch docs call the resulting error unbounded. With `shard_size` at least the number of distinct hosts a
 * shard holds in the window, no shard cuts anything and the ranking and every per-host figure are exact. The run checks
 * the bound itself (a `cardinality` of the host field, near-exact below its precision threshold) and logs a
 * `TopHostsApproximate` warning when the window has more distinct hosts.
 */
export const DEFAULT_HOST_SHARD_SIZE = 5_000;

/** `cardinality`'s precision threshold cannot exceed this. */
const MAX_PRECISION_THRESHOLD = 40_000;

type Json = Record<string, unknown>;

function rangeQuery(field: string, from: Date, to: Date): Json {
  return {
    range: {
      [field]: { gte: from.toISOString(), lt: to.toISOString(), format: 'strict_date_optional_time' },
    },
  };
}

function windowQuery(config: CollectorConfig, window: CollectionWindow): Json {
  return { bool: { filter: [rangeQuery(config.fields.timestamp, window.start, window.end)] } };
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

/**
 * The Apdex filters. `ALL_REQUESTS`: every request with a latency, satisfied <= T < tolerating <= 4T.
 * `ALLOWED_REQUESTS`: allowed requests only (blocked ones never reach the application), satisfied < T <= tolerating < 4T;
 * its total is its own filter because it is not the latency count.
 */
function apdexFigures(config: CollectorConfig): Json {
  const { fields } = config;
  const t = config.apdexTMs;
  if (config.apdexDefinition !== 'allowedRequests') {
    return {
      apdex_satisfied: { filter: { range: { [fields.latency]: { lte: t } } } },
      apdex_tolerating: { filter: { range: { [fields.latency]: { gt: t, lte: 4 * t } } } },
    };
  }
  const allowed = { term: { [fields.status]: config.statusValues.allowed } };
  const allowedWith = (range: Json) => ({ filter: { bool: { filter: [allowed, { range: { [fields.latency]: range } }] } } });
  return {
    apdex_total: { filter: { bool: { filter: [allowed, { exists: { field: fields.latency } }] } } },
    apdex_satisfied: allowedWith({ lt: t }),
    apdex_tolerating: allowedWith({ gte: t, lt: 4 * t }),
  };
}

/** Figures of the current window that need only the timestamp, latency and status fields. */
export function windowSearchBody(config: CollectorConfig, window: CollectionWindow): Json {
  const { fields } = config;
  return {
    size: 0,
    track_total_hits: true,
    query: windowQuery(config, window),
    aggs: {
      ...latencyFigures(config),
      within_timeout: {
        filter: { range: { [fields.latency]: { lte: config.timeoutThresholdMs } } },
        aggs: latencyFigures(config),
      },
      // Robust against a few timeouts, unlike the average: one 241 s request in 1,500 moves p95 not at all.
      latency_percentiles: { percentiles: { field: fields.latency, percents: [...LATENCY_PERCENTS], keyed: true } },
      // A blocked request often has no latency: counted, so a quiet window is a figure and not an error.
      without_latency: { filter: { bool: { must_not: [{ exists: { field: fields.latency } }] } } },
      without_status: {
        filter: {
          bool: {
            must_not: [{ terms: { [fields.status]: [config.statusValues.allowed, config.statusValues.blocked, config.statusValues.alerted] } }],
          },
        },
      },
      ...apdexFigures(config),
      status: {
        filters: {
          filters: {
            allowed: { term: { [fields.status]: config.statusValues.allowed } },
            blocked: { term: { [fields.status]: config.statusValues.blocked } },
            alerted: { term: { [fields.status]: config.statusValues.alerted } },
          },
        },
      },
    },
  };
}

export function hostShardSize(config: CollectorConfig): number {
  return Math.max(config.hostShardSize ?? DEFAULT_HOST_SHARD_SIZE, config.topN);
}

/** The slowest hosts by average latency; every host search ranks them the same way, so their buckets match. */
function rankedHosts(config: CollectorConfig, details: Json): Json {
  return {
    terms: {
      field: config.fields.host,
      size: config.topN,
      shard_size: hostShardSize(config),
      // ties broken by host, so the ranking and the detail searches agree
      order: [{ avg_latency: 'desc' }, { _key: 'asc' }],
    },
    aggs: { avg_latency: { avg: { field: config.fields.latency } }, ...details },
  };
}

/** The slowest-hosts ranking, and the number of distinct hosts that says whether it is exact. */
export function topHostsSearchBody(config: CollectorConfig, window: CollectionWindow): Json {
  return {
    size: 0,
    track_total_hits: false,
    query: windowQuery(config, window),
    aggs: {
      distinct_hosts: {
        cardinality: { field: config.fields.host, precision_threshold: Math.min(hostShardSize(config), MAX_PRECISION_THRESHOLD) },
      },
      top_hosts: rankedHosts(config, {
        timeouts: { filter: { range: { [config.fields.latency]: { gt: config.timeoutThresholdMs } } } },
      }),
    },
  };
}

/** Per-host details, one search per field group. */
export function hostDetailSearchBody(config: CollectorConfig, window: CollectionWindow, search: HostDetailSearch): Json {
  const { fields } = config;
  const details: Record<HostDetailSearch, Json> = {
    host_customer: { customer: { terms: { field: fields.customer, size: 1 } } },
    host_clients: { clients: { cardinality: { field: fields.clientIp } } },
    host_traffic: {
      request_bytes: { sum: { field: fields.requestBytes } },
      response_bytes: { sum: { field: fields.responseBytes } },
      server_errors: { filter: { range: { [fields.httpStatusCode]: { gte: 500 } } } },
    },
  };
  return { size: 0, track_total_hits: false, query: windowQuery(config, window), aggs: { top_hosts: rankedHosts(config, details[search]) } };
}

/** The configuration fields each search aggregates or filters on, to name the one at fault when a search fails. */
export function searchFields(search: SearchName): Array<keyof CollectorConfig['fields']> {
  switch (search) {
    case 'window':
      return ['latency', 'status', 'timestamp'];
    case 'top_hosts':
      return ['host', 'latency', 'timestamp'];
    case 'host_customer':
      return ['customer', 'host', 'latency'];
    case 'host_clients':
      return ['clientIp', 'host', 'latency'];
    case 'host_traffic':
      return ['requestBytes', 'responseBytes', 'httpStatusCode', 'host', 'latency'];
    case 'comparison':
      return ['latency', 'timestamp'];
    case 'status_codes':
      return ['httpStatusCode', 'timestamp'];
    case 'freshness':
      return ['timestamp'];
  }
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

/** Requests of the window with an HTTP status code, and those answered with a 5xx. */
export function statusCodesSearchBody(config: CollectorConfig, window: CollectionWindow): Json {
  const code = config.fields.httpStatusCode;
  return {
    size: 0,
    track_total_hits: false,
    query: windowQuery(config, window),
    aggs: {
      with_code: { filter: { exists: { field: code } } },
      server_errors: { filter: { range: { [code]: { gte: 500, lt: 600 } } } },
    },
  };
}

/**
 * The newest document's timestamp (`max`), from {@link freshnessLookbackMs} before the window's end up to the run's
 * time. Documents stamped after the run's time (a producer's clock ahead) are left out: they would hide a dead pipeline.
 */
export function freshnessSearchBody(config: CollectorConfig, window: CollectionWindow): Json {
  const field = config.fields.timestamp;
  const from = new Date(window.end.getTime() - freshnessLookbackMs(config));
  return {
    size: 0,
    track_total_hits: false,
    query: {
      bool: {
        filter: [{ range: { [field]: { gte: from.toISOString(), lte: window.now.toISOString(), format: 'strict_date_optional_time' } } }],
      },
    },
    aggs: { newest: { max: { field } } },
  };
}

/** The body of each search of a run, by name. */
export function searchBodies(config: CollectorConfig, window: CollectionWindow): Record<SearchName, Json> {
  return {
    window: windowSearchBody(config, window),
    top_hosts: topHostsSearchBody(config, window),
    host_customer: hostDetailSearchBody(config, window, 'host_customer'),
    host_clients: hostDetailSearchBody(config, window, 'host_clients'),
    host_traffic: hostDetailSearchBody(config, window, 'host_traffic'),
    comparison: comparisonSearchBody(config, window),
    status_codes: statusCodesSearchBody(config, window),
    freshness: freshnessSearchBody(config, window),
  };
}

/** The `searches` of the one `_msearch` request of a run, header and body alternating in {@link SEARCH_ORDER}. */
export function buildMsearch(config: CollectorConfig, window: CollectionWindow): Json[] {
  // A pattern matching no index yet (a fresh cluster, a rolled-over name) is an empty window, not an error.
  const header = { index: config.indexPattern, ignore_unavailable: true, allow_no_indices: true };
  const bodies = searchBodies(config, window);
  return SEARCH_ORDER.flatMap((name) => [header, bodies[name]]);
}

/** The `_nodes/stats` request: only the metric groups read, trimmed further by filter_path. */
export const NODE_STATS_REQUEST = {
  metric: ['process', 'os', 'jvm', 'fs', 'thread_pool'],
  filter_path: [
    '_nodes',
    'cluster_name',
    'nodes.*.name',
    'nodes.*.process.cpu.percent',
    'nodes.*.os.cpu.percent',
    'nodes.*.jvm.mem.heap_used_percent',
    'nodes.*.fs.total.total_in_bytes',
    'nodes.*.fs.total.available_in_bytes',
    // Cluster health figures (see cluster-health.ts): JVM memory pressure and thread-pool rejections.
    'nodes.*.jvm.mem.heap_max_in_bytes',
    'nodes.*.jvm.mem.pools.old.used_in_bytes',
    'nodes.*.jvm.mem.pools.old.max_in_bytes',
    'nodes.*.thread_pool.search.rejected',
    'nodes.*.thread_pool.write.rejected',
  ],
};

/** The `_cluster/health` request (cluster level, no waiting): the third and last round trip of a run. */
export const CLUSTER_HEALTH_REQUEST = {
  filter_path: ['cluster_name', 'status', 'timed_out', 'number_of_nodes', 'unassigned_shards'],
};
