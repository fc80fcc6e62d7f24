import * as http from 'node:http';
import { headerAuthenticator, sigV4Authenticator } from '../../src/elastic-monitoring/runtime/request-auth';
import {
  buildDeleteRequest, buildImportRequest, deleteSavedObjects, importEndpoint, importSavedObjects, multipartBody, SavedObjectsImportError,
} from '../../src/elastic-monitoring/runtime/saved-objects-import';
import { Authenticate } from '../../src/elastic-monitoring/runtime/search-transport';
import { FakeSavedObjectsApi } from '../support/fake-saved-objects-api';
import { sigV4Problem } from '../support/sigv4-verifier';

/** A small dashboard as an export writes it: a data view, a visualization on it, a dashboard showing the visualization. */
function ndjson(options: { pattern?: string; extra?: object[]; core?: string } = {}): string {
  const core = options.core ? { coreMigrationVersion: options.core } : {};
  return [
    { id: 'waf-ip', type: 'index-pattern', attributes: { title: options.pattern ?? 'waf-*', timeFieldName: '@timestamp' }, references: [], ...core },
    {
      id: 'waf-vis-status',
      type: 'visualization',
      attributes: { title: 'Requests by status', visState: '{}', kibanaSavedObjectMeta: { searchSourceJSON: '{"indexRefName":"kibanaSavedObjectMeta.searchSourceJSON.index"}' } },
      references: [{ id: 'waf-ip', name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
      ...core,
    },
    ...(options.extra ?? []),
    {
      id: 'waf-dashboard',
      type: 'dashboard',
      attributes: { title: 'WAF', panelsJSON: '[{"panelRefName":"panel_0"}]' },
      references: [{ id: 'waf-vis-status', name: 'panel_0', type: 'visualization' }],
      ...core,
    },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n';
}

const noAuth: Authenticate = async (request) => ({ ...request.headers });

describe('saved-objects import client against the fake import API', () => {
  let fake: FakeSavedObjectsApi;
  afterEach(async () => fake?.stop());

  test('Kibana: creates every object on the first import, with kbn-xsrf, multipart field file and ?overwrite=true', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
    const url = await fake.start();
    const result = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: noAuth });

    expect(result.success).toBe(true);
    expect(result.objects.map((o) => [o.type, o.id, o.outcome])).toEqual([
      ['index-pattern', 'waf-ip', 'created'], ['visualization', 'waf-vis-status', 'created'], ['dashboard', 'waf-dashboard', 'created'],
    ]);
    expect(result.objects.find((o) => o.id === 'waf-dashboard')?.title).toBe('WAF');
    expect([...fake.objects.keys()].sort()).toEqual(['dashboard:waf-dashboard', 'index-pattern:waf-ip', 'visualization:waf-vis-status']);
    const [request] = fake.requests;
    expect(request.headers['kbn-xsrf']).toBe('true');
    expect(request.query).toEqual({ overwrite: 'true' });
    expect(request.fileName).toMatch(/\.ndjson$/);
  });

  test('a second import updates the same objects instead of adding copies', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
    const url = await fake.start();
    await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: noAuth });
    const second = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson({ pattern: 'waf-logs-*' }), authenticate: noAuth });

    expect(second.success).toBe(true);
    expect(second.objects.map((o) => o.outcome)).toEqual(['updated', 'updated', 'updated']);
    expect(fake.objects.size).toBe(3);
    expect(fake.writes.get('index-pattern:waf-ip')).toBe(2);
    expect(fake.objects.get('index-pattern:waf-ip')?.attributes.title).toBe('waf-logs-*');
  });

  test('OpenSearch Dashboards under /_dashboards: osd-xsrf, the base path kept', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'opensearch', basePath: '/_dashboards' });
    const url = await fake.start();
    const result = await importSavedObjects({ url, flavour: 'opensearch', ndjson: ndjson(), authenticate: noAuth });

    expect(result.success).toBe(true);
    expect(fake.requests[0].path).toBe('/_dashboards/api/saved_objects/_import');
    expect(fake.requests[0].headers['osd-xsrf']).toBe('true');
    expect(fake.requests[0].headers['kbn-xsrf']).toBeUndefined();
    expect(fake.objects.size).toBe(3);
  });

  test('the request always carries the flavour\'s xsrf header; the fake refuses a write without it as the products do', async () => {
    for (const flavour of ['kibana', 'opensearch'] as const) {
      const request = buildImportRequest({ url: 'https://k.example.com', flavour, ndjson: ndjson() });
      expect(request.headers[flavour === 'kibana' ? 'kbn-xsrf' : 'osd-xsrf']).toBe('true');
    }
    fake = new FakeSavedObjectsApi({ flavour: 'opensearch' });
    const url = await fake.start();
    const { body, contentType } = multipartBody(ndjson());
    const status = await new Promise<{ code?: number; text: string }>((resolve, reject) => {
      const req = http.request(`${url}/api/saved_objects/_import`, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ code: res.statusCode, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status.code).toBe(400);
    expect(JSON.parse(status.text).message).toBe('Request must contain a osd-xsrf header.');
    expect(fake.objects.size).toBe(0);
  });

  test('an authenticator that returns only its own headers cannot drop the xsrf header', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
    const url = await fake.start();
    const forgetful: Authenticate = async (request) => ({
      'host': request.headers.host,
      'content-type': request.headers['content-type'],
      'content-length': request.headers['content-length'],
      'authorization': 'Basic a2liYW5hOmtpYmFuYQ==',
    });
    const result = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: forgetful });
    expect(result.success).toBe(true);
    expect(fake.requests[0].headers['kbn-xsrf']).toBe('true');
  });

  test('the wrong flavour is refused for its header, and the message names the flavour to use', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'opensearch' });
    const url = await fake.start();
    const error = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: noAuth }).catch((e) => e);
    expect(error).toBeInstanceOf(SavedObjectsImportError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/osd-xsrf.*--flavour opensearch/);
  });

  test('per-object errors: a type the product lacks fails alone; the rest is imported', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'opensearch' });
    const url = await fake.start();
    const lens = { id: 'waf-lens', type: 'lens', attributes: { title: 'Latency' }, references: [{ id: 'waf-ip', name: 'indexpattern-datasource-layer-1', type: 'index-pattern' }] };
    const result = await importSavedObjects({ url, flavour: 'opensearch', ndjson: ndjson({ extra: [lens] }), authenticate: noAuth });

    expect(result.success).toBe(false);
    const failed = result.objects.filter((o) => o.outcome === 'failed');
    expect(failed).toEqual([expect.objectContaining({ id: 'waf-lens', type: 'lens', title: 'Latency', error: expect.objectContaining({ type: 'unsupported_type' }) })]);
    expect(failed[0].error?.message).toMatch(/OpenSearch Dashboards does not know the type "lens"/);
    expect(result.objects.filter((o) => o.outcome === 'created')).toHaveLength(3);
    expect(fake.objects.has('lens:waf-lens')).toBe(false);
  });

  test('a missing data view fails the objects that use it, and the API then imports nothing: each object says so', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
    const url = await fake.start();
    const orphan = {
      id: 'waf-search',
      type: 'search',
      attributes: { title: 'Blocked requests' },
      references: [{ id: 'not-there', name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
    };
    const result = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson({ extra: [orphan] }), authenticate: noAuth });

    expect(result.success).toBe(false);
    expect(result.successCount).toBe(0);
    const search = result.objects.find((o) => o.id === 'waf-search');
    expect(search?.error).toEqual(expect.objectContaining({ type: 'missing_references', references: [{ type: 'index-pattern', id: 'not-there' }] }));
    expect(search?.error?.message).toMatch(/index-pattern not-there/);
    expect(result.objects.filter((o) => o.error?.type === 'not_imported').map((o) => o.id).sort()).toEqual(['waf-dashboard', 'waf-ip', 'waf-vis-status']);
    expect(fake.objects.size).toBe(0);
  });

  test('a reference to a data view stored before resolves; without overwrite an existing id is a conflict', async () => {
    fake = new FakeSavedObjectsApi({
      flavour: 'kibana',
      stored: [{ id: 'shared-ip', type: 'index-pattern', attributes: { title: 'waf-*' }, references: [] }],
    });
    const url = await fake.start();
    const search = { id: 'waf-search', type: 'search', attributes: { title: 'Blocked' }, references: [{ id: 'shared-ip', name: 'x', type: 'index-pattern' }] };
    const ok = await importSavedObjects({ url, flavour: 'kibana', ndjson: JSON.stringify(search), authenticate: noAuth });
    expect(ok.objects).toEqual([expect.objectContaining({ id: 'waf-search', outcome: 'created' })]);

    const again = await importSavedObjects({ url, flavour: 'kibana', ndjson: JSON.stringify(search), authenticate: noAuth, overwrite: false });
    expect(again.objects).toEqual([expect.objectContaining({ id: 'waf-search', outcome: 'failed', error: expect.objectContaining({ type: 'conflict' }) })]);
    expect(fake.requests[1].query).toEqual({});
  });

  test('objects from a newer Kibana are refused per object with the migrator\'s message', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', version: '8.11.0' });
    const url = await fake.start();
    const result = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson({ core: '8.15.0' }), authenticate: noAuth });
    expect(result.success).toBe(false);
    expect(result.objects.map((o) => o.error?.type)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(result.objects[0].error?.message).toMatch(/more recent version of Kibana \[8\.15\.0\]\. The current version is \[8\.11\.0\].*\(400\)/);
  });

  test('a line that is not JSON fails the whole import with the parser\'s message', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
    const url = await fake.start();
    const error = await importSavedObjects({ url, flavour: 'kibana', ndjson: `${ndjson()}{not json\n`, authenticate: noAuth }).catch((e) => e);
    expect(error).toBeInstanceOf(SavedObjectsImportError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/Kibana answered the import with 400: .*JSON/);
    expect(fake.objects.size).toBe(0);
  });

  test('basic auth from the secret\'s credentials: the fake checks the header against its users', async () => {
    const users: Record<string, string> = { kibana_admin: 's3cret' };
    fake = new FakeSavedObjectsApi({
      flavour: 'kibana',
      authenticate: (req) => {
        const header = String(req.headers.authorization ?? '');
        const [user, password] = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString().split(':');
        return header.startsWith('Basic ') && users[user] === password ? undefined : 'unable to authenticate user';
      },
    });
    const url = await fake.start();
    const ok = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: headerAuthenticator({ username: 'kibana_admin', password: 's3cret' }) });
    expect(ok.success).toBe(true);
    const refused = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: headerAuthenticator({ username: 'kibana_admin', password: 'wrong' }) })
      .catch((e) => e);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/Kibana refused the import \(401: unable to authenticate user\): check the credentials in the secret/);
  });

  test('SigV4 (service es) for Amazon OpenSearch Service: the signature over the multipart body verifies', async () => {
    const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
    fake = new FakeSavedObjectsApi({
      flavour: 'opensearch',
      basePath: '/_dashboards',
      authenticate: (req) => {
        const problem = sigV4Problem(req, { ...keys, region: 'eu-west-1', service: 'es' });
        return problem === undefined ? undefined : { status: 403, message: problem };
      },
    });
    const url = await fake.start();
    const signed = sigV4Authenticator('es', 'eu-west-1', async () => keys);
    const ok = await importSavedObjects({ url, flavour: 'opensearch', ndjson: ndjson(), authenticate: signed, signed: true });
    expect(ok.success).toBe(true);
    expect(String(fake.requests[0].headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request/);

    const wrongKey = sigV4Authenticator('es', 'eu-west-1', async () => ({ ...keys, secretAccessKey: 'other' }));
    const refused = await importSavedObjects({ url, flavour: 'opensearch', ndjson: ndjson(), authenticate: wrongKey, signed: true }).catch((e) => e);
    expect(refused.status).toBe(403);
    expect(refused.message).toMatch(/signature we calculated does not match.*es:ESHttpPost/);
  });
});

