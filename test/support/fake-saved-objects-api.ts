/**
 * A local stand-in for the saved-objects import API of Kibana 8.x and OpenSearch Dashboards 2.x
 * (`POST <base>/api/saved_objects/_import`), an HTTP server in the test's process. It applies the rules the real
 * import route applies, in its order, and answers in its shapes (Kibana's and OpenSearch Dashboards'
 * import_saved_objects.ts, validate_references.ts, create_saved_objects.ts, routes/import.ts):
 * - a write without the product's xsrf header (`kbn-xsrf` / `osd-xsrf`) is refused with 400 and the real message;
 * - the body must be multipart/form-data (415 otherwise) with a field `file` (400) named `*.ndjson` (400);
 * - a line that is not JSON fails the whole import with 400 and the parser's message;
 * - `overwrite` and `createNewCopies` together are refused;
 * - an object of a type the product does not have is an `unsupported_type` error, per object;
 * - a reference to an `index-pattern` or `search` that is neither in the file nor stored is a `missing_references`
 *   error, per object (the real API checks only those two types; {@link FakeSavedObjectsApi.danglingReferences}
 *   lists the others, which a dashboard would show as broken panels);
 * - an id that is stored already is a `conflict` without `?overwrite=true`, and marked `overwrite: true` with it;
 * - while any object has a conflict or a missing reference, nothing at all is created (the API's own rule);
 * - Kibana refuses a `coreMigrationVersion` newer than its version, and both products a migration version of a type
 *   newer than the last one they know (`typeVersions`), per object, as `unknown` errors with status 400.
 * - `DELETE <base>/api/saved_objects/<type>/<id>` (xsrf header required) removes one object: `{}`, or 404
 *   `Saved object [<type>/<id>] not found`.
 * It records every request and what was stored, so tests read the outcome from the fake, not from the client.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { ReceivedRequest } from './sigv4-verifier';

export type FakeFlavour = 'kibana' | 'opensearch';

export interface StoredObject {
  readonly id: string;
  readonly type: string;
  readonly attributes: Record<string, unknown>;
  readonly references: ReadonlyArray<{ readonly id: string; readonly name: string; readonly type: string }>;
  readonly coreMigrationVersion?: string;
  readonly typeMigrationVersion?: string;
  readonly migrationVersion?: Record<string, string>;
}

export interface FakeSavedObjectsApiOptions {
  readonly flavour: FakeFlavour;
  /** @default '8.15.0' for Kibana, '2.17.0' for OpenSearch Dashboards */
  readonly version?: string;
  /** A path the API lives under, such as `/_dashboards` (Amazon OpenSearch Service) or `/s/<space>`. @default '' */
  readonly basePath?: string;
  /**
   * The last migration version the product knows per type; a newer `typeMigrationVersion` (Kibana) or
   * `migrationVersion[type]` is refused. Types not listed are not checked.
   * @default {}
   */
  readonly typeVersions?: Readonly<Record<string, string>>;
  /**
   * Checks a request's authentication before anything else; a string is the reason to refuse it with 401
   * (`{ status, message }` for another status).
   */
  readonly authenticate?: (request: ReceivedRequest) => string | { readonly status: number; readonly message: string } | undefined;
  /** Objects stored before the first import. */
  readonly stored?: readonly StoredObject[];
}

/** The importable types of each product (a representative part: those dashboards are made of). */
export const IMPORTABLE_TYPES: Readonly<Record<FakeFlavour, readonly string[]>> = {
  kibana: ['config', 'index-pattern', 'search', 'visualization', 'lens', 'dashboard', 'map', 'tag', 'query', 'url', 'canvas-workpad', 'links'],
  opensearch: ['config', 'index-pattern', 'search', 'visualization', 'dashboard', 'query', 'url', 'augment-vis', 'visualization-visbuilder'],
};

/** What the real validation checks references of (validate_references.ts, REF_TYPES_TO_VALIDATE). */
const VALIDATED_REFERENCE_TYPES = ['index-pattern', 'search'];

export interface RecordedImport {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly status: number;
  readonly fileName?: string;
  readonly answer: unknown;
}

const key = (type: string, id: string) => `${type}:${id}`;

/** Compares dotted versions numerically; the fake's own, not the code under test's. */
function newer(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}

interface Part {
  readonly name?: string;
  readonly fileName?: string;
  readonly content: string;
}

