import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ES_SECRET, FakeElastic, elasticSourceConfig } from './fake-elastic';
import { awsOutputs } from '../../src/reporting/runtime/aws-adapters';
import { MonthlyReportCheckConfig, REPORT_CONFIG_ENV, ReportConfig } from '../../src/reporting/runtime/config';
import { dueMonth, monthlyReportDueAt } from '../../src/reporting/runtime/monthly-report-check';
import { monthPeriod } from '../../src/reporting/runtime/period';
import { createReportHandler } from '../../src/reporting/runtime/report-handler';
import { ReportRequest } from '../../src/reporting/runtime/request';
import { LocalS3 } from '../support/local-mail-s3';

/**
 * A monthly run that never happened: each daily run looks for the last due monthly report in the bucket (s3rver here)
 * and publishes MonthlyReportMissing, and its email says so.
 */

const BUCKET = 'waf-reports';
/** The defaults: run at 04:30 on the 1st, 6 hours of retries, 5 minutes of timeout, 30 minutes of margin. */
const CHECK: MonthlyReportCheckConfig = { runTime: '04:30', dueAfterMinutes: 360 + 5 + 30 };

describe('when a monthly report is due', () => {
  test('the 1st at the run time in the report\'s zone, plus retries, timeout and margin; before that, the month before', () => {
    // 04:30 CET on Dec 1st is 03:30Z; 395 minutes later is 10:05Z (11:05 in Berlin).
    expect(monthlyReportDueAt(monthPeriod('2026-11', 'Europe/Berlin'), CHECK).toISOString()).toBe('2026-12-01T10:05:00.000Z');
    expect(dueMonth(new Date('2026-12-01T10:04:59.999Z'), 'Europe/Berlin', CHECK).month.label).toBe('2026-10');
    expect(dueMonth(new Date('2026-12-01T10:05:00.000Z'), 'Europe/Berlin', CHECK).month.label).toBe('2026-11');
    // New York leaves daylight saving time at 02:00 on Nov 1st: October's run at 04:30 is EST (UTC-5), not EDT.
    expect(monthlyReportDueAt(monthPeriod('2026-10', 'America/New_York'), { runTime: '04:30', dueAfterMinutes: 0 }).toISOString()).toBe('2026-11-01T09:30:00.000Z');
    // In the last hours of Nov 30th UTC it is already Dec 1st in Auckland, but November's run there is not due yet.
    expect(dueMonth(new Date('2026-11-30T20:00:00Z'), 'Pacific/Auckland', CHECK).month.label).toBe('2026-10');
  });
});

describe('the daily check of the monthly report, on s3rver', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await LocalS3.start(BUCKET);
  });

  afterAll(async () => {
    await s3.stop();
  });

  const put = (key: string, body = '{}') => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  async function dailyRun(prefix: string, scheduledTime: string, bucket = BUCKET, request: ReportRequest = { kind: 'daily', scheduledTime }) {
    const config: ReportConfig = {
      reportName: 'edge',
      timeZone: 'Europe/Berlin',
      sender: 'reports@example.com',
      recipients: ['security@example.com'],
      prefix,
      elastic: elasticSourceConfig(),
      monthlyReportCheck: CHECK,
    };
    const metrics: Array<[string, number]> = [];
    const emails: string[] = [];
    const ses = { send: async (command: SendEmailCommand) => { emails.push(command.input.Content!.Simple!.Body!.Text!.Data!); return { MessageId: 'm-1' }; } };
    const handler = createReportHandler({
      env: { [REPORT_CONFIG_ENV]: JSON.stringify(config) },
      clients: {
        secrets: {
          send: async (command: GetSecretValueCommand) => {
            if (command.input.SecretId === ES_SECRET) return { SecretString: JSON.stringify({ apiKey: 'es-key' }) };
            throw Object.assign(new Error(`no secret ${command.input.SecretId}`), { name: 'ResourceNotFoundException' });
          },
        } as never,
        elasticConnection: new FakeElastic([]).connection() as never,
      },
      outputs: () => awsOutputs(s3.client, ses as never, bucket),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { add: (name, value) => metrics.push([name, value]) },
      now: () => new Date(scheduledTime),
    });
    const result = await handler(request);
    const missing = metrics.filter(([name]) => name === 'MonthlyReportMissing').map(([, v]) => v);
    const line = emails[0]?.split('\n').find((l) => l.startsWith('  monthly report: '));
    return { result, missing, line };
  }

  // The daily run of Dec 2nd, 04:00 in Berlin.
  const DEC_2 = '2026-12-02T03:00:00Z';

  test('November\'s report is there: 0, and the email says nothing of it', async () => {
    await put('a/reports/daily/2026-11-30/figures.json');
    await put('a/reports/monthly/2026-11/figures.json');
    const { missing, line } = await dailyRun('a/', DEC_2);
    expect(missing).toEqual([0]);
    expect(line).toBeUndefined();
  });

  test('a report written by an earlier version (report.html, no figures.json) counts as there', async () => {
    await put('d/reports/daily/2026-11-30/figures.json');
    await put('d/reports/monthly/2026-11/report.html', '<html></html>');
    expect((await dailyRun('d/', DEC_2)).missing).toEqual([0]);
  });

  test('November\'s report is missing though the reporting ran on Nov 30th: 1, and the email says what to do', async () => {
    await put('b/reports/daily/2026-11-30/figures.json');
    // Another month's and another prefix's reports do not stand in for it.
    await put('b/reports/monthly/2026-10/figures.json');
    await put('a/reports/monthly/2026-11/report.html');
    const { missing, line } = await dailyRun('b/', DEC_2);
    expect(missing).toEqual([1]);
    expect(line).toBe('  monthly report: the monthly report of 2026-11 is not in the bucket; it was due by 2026-12-01 11:05 (Europe/Berlin). '
      + 'Check the monthly schedule, its dead-letter queue and the report log group, then run it on demand: {"kind": "monthly", "month": "2026-11"}');
  });

  test('an installation newer than the month\'s run (no daily report of its last day) misses nothing', async () => {
    const { missing, line } = await dailyRun('c/', DEC_2);
    expect(missing).toEqual([0]);
    expect(line).toBeUndefined();
  });

  test('before November\'s run is due, the daily run checks October; the next day, November', async () => {
    await put('e/reports/daily/2026-10-31/figures.json');
    await put('e/reports/monthly/2026-10/figures.json');
    await put('e/reports/daily/2026-11-30/figures.json');
    expect((await dailyRun('e/', '2026-12-01T03:00:00Z')).missing).toEqual([0]);
    expect((await dailyRun('e/', DEC_2)).missing).toEqual([1]);
  });

  test('the bucket cannot be read: a problem of the run and no value, so the alarm keeps its state', async () => {
    const { result, missing } = await dailyRun('f/', DEC_2, 'no-such-bucket');
    expect(result.problems.map((p) => p.source)).toContain('monthly-report-check');
    expect(result.problems.find((p) => p.source === 'monthly-report-check')!.message).toMatch(/NoSuchBucket/);
    expect(missing).toEqual([]);
  });

  test('monthly runs do not check', async () => {
    const { missing } = await dailyRun('b/', '2026-12-01T03:30:00Z', BUCKET, { kind: 'monthly', scheduledTime: '2026-12-01T03:30:00Z' });
    expect(missing).toEqual([]);
  });
});
