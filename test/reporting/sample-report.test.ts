import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { readCsv } from './csv-reader';
import { cached, evaluate, readXlsx } from './xlsx-reader';
import { runReportCommand } from '../../src/cli/report-command';
import { dryRunReport, sampleReports } from '../../src/reporting/report-cli';
import { toCents } from '../../src/reporting/runtime/money';
import { dayPeriod, monthPeriod } from '../../src/reporting/runtime/period';
import { SAMPLE_TIME_ZONE, sampleAlarmChanges, sampleCosts, sampleDocuments, sampleHistory } from '../../src/reporting/sample/sample-data';
import { HeadlessChromium } from '../support/headless-chromium';

/**
 * `cdk-waf-guard report --sample` as a new user runs it: the command line, the engine, generated data read through
 * the same searches a deployed report sends. The figures shown are checked against the generated documents and
 * history rows counted here, and the two emails are laid out by Chromium at a phone's and a desktop's width.
 * `UPDATE_SCREENSHOTS=1` writes the README's screenshots to docs/screenshots/.
 */

jest.setTimeout(240_000);

const NOW = new Date('2026-12-07T09:00:00Z');
const DAY = '2026-12-06';
const MONTH = '2026-11';

let dir: string;
let out: string;
let code: number;
const stdout: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'report-sample-'));
  out = join(dir, 'out');
  code = await runReportCommand(['--sample', '--out', out], { stdout: (t) => stdout.push(t) }, () => ({
    // The engine from source, at a fixed date (the command uses the clock).
    sampleReports: (o) => sampleReports({ ...o, now: NOW }),
    dryRunReport,
  }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (key: string) => readFileSync(join(out, key), 'utf8');
const number = (text: string) => Number(text.replace(/,/g, ''));

test('renders both emails and names them, with no problem and exit code 0', () => {
  expect(code).toBe(0);
  expect(stdout.join('\n')).toContain(`Sample reports (generated data) for ${DAY} and ${MONTH} rendered to ${out}`);
  for (const f of ['email-daily.html', 'email-daily.txt', 'email-monthly.html', 'email-monthly.txt']) {
    expect(existsSync(join(out, f))).toBe(true);
  }
  expect(stdout.join('\n')).toContain(join(out, 'email-daily.html'));
  expect(stdout.join('\n')).not.toContain('Problems:');
});

test('the daily email counts every generated request and block of the day, and compares with the day before', () => {
  const day = dayPeriod(DAY, SAMPLE_TIME_ZONE);
  const before = dayPeriod('2026-12-05', SAMPLE_TIME_ZONE);
  const requests = sampleDocuments(day.start, day.end).length;
  const requestsBefore = sampleDocuments(before.start, before.end).length;
  const history = sampleHistory(day.start, day.end);
  const blocks = history.filter((h) => h.event === 'BLOCKED').length;
  const text = read('email-daily.txt');
  expect(text).toContain(`Requests: ${requests.toLocaleString('en-US')} (`);
  expect(text).toContain('vs 2026-12-05');
  const change = requests - requestsBefore;
  expect(text).toContain(`${change > 0 ? '+' : change < 0 ? '-' : '±'}${Math.abs(change).toLocaleString('en-US')}`);
  expect(text).toMatch(new RegExp(`^Subject: Daily WAF report ${DAY}: .* - ${requests.toLocaleString('en-US')} requests, ${blocks} blocks?$`, 'm'));
  // The blocks CSV holds every history row of the day.
  const rows = readCsv(read(`reports/daily/${DAY}/blocks.csv`).replace(/^\uFEFF/, ''));
  expect(rows.slice(1).map((r) => `${r[0]} ${r[1]} ${r[2]}`)).toEqual(history.map((h) => `${new Date(h.at).toISOString()} ${h.event} ${h.ip}`));
  // Customers in the email add up to the total.
  const table = /Requests and Apdex per customer\n {2}Customer +Requests +Apdex\n((?: {2}.+\n)+)/.exec(text)![1];
  const perCustomer = table.trimEnd().split('\n').map((l) => number(/ (\d[\d,]*) +\d\.\d{3}$/.exec(l)![1]));
  expect(perCustomer.reduce((s, n) => s + n, 0)).toBe(requests);
});

test('the per-customer CSVs cover the 30 days before the report\'s end, request for request', () => {
  const day = dayPeriod(DAY, SAMPLE_TIME_ZONE);
  const from = new Date(day.end.getTime() - 30 * 86_400_000);
  const docs = sampleDocuments(from, day.end);
  const expected = new Map<string, number>();
  for (const d of docs) {
    const host = (d.url as { domain: string }).domain;
    expected.set(host, (expected.get(host) ?? 0) + 1);
  }
  const found = new Map<string, number>();
  for (const customer of ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark-industries', 'wayne-enterprises', 'pied-piper', 'tyrell', 'cyberdyne']) {
    for (const [host, requests] of readCsv(read(`reports/daily/${DAY}/customers/${customer}.csv`).replace(/^\uFEFF/, '')).slice(1)) found.set(host, Number(requests));
  }
  // The customer with an ampersand and umlauts gets a safe file name.
  const odd = readCsv(read(`reports/daily/${DAY}/customers/M_ller___S_hne_GmbH-a0563ec2.csv`).replace(/^\uFEFF/, ''));
  found.set(odd[1][0], Number(odd[1][1]));
  expect(found).toEqual(expected);
});

test('the monthly email\'s requests are the month\'s days added up, and its cost total is the workbook\'s to the cent', () => {
  const month = monthPeriod(MONTH, SAMPLE_TIME_ZONE);
  let requests = 0;
  for (let d = 1; d <= 30; d++) {
    const day = dayPeriod(`${MONTH}-${String(d).padStart(2, '0')}`, SAMPLE_TIME_ZONE);
    requests += sampleDocuments(day.start, day.end).length;
  }
  expect(sampleDocuments(month.start, month.end).length).toBe(requests);
  const text = read('email-monthly.txt');
  expect(text).toContain(`Requests: ${requests.toLocaleString('en-US')} (`);
  // The generated latency alarm's evenings are in the banner, every one counted.
  const alarmed = sampleAlarmChanges(month.start, month.end).filter((c) => c.to === 'ALARM').length;
  expect(alarmed).toBeGreaterThan(5);
  expect(text).toMatch(new RegExp(`^NEEDS ATTENTION\n {2}alarm Sample-Monitor-LatencyP95: OK now; went to ALARM ${alarmed} times in the period`, 'm'));

  const costs = sampleCosts(MONTH);
  const cents = [...costs.aws, ...costs.elastic].reduce((s, l) => s + toCents(l.amount), 0);
  const total = `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;
  expect(text).toMatch(new RegExp(`^ {2}Total: \\${total}$`, 'm'));
  const sheet = readXlsx(readFileSync(join(out, `cost-reports/2026/${MONTH}.xlsx`))).get(`Costs ${MONTH}`)!;
  const totalRow = [...sheet].find(([a, c]) => a.startsWith('A') && c.value === 'Total')![0].slice(1);
  expect(Math.round(cached(sheet, `C${totalRow}`)! * 100)).toBe(cents);
  expect(Math.round(evaluate(sheet, `C${totalRow}`) * 100)).toBe(cents);
  // The yearly roll-up holds October and November (rows 11 and 12), and its year total is theirs.
  const year = readXlsx(readFileSync(join(out, 'cost-reports/2026/Total_2026.xlsx'))).get('Total 2026')!;
  const october = sampleCosts('2026-10');
  const octoberCents = [...october.aws, ...october.elastic].reduce((s, l) => s + toCents(l.amount), 0);
  expect([11, 12].map((r) => Math.round(evaluate(year, `D${r}`) * 100))).toEqual([octoberCents, cents]);
  expect(Math.round(cached(year, 'D14')! * 100)).toBe(octoberCents + cents);
  expect(Math.round(evaluate(year, 'D14') * 100)).toBe(octoberCents + cents);
});

describe('laid out by Chromium', () => {
  let browser: HeadlessChromium;
  const shots = process.env.UPDATE_SCREENSHOTS ? join(__dirname, '..', '..', 'docs', 'screenshots') : undefined;
  beforeAll(async () => {
    browser = await HeadlessChromium.launch();
    if (shots) mkdirSync(shots, { recursive: true });
  });
  afterAll(() => browser?.close());

  test.each([
    ['daily', 'phone', 390], ['daily', 'desktop', 1280], ['monthly', 'phone', 390], ['monthly', 'desktop', 1280],
  ] as const)('the %s sample email fits a %s screen (%i px)', async (kind, device, width) => {
    const page = await browser.render(`file://${join(out, `email-${kind}.html`)}`, width, true);
    writeFileSync(join(shots ?? dir, `report-sample-${kind}-${device}.png`), page.png!);
    expect(page.clientWidth).toBe(width);
    expect({ scrollWidth: page.scrollWidth, overflowing: page.overflowing }).toEqual({ scrollWidth: width, overflowing: [] });
  });
});
