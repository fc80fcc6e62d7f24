/**
 * How the handlers that read the WAF's request documents (the monitor's collector, the report) reach Elasticsearch:
 * shared so that both features accept the same endpoints, secrets and field names and report problems alike.
 */

/** Names of the fields of the WAF's request documents. */
export interface FieldNames {
  readonly timestamp: string;
  readonly latency: string;
  readonly status: string;
  readonly host: string;
  readonly customer: string;
  readonly clientIp: string;
  readonly requestBytes: string;
  readonly responseBytes: string;
  readonly httpStatusCode: string;
}

export type CredentialsKind = 'basic' | 'apiKey';

/** Where the credentials are and which JSON keys of the secret hold them. */
export interface CredentialsConfig {
  readonly kind: CredentialsKind;
  readonly secretArn: string;
  /** JSON key of the user name (basic) or of the API key (apiKey). */
  readonly usernameKey?: string;
  readonly passwordKey?: string;
  readonly apiKeyKey?: string;
}

/** A configuration or input error whose message says what to change. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_FIELDS: FieldNames = {
  timestamp: '@timestamp',
  latency: 'waf.latency_ms',
  status: 'waf.status',
  host: 'url.domain',
  customer: 'waf.customer',
  clientIp: 'client.ip',
  requestBytes: 'http.request.bytes',
  responseBytes: 'http.response.bytes',
  httpStatusCode: 'http.response.status_code',
};

/**
 * Why an Elasticsearch endpoint must not be used, empty when it may. Shared by the construct (synth time) and the
 * handler (run time, for endpoints only known at deployment). No message repeats the endpoint's user info, because
 * these messages end up in synth output and log lines.
 */
export function endpointErrors(endpoint: string, allowInsecureHttp: boolean): string[] {
  // Without a scheme, user info is not recognisable as such: leave out any value with an "@".
  const shown = endpoint.includes('@') ? '' : `, got "${endpoint}"`;
  const notUrl = `endpoint must be an https URL such as https://my-cluster.example.com:9243${shown}`;
  let url: URL;
  try {
    // URL() would silently drop surrounding spaces that the Elasticsearch client then chokes on.
    if (endpoint.trim() !== endpoint) throw new TypeError('surrounding whitespace');
    url = new URL(endpoint);
  } catch {
    return [notUrl];
  }
  const errors: string[] = [];
  if (url.username !== '' || url.password !== '') {
    // The configuration is a plain environment variable and the endpoint appears in error messages.
    errors.push('endpoint must not contain user info (user:password@): remove it from the URL and keep the credentials in the Secrets Manager secret given as credentials');
  }
  // The client keeps only the origin and path of the node URL: a query or fragment would be dropped without a word.
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(endpoint.slice(url.protocol.length + 2))) {
    errors.push(`endpoint must not contain a query (?...) or fragment (#...), which would be ignored${url.username === '' && url.password === '' ? `, got "${endpoint}"` : ''}: give the cluster's URL with at most a path prefix, such as https://my-cluster.example.com:9243/prefix`);
  }
  if (url.protocol === 'http:') {
    if (!allowInsecureHttp) {
      errors.push(`endpoint ${redactUrlCredentials(endpoint)} uses http://, which sends the credentials unencrypted: use https://, or set allowInsecureHttp: true if the cluster is reachable only inside your VPC`);
    }
  } else if (url.protocol !== 'https:') {
    errors.push(notUrl);
  }
  return errors;
}

/**
 * Replaces the user info of every URL in a text with `***`. A last line of defence for log lines: endpoints with
 * user info are refused, but error messages of libraries may quote URLs from elsewhere.
 */
export function redactUrlCredentials(text: string): string {
  // Does what text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, '$1***@') does, in one pass: that expression
  // backtracks over every start in a long run of scheme characters (quadratic: 64k characters took 29 s), and error
  // texts quote whatever a cluster sends. Each character is looked at a bounded number of times: the scheme is read
  // backwards from a `://` only down to where the previous look ended, the user info forwards up to its end.
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = text.indexOf('://', from);
    if (sep < 0) break;
    let start = sep;
    while (start > from && isSchemeChar(text.charCodeAt(start - 1))) start--;
    let hasLetter = false;
    for (let i = start; i < sep && !hasLetter; i++) hasLetter = isLetter(text.charCodeAt(i));
    const userStart = sep + 3;
    let end = userStart;
    while (end < text.length && !endsUserInfo(text.charCodeAt(end))) end++;
    let at = end - 1;
    while (at >= userStart && text.charCodeAt(at) !== 0x40 /* @ */) at--;
    if (hasLetter && at >= userStart) {
      out += `${text.slice(copied, userStart)}***@`;
      copied = at + 1;
      from = at + 1;
    } else {
      from = sep + 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isSchemeChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2e || c === 0x2d;
}

/** `/`, `?`, `#` and what `\s` matches in a regular expression. */
function endsUserInfo(c: number): boolean {
  if (c === 0x2f || c === 0x3f || c === 0x23) return true;
  // Printable ASCII is never whitespace: only the rest goes through the regular expression.
  return (c <= 0x20 || c >= 0x7f) && WHITESPACE.test(String.fromCharCode(c));
}

const WHITESPACE = /^\s$/;
