import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { CostExplorerClient, GetCostAndUsageCommand, GetCostAndUsageCommandInput } from '@aws-sdk/client-cost-explorer';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { cached, evaluate, readXlsx, XlsxSheet } from './xlsx-reader';
import { awsOutputs, reportSources } from '../../src/reporting/runtime/aws-adapters';
import { ReportConfig } from '../../src/reporting/runtime/config';
import { parseCostRecord, serializeCostRecord } from '../../src/reporting/runtime/cost-record';
import { monthPeriod } from '../../src/reporting/runtime/period';
import { ReportResult, runReport } from '../../src/reporting/runtime/report-run';
import { monthlyCostWorkbook } from '../../src/reporting/runtime/workbook';
import { LocalS3, LocalSes } from '../support/local-mail-s3';

/**
 * A cost source that fails must not replace what an earlier run recorded: runs against s3rver (the workbooks and the
 * record), Cost Explorer through aws-sdk-client-mock and the Elastic Cloud billing API as a local HTTP server, each
 * answering from the request's month. Workbooks are read back from their XML, not through exceljs.
 */

const BUCKET = 'cost-reports';
const BILLING_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:elastic/billing-AbCdEf';
const MONTH = '2026-11';

/** What each source answers for a month: lines in cents, or a failure. */
interface Answer {
  readonly cents?: readonly number[];
  readonly estimated?: boolean;
}
const answers = { aws: new Map<string, Answer>(), elastic: new Map<string, Answer>() };

const ce = mockClient(CostExplorerClient);

function primeCostExplorer() {
  ce.reset();
  ce.on(GetCostAndUsageCommand).callsFake((input: GetCostAndUsageCommandInput) => {
    const answer = answers.aws.get(input.TimePeriod!.Start!.slice(0, 7));
    if (!answer?.cents) throw Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException' });
    return {
      ResultsByTime: [{
        TimePeriod: input.TimePeriod,
        Total: {},
        Groups: answer.cents.map((c, i) => ({ Keys: [`Service ${i}`], Metrics: { UnblendedCost: { Amount: (c / 100).toFixed(10), Unit: 'USD' } } })),
        Estimated: answer.estimated ?? false,
      }],
      $metadata: {},
    };
  });
}

