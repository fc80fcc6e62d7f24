import { Client } from '@elastic/elasticsearch';
import { SearchClient } from './collector';

/** The collector's three requests on top of the client (built by the shared `createElasticClient`). */
export function searchClient(client: Client): SearchClient {
  return {
    msearch: (searches) => client.msearch({ searches: searches as never }),
    nodesStats: (request) =>
      client.nodes.stats({ metric: request.metric, filter_path: request.filter_path }),
    clusterHealth: (request) => client.cluster.health({ filter_path: request.filter_path }),
  };
}
