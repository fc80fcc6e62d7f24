import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runReportCommand } from '../../src/cli/report-command';

/**
 * What `cdk-waf-guard report` prints: file names carry customer names and problems quote what sources returned, so
 * neither may reach the operator's terminal raw; and a run writes a CSV per customer, which is summarised as the
 * email's Files list is. The engine stands in here: these tests are about the command's output, not the rendering.
 */
describe('cdk-waf-guard report output', () => {
  const ESC = '\u001B';
  const customers = Array.from({ length: 2000 }, (_, i) => `customer-${i}`).concat([`evil${ESC}[2J${ESC}]0;owned\u0007`]);

  async function render(): Promise<{ code: number; text: string; outDir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'report-output-'));
    const configFile = join(dir, 'report-config.json');
    writeFileSync(configFile, '{}');
    const out: string[] = [];
    const code = await runReportCommand(['--day', '2026-11-30', '--dry-run', '--config', configFile, '--out', join(dir, 'out')],
      { stdout: (t) => out.push(t) }, () => ({
        // Files and problems as the engine reports them: under the directory and for the day it was asked for.
        dryRunReport: async ({ request, outDir }) => ({
          period: request.day!,
          emailFiles: [join(outDir, 'email.html'), join(outDir, 'email.txt')],
          files: [
            join(outDir, `reports/daily/${request.day}/blocks.csv`),
            ...customers.map((c) => join(outDir, `reports/daily/${request.day}/customers/${c}.csv`)),
          ],
          problems: [{ source: 'elastic', message: `customer "${customers[customers.length - 1]}": search failed\nsecond line` }],
        }),
        sampleReports: async () => { throw new Error('not used'); },
      }));
    return { code, text: out.join('\n'), outDir: join(dir, 'out') };
  }

  test('control characters in file names and problems are shown as escapes, never written raw', async () => {
    const { code, text } = await render();
    expect(code).toBe(1);
    expect(text).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F]/);
    expect(text).toContain('  elastic: customer "evil\\u001b[2J\\u001b]0;owned\\u0007": search failed\\u000asecond line');
  });

  test('the customer CSVs are summarised after the first ten, as in the email', async () => {
    const { text, outDir } = await render();
    const lines = text.split('\n');
    expect(lines.length).toBeLessThan(20);
    expect(lines).toContain(`  ${join(outDir, 'reports/daily/2026-11-30/blocks.csv')}`);
    expect(lines).toContain(`  ${join(outDir, 'reports/daily/2026-11-30/customers/customer-9.csv')}`);
    expect(lines).toContain(`  and 1,991 more customer CSVs under ${join(outDir, 'reports/daily/2026-11-30/customers')}/`);
    expect(lines.filter((l) => l.includes('customer-1999'))).toEqual([]);
  });
});
