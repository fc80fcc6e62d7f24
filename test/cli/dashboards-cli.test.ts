import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../src/cli/cdk-waf-guard';
import { runDashboards } from '../../src/cli/dashboards-command';
import { FakeSavedObjectsApi } from '../support/fake-saved-objects-api';
import { sigV4Problem } from '../support/sigv4-verifier';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kibana-import-AbCdEf';
const API_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kibana-api-key-XyZ123';
const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** Secrets Manager answering from the SecretId of each request, like the service: unknown ids are not found. */
const secrets: Record<string, string> = {
  [SECRET_ARN]: JSON.stringify({ username: 'kibana_admin', password: 's3cret' }),
  [API_KEY_ARN]: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
};
const sm = mockClient(SecretsManagerClient);
sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
  const value = secrets[input.SecretId];
  if (value === undefined) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException', $metadata: {} });
  return { ARN: input.SecretId, SecretString: value };
});
afterAll(() => sm.restore());
beforeEach(() => sm.resetHistory());

/** A users table and API keys the fake checks each request's Authorization against. */
function kibanaAuth(req: { headers: Readonly<Record<string, string | string[] | undefined>> }): string | undefined {
  const header = String(req.headers.authorization ?? '');
  if (header === `ApiKey ${secrets[API_KEY_ARN]}`) return undefined;
  const [user, password] = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString().split(':');
  return header.startsWith('Basic ') && user === 'kibana_admin' && password === 's3cret' ? undefined : 'unable to authenticate user';
}

const dir = mkdtempSync(join(tmpdir(), 'dashboards-cli-'));
function fixture(name: string, objects: object[]): string {
  const file = join(dir, name);
  writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
  return file;
}
const indexPattern = { id: 'waf-ip', type: 'index-pattern', attributes: { title: 'waf-*', timeFieldName: '@timestamp' }, references: [] };
const visualization = {
  id: 'waf-vis',
  type: 'visualization',
  attributes: { title: 'Requests by status', visState: '{}' },
  references: [{ id: 'waf-ip', name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
};
const dashboard = { id: 'waf-dash', type: 'dashboard', attributes: { title: 'WAF' }, references: [{ id: 'waf-vis', name: 'panel_0', type: 'visualization' }] };
const SMALL = fixture('small.ndjson', [indexPattern, visualization, dashboard]);
const NOT_A_CONFIG = join(dir, 'partial-config.json');
writeFileSync(NOT_A_CONFIG, JSON.stringify({ indexPattern: 'waf-*' }));

async function run(argv: string[], deps = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDashboards(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, deps);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let fake: FakeSavedObjectsApi;
afterEach(async () => fake?.stop());

test('import --file --secret: basic auth from the secret named in the request; each object printed as created, then updated', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: kibanaAuth });
  const url = await fake.start();
  const first = await run(['import', '--url', url, '--secret', SECRET_ARN, '--file', SMALL]);
  expect(first).toMatchObject({ code: 0, err: '' });
  expect(first.out).toMatch(/^RESULT\s+TYPE\s+ID\s+TITLE/);
  expect(first.out).toMatch(/CREATED\s+index-pattern\s+waf-ip\s+waf-\*/);
  expect(first.out).toMatch(/CREATED\s+dashboard\s+waf-dash\s+WAF/);
  expect(first.out).toContain('3 created, 0 updated, 0 failed');
  expect(first.out).toContain(`Dashboard: ${url}/app/dashboards#/view/waf-dash`);
  expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN });

  const second = await run(['import', '--url', url, '--secret', SECRET_ARN, '--file', SMALL]);
  expect(second.code).toBe(0);
  expect(second.out).toMatch(/UPDATED\s+visualization\s+waf-vis/);
  expect(second.out).toContain('0 created, 3 updated, 0 failed');
  expect(fake.objects.size).toBe(3);
  expect(fake.requests.map((r) => r.headers['kbn-xsrf'])).toEqual(['true', 'true']);
});

