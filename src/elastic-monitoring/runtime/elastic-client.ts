import { SearchClient } from './collector';
import { CollectorConfig, DEFAULT_MAX_RESPONSE_BYTES } from './config';
import { authAdvice } from './request-auth';
import { Authenticate, SearchTransport } from './search-transport';

/**
 * `_nodes/stats` with the collector's filter_path holds a name and eleven numbers per node: about 450 bytes of JSON a
 * node with 20-digit figures (760 pretty-printed), so 4 MiB is room for over 5,000 nodes, several times the largest
 * clusters. Each request has its own cap so the three answers read in parallel (16 MiB + 4 MiB + 64 KiB at most, and
 * their parsed forms) stay far inside the function's 256 MB.
 */
export const NODE_STATS_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** `_cluster/health` with the collector's filter_path is five short fields, under 200 bytes. */
export const CLUSTER_HEALTH_MAX_RESPONSE_BYTES = 64 * 1024;

/** NDJSON: one JSON value per line, and a final newline, which `_msearch` requires. */
export function ndjson(values: readonly unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}

/** The collector's requests, one method per request, on top of its HTTP transport. */
export function searchClient(transport: SearchTransport): SearchClient {
  return {
    msearch: (searches) => transport.send({
      method: 'POST',
      path: ['_msearch'],
      body: ndjson(searches),
      contentType: 'application/x-ndjson',
      source: '_msearch',
    }),
    nodesStats: (request) => transport.send({
      method: 'GET',
      path: ['_nodes', 'stats', request.metric.join(',')],
      query: { filter_path: request.filter_path.join(',') },
      source: '_nodes/stats',
      maxResponseBytes: NODE_STATS_MAX_RESPONSE_BYTES,
    }),
    clusterHealth: (request) => transport.send({
      method: 'GET',
      path: ['_cluster', 'health'],
      query: { filter_path: request.filter_path.join(',') },
      source: '_cluster/health',
      maxResponseBytes: CLUSTER_HEALTH_MAX_RESPONSE_BYTES,
    }),
  };
}

/** The transport for a configuration: its endpoint, engine, time limit and size limit. */
export function collectorTransport(config: CollectorConfig, authenticate: Authenticate): SearchTransport {
  return new SearchTransport({
    endpoint: config.endpoint,
    engine: config.engine?.kind ?? 'elasticsearch',
    requestTimeoutMs: config.requestTimeoutMs,
    maxResponseBytes: config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    authenticate,
    authAdvice: authAdvice(config.engine, config.credentials === undefined),
  });
}
