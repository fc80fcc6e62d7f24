import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { GetMetricStatisticsCommand, GetMetricStatisticsCommandInput, CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient, GetCostAndUsageCommand, GetCostAndUsageCommandInput } from '@aws-sdk/client-cost-explorer';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Workbook } from 'exceljs';
import { Doc, ES_SECRET, FakeElastic, elasticSourceConfig } from './fake-elastic';
import { HOSTILE, historyRows } from './fixtures';
import { HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { awsOutputs, reportSources } from '../../src/reporting/runtime/aws-adapters';
import { FINISH_RESERVE_MS, REPORT_CONFIG_ENV, ReportConfig } from '../../src/reporting/runtime/config';
import { dayPeriod } from '../../src/reporting/runtime/period';
import { createReportHandler } from '../../src/reporting/runtime/report-handler';
import { runReport } from '../../src/reporting/runtime/report-run';
import { LocalDynamo } from '../support/local-aws';
import { LocalS3, LocalSes } from '../support/local-mail-s3';

const BUCKET = 'waf-reports';
const BILLING_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:elastic/billing-AbCdEf';

/** WAF documents of Nov 30th, Berlin time, for two customers; one outside the day. */
function wafDocs(): Doc[] {
  const doc = (at: string, customer: string, host: string, status: number, latency: number, ip: string, extra: Doc = {}): Doc => ({
    '@timestamp': at,
    'waf': { latency_ms: latency, customer, status: 'allowed', ...extra },
    'url': { domain: host },
    'client': { ip },
    'http': { request: { bytes: 2_000 }, response: { bytes: 1_500_000, status_code: status } },
  });
  return [
    doc('2026-11-29T23:10:00Z', 'acme', 'www.acme.example', 200, 10, '192.0.2.1'),
    doc('2026-11-30T08:10:00Z', 'acme', 'www.acme.example', 200, 20, '192.0.2.1'),
    doc('2026-11-30T08:20:00Z', 'acme', 'api.acme.example', 500, 400, '192.0.2.2', { breach: 'card-number' }),
    doc('2026-11-30T12:00:00Z', HOSTILE, `${HOSTILE}.example`, 403, 5, '2001:db8::1'),
    doc('2026-11-30T23:30:00Z', 'acme', 'www.acme.example', 200, 10, '192.0.2.1'),
    // Within the 30-day traffic window only.
    doc('2026-11-10T10:00:00Z', 'acme', 'old.acme.example', 200, 10, '192.0.2.9'),
  ];
}

function historyItems() {
  return historyRows().map((r) => {
    const iso = new Date(r.at).toISOString();
    return {
      ip: r.ip,
      at: `${iso}#${r.event}#${r.ruleId}`,
      day: iso.slice(0, 10),
      event: r.event,
      ruleId: r.ruleId,
      host: r.host,
      action: r.action,
      observed: r.observed,
      threshold: r.threshold,
      windowSeconds: r.windowSeconds,
      firstSeenAt: r.at,
      crossedAt: r.at,
      blockedAt: r.blockedAt,
      blockedUntil: r.blockedUntil,
      expiresAt: Math.floor(r.at / 1000) + 90 * 86_400,
    };
  });
}

/**
 * The guard's BlockBudgetExceeded sums for service=edge, answered for the request's namespace, dimensions and time
 * range: 3 + 4 fall on 2026-11-30 in Berlin, the others just outside it.
 */
const budgetExceeded = [
  { at: Date.parse('2026-11-29T22:30:00Z'), sum: 100 },
  { at: Date.parse('2026-11-29T23:30:00Z'), sum: 3 },
  { at: Date.parse('2026-11-30T12:00:00Z'), sum: 4 },
  { at: Date.parse('2026-11-30T23:00:00Z'), sum: 100 },
];

/** Cost Explorer answering in pages like the real API, from the request's TimePeriod and GroupBy. */
function costExplorer(fail = false) {
  const ce = mockClient(CostExplorerClient);
  ce.on(GetCostAndUsageCommand).callsFake((input: GetCostAndUsageCommandInput) => {
    if (fail) throw Object.assign(new Error('User not enabled for cost explorer access'), { name: 'AccessDeniedException' });
    const period = { Start: input.TimePeriod!.Start, End: input.TimePeriod!.End };
    const group = (service: string, amount: string) => ({ Keys: [service], Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } } });
    const first = !input.NextPageToken;
    return {
      GroupDefinitions: input.GroupBy,
      ResultsByTime: [{ TimePeriod: period, Total: {}, Groups: first ? [group('Amazon CloudFront', '1234.5678'), group('AWS WAF', '100.01')] : [group('Amazon DynamoDB', '12.3')], Estimated: false }],
      DimensionValueAttributes: [],
      NextPageToken: first ? 'page-2' : undefined,
      $metadata: {},
    };
  });
  return ce;
}

