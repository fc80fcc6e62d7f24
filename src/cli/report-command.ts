import { readFile } from 'fs/promises';
import { join, resolve } from 'path';
import { UserError } from './errors';
import { printable } from './text-table';
import { fileLines } from '../shared/runtime/file-lines';
import { escapeControls } from '../shared/runtime/text';

/**
 * `cdk-waf-guard report`: renders a past day's or month's report to files with the report function's own code. That
 * code needs the AWS SDK, exceljs and the Elasticsearch client, which CLI users do not have installed, so it ships as
 * one bundle (assets/reporting/report-cli) and is loaded only here: `replay` keeps running on Node.js built-ins alone.
 */
export const REPORT_USAGE = `Usage: cdk-waf-guard report (--day YYYY-MM-DD | --month YYYY-MM) --dry-run --config <report-config.json> [--out <dir>]
       cdk-waf-guard report --sample [--out <dir>]

Renders a WafReporting report for a past day or month into a directory: the email (email.html, email.txt), the CSV files
and the cost workbooks, under the same keys as in the bucket. Nothing is sent or uploaded. The sources are read with
your AWS credentials (the guard's history table, Cost Explorer, the Elasticsearch and billing secrets), like the function
reads them. The configuration is the function's REPORT_CONFIG environment variable:

  aws lambda get-function-configuration --function-name <report function> \\
    --query 'Environment.Variables.REPORT_CONFIG' --output text > report-config.json

With --sample, nothing is read from AWS: the daily and monthly emails (email-daily.html, email-monthly.html and .txt),
the CSV files and the cost workbooks are rendered from generated traffic of a small shop, to see what the reports
look like before deploying.

Options:
  --sample             render the sample reports from generated data (no configuration, no credentials)
  --day <YYYY-MM-DD>   a daily report of that day in the report's time zone
  --month <YYYY-MM>    a monthly report (with the cost workbooks)
  --dry-run            required: render to files only (to send, invoke the function with {"kind":"daily","day":"..."})
  --config <file>      the report configuration (JSON)
  --out <dir>          output directory (default ./waf-report-<day or month>, ./waf-report-sample with --sample)
  -h, --help           this text`;

interface DryRunModule {
  sampleReports(options: { outDir: string }): Promise<{
    day: string; month: string; files: string[]; emailFiles: string[]; problems: Array<{ source: string; message: string }>;
  }>;
  dryRunReport(options: { config: unknown; request: { kind?: string; day?: string; month?: string }; outDir: string }): Promise<{
    period: string; files: string[]; emailFiles: string[]; problems: Array<{ source: string; message: string }>;
  }>;
}

/** The bundled report engine; `load` is replaceable so tests can run the TypeScript source. */
export function loadReportEngine(): DryRunModule {
  const bundle = join(__dirname, '..', '..', 'assets', 'reporting', 'report-cli', 'index.js');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(bundle) as DryRunModule;
  } catch (e) {
    throw new UserError(`the report engine is missing (${bundle}): ${(e as Error).message}; in a clone, run "npx projen bundle" first`);
  }
}

export async function runReportCommand(
  argv: readonly string[],
  io: { stdout: (text: string) => void },
  load: () => DryRunModule = loadReportEngine,
): Promise<number> {
  const args: { day?: string; month?: string; config?: string; out?: string; dryRun: boolean; sample: boolean } = { dryRun: false, sample: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new ReportUsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '-h': case '--help': io.stdout(REPORT_USAGE); return 0;
      case '--day': args.day = value(); break;
      case '--month': args.month = value(); break;
      case '--config': args.config = value(); break;
      case '--out': args.out = value(); break;
      case '--dry-run': args.dryRun = true; break;
      case '--sample': args.sample = true; break;
      default: throw new ReportUsageError(`unknown option ${arg}`);
    }
  }
  if (args.sample) {
    if (args.day !== undefined || args.month !== undefined || args.config !== undefined) {
      throw new ReportUsageError('--sample renders generated data: it takes no --day, --month or --config');
    }
    return runSample(resolve(args.out ?? 'waf-report-sample'), io, load);
  }
  if ((args.day === undefined) === (args.month === undefined)) throw new ReportUsageError('give exactly one of --day and --month');
  if (!args.dryRun) throw new ReportUsageError('only --dry-run is supported: to send a report, invoke the function with {"kind": "daily", "day": "YYYY-MM-DD"}');
  if (!args.config) throw new ReportUsageError('--config <report-config.json> is required');
  let config: unknown;
  try {
    config = JSON.parse(await readFile(args.config, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read the report configuration ${args.config}: ${(e as Error).message}`);
  }
  const outDir = resolve(args.out ?? `waf-report-${args.day ?? args.month}`);
  const engine = load();
  let result;
  try {
    result = await engine.dryRunReport({
      config,
      request: args.day ? { kind: 'daily', day: args.day } : { kind: 'monthly', month: args.month },
      outDir,
    });
  } catch (e) {
    // Invalid configuration or period: the user's to fix.
    throw new UserError((e as Error).message);
  }
  // File names carry customer names and problems quote sources' text: printable, so an escape sequence in them is
  // shown rather than acting on the terminal; the files summarised like the email's list, so problems stay in view.
  io.stdout(printable([
    `Report ${result.period} rendered to ${outDir}`,
    ...result.emailFiles.map((f) => `  ${f}`),
    ...fileLines(result.files).map((f) => `  ${f}`),
    ...problemLines(result.problems),
  ].join('\n')));
  return result.problems.length > 0 ? 1 : 0;
}

async function runSample(outDir: string, io: { stdout: (text: string) => void }, load: () => DryRunModule): Promise<number> {
  const result = await load().sampleReports({ outDir });
  io.stdout(printable([
    `Sample reports (generated data) for ${result.day} and ${result.month} rendered to ${outDir}`,
    '  open these in a browser:',
    ...result.emailFiles.filter((f) => f.endsWith('.html')).map((f) => `    ${f}`),
    `  and ${result.files.length} files under the keys the bucket would hold (CSVs, cost workbooks, archived copies)`,
    ...problemLines(result.problems),
  ].join('\n')));
  return result.problems.length > 0 ? 1 : 0;
}

/** One line per problem; a message's own line breaks become escapes too, so each problem stays on its line. */
function problemLines(problems: ReadonlyArray<{ source: string; message: string }>): string[] {
  return problems.length === 0 ? [] : ['Problems:', ...problems.map((p) => `  ${escapeControls(`${p.source}: ${p.message}`)}`)];
}

/** A mistake in the report command line: the usage text follows the message. */
export class ReportUsageError extends UserError {}
