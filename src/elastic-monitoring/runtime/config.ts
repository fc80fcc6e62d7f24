/**
 * The collector's configuration, written by the construct into one environment variable as JSON and read back by the
 * handler. It holds no secret: credentials are referenced by the secret's ARN and read at run time.
 */

import { ConfigError, CredentialsConfig, DEFAULT_FIELDS, endpointErrors, FieldNames } from '../../shared/runtime/elastic/connection';

// Connection, credentials and field names are shared with the report handler; re-exported for the collector's modules.
export { ConfigError, DEFAULT_FIELDS, endpointErrors, redactUrlCredentials } from '../../shared/runtime/elastic/connection';
export type { CredentialsConfig, CredentialsKind, FieldNames } from '../../shared/runtime/elastic/connection';

/** Environment variable holding the JSON-encoded {@link CollectorConfig}. */
export const COLLECTOR_CONFIG_ENV = 'COLLECTOR_CONFIG';

/** The values of the status field that mean allowed, blocked and alerted. */
export interface StatusValues {
  readonly allowed: string;
  readonly blocked: string;
  readonly alerted: string;
}

/**
 * Which search engine the endpoint is, and so how requests are authenticated and which answers are expected:
 * - `elasticsearch`: Elasticsearch 7.17 or 8.x, basic auth or API key; answers carry `x-elastic-product`.
 * - `opensearch`: self-managed OpenSearch 2.x, basic auth.
 * - `amazon-opensearch-service`: a domain of Amazon OpenSearch Service; SigV4 (service `es`) without credentials,
 *   basic auth with them (fine-grained access control).
 * - `amazon-opensearch-serverless`: a collection of Amazon OpenSearch Serverless; SigV4 (service `aoss`) only, and no
 *   `_nodes/stats` (Serverless has no nodes to show).
 */
export type EngineKind = 'elasticsearch' | 'opensearch' | 'amazon-opensearch-service' | 'amazon-opensearch-serverless';

export const ENGINE_KINDS: readonly EngineKind[] = ['elasticsearch', 'opensearch', 'amazon-opensearch-service', 'amazon-opensearch-serverless'];

export interface EngineConfig {
  readonly kind: EngineKind;
  /** Region requests are signed for, for the Amazon engines; taken from the endpoint when absent. */
  readonly region?: string;
}

/** The engines whose requests are signed with the function's role when no credentials are given. */
export function signsWithRole(engine: EngineConfig | undefined): boolean {
  return engine?.kind === 'amazon-opensearch-service' || engine?.kind === 'amazon-opensearch-serverless';
}

/** Serverless has no `_nodes/stats` (nor cluster health): the collector leaves the node figures out there. */
export function hasNodeStats(engine: EngineConfig | undefined): boolean {
  return engine?.kind !== 'amazon-opensearch-serverless';
}

/** The SigV4 service name: `es` for a domain, `aoss` for a Serverless collection. */
export function signingService(engine: EngineKind): 'es' | 'aoss' | undefined {
  if (engine === 'amazon-opensearch-service') return 'es';
  if (engine === 'amazon-opensearch-serverless') return 'aoss';
  return undefined;
}

/**
 * The region of an AWS endpoint (`search-x-abc.eu-west-1.es.amazonaws.com`, `abc.eu-west-1.aoss.amazonaws.com`),
 * undefined for a custom endpoint, whose region must then be configured.
 */
export function regionOfEndpoint(endpoint: string): string | undefined {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return undefined;
  }
  return /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:es|aoss)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
}

/** `allRequests`: every request with a latency, satisfied <= T. `allowedRequests`: allowed requests, satisfied < T. */
export type ApdexDefinitionName = 'allRequests' | 'allowedRequests';

