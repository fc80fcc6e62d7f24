/**
 * The deployed handler over real HTTP against fakes of each engine: what reaches the wire (media types, SigV4),
 * how much of an answer is read, and what a run reports when the answer is not what it should be.
 */
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { errors } from '@elastic/elasticsearch';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { clusterOf, nodeStats, nodesStatsBody, testConfig, wafDoc } from './es-fixtures';
import { FakeEngine, MockCluster, StreamedAnswer, htmlBadGateway } from './mock-cluster';
import { createCollectorHandler } from '../../src/elastic-monitoring/collector.lambda';

import { COLLECTOR_CONFIG_ENV, CollectorConfig, regionOfEndpoint } from '../../src/elastic-monitoring/runtime/config';
import { BODY_EXCERPT_CHARS, ELASTIC_REASON_CHARS, bodyExcerpt, classifyError } from '../../src/shared/runtime/elastic/problems';
import { Log } from '../../src/shared/runtime/telemetry';

const secretsManager = mockClient(SecretsManagerClient);
const event = { time: '2026-11-21T12:07:30Z' };
const AWS_KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const docs = Array.from({ length: 40 }, (_, i) => wafDoc(new Date(Date.parse('2026-11-21T12:00:00Z') + i * 5_000), 10 + i, 'allowed', `h${i % 3}.example.com`));

function healthy() {
  return new MockCluster()
    .serve(clusterOf(docs))
    .onNodesStats(() => nodesStatsBody({ n1: nodeStats('node-1', 5, 40, 100, 70) }));
}

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  secretsManager.reset();
});

async function runHandler(
  fake: FakeEngine,
  cluster: MockCluster,
  overrides: Record<string, unknown>,
  awsKeys: { accessKeyId: string; secretAccessKey: string } = AWS_KEYS,
) {
  const server = await cluster.listen({ engine: fake, sigV4: { ...AWS_KEYS, region: 'eu-west-1' } });
  servers.push(server);
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'waf-monitor', password: 's3cret' }) });
  const config = { ...testConfig(), endpoint: server.endpoint, allowInsecureHttp: true, ...overrides } as CollectorConfig;
  const logs: Array<{ level: string; message: string; attributes: Record<string, any> }> = [];
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
    awsCredentials: async () => awsKeys,
  });
  const summary = await handler(event);
  const cluster0 = emf.find((l) => l._aws.CloudWatchMetrics[0].Dimensions[0].length === 1);
  return { summary, logs, emf, cluster0, server };
}

