/**
 * The collector's HTTP client for Elasticsearch 7.17/8.x and OpenSearch 2.x (self-managed, Amazon OpenSearch Service
 * and Serverless). Node's http module only: the bundles leave out undici. It does what the collector needs and no more:
 * - plain `application/json` / `application/x-ndjson` media types, which every one of these engines accepts (the
 *   Elasticsearch 8 client's `compatible-with=8` types are refused by 7.17 and OpenSearch);
 * - one attempt per request, each with its own time limit (the next scheduled run is the retry);
 * - answers read as a stream and abandoned over a byte limit, so a runaway answer cannot exhaust the function's memory;
 * - of an error body that is not an Elasticsearch error (a proxy's HTML page), only the status and a short excerpt.
 * Every failure is a {@link SearchRequestError} whose message says what to change; `classifyError` passes it through.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { EngineKind, redactUrlCredentials } from './config';
import { ProblemKind, bodyExcerpt, elasticReason } from '../../shared/runtime/elastic/problems';

export interface SearchHttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path segments, unencoded; each is URI-encoded here (commas in `_nodes/stats/process,os` included). */
  readonly path: readonly string[];
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** @default 'application/json' */
  readonly contentType?: 'application/json' | 'application/x-ndjson';
  /** Names the request in problems, e.g. `_msearch`. */
  readonly source: string;
  /**
   * This request's own limit on its answer, for answers that are small by nature; the transport's limit still applies
   * when it is lower.
   * @default - the transport's maxResponseBytes
   */
  readonly maxResponseBytes?: number;
}

/** The request as it goes on the wire, for an authenticator to sign. */
export interface OutgoingRequest {
  readonly method: string;
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port?: number;
  /** URI-encoded, without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names; `host` included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Returns the complete headers to send (the given ones plus authentication). */
export type Authenticate = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** A failed request, already mapped to a problem kind and a message that says what to change. */
export class SearchRequestError extends Error {
  constructor(
    public readonly kind: ProblemKind,
    message: string,
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'SearchRequestError';
  }
}

export interface SearchTransportOptions {
  readonly endpoint: string;
  readonly engine: EngineKind;
  readonly requestTimeoutMs: number;
  /** Largest answer read; see `DEFAULT_MAX_RESPONSE_BYTES`. */
  readonly maxResponseBytes: number;
  readonly authenticate: Authenticate;
  /** What to check after a 401 or 403, for the authentication in use. */
  readonly authAdvice: string;
}

/** An error body is read only this far: enough for any Elasticsearch error, and an excerpt of anything else. */
const ERROR_BODY_BYTES = 64 * 1024;

/** `encodeURIComponent` plus the characters SigV4 also escapes, so the URL sent is the one signed. */
export function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `1048576` as `1 MiB (1048576 bytes)`, `65536` as `64 KiB (65536 bytes)`: the limit named the way the README documents it. */
export function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (Number.isInteger(mib)) return `${mib} MiB (${bytes} bytes)`;
  const kib = bytes / 1024;
  return Number.isInteger(kib) ? `${kib} KiB (${bytes} bytes)` : `${bytes} bytes`;
}

const ENGINE_NAMES: Record<EngineKind, string> = {
  'elasticsearch': 'Elasticsearch',
  'opensearch': 'OpenSearch',
  'amazon-opensearch-service': 'Amazon OpenSearch Service',
  'amazon-opensearch-serverless': 'Amazon OpenSearch Serverless',
};

/**
 * Why an answer's headers do not fit the configured engine, if they do not. Elasticsearch 7.14 and later put
 * `x-elastic-product: Elasticsearch` on every answer; OpenSearch never does. The message names the prop to set.
 */
export function engineMismatch(engine: EngineKind, headers: http.IncomingHttpHeaders, endpoint: string, source: string): string | undefined {
  const product = headers['x-elastic-product'];
  if (engine === 'elasticsearch' && product !== 'Elasticsearch') {
    const got = product === undefined ? 'without the "x-elastic-product: Elasticsearch" header' : `with "x-elastic-product: ${String(product)}"`;
    return `${endpoint} answered ${source} ${got} that Elasticsearch 7.14 and later send on every answer, so it is not ` +
      'Elasticsearch: for OpenSearch set the monitor\'s engine prop to SearchEngine.openSearch(), for Amazon OpenSearch ' +
      'Service to SearchEngine.amazonOpenSearchService(...) (or amazonOpenSearchServerless(...)); if it is Elasticsearch, ' +
      'check that no proxy in between removes response headers';
  }
  if (engine !== 'elasticsearch' && product !== undefined) {
    return `${endpoint} answered ${source} as Elasticsearch ("x-elastic-product: ${String(product)}") while the monitor's ` +
      `engine is ${ENGINE_NAMES[engine]}: set engine to SearchEngine.elasticsearch() (the default) or point endpoint at the OpenSearch cluster`;
  }
  return undefined;
}

/** The reason in an error body: Elasticsearch's and OpenSearch's `error`, AWS's `message`, or an excerpt of the text. */
export function errorReason(text: string, truncated: boolean): string {
  let json: unknown;
  if (!truncated) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const reason = elasticReason(json);
  if (reason) return reason;
  if (typeof json === 'object' && json !== null) {
    // Amazon OpenSearch Service's own refusals (IAM, signature) are {"message": ...} or {"Message": ...}.
    const aws = (json as { message?: unknown; Message?: unknown }).message ?? (json as { Message?: unknown }).Message;
    if (typeof aws === 'string') return bodyExcerpt(aws);
  }
  const excerpt = bodyExcerpt(text);
  return excerpt === '' ? 'empty body' : excerpt + (truncated ? ' (body cut short)' : '');
}

