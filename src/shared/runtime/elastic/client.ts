import { Client, ClientOptions, HttpConnection } from '@elastic/elasticsearch';
import { ElasticAuth } from './credentials';

// Apart from connection.ts on purpose: the constructs import the connection settings, and the library must load
// without the Elasticsearch client, which only the handler bundles carry.

/** What a client needs to know about the cluster. */
export interface ElasticConnection {
  readonly endpoint: string;
  /** Per request; below the function timeout so a hung cluster cannot stall the run. */
  readonly requestTimeoutMs: number;
}

/**
 * The 8.x client: a 9.x client sends media-type headers 8.x servers reject, while the 8.x client works with 8.x
 * clusters (and 9.x ones in compatibility mode).
 */
export function createElasticClient(
  connection: ElasticConnection,
  auth: ElasticAuth,
  transport?: ClientOptions['Connection'],
): Client {
  return new Client({
    node: connection.endpoint,
    auth,
    // Each retry would be another round trip against a cluster that is already failing; the next run retries.
    maxRetries: 0,
    requestTimeout: connection.requestTimeoutMs,
    // Node's http module: the bundles leave out undici (build-tools/bundle-stubs), so UndiciConnection cannot be used.
    Connection: transport ?? HttpConnection,
  });
}