/** Reads a multipart/form-data body by the rules of RFC 7578 (enough of them for what clients send). */
function parseMultipart(body: Buffer, boundary: string): Part[] | undefined {
  const text = body.toString('utf8');
  const delimiter = `--${boundary}`;
  if (!text.startsWith(delimiter)) return undefined;
  const parts: Part[] = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf(delimiter, at);
    if (start < 0) return undefined;
    const after = start + delimiter.length;
    if (text.startsWith('--', after)) return parts;
    if (!text.startsWith('\r\n', after)) return undefined;
    const headerEnd = text.indexOf('\r\n\r\n', after + 2);
    if (headerEnd < 0) return undefined;
    const next = text.indexOf(`\r\n${delimiter}`, headerEnd + 4);
    if (next < 0) return undefined;
    const headers = text.slice(after + 2, headerEnd).split('\r\n');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    parts.push({
      name: /;\s*name="([^"]*)"/i.exec(disposition)?.[1],
      fileName: /;\s*filename="([^"]*)"/i.exec(disposition)?.[1],
      content: text.slice(headerEnd + 4, next),
    });
    at = next + 2;
  }
}

export class FakeSavedObjectsApi {
  /** Every request received, in order, with the status it got. */
  public readonly requests: RecordedImport[] = [];
  /** Objects by `type:id`, as stored after the imports. */
  public readonly objects = new Map<string, StoredObject>();
  /** Objects deleted through `DELETE /api/saved_objects/<type>/<id>`, as `type:id`, in order. */
  public readonly deleted: string[] = [];
  /** How often each object was written (created or overwritten). */
  public readonly writes = new Map<string, number>();
  public readonly version: string;
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: FakeSavedObjectsApiOptions) {
    this.version = options.version ?? (options.flavour === 'kibana' ? '8.15.0' : '2.17.0');
    for (const o of options.stored ?? []) this.objects.set(key(o.type, o.id), o);
  }

  /** The header each product wants on writes. */
  public get xsrfHeader(): string {
    return this.options.flavour === 'kibana' ? 'kbn-xsrf' : 'osd-xsrf';
  }

  /** Starts listening on a free port of 127.0.0.1; returns the base URL (with the base path). */
  public async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${this.options.basePath ?? ''}`;
  }

  public async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** References of stored objects (of any type) to objects that are not stored: panels that would show an error. */
  public danglingReferences(): string[] {
    const out: string[] = [];
    for (const o of this.objects.values()) {
      for (const r of o.references) {
        if (!this.objects.has(key(r.type, r.id))) out.push(`${o.type} ${o.id} -> ${r.type} ${r.id} (${r.name})`);
      }
    }
    return out;
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
    const query = Object.fromEntries(new URLSearchParams(rawQuery));
    let fileName: string | undefined;
    const answer = (status: number, payload: unknown) => {
      this.requests.push({ method: req.method ?? '', path: rawPath, query, headers: req.headers, status, fileName, answer: payload });
      const text = JSON.stringify(payload);
      const product = this.options.flavour === 'kibana' ? { 'kbn-name': 'kibana' } : { 'osd-name': 'opensearch-dashboards' };
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...product });
      res.end(text);
    };
    const bad = (status: number, message: string) => answer(status, {
      statusCode: status,
      error: status === 400 ? 'Bad Request' : status === 401 ? 'Unauthorized' : status === 415 ? 'Unsupported Media Type' : status === 404 ? 'Not Found' : 'Error',
      message,
    });

    const refusal = this.options.authenticate?.({ method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body });
    if (refusal !== undefined) {
      return typeof refusal === 'string' ? bad(401, refusal) : bad(refusal.status, refusal.message);
    }
    const base = `${this.options.basePath ?? ''}/api/saved_objects/`;
    const single = rawPath.startsWith(base) ? /^([^/]+)\/([^/]+)$/.exec(rawPath.slice(base.length)) : null;
    const isImport = rawPath === `${base}_import`;
    if (!isImport && !single) return bad(404, 'Not Found');
    if (isImport ? req.method !== 'POST' : req.method !== 'DELETE') return bad(404, 'Not Found');
    // The xsrf check of both products runs before the route: any non-GET without the header (or the version header the
    // product's own browser app sends instead) is refused.
    const versionHeader = this.options.flavour === 'kibana' ? 'kbn-version' : 'osd-version';
    if (req.headers[this.xsrfHeader] === undefined && req.headers[versionHeader] === undefined) {
      return bad(400, `Request must contain a ${this.xsrfHeader} header.`);
    }
    if (single) {
      // DELETE /api/saved_objects/<type>/<id>: {} when deleted, the saved-objects client's 404 when not there.
      const [type, id] = [decodeURIComponent(single[1]), decodeURIComponent(single[2])];
      if (!this.objects.delete(key(type, id))) return bad(404, `Saved object [${type}/${id}] not found`);
      this.deleted.push(key(type, id));
      return answer(200, {});
    }
    if (query.overwrite === 'true' && query.createNewCopies === 'true') return bad(400, 'cannot use [overwrite] with [createNewCopies]');

    const contentType = req.headers['content-type'] ?? '';
    const boundary = /^multipart\/form-data;.*\bboundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
    if (!boundary) return bad(415, 'Unsupported Media Type');
    const parts = parseMultipart(body, boundary);
    if (!parts) return bad(400, 'Invalid multipart payload format');
    const file = parts.find((p) => p.name === 'file');
    if (!file) return bad(400, '[request body.file]: expected value of type [Stream] but got [undefined]');
    fileName = file.fileName;
    const extension = /(\.[^.]*)$/.exec(file.fileName ?? '')?.[1]?.toLowerCase() ?? '';
    if (extension !== '.ndjson') return bad(400, `Invalid file extension ${extension}`);

    const collected: StoredObject[] = [];
    for (const line of file.content.split('\n')) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (e) {
        return bad(400, (e as Error).message);
      }
      const o = parsed as Partial<StoredObject> & { exportedCount?: unknown };
      // The export's summary line.
      if (o.exportedCount !== undefined && o.type === undefined) continue;
      collected.push({ ...o, references: o.references ?? [], attributes: o.attributes ?? {} } as StoredObject);
    }
    answer(200, this.importObjects(collected, query.overwrite === 'true'));
  }

  /** The import itself, in the order of import_saved_objects.ts. */
  private importObjects(all: StoredObject[], overwrite: boolean) {
    const product = this.options.flavour === 'kibana' ? 'Kibana' : 'OpenSearch Dashboards';
    const title = (o: StoredObject) => (typeof o.attributes.title === 'string' ? o.attributes.title : undefined);
    const errors: Array<Record<string, unknown> & { id: string; type: string; error: { type: string } }> = [];
    const failure = (o: StoredObject, error: Record<string, unknown> & { type: string }) =>
      errors.push({ id: o.id, type: o.type, title: title(o), meta: { title: title(o) }, error });

    const supported = all.filter((o) => {
      if (IMPORTABLE_TYPES[this.options.flavour].includes(o.type)) return true;
      failure(o, { type: 'unsupported_type' });
      return false;
    });
    const inFile = new Set(supported.map((o) => key(o.type, o.id)));
    for (const o of supported) {
      const missing = o.references
        .filter((r) => VALIDATED_REFERENCE_TYPES.includes(r.type))
        .filter((r) => !inFile.has(key(r.type, r.id)) && !this.objects.has(key(r.type, r.id)))
        .map((r) => ({ type: r.type, id: r.id }));
      if (missing.length > 0) failure(o, { type: 'missing_references', references: missing });
    }
    const pendingOverwrites = new Set<string>();
    for (const o of supported) {
      if (!this.objects.has(key(o.type, o.id))) continue;
      if (overwrite) pendingOverwrites.add(key(o.type, o.id));
      else failure(o, { type: 'conflict' });
    }
    const failed = new Set(errors.map((e) => key(e.type, e.id)));
    const toCreate = supported.filter((o) => !failed.has(key(o.type, o.id)));
    const created: StoredObject[] = [];
    // The API creates nothing while an error could be resolved by a retry (conflict, missing reference).
    if (!errors.some((e) => ['conflict', 'ambiguous_conflict', 'missing_references'].includes(e.error.type))) {
      for (const o of toCreate) {
        const problem = this.versionProblem(o, product);
        if (problem) {
          failure(o, { type: 'unknown', message: problem, statusCode: 400 });
          continue;
        }
        this.objects.set(key(o.type, o.id), o);
        this.writes.set(key(o.type, o.id), (this.writes.get(key(o.type, o.id)) ?? 0) + 1);
        created.push(o);
      }
    }
    const successResults = created.map((o) => ({
      type: o.type,
      id: o.id,
      meta: { title: title(o), icon: o.type === 'dashboard' ? 'dashboardApp' : o.type === 'index-pattern' ? 'indexPatternApp' : 'visualizeApp' },
      ...(pendingOverwrites.has(key(o.type, o.id)) && { overwrite: true }),
    }));
    const errorResults = errors.map((e) => ({ ...e, ...(pendingOverwrites.has(key(e.type, e.id)) && { overwrite: true }) }));
    return {
      successCount: created.length,
      success: errors.length === 0,
      ...(successResults.length > 0 && { successResults }),
      ...(this.options.flavour === 'kibana' && { warnings: [] }),
      ...(errorResults.length > 0 && { errors: errorResults }),
    };
  }

  /** The migrator's refusals of documents from a newer version, with its messages. */
  private versionProblem(o: StoredObject, product: string): string | undefined {
    if (this.options.flavour === 'kibana' && o.coreMigrationVersion !== undefined && newer(o.coreMigrationVersion, this.version)) {
      return `Document "${o.id}" has a "coreMigrationVersion" which belongs to a more recent version of Kibana [${o.coreMigrationVersion}]. The current version is [${this.version}].`;
    }
    const latest = this.options.typeVersions?.[o.type];
    const own = this.options.flavour === 'kibana' ? o.typeMigrationVersion ?? o.migrationVersion?.[o.type] : o.migrationVersion?.[o.type];
    if (latest !== undefined && own !== undefined && newer(own, latest)) {
      return `Document "${o.id}" belongs to a more recent version of ${product} [${own}] when the last known version is [${latest}].`;
    }
    return undefined;
  }
}
