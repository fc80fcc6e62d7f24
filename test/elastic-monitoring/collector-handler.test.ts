import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { clusterOf, nodeStats, nodesStatsBody, securityExceptionBody, testConfig } from './es-fixtures';
import { MockCluster, unauthorized } from './mock-cluster';
import { createCollectorHandler } from '../../src/elastic-monitoring/collector.lambda';
import { COLLECTOR_CONFIG_ENV, CollectorConfig } from '../../src/elastic-monitoring/runtime/config';
import { Log, powertoolsLog } from '../../src/shared/runtime/telemetry';

const secretsManager = mockClient(SecretsManagerClient);
const event = { time: '2026-11-21T12:07:30Z' };

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The handler against `cluster` served over HTTP as Elasticsearch 8; an endpoint in the overrides is kept. */
async function setup(configOverrides: Partial<CollectorConfig> = {}, cluster = healthy()) {
  const server = await cluster.listen({ engine: 'elasticsearch-8' });
  servers.push(server);
  const config = testConfig({ endpoint: server.endpoint, allowInsecureHttp: true, ...configOverrides });
  const logs: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  const emf: any[] = [];
  const logger: Log = {
    info: (message, attributes) => logs.push({ level: 'info', message, attributes: attributes ?? {} }),
    warn: (message, attributes) => logs.push({ level: 'warn', message, attributes: attributes ?? {} }),
    error: (message, attributes) => logs.push({ level: 'error', message, attributes: attributes ?? {} }),
  };
  const handler = createCollectorHandler({
    secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
    logger,
    writeEmf: (line) => emf.push(JSON.parse(line)),
    env: { [COLLECTOR_CONFIG_ENV]: JSON.stringify(config) },
  });
  return { handler, logs, emf, cluster, config };
}

function healthy() {
  return new MockCluster()
    .serve(clusterOf([]))
    .onNodesStats(() => nodesStatsBody({ n: nodeStats('es-1', 5, 40, 100, 70) }));
}

const basicHeader = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

beforeEach(() => secretsManager.reset());

describe('collector handler', () => {
  test('reads the secret once for consecutive runs and authenticates with it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'waf-monitor', password: 'first' }) });
    const { handler, cluster, config } = await setup();
    const summary = await handler(event);
    await handler(event);
    const calls = secretsManager.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({ SecretId: config.credentials!.secretArn });
    expect(cluster.requests).toHaveLength(6);
    expect(new Set(cluster.requests.map((r) => r.authorization))).toEqual(new Set([basicHeader('waf-monitor', 'first')]));
    // the scheduled event's time, not the clock, places the window
    expect(summary).toEqual(expect.objectContaining({ windowStart: '2026-11-21T12:00:00.000Z', windowEnd: '2026-11-21T12:05:00.000Z', problems: [] }));
  });

  test('after a 401 the next run reads the secret again and uses the rotated password', async () => {
    secretsManager.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ username: 'waf-monitor', password: 'old' }) })
      .resolves({ SecretString: JSON.stringify({ username: 'waf-monitor', password: 'rotated' }) });
    const cluster = new MockCluster()
      .onMsearch(() => unauthorized(securityExceptionBody('waf-monitor', '/_msearch')))
      .onNodesStats(() => unauthorized(securityExceptionBody('waf-monitor', '/_nodes/stats')))
      .onClusterHealth(() => unauthorized(securityExceptionBody('waf-monitor', '/_cluster/health')));
    const { handler, emf } = await setup({}, cluster);
    const first = await handler(event);
    expect(first!.problems.map((p) => p.kind)).toEqual(['auth', 'auth', 'auth']);
    expect(emf[0].CollectorErrors).toBe(3);
    await handler(event);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(cluster.requests.slice(3).map((r) => r.authorization)).toEqual(Array(3).fill(basicHeader('waf-monitor', 'rotated')));
  });

  test('an API key secret is sent as an ApiKey header', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: 'a2V5aWQ6c2VjcmV0' }) });
    const { handler, cluster } = await setup({ credentials: { kind: 'apiKey', secretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:key-AbCdEf', apiKeyKey: 'apiKey' } });
    await handler(event);
    expect(cluster.requests[0].authorization).toBe('ApiKey a2V5aWQ6c2VjcmV0');
  });

  test('an unreadable secret is a logged collector error with a metric, not a failed invocation', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    const { handler, logs, emf, cluster } = await setup();
    await expect(handler(event)).resolves.toBeUndefined();
    expect(cluster.requests).toHaveLength(0);
    expect(logs).toEqual([expect.objectContaining({ level: 'error', attributes: expect.objectContaining({ event: 'collector-error', kind: 'secret' }) })]);
    expect(logs[0].message).toContain("can't find the specified secret");
    expect(emf).toHaveLength(1);
    expect(emf[0]).toEqual(expect.objectContaining({ Cluster: 'prod', CollectorErrors: 1 }));
  });

  test('a secret without the expected keys says which key is missing', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ user: 'x', password: 'y' }) });
    const { handler, logs } = await setup();
    await handler(event);
    expect(logs[0].message).toContain('no non-empty string "username"');
    expect(logs[0].message).not.toContain('"y"');
  });

  test('an endpoint with user info is refused before any request, and its password is not logged', async () => {
    const { handler, logs, cluster } = await setup({ endpoint: 'https://waf:s3cret@waf-logs.es.example.com:9243' });
    await expect(handler(event)).resolves.toBeUndefined();
    expect(cluster.requests).toHaveLength(0);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(logs).toEqual([expect.objectContaining({ level: 'error', attributes: expect.objectContaining({ kind: 'config' }) })]);
    expect(logs[0].message).toContain('must not contain user info');
    expect(JSON.stringify(logs)).not.toContain('s3cret');
  });

  test('through the shared Powertools adapter a problem is one JSON log line with its attributes', async () => {
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      const handler = createCollectorHandler({
        secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
        logger: powertoolsLog(new Logger({ serviceName: 'elastic-waf-monitor' })),
        writeEmf: () => undefined,
        env: { [COLLECTOR_CONFIG_ENV]: JSON.stringify(testConfig({ endpoint: 'https://waf:s3cret@es.example.com' })) },
      });
      await handler(event);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual(expect.objectContaining({
      level: 'ERROR', service: 'elastic-waf-monitor', event: 'collector-error', kind: 'config', source: 'configuration',
    }));
    expect(lines[0]).not.toContain('s3cret');
  });

  test('a broken configuration is logged once per run and never throws', async () => {
    const logs: string[] = [];
    const log = (m: string) => logs.push(m);
    const handler = createCollectorHandler({
      secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
      logger: { info: log, warn: log, error: log },
      writeEmf: () => undefined,
      env: { [COLLECTOR_CONFIG_ENV]: JSON.stringify({ ...testConfig(), topN: 0 }) },
    });
    await expect(handler(event)).resolves.toBeUndefined();
    expect(logs).toEqual([expect.stringContaining('topN must be an integer from 1 to 100')]);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
