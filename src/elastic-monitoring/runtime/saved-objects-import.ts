/**
 * Imports saved objects (NDJSON, as an export writes it) into Kibana 8.x or OpenSearch Dashboards 2.x through
 * `POST /api/saved_objects/_import`. Shared by the CLI (`cdk-waf-guard dashboards import`) and the deploy-time custom
 * resource. The request is built and the answer read by pure functions; only {@link importSavedObjects} does I/O, with
 * Node's http module (the bundles leave out undici). Authentication is the collector's (request-auth.ts): a header from
 * the Secrets Manager credentials, or a SigV4 signature (service `es`) for Amazon OpenSearch Service.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { credentialsInHeaders, redactCredentials } from './redact-credentials';
import { Authenticate, OutgoingRequest } from './search-transport';
import type { DashboardFlavour } from '../saved-objects/saved-objects';

/** The header each product refuses a write without (400 "Request must contain a kbn-xsrf header."). */
export function xsrfHeader(flavour: DashboardFlavour): 'kbn-xsrf' | 'osd-xsrf' {
  return flavour === 'kibana' ? 'kbn-xsrf' : 'osd-xsrf';
}

/** The product's name, for messages. */
export function productName(flavour: DashboardFlavour): string {
  return flavour === 'kibana' ? 'Kibana' : 'OpenSearch Dashboards';
}

/** A domain's endpoint on Amazon OpenSearch Service (`search-x-abc.eu-west-1.es.amazonaws.com`), whose Dashboards live under `/_dashboards`. */
export function isAmazonOpenSearchServiceHost(hostname: string): boolean {
  return /\.[a-z]{2}(?:-[a-z]+)+-\d+\.es\.amazonaws\.com(?:\.cn)?$/.test(hostname);
}

/** Why a Kibana / Dashboards URL cannot be used, empty when it can. No message repeats user info. */
export function importUrlErrors(url: string): string[] {
  let parsed: URL;
  try {
    if (url.trim() !== url) throw new TypeError('surrounding whitespace');
    parsed = new URL(url);
  } catch {
    return [`the URL must be Kibana's or OpenSearch Dashboards' URL, such as https://kibana.example.com:5601${url.includes('@') ? '' : ` (got "${url}")`}`];
  }
  const errors: string[] = [];
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') errors.push(`the URL must be an http(s) URL (got ${parsed.protocol})`);
  if (parsed.username !== '' || parsed.password !== '') {
    errors.push('the URL must not contain user info (user:password@): keep the credentials in the Secrets Manager secret');
  }
  if (parsed.search !== '' || parsed.hash !== '') errors.push('the URL must not contain a query (?...) or fragment (#...)');
  // The parser would quietly encode it: a typo (a pasted title, a broken line) would become another path.
  if (/\s/.test(url)) errors.push(`the URL must not contain spaces or other whitespace (got "${url}"): remove them, or percent-encode a path that has one (%20)`);
  // The API's path is added to the URL: an API or app path given here would be doubled, and the request would miss.
  const path = parsed.pathname.replace(/\/+$/, '');
  if (/\/api\/saved_objects(\/|$)/.test(path) || /\/app(\/|$)/.test(path)) {
    errors.push(`the URL must be the product's base URL, not an API or app path (got ${path}): give ${parsed.protocol}//${parsed.host}${path.replace(/\/(api\/saved_objects|app)(\/.*)?$/, '')}`);
  }
  if (isAmazonOpenSearchServiceHost(parsed.hostname) && path !== '' && path !== '/_dashboards') {
    errors.push(`an Amazon OpenSearch Service domain serves Dashboards under /_dashboards (got ${path}): give ${parsed.protocol}//${parsed.host}/_dashboards`);
  }
  return errors;
}

/**
 * The import endpoint under the given base URL. A base path is kept (a Kibana space `/s/<space>`, a proxy's prefix);
 * an Amazon OpenSearch Service domain's bare endpoint gets `/_dashboards`, where the service serves Dashboards.
 */
export function importEndpoint(url: string, flavour: DashboardFlavour, overwrite: boolean): URL {
  const endpoint = new URL(`${apiBase(url, flavour)}/api/saved_objects/_import`);
  if (overwrite) endpoint.searchParams.set('overwrite', 'true');
  return endpoint;
}

/**
 * The product's base URL without a trailing slash, where `/api/saved_objects/...` and `/app/...` live. WHATWG parsing
 * lower-cases scheme and host and drops a default port, so spellings of one product give one base.
 */