describe('OpenSearch and Amazon OpenSearch Service', () => {
  test('self-managed OpenSearch 2 with basic auth: a clean run with the window figures and node figures', async () => {
    const cluster = healthy();
    const { summary, cluster0 } = await runHandler('opensearch-2', cluster, { engine: { kind: 'opensearch' } });
    expect(summary!.problems).toEqual([]);
    expect(cluster0).toEqual(expect.objectContaining({ RequestCount: 40, CollectorErrors: 0, NodeCpuPercentMax: 5 }));
    expect(cluster.requests.map((r) => r.authorization)).toEqual([
      `Basic ${Buffer.from('waf-monitor:s3cret').toString('base64')}`,
      `Basic ${Buffer.from('waf-monitor:s3cret').toString('base64')}`,
      `Basic ${Buffer.from('waf-monitor:s3cret').toString('base64')}`,
    ]);
  });

  test('plain media types only: the Elasticsearch 7.17 and OpenSearch fakes refuse the 8.x client\'s vendor types, and the collector sends none', async () => {
    const cluster = healthy();
    const { summary } = await runHandler('elasticsearch-7.17', cluster, {});
    expect(summary!.problems).toEqual([]);
    expect(cluster.requests.find((r) => r.path === '/_msearch')!.contentType).toBe('application/x-ndjson');
    for (const fake of ['elasticsearch-7.17', 'opensearch-2'] as const) {
      const server = await new MockCluster().serve(clusterOf(docs)).listen({ engine: fake });
      servers.push(server);
      const answer = await fetch(`${server.endpoint}/_msearch`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8', 'accept': 'application/vnd.elasticsearch+json; compatible-with=8' },
        body: '{}\n{"size":0}\n',
      });
      expect(answer.status).toBe(fake === 'opensearch-2' ? 406 : 400);
    }
  });

  test('the Elasticsearch engine against an OpenSearch endpoint: one config problem per request naming the prop to set', async () => {
    const { summary, cluster0, logs } = await runHandler('opensearch-2', healthy(), {});
    expect(summary!.problems.map((p) => p.kind)).toEqual(['config', 'config', 'config']);
    expect(summary!.problems[0].message).toContain('without the "x-elastic-product: Elasticsearch" header');
    expect(summary!.problems[0].message).toContain('SearchEngine.openSearch()');
    expect(cluster0.CollectorErrors).toBe(3);
    expect(logs.filter((l) => l.level === 'error')).toHaveLength(3);
  });

  test('the OpenSearch engine against an Elasticsearch endpoint says to select Elasticsearch', async () => {
    const { summary } = await runHandler('elasticsearch-8', healthy(), { engine: { kind: 'opensearch' } });
    expect(summary!.problems.map((p) => p.kind)).toEqual(['config', 'config', 'config']);
    expect(summary!.problems[0].message).toContain('set engine to SearchEngine.elasticsearch()');
  });

  test('Amazon OpenSearch Service: SigV4 for service es and the configured region, no secret read', async () => {
    const cluster = healthy();
    const { summary, cluster0 } = await runHandler('amazon-opensearch-service', cluster, {
      engine: { kind: 'amazon-opensearch-service', region: 'eu-west-1' },
      credentials: undefined,
    });
    expect(summary!.problems).toEqual([]);
    expect(cluster0).toEqual(expect.objectContaining({ RequestCount: 40, NodeHeapUsedPercentMax: 40 }));
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    for (const r of cluster.requests) {
      expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request, ?SignedHeaders=[^,]*host[^,]*x-amz-date/);
    }
  });

  test('a signature with the wrong key is refused by the fake, and the problem says what to check on the role', async () => {
    const { summary } = await runHandler(
      'amazon-opensearch-service',
      healthy(),
      { engine: { kind: 'amazon-opensearch-service', region: 'eu-west-1' }, credentials: undefined },
      { ...AWS_KEYS, secretAccessKey: 'not-the-key' },
    );
    expect(summary!.problems.map((p) => p.kind)).toEqual(['auth', 'auth', 'auth']);
    expect(summary!.problems[0].message).toContain('HTTP 403 (The request signature we calculated does not match');
    expect(summary!.problems[0].message).toContain('es:ESHttpGet and es:ESHttpPost');
  });

  test('a signature for the wrong region is refused', async () => {
    const { summary } = await runHandler('amazon-opensearch-service', healthy(), {
      engine: { kind: 'amazon-opensearch-service', region: 'us-east-1' },
      credentials: undefined,
    });
    expect(summary!.problems.map((p) => p.kind)).toEqual(['auth', 'auth', 'auth']);
    expect(summary!.problems[0].message).toContain('credential scope region us-east-1, expected eu-west-1');
  });

  test('Serverless: one signed _msearch for service aoss, no _nodes/stats, and no error for the missing node figures', async () => {
    const cluster = healthy();
    const { summary, cluster0, emf } = await runHandler('amazon-opensearch-serverless', cluster, {
      engine: { kind: 'amazon-opensearch-serverless', region: 'eu-west-1' },
      credentials: undefined,
    });
    expect(summary!.problems).toEqual([]);
    expect(cluster.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /_msearch']);
    expect(cluster.requests[0].authorization).toContain('/eu-west-1/aoss/aws4_request');
    expect(cluster0).toEqual(expect.objectContaining({ RequestCount: 40, CollectorErrors: 0 }));
    expect(cluster0).not.toHaveProperty('NodeCpuPercentMax');
    expect(emf.some((l) => 'Node' in l)).toBe(false);
  });

  test('the region comes from an AWS endpoint when not configured; a custom endpoint without one is a config problem', async () => {
    expect(regionOfEndpoint('https://search-waf-logs-abc123.eu-west-1.es.amazonaws.com')).toBe('eu-west-1');
    expect(regionOfEndpoint('https://vpc-waf-logs-abc123.ap-southeast-2.es.amazonaws.com:443')).toBe('ap-southeast-2');
    expect(regionOfEndpoint('https://0abc1def2.us-gov-west-1.aoss.amazonaws.com')).toBe('us-gov-west-1');
    expect(regionOfEndpoint('https://logs.example.com')).toBeUndefined();
    const { summary, logs } = await runHandler('amazon-opensearch-service', healthy(), {
      engine: { kind: 'amazon-opensearch-service' },
      credentials: undefined,
    });
    expect(summary).toBeUndefined();
    expect(logs[0].attributes.kind).toBe('config');
    expect(logs[0].message).toContain('SearchEngine.amazonOpenSearchService({ region })');
  });
});

