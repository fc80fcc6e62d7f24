#!/usr/bin/env node
/**
 * `cdk-waf-guard` command line. Runs on Node.js built-ins only: package users do not have the handlers' devDependencies
 * (AWS SDK, Powertools), so nothing imported from here may pull them in.
 */
import { existsSync } from 'fs';
import { readFile } from 'fs/promises';
import { join } from 'path';
import { UserError } from './errors';
import { fileSource, LogSource, MAX_LINE_BYTES, readLines, streamSource } from './log-input';
import { LINE_TOO_LONG, malformedCode, malformedMessage, replay, ReplayReport, timestampHint } from './replay';
import { formatReplay, replayJson } from './replay-report';
import { REPORT_USAGE, ReportUsageError, runReportCommand } from './report-command';
import { parseRulesJson, samplingWarnings } from './rules-file';
import { printable, printableJson } from './text-table';
import { deliveredFieldOrder } from '../realtime-waf-guard/log-fields';
import {
  CidrSet, DEFAULT_IPV6_PREFIX_LENGTH, MAX_IPV6_PREFIX_LENGTH, MIN_IPV6_PREFIX_LENGTH, parseCidrList,
} from '../realtime-waf-guard/runtime/ip';
import { Malformed } from '../realtime-waf-guard/runtime/log-parser';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Lines piped in when no file (or `-`) is given; undefined when stdin is a terminal. */
  readonly stdin?: AsyncIterable<Buffer | string>;
}

export const USAGE = `Usage: cdk-waf-guard replay --rules <rules.json> [options] [files...]
       cdk-waf-guard blocks list|unblock|block|extend|allow|unallow|history ...  (see cdk-waf-guard blocks --help)
       cdk-waf-guard rules list|set|disable|enable ...  change the guard's rules without a deploy (see rules --help)
       cdk-waf-guard report (--day YYYY-MM-DD | --month YYYY-MM) --dry-run --config <report-config.json>  (see report --help)
       cdk-waf-guard report --sample [--out <dir>]   the daily and monthly report emails from generated data
       cdk-waf-guard dashboards export|import ...  the WAF dashboard for Kibana / OpenSearch Dashboards (see dashboards --help)
       cdk-waf-guard --version

What the guard would have done with these CloudFront real-time log lines: per rule, the clients it would block,
when, until when and at what rate. Reads files (plain or gzip) or, without files or with "-", stdin.

Options:
  --rules <file>          JSON array of rules shaped like the construct's HostRule props, e.g.
                          [{"host": "www.example.com", "pathPrefix": "/login", "threshold": 100, "window": "1m",
                            "blockFor": "15m"}]   (durations: seconds, or "30s", "5m", "1h", "1d")
  --sampling <1..100>     the real-time log config's sampling rate (default 100): counts are scaled by 100/rate
  --fields <a,b,...>      the configured log fields, any order (default: the guard's minimal set
                          timestamp,c-ip,cs-host,cs-uri-stem,x-forwarded-for)
  --allow-list <cidrs>    comma-separated CIDRs that are never blocked
  --trusted-proxies <cidrs>  comma-separated CIDRs whose X-Forwarded-For is trusted
  --ipv6-prefix-length <48..128>  IPv6 clients are counted per prefix of this length, like the guard's
                          ipv6PrefixLength (default 64: one host owns a /64); IPv4 is counted per address
  --json                  print the report as JSON (formatVersion 1; times as epoch ms and ISO 8601; malformed
                          lines by code: empty, field-count, timestamp, client-ip, line-too-long)
  -h, --help              this text

Lines longer than ${MAX_LINE_BYTES.toLocaleString('en-US')} bytes are malformed (line-too-long) and not kept. Memory follows the clients
active within a window, not all the clients in the logs; give lines roughly in log time order.

Exit status: 0 on success, 2 on a usage error, an unreadable file, bad JSON or an invalid rule, 3 when more than half
of the lines are malformed (the report is printed, but says little: usually --fields does not match the logs).`;

