import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { historyRows } from './fixtures';
import { main } from '../../src/cli/cdk-waf-guard';
import { runReportCommand } from '../../src/cli/report-command';
import { HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { dryRunReport, sampleReports } from '../../src/reporting/report-cli';
import { LocalDynamo } from '../support/local-aws';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
}

describe('cdk-waf-guard report', () => {
  let dynamo: LocalDynamo;
  let table: string;
  beforeAll(async () => {
    dynamo = await LocalDynamo.start();
    table = await dynamo.createTable('history', HISTORY_TABLE);
    const items = historyRows().map((r) => {
      const iso = new Date(r.at).toISOString();
      return { ...r, at: `${iso}#${r.event}#${r.ruleId}`, day: iso.slice(0, 10) };
    });
    await dynamo.doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) } }));
  });
  afterAll(() => dynamo.stop());

  test('--day --dry-run renders the email and the blocks CSV into the output directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
    const configFile = join(dir, 'report-config.json');
    writeFileSync(configFile, JSON.stringify({
      reportName: 'cli',
      timeZone: 'Europe/Berlin',
      sender: 'reports@example.com',
      recipients: ['a@example.com'],
      prefix: '',
      guard: { historyTable: table, historyIndex: 'byDay', guardName: 'edge' },
    }));
    const out = join(dir, 'out');
    const { out: stdout, io: cliIo } = io();
    // The engine from source with the local table's client, as the bundle would run it with the caller's credentials.
    const code = await runReportCommand(['--day', '2026-11-30', '--dry-run', '--config', configFile, '--out', out], cliIo, () => ({
      dryRunReport: (options) => dryRunReport({ ...options, clients: { doc: dynamo.doc } }),
      sampleReports,
    }));
    expect(code).toBe(0);
    expect(stdout[0]).toContain(`Report 2026-11-30 rendered to ${out}`);
    expect(readFileSync(join(out, 'email.txt'), 'utf8')).toMatch(/^From: reports@example.com\nTo: a@example.com\nSubject: Daily WAF report 2026-11-30: cli - 3 blocks\n/);
    expect(readFileSync(join(out, 'email.html'), 'utf8')).toContain('<svg');
    expect(readFileSync(join(out, 'reports/daily/2026-11-30/blocks.csv'), 'utf8').split('\r\n')).toHaveLength(10);
  });

  test('--month --dry-run with Cost Explorer failing says the recorded figures were looked for in the output directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
    const configFile = join(dir, 'report-config.json');
    writeFileSync(configFile, JSON.stringify({
      reportName: 'cli',
      timeZone: 'UTC',
      sender: 'reports@example.com',
      recipients: ['a@example.com'],
      prefix: '',
      guard: { historyTable: table, historyIndex: 'byDay', guardName: 'edge' },
      costs: { groupByDimension: 'SERVICE' },
    }));
    const out = join(dir, 'out');
    const { io: cliIo } = io();
    const costExplorer = { send: async () => { throw Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException' }); } };
    const code = await runReportCommand(['--month', '2026-11', '--dry-run', '--config', configFile, '--out', out], cliIo, () => ({
      dryRunReport: (options) => dryRunReport({ ...options, clients: { doc: dynamo.doc, costExplorer } as never }),
      sampleReports,
    }));
    expect(code).toBe(1);
    const text = readFileSync(join(out, 'email.txt'), 'utf8');
    // The function may well have recorded the month in the bucket: the dry run only looked in its directory.
    expect(text).toContain(`Cost Explorer failed and no AWS figures were recorded for this month in the output directory ${out} (a dry run does not read the bucket): they are missing from the total.`);
  });


  test('--day of a day that has not ended is refused before anything is read or written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
    const configFile = join(dir, 'report-config.json');
    writeFileSync(configFile, JSON.stringify({
      reportName: 'cli',
      timeZone: 'Europe/Berlin',
      sender: 'reports@example.com',
      recipients: ['a@example.com'],
      prefix: '',
      guard: { historyTable: table, historyIndex: 'byDay', guardName: 'edge' },
    }));
    const out = join(dir, 'out');
    const { io: cliIo } = io();
    const run = runReportCommand(['--day', '2099-01-01', '--dry-run', '--config', configFile, '--out', out], cliIo, () => ({
      dryRunReport: (options) => dryRunReport({ ...options, clients: { doc: dynamo.doc } }),
      sampleReports,
    }));
    await expect(run).rejects.toThrow(/^the day 2099-01-01 has not ended yet in Europe\/Berlin: report a past day; the last complete one is \d{4}-\d\d-\d\d$/);
    expect(existsSync(out)).toBe(false);
  });

  test('the bundled engine refuses a day that has not ended: exit 2 with the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
    const configFile = join(dir, 'report-config.json');
    writeFileSync(configFile, JSON.stringify({
      reportName: 'cli',
      timeZone: 'Europe/Berlin',
      sender: 'reports@example.com',
      recipients: ['a@example.com'],
      prefix: '',
      guard: { historyTable: 'no-table', historyIndex: 'byDay', guardName: 'edge' },
    }));
    const { err, io: cliIo } = io();
    expect(await main(['report', '--day', '2099-01-01', '--dry-run', '--config', configFile, '--out', join(dir, 'out')], cliIo)).toBe(2);
    expect(err[0]).toMatch(/^cdk-waf-guard: the day 2099-01-01 has not ended yet in Europe\/Berlin/);
  });

  test('usage errors exit 2 with the report usage', async () => {
    for (const argv of [['report', '--day', '2026-11-30'], ['report', '--day', '2026-11-30', '--month', '2026-11', '--dry-run'], ['report', '--bogus'], ['report', '--sample', '--day', '2026-11-30']]) {
      const { err, io: cliIo } = io();
      expect(await main(argv, cliIo)).toBe(2);
      expect(err[0]).toContain('Usage: cdk-waf-guard report');
    }
  });

  test('replay still loads without the report engine: the CLI module requires no bundled dependency', () => {
    // A fresh Node process with only the compiled CLI's own imports would fail on a top-level require of the AWS SDK;
    // ts-node is not needed for this check: the source must not import the engine statically.
    const source = readFileSync(join(__dirname, '../../src/cli/cdk-waf-guard.ts'), 'utf8') + readFileSync(join(__dirname, '../../src/cli/report-command.ts'), 'utf8');
    expect(source).not.toMatch(/^import .*(reporting|@aws-sdk|exceljs|@elastic)/m);
  });

  const bundle = join(__dirname, '../../assets/reporting/report-cli/index.js');
  // `npx projen build` bundles before it tests; a clone that ran only jest gets the bundle's own message.
  test('the bundled engine runs in a plain Node process and rejects a bad configuration', () => {
    expect(existsSync(bundle) || 'run "npx projen bundle" first').toBe(true);
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)}).dryRunReport({ config: {}, request: {}, outDir: '/tmp/x' }).catch((e) => { console.log(e.message); })`], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/invalid report configuration: reportName must be a non-empty string/);
  });
});