export interface CollectorConfig {
  readonly endpoint: string;
  /** Set only when the deployer opted into an http:// endpoint; without it such an endpoint is refused. */
  readonly allowInsecureHttp?: boolean;
  readonly indexPattern: string;
  readonly fields: FieldNames;
  readonly statusValues: StatusValues;
  /** How often the collector runs; windows end on multiples of it. */
  readonly intervalMs: number;
  /** Length of the window the figures cover (>= intervalMs). */
  readonly windowMs: number;
  /** Documents arrive late; the window ends this long before the run. */
  readonly ingestDelayMs: number;
  /** Requests slower than this count as timeouts. */
  readonly timeoutThresholdMs: number;
  readonly apdexTMs: number;
  /**
   * Which requests Apdex counts and how the bounds are drawn (see queries.ts).
   * @default 'allRequests'
   */
  readonly apdexDefinition?: ApdexDefinitionName;
  readonly topN: number;
  /**
   * `shard_size` of the slowest-hosts ranking: exact while no shard holds more distinct hosts in a window.
   * @default DEFAULT_HOST_SHARD_SIZE
   */
  readonly hostShardSize?: number;
  readonly namespace: string;
  /** Value of the `Cluster` dimension on every metric. */
  readonly clusterName: string;
  /** Per request to Elasticsearch; below the function timeout so a hung cluster cannot stall the run. */
  readonly requestTimeoutMs: number;
  /**
   * Largest answer read, in bytes; a larger one is abandoned mid-stream and reported, so memory stays bounded. It is
   * `_msearch`'s limit; `_nodes/stats` and `_cluster/health` have smaller ones of their own (see elastic-client.ts),
   * lowered to this when it is lower.
   * @default DEFAULT_MAX_RESPONSE_BYTES
   */
  readonly maxResponseBytes?: number;
  /** @default - Elasticsearch */
  readonly engine?: EngineConfig;
  /** Absent only where requests are signed with the function's role (the Amazon OpenSearch engines). */
  readonly credentials?: CredentialsConfig;
}

/**
 * The collector's answers are aggregations (no documents): a few hundred kilobytes at the largest settings. 16 MiB
 * leaves room for that many times over and keeps the parsed answer well inside the function's 256 MB.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** The earlier windows the current average latency is compared with. */
export const COMPARISON_OFFSETS: ReadonlyArray<{ readonly label: string; readonly offsetMs: number }> = Object.freeze(
  [
    { label: 'now', offsetMs: 0 },
    { label: '1h', offsetMs: 3_600_000 },
    { label: '6h', offsetMs: 6 * 3_600_000 },
    { label: '12h', offsetMs: 12 * 3_600_000 },
    { label: '1d', offsetMs: 24 * 3_600_000 },
    { label: '3d', offsetMs: 72 * 3_600_000 },
  ].map((o) => Object.freeze(o)),
);

export const DEFAULT_STATUS_VALUES: StatusValues = { allowed: 'allowed', blocked: 'blocked', alerted: 'alerted' };

/** Limits shared by the construct (synth-time validation) and the handler (run-time validation). */
export const LIMITS = {
  topNMin: 1,
  topNMax: 100,
  hostShardSizeMin: 100,
  /** Above this, the per-shard buckets of the ranking and its details approach `search.max_buckets` (65,536). */
  hostShardSizeMax: 20_000,
  /** The earliest comparison window is 3 days back; a longer window makes the comparison meaningless. */
  windowMaxMs: 24 * 3_600_000,
};

/**
 * Why a cluster name cannot be the `Cluster` dimension, empty when it can. CloudWatch trims dimension values, and so
 * does the collector's EMF writer; a name with surrounding whitespace would make the emitted metrics differ from the
 * ones the alarms and dashboard query, so both the construct and the collector refuse it.
 */
export function clusterNameErrors(clusterName: string): string[] {
  if (clusterName.trim() !== clusterName) {
    return [`clusterName "${clusterName}" must not start or end with whitespace, or the metrics the collector emits would not match the alarms and dashboard; remove the surrounding spaces`];
  }
  return [];
}

/**
 * Reads and checks the configuration. Throws {@link ConfigError} naming the offending setting, so a broken deployment
 * shows up as one clear log line per run instead of a stack trace.
 */
export function parseCollectorConfig(raw: string | undefined): CollectorConfig {
  if (!raw) {
    throw new ConfigError(`environment variable ${COLLECTOR_CONFIG_ENV} is not set`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`environment variable ${COLLECTOR_CONFIG_ENV} is not valid JSON`);
  }
  const errors = validateCollectorConfig(parsed);
  if (errors.length > 0) {
    throw new ConfigError(`invalid collector configuration: ${errors.join('; ')}`);
  }
  return parsed as CollectorConfig;
}