interface Exchange {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly truncated: boolean;
}

export class SearchTransport {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly options: SearchTransportOptions) {
    this.url = new URL(options.endpoint);
    // Keep-alive: a warm function reuses its connections (and TLS sessions) from run to run.
    const agentOptions = { keepAlive: true, maxSockets: 8 };
    this.agent = this.url.protocol === 'http:' ? new http.Agent(agentOptions) : new https.Agent(agentOptions);
  }

  /** The parsed JSON answer of a 2xx response; anything else throws a {@link SearchRequestError}. */
  public async send(request: SearchHttpRequest): Promise<unknown> {
    const { endpoint } = this.options;
    const shownEndpoint = redactUrlCredentials(endpoint);
    const prefix = this.url.pathname.replace(/\/+$/, '');
    const body = request.body;
    const outgoing: OutgoingRequest = {
      method: request.method,
      protocol: this.url.protocol === 'http:' ? 'http:' : 'https:',
      hostname: this.url.hostname,
      port: this.url.port === '' ? undefined : Number(this.url.port),
      path: `${prefix}/${request.path.map(uriEscape).join('/')}`,
      query: { ...(request.query ?? {}) },
      headers: {
        host: this.url.host,
        accept: 'application/json',
        ...(body === undefined ? {} : {
          'content-type': request.contentType ?? 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        }),
      },
      body,
    };
    const headers = await this.options.authenticate(outgoing);
    const described = `${request.method} ${request.path.join('/') === '' ? '/' : `/${request.path.join('/')}`}`;
    const limit = Math.min(request.maxResponseBytes ?? this.options.maxResponseBytes, this.options.maxResponseBytes);
    const answer = await this.exchange(outgoing, headers, request.source, described, limit);

    if (answer.status < 200 || answer.status >= 300) {
      const reason = errorReason(answer.text, answer.truncated);
      if (answer.status === 401 || answer.status === 403) {
        throw new SearchRequestError('auth', `${ENGINE_NAMES[this.options.engine]} at ${shownEndpoint} refused ${request.source} with HTTP ${answer.status} (${reason}); ${this.options.authAdvice}`, answer.status);
      }
      throw new SearchRequestError('response', `${request.source} failed with HTTP ${answer.status}: ${reason}`, answer.status);
    }
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new SearchRequestError(
        'response',
        `${shownEndpoint} answered ${request.source} with HTTP ${answer.status} and a body that is not JSON ` +
          `(content-type ${String(answer.headers['content-type'] ?? 'none')}: ${bodyExcerpt(answer.text)}); check that the endpoint is the cluster and not a proxy's page`,
        answer.status,
      );
    }
  }

  /** Closes the pooled connections, e.g. after the credentials changed. */
  public close(): void {
    this.agent.destroy();
  }

  private exchange(
    out: OutgoingRequest,
    headers: Record<string, string>,
    source: string,
    described: string,
    maxResponseBytes: number,
  ): Promise<Exchange> {
    const { requestTimeoutMs, engine } = this.options;
    const endpoint = redactUrlCredentials(this.options.endpoint);
    const query = Object.entries(out.query).map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`).join('&');
    const lib = out.protocol === 'http:' ? http : https;
    return new Promise<Exchange>((resolve, reject) => {
      let settled = false;
      const finish = (error: SearchRequestError | undefined, exchange?: Exchange) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          // Destroying the request frees its socket and stops the rest of the body from being read.
          req.destroy();
          reject(error);
        } else {
          resolve(exchange!);
        }
      };
      const tooLarge = (read: number) => new SearchRequestError(
        'response',
        `the answer to ${source} (${described}) exceeded the collector's response size limit of ${describeBytes(maxResponseBytes)} ` +
          `and was abandoned after ${read} bytes, to keep the function's memory bounded; the collector asks only for ` +
          'aggregations and filtered statistics, far smaller than that, so check that the endpoint is the cluster and that nothing in between adds to its answers',
      );

      const req = lib.request({
        agent: this.agent,
        method: out.method,
        hostname: out.hostname,
        port: out.port,
        path: query === '' ? out.path : `${out.path}?${query}`,
        headers,
      }, (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (ok) {
          const mismatch = engineMismatch(engine, res.headers, endpoint, source);
          if (mismatch) return finish(new SearchRequestError('config', mismatch, status));
        }
        const declared = Number(res.headers['content-length']);
        if (ok && Number.isFinite(declared) && declared > maxResponseBytes) return finish(tooLarge(0));
        const limit = ok ? maxResponseBytes : Math.min(ERROR_BODY_BYTES, maxResponseBytes);
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          read += chunk.length;
          if (read <= limit) {
            chunks.push(chunk);
            return;
          }
          if (ok) return finish(tooLarge(read));
          // An error body is only quoted: keep its head and stop reading.
          chunks.push(chunk.subarray(0, chunk.length - (read - limit)));
          finish(undefined, { status, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), truncated: true });
          req.destroy();
        });
        res.on('end', () => finish(undefined, { status, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), truncated: false }));
        res.on('error', (e) => finish(new SearchRequestError('unreachable', `the answer to ${source} from ${endpoint} broke off (${e.message}); check the network path and the cluster's logs`)));
      });
      const timer = setTimeout(() => finish(new SearchRequestError(
        'timeout',
        `${source} to ${endpoint} timed out after ${requestTimeoutMs} ms; the cluster may be overloaded, or requestTimeout is too short`,
      )), requestTimeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => finish(new SearchRequestError(
        'unreachable',
        `cannot reach ${endpoint} for ${source} (${e.code ? `${e.code}: ` : ''}${e.message}); check the endpoint, DNS, security groups and routes from the function's subnets`,
      )));
      req.end(out.body);
    });
  }
}