test('an API key secret (the bare encoded key) is sent as ApiKey', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: kibanaAuth });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--secret', API_KEY_ARN, '--file', SMALL]);
  expect(result.code).toBe(0);
  expect(fake.requests[0].headers.authorization).toBe(`ApiKey ${secrets[API_KEY_ARN]}`);
});

test('an API key is refused for OpenSearch Dashboards, which takes basic auth only; nothing is sent', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: kibanaAuth });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--secret', API_KEY_ARN, '--flavour', 'opensearch', '--file', SMALL]);
  expect(result.code).toBe(1);
  expect(result.err).toContain('OpenSearch Dashboards takes basic auth, not an API key');
  expect(fake.requests).toHaveLength(0);
});

test('per-object failures are printed with the reason, and the exit status is 1', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: kibanaAuth });
  const url = await fake.start();
  const lens = { id: 'waf-lens', type: 'lens', attributes: { title: 'Latency' }, references: [] };
  const file = fixture('with-lens.ndjson', [indexPattern, visualization, lens, dashboard]);
  const result = await run(['import', '--url', url, '--secret', SECRET_ARN, '--flavour', 'opensearch', '--file', file]);
  expect(result.code).toBe(1);
  expect(result.out).toMatch(/FAILED\s+lens\s+waf-lens\s+Latency\s+OpenSearch Dashboards does not know the type "lens"/);
  expect(result.out).toContain('3 created, 0 updated, 1 failed');
  expect(fake.requests[0].headers['osd-xsrf']).toBe('true');
});

test('--sigv4: signed for es in the region given, over OpenSearch Dashboards under /_dashboards', async () => {
  fake = new FakeSavedObjectsApi({
    flavour: 'opensearch',
    basePath: '/_dashboards',
    authenticate: (req) => {
      const problem = sigV4Problem(req, { ...KEYS, region: 'eu-central-1', service: 'es' });
      return problem === undefined ? undefined : { status: 403, message: problem };
    },
  });
  const url = await fake.start();
  const ok = await run(['import', '--url', url, '--sigv4', '--region', 'eu-central-1', '--file', SMALL], { awsCredentials: async () => KEYS });
  expect(ok).toMatchObject({ code: 0, err: '' });
  expect(ok.out).toContain('OpenSearch Dashboards at');
  expect(fake.objects.size).toBe(3);

  const wrongRegion = await run(['import', '--url', url, '--sigv4', '--region', 'eu-west-1', '--file', SMALL], { awsCredentials: async () => KEYS });
  expect(wrongRegion.code).toBe(1);
  expect(wrongRegion.err).toMatch(/OpenSearch Dashboards refused the import \(403: credential scope region eu-west-1, expected eu-central-1\)/);
  expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
});

test('--sigv4 with the settings as flags and no --engine: the OpenSearch Dashboards objects, imported signed', async () => {
  fake = new FakeSavedObjectsApi({
    flavour: 'opensearch',
    authenticate: (req) => {
      const problem = sigV4Problem(req, { ...KEYS, region: 'eu-central-1', service: 'es' });
      return problem === undefined ? undefined : { status: 403, message: problem };
    },
  });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--sigv4', '--region', 'eu-central-1', '--index-pattern', 'waf-*'], { awsCredentials: async () => KEYS });
  expect(result).toMatchObject({ code: 0, err: '' });
  expect(result.out).toContain(`OpenSearch Dashboards at ${url}`);
  expect(fake.requests.map((r) => r.headers['osd-xsrf'])).toEqual(['true']);
  expect([...fake.objects.values()].map((o) => o.type).sort()).not.toContain('lens');
});

test('an xsrf refusal names the product that refused: Kibana objects sent to OpenSearch Dashboards', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: kibanaAuth });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--secret', SECRET_ARN, '--flavour', 'kibana', '--file', SMALL]);
  expect(result.code).toBe(1);
  expect(result.err).toMatch(/the server, probably OpenSearch Dashboards, asks for an xsrf header this import did not send \(400: .*\): the import was made for Kibana \(header kbn-xsrf\): use the opensearch flavour \(--flavour opensearch\)/);
  expect(result.err).not.toMatch(/Kibana asks/);
});