export function apiBase(url: string, flavour: DashboardFlavour): string {
  const base = new URL(url);
  let path = base.pathname.replace(/\/+$/, '');
  if (flavour === 'opensearch' && path === '' && isAmazonOpenSearchServiceHost(base.hostname)) path = '/_dashboards';
  return `${base.protocol}//${base.host}${path}`;
}

/**
 * `DELETE <base>/api/saved_objects/<type>/<id>` with the product's xsrf header, as both products document it. Type and
 * id are path segments, escaped so an id cannot reach another route.
 */
export function buildDeleteRequest(url: string, flavour: DashboardFlavour, type: string, id: string): OutgoingRequest {
  const endpoint = new URL(`${apiBase(url, flavour)}/api/saved_objects/${encodeURIComponent(type)}/${encodeURIComponent(id)}`);
  return {
    method: 'DELETE',
    protocol: endpoint.protocol as 'http:' | 'https:',
    hostname: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: endpoint.port === '' ? undefined : Number(endpoint.port),
    path: endpoint.pathname,
    query: {},
    headers: { host: endpoint.host, [xsrfHeader(flavour)]: 'true', accept: 'application/json' },
  };
}

/** What became of one object asked to be deleted: `absent` when it was not there (404), which is what was wanted. */
export interface DeletedObject {
  readonly id: string;
  readonly type: string;
  readonly outcome: 'deleted' | 'absent' | 'failed';
  /** Only for `failed`: the status and the product's message. */
  readonly message?: string;
  /** Only for `failed`: the product could not be reached (no connection, no answer in time), so nothing refused it. */
  readonly unreachable?: boolean;
}

export interface DeleteOptions {
  readonly url: string;
  readonly flavour: DashboardFlavour;
  readonly objects: ReadonlyArray<{ readonly type: string; readonly id: string }>;
  readonly authenticate: Authenticate;
  readonly signed?: boolean;
  /** @default 30_000 per request */
  readonly timeoutMs?: number;
}

/**
 * Deletes the objects one by one, in the order given (a dashboard before what it shows, so no panel is left dangling
 * if a later delete fails). A refusal or an unreachable product stops nothing: every object gets its own outcome.
 */
export async function deleteSavedObjects(options: DeleteOptions): Promise<DeletedObject[]> {
  const out: DeletedObject[] = [];
  let unreachable: string | undefined;
  let outOfReach = false;
  for (const o of options.objects) {
    // Out of reach for one object is out of reach for all: waiting out each time limit would outlast the caller's.
    if (unreachable !== undefined) {
      out.push({ ...o, outcome: 'failed', message: unreachable, ...(outOfReach && { unreachable: true }) });
      continue;
    }
    const request = buildDeleteRequest(options.url, options.flavour, o.type, o.id);
    let secrets: string[] = [];
    try {
      const headers = await options.authenticate(request);
      secrets = credentialsInHeaders(headers);
      const { status, body } = await send(request, headers, options.timeoutMs ?? 30_000, options.url);
      if (status === 200) out.push({ ...o, outcome: 'deleted' });
      // The products' own "Saved object [type/id] not found", not a 404 of a URL without the API.
      else if (status === 404 && /Saved object \[[^\]]*\] not found/i.test(body)) out.push({ ...o, outcome: 'absent' });
      else out.push({ ...o, outcome: 'failed', message: importFailureMessage(status, body, options.flavour, options.signed ?? false, 'delete', secrets) });
    } catch (e) {
      outOfReach = e instanceof ProductUnreachableError;
      out.push({ ...o, outcome: 'failed', message: redactCredentials((e as Error).message, secrets), ...(outOfReach && { unreachable: true }) });
      if (e instanceof SavedObjectsImportError) unreachable = `not tried: ${(e as Error).message}`;
    }
  }
  return out;
}

/** Only `.ndjson` files are accepted by the import route ("Invalid file extension .json"). */
export const DEFAULT_FILE_NAME = 'waf-dashboard.ndjson';

/**
 * A multipart/form-data body with the NDJSON as its one field, `file`. The boundary must not occur in the content:
 * the caller's is checked, and the default is derived from the content until it does not.
 */
