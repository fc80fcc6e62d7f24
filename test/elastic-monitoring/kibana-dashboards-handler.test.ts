import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createDashboardsHandler, DashboardsEvent, respond } from '../../src/elastic-monitoring/kibana-dashboards.lambda';
import { DEFAULT_FIELDS, DEFAULT_STATUS_VALUES } from '../../src/elastic-monitoring/runtime/config';
import {
  dashboardsDigest, dashboardsPhysicalId, DashboardsResourceProperties, FAILED_CREATE_PREFIX, parseDashboardsProperties, resourceSource,
} from '../../src/elastic-monitoring/runtime/kibana-dashboards-resource';
import { DashboardFlavour, DashboardSource } from '../../src/elastic-monitoring/saved-objects/saved-objects';
import { FakeSavedObjectsApi } from '../support/fake-saved-objects-api';
import { sigV4Problem } from '../support/sigv4-verifier';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:kibana-AbCdEf';
const USER = { username: 'waf-dashboards', password: 's3cret' };
const BASIC = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;

function source(fields: Partial<typeof DEFAULT_FIELDS> = {}): DashboardSource {
  return { indexPattern: 'waf-*', fields: { ...DEFAULT_FIELDS, ...fields }, statusValues: DEFAULT_STATUS_VALUES, apdexTMs: 30 };
}

/** The properties as the construct writes them (kibana-dashboards.ts). */
interface PropertyOptions {
  readonly flavour?: DashboardFlavour;
  readonly src?: DashboardSource;
  readonly removeOnDelete?: boolean;
}

function properties(url: string, options: PropertyOptions = {}): DashboardsResourceProperties {
  const flavour = options.flavour ?? 'kibana';
  const src = resourceSource(options.src ?? source());
  return {
    Endpoint: url,
    Flavour: flavour,
    Source: JSON.stringify(src),
    Digest: dashboardsDigest(src, flavour),
    RemoveOnDelete: options.removeOnDelete ? 'true' : 'false',
    Credentials: JSON.stringify({ kind: 'basic', secretArn: SECRET_ARN }),
  };
}

