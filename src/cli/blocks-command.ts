/**
 * `cdk-waf-guard blocks ...`: the operator console on the command line, against a deployed guard's tables with the
 * caller's AWS credentials. It needs the AWS SDK, a devDependency, so it ships as a bundle of its own
 * (assets/cli/blocks-command) that the CLI loads only for these commands: `replay` keeps running on Node.js built-ins.
 */
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { explainAwsError } from './aws-errors';
import { CommandArgs, parseCommandArgs } from './command-args';
import { UserError } from './errors';
export { runRules } from './rules-command';
import { formatTable, printable, printableJson } from './text-table';
import { BlockRow } from '../realtime-waf-guard/runtime/block-store';
import { operatorSettingsFromEnv } from '../realtime-waf-guard/runtime/config';
import { clientOf, kindOf, ruleOf, RowState, selectRows, untilText } from '../realtime-waf-guard/runtime/console-render';
import { MAX_IPV6_PREFIX_LENGTH, MIN_IPV6_PREFIX_LENGTH } from '../realtime-waf-guard/runtime/ip';
import {
  ActionChoice, ActionError, ActionResult, cleanText, DEFAULT_SHIELD, LIMITS, OperatorActions, OperatorSettings, parsePeriod, parseTarget,
  widthProblem,
} from '../realtime-waf-guard/runtime/operator-actions';

export const BLOCKS_USAGE = `Usage: cdk-waf-guard blocks <command> [arguments] (--stack <name> | --blocks-table <name> --history-table <name>)

Commands:
  list [--rule <id>] [--host <host>] [--ip <text>] [--active | --would-block] [--json]
                                   blocks and dry-run catches in force, newest first
  unblock <ip|prefix> --reason <text> [--shield <1h|0>]
                                   end the blocks of the client or prefix now (the next sync run releases them) and
                                   refuse automatic blocks of it for the shield period (default ${DEFAULT_SHIELD}; 0 for
                                   none); a wider block that holds it is left in force, with the commands to choose
  block <ip|prefix> --for <2h> --reason <text>
                                   block by hand: no new-block budget spent, released only when the period ends
  extend <ip|prefix> --by <1h> --reason <text>
                                   make the client's blocks longer
  allow <ip|prefix> --reason <text> [--for <7d>]
                                   add to the run-time allow-list (no end unless --for)
  unallow <ip|prefix> --reason <text>
                                   take off the run-time allow-list
  history <ip|prefix> [--since <1d|ISO time>] [--json]
                                   what happened to the client, newest first

Finding the guard:
  --stack <name>                   the stack holding the guard (CloudFormation DescribeStackResources)
  --guard <text>                   with several guards in the stack: part of the guard's logical ids
  --blocks-table <name> --history-table <name>
                                   the tables themselves (guard.blocksTable, guard.historyTable)
  --region <region>                default: AWS_REGION, else us-east-1 (where guards live)

The guard's settings (ipv6PrefixLength, the widest allow-list entry) are read from its console function's configuration
(lambda:GetFunctionConfiguration) when --stack names the guard; otherwise the defaults (/64, /16 and /32) apply.
  --ipv6-prefix-length <48..128>   the guard's ipv6PrefixLength, for an IPv6 address's client (history, unblock)

Uses your AWS credentials (AWS_PROFILE, environment, SSO...). Actions are recorded with your IAM identity (STS
GetCallerIdentity) and the reason, applied by the guard's next sync run and announced in its next digest.

Exit status: 0 on success; 2 on a mistake in the arguments (checked before any AWS call) or an action refused; 1 when
AWS cannot be used (no credentials, access denied, out of reach).`;

export interface BlocksIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** AWS clients, injectable for tests. */
export interface BlocksClients {
  readonly doc: DynamoDBDocumentClient;
  readonly sts: STSClient;
  readonly cloudFormation: CloudFormationClient;
  /** Reads the guard's settings from its console function; without it, the defaults apply. */
  readonly lambda?: LambdaClient;
}

type Args = CommandArgs;

const VALUE_OPTIONS = new Set([
  '--stack', '--guard', '--blocks-table', '--history-table', '--region', '--rule', '--host', '--ip', '--reason', '--shield', '--for', '--by', '--since',
  '--ipv6-prefix-length',
]);
const FLAGS = new Set(['--json', '--active', '--would-block', '--help', '-h']);

function parseArgs(argv: readonly string[]): Args {
  return parseCommandArgs(argv, { valueOptions: VALUE_OPTIONS, flags: FLAGS, positional: true, mistake: (m) => new UserError(`${m}\n\n${BLOCKS_USAGE}`) });
}

