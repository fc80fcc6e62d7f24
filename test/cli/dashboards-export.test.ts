import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { mockClient } from 'aws-sdk-client-mock';
import { runDashboards } from '../../src/cli/dashboards-command';
import { ElasticCredentials, ElasticWafMonitorProps, SearchEngine } from '../../src/elastic-monitoring';
import { monitorSettings } from '../../src/elastic-monitoring/monitor-settings';
import { FakeSavedObjectsApi } from '../support/fake-saved-objects-api';
import { sigV4Problem } from '../support/sigv4-verifier';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:waf-es-AbCdEf';
const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const DOMAIN_ARN = 'arn:aws:es:eu-west-1:123456789012:domain/waf-logs';

/** Secrets Manager answering from the request's SecretId. */
const secrets: Record<string, string> = { [SECRET_ARN]: JSON.stringify({ username: 'elastic', password: 'changeme' }) };
const sm = mockClient(SecretsManagerClient);
sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
  const value = secrets[input.SecretId];
  if (value === undefined) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException', $metadata: {} });
  return { ARN: input.SecretId, SecretString: value };
});
afterAll(() => sm.restore());

const basicAuth = (req: { headers: Readonly<Record<string, string | string[] | undefined>> }) =>
  req.headers.authorization === `Basic ${Buffer.from('elastic:changeme').toString('base64')}` ? undefined : 'unable to authenticate user';

const dir = mkdtempSync(join(tmpdir(), 'dashboards-export-'));

/** The collector function's COLLECTOR_CONFIG exactly as the construct writes it, saved as the one-liner would save it. */
function collectorConfigFile(name: string, props: Partial<ElasticWafMonitorProps>): string {
  const stack = new Stack(undefined, 'Shop', { env: { account: '123456789012', region: 'eu-west-1' } });
  const { config } = monitorSettings(stack, {
    endpoint: 'https://waf-logs.es.example.com:9243',
    indexPattern: 'waf-requests-*',
    credentials: ElasticCredentials.basicAuth(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET_ARN)),
    ...props,
  } as ElasticWafMonitorProps, 'Monitor');
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function run(argv: string[], deps = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDashboards(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, deps);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {
  id: string; type: string; attributes: Record<string, unknown>; references: Array<{ id: string; type: string }>;
});

let fake: FakeSavedObjectsApi;
afterEach(async () => fake?.stop());

test('Kibana: export from the collector configuration, import with the secret: every object created, none dangling; again: all updated', async () => {
  const config = collectorConfigFile('es-config.json', { fields: { host: 'host.name', latencyMs: 'event.duration_ms' } });
  const out = join(dir, 'kibana.ndjson');
  const exported = await run(['export', '--config', config, '--out', out]);
  expect(exported).toMatchObject({ code: 0, err: '' });
  const objects = lines(out);
  expect(exported.out).toBe(`${objects.length} saved objects for Kibana written to ${out}`);
  expect(new Set(objects.map((o) => o.type))).toEqual(new Set(['index-pattern', 'lens', 'search', 'dashboard']));
  expect(JSON.stringify(objects)).toContain('host.name');
  expect(objects.find((o) => o.type === 'index-pattern')?.attributes.title).toBe('waf-requests-*');

  fake = new FakeSavedObjectsApi({ flavour: 'kibana', authenticate: basicAuth });
  const url = await fake.start();
  const first = await run(['import', '--url', url, '--secret', SECRET_ARN, '--file', out]);
  expect(first.err).toBe('');
  expect(first.code).toBe(0);
  expect(first.out).toContain(`${objects.length} created, 0 updated, 0 failed`);
  expect(fake.objects.size).toBe(objects.length);
  expect(fake.danglingReferences()).toEqual([]);

  const second = await run(['import', '--url', url, '--secret', SECRET_ARN, '--file', out]);
  expect(second.code).toBe(0);
  expect(second.out).toContain(`0 created, ${objects.length} updated, 0 failed`);
  expect(fake.objects.size).toBe(objects.length);
});

test('Amazon OpenSearch Service: the engine in the configuration picks OpenSearch Dashboards; import with SigV4 under /_dashboards', async () => {
  const config = collectorConfigFile('aos-config.json', {
    endpoint: 'https://search-waf-logs-abc.eu-west-1.es.amazonaws.com',
    engine: SearchEngine.amazonOpenSearchService({ domainArn: DOMAIN_ARN }),
    credentials: undefined,
  });
  const out = join(dir, 'opensearch.ndjson');
  expect((await run(['export', '--config', config, '--out', out])).out).toMatch(/saved objects for OpenSearch Dashboards written/);
  const objects = lines(out);
  expect(new Set(objects.map((o) => o.type))).toEqual(new Set(['index-pattern', 'visualization', 'search', 'dashboard']));

  fake = new FakeSavedObjectsApi({
    flavour: 'opensearch',
    basePath: '/_dashboards',
    authenticate: (req) => {
      const problem = sigV4Problem(req, { ...KEYS, region: 'eu-west-1', service: 'es' });
      return problem === undefined ? undefined : { status: 403, message: problem };
    },
  });
  const url = await fake.start();
  // Generated again from the configuration rather than from the file: the same objects.
  const result = await run(['import', '--url', url, '--sigv4', '--region', 'eu-west-1', '--config', config], { awsCredentials: async () => KEYS });
  expect(result.err).toBe('');
  expect(result.code).toBe(0);
  expect(result.out).toContain(`${objects.length} created, 0 updated, 0 failed`);
  expect([...fake.objects.keys()].sort()).toEqual(objects.map((o) => `${o.type}:${o.id}`).sort());
  const dashboard = objects.find((o) => o.type === 'dashboard')!;
  expect(result.out).toContain(`Dashboard: ${url}/app/dashboards#/view/${dashboard.id}`);
  expect(fake.danglingReferences()).toEqual([]);
  expect(fake.requests[0].headers['osd-xsrf']).toBe('true');
});

test('from the flags: --flavour overrides the engine, the field flags reach the objects, "-" writes to standard output', async () => {
  const printed = await run(['export', '--out', '-', '--index-pattern', 'waf-*', '--field-status', 'waf.action', '--status-blocked', 'BLOCK', '--flavour', 'opensearch']);
  expect(printed.code).toBe(0);
  const objects = printed.out.split('\n').map((l) => JSON.parse(l) as { type: string });
  expect(objects.some((o) => o.type === 'lens')).toBe(false);
  expect(printed.out).toContain('waf.action');
  expect(printed.out).toContain('BLOCK');

  fake = new FakeSavedObjectsApi({ flavour: 'opensearch', authenticate: basicAuth });
  const url = await fake.start();
  const imported = await run(['import', '--url', url, '--secret', SECRET_ARN, '--flavour', 'opensearch', '--index-pattern', 'waf-*', '--field-status', 'waf.action']);
  expect(imported.code).toBe(0);
  expect(fake.danglingReferences()).toEqual([]);
});

test('Kibana objects into a Kibana older than they are: each object fails with the migrator\'s reason, exit 1', async () => {
  fake = new FakeSavedObjectsApi({ flavour: 'kibana', version: '8.7.1', authenticate: basicAuth });
  const url = await fake.start();
  const result = await run(['import', '--url', url, '--secret', SECRET_ARN, '--index-pattern', 'waf-*']);
  expect(result.code).toBe(1);
  expect(result.out).toMatch(/FAILED\s+dashboard\s+\S+\s+.*more recent version of Kibana \[8\.8\.0\]\. The current version is \[8\.7\.1\]/);
  expect(result.out).toMatch(/0 created, 0 updated, \d+ failed/);
});