/** Exit status when most lines are malformed. */
export const EXIT_MOSTLY_MALFORMED = 3;

/** A mistake in the command line: the usage text follows the message. */
class UsageError extends UserError {}

interface ReplayArgs {
  rules?: string;
  sampling: number;
  fields: string[];
  allowList: string[];
  trustedProxies: string[];
  ipv6PrefixLength: number;
  json: boolean;
  files: string[];
}

const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

function parseReplayArgs(argv: readonly string[]): ReplayArgs | 'help' {
  const args: ReplayArgs = {
    sampling: 100, fields: [], allowList: [], trustedProxies: [], ipv6PrefixLength: DEFAULT_IPV6_PREFIX_LENGTH, json: false, files: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '-h':
      case '--help':
        return 'help';
      case '--rules': args.rules = value(); break;
      case '--sampling': {
        const raw = value();
        args.sampling = Number(raw);
        if (!Number.isInteger(args.sampling) || args.sampling < 1 || args.sampling > 100) {
          throw new UsageError(`--sampling must be a whole percentage from 1 to 100 (got ${raw})`);
        }
        break;
      }
      case '--fields': args.fields = list(value()); break;
      case '--allow-list': args.allowList = list(value()); break;
      case '--trusted-proxies': args.trustedProxies = list(value()); break;
      case '--ipv6-prefix-length': {
        const raw = value();
        args.ipv6PrefixLength = /^\d+$/.test(raw) ? Number(raw) : NaN;
        if (!(args.ipv6PrefixLength >= MIN_IPV6_PREFIX_LENGTH && args.ipv6PrefixLength <= MAX_IPV6_PREFIX_LENGTH)) {
          throw new UsageError(`--ipv6-prefix-length must be a whole number from ${MIN_IPV6_PREFIX_LENGTH} to ${MAX_IPV6_PREFIX_LENGTH} (got ${raw})`);
        }
        break;
      }
      case '--json': args.json = true; break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        args.files.push(arg);
    }
  }
  if (!args.rules) throw new UsageError('--rules <rules.json> is required');
  return args;
}