test('an address where nothing listens is reported as unreachable, with what to check', async () => {
  const closed = new FakeSavedObjectsApi({ flavour: 'kibana' });
  const url = await closed.start();
  await closed.stop();
  const error = await importSavedObjects({ url, flavour: 'kibana', ndjson: ndjson(), authenticate: noAuth }).catch((e) => e);
  expect(error).toBeInstanceOf(SavedObjectsImportError);
  expect(error.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED: .*\): check the URL, the network and any proxy$/);
});

describe('import request building', () => {
  test('an Amazon OpenSearch Service domain\'s bare endpoint gets /_dashboards; other base paths are kept', () => {
    expect(importEndpoint('https://search-waf-abc.eu-west-1.es.amazonaws.com', 'opensearch', true).href)
      .toBe('https://search-waf-abc.eu-west-1.es.amazonaws.com/_dashboards/api/saved_objects/_import?overwrite=true');
    expect(importEndpoint('https://search-waf-abc.eu-west-1.es.amazonaws.com/_dashboards/', 'opensearch', true).pathname)
      .toBe('/_dashboards/api/saved_objects/_import');
    expect(importEndpoint('https://kibana.example.com:5601/s/security', 'kibana', false).href)
      .toBe('https://kibana.example.com:5601/s/security/api/saved_objects/_import');
  });

  test('the multipart boundary never occurs in the content', () => {
    const content = '--cdk-waf-guard-saved-objects\n{"id":"x"}\n';
    const { body, contentType } = multipartBody(content);
    const boundary = contentType.split('boundary=')[1];
    expect(content.includes(boundary)).toBe(false);
    expect(body.split(`--${boundary}`)).toHaveLength(3);
  });
});