/** Every problem found in a configuration, empty when it is usable. */
export function validateCollectorConfig(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) {
    return ['configuration must be a JSON object'];
  }
  const c = value as Record<string, unknown>;
  const errors: string[] = [];
  const text = (obj: Record<string, unknown>, key: string, where: string) => {
    if (typeof obj[key] !== 'string' || (obj[key] as string).trim() === '') {
      errors.push(`${where}${key} must be a non-empty string`);
    }
  };
  const positive = (key: string) => {
    if (typeof c[key] !== 'number' || !Number.isFinite(c[key]) || (c[key] as number) <= 0) {
      errors.push(`${key} must be a positive number`);
    }
  };
  for (const key of ['endpoint', 'indexPattern', 'namespace', 'clusterName']) text(c, key, '');
  if (typeof c.clusterName === 'string' && c.clusterName.trim() !== '') errors.push(...clusterNameErrors(c.clusterName));
  for (const key of ['intervalMs', 'windowMs', 'timeoutThresholdMs', 'apdexTMs', 'requestTimeoutMs']) positive(key);
  if (typeof c.ingestDelayMs !== 'number' || c.ingestDelayMs < 0) errors.push('ingestDelayMs must be a number >= 0');
  if (!Number.isInteger(c.topN) || (c.topN as number) < LIMITS.topNMin || (c.topN as number) > LIMITS.topNMax) {
    errors.push(`topN must be an integer from ${LIMITS.topNMin} to ${LIMITS.topNMax}`);
  }
  const shardSize = c.hostShardSize as number | undefined;
  if (shardSize !== undefined && !(Number.isInteger(shardSize) && shardSize >= LIMITS.hostShardSizeMin && shardSize <= LIMITS.hostShardSizeMax)) {
    errors.push(`hostShardSize must be an integer from ${LIMITS.hostShardSizeMin} to ${LIMITS.hostShardSizeMax}`);
  }
  if (c.apdexDefinition !== undefined && c.apdexDefinition !== 'allRequests' && c.apdexDefinition !== 'allowedRequests') {
    errors.push('apdexDefinition must be "allRequests" or "allowedRequests"');
  }
  if (typeof c.windowMs === 'number' && typeof c.intervalMs === 'number' && c.windowMs < c.intervalMs) {
    errors.push('windowMs must be at least intervalMs, or requests between windows are never counted');
  }
  if (c.allowInsecureHttp !== undefined && typeof c.allowInsecureHttp !== 'boolean') {
    errors.push('allowInsecureHttp must be true or false');
  }
  if (typeof c.endpoint === 'string' && c.endpoint.trim() !== '') {
    errors.push(...endpointErrors(c.endpoint, c.allowInsecureHttp === true));
  }
  const fields = c.fields as Record<string, unknown> | undefined;
  if (typeof fields !== 'object' || fields === null) {
    errors.push('fields must be an object');
  } else {
    for (const key of Object.keys(DEFAULT_FIELDS)) text(fields, key, 'fields.');
  }
  const statusValues = c.statusValues as Record<string, unknown> | undefined;
  if (typeof statusValues !== 'object' || statusValues === null) {
    errors.push('statusValues must be an object');
  } else {
    for (const key of Object.keys(DEFAULT_STATUS_VALUES)) text(statusValues, key, 'statusValues.');
  }
  const engine = c.engine as Record<string, unknown> | undefined;
  if (engine !== undefined && (typeof engine !== 'object' || engine === null || !ENGINE_KINDS.includes(engine.kind as EngineKind))) {
    errors.push(`engine.kind must be one of ${ENGINE_KINDS.join(', ')}`);
  } else if (engine?.region !== undefined && (typeof engine.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(engine.region))) {
    errors.push(`engine.region must be an AWS region such as eu-west-1, got ${JSON.stringify(engine.region)}`);
  }
  const maxBytes = c.maxResponseBytes;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && (maxBytes as number) >= 1024)) {
    errors.push('maxResponseBytes must be a whole number of bytes, at least 1024');
  }
  const credentials = c.credentials as Record<string, unknown> | undefined;
  const engineKind = (engine?.kind as EngineKind | undefined) ?? 'elasticsearch';
  if (credentials === undefined) {
    if (!signsWithRole(engine as EngineConfig | undefined)) {
      errors.push(`credentials must be given for engine ${engineKind}; only the Amazon OpenSearch engines sign requests with the function's role instead`);
    }
  } else if (typeof credentials !== 'object' || credentials === null) {
    errors.push('credentials must be an object');
  } else if (engineKind === 'amazon-opensearch-serverless') {
    errors.push('credentials must be left out for amazon-opensearch-serverless, which accepts only SigV4-signed requests');
  } else {
    text(credentials, 'secretArn', 'credentials.');
    if (credentials.kind !== 'basic' && credentials.kind !== 'apiKey') {
      errors.push('credentials.kind must be "basic" or "apiKey"');
    } else if (credentials.kind === 'apiKey' && engineKind !== 'elasticsearch') {
      errors.push(`credentials.kind apiKey is an Elasticsearch API key, which ${engineKind} does not accept: use basic auth`);
    }
  }
  return errors;
}