async function billingServer(): Promise<{ server: Server; url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const url = new URL(req.url!, 'http://x');
    if (url.pathname !== '/api/v2/billing/organizations/org-42/costs/items' || req.headers.authorization !== 'ApiKey billing-key') {
      res.writeHead(403, { 'content-type': 'application/json', 'x-cloud-error-codes': 'organization.invalid_access' });
      res.end(JSON.stringify({ errors: [{ code: 'organization.invalid_access', message: 'no access' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      total_ecu: 612.5,
      products: [
        { type: 'elasticsearch', total_ecu: 512.25, product_line_items: [{ name: 'Hot storage', sku: 'gcp.es.datahot', total_ecu: 512.25, type: 'capacity', unit: 'hour', quantity: { value: 720, formatted_value: '720 hours' }, rate: { value: 0.71, formatted_value: '0.71 per hour' }, kind: 'elasticsearch', quantities: [] }] },
        { type: 'data_transfer', total_ecu: 100.25, product_line_items: [] },
      ],
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const secrets = {
  send: async (command: GetSecretValueCommand) => {
    const id = command.input.SecretId;
    if (id === ES_SECRET) return { SecretString: JSON.stringify({ apiKey: 'es-key' }) };
    if (id === BILLING_SECRET) return { SecretString: 'billing-key' };
    throw Object.assign(new Error(`Secrets Manager can't find the specified secret ${id}`), { name: 'ResourceNotFoundException' });
  },
} as never;

describe('report run against local S3, SES, DynamoDB, Elasticsearch and billing servers', () => {
  let dynamo: LocalDynamo;
  let s3: LocalS3;
  let ses: LocalSes;
  let billing: Awaited<ReturnType<typeof billingServer>>;
  let table: string;

  beforeAll(async () => {
    [dynamo, s3, ses, billing] = await Promise.all([LocalDynamo.start(), LocalS3.start(BUCKET), LocalSes.start(), billingServer()]);
    table = await dynamo.createTable('history', HISTORY_TABLE);
    const items = historyItems();
    for (let i = 0; i < items.length; i += 25) {
      await dynamo.doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
  });

  afterAll(async () => {
    await Promise.all([dynamo.stop(), s3.stop(), ses.stop(), new Promise((r) => billing.server.close(r))]);
  });

  beforeEach(() => ses.clear());

  function config(): ReportConfig {
    return {
      reportName: 'prod',
      timeZone: 'Europe/Berlin',
      sender: 'reports@example.com',
      recipients: ['security@example.com', 'ops@example.com'],
      prefix: 'waf/',
      guard: { historyTable: table, historyIndex: 'byDay', guardName: 'edge', metrics: { namespace: 'CdkWafGuard', dimensions: { service: 'edge' } } },
      elastic: elasticSourceConfig({ breachField: 'waf.breach' }),
      costs: { groupByDimension: 'SERVICE' },
      elasticBilling: { secretArn: BILLING_SECRET, apiKeyKey: 'apiKey', organizationId: 'org-42', endpoint: billing.url },
    };
  }

  function handler(elastic: FakeElastic, _ce: ReturnType<typeof costExplorer>, metrics: Array<[string, number]>) {
    const cw = mockClient(CloudWatchClient);
    cw.on(GetMetricStatisticsCommand).callsFake((input: GetMetricStatisticsCommandInput) => ({
      Datapoints: budgetExceeded
        .filter((p) => input.Namespace === 'CdkWafGuard' && input.MetricName === 'BlockBudgetExceeded'
          && JSON.stringify(input.Dimensions) === JSON.stringify([{ Name: 'service', Value: 'edge' }])
          && p.at >= input.StartTime!.getTime() && p.at < input.EndTime!.getTime())
        .map((p) => ({ Timestamp: new Date(p.at), Sum: p.sum })),
    }));
    return createReportHandler({
      env: { [REPORT_CONFIG_ENV]: JSON.stringify(config()) },
      clients: {
        doc: dynamo.doc,
        cloudwatch: new CloudWatchClient({}),
        secrets,
        costExplorer: new CostExplorerClient({}),
        elasticConnection: elastic.connection() as never,
      },
      outputs: () => awsOutputs(s3.client, ses.client, BUCKET),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { add: (name, value) => metrics.push([name, value]) },
      now: () => new Date('2026-12-01T01:00:00Z'),
    });
  }

  async function object(key: string): Promise<Buffer> {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  test('daily run: the email with both parts arrives, CSVs are in S3, nothing failed', async () => {
    const elastic = new FakeElastic(wafDocs());
    const metrics: Array<[string, number]> = [];
    const ce = costExplorer();
    const result = await handler(elastic, ce, metrics)({ kind: 'daily', day: '2026-11-30' });
    ce.restore();

    expect(result.problems).toEqual([]);
    expect(metrics).toEqual([['ReportFailures', 0]]);
    expect(elastic.searches.map((s) => s.index)).toEqual(['waf-*', 'waf-*', 'waf-*', 'waf-*']);

    const [mail] = await ses.received();
    expect(mail.messageId).toBe(result.messageId);
    expect(mail.from).toBe('reports@example.com');
    expect(mail.destination.to).toEqual(['security@example.com', 'ops@example.com']);
    expect(mail.subject).toBe('Daily WAF report 2026-11-30: prod - 4 requests, 3 blocks');
    expect(mail.body.html).toContain('<svg');
    expect(mail.body.html).not.toContain('<script>');
    expect(mail.body.html).toContain('&lt;script&gt;');
    expect(mail.body.text).toContain('2026-11-30 00:00 to 2026-12-01 00:00 (Europe/Berlin)');
    expect(mail.body.text).toContain('1,234,567');
    expect(mail.body.text).toMatch(/New-block budget spent \(offenders not blocked\)\s+7/);
    // Three requests that day for acme (23:10Z on the 29th is Nov 30th in Berlin; 23:30Z on the 30th is not).
    // Apdex T = 30 ms: 10 and 20 ms satisfied, 400 ms frustrated.
    expect(mail.body.text).toMatch(/acme\s+3\s+0\.667/);
    expect(mail.body.text).toMatch(/acme\s+api\.acme\.example\s+1\s+1/);

    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'waf/reports/daily/2026-11-30/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
    expect(keys).toEqual(expect.arrayContaining([
      'waf/reports/daily/2026-11-30/blocks.csv',
      'waf/reports/daily/2026-11-30/customers/acme.csv',
      'waf/reports/daily/2026-11-30/report.html',
      'waf/reports/daily/2026-11-30/report.txt',
    ]));
    expect(keys.some((k) => k!.includes('customers/_script_'))).toBe(true);
    const acme = (await object('waf/reports/daily/2026-11-30/customers/acme.csv')).toString();
    expect(acme.split('\r\n')).toEqual(['\uFEFF"hostname","requests","request_mb","response_mb"', '"www.acme.example",2,0.004,3', '"api.acme.example",1,0.002,1.5', '"old.acme.example",1,0.002,1.5', '']);
    const blocks = (await object('waf/reports/daily/2026-11-30/blocks.csv')).toString().split('\r\n');
    expect(blocks).toHaveLength(1 + 8 + 1);
    expect(blocks[1]).toMatch(/^"2026-11-29T23:00:00.000Z","BLOCKED","198\.51\.100\.7","login",/);
  });

  test('monthly run twice: costs from Cost Explorer (all pages) and the billing API; the yearly workbook rolls up idempotently', async () => {
    const elastic = new FakeElastic(wafDocs());
    for (let i = 0; i < 2; i++) {
      const metrics: Array<[string, number]> = [];
      const ce = costExplorer();
      const result = await handler(elastic, ce, metrics)({ kind: 'monthly', month: '2026-11' });
      expect(ce.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input)).toEqual([
        { TimePeriod: { Start: '2026-11-01', End: '2026-12-01' }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'], GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }] },
        expect.objectContaining({ NextPageToken: 'page-2' }),
      ]);
      ce.restore();
      expect(result.problems).toEqual([]);
    }
    expect(billing.requests.at(-1)!.url).toBe('/api/v2/billing/organizations/org-42/costs/items?from=2026-11-01T00%3A00%3A00Z&to=2026-12-01T00%3A00%3A00Z');
    const wb = new Workbook();
    await wb.xlsx.load((await object('waf/cost-reports/2026/Total_2026.xlsx')) as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('Total 2026')!;
    expect(ws.getCell('B12').value).toBe(1346.88);
    expect(ws.getCell('C12').value).toBe(612.5);
    expect(ws.getCell('D14').value).toEqual({ formula: 'SUM(D2:D13)', result: 1959.38 });
    const monthly = new Workbook();
    await monthly.xlsx.load((await object('waf/cost-reports/2026/2026-11.xlsx')) as unknown as ArrayBuffer);
    expect(monthly.getWorksheet('Costs 2026-11')!.getColumn(2).values).toEqual(expect.arrayContaining(['Amazon CloudFront', 'Amazon DynamoDB', 'elasticsearch', 'data_transfer']));
    const [mail] = (await ses.received()).slice(-1);
    expect(mail.subject).toBe('Monthly WAF report 2026-11: prod - 5 requests, 4 blocks, $1,959.38');
    expect(mail.body.text).toContain('$1,234.57');
  });

  test('Elasticsearch down, Cost Explorer refusing, SES rejecting: each counted and logged, the other outputs still written', async () => {
    const elastic = new FakeElastic(wafDocs());
    elastic.goDown();
    const ce = costExplorer(true);
    const metrics: Array<[string, number]> = [];
    const logged: Array<Record<string, unknown>> = [];
    const cfg = { ...config(), sender: '' };
    const result = await runReport({
      config: cfg,
      period: { ...dayPeriod('2026-11-30', 'Europe/Berlin'), kind: 'monthly', label: '2026-11' },
      now: new Date('2026-12-01T01:00:00Z'),
      sources: reportSources(cfg, {
        doc: dynamo.doc, secrets, costExplorer: new CostExplorerClient({}), elasticConnection: elastic.connection() as never,
      }),
      outputs: awsOutputs(s3.client, ses.client, BUCKET),
      log: { info: () => undefined, warn: () => undefined, error: (_m, extra) => logged.push(extra!) },
      metrics: { add: (name, value) => metrics.push([name, value]) },
    });
    ce.restore();
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:customers', 'cost-explorer', 'email']);
    expect(result.problems[0].message).toMatch(/cannot reach https:\/\/es\.example\.com:9243/);
    expect(result.problems[1].message).toMatch(/AccessDeniedException/);
    expect(result.problems[2].message).toMatch(/Bad Request/);
    expect(metrics).toEqual([['ReportFailures', 3]]);
    expect(logged.map((l) => l.event)).toEqual(['report-problem', 'report-problem', 'report-problem']);
    // Still written: the blocks CSV, the archived report naming the problems, and the Elastic-only cost workbook.
    expect(result.files).toEqual(expect.arrayContaining([
      `s3://${BUCKET}/waf/reports/monthly/2026-11/blocks.csv`,
      `s3://${BUCKET}/waf/reports/monthly/2026-11/report.html`,
      `s3://${BUCKET}/waf/cost-reports/2026/2026-11.xlsx`,
    ]));
    expect((await object('waf/reports/monthly/2026-11/report.txt')).toString()).toContain('Elasticsearch could not be read');
    expect(await ses.received()).toEqual([]);
  });

  test('a day that has not ended (the clock says 2026-12-01 02:00 in Berlin) is refused: no email, nothing archived', async () => {
    const sentBefore = (await ses.received()).length;
    for (const day of ['2026-12-01', '2099-01-01']) {
      const metrics: Array<[string, number]> = [];
      const elastic = new FakeElastic(wafDocs());
      const result = await handler(elastic, costExplorer(), metrics)({ kind: 'daily', day });
      expect(result.problems).toEqual([{
        source: 'request',
        message: `RangeError: the day ${day} has not ended yet in Europe/Berlin: report a past day; the last complete one is 2026-11-30`,
      }]);
      expect(result.files).toEqual([]);
      expect(metrics).toEqual([['ReportFailures', 1]]);
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `waf/reports/daily/${day}/` }));
      expect(listed.KeyCount ?? 0).toBe(0);
    }
    expect((await ses.received()).length).toBe(sentBefore);
  });

  test('a slow cluster and a short deadline: searches are cut to the time left, the rest left out, and the guard report still goes out', async () => {
    const elastic = new FakeElastic(wafDocs());
    // The timeline search would take a minute; the function has 3 s beyond the reserve for files and email.
    elastic.delay(60_000, (body) => body.aggs?.timeline !== undefined);
    const metrics: Array<[string, number]> = [];
    const ce = costExplorer();
    const started = Date.now();
    const result = await handler(elastic, ce, metrics)({ kind: 'daily', day: '2026-11-30' }, { getRemainingTimeInMillis: () => FINISH_RESERVE_MS + 3_000 });
    const took = Date.now() - started;
    ce.restore();

    // Both searches sent got the time left (about 3 s), not the configured 5 s; the timeline's ran out, and the others
    // were not sent at all.
    expect(elastic.timeouts).toHaveLength(2);
    for (const t of elastic.timeouts) expect(t).toBeGreaterThan(2_000);
    for (const t of elastic.timeouts) expect(t).toBeLessThanOrEqual(3_000);
    expect(took).toBeLessThan(5_000);
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:timeline', 'elastic:clientIps']);
    expect(result.problems[0].message).toMatch(/timed out/);
    expect(result.problems[1].message).toMatch(/^not run: clientIps, traffic: 0(\.\d)? s of the function's time was left before the last 60 s, which are kept to write the files and send the email$/);
    expect(metrics).toEqual([['ReportFailures', 2]]);

    const [mail] = await ses.received();
    expect(mail.messageId).toBe(result.messageId);
    expect(mail.subject).toBe('Daily WAF report 2026-11-30: prod - 4 requests, 3 blocks (2 problems)');
    expect(mail.body.text).toContain('not run: clientIps, traffic');
    expect(mail.body.text).toMatch(/acme\s+3\s+0\.667/);
    const blocks = (await object('waf/reports/daily/2026-11-30/blocks.csv')).toString().split('\r\n');
    expect(blocks).toHaveLength(1 + 8 + 1);
  });

  test('a deadline reached while paging customers: the pages before it are kept, the later searches left out', async () => {
    // 600 customers: three composite pages of 250, each taking 1.5 s; 4 s beyond the reserve fit one or two of them.
    const docs = Array.from({ length: 600 }, (_, i) => ({
      '@timestamp': '2026-11-30T10:00:00Z',
      'waf': { latency_ms: 10, customer: `c${String(i).padStart(3, '0')}`, status: 'allowed' },
      'url': { domain: `c${i}.example` },
    }));
    const elastic = new FakeElastic(docs);
    elastic.delay(1_500);
    const metrics: Array<[string, number]> = [];
    const ce = costExplorer();
    const result = await handler(elastic, ce, metrics)({ kind: 'daily', day: '2026-11-30' }, { getRemainingTimeInMillis: () => FINISH_RESERVE_MS + 4_000 });
    ce.restore();

    const answered = elastic.searches.length;
    expect(answered).toBeGreaterThanOrEqual(1);
    expect(answered).toBeLessThan(3);
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:customers', 'elastic:timeline']);
    expect(result.problems[0].message).toMatch(new RegExp(`^OutOfTimeError: .* kept to write the files and send the email; kept the first ${answered * 250} customers \\(by name\\) of the pages before it$`));
    expect(result.problems[1].message).toMatch(/^not run: timeline, clientIps, traffic: /);
    const [mail] = await ses.received();
    expect(mail.messageId).toBe(result.messageId);
    expect(mail.body.text).toContain(`cover ${answered * 250} of about 600 customers`);
  });

  test('a bad payload is counted as a failure, not thrown', async () => {
    const metrics: Array<[string, number]> = [];
    const result = await handler(new FakeElastic([]), costExplorer(), metrics)({ kind: 'daily', day: '30.11.2026' });
    expect(result.problems[0].message).toMatch(/YYYY-MM-DD/);
    expect(metrics).toEqual([['ReportFailures', 1]]);
  });
});