describe('deleting saved objects by id', () => {
  let fake: FakeSavedObjectsApi;
  afterEach(async () => fake?.stop());

  test('each object is deleted with the xsrf header under the base path; one not there is absent, not a failure', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'opensearch', basePath: '/_dashboards' });
    const url = await fake.start();
    await importSavedObjects({ url, flavour: 'opensearch', ndjson: ndjson(), authenticate: noAuth });
    const result = await deleteSavedObjects({
      url,
      flavour: 'opensearch',
      authenticate: noAuth,
      objects: [{ type: 'dashboard', id: 'waf-dashboard' }, { type: 'visualization', id: 'gone' }, { type: 'index-pattern', id: 'waf-ip' }],
    });
    expect(result.map((r) => [r.id, r.outcome])).toEqual([['waf-dashboard', 'deleted'], ['gone', 'absent'], ['waf-ip', 'deleted']]);
    expect([...fake.objects.keys()]).toEqual(['visualization:waf-vis-status']);
    const deletes = fake.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => [r.path, r.headers['osd-xsrf']])).toEqual([
      ['/_dashboards/api/saved_objects/dashboard/waf-dashboard', 'true'],
      ['/_dashboards/api/saved_objects/visualization/gone', 'true'],
      ['/_dashboards/api/saved_objects/index-pattern/waf-ip', 'true'],
    ]);
  });

  test('a URL without the API (wrong base path) fails each object instead of passing for "already gone"', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', basePath: '/s/security' });
    const url = await fake.start();
    const result = await deleteSavedObjects({
      url: url.replace('/s/security', ''), flavour: 'kibana', authenticate: noAuth, objects: [{ type: 'dashboard', id: 'waf-dashboard' }],
    });
    expect(result).toEqual([expect.objectContaining({ outcome: 'failed', message: expect.stringMatching(/^no saved-objects import API at this URL \(404: Not Found\)/) })]);
  });

  test('an id cannot leave its path segment', () => {
    const request = buildDeleteRequest('https://kibana.example.com/s/a', 'kibana', 'dashboard', '../../_import?x=1');
    expect(request.path).toBe('/s/a/api/saved_objects/dashboard/..%2F..%2F_import%3Fx%3D1');
    expect(request.headers).toEqual({ 'host': 'kibana.example.com', 'kbn-xsrf': 'true', 'accept': 'application/json' });
  });
});

