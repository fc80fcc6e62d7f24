import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { FakeAlarm, FakeHistoryEntry, fakeAlarms } from './fake-alarms';
import { ES_SECRET, FakeElastic, elasticSourceConfig } from './fake-elastic';
import { readAlarms, stateChange } from '../../src/reporting/runtime/alarm-history';
import { alarmAttention, summarizeAlarms } from '../../src/reporting/runtime/alarm-summary';
import { REPORT_CONFIG_ENV, ReportConfig } from '../../src/reporting/runtime/config';
import { dayPeriod, monthPeriod } from '../../src/reporting/runtime/period';
import { createReportHandler } from '../../src/reporting/runtime/report-handler';

/**
 * The alarms in the "needs attention" banner: the report reads the configured alarms from CloudWatch (a fake answering
 * from an account's alarms and history and each request) and lists those in ALARM now or during the period.
 */

const HOSTILE_ALARM = 'Guard-IpSetFull-<b>&"x"';

/** The account: alarms now. 2026-11-30 in Berlin is 2026-11-29T23:00Z..2026-11-30T23:00Z. */
const alarms: FakeAlarm[] = [
  { name: HOSTILE_ALARM, state: 'ALARM', since: '2026-11-30T23:00:00Z' },
  { name: 'Guard-SyncErrors', state: 'ALARM', since: '2026-11-28T07:00:00Z' },
  { name: 'Guard-ProcessingLag', state: 'OK', since: '2026-11-30T05:00:00Z' },
  { name: 'Monitor-Latency', state: 'OK', since: '2026-11-30T06:00:00Z' },
  { name: 'Other-Alarm', state: 'ALARM', since: '2026-11-30T10:00:00Z' },
];

const change = (name: string, at: string, from: string, to: string): FakeHistoryEntry => ({ name, at, from, to });

const history: FakeHistoryEntry[] = [
  // Before the day: not in the count.
  change(HOSTILE_ALARM, '2026-11-28T10:00:00Z', 'OK', 'ALARM'),
  change(HOSTILE_ALARM, '2026-11-28T11:00:00Z', 'ALARM', 'OK'),
  change(HOSTILE_ALARM, '2026-11-30T08:15:00Z', 'OK', 'ALARM'),
  change(HOSTILE_ALARM, '2026-11-30T08:45:00Z', 'ALARM', 'OK'),
  { name: HOSTILE_ALARM, at: '2026-11-30T10:00:00Z', type: 'ConfigurationUpdate' },
  { name: HOSTILE_ALARM, at: '2026-11-30T12:00:05Z', type: 'Action' },
  change(HOSTILE_ALARM, '2026-11-30T12:00:00Z', 'OK', 'ALARM'),
  change(HOSTILE_ALARM, '2026-11-30T12:30:00Z', 'ALARM', 'OK'),
  change(HOSTILE_ALARM, '2026-11-30T19:00:00Z', 'OK', 'ALARM'),
  change(HOSTILE_ALARM, '2026-11-30T19:20:00Z', 'ALARM', 'OK'),
  // Midnight in Berlin: the next day's.
  change(HOSTILE_ALARM, '2026-11-30T23:00:00Z', 'OK', 'ALARM'),
  change('Guard-SyncErrors', '2026-11-28T07:00:00Z', 'OK', 'ALARM'),
  change('Guard-ProcessingLag', '2026-11-30T05:00:00Z', 'INSUFFICIENT_DATA', 'OK'),
  change('Monitor-Latency', '2026-11-29T20:00:00Z', 'OK', 'ALARM'),
  change('Monitor-Latency', '2026-11-30T06:00:00Z', 'ALARM', 'OK'),
  // Not configured: never listed.
  change('Other-Alarm', '2026-11-30T10:00:00Z', 'OK', 'ALARM'),
];

const CONFIGURED = [HOSTILE_ALARM, 'Guard-SyncErrors', 'Guard-ProcessingLag', 'Monitor-Latency', 'Deleted-Alarm'];

const config: ReportConfig = {
  reportName: 'edge',
  timeZone: 'Europe/Berlin',
  sender: 'reports@example.com',
  recipients: ['security@example.com'],
  prefix: '',
  elastic: elasticSourceConfig(),
  alarmNames: CONFIGURED,
};

const docs = [{
  '@timestamp': '2026-11-30T10:00:00Z',
  'waf': { latency_ms: 10, customer: 'acme', status: 'allowed' },
  'url': { domain: 'www.acme.example' },
  'client': { ip: '192.0.2.1' },
  'http': { request: { bytes: 100 }, response: { bytes: 1000, status_code: 200 } },
}];

async function run(objects = new Map<string, Buffer>()) {
  const metrics: Array<[string, number]> = [];
  const sent: Array<{ subject: string; html: string; text: string }> = [];
  const handler = createReportHandler({
    env: { [REPORT_CONFIG_ENV]: JSON.stringify(config) },
    clients: {
      cloudwatch: new CloudWatchClient({ region: 'eu-central-1' }),
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
      sendEmail: async (email) => { sent.push(email); return 'message-1'; },
    }),
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { add: (name, value) => metrics.push([name, value]) },
    now: () => new Date('2026-12-01T06:00:00Z'),
  });
  const result = await handler({ kind: 'daily', day: '2026-11-30' });
  return { result, metrics, email: sent[0], objects };
}

