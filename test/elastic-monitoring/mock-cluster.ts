import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { BaseConnection, errors } from '@elastic/elasticsearch';
import Mock from '@elastic/elasticsearch-mock';
import { CollectorRun, RunSummary, collect } from '../../src/elastic-monitoring/runtime/collector';
import { CollectorConfig } from '../../src/elastic-monitoring/runtime/config';
import { collectorTransport, searchClient } from '../../src/elastic-monitoring/runtime/elastic-client';
import { headerAuthenticator } from '../../src/elastic-monitoring/runtime/request-auth';
import { EsError, EvaluatedCluster } from '../support/elasticsearch-evaluator';
import { SigV4Expectation, sigV4Problem } from '../support/sigv4-verifier';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly querystring?: string;
  readonly authorization?: string;
  readonly contentType?: string;
}

/**
 * Which product the fake answers as over HTTP. What differs between them, as documented by each product:
 * - `elasticsearch-8`: `x-elastic-product: Elasticsearch` on every answer; vendor media types (`compatible-with=8`)
 *   accepted; version 8.x on `/`.
 * - `elasticsearch-7.17`: the same header (sent since 7.14), version 7.17 on `/`, and `compatible-with=8` media types
 *   refused with a `media_type_header_exception`.
 * - `opensearch-2`: no `x-elastic-product`, `version.distribution: opensearch` on `/`, Elasticsearch vendor media
 *   types refused with a 406, and the security plugin's plain-text `Unauthorized` for unknown users.
 * - `amazon-opensearch-service` / `amazon-opensearch-serverless`: OpenSearch 2 behind SigV4 (service `es` / `aoss`),
 *   refusing an invalid signature with AWS's `{"message": ...}` 403; Serverless has no `_nodes/stats`.
 */
export type FakeEngine = 'elasticsearch-8' | 'elasticsearch-7.17' | 'opensearch-2' | 'amazon-opensearch-service' | 'amazon-opensearch-serverless';

export interface ListenOptions {
  readonly engine: FakeEngine;
  /** For the Amazon engines: the credentials and scope a valid signature has. */
  readonly sigV4?: Omit<SigV4Expectation, 'service'>;
}

/** A handle on the fake's HTTP server. */
export interface FakeSearchServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Body bytes the server managed to write, per request in arrival order (for answers streamed by `streamedBody`). */
  readonly bytesWritten: number[];
  close(): Promise<void>;
}

/** An answer the fake sends as it is: a status, headers and a text body (a proxy's page, say). */
export class RawAnswer {
  constructor(
    public readonly status: number,
    public readonly headers: Record<string, string>,
    public readonly body: string,
  ) {}
}

/** An answer of `totalBytes` bytes streamed in chunks as fast as the client reads it (a runaway JSON answer). */
export class StreamedAnswer {
  constructor(
    public readonly totalBytes: number,
    public readonly declareLength: boolean,
  ) {}
}

const isElasticsearch = (engine: FakeEngine) => engine.startsWith('elasticsearch');