test('deletes stop at the first unreachable answer: the rest are reported, not tried', async () => {
  const closed = new FakeSavedObjectsApi({ flavour: 'kibana' });
  const url = await closed.start();
  await closed.stop();
  const result = await deleteSavedObjects({
    url,
    flavour: 'kibana',
    authenticate: noAuth,
    objects: [{ type: 'dashboard', id: 'd' }, { type: 'lens', id: 'l' }, { type: 'index-pattern', id: 'i' }],
  });
  expect(result.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed']);
  expect(result[0].message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
  expect(result.slice(1).map((r) => r.message)).toEqual([`not tried: ${result[0].message}`, `not tried: ${result[0].message}`]);
});

test('a refused delete names the delete and, signed, the action the role needs for it', async () => {
  const refusing = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: () => ({ status: 403, message: 'no permissions for [indices:data/write/delete]' }) });
  const url = await refusing.start();
  try {
    const [result] = await deleteSavedObjects({ url, flavour: 'opensearch', authenticate: noAuth, signed: true, objects: [{ type: 'dashboard', id: 'd' }] });
    expect(result.message).toBe('OpenSearch Dashboards refused the delete (403: no permissions for [indices:data/write/delete]): check that your role ' +
      'may call es:ESHttpDelete on the domain\'s _dashboards/api/saved_objects/ paths and, with fine-grained access control, is mapped to a role that may manage saved objects (the tenant\'s)');
  } finally {
    await refusing.stop();
  }
});
