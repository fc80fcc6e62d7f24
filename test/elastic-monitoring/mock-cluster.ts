import { BaseConnection, errors } from '@elastic/elasticsearch';
import Mock from '@elastic/elasticsearch-mock';
import { EsError, EvaluatedCluster } from '../support/elasticsearch-evaluator';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly querystring?: string;
  readonly authorization?: string;
}

type Resolver = (params: { body?: unknown; querystring?: Record<string, string> }) => unknown;

/**
 * An Elasticsearch 8 cluster behind `@elastic/elasticsearch-mock`. Every request that reaches the connection is
 * recorded with its Authorization header, so tests count real round trips (retries included) and see the credentials
 * the client sent.
 */
export class MockCluster {
  public readonly requests: RecordedRequest[] = [];
  public readonly msearchBodies: unknown[] = [];
  private readonly mock = new Mock();

  public onMsearch(resolve: Resolver): this {
    this.mock.clear({ method: 'POST', path: '/_msearch' });
    this.mock.add({ method: 'POST', path: '/_msearch' }, (params) => {
      this.msearchBodies.push(params.body);
      return resolve(params) as Record<string, unknown>;
    });
    return this;
  }

  /**
   * Answers `_msearch` and `/:index/_search` by evaluating each request body over the documents of `cluster`, and
   * `_nodes/stats` and `_cluster/health` from its nodes and shards (see {@link serveHealth}); what comes back depends
   * only on the request and the cluster's state.
   */
  public serve(cluster: EvaluatedCluster): this {
    this.serveHealth(cluster);
    this.onMsearch(({ body }) => cluster.msearch(body as Record<string, unknown>[]));
    for (const method of ['GET', 'POST']) {
      this.mock.add({ method, path: '/:index/_search' }, (params: any) => {
        this.msearchBodies.push(params.body);
        try {
          const options = Object.fromEntries(Object.entries(params.querystring ?? {}).map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : v]));
          return cluster.search(decodeURIComponent(params.path.split('/')[1]), params.body ?? {}, options);
        } catch (e) {
          if (!(e instanceof EsError)) throw e;
          return new errors.ResponseError({ body: e.body, statusCode: e.status, headers: {}, warnings: null, meta: {} as any });
        }
      });
    }
    return this;
  }

  public onNodesStats(resolve: Resolver): this {
    this.mock.clear({ method: 'GET', path: '/_nodes/stats/:metric' });
    this.mock.add({ method: 'GET', path: '/_nodes/stats/:metric' }, (params) => resolve(params) as Record<string, unknown>);
    return this;
  }

  public onClusterHealth(resolve: Resolver): this {
    this.mock.clear({ method: 'GET', path: '/_cluster/health' });
    this.mock.add({ method: 'GET', path: '/_cluster/health' }, (params) => resolve(params) as Record<string, unknown>);
    return this;
  }

  /**
   * Answers `_nodes/stats/<metrics>` and `_cluster/health` from the nodes and indices of `cluster`, honouring the
   * metric groups and filter_path the request names.
   */
  public serveHealth(cluster: EvaluatedCluster): this {
    const filterPath = (params: any): string[] | undefined =>
      params.querystring?.filter_path === undefined ? undefined : String(params.querystring.filter_path).split(',');
    const answer = (fn: () => unknown) => {
      try {
        return fn() as Record<string, unknown>;
      } catch (e) {
        if (!(e instanceof EsError)) throw e;
        return new errors.ResponseError({ body: e.body, statusCode: e.status, headers: {}, warnings: null, meta: {} as any });
      }
    };
    this.onNodesStats((params: any) => answer(() => cluster.nodesStats(decodeURIComponent(params.path.split('/')[3]).split(','), filterPath(params))));
    this.onClusterHealth((params: any) => answer(() => cluster.clusterHealth(filterPath(params))));
    return this;
  }

  /** The Connection class to give the client. */
  public connection(): typeof BaseConnection {
    const Base = this.mock.getConnection();
    const requests = this.requests;
    return class RecordingConnection extends Base {
      request(params: any, options: any): any {
        requests.push({
          method: params.method,
          path: decodeURIComponent(params.path),
          querystring: params.querystring,
          authorization: params.headers?.authorization ?? params.headers?.Authorization,
        });
        return super.request(params, options);
      }

      // The mock leaves close() abstract; a real connection releases its sockets here.
      async close(): Promise<void> {}
    };
  }
}

export function unauthorized(body: unknown) {
  return new errors.ResponseError({ body, statusCode: 401, headers: {}, warnings: null, meta: {} as any });
}

export function timedOut() {
  return new errors.TimeoutError('Request timed out');
}

export function refused(address: string) {
  return new errors.ConnectionError(`connect ECONNREFUSED ${address}`);
}