export function defaultClients(region: string): BlocksClients {
  return {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region }), { marshallOptions: { removeUndefinedValues: true } }),
    sts: new STSClient({ region }),
    cloudFormation: new CloudFormationClient({ region }),
    lambda: new LambdaClient({ region }),
  };
}

interface Tables {
  readonly blocks: string;
  readonly history: string;
  /** The console widget function, whose environment holds the guard's settings; undefined when the tables were named. */
  readonly consoleFunction?: string;
}

/** The guard's tables, given or looked up in its stack. */
async function findTables(args: Args, clients: BlocksClients, region: string): Promise<Tables> {
  const blocks = args.options.get('--blocks-table');
  const history = args.options.get('--history-table');
  const stack = args.options.get('--stack');
  if (blocks && history) return { blocks, history };
  if (!stack) throw new UserError('name the guard: --stack <stack name>, or --blocks-table <name> --history-table <name>');
  let resources;
  try {
    resources = (await clients.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: stack }))).StackResources ?? [];
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) throw new UserError(`no stack "${stack}" in ${region}: check --stack and --region`);
    throw e;
  }
  const guard = args.options.get('--guard');
  const tables = resources.filter((r) => r.ResourceType === 'AWS::DynamoDB::Table' && (!guard || r.LogicalResourceId?.includes(guard)));
  const found = (part: string) => tables.filter((r) => r.LogicalResourceId?.includes(part));
  const blocksTables = found('BlocksTable');
  const historyTables = found('HistoryTable');
  if (blocksTables.length === 0 || historyTables.length === 0) {
    throw new UserError(`stack "${stack}" holds no cdk-waf-guard guard${guard ? ` matching --guard ${guard}` : ''} (no blocks and history tables)`);
  }
  if (blocksTables.length > 1 || historyTables.length > 1) {
    throw new UserError(`stack "${stack}" holds several guards: pick one with --guard <part of its logical ids>: ${blocksTables.map((r) => r.LogicalResourceId).join(', ')}`);
  }
  const consoleFunction = resources.find((r) => r.ResourceType === 'AWS::Lambda::Function' && r.LogicalResourceId?.includes('ConsoleWidget')
    && (!guard || r.LogicalResourceId.includes(guard)))?.PhysicalResourceId;
  return { blocks: blocks ?? blocksTables[0].PhysicalResourceId!, history: history ?? historyTables[0].PhysicalResourceId!, consoleFunction };
}

/**
 * The settings the guard's own console follows, read from its function's environment, so the CLI and the widget act
 * alike; `--ipv6-prefix-length` overrides. Unreadable (no permission, no console): the defaults, with a warning.
 */
async function guardSettings(args: Args, clients: BlocksClients, tables: Tables, io: BlocksIo): Promise<OperatorSettings> {
  let settings: OperatorSettings = {};
  if (tables.consoleFunction && clients.lambda) {
    try {
      const config = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: tables.consoleFunction }));
      settings = operatorSettingsFromEnv(config.Environment?.Variables ?? {});
    } catch (e) {
      io.stderr(`cdk-waf-guard: warning: the guard's settings could not be read from ${tables.consoleFunction} (${(e as Error).message}); ` +
        'using the defaults: pass --ipv6-prefix-length if the guard has another ipv6PrefixLength');
    }
  }
  const length = ipv6PrefixLengthOption(args);
  return length === undefined ? settings : { ...settings, ipv6PrefixLength: length };
}

/** The commands that carry out the choices an action offers, with the options that found this guard. */
function choicesText(choices: readonly ActionChoice[] | undefined, args: Args): string {
  if (!choices?.length) return '';
  const guard = ['--stack', '--guard', '--blocks-table', '--history-table', '--region', '--ipv6-prefix-length']
    .flatMap((o) => (args.options.has(o) ? [`${o} ${args.options.get(o)}`] : [])).join(' ');
  const command = (c: ActionChoice) => c.action === 'unblock'
    ? `cdk-waf-guard blocks unblock ${c.target} --reason <text> [--shield 1h|0] ${guard}`
    : `cdk-waf-guard blocks allow ${c.target} --reason <text> [--for 7d] ${guard}`;
  return `\nChoices:\n${formatTable(choices.map((c) => [`${c.label}:`, command(c).trimEnd()]), '  ')}`;
}

/** Who acts: the caller's IAM identity, so history names a principal CloudTrail can match. */
async function callerArn(clients: BlocksClients): Promise<string> {
  const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new UserError('STS returned no caller identity');
  return identity.Arn;
}

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