test('--sigv4 without AWS credentials: what to set, exit 1, nothing sent', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'opensearch' });
  const url = await fake.start();
  const noCredentials = async () => {
    throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
  };
  const result = await run(['import', '--url', url, '--sigv4', '--region', 'eu-west-1', '--file', SMALL], { awsCredentials: noCredentials });
  expect(result.code).toBe(1);
  expect(result.err).toMatch(/no AWS credentials found: set AWS_PROFILE/);
  expect(fake.requests).toHaveLength(0);
});

test('a refused import (wrong password in the secret) is a runtime failure, exit 1, with what to check', async () => {
  secrets['arn:aws:secretsmanager:eu-west-1:123456789012:secret:stale-AAAAAA'] = JSON.stringify({ username: 'kibana_admin', password: 'old' });
  fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: kibanaAuth });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--secret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stale-AAAAAA', '--file', SMALL]);
  expect(result.code).toBe(1);
  expect(result.err).toMatch(/Kibana refused the import \(401: unable to authenticate user\): check the credentials in the secret/);
  expect(fake.objects.size).toBe(0);
});

test('a server echoing the credentials in its refusal: the CLI prints them redacted (basic auth and SigV4)', async () => {
  const echo = (r: { headers: Readonly<Record<string, string | string[] | undefined>> }) => {
    const authorization = String(r.headers.authorization);
    const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString();
    return { status: 401, message: `rejected Authorization: ${authorization} (decoded ${decoded})` };
  };
  fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: echo });
  const url = await fake.start();
  const basic = await run(['import', '--url', url, '--secret', SECRET_ARN, '--file', SMALL]);
  expect(basic.code).toBe(1);
  expect(basic.err).toContain('rejected Authorization: Basic [redacted] (decoded [redacted])');
  expect(basic.err).not.toMatch(/s3cret|a2liYW5h/);
  await fake.stop();

  fake = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: echo });
  const osUrl = await fake.start();
  const signed = await run(['import', '--url', osUrl, '--sigv4', '--region', 'eu-west-1', '--file', SMALL], { awsCredentials: async () => KEYS });
  expect(signed.code).toBe(1);
  expect(signed.err).toContain('rejected Authorization: AWS4-HMAC-SHA256 [redacted]');
  expect(signed.err).not.toMatch(/AKIDEXAMPLE|Signature=/);
});

test('a secret without credentials in it says what it must hold, exit 1', async () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:wrong-shape-CCCCCC';
  secrets[arn] = JSON.stringify({ user: 'kibana_admin', pass: 's3cret' });
  fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--secret', arn, '--file', SMALL]);
  expect(result.code).toBe(1);
  expect(result.err).toContain(`secret ${arn} has no non-empty string "apiKey" in its JSON value (basic auth: {"username": ..., "password": ...}`);
  expect(fake.requests).toHaveLength(0);
});

test('a secret that does not exist is named, with the region it was looked for in', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'kibana' });
  const url = await fake.start();
  const missing = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-BBBBBB';
  const result = await run(['import', '--url', url, '--secret', missing, '--file', SMALL]);
  expect(result.code).toBe(2);
  expect(result.err).toContain(`no secret ${missing} in eu-west-1`);
  expect(fake.requests).toHaveLength(0);
});