export function multipartBody(
  ndjson: string, fileName = DEFAULT_FILE_NAME, boundary?: string,
): { readonly body: string; readonly contentType: string } {
  let b = boundary ?? 'cdk-waf-guard-saved-objects';
  if (boundary !== undefined && ndjson.includes(boundary)) throw new Error('the multipart boundary occurs in the content');
  for (let n = 1; ndjson.includes(b); n++) b = `cdk-waf-guard-saved-objects-${n}`;
  const safeName = fileName.replace(/["\r\n\\]/g, '_');
  const body = `--${b}\r\n`
    + `Content-Disposition: form-data; name="file"; filename="${safeName}"\r\n`
    + 'Content-Type: application/ndjson\r\n\r\n'
    + ndjson
    + `\r\n--${b}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${b}` };
}

export interface ImportRequestOptions {
  /** Kibana's or OpenSearch Dashboards' URL, with any base path (`https://kibana.example.com:5601`, `.../s/<space>`). */
  readonly url: string;
  readonly flavour: DashboardFlavour;
  /** The objects, one JSON object a line. */
  readonly ndjson: string;
  /**
   * Replace objects with the same ids: a second import updates rather than fails with conflicts.
   * @default true
   */
  readonly overwrite?: boolean;
  /** @default DEFAULT_FILE_NAME */
  readonly fileName?: string;
}

/** The request as it goes on the wire, for the authenticator to sign: the xsrf header is part of it, always. */
export function buildImportRequest(options: ImportRequestOptions): OutgoingRequest {
  const endpoint = importEndpoint(options.url, options.flavour, options.overwrite ?? true);
  const { body, contentType } = multipartBody(options.ndjson, options.fileName);
  const protocol = endpoint.protocol as 'http:' | 'https:';
  return {
    method: 'POST',
    protocol,
    hostname: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: endpoint.port === '' ? undefined : Number(endpoint.port),
    path: endpoint.pathname,
    query: Object.fromEntries(endpoint.searchParams),
    headers: {
      'host': endpoint.host,
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body, 'utf8')),
      [xsrfHeader(options.flavour)]: 'true',
      'accept': 'application/json',
    },
    body,
  };
}

/** What became of one object. `updated`: an object with its id existed and was replaced. */
export type ObjectOutcome = 'created' | 'updated' | 'failed';

export interface ImportedObject {
  readonly id: string;
  readonly type: string;
  readonly title?: string;
  readonly outcome: ObjectOutcome;
  /** Only for `failed`. */
  readonly error?: ObjectError;
}

export interface ObjectError {
  /** `conflict`, `ambiguous_conflict`, `missing_references`, `unsupported_type` or `unknown`. */
  readonly type: string;
  /** What happened and what to do, in words. */
  readonly message: string;
  /** For `missing_references`: the objects referred to that exist neither in the file nor in the target. */
  readonly references?: ReadonlyArray<{ readonly type: string; readonly id: string }>;
}

export interface ImportResult {
  /** True when every object was imported. */
  readonly success: boolean;
  readonly successCount: number;
  /** Successes first, in the order the server gave them, then failures. */
  readonly objects: readonly ImportedObject[];
}

/** The import itself failed (no per-object results): refused, not found, unreachable. The message says what to check. */
export class SavedObjectsImportError extends Error {
  constructor(message: string, public readonly status?: number) {
    super(message);
    this.name = 'SavedObjectsImportError';
  }
}

/** No connection or no answer in time: the product is out of reach (gone, or the network path is), not refusing. */
export class ProductUnreachableError extends SavedObjectsImportError {
  constructor(message: string) {
    super(message);
    this.name = 'ProductUnreachableError';
  }
}

