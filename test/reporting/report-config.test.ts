import { validateReportConfig } from '../../src/reporting/runtime/config';

/** A configuration as the construct writes it; each test changes one setting. */
function config(change: Record<string, unknown> = {}) {
  return {
    reportName: 'prod',
    timeZone: 'Europe/Berlin',
    sender: 'reports@example.com',
    recipients: ['security@example.com'],
    prefix: '',
    guard: { historyTable: 't', historyIndex: 'byDay', guardName: 'edge' },
    ...change,
  };
}

describe('report configuration a run refuses (a hand-edited REPORT_CONFIG)', () => {
  test('a zone in the wrong case, which Elasticsearch and Scheduler would refuse, names the IANA spelling', () => {
    expect(validateReportConfig(config({ timeZone: 'europe/berlin' }))).toEqual([
      'timeZone "europe/berlin" must be spelled as IANA spells it, because Elasticsearch and EventBridge Scheduler match zone names case-sensitively: did you mean Europe/Berlin?',
    ]);
    expect(validateReportConfig(config({ timeZone: 'AMERICA/NEW_YORK' }))).toEqual([expect.stringMatching(/did you mean America\/New_York\?$/)]);
    expect(validateReportConfig(config({ timeZone: 'Mars/Olympus' }))).toEqual(['timeZone "Mars/Olympus" is not an IANA time zone such as Europe/Berlin or America/New_York']);
  });

  test('zones and links spelled as IANA spells them pass', () => {
    for (const timeZone of ['Europe/Berlin', 'UTC', 'Asia/Kolkata', 'US/Eastern', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'America/Port-au-Prince']) {
      expect([timeZone, validateReportConfig(config({ timeZone }))]).toEqual([timeZone, []]);
    }
  });

  test('more than 50 recipients, which one SES message cannot take', () => {
    const recipients = (n: number) => Array.from({ length: n }, (_, i) => `u${i}@example.com`);
    expect(validateReportConfig(config({ recipients: recipients(50) }))).toEqual([]);
    expect(validateReportConfig(config({ recipients: recipients(51) }))).toEqual([
      'recipients: SES sends one message to at most 50 recipients, got 51: send the reports to a mailing list address instead',
    ]);
  });
});
