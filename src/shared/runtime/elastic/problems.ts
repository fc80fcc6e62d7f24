/**
 * Everything that can keep a run from producing a figure. Each becomes one log line (with `kind` and a message that
 * says what to check) and one count in the CollectorErrors metric; none makes the function fail, because a failing
 * scheduled function is retried and would hammer a struggling cluster.
 */
import { redactUrlCredentials } from './connection';

export type ProblemKind =
  | 'config'
  | 'secret'
  | 'unreachable'
  | 'auth'
  | 'timeout'
  | 'response'
  | 'missing-field'
  /** A configured field whose mapping Elasticsearch cannot aggregate (a `text` field, a `keyword` for a number). */
  | 'field-mapping';

const PROBLEM_KINDS: readonly ProblemKind[] = ['config', 'secret', 'unreachable', 'auth', 'timeout', 'response', 'missing-field', 'field-mapping'];

export interface Problem {
  readonly kind: ProblemKind;
  readonly message: string;
  /** Which request or part of a response it concerns, e.g. `_msearch`, `window`, `node:instance-1`. */
  readonly source: string;
  /** The document field at fault, for `field-mapping`. */
  readonly field?: string;
}

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly statusCode?: unknown;
  readonly meta?: { readonly statusCode?: unknown; readonly body?: unknown };
  readonly body?: unknown;
}

/** How much of a body that is not an Elasticsearch error (a proxy's HTML page, a load balancer's text) a message keeps. */
export const BODY_EXCERPT_CHARS = 300;

/**
 * The start of a body that is not an Elasticsearch error, fit for one log line: tags and scripts stripped, whitespace
 * collapsed, cut at {@link BODY_EXCERPT_CHARS} characters. A proxy's 502 page can be tens of kilobytes of markup, and
 * the status with its first sentence is what tells the operator where the request ended.
 */
export function bodyExcerpt(text: string, maxChars: number = BODY_EXCERPT_CHARS): string {
  // Only the head matters: bound the work on a huge body before the regular expressions run.
  const head = text.slice(0, maxChars * 20);
  const plain = head
    .replace(/<(script|style)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<[^>]*>?/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (plain.length <= maxChars && head.length === text.length) return plain;
  return `${plain.slice(0, maxChars).trimEnd()}... (${text.length} characters in all)`;
}

/** How much of an Elasticsearch error's type and reason a message keeps: real reasons are a sentence or two. */
export const ELASTIC_REASON_CHARS = 500;

/** The `reason` Elasticsearch puts in an error body, if any; never the credentials. */
export function elasticReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return cutReason(error);
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { type?: unknown; reason?: unknown; root_cause?: unknown };
  const reason = typeof e.reason === 'string' ? e.reason : undefined;
  const type = typeof e.type === 'string' ? e.type : undefined;
  let rootReason: string | undefined;
  if (Array.isArray(e.root_cause) && e.root_cause.length > 0) {
    const root = e.root_cause[0] as { reason?: unknown };
    rootReason = typeof root?.reason === 'string' ? root.reason : undefined;
  }
  const text = rootReason && rootReason !== reason ? `${reason ?? ''} (${rootReason})` : reason;
  const whole = [type, text].filter(Boolean).join(': ');
  return whole === '' ? undefined : cutReason(whole);
}

/** A reason can quote a whole query or a cluster's garbage: one log line keeps its start, as with other bodies. */
function cutReason(text: string): string {
  return text.length <= ELASTIC_REASON_CHARS ? text : `${text.slice(0, ELASTIC_REASON_CHARS)}... (${text.length} characters in all)`;
}

/**
 * Turns an error thrown by the Elasticsearch client (matched by name, so this module needs no client import) into a
 * problem whose message tells the operator what to look at. The message is logged, so URL user info in it (from the
 * endpoint or quoted by the client) is redacted.
 */
export function classifyError(error: unknown, source: string, endpoint: string): Problem {
  const problem = classify(error, source, endpoint);
  return { ...problem, message: redactUrlCredentials(problem.message) };
}

function classify(error: unknown, source: string, endpoint: string): Problem {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const status = typeof e.statusCode === 'number' ? e.statusCode : e.meta?.statusCode;
  switch (name) {
    case 'TimeoutError':
    case 'RequestAbortedError':
      return {
        kind: 'timeout',
        source,
        message: `${source} to ${endpoint} timed out (${message}); the cluster may be overloaded, or the request timeout is too short`,
      };
    case 'ConnectionError':
    case 'NoLivingConnectionsError':
      return {
        kind: 'unreachable',
        source,
        message: `cannot reach ${endpoint} for ${source} (${message}); check the endpoint, DNS, security groups and routes from the function's subnets`,
      };
    case 'ResponseError': {
      const body = e.meta?.body ?? e.body;
      // The client's message is the whole body when it is not JSON: a proxy's HTML page would fill the log line.
      const reason = elasticReason(body) ?? bodyExcerpt(typeof body === 'string' ? body : message);
      if (status === 401 || status === 403) {
        return {
          kind: 'auth',
          source,
          message: `Elasticsearch refused ${source} with HTTP ${status} (${reason}); check the credentials in the secret and the user's privileges (read on the index pattern, monitor on the cluster)`,
        };
      }
      return { kind: 'response', source, message: `${source} failed with HTTP ${String(status)}: ${reason}` };
    }
    case 'ProductNotSupportedError':
      return {
        kind: 'response',
        source,
        message: `${endpoint} did not answer as Elasticsearch (${message}); check that the endpoint is the cluster and not a proxy or another product`,
      };
    case 'SearchRequestError': {
      // The collector's own transport: it knows the engine and the request, and has written the advice already.
      const kind = (error as { kind?: unknown }).kind;
      if (typeof kind === 'string' && PROBLEM_KINDS.includes(kind as ProblemKind)) {
        return { kind: kind as ProblemKind, source, message };
      }
      return { kind: 'response', source, message };
    }
    default:
      return { kind: 'response', source, message: `${source} failed: ${name}: ${message.length > 1_000 ? `${message.slice(0, 1_000)}...` : message}` };
  }
}