async function runReplay(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseReplayArgs(argv);
  if (args === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  let fields: string[];
  let allowList: CidrSet;
  let trustedProxies: CidrSet;
  try {
    fields = deliveredFieldOrder(args.fields);
    allowList = new CidrSet(parseCidrList(args.allowList, '--allow-list'));
    trustedProxies = new CidrSet(parseCidrList(args.trustedProxies, '--trusted-proxies'));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let rulesText: string;
  try {
    rulesText = await readFile(args.rules!, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read rules file ${args.rules}: ${(e as Error).message}`);
  }
  const rules = parseRulesJson(rulesText, args.rules!);
  for (const warning of samplingWarnings(rules, args.sampling)) io.stderr(`cdk-waf-guard: warning: ${warning}`);
  const files = args.files.length > 0 ? args.files : ['-'];
  const sources: LogSource[] = files.map((f) => {
    if (f !== '-') return fileSource(f);
    if (!io.stdin) throw new UsageError('no log files given and stdin is a terminal: give files, or pipe lines in');
    return streamSource('<stdin>', io.stdin);
  });
  const report = await replay(readLines(sources), {
    fields, rules, samplingRate: args.sampling, allowList, trustedProxies, ipv6PrefixLength: args.ipv6PrefixLength,
  });
  io.stdout(args.json ? printableJson(replayJson(report)) : printable(formatReplay(report)));
  const warning = mostlyMalformed(report);
  if (warning) {
    io.stderr(warning);
    return EXIT_MOSTLY_MALFORMED;
  }
  return 0;
}

/**
 * A loud message when more than half of the lines could not be read: the report then counts almost nothing, and
 * "nobody would be blocked" would be read as a result when it is a misconfiguration.
 */
function mostlyMalformed(report: ReplayReport): string | undefined {
  if (report.malformed * 2 <= report.lines) return undefined;
  const [code, n] = Object.entries(report.malformedByReason).sort((a, b) => b[1] - a[1])[0];
  const cause = code === LINE_TOO_LONG
    ? 'the input is probably not CloudFront real-time log lines (a binary file, or lines not ended by LF)'
    : code === malformedCode(Malformed.TIMESTAMP) && report.firstBadTimestamp !== undefined
      ? timestampHint(report.firstBadTimestamp)
      : 'the likely cause is the field list: --fields must name the fields of the real-time log configuration (any order); '
      + `these lines were read as ${report.fields.length} tab-separated fields: ${report.fields.join(',')}`;
  return `cdk-waf-guard: WARNING: ${report.malformed.toLocaleString('en-US')} of ${report.lines.toLocaleString('en-US')} lines are malformed, `
    + `most (${n.toLocaleString('en-US')}) for "${malformedMessage(code)}" (${code}).\n`
    + `  ${cause}.\n  The report covers only the lines that could be read; do not take it as what the guard would do.`;
}

interface BlocksModule {
  runBlocks(argv: readonly string[], io: CliIo): Promise<number>;
  runRules(argv: readonly string[], io: CliIo): Promise<number>;
}

/** The package's version, from the package.json two levels up from this file (lib/cli or src/cli). */
export function packageVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(__dirname, '..', '..', 'package.json')) as { version: string }).version;
}

/**
 * The AWS SDK warns on every run under Node.js 20 that its later releases will need Node.js 22. The CLI supports
 * Node.js 20 (package.json engines) and bundles the SDK it was tested with, so the warning says nothing to its users;
 * the SDK's documented switch turns off that one warning (an explicit value the user set is kept), others still show.
 */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * The `blocks` and `rules` commands need the AWS SDK, which package users do not install: they are bundled with it into
 * assets/cli/blocks-command and loaded only when run. From the sources (tests, ts-node) the module itself serves.
 */
function loadBlocksCommand(): BlocksModule {
  const bundle = join(__dirname, '..', '..', 'assets', 'cli', 'blocks-command', 'index.js');
  const source = join(__dirname, 'blocks-command');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(existsSync(bundle) && !__filename.endsWith('.ts') ? bundle : source) as BlocksModule;
}

interface DashboardsModule {
  runDashboards(argv: readonly string[], io: CliIo): Promise<number>;
}

/** `dashboards` needs the AWS SDK and the SigV4 signer: bundled with them into assets/cli/dashboards-command, like `blocks`. */
function loadDashboardsCommand(): DashboardsModule {
  const bundle = join(__dirname, '..', '..', 'assets', 'cli', 'dashboards-command', 'index.js');
  const source = join(__dirname, 'dashboards-command');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(existsSync(bundle) && !__filename.endsWith('.ts') ? bundle : source) as DashboardsModule;
}

/** Runs a command; returns the exit status. Errors the user can fix are printed, not thrown. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(packageVersion());
      return 0;
    }
    silenceSdkNodeVersionWarning();
    if (command === 'blocks') return await loadBlocksCommand().runBlocks(rest, io);
    if (command === 'rules') return await loadBlocksCommand().runRules(rest, io);
    if (command === 'report') return await runReportCommand(rest, io);
    if (command === 'dashboards') return await loadDashboardsCommand().runDashboards(rest, io);
    if (command !== 'replay') throw new UsageError(`unknown command "${command}"`);
    return await runReplay(rest, io);
  } catch (e) {
    // Anything else is a bug: let it surface with its stack.
    if (!(e instanceof UserError)) throw e;
    const usage = e instanceof ReportUsageError ? REPORT_USAGE : e instanceof UsageError ? USAGE : undefined;
    io.stderr(`cdk-waf-guard: ${e.message}${usage ? `\n\n${usage}` : ''}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    // Every command's output, escaped once more on its way out: no value read from a file or table acts on the terminal.
    stdout: (text) => process.stdout.write(`${printable(text)}\n`),
    stderr: (text) => process.stderr.write(`${printable(text)}\n`),
    stdin: process.stdin.isTTY ? undefined : process.stdin,
  }).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`cdk-waf-guard: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
