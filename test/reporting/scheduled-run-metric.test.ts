import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ES_SECRET, FakeElastic, elasticSourceConfig } from './fake-elastic';
import { REPORT_CONFIG_ENV, ReportConfig } from '../../src/reporting/runtime/config';
import { createReportHandler } from '../../src/reporting/runtime/report-handler';
import { ReportRequest } from '../../src/reporting/runtime/request';


const config: ReportConfig = {
  reportName: 'edge',
  timeZone: 'America/New_York',
  sender: 'reports@example.com',
  recipients: ['security@example.com'],
  prefix: '',
  elastic: elasticSourceConfig(),
};

/** One request a day at 12:00 New York time (EST), Nov 25th to Dec 1st. */
const docs = Array.from({ length: 7 }, (_, i) => ({
  '@timestamp': new Date(Date.UTC(2026, 10, 25 + i, 17)).toISOString(),
  'waf': { latency_ms: 10, customer: 'acme', status: 'allowed' },
  'url': { domain: 'www.acme.example' },
  'client': { ip: '192.0.2.1' },
  'http': { request: { bytes: 100 }, response: { bytes: 1000, status_code: 200 } },
}));

async function run(event: ReportRequest) {
  const metrics: Array<[string, number]> = [];
  const objects = new Map<string, Buffer>();
  const handler = createReportHandler({
    env: { [REPORT_CONFIG_ENV]: JSON.stringify(config) },
    clients: {
      secrets: {
        send: async (command: GetSecretValueCommand) => {
          if (command.input.SecretId === ES_SECRET) return { SecretString: JSON.stringify({ apiKey: 'es-key' }) };
          throw Object.assign(new Error(`no secret ${command.input.SecretId}`), { name: 'ResourceNotFoundException' });
        },
      } as never,
      elasticConnection: new FakeElastic(docs).connection() as never,
    },
    outputs: () => ({
      putObject: async (key, body) => { objects.set(key, Buffer.from(body)); return key; },
      getObject: async (key) => objects.get(key),
      sendEmail: async () => 'message-1',
    }),
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { add: (name, value) => metrics.push([name, value]) },
    // Two days after the scheduled time: a late start still reports the day the schedule meant.
    now: () => new Date('2026-12-03T12:00:00Z'),
  });
  const result = await handler(event);
  return { result, metrics, runs: metrics.filter(([name]) => name.startsWith('Scheduled')) };
}

describe('the scheduled-run heartbeat behind the missed-run alarm', () => {
  test('a scheduled daily run at 04:00 New York time reports Nov 30th and counts one ScheduledDailyRuns', async () => {
    const { result, runs } = await run({ kind: 'daily', scheduledTime: '2026-12-01T09:00:00Z' });
    expect(result.period).toBe('2026-11-30');
    expect(result.problems).toEqual([]);
    expect(runs).toEqual([['ScheduledDailyRuns', 1]]);
  });

  test('a scheduled monthly run on the 1st reports November and counts one ScheduledMonthlyRuns', async () => {
    const { result, runs } = await run({ kind: 'monthly', scheduledTime: '2026-12-01T09:30:00Z' });
    expect(result.period).toBe('2026-11');
    expect(runs).toEqual([['ScheduledMonthlyRuns', 1]]);
  });

  test('an on-demand run of a named day does not count: it must not hide a scheduled run that never came', async () => {
    const { result, runs } = await run({ kind: 'daily', day: '2026-11-29' });
    expect(result.period).toBe('2026-11-29');
    expect(runs).toEqual([]);
  });

  test('a run refused for its payload does not count, and is a failure', async () => {
    const { result, runs, metrics } = await run({ kind: 'daily', scheduledTime: 'soon' });
    expect(result.problems).toEqual([{ source: 'request', message: expect.stringMatching(/scheduledTime/) }]);
    expect(runs).toEqual([]);
    expect(metrics).toContainEqual(['ReportFailures', 1]);
  });
});