interface RawSuccess {
  id?: unknown; type?: unknown; destinationId?: unknown; overwrite?: unknown; meta?: { title?: unknown };
}
interface RawFailure {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  meta?: { title?: unknown };
  error?: { type?: unknown; message?: unknown; statusCode?: unknown; references?: unknown; destinations?: unknown };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function describeError(e: RawFailure['error'], flavour: DashboardFlavour, type: string, secrets: readonly string[]): ObjectError {
  const kind = text(e?.type) ?? 'unknown';
  const product = productName(flavour);
  switch (kind) {
    case 'conflict':
      return { type: kind, message: 'an object with this id exists: import with overwrite to replace it' };
    case 'ambiguous_conflict':
      return { type: kind, message: 'several objects were copied from this one: remove the copies or import with overwrite' };
    case 'unsupported_type':
      return { type: kind, message: `${product} does not know the type "${type}" (another product or an older version): export the other flavour, or upgrade` };
    case 'missing_references': {
      const references = Array.isArray(e?.references)
        ? (e!.references as Array<{ type?: unknown; id?: unknown }>)
          .map((r) => ({ type: redactCredentials(String(r.type), secrets), id: redactCredentials(String(r.id), secrets) }))
        : [];
      return {
        type: kind,
        message: `refers to objects that exist neither in the file nor in ${product}: ${references.map((r) => `${r.type} ${r.id}`).join(', ')}; nothing was imported`,
        references,
      };
    }
    default: {
      const status = typeof e?.statusCode === 'number' ? ` (${e.statusCode})` : '';
      return { type: kind, message: `${redactCredentials(text(e?.message) ?? 'failed', secrets)}${status}` };
    }
  }
}

/**
 * Reads a 200 answer of the import API into one result per object. `successResults[].overwrite: true` marks an object
 * that replaced an existing one; the API leaves it out for new objects. On a conflict or missing reference the API
 * creates nothing at all: the other objects are then in neither list, and are reported as not imported.
 */
export function parseImportResponse(
  body: unknown, flavour: DashboardFlavour, sent: ReadonlyArray<{ id: string; type: string; title?: string }> = [],
  secrets: readonly string[] = [],
): ImportResult {
  if (typeof body !== 'object' || body === null || typeof (body as { success?: unknown }).success !== 'boolean') {
    throw new SavedObjectsImportError(`the answer is not a saved-objects import result: ${redactCredentials(JSON.stringify(body) ?? '', secrets).slice(0, 200)}`);
  }
  const raw = body as { success: boolean; successCount?: unknown; successResults?: unknown; errors?: unknown };
  // Everything below is the server's text, printed and put in reasons: an echoed credential must not go with it.
  const clean = (v: string): string => redactCredentials(v, secrets);
  const cleanOrUndefined = (v: string | undefined): string | undefined => (v === undefined ? undefined : clean(v));
  const successes = (Array.isArray(raw.successResults) ? raw.successResults : []) as RawSuccess[];
  const failures = (Array.isArray(raw.errors) ? raw.errors : []) as RawFailure[];
  const objects: ImportedObject[] = [
    ...successes.map((s): ImportedObject => ({
      id: clean(text(s.destinationId) ?? String(s.id)),
      type: clean(String(s.type)),
      title: cleanOrUndefined(text(s.meta?.title)),
      outcome: s.overwrite === true ? 'updated' : 'created',
    })),
    ...failures.map((f): ImportedObject => ({
      id: clean(String(f.id)),
      type: clean(String(f.type)),
      title: cleanOrUndefined(text(f.meta?.title) ?? text(f.title)),
      outcome: 'failed',
      error: describeError(f.error, flavour, clean(String(f.type)), secrets),
    })),
  ];
  const reported = new Set(objects.map((o) => `${o.type}:${o.id}`));
  const blocking = failures.find((f) => ['conflict', 'ambiguous_conflict', 'missing_references'].includes(text(f.error?.type) ?? ''));
  for (const s of sent) {
    if (reported.has(`${s.type}:${s.id}`)) continue;
    objects.push({
      id: s.id,
      type: s.type,
      title: s.title,
      outcome: 'failed',
      error: {
        type: 'not_imported',
        message: blocking
          ? `not imported: ${productName(flavour)} imports nothing while another object has a ${clean(text(blocking.error?.type) ?? '')} error`
          : 'not imported: the answer does not mention it',
      },
    });
  }
  const successCount = typeof raw.successCount === 'number' ? raw.successCount : successes.length;
  return { success: raw.success && objects.every((o) => o.outcome !== 'failed'), successCount, objects };
}

/** The id, type and title of each line, to report objects the answer leaves out. Lines that are not objects are skipped. */
export function objectsInNdjson(ndjson: string): Array<{ id: string; type: string; title?: string }> {
  const out: Array<{ id: string; type: string; title?: string }> = [];
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const o = JSON.parse(line) as { id?: unknown; type?: unknown; attributes?: { title?: unknown } };
      // The export's trailing summary line ({"exportedCount": ...}) has no type.
      if (typeof o.id === 'string' && typeof o.type === 'string') out.push({ id: o.id, type: o.type, title: text(o.attributes?.title) });
    } catch {
      // The server reports unreadable lines itself.
    }
  }
  return out;
}

/**
 * What to check for a refused or failed import, from the status and the server's own message, with credentials the
 * server may echo (any Authorization value, and `secrets`) redacted.
 */
