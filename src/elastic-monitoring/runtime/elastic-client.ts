import { Client, ClientOptions, HttpConnection } from '@elastic/elasticsearch';
import { SearchClient } from './collector';
import { CollectorConfig } from './config';
import { ElasticAuth } from './credentials';

/**
 * The 8.x client: a 9.x client sends media-type headers 8.x servers reject, while the 8.x client works with 8.x
 * clusters (and 9.x ones in compatibility mode).
 */
export function createElasticClient(
  config: CollectorConfig,
  auth: ElasticAuth,
  connection?: ClientOptions['Connection'],
): Client {
  return new Client({
    node: config.endpoint,
    auth,
    // Each retry would be another round trip against a cluster that is already failing; the next run retries.
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    // Node's http module: the bundle leaves out undici (build-tools/bundle-stubs), so UndiciConnection cannot be used.
    Connection: connection ?? HttpConnection,
  });
}

/** The collector's two requests on top of the client. */
export function searchClient(client: Client): SearchClient {
  return {
    msearch: (searches) => client.msearch({ searches: searches as never }),
    nodesStats: (request) =>
      client.nodes.stats({ metric: request.metric, filter_path: request.filter_path }),
  };
}