function listText(rows: readonly BlockRow[]): string {
  if (rows.length === 0) return 'Nothing blocked.';
  return formatTable([
    ['CLIENT', 'WHAT', 'RULE', 'HOST', 'ROUTE', 'SINCE', 'UNTIL', 'COUNT', 'BY HAND'],
    ...rows.map((r) => [
      clientOf(r), kindOf(r), ruleOf(r), r.host, r.route ?? '-', iso(r.blockedAt), untilText(r.blockedUntil),
      r.threshold > 0 ? `${r.observed}/${r.threshold} in ${r.windowSeconds}s` : '-',
      r.manualBy ? `${r.manualBy} (${r.manualVia}): ${r.manualReason}` : '',
    ]),
  ]) + `\n${rows.length} row${rows.length === 1 ? '' : 's'}`;
}

function rowJson(r: BlockRow): Record<string, unknown> {
  return {
    client: clientOf(r),
    kind: kindOf(r),
    ruleId: r.ruleId,
    host: r.host,
    action: r.action,
    route: r.route,
    observed: r.observed,
    threshold: r.threshold,
    windowSeconds: r.windowSeconds,
    since: iso(r.blockedAt),
    until: iso(r.blockedUntil),
    manualAction: r.manualAction,
    manualBy: r.manualBy,
    manualReason: r.manualReason,
    manualVia: r.manualVia,
  };
}

function need(args: Args, option: string, what: string): string {
  const value = args.options.get(option);
  if (value === undefined) throw new UserError(`${option} <${what}> is required`);
  return value;
}

function target(args: Args, command: string): string {
  if (args.positional.length !== 1) throw new UserError(`blocks ${command} takes one address or prefix (got ${args.positional.length})`);
  return args.positional[0];
}

/** Runs `blocks <command> ...`; returns the exit status (2 for anything the operator can fix). */
export async function runBlocks(argv: readonly string[], io: BlocksIo, injected?: BlocksClients): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(BLOCKS_USAGE);
      return command === undefined ? 2 : 0;
    }
    const args = parseArgs(rest);
    if (args.flags.has('--help') || args.flags.has('-h')) {
      io.stdout(BLOCKS_USAGE);
      return 0;
    }
    if (!['list', 'unblock', 'block', 'extend', 'allow', 'unallow', 'history'].includes(command)) {
      throw new UserError(`unknown blocks command "${command}"\n\n${BLOCKS_USAGE}`);
    }
    // Every argument is checked before any client is made: a typo is reported as a typo, with or without credentials.
    validateArgs(command, args);
    const region = args.options.get('--region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const clients = injected ?? defaultClients(region);
    const tables = await findTables(args, clients, region);
    const actions = new OperatorActions(clients.doc, tables.blocks, Date.now, await guardSettings(args, clients, tables, io));
    const json = args.flags.has('--json');
    if (command === 'list') {
      const state: RowState = args.flags.has('--active') ? 'active' : args.flags.has('--would-block') ? 'would-block' : 'all';
      const rows = selectRows(await actions.rows(), {
        rule: args.options.get('--rule'), host: args.options.get('--host'), ip: args.options.get('--ip'), state,
      }, Date.now());
      io.stdout(json ? printableJson(rows.map(rowJson)) : listText(rows));
      return 0;
    }
    if (command === 'history') {
      const since = args.options.get('--since');
      const items = await actions.history(tables.history, target(args, command), since === undefined ? undefined : sinceMs(since));
      if (json) {io.stdout(printableJson(items));} else if (items.length === 0) {io.stdout('No history.');} else {
        io.stdout(formatTable([
          ['AT', 'EVENT', 'RULE', 'HOST', 'UNTIL', 'BY', 'REASON'],
          ...items.map((h) => [String(h.at).split('#')[0], String(h.event), String(h.ruleId), String(h.host), iso(h.blockedUntil),
            h.manualBy ? `${h.manualBy} (${h.manualVia})` : '', String(h.manualReason ?? '')]),
        ]));
      }
      return 0;
    }
    const reason = need(args, '--reason', 'text');
    const t = target(args, command);
    const operator = { name: await callerArn(clients), via: 'cli' as const };
    let result: ActionResult;
    switch (command) {
      case 'unblock': result = await actions.unblock({ target: t, reason, operator, shield: args.options.get('--shield') ?? DEFAULT_SHIELD }); break;
      case 'block': result = await actions.block({ target: t, period: need(args, '--for', 'period'), reason, operator }); break;
      case 'extend': result = await actions.extend({ target: t, by: need(args, '--by', 'period'), reason, operator }); break;
      case 'allow': result = await actions.allow({ target: t, period: args.options.get('--for'), reason, operator }); break;
      default: result = await actions.unallow({ target: t, reason, operator });
    }
    io.stdout(json ? printableJson({ message: result.message, rows: result.rows.map(rowJson), choices: result.choices ?? [] })
      : printable(result.message + choicesText(result.choices, args)));
    return 0;
  } catch (e) {
    const explained = explainAwsError(e, '--blocks-table, --history-table');
    if (explained) {
      io.stderr(printable(`cdk-waf-guard: ${explained.message}`));
      return explained.exitCode;
    }
    if (!(e instanceof UserError || e instanceof ActionError)) throw e;
    io.stderr(printable(`cdk-waf-guard: ${e.message}${e instanceof ActionError ? choicesText(e.choices, parseArgsQuietly(rest)) : ''}`));
    return 2;
  }
}