export function importFailureMessage(
  status: number, bodyText: string, flavour: DashboardFlavour, signed: boolean, what: 'import' | 'delete' = 'import',
  secrets: readonly string[] = [],
): string {
  // Redacted before it is cut, so no credential is cut in half and left readable.
  let message: string | undefined;
  try {
    const json = JSON.parse(bodyText) as { message?: unknown; Message?: unknown };
    message = text(json.message) ?? text(json.Message);
  } catch {
    // not JSON: a proxy's page; the excerpt stays
  }
  message = message === undefined ? redactCredentials(bodyText, secrets).slice(0, 500) : redactCredentials(message, secrets);
  const product = productName(flavour);
  const said = message === '' ? '' : `: ${message}`;
  if (status === 401 || status === 403) {
    const advice = signed
      ? `check that your role may call es:ESHttp${what === 'delete' ? 'Delete' : 'Post'} on the domain's _dashboards/api/saved_objects/ paths and, with fine-grained access control, is mapped to a role that may manage saved objects (the tenant's)`
      : "check the credentials in the secret and the user's privileges (Kibana: the Saved Objects Management feature, all; Dashboards: write on the tenant)";
    return `${product} refused the ${what} (${status}${said}): ${advice}`;
  }
  if (status === 404) return `no saved-objects import API at this URL (404${said}): give ${product}'s URL (not Elasticsearch's or OpenSearch's), with its base path if it has one`;
  if (status === 400 && /xsrf/i.test(message)) {
    // The server asking is not the product the objects were made for: name the one it probably is.
    const other: DashboardFlavour = flavour === 'kibana' ? 'opensearch' : 'kibana';
    return `the server, probably ${productName(other)}, asks for an xsrf header this ${what} did not send (400${said}): `
      + `the ${what} was made for ${product} (header ${xsrfHeader(flavour)}): use the ${other} flavour (--flavour ${other})`;
  }
  if (status === 413) return `the file is larger than ${product} accepts (413${said}): raise savedObjects.maxImportPayloadBytes`;
  return `${product} answered the ${what} with ${status}${said}`;
}

export interface ImportOptions extends ImportRequestOptions {
  /** Adds the authentication headers: request-auth.ts's `headerAuthenticator` or `sigV4Authenticator('es', ...)`. */
  readonly authenticate: Authenticate;
  /** True when `authenticate` signs with SigV4, for the advice on a refusal. */
  readonly signed?: boolean;
  /** @default 30_000 */
  readonly timeoutMs?: number;
}

/** Largest answer read: one result per object, a few hundred bytes each. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Imports the objects and reports each one; throws {@link SavedObjectsImportError} when the import as a whole fails. */
export async function importSavedObjects(options: ImportOptions): Promise<ImportResult> {
  const request = buildImportRequest(options);
  // Whatever headers an authenticator returns, the xsrf header goes out: without it both products refuse every write.
  // An extra unsigned header leaves a SigV4 signature valid.
  const headers = { ...await options.authenticate(request), [xsrfHeader(options.flavour)]: 'true' };
  const secrets = credentialsInHeaders(headers);
  const { status, body } = await send(request, headers, options.timeoutMs ?? 30_000, options.url);
  if (status !== 200) throw new SavedObjectsImportError(importFailureMessage(status, body, options.flavour, options.signed ?? false, 'import', secrets), status);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new SavedObjectsImportError(`${productName(options.flavour)} answered 200 with something other than JSON: ${redactCredentials(body, secrets).slice(0, 200)}`);
  }
  return parseImportResponse(json, options.flavour, objectsInNdjson(options.ndjson), secrets);
}

function send(request: OutgoingRequest, headers: Record<string, string>, timeoutMs: number, url: string): Promise<{ status: number; body: string }> {
  const query = new URLSearchParams(request.query).toString();
  const lib = request.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({
      method: request.method,
      hostname: request.hostname,
      port: request.port,
      path: request.path + (query === '' ? '' : `?${query}`),
      headers,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new SavedObjectsImportError(`the answer is larger than ${MAX_ANSWER_BYTES} bytes: not a saved-objects import result`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(new ProductUnreachableError(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    function fail(e: Error) {
      clearTimeout(timer);
      if (e instanceof SavedObjectsImportError) reject(e);
      else reject(new ProductUnreachableError(`cannot reach ${url} (${(e as NodeJS.ErrnoException).code ?? e.name}: ${e.message}): check the URL, the network and any proxy`));
    }
    req.on('error', fail);
    req.end(request.body);
  });
}
