import { spawn } from 'child_process';
import * as fs from 'fs';
import { createServer, IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { COLLECTOR_CONFIG_ENV } from '../../src/elastic-monitoring/runtime/config';
import { collectionWindow } from '../../src/elastic-monitoring/runtime/queries';
import { clusterOf, directFigures, nodeStats, nodesStatsBody, testConfig, wafDoc } from '../elastic-monitoring/es-fixtures';
import { MockCluster } from '../elastic-monitoring/mock-cluster';

const bundle = path.join(__dirname, '../../assets/elastic-monitoring/collector.lambda/index.js');
const time = '2026-11-21T12:07:30Z';

/**
 * The collector as deployed: the minified bundle (with undici, apache-arrow and OpenTelemetry's attribute names left
 * out) in a fresh Node.js process, talking HTTP to a local server that answers like Elasticsearch 8.
 */
test('the bundled collector runs a collection against an Elasticsearch-like HTTP server', async () => {
  expect(fs.existsSync(bundle)).toBe(true);
  const requests: Array<{ method: string; url: string; authorization?: string }> = [];
  let config = testConfig();
  const window = collectionWindow(new Date(time), config);
  const docs = Array.from({ length: 40 }, (_, i) =>
    wafDoc(new Date(window.start.getTime() + i * 5000), 10 + i, i % 10 === 0 ? 'blocked' : 'allowed', `h${i % 3}.example.com`));
  const cluster = clusterOf(docs);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
      // the searches as the bundled client sent them (NDJSON), answered by evaluating them over the documents
      const url = new URL(req.url!, 'http://localhost');
      const filterPath = url.searchParams.get('filter_path')?.split(',');
      const body = url.pathname.startsWith('/_msearch')
        ? cluster.msearch(raw.split('\n').filter(Boolean).map((line) => JSON.parse(line)))
        : url.pathname.startsWith('/_cluster/health')
          ? cluster.clusterHealth(filterPath)
          : nodesStatsBody({ n1: nodeStats('es-1', 12, 55, 1000, 400) });
      // The 8.x client refuses servers that do not say they are Elasticsearch.
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  config = testConfig({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, allowInsecureHttp: true });
  const script = `
    const { createCollectorHandler } = require(${JSON.stringify(bundle)});
    const emf = [], problems = [];
    const log = { info() {}, warn: (m, a) => problems.push([m, a]), error: (m, a) => problems.push([m, a]) };
    const handler = createCollectorHandler({
      secretsManager: { send: async () => ({ SecretString: JSON.stringify({ username: 'waf-monitor', password: 'pw' }) }) },
      logger: log,
      writeEmf: (line) => emf.push(JSON.parse(line)),
      env: { ${JSON.stringify(COLLECTOR_CONFIG_ENV)}: ${JSON.stringify(JSON.stringify(config))} },
    });
    handler({ time: ${JSON.stringify(time)} }).then(() => process.stdout.write(JSON.stringify({ emf, problems })));`;
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
    });
    const { emf, problems } = JSON.parse(out);
    expect(problems).toEqual([]);
    // exactly the three round trips: one _msearch, one _nodes/stats, one _cluster/health
    expect(requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'POST /_msearch', expect.stringMatching(/^GET \/_nodes\/stats/), 'GET /_cluster/health',
    ]);
    expect(requests.every((r) => r.authorization === `Basic ${Buffer.from('waf-monitor:pw').toString('base64')}`)).toBe(true);
    const names = emf.flatMap((e: any) => e._aws.CloudWatchMetrics.flatMap((m: any) => m.Metrics.map((x: any) => x.Name)));
    expect(names.length).toBeGreaterThan(5);
    expect(emf.some((e: any) => typeof e[names[0]] === 'number')).toBe(true);
    const clusterLine = emf.find((e: any) => e._aws.CloudWatchMetrics[0].Dimensions[0].length === 1);
    const direct = directFigures(docs, config, window);
    expect(clusterLine.RequestCount).toBe(40);
    expect(clusterLine.LatencyAverage).toBeCloseTo(direct.latencyAverageMs!, 6);
    expect(clusterLine.BlockedCount).toBe(4);
    expect(clusterLine.PartialRun).toBe(0);
    expect(clusterLine.ClusterStatus).toBe(0);
  } finally {
    server.close();
  }
});

/**
 * The bundle signing with the role's credentials (here from the environment, as Lambda provides them) against a fake
 * Amazon OpenSearch Service domain that checks every SigV4 signature: the signer, node:crypto hashing and the AWS
 * credential chain all work from the minified bundle.
 */
test('the bundled collector signs its requests for Amazon OpenSearch Service with the credentials of its environment', async () => {
  const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const window = collectionWindow(new Date(time), testConfig());
  const docs = Array.from({ length: 12 }, (_, i) => wafDoc(new Date(window.start.getTime() + i * 5000), 20, 'allowed', 'h.example.com'));
  const cluster = new MockCluster().serve(clusterOf(docs)).onNodesStats(() => nodesStatsBody({ n1: nodeStats('os-1', 12, 55, 1000, 400) }));
  const server = await cluster.listen({ engine: 'amazon-opensearch-service', sigV4: { ...keys, region: 'eu-west-1' } });
  const config = {
    ...testConfig({ endpoint: server.endpoint, allowInsecureHttp: true, engine: { kind: 'amazon-opensearch-service', region: 'eu-west-1' } }),
    credentials: undefined,
  };
  const script = `
    const { createCollectorHandler } = require(${JSON.stringify(bundle)});
    const emf = [], problems = [];
    const log = { info() {}, warn: (m, a) => problems.push([m, a]), error: (m, a) => problems.push([m, a]) };
    const handler = createCollectorHandler({
      secretsManager: { send: async () => { throw new Error('no secret is configured'); } },
      logger: log,
      writeEmf: (line) => emf.push(JSON.parse(line)),
      env: { ${JSON.stringify(COLLECTOR_CONFIG_ENV)}: ${JSON.stringify(JSON.stringify(config))} },
    });
    handler({ time: ${JSON.stringify(time)} }).then(() => process.stdout.write(JSON.stringify({ emf, problems })));`;
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
    });
    const { emf, problems } = JSON.parse(out);
    expect(problems).toEqual([]);
    expect(cluster.requests.map((r) => r.authorization)).toEqual([
      expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request/),
      expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request/),
      expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request/),
    ]);
    const clusterLine = emf.find((e: any) => e._aws.CloudWatchMetrics[0].Dimensions[0].length === 1);
    expect(clusterLine).toEqual(expect.objectContaining({ RequestCount: 12, CollectorErrors: 0, NodeCpuPercentMax: 12 }));
  } finally {
    await server.close();
  }
});