function rootInfo(engine: FakeEngine): Record<string, unknown> {
  if (engine === 'elasticsearch-8') {
    return {
      name: 'es-hot-1',
      cluster_name: 'waf-logs',
      cluster_uuid: 'kJ0tGkQxRkWm8c3nY1uQ2g',
      version: { number: '8.15.3', build_flavor: 'default', build_type: 'docker', lucene_version: '9.11.1', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' },
      tagline: 'You Know, for Search',
    };
  }
  if (engine === 'elasticsearch-7.17') {
    return {
      name: 'es-hot-1',
      cluster_name: 'waf-logs',
      cluster_uuid: 'kJ0tGkQxRkWm8c3nY1uQ2g',
      version: { number: '7.17.24', build_flavor: 'default', build_type: 'docker', lucene_version: '8.11.3', minimum_wire_compatibility_version: '6.8.0', minimum_index_compatibility_version: '6.0.0-beta1' },
      tagline: 'You Know, for Search',
    };
  }
  return {
    name: 'os-node-1',
    cluster_name: engine === 'opensearch-2' ? 'waf-logs' : '111111111111:waf-logs',
    cluster_uuid: 'Zr1mO0r9T2ivB6jv2rZz2w',
    version: { distribution: 'opensearch', number: '2.17.1', build_type: 'tar', lucene_version: '9.11.1', minimum_wire_compatibility_version: '7.10.0', minimum_index_compatibility_version: '7.0.0' },
    tagline: 'The OpenSearch Project: https://opensearch.org/',
  };
}

/** How each product refuses an Elasticsearch 8 vendor media type, or undefined when it accepts it. */
function mediaTypeRefusal(
  engine: FakeEngine,
  contentType: string | undefined,
  accept: string | undefined,
): { status: number; body: unknown } | undefined {
  const vendor = [contentType, accept].find((t) => t !== undefined && /vnd\.elasticsearch/.test(t));
  if (vendor === undefined || engine === 'elasticsearch-8') return undefined;
  if (engine === 'elasticsearch-7.17') {
    const reason = 'Invalid media-type value on headers [Accept, Content-Type]';
    return {
      status: 400,
      body: { error: { root_cause: [{ type: 'media_type_header_exception', reason }], type: 'media_type_header_exception', reason, caused_by: { type: 'status_exception', reason: `Compatible version must be equal or less than the current version. Accept=${accept} Content-Type=${contentType}` } }, status: 400 },
    };
  }
  return { status: 406, body: { error: `Content-Type header [${vendor}] is not supported`, status: 406 } };
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

  /**
   * Serves the same routes over HTTP as `engine` would answer them, for clients that speak HTTP themselves (the
   * collector's transport). Each request is recorded, its media types and (for the Amazon engines) its SigV4
   * signature checked, then answered by the route resolvers from what it carries.
   */
  public async listen(options: ListenOptions): Promise<FakeSearchServer> {
    const { engine } = options;
    const productHeaders: Record<string, string> = isElasticsearch(engine)
      ? { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' }
      : { 'content-type': 'application/json; charset=UTF-8' };
    const service = engine === 'amazon-opensearch-service' ? 'es' : engine === 'amazon-opensearch-serverless' ? 'aoss' : undefined;
    const bytesWritten: number[] = [];
    const sockets = new Set<import('node:net').Socket>();

    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const [rawPath, rawQuery] = (req.url ?? '/').split('?', 2);
        const path = decodeURIComponent(rawPath);
        const contentType = req.headers['content-type'];
        this.requests.push({
          method: req.method ?? 'GET',
          path,
          querystring: rawQuery,
          authorization: req.headers.authorization,
          contentType,
        });
        const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
          const text = JSON.stringify(payload);
          res.writeHead(status, { ...productHeaders, 'content-length': String(Buffer.byteLength(text)), ...headers });
          res.end(text);
        };
        if (service) {
          const problem = sigV4Problem({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, { ...options.sigV4!, service });
          // AWS's own refusal, before the request reaches OpenSearch: no product headers of the engine.
          if (problem) return json(403, { message: problem }, { 'content-type': 'application/json' });
        }
        const refusal = mediaTypeRefusal(engine, contentType, req.headers.accept);
        if (refusal) return json(refusal.status, refusal.body);
        if (req.method === 'GET' && path === '/') return json(200, rootInfo(engine));
        if (engine === 'amazon-opensearch-serverless' && /^\/_(nodes|cluster)\b/.test(path)) {
          return json(404, { status: 404, error: { type: 'InvalidHttpRequestPath', reason: `Invalid HTTP request path requested: ${path}` } });
        }
        let parsed: unknown = null;
        const text = body.toString('utf8');
        if (text !== '') {
          if (path.endsWith('/_msearch')) {
            // Both products answer this, not a parse error, when the last line has no newline.
            if (!text.endsWith('\n')) {
              const reason = 'The msearch request must be terminated by a newline [\n]';
              return json(400, { error: { root_cause: [{ type: 'illegal_argument_exception', reason }], type: 'illegal_argument_exception', reason }, status: 400 });
            }
            parsed = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
          } else {
            parsed = JSON.parse(text);
          }
        }
        const querystring = Object.fromEntries(new URLSearchParams(rawQuery ?? ''));
        const params = { method: req.method ?? 'GET', path, querystring, body: parsed as any };
        const resolve = this.mock.get(params);
        if (!resolve) return json(404, { error: 'no such route in the fake', path }, {});
        const answer: unknown = resolve(params);
        if (answer instanceof RawAnswer) {
          res.writeHead(answer.status, { 'content-length': String(Buffer.byteLength(answer.body)), ...answer.headers });
          return res.end(answer.body);
        }
        if (answer instanceof StreamedAnswer) return stream(res, answer, productHeaders, bytesWritten);
        if (answer instanceof errors.TimeoutError) return; // never answered: the client's time limit ends it
        if (answer instanceof errors.ConnectionError) return req.socket.destroy();
        if (answer instanceof errors.ResponseError) {
          if (!isElasticsearch(engine) && answer.statusCode === 401) {
            // The OpenSearch security plugin's answer for unknown users.
            res.writeHead(401, { 'content-type': 'text/plain; charset=UTF-8', 'www-authenticate': 'Basic realm="OpenSearch Security"' });
            return res.end('Unauthorized');
          }
          return json(answer.statusCode ?? 500, answer.body);
        }
        return json(200, answer);
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      bytesWritten,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
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

/** Writes `answer.totalBytes` of a JSON array with backpressure, recording how many bytes got out before the client left. */
function stream(res: http.ServerResponse, answer: StreamedAnswer, headers: Record<string, string>, bytesWritten: number[]): void {
  const slot = bytesWritten.push(0) - 1;
  // Valid JSON: {"responses":["xxx...","xxx...",...,null]}, of about totalBytes.
  const head = Buffer.from('{"responses":[');
  const tail = Buffer.from('null]}');
  const filler = Buffer.from(`"${'x'.repeat(64 * 1024 - 3)}",`);
  const fillers = Math.max(0, Math.floor((answer.totalBytes - head.length - tail.length) / filler.length));
  const length = head.length + fillers * filler.length + tail.length;
  res.writeHead(200, { ...headers, ...(answer.declareLength ? { 'content-length': String(length) } : {}) });
  const pieces = function* () {
    yield head;
    for (let i = 0; i < fillers; i++) yield filler;
    yield tail;
  }();
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const pump = () => {
    for (let next = pieces.next(); !closed && !next.done; next = pieces.next()) {
      bytesWritten[slot] += next.value.length;
      if (!res.write(next.value)) return void res.once('drain', pump);
    }
    if (!closed) res.end();
  };
  pump();
}

/** A proxy's HTML error page, as a load balancer in front of the cluster sends it. */
export function htmlBadGateway(padding = 40_000): RawAnswer {
  const body = '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title><style>body { font-family: sans-serif; }</style></head>\n' +
    '<body>\n  <h1>502 Bad Gateway</h1>\n  <p>The upstream   server\n did not answer.</p>\n' +
    `<!-- ${'padding '.repeat(padding / 8)} -->\n<hr><center>nginx/1.25.3</center>\n</body></html>\n`;
  return new RawAnswer(502, { 'content-type': 'text/html' }, body);
}

/**
 * One collector run against `cluster` served over HTTP as Elasticsearch 8, with basic auth: for tests about figures and
 * alarms rather than about the engines (the collector suite covers those).
 */
export async function collectOver(
  cluster: MockCluster,
  run: Omit<CollectorRun, 'client' | 'config'> & { readonly config: CollectorConfig },
): Promise<RunSummary> {
  const server = await cluster.listen({ engine: 'elasticsearch-8' });
  const config: CollectorConfig = { ...run.config, endpoint: server.endpoint, allowInsecureHttp: true };
  const transport = collectorTransport(config, headerAuthenticator({ username: 'waf-monitor', password: 's3cret' }));
  try {
    return await collect({ ...run, client: searchClient(transport), config });
  } finally {
    transport.close();
    await server.close();
  }
}
