import { SearchClient } from './collector';
import { CollectorConfig, DEFAULT_MAX_RESPONSE_BYTES } from './config';
import { authAdvice } from './request-auth';
import { Authenticate, SearchTransport } from './search-transport';

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
    }),
    clusterHealth: (request) => transport.send({
      method: 'GET',
      path: ['_cluster', 'health'],
      query: { filter_path: request.filter_path.join(',') },
      source: '_cluster/health',
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