async function billingServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const answer = answers.elastic.get((url.searchParams.get('from') ?? '').slice(0, 7));
    if (url.pathname !== '/api/v2/billing/organizations/org-7/costs/items' || req.headers.authorization !== 'ApiKey billing-key' || !answer?.cents) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'billing.unavailable', message: 'try again later' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ products: answer.cents.map((c, i) => ({ type: `product-${i}`, total_ecu: c / 100 })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const secrets = {
  send: async (command: GetSecretValueCommand) => {
    if (command.input.SecretId === BILLING_SECRET) return { SecretString: 'billing-key' };
    throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
  },
} as never;

let s3: LocalS3;
let ses: LocalSes;
let billing: Awaited<ReturnType<typeof billingServer>>;

beforeAll(async () => {
  [s3, ses, billing] = await Promise.all([LocalS3.start(BUCKET), LocalSes.start(), billingServer()]);
});

afterAll(async () => {
  ce.restore();
  await Promise.all([s3.stop(), ses.stop(), new Promise((r) => billing.server.close(r))]);
});

function config(prefix: string): ReportConfig {
  return {
    reportName: 'prod',
    timeZone: 'UTC',
    sender: 'reports@example.com',
    recipients: ['finance@example.com'],
    prefix,
    costs: { groupByDimension: 'SERVICE' },
    elasticBilling: { secretArn: BILLING_SECRET, apiKeyKey: 'apiKey', organizationId: 'org-7', endpoint: billing.url },
  };
}

async function run(prefix: string, now: string): Promise<ReportResult> {
  primeCostExplorer();
  const cfg = config(prefix);
  return runReport({
    config: cfg,
    period: monthPeriod(MONTH, 'UTC'),
    now: new Date(now),
    sources: reportSources(cfg, { secrets, costExplorer: new CostExplorerClient({ region: 'us-east-1' }) }),
    outputs: awsOutputs(s3.client, ses.client, BUCKET),
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { add: () => undefined },
  });
}

async function object(key: string): Promise<Buffer | undefined> {
  try {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (e) {
    if ((e as Error).name === 'NoSuchKey') return undefined;
    throw e;
  }
}

/** The figures both workbooks show, read from the files' XML. */
async function workbooks(prefix: string) {
  const monthFile = await object(`${prefix}cost-reports/2026/${MONTH}.xlsx`);
  const yearFile = await object(`${prefix}cost-reports/2026/Total_2026.xlsx`);
  const month = monthFile ? readXlsx(monthFile).get(`Costs ${MONTH}`)! : undefined;
  const year = yearFile ? readXlsx(yearFile).get('Total 2026')! : undefined;
  const rowWhere = (sheet: XlsxSheet, test: (a: string, b: string) => boolean) => {
    for (const [address, cell] of sheet) {
      const r = /^A(\d+)$/.exec(address)?.[1];
      if (r && test(cell.value ?? '', sheet.get(`B${r}`)?.value ?? '')) return Number(r);
    }
    return undefined;
  };
  const subtotal = (source: string) => {
    const r = month && rowWhere(month, (a, b) => a === source && b.startsWith('Subtotal'));
    return r ? { cents: cellCents(month!, `C${r}`), label: month!.get(`B${r}`)!.value! } : undefined;
  };
  const totalRow = month && rowWhere(month, (a) => a.startsWith('Total'));
  const novemberRow = 12;
  return {
    month: month && {
      aws: subtotal('AWS'),
      elastic: subtotal('Elastic Cloud'),
      totalLabel: month.get(`A${totalRow}`)!.value!,
      totalCents: cellCents(month, `C${totalRow}`),
      totalRecalculated: Math.round(evaluate(month, `C${totalRow}`) * 100),
      lines: [...month].filter(([a]) => /^B\d+$/.test(a)).map(([, c]) => c.value),
    },
    year: year && {
      aws: cellCents(year, `B${novemberRow}`),
      elastic: cellCents(year, `C${novemberRow}`),
      total: cellCents(year, `D${novemberRow}`),
      note: year.get(`E${novemberRow}`)?.value,
      yearLabel: year.get('A14')?.value,
    },
  };
}

function cellCents(sheet: XlsxSheet, address: string): number | undefined {
  const v = cached(sheet, address);
  return v === undefined ? undefined : Math.round(v * 100);
}

const emailTotal = (text: string) => /^ {2}(Total.*): \$([\d,]+\.\d\d)$/m.exec(text);

describe('a failed cost source keeps the recorded figures', () => {
  beforeEach(async () => {
    answers.aws.clear();
    answers.elastic.clear();
    await ses.clear();
  });

  test('Cost Explorer failing on a re-run: both workbooks keep the AWS figures of the first run, the email says partial and names it', async () => {
    answers.aws.set(MONTH, { cents: [12_000, 0] });
    answers.elastic.set(MONTH, { cents: [5_475] });
    const first = await run('ce/', '2026-12-01T06:00:00Z');
    expect(first.problems).toEqual([]);
    expect(emailTotal(first.email.text)!.slice(1)).toEqual(['Total', '174.75']);

    answers.aws.set(MONTH, {});
    const second = await run('ce/', '2026-12-02T06:00:00Z');
    expect(second.problems.map((p) => p.source)).toEqual(['cost-explorer']);

    const { month, year } = await workbooks('ce/');
    expect(month!.aws).toEqual({ cents: 12_000, label: 'Subtotal (last recorded 2026-12-01 06:00 UTC, Cost Explorer unavailable)' });
    expect(month!.lines).toEqual(expect.arrayContaining(['Service 0', 'Service 1', 'product-0']));
    expect(month!.elastic).toEqual({ cents: 5_475, label: 'Subtotal' });
    expect(month!.totalLabel).toBe('Total (partial: Cost Explorer unavailable)');
    expect(month!.totalCents).toBe(17_475);
    expect(month!.totalRecalculated).toBe(17_475);
    expect(year).toEqual({ aws: 12_000, elastic: 5_475, total: 17_475, note: 'Total (partial: Cost Explorer unavailable)', yearLabel: 'Year (partial: 2026-11)' });

    const [mail] = await ses.received().then((m) => m.slice(-1));
    expect(mail.body.text).toContain('Cost Explorer failed: the AWS figures are the last recorded ones, from 2026-12-01 06:00 UTC.');
    expect(emailTotal(mail.body.text!)!.slice(1)).toEqual(['Total (partial: Cost Explorer unavailable)', '174.75']);
    expect(mail.body.html).toContain('Total (partial: Cost Explorer unavailable): <b>$174.75</b>');
  });

  test('the Elastic Cloud billing API failing on a re-run: the Elastic figure stays in both workbooks', async () => {
    answers.aws.set(MONTH, { cents: [12_000] });
    answers.elastic.set(MONTH, { cents: [5_000, 475] });
    await run('billing/', '2026-12-01T06:00:00Z');
    answers.elastic.set(MONTH, {});
    answers.aws.set(MONTH, { cents: [13_000] });
    const second = await run('billing/', '2026-12-03T07:30:00Z');
    expect(second.problems.map((p) => p.source)).toEqual(['elastic-billing']);
    expect(second.problems[0].message).toMatch(/HTTP 503/);

    const { month, year } = await workbooks('billing/');
    expect(month!.aws).toEqual({ cents: 13_000, label: 'Subtotal' });
    expect(month!.elastic).toEqual({ cents: 5_475, label: 'Subtotal (last recorded 2026-12-01 06:00 UTC, Elastic Cloud billing API unavailable)' });
    expect(month!.totalLabel).toBe('Total (partial: Elastic Cloud billing API unavailable)');
    expect(year).toEqual({ aws: 13_000, elastic: 5_475, total: 18_475, note: 'Total (partial: Elastic Cloud billing API unavailable)', yearLabel: 'Year (partial: 2026-11)' });
    const text = (await ses.received()).at(-1)!.body.text!;
    expect(text).toContain('Elastic Cloud billing API failed: the Elastic Cloud figures are the last recorded ones, from 2026-12-01 06:00 UTC.');
    expect(emailTotal(text)!.slice(1)).toEqual(['Total (partial: Elastic Cloud billing API unavailable)', '184.75']);
  });

  test('a source that fails before anything was recorded is missing, not zero; the other source is still written', async () => {
    answers.elastic.set(MONTH, { cents: [5_475] });
    const result = await run('missing/', '2026-12-01T06:00:00Z');
    expect(result.problems.map((p) => p.source)).toEqual(['cost-explorer']);
    const { month, year } = await workbooks('missing/');
    expect(month!.aws).toEqual({ cents: undefined, label: 'Subtotal (missing, Cost Explorer unavailable)' });
    expect(month!.totalLabel).toBe('Total (partial: Cost Explorer unavailable)');
    expect(year).toEqual({ aws: undefined, elastic: 5_475, total: 5_475, note: 'Total (partial: Cost Explorer unavailable)', yearLabel: 'Year (partial: 2026-11)' });
    expect(result.email.text).toContain('Cost Explorer failed and no AWS figures were recorded for this month: they are missing from the total.');
  });

  test('an unreadable record and a failed source: the workbooks are left as they are, the email says why', async () => {
    answers.aws.set(MONTH, { cents: [12_000] });
    answers.elastic.set(MONTH, { cents: [5_475] });
    await run('corrupt/', '2026-12-01T06:00:00Z');
    const before = await Promise.all(['2026-11.xlsx', 'Total_2026.xlsx'].map((f) => object(`corrupt/cost-reports/2026/${f}`)));
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `corrupt/cost-reports/2026/${MONTH}.figures.json`, Body: '{"month":"2026-11","sources":{"aws":{"lines":"x"}}}' }));
    answers.aws.set(MONTH, {});
    const result = await run('corrupt/', '2026-12-02T06:00:00Z');
    expect(result.problems.map((p) => p.source)).toEqual(['cost-explorer', 'cost-record']);
    const after = await Promise.all(['2026-11.xlsx', 'Total_2026.xlsx'].map((f) => object(`corrupt/cost-reports/2026/${f}`)));
    expect(after).toEqual(before);
    expect(result.email.text).toContain('Cost Explorer failed and the recorded figures are not known to this run');
    expect(emailTotal(result.email.text)![1]).toBe('Total (partial: Cost Explorer unavailable)');
  });

  test('workbooks written before the record existed are left as they are when a source fails', async () => {
    const legacy = await monthlyCostWorkbook({ month: MONTH, aws: [{ source: 'AWS', item: 'Amazon CloudFront', amount: 120 }] });
    const key = `legacy/cost-reports/2026/${MONTH}.xlsx`;
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: legacy }));
    answers.elastic.set(MONTH, { cents: [5_475] });
    const result = await run('legacy/', '2026-12-02T06:00:00Z');
    expect(result.problems.map((p) => p.source)).toEqual(['cost-explorer']);
    expect(await object(key)).toEqual(legacy);
    expect(await object('legacy/cost-reports/2026/Total_2026.xlsx')).toBeUndefined();
    expect(result.email.text).toContain('Cost Explorer failed and the recorded figures are not known to this run');
  });

  test('an estimated month (Cost Explorer\'s Estimated flag) is labelled so in the email and both workbooks', async () => {
    answers.aws.set(MONTH, { cents: [12_000], estimated: true });
    answers.elastic.set(MONTH, { cents: [5_475] });
    const result = await run('estimated/', '2026-11-30T06:00:00Z');
    expect(result.problems).toEqual([]);
    const { month, year } = await workbooks('estimated/');
    expect(month!.aws!.label).toBe('Subtotal (estimated)');
    expect(month!.totalLabel).toBe('Total (estimated)');
    expect(year!.note).toBe('Total (estimated)');
    expect(year!.yearLabel).toBe('Year');
    expect(result.email.text).toContain('Cost Explorer marks this month as estimated: the AWS figures may still change.');
    expect(emailTotal(result.email.text)![1]).toBe('Total (estimated)');
  });

  test('model: after any sequence of runs every recorded figure is its source\'s last successful one; partial iff a source failed', async () => {
    let sequence = 0;
    const figures = fc.record({ cents: fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 3 }), estimated: fc.boolean() });
    // Undefined: the source fails in that run.
    const outcome = fc.option(figures, { nil: undefined, freq: 3 });
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ aws: outcome, elastic: outcome }), { minLength: 1, maxLength: 5 }), async (runs) => {
      const prefix = `model-${sequence++}/`;
      const model: { aws?: { cents: number; estimated: boolean }; elastic?: { cents: number } } = {};
      let day = 1;
      for (const planned of runs) {
        answers.aws.set(MONTH, { cents: planned.aws?.cents, estimated: planned.aws?.estimated });
        answers.elastic.set(MONTH, { cents: planned.elastic?.cents });
        const result = await run(prefix, `2026-12-${String(day++).padStart(2, '0')}T06:00:00Z`);
        if (planned.aws) model.aws = { cents: planned.aws.cents.reduce((a, b) => a + b, 0), estimated: planned.aws.estimated };
        if (planned.elastic) model.elastic = { cents: planned.elastic.cents.reduce((a, b) => a + b, 0) };
        const partial = !planned.aws || !planned.elastic;
        const total = (model.aws?.cents ?? 0) + (model.elastic?.cents ?? 0);

        const { month, year } = await workbooks(prefix);
        if (!model.aws && !model.elastic) {
          expect(month).toBeUndefined();
          expect(year).toBeUndefined();
        } else {
          expect(month!.aws!.cents).toBe(model.aws?.cents);
          expect(month!.elastic!.cents).toBe(model.elastic?.cents);
          expect(month!.totalCents).toBe(total);
          expect(month!.totalRecalculated).toBe(total);
          expect(month!.totalLabel.includes('partial')).toBe(partial);
          expect(month!.totalLabel.includes('estimated')).toBe(model.aws?.estimated === true);
          expect(year!.aws).toBe(model.aws?.cents);
          expect(year!.elastic).toBe(model.elastic?.cents);
          expect(year!.total).toBe(total);
          expect((year!.note ?? '').includes('partial')).toBe(partial);
        }
        const [, label, amount] = emailTotal(result.email.text)!;
        expect(Math.round(Number(amount.replace(/,/g, '')) * 100)).toBe(total);
        expect(label.includes('partial')).toBe(partial);
        expect(result.email.text.includes('Cost Explorer failed')).toBe(!planned.aws);
        expect(result.email.text.includes('Elastic Cloud billing API failed')).toBe(!planned.elastic);
      }
    }), { numRuns: 20 });
  }, 120_000);
});

describe('the cost record', () => {
  test('reads back what was written; another month or a malformed figure is an error, not "nothing recorded"', () => {
    const record = { month: MONTH, sources: { aws: { lines: [{ source: 'AWS' as const, item: 'Amazon CloudFront', amount: 0.0042 }], estimated: true, recordedAt: '2026-12-01T06:00:00.000Z' } } };
    expect(parseCostRecord(serializeCostRecord(record), MONTH)).toEqual(record);
    expect(() => parseCostRecord(serializeCostRecord(record), '2026-10')).toThrow(/not the record of 2026-10/);
    expect(() => parseCostRecord(JSON.stringify({ month: MONTH, sources: { elastic: { lines: [{ source: 'AWS', item: 'x', amount: 'NaN' }], recordedAt: 'x' } } }), MONTH)).toThrow(/expected shape/);
    expect(() => parseCostRecord('{', MONTH)).toThrow(SyntaxError);
  });
});