/** The lines of the text part's banner. */
const banner = (text: string) => text.split('NEEDS ATTENTION\n')[1]?.split('\n\n')[0].split('\n') ?? [];

describe('alarms in the "needs attention" banner', () => {
  test('lists the configured alarms in ALARM now or during the day, with when and how often; counts them in the headline', async () => {
    const cw = fakeAlarms(alarms, history);
    const objects = new Map([['reports/daily/2026-11-29/figures.json', Buffer.from(JSON.stringify({ kind: 'daily', period: '2026-11-29', alarms: 1 }))]]);
    const { result, email, metrics } = await run(objects);
    expect(result.problems).toEqual([]);
    expect(metrics).toContainEqual(['ReportFailures', 0]);
    expect(banner(email.text)).toEqual([
      `  alarm ${HOSTILE_ALARM}: in ALARM now (since 2026-12-01 00:00 Europe/Berlin); went to ALARM 3 times in the period: 09:15, 13:00, 20:00`,
      '  alarm Guard-SyncErrors: in ALARM now (since 2026-11-28 08:00 Europe/Berlin); was in ALARM when the period began',
      '  alarm Monitor-Latency: OK now; was in ALARM when the period began',
      '  alarm Deleted-Alarm: not found in CloudWatch (deleted or renamed?); its state is not reported',
    ]);
    expect(email.text).toMatch(/^Alarms: 3 \(\+2 \(\+200\.0%\) vs 2026-11-29\)$/m);
    expect(email.subject).toContain('3 alarms');
    expect(JSON.parse(objects.get('reports/daily/2026-11-30/figures.json')!.toString()).alarms).toBe(3);
    // Escaped where it enters the HTML.
    expect(email.html).toContain('<li><b>alarm Guard-IpSetFull-&lt;b&gt;&amp;&quot;x&quot;</b>: in ALARM now');
    expect(email.html).not.toContain('<b>&"x"');
    expect(email.html).not.toContain('Other-Alarm');
    // Every history page of each configured alarm was read (pages of two), by name.
    const historyCalls = cw.commandCalls(DescribeAlarmHistoryCommand).map((c) => c.args[0].input);
    expect(historyCalls.filter((i) => i.AlarmName === HOSTILE_ALARM)).toHaveLength(4);
    expect(new Set(historyCalls.map((i) => i.AlarmName))).toEqual(new Set(CONFIGURED));
    expect(cw.commandCalls(DescribeAlarmsCommand)).toHaveLength(2);
    cw.restore();
  });

  test('CloudWatch failing is a problem of the run, named in the banner; the rest of the report is sent', async () => {
    const cw = fakeAlarms(alarms, history, { fail: Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }) });
    const { result, email, metrics } = await run();
    cw.restore();
    expect(result.problems).toEqual([{ source: 'cloudwatch:alarms', message: 'Throttling: Rate exceeded' }]);
    expect(metrics).toContainEqual(['ReportFailures', 1]);
    expect(banner(email.text)).toEqual(['  cloudwatch:alarms: Throttling: Rate exceeded']);
    expect(email.text).not.toMatch(/^Alarms:/m);
    expect(email.text).toMatch(/^Requests: 1 /m);
  });

  test('more than 100 alarms: DescribeAlarms is asked 100 names at a time', async () => {
    const many = Array.from({ length: 130 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
    const account = many.map((name, i): FakeAlarm => ({ name, state: i % 50 === 7 ? 'ALARM' : 'OK', since: '2026-11-01T00:00:00Z' }));
    const cw = fakeAlarms(account, [], { pageSize: 40 });
    const statuses = await readAlarms(new CloudWatchClient({ region: 'eu-central-1' }), many, dayPeriod('2026-11-30', 'Europe/Berlin'));
    const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames!.length);
    cw.restore();
    expect(calls).toEqual([100, 100, 100, 30]);
    expect(statuses.filter((s) => s.state === undefined)).toEqual([]);
    expect(statuses.filter((s) => s.state === 'ALARM').map((s) => [s.name, s.alarmAtStart])).toEqual([['alarm-007', true], ['alarm-057', true], ['alarm-107', true]]);
  });

  test('a month: dates with the times, the first five of them and how many more', () => {
    const month = monthPeriod('2026-11', 'Europe/Berlin');
    const changes = Array.from({ length: 7 }, (_, i) => ({ name: 'Lag', at: Date.parse(`2026-11-${String(2 + i * 3).padStart(2, '0')}T09:00:00Z`), from: 'OK', to: 'ALARM' }));
    const statuses = summarizeAlarms(['Lag', 'Lag'], [{ name: 'Lag', state: 'OK', since: Date.parse('2026-11-21T10:00:00Z') }], changes, month);
    expect(alarmAttention(statuses, month)).toEqual([{
      source: 'alarm Lag',
      message: 'OK now; went to ALARM 7 times in the period: 2026-11-02 10:00, 2026-11-05 10:00, 2026-11-08 10:00, 2026-11-11 10:00, 2026-11-14 10:00, ... (2 more)',
    }]);
  });

  test('a history item without usable data: the states come from its summary', () => {
    expect(stateChange('not json', 'Alarm updated from INSUFFICIENT_DATA to ALARM')).toEqual({ from: 'INSUFFICIENT_DATA', to: 'ALARM' });
    expect(stateChange(undefined, undefined)).toEqual({});
  });
});