/** CloudFormation's side: the pre-signed response URL, which records every answer PUT to it. */
class ResponseEndpoint {
  public readonly answers: any[] = [];
  private server?: http.Server;
  public async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.answers.push({ method: req.method, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/response?X-Amz-Signature=abc`;
  }
  public stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Secrets Manager answering from the SecretId it was asked for. */
const secrets: Record<string, string> = { [SECRET_ARN]: JSON.stringify(USER) };
const secretsManager = {
  send: async (command: any) => {
    if (!(command instanceof GetSecretValueCommand)) throw new Error(`unexpected ${command.constructor.name}`);
    const value = secrets[command.input.SecretId!];
    if (value === undefined) throw Object.assign(new Error('Secrets Manager can\'t find the specified secret.'), { name: 'ResourceNotFoundException' });
    return { SecretString: value };
  },
} as any;

/** The fake refuses any request without the secret's basic auth, as Kibana's security would. */
const basicAuthOnly = (request: { headers: Record<string, unknown> }) =>
  (request.headers.authorization === BASIC ? undefined : '[security_exception]: unable to authenticate user');

describe('kibana dashboards custom resource handler against the fake saved-objects API', () => {
  let fake: FakeSavedObjectsApi;
  let cfn: ResponseEndpoint;
  let responseUrl: string;
  const lines: string[] = [];
  const handler = createDashboardsHandler({ secretsManager, log: (l) => lines.push(l), timeoutMs: 5_000 });
  const event = (
    requestType: 'Create' | 'Update' | 'Delete', props: DashboardsResourceProperties, physicalId?: string, old?: DashboardsResourceProperties,
  ): DashboardsEvent => ({
    RequestType: requestType,
    ...(old === undefined ? {} : { OldResourceProperties: old }),
    RequestId: `req-${requestType}`,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1',
    LogicalResourceId: 'MonitorKibanaDashboards',
    ...(physicalId === undefined ? {} : { PhysicalResourceId: physicalId }),
    ResourceProperties: props,
  });

  beforeEach(async () => {
    cfn = new ResponseEndpoint();
    responseUrl = await cfn.start();
  });
  afterEach(async () => {
    await fake?.stop();
    await cfn.stop();
  });

  test('Create imports every generated object with the secret\'s credentials and answers CloudFormation SUCCESS', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuthOnly });
    const url = await fake.start();
    await handler(event('Create', properties(url)));

    expect(cfn.answers).toHaveLength(1);
    const answer = cfn.answers[0].body;
    expect(answer).toMatchObject({ Status: 'SUCCESS', RequestId: 'req-Create', LogicalResourceId: 'MonitorKibanaDashboards' });
    expect(answer.Reason).toMatch(/^Kibana at http:\/\/127\.0\.0\.1:\d+: \d+ created, 0 updated$/);
    const stored = [...fake.objects.values()];
    expect(stored.length).toBeGreaterThan(5);
    expect(answer.Reason).toContain(`${stored.length} created`);
    expect(stored.filter((o) => o.type === 'dashboard').map((o) => o.id)).toEqual([answer.Data.DashboardId]);
    expect(fake.danglingReferences()).toEqual([]);
    expect(fake.requests.map((r) => [r.method, r.status, r.query.overwrite, r.headers['kbn-xsrf']])).toEqual([['POST', 200, 'true', 'true']]);
  });

  test('Update with a renamed field overwrites the same objects (no copies) and they name the new field only', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: basicAuthOnly });
    const url = await fake.start();
    await handler(event('Create', properties(url, { flavour: 'opensearch' })));
    const created = cfn.answers[0].body;
    const ids = [...fake.objects.keys()].sort();
    expect(JSON.stringify([...fake.objects.values()])).toContain(DEFAULT_FIELDS.latency);

    const renamed = properties(url, { flavour: 'opensearch', src: source({ latency: 'edge.duration_ms' }) });
    expect(renamed.Source).not.toEqual(properties(url, { flavour: 'opensearch' }).Source);
    await handler(event('Update', renamed, created.PhysicalResourceId));

    const updated = cfn.answers[1].body;
    expect(updated.Status).toBe('SUCCESS');
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(updated.Reason).toMatch(new RegExp(`: 0 created, ${ids.length} updated$`));
    expect([...fake.objects.keys()].sort()).toEqual(ids);
    expect([...fake.writes.values()].every((n) => n === 2)).toBe(true);
    const text = JSON.stringify([...fake.objects.values()]);
    expect(text).toContain('edge.duration_ms');
    expect(text).not.toContain(DEFAULT_FIELDS.latency);
    expect(fake.requests.every((r) => r.headers['osd-xsrf'] === 'true')).toBe(true);
  });

  test('a respelled endpoint (trailing slash, host case, default port) keeps the physical id, so no Delete removes the objects', async () => {
    const id = (endpoint: string) => dashboardsPhysicalId(parseDashboardsProperties({ ...properties(endpoint), Endpoint: endpoint }));
    expect(id('HTTPS://Kibana.Example.com:443/ok/')).toBe(id('https://kibana.example.com/ok'));
    expect(id('https://kibana.example.com/ok')).not.toBe(id('https://kibana.example.com/other'));
    expect(id('https://kibana.example.com:5601/ok')).not.toBe(id('https://kibana.example.com/ok'));

    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuthOnly });
    const url = await fake.start();
    const before = properties(url, { removeOnDelete: true });
    await handler(event('Create', before));
    const created = cfn.answers[0].body.PhysicalResourceId;
    await handler(event('Update', properties(`${url}/`, { removeOnDelete: true }), created, before));
    expect(cfn.answers[1].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created });

    // A resource created by an earlier version (id hashed from the raw URL) keeps its id too: a new one would be a replacement.
    const legacy = `waf-dashboards:kibana:0123456789abcdef:${cfn.answers[0].body.Data.DashboardId}`;
    await handler(event('Update', properties(`${url}/`, { removeOnDelete: true }), legacy, before));
    expect(cfn.answers[2].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: legacy });
    // Another index pattern is other objects: a new id, and the old resource's Delete removes the old ones.
    await handler(event('Update', properties(url, { removeOnDelete: true, src: { ...source(), indexPattern: 'edge-*' } }), created, before));
    expect(cfn.answers[3].body.PhysicalResourceId).not.toBe(created);
    expect(fake.deleted).toEqual([]);
  });

  test('with removeOnDelete, a Delete leaves the objects another live resource of the stack just imported', async () => {
    // CloudFormation's side: the resources of each stack as the test sets them, answered for the stack asked about.
    const stacks: Record<string, any[]> = {};
    const cloudFormation = {
      send: async (command: any) => {
        if (!(command instanceof DescribeStackResourcesCommand)) throw new Error(`unexpected ${command.constructor.name}`);
        return { StackResources: stacks[command.input.StackName!] ?? [] };
      },
    } as any;
    const guarded = createDashboardsHandler({ secretsManager, cloudFormation, log: () => undefined, timeoutMs: 5_000 });
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuthOnly });
    const url = await fake.start();
    const props = properties(url, { removeOnDelete: true });
    await guarded(event('Create', props));
    const current = cfn.answers[0].body.PhysicalResourceId;
    const stackId = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1';
    const live = { LogicalResourceId: 'MonitorKibanaDashboards', PhysicalResourceId: current, ResourceType: 'Custom::WafKibanaDashboards' };
    stacks[stackId] = [{ ...live, ResourceStatus: 'UPDATE_COMPLETE' }];

    // The replaced resource (an id of an earlier version, a respelled URL) is deleted after the new one imported.
    await guarded(event('Delete', properties(`${url}/`, { removeOnDelete: true }), 'waf-dashboards:kibana:0123456789abcdef:old'));
    expect(cfn.answers[1].body).toMatchObject({ Status: 'SUCCESS' });
    expect(cfn.answers[1].body.Reason).toMatch(/left in Kibana: MonitorKibanaDashboards of this stack imported the same ones/);
    expect(fake.deleted).toEqual([]);

    // The stack's deletion: the resource itself is being deleted, so the objects go.
    stacks[stackId] = [{ ...live, ResourceStatus: 'DELETE_IN_PROGRESS' }];
    await guarded(event('Delete', props, current));
    expect(cfn.answers[2].body.Reason).toMatch(/saved objects removed/);
    expect(fake.objects.size).toBe(0);
  });

  test('Delete leaves the objects in place unless removeOnDelete, without calling Kibana', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuthOnly });
    const url = await fake.start();
    await handler(event('Create', properties(url)));
    const before = [...fake.objects.keys()];
    await handler(event('Delete', properties(url), cfn.answers[0].body.PhysicalResourceId));

    expect(cfn.answers[1].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: cfn.answers[0].body.PhysicalResourceId });
    expect(cfn.answers[1].body.Reason).toMatch(/left in Kibana \(removeOnDelete is false\)/);
    expect([...fake.objects.keys()]).toEqual(before);
    expect(fake.requests).toHaveLength(1);
  });

  test('Delete with removeOnDelete removes every object by id, the dashboard first; a second delete finds them gone', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuthOnly });
    const url = await fake.start();
    const props = properties(url, { removeOnDelete: true });
    await handler(event('Create', props));
    const imported = [...fake.objects.keys()];
    const physicalId = cfn.answers[0].body.PhysicalResourceId;
    await handler(event('Delete', props, physicalId));

    expect(cfn.answers[1].body).toMatchObject({ Status: 'SUCCESS', Reason: `${imported.length} saved objects removed, 0 were not there` });
    expect(fake.objects.size).toBe(0);
    expect([...fake.deleted].sort()).toEqual([...imported].sort());
    expect(fake.deleted[0]).toMatch(/^dashboard:/);
    expect(fake.deleted[fake.deleted.length - 1]).toMatch(/^index-pattern:/);
    const deletes = fake.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.every((r) => r.headers['kbn-xsrf'] === 'true' && r.headers.authorization === BASIC && r.status === 200)).toBe(true);

    await handler(event('Delete', props, physicalId));
    expect(cfn.answers[2].body).toMatchObject({ Status: 'SUCCESS', Reason: `0 saved objects removed, ${imported.length} were not there` });
  });

  test('objects the product refuses fail the resource with each object\'s reason', async () => {
    // A Kibana whose Lens is older than the generated Lens objects: those are refused, one error each.
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', typeVersions: { lens: '8.5.0' }, authenticate: basicAuthOnly });
    const url = await fake.start();
    await handler(event('Create', properties(url)));

    const answer = cfn.answers[0].body;
    const lens = (fake.requests[0].answer as any).errors.filter((e: any) => e.type === 'lens');
    expect(lens.length).toBeGreaterThan(0);
    expect(answer.Status).toBe('FAILED');
    expect(answer.PhysicalResourceId).toBe(`${FAILED_CREATE_PREFIX}req-Create`);
    expect(answer.Reason).toContain(`${lens.length} of `);
    expect(answer.Reason).toContain(`lens ${lens[0].id} "${lens[0].title}": Document "${lens[0].id}" belongs to a more recent version of Kibana [8.6.0]`);
    expect(JSON.stringify(answer).length).toBeLessThan(4096);

    // The rollback's Delete contacts nobody, even with removeOnDelete.
    const calls = fake.requests.length;
    await handler(event('Delete', properties(url, { removeOnDelete: true }), answer.PhysicalResourceId));
    expect(cfn.answers[1].body).toMatchObject({ Status: 'SUCCESS', Reason: 'nothing was imported' });
    expect(fake.requests).toHaveLength(calls);
  });

  test('with removeOnDelete, a Create that partly imported removes what it created before answering FAILED', async () => {
    // An older Kibana: the Lens objects are refused, the rest are created.
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', typeVersions: { lens: '8.5.0' }, authenticate: basicAuthOnly });
    const url = await fake.start();
    await handler(event('Create', properties(url, { removeOnDelete: true })));

    const answer = cfn.answers[0].body;
    const created = (fake.requests[0].answer as any).successResults.map((r: any) => `${r.type}:${r.id}`);
    expect(created.length).toBeGreaterThan(0);
    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `${FAILED_CREATE_PREFIX}req-Create` });
    expect(answer.Reason).toContain(`the ${created.length} objects this import created were removed (removeOnDelete)`);
    expect([...fake.deleted].sort()).toEqual([...created].sort());
    expect(fake.objects.size).toBe(0);
  });

  test('with removeOnDelete and the product gone, Delete answers SUCCESS naming the objects left behind', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuthOnly });
    const url = await fake.start();
    const props = properties(url, { removeOnDelete: true });
    await handler(event('Create', props));
    const imported = [...fake.objects.keys()];
    await fake.stop();
    lines.length = 0;
    await handler(event('Delete', props, cfn.answers[0].body.PhysicalResourceId));

    const answer = cfn.answers[1].body;
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: cfn.answers[0].body.PhysicalResourceId });
    expect(answer.Reason).toMatch(new RegExp(`is out of reach \\(cannot reach .*\\): ${imported.length} saved objects left behind, remove them by hand`));
    expect(answer.Data.LeftBehind.split(',').sort()).toEqual([...imported].sort());
    expect(lines.join('\n')).toContain('left behind');

    // A product that takes the connection and never answers: the Delete is answered in time, the same way.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const begin = Date.now();
      const patient = createDashboardsHandler({ secretsManager, log: () => undefined, timeoutMs: 60_000, answerReserveMs: 300 });
      const remaining = { getRemainingTimeInMillis: () => 900 - (Date.now() - begin) };
      await patient(event('Delete', properties(silentUrl, { removeOnDelete: true }), 'waf-dashboards:kibana:x:y'), remaining);
      expect(Date.now() - begin).toBeLessThan(900);
      expect(cfn.answers[2].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'waf-dashboards:kibana:x:y' });
      expect(cfn.answers[2].body.Data.LeftBehind.split(',').sort()).toEqual([...imported].sort());
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a refused import and a refused removal are FAILED with what to check', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: (r) => (r.headers.authorization === 'Basic bm9ib2R5Om5vcGU=' ? undefined : 'unable to authenticate user') });
    const url = await fake.start();
    await handler(event('Create', properties(url)));
    expect(cfn.answers[0].body.Status).toBe('FAILED');
    expect(cfn.answers[0].body.Reason).toMatch(/Kibana refused the import \(401: unable to authenticate user\): check the credentials in the secret/);

    await handler(event('Delete', properties(url, { removeOnDelete: true }), 'waf-dashboards:kibana:x:y'));
    expect(cfn.answers[1].body.Status).toBe('FAILED');
    expect(cfn.answers[1].body.Reason).toMatch(/could not be removed \(removeOnDelete\): dashboard [\w-]+: Kibana refused the delete \(401/);
  });

  test('a server echoing the credentials: the reasons CloudFormation shows carry them redacted', async () => {
    fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: (r) => `unable to authenticate ${String(r.headers.authorization)} (password ${USER.password})` });
    const url = await fake.start();
    await handler(event('Create', properties(url)));
    await handler(event('Delete', properties(url, { removeOnDelete: true }), 'waf-dashboards:kibana:x:y'));
    const reasons = cfn.answers.map((a) => String(a.body.Reason));
    expect(reasons[0]).toContain('(401: unable to authenticate Basic [redacted] (password [redacted]))');
    expect(reasons[1]).toContain('Kibana refused the delete (401: unable to authenticate Basic [redacted]');
    for (const reason of reasons) expect(reason).not.toContain(BASIC.slice(6, 14));
    for (const reason of reasons) expect(reason).not.toContain(USER.password);
  });


  test('a hanging Secrets Manager or product still gets CloudFormation an answer before the function\'s time runs out', async () => {
    // Secrets Manager that never answers (no route from the VPC, no timeout in the SDK); the handler must not wait for it.
    const signals: AbortSignal[] = [];
    const hanging = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
        signals.push(options!.abortSignal!);
        return new Promise(() => undefined);
      },
    } as any;
    const start = Date.now();
    const remaining = (totalMs: number) => ({ getRemainingTimeInMillis: () => totalMs - (Date.now() - start) });
    const patient = createDashboardsHandler({ secretsManager: hanging, log: () => undefined, timeoutMs: 60_000, answerReserveMs: 300 });
    await patient(event('Create', properties('https://kibana.example.com')), remaining(900));
    expect(Date.now() - start).toBeLessThan(900);
    expect(cfn.answers[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `${FAILED_CREATE_PREFIX}req-Create` });
    expect(cfn.answers[0].body.Reason).toMatch(/before the function's timeout: Secrets Manager or the product did not answer in time/);
    expect(signals[0].aborted).toBe(true);

    // A product that takes the connection and never answers: the Update keeps its id and fails in time too.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const begin = Date.now();
      const patientProduct = createDashboardsHandler({ secretsManager, log: () => undefined, timeoutMs: 60_000, answerReserveMs: 300 });
      await patientProduct(event('Update', properties(url), 'waf-dashboards:kibana:x:y'), { getRemainingTimeInMillis: () => 900 - (Date.now() - begin) });
      expect(Date.now() - begin).toBeLessThan(900);
      expect(cfn.answers[1].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'waf-dashboards:kibana:x:y' });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });


  test('the whole answer stays within CloudFormation\'s 4096 bytes, however many bytes the reason\'s characters take', async () => {
    // A product's messages in another script: 1400 characters (under the character limit) but three bytes each.
    const reason = `Kibana at https://kibana.example.com: ${'索引パターンが見つかりません"\n'.repeat(90)}`;
    expect(reason.length).toBeLessThan(1500);
    const outcome = { Status: 'FAILED' as const, Reason: reason, PhysicalResourceId: `${FAILED_CREATE_PREFIX}req-Create` };
    await respond(event('Create', properties('https://kibana.example.com')), outcome);
    const sent = JSON.stringify(cfn.answers[0].body);
    expect(Buffer.byteLength(sent)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(sent)).toBeGreaterThan(4000);
    expect(cfn.answers[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: outcome.PhysicalResourceId, RequestId: 'req-Create' });
    expect(reason.startsWith(cfn.answers[0].body.Reason.slice(0, -1))).toBe(true);
    expect(cfn.answers[0].body.Reason.endsWith('…')).toBe(true);

    // A short reason is sent as it is.
    await respond(event('Create', properties('https://kibana.example.com')), { ...outcome, Reason: 'short' });
    expect(cfn.answers[1].body.Reason).toBe('short');
  });

  test('with no secret, the requests are signed with the role for Amazon OpenSearch Service (service es)', async () => {
    const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
    const problems: Array<string | undefined> = [];
    fake = new FakeSavedObjectsApi({
      flavour: 'opensearch',
      basePath: '/_dashboards',
      authenticate: (r) => {
        const problem = sigV4Problem(r, { ...creds, region: 'eu-west-1', service: 'es' });
        problems.push(problem);
        return problem;
      },
    });
    const url = await fake.start();
    const signed = createDashboardsHandler({ secretsManager, log: () => undefined, awsCredentials: async () => creds });
    const { Credentials: _none, ...rest } = properties(url, { flavour: 'opensearch', removeOnDelete: true });
    const props = { ...rest, SigningRegion: 'eu-west-1' };
    await signed(event('Create', props));
    await signed(event('Delete', props, cfn.answers[0].body.PhysicalResourceId));

    expect(cfn.answers.map((a) => a.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(fake.objects.size).toBe(0);
    expect(problems.length).toBeGreaterThan(2);
    expect(problems.every((p) => p === undefined)).toBe(true);
  });
});