describe('bounded answers', () => {
  const LIMIT = 1024 * 1024;

  test.each([false, true])('a 64 MB answer (length declared: %s) is abandoned near the 1 MiB limit: a collector error naming the limit and the request', async (declareLength) => {
    const cluster = healthy().onMsearch(() => new StreamedAnswer(64 * 1024 * 1024, declareLength));
    const { summary, server, cluster0 } = await runHandler('elasticsearch-8', cluster, { maxResponseBytes: LIMIT });
    const problem = summary!.problems.find((p) => p.source === '_msearch')!;
    expect(problem.kind).toBe('response');
    expect(problem.message).toContain('response size limit of 1 MiB (1048576 bytes)');
    expect(problem.message).toContain('POST /_msearch');
    const read = Number(/abandoned after (\d+) bytes/.exec(problem.message)![1]);
    // Read: at most one chunk past the limit (none when the length was declared too large).
    if (declareLength) expect(read).toBe(0);
    else expect(read).toBeGreaterThan(LIMIT);
    expect(read).toBeLessThanOrEqual(LIMIT + 64 * 1024);
    // The server could not push the rest: the client stopped reading and closed the connection. What got out is the
    // limit plus what the sockets' buffers held, far below the 64 MB answer.
    await new Promise((r) => setTimeout(r, 50));
    expect(server.bytesWritten[0]).toBeLessThan(LIMIT + 16 * 1024 * 1024);
    // The node figures of the same run still arrive.
    expect(cluster0).toEqual(expect.objectContaining({ CollectorErrors: 1, NodeCpuPercentMax: 5 }));
  });

  test.each([
    ['_nodes/stats', 'GET /_nodes/stats/process,os,jvm,fs,thread_pool', '4 MiB (4194304 bytes)', 4 * 1024 * 1024],
    ['_cluster/health', 'GET /_cluster/health', '64 KiB (65536 bytes)', 64 * 1024],
  ])('an oversized %s answer is abandoned near its own limit, far below the _msearch one, and the problem names it', async (source, described, named, limit) => {
    const oversized = () => new StreamedAnswer(64 * 1024 * 1024, false);
    const cluster = source === '_nodes/stats' ? healthy().onNodesStats(oversized) : healthy().onClusterHealth(oversized);
    const { summary, server, cluster0 } = await runHandler('elasticsearch-8', cluster, {});
    const problem = summary!.problems.find((p) => p.source === source)!;
    expect(problem.kind).toBe('response');
    expect(problem.message).toContain(`response size limit of ${named}`);
    expect(problem.message).toContain(described);
    const read = Number(/abandoned after (\d+) bytes/.exec(problem.message)![1]);
    expect(read).toBeGreaterThan(limit);
    expect(read).toBeLessThanOrEqual(limit + 64 * 1024);
    await new Promise((r) => setTimeout(r, 50));
    expect(Math.max(...server.bytesWritten)).toBeLessThan(limit + 8 * 1024 * 1024);
    // The window figures of the same run still arrive.
    expect(cluster0).toEqual(expect.objectContaining({ CollectorErrors: 1, RequestCount: 40 }));
  });

  test('the default limit is 16 MiB and documented as such in the README', async () => {
    const cluster = healthy().onMsearch(() => new StreamedAnswer(40 * 1024 * 1024, false));
    const { summary, server } = await runHandler('elasticsearch-8', cluster, {});
    expect(summary!.problems[0].message).toContain('response size limit of 16 MiB (16777216 bytes)');
    await new Promise((r) => setTimeout(r, 50));
    expect(server.bytesWritten[0]).toBeLessThan(32 * 1024 * 1024);
    const readme = readFileSync(`${__dirname}/../../README.md`, 'utf8');
    expect(readme).toContain('16 MiB');
  });
});