const MUTATIONS = ['unblock', 'block', 'extend', 'allow', 'unallow'];

/**
 * The checks that need no table: the command's address, periods, reason and settings, and a way to find the guard.
 * The same functions the actions use judge them, so the messages are the actions' own.
 */
function validateArgs(command: string, args: Args): void {
  const asUsage = (check: () => unknown) => {
    try {
      check();
    } catch (e) {
      if (e instanceof ActionError) throw new UserError(e.message);
      throw e;
    }
  };
  if (command !== 'list') {
    const t = target(args, command);
    asUsage(() => parseTarget(t));
    if (command === 'block') {
      const tooWide = widthProblem(parseTarget(t), LIMITS.minBlockPrefixV4, LIMITS.minBlockPrefixV6, 'block a smaller network, or use a WAF rule for whole ranges');
      if (tooWide) throw new UserError(tooWide);
    }
  }
  if (MUTATIONS.includes(command)) asUsage(() => cleanText(need(args, '--reason', 'text'), 'a reason', LIMITS.maxReason));
  if (command === 'block') asUsage(() => parsePeriod(need(args, '--for', 'period'), 'the block period', LIMITS.minPeriodMs, LIMITS.maxPeriodMs));
  if (command === 'extend') asUsage(() => parsePeriod(need(args, '--by', 'period'), 'the extension', LIMITS.minPeriodMs, LIMITS.maxPeriodMs));
  const allowFor = args.options.get('--for');
  if (command === 'allow' && allowFor) asUsage(() => parsePeriod(allowFor, 'the allow period', LIMITS.minPeriodMs, 10 * 365 * 86_400_000));
  const shield = args.options.get('--shield');
  if (command === 'unblock' && shield !== undefined && shield.trim() !== '0') {
    asUsage(() => parsePeriod(shield, 'the shield period', LIMITS.minPeriodMs, LIMITS.maxShieldMs));
  }
  const since = args.options.get('--since');
  if (command === 'history' && since !== undefined) sinceMs(since);
  ipv6PrefixLengthOption(args);
  // The states exclude each other; taking one of the two silently would list other rows than asked for.
  if (args.flags.has('--active') && args.flags.has('--would-block')) throw new UserError('give --active or --would-block, not both');
  const named = args.options.has('--blocks-table') && args.options.has('--history-table');
  if (!named && !args.options.has('--stack')) throw new UserError('name the guard: --stack <stack name>, or --blocks-table <name> --history-table <name>');
}

/** `--since` as epoch ms: a duration back from now, or an ISO time. */
function sinceMs(since: string): number {
  let ms: number;
  try {
    ms = /^\d{4}-/.test(since) ? Date.parse(since) : Date.now() - parsePeriod(since, '--since', 1000, 10 * 365 * 86_400_000);
  } catch {
    ms = NaN;
  }
  if (Number.isNaN(ms)) throw new UserError(`--since must be a duration like "1d" or an ISO time (got ${since})`);
  return ms;
}

/** `--ipv6-prefix-length`, checked; undefined when not given. */
function ipv6PrefixLengthOption(args: Args): number | undefined {
  const flag = args.options.get('--ipv6-prefix-length');
  if (flag === undefined) return undefined;
  const length = /^\d{1,3}$/.test(flag) ? Number(flag) : NaN;
  if (!(length >= MIN_IPV6_PREFIX_LENGTH && length <= MAX_IPV6_PREFIX_LENGTH)) {
    throw new UserError(`--ipv6-prefix-length must be a whole number from ${MIN_IPV6_PREFIX_LENGTH} to ${MAX_IPV6_PREFIX_LENGTH} (got ${flag})`);
  }
  return length;
}

function parseArgsQuietly(argv: readonly string[]): Args {
  try {
    return parseArgs(argv);
  } catch {
    return { positional: [], options: new Map(), flags: new Set() };
  }
}