test.each([
  [['import', '--secret', SECRET_ARN, '--file', SMALL], /--url .* is required/],
  [['import', '--url', 'https://k.example.com', '--file', SMALL], /give the credentials: --secret <arn>.* or --sigv4/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN, '--sigv4', '--file', SMALL], /--secret or --sigv4, not both/],
  [['import', '--url', 'http://kibana.example.com', '--secret', SECRET_ARN, '--file', SMALL], /http:\/\/, which would send the credentials unencrypted/],
  [['import', '--url', 'https://admin:pw@k.example.com', '--secret', SECRET_ARN, '--file', SMALL], /must not contain user info/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN], /give what to import: --file/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN, '--file', join(dir, 'waf.json')], /--file must be an \.ndjson file/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN, '--file', join(dir, 'absent.ndjson')], /cannot read .*absent\.ndjson/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN, '--file', SMALL, '--index-pattern', 'waf-*'], /--file or the monitor's settings/],
  [['import', '--url', 'https://k.example.com', '--sigv4', '--flavour', 'kibana', '--region', 'eu-west-1', '--file', SMALL], /--flavour opensearch/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN, '--flavour', 'grafana', '--file', SMALL], /--flavour must be kibana or opensearch/],
  [['import', '--url', 'https://k.example.com', '--sigv4', '--engine', 'elasticsearch', '--region', 'eu-west-1', '--index-pattern', 'waf-*'], /--engine elasticsearch means Kibana/],
  [['import', '--url', 'https://k.example.com/api/saved_objects/_import', '--secret', SECRET_ARN, '--file', SMALL], /not an API or app path \(got \/api\/saved_objects\/_import\): give https:\/\/k\.example\.com$/m],
  [['import', '--url', 'https://k.example.com/s/ops/app/home', '--secret', SECRET_ARN, '--file', SMALL], /not an API or app path \(got \/s\/ops\/app\/home\): give https:\/\/k\.example\.com\/s\/ops$/m],
  [['import', '--url', 'https://search-waf-abc.eu-west-1.es.amazonaws.com/kibana', '--sigv4', '--file', SMALL], /serves Dashboards under \/_dashboards \(got \/kibana\)/],
  [['import', '--url', 'https://k.example.com', '--secret', SECRET_ARN, '--region', 'Ireland', '--file', SMALL], /--region must be an AWS region/],
  [['export', '--index-pattern', 'waf-*'], /--out <waf\.ndjson> is required/],
  [['export', '--out', join(dir, 'x.ndjson')], /give the monitor's settings/],
  [['export', '--out', join(dir, 'x.ndjson'), '--index-pattern', 'waf-*', '--apdex-ms', 'fast'], /--apdex-ms must be a number of milliseconds/],
  [['export', '--out', join(dir, 'x.ndjson'), '--index-pattern', 'waf-*', '--engine', 'solr'], /--engine must be one of/],
  [['export', '--out', join(dir, 'x.ndjson'), '--index-pattern', 'waf-*', '--field-host', ''], /--field-host must not be empty/],
  [['export', '--out', join(dir, 'x.ndjson'), '--config', SMALL, '--field-host', 'host.name'], /--config holds the settings: leave out --field-host/],
  [['export', '--out', join(dir, 'x.ndjson'), '--config', NOT_A_CONFIG], /is not a collector configuration \(COLLECTOR_CONFIG\): endpoint must be a non-empty string/],
  [['export', '--out', join(dir, 'x.ndjson'), '--url', 'https://k.example.com', '--index-pattern', 'waf-*'], /export takes no --url/],
  [['export', '--out', join(dir, 'x.ndjson'), '--index-pattern', 'waf-*', '--colour', 'red'], /unknown option --colour/],
  [['publish'], /unknown dashboards command "publish"/],
])('%j is refused before any credentials are read, exit 2', async (argv, message) => {
  const result = await run(argv as string[], { awsCredentials: async () => { throw new Error('credentials read'); } });
  expect(result.err).toMatch(message);
  expect(result.code).toBe(2);
  expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
});

test('the CLI routes `dashboards` to the command; --help prints its usage with the collector configuration one-liner', async () => {
  const out: string[] = [];
  const code = await main(['dashboards', '--help'], { stdout: (t) => out.push(t), stderr: () => undefined });
  expect(code).toBe(0);
  expect(out.join('\n')).toContain("aws lambda get-function-configuration --function-name <collector function> \\\n        --query 'Environment.Variables.COLLECTOR_CONFIG' --output text > collector-config.json");
  expect(out.join('\n')).toContain('--field-latency-ms <name>');
});