describe('error bodies that are not Elasticsearch errors', () => {
  test('an Elasticsearch error with a 40,000-character reason is logged cut to the limit, with its length', async () => {
    const reason = 'a'.repeat(40_000);
    const cluster = healthy().onMsearch(() => new errors.ResponseError({
      body: { error: { type: 'x', reason }, status: 500 }, statusCode: 500, headers: {}, warnings: null, meta: {} as any,
    }));
    const { summary, logs } = await runHandler('elasticsearch-8', cluster, {});
    const problem = summary!.problems.find((p) => p.source === '_msearch')!;
    expect(problem.message).toBe(`_msearch failed with HTTP 500: x: ${'a'.repeat(ELASTIC_REASON_CHARS - 3)}... (40003 characters in all)`);
    const line = logs.find((l) => l.attributes.source === '_msearch')!;
    expect(line.message.length).toBeLessThan(ELASTIC_REASON_CHARS + 150);
  });

  test('a proxy\'s 40 kB HTML 502 page: the status and the start of the text, not the page', async () => {
    const cluster = healthy().onMsearch(() => htmlBadGateway());
    const { summary, logs } = await runHandler('elasticsearch-8', cluster, {});
    const problem = summary!.problems.find((p) => p.source === '_msearch')!;
    expect(problem.message).toContain('HTTP 502');
    expect(problem.message).toContain('502 Bad Gateway 502 Bad Gateway The upstream server did not answer.');
    expect(problem.message.length).toBeLessThan(BODY_EXCERPT_CHARS + 150);
    const line = logs.find((l) => l.attributes.source === '_msearch')!;
    expect(line.message).not.toContain('<');
    expect(line.message.length).toBeLessThan(BODY_EXCERPT_CHARS + 200);
  });

  test('the Elasticsearch client\'s ResponseError (as the report handler gets it) is cut the same way', () => {
    const page = htmlBadGateway().body;
    const error = new errors.ResponseError({ body: page, statusCode: 502, headers: {}, warnings: null, meta: {} as any });
    const problem = classifyError(error, 'search "weekly"', 'https://es.example.com');
    expect(problem.message).toMatch(/^search "weekly" failed with HTTP 502: 502 Bad Gateway/);
    expect(problem.message.length).toBeLessThan(BODY_EXCERPT_CHARS + 150);
  });

  test('an excerpt is short, has no markup and keeps a short text whole', () => {
    fc.assert(fc.property(fc.string({ maxLength: 2_000 }), fc.array(fc.constantFrom('<p>', '</div>', '<br/>', '\n', '  ', '<script>x()</script>'), { maxLength: 50 }), (text, tags) => {
      const mixed = tags.map((t, i) => `${t}${text.slice(i * 40, i * 40 + 40)}`).join('') + text;
      const excerpt = bodyExcerpt(mixed);
      expect(excerpt.length).toBeLessThanOrEqual(BODY_EXCERPT_CHARS + 40);
      expect(excerpt).not.toMatch(/\s{2}/);
      expect(excerpt).not.toContain('<');
    }));
    expect(bodyExcerpt('Service Unavailable')).toBe('Service Unavailable');
  });
});
