/**
 * `cdk-waf-guard rules ...`: a deployed guard's rules table read and edited with the caller's AWS credentials, so a
 * threshold changes without a deploy. A row is judged by the handlers' own parser (`parseRuleRows`) before it is
 * written: the CLI refuses what the log processor would refuse, with its message. Bundled with blocks-command.
 */
import { CloudFormationClient, DescribeStackResourcesCommand, StackResource } from '@aws-sdk/client-cloudformation';
import { AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { explainAwsError } from './aws-errors';
import { CommandArgs, parseCommandArgs } from './command-args';
import { UserError } from './errors';
import { parseDurationSeconds } from './rules-file';
import { formatTable, printable, printableJson } from './text-table';
import { ENV } from '../realtime-waf-guard/handler-env';
import { StoredRule } from '../realtime-waf-guard/rule-model';
import { loadRules, parseRuleRows, RuleAdmission } from '../realtime-waf-guard/runtime/rules-store';

export const RULES_USAGE = `Usage: cdk-waf-guard rules <command> [arguments] (--stack <name> | --rules-table <name>)

Commands:
  list [--json]                    every row of the rules table; rows the guard refuses are listed with the reason
  set <ruleId> [field options] [--dry-run]
                                   create the rule, or change the given fields of an existing row (other fields and
                                   attributes stay as they are)
  disable <ruleId> [--dry-run]     keep the row but stop evaluating it (enabled = false)
  enable <ruleId> [--dry-run]      evaluate it again (enabled = true)

Field options of set (a new rule needs --host, --threshold and --window):
  --host <host>                    exact host or wildcard (api.example.com, *.example.com), lower case
  --path-prefix </path>            only requests whose path starts with it count; --all-paths removes it
  --path-case-sensitive <true|false>
  --threshold <n>                  real requests per window at which a client is blocked (1..100000000)
  --window <1m>                    10s to 1h (durations: seconds, or "30s", "5m", "1h", "1d")
  --block-for <15m>                1m to 30d (default 15m)
  --action <BLOCK|COUNT>           COUNT records "would block" without blocking (dry run)
  --enabled <true|false>
  --detach                         remove the stack's marker (managedBy) from a seeded row: a deploy that removes the
                                   rule from the stack then keeps the row (one that changes the rule still rewrites it)

Finding the guard:
  --stack <name>                   the stack holding the guard (CloudFormation DescribeStackResources)
  --guard <text>                   with several guards in the stack: part of the guard's logical ids
  --rules-table <name>             the table itself (guard.rulesTable, stack output RulesTableName)
  --region <region>                default: AWS_REGION, else us-east-1 (where guards live)
  --sampling <1..100>              the guard's samplingRate, for the check of a rule's threshold against it; read from the
                                   log processor's configuration when --stack names the guard, else 100. With --threshold
                                   and --window too, set checks them against it before any AWS call

--dry-run prints the row that would be written and writes nothing. The log processor reads the table again within its
rulesCacheDuration (default 30 s). A row the stack seeded (managedBy set) stays the stack's: a deploy that changes that
rule in the stack overwrites the row, one that removes the rule deletes it (see the README, "Changing a rule without a
deploy").

Exit status: 0 on success; 2 on a mistake in the arguments (checked before any AWS call) or a row the guard would
refuse; 1 when AWS cannot be used (no credentials, access denied, out of reach).`;

export interface RulesIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** AWS clients, injectable for tests. */
export interface RulesClients {
  readonly dynamo: DynamoDBClient;
  readonly cloudFormation: CloudFormationClient;
  /** Reads the guard's sampling rate from its log processor; without it, --sampling or 100. */
  readonly lambda?: LambdaClient;
}

export function defaultRulesClients(region: string): RulesClients {
  return { dynamo: new DynamoDBClient({ region }), cloudFormation: new CloudFormationClient({ region }), lambda: new LambdaClient({ region }) };
}

type Args = CommandArgs;

/** Field options of `set`, and the row attribute each one writes. */
const FIELD_OPTIONS: Record<string, string> = {
  '--host': 'host',
  '--path-prefix': 'pathPrefix',
  '--path-case-sensitive': 'pathCaseSensitive',
  '--threshold': 'threshold',
  '--window': 'windowSeconds',
  '--block-for': 'blockSeconds',
  '--action': 'action',
  '--enabled': 'enabled',
};
const VALUE_OPTIONS = new Set(['--stack', '--guard', '--rules-table', '--region', '--sampling', ...Object.keys(FIELD_OPTIONS)]);
const FLAGS = new Set(['--json', '--dry-run', '--all-paths', '--detach', '--help', '-h']);
const COMMANDS = ['list', 'set', 'disable', 'enable'];

function parseArgs(argv: readonly string[]): Args {
  return parseCommandArgs(argv, { valueOptions: VALUE_OPTIONS, flags: FLAGS, positional: true, mistake: (m) => new UserError(`${m}\n\n${RULES_USAGE}`) });
}

const attr = {
  s: (value: string): AttributeValue => ({ S: value }),
  n: (value: number): AttributeValue => ({ N: String(value) }),
  bool: (value: boolean): AttributeValue => ({ BOOL: value }),
};

/** "true"/"false" as a boolean attribute; anything else as typed, for the rule parser to refuse with its message. */
function flagValue(text: string): AttributeValue {
  const t = text.trim().toLowerCase();
  return t === 'true' || t === 'false' ? attr.bool(t === 'true') : attr.s(text);
}

/** Whole seconds of a duration option; a fraction is kept for the rule parser to refuse. */
function durationValue(text: string, option: string): AttributeValue {
  const seconds = parseDurationSeconds(text, option);
  if (typeof seconds === 'string') throw new UserError(seconds);
  return attr.n(seconds);
}

/** The attributes the field options of `set`, `disable` or `enable` write; `null` removes the attribute. */
function changes(command: string, args: Args): Map<string, AttributeValue | null> {
  const out = new Map<string, AttributeValue | null>();
  if (command === 'disable' || command === 'enable') {
    out.set('enabled', attr.bool(command === 'enable'));
    return out;
  }
  for (const [option, attribute] of Object.entries(FIELD_OPTIONS)) {
    const text = args.options.get(option);
    if (text === undefined) continue;
    switch (option) {
      case '--threshold': out.set(attribute, /^\d{1,15}$/.test(text.trim()) ? attr.n(Number(text)) : attr.s(text)); break;
      case '--window':
      case '--block-for': out.set(attribute, durationValue(text, option)); break;
      case '--path-case-sensitive':
      case '--enabled': out.set(attribute, flagValue(text)); break;
      case '--action': out.set(attribute, attr.s(text.trim().toUpperCase())); break;
      default: out.set(attribute, attr.s(text));
    }
  }
  if (args.flags.has('--all-paths')) {
    if (out.has('pathPrefix')) throw new UserError('give --path-prefix or --all-paths, not both');
    out.set('pathPrefix', null);
  }
  if (args.flags.has('--detach')) out.set('managedBy', null);
  if (out.size === 0) throw new UserError(`rules set: give the fields to change (${Object.keys(FIELD_OPTIONS).join(', ')}, --all-paths, --detach)`);
  return out;
}

function applyChanges(row: Record<string, AttributeValue>, delta: Map<string, AttributeValue | null>): Record<string, AttributeValue> {
  const next = { ...row };
  for (const [name, value] of delta) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  return next;
}

/** A rule the field options alone describe, over a valid stand-in: the parser's complaint, if any, is about an option. */
const STAND_IN: Record<string, AttributeValue> = {
  host: attr.s('example.com'), threshold: attr.n(1), windowSeconds: attr.n(60),
};

/** Everything that can be checked without AWS: the command, the rule id, every option. Returns the row changes. */
function validateRulesArgs(command: string, args: Args): Map<string, AttributeValue | null> | undefined {
  const sampling = args.options.get('--sampling');
  if (sampling !== undefined && !(/^\d{1,3}$/.test(sampling) && Number(sampling) >= 1 && Number(sampling) <= 100)) {
    throw new UserError(`--sampling must be a whole percentage from 1 to 100 (got ${sampling})`);
  }
  if (!args.options.has('--stack') && !args.options.has('--rules-table')) throw new UserError('name the guard: --stack <stack name>, or --rules-table <name>');
  if (command === 'list') {
    if (args.positional.length > 0) throw new UserError(`rules list takes no arguments (got ${args.positional.join(' ')})`);
    return undefined;
  }
  if (args.positional.length !== 1) throw new UserError(`rules ${command} takes one rule id (got ${args.positional.length})`);
  const delta = changes(command, args);
  const ruleId = args.positional[0];
  const problem = parseRuleRows([applyChanges({ ...STAND_IN, ruleId: attr.s(ruleId) }, delta)]).invalid[0];
  if (problem) throw new UserError(problem);
  // With the sampling rate, threshold and window given, the guard's verdict on the rate needs no row from AWS. A
  // disabled row is judged as enabled: it would be refused the moment it is enabled.
  const enabled = delta.get('enabled');
  if (sampling !== undefined && delta.has('threshold') && delta.has('windowSeconds') && enabled?.BOOL !== false) {
    const row = applyChanges({ ...STAND_IN, ruleId: attr.s(ruleId) }, delta);
    const refused = parseRuleRows([{ ...row, enabled: attr.bool(true) }], { samplingRate: Number(sampling) }).invalid[0];
    if (refused) throw new UserError(`the guard would refuse this row: ${refused}; nothing written`);
  }
  return delta;
}

interface Guard {
  readonly rulesTable: string;
  /** The log processor, whose environment holds the sampling rate; undefined when the table was named. */
  readonly logProcessor?: string;
}

async function findGuard(args: Args, clients: RulesClients, region: string): Promise<Guard> {
  const named = args.options.get('--rules-table');
  if (named) return { rulesTable: named };
  const stack = args.options.get('--stack')!;
  let resources: StackResource[];
  try {
    resources = (await clients.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: stack }))).StackResources ?? [];
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) throw new UserError(`no stack "${stack}" in ${region}: check --stack and --region`);
    throw e;
  }
  const guard = args.options.get('--guard');
  const ofGuard = (r: StackResource, type: string, part: string) => r.ResourceType === type && !!r.LogicalResourceId?.includes(part)
    && (!guard || r.LogicalResourceId.includes(guard));
  const tables = resources.filter((r) => ofGuard(r, 'AWS::DynamoDB::Table', 'RulesTable'));
  if (tables.length === 0) throw new UserError(`stack "${stack}" holds no cdk-waf-guard guard${guard ? ` matching --guard ${guard}` : ''} (no rules table)`);
  if (tables.length > 1) {
    throw new UserError(`stack "${stack}" holds several guards: pick one with --guard <part of its logical ids>: ${tables.map((r) => r.LogicalResourceId).join(', ')}`);
  }
  return {
    rulesTable: tables[0].PhysicalResourceId!,
    logProcessor: resources.find((r) => ofGuard(r, 'AWS::Lambda::Function', 'LogProcessor'))?.PhysicalResourceId,
  };
}

/** The sampling rate rows are admitted by, as the log processor reads it; --sampling overrides. */
async function admission(args: Args, clients: RulesClients, guard: Guard, io: RulesIo): Promise<RuleAdmission> {
  const given = args.options.get('--sampling');
  if (given !== undefined) return { samplingRate: Number(given) };
  if (guard.logProcessor && clients.lambda) {
    try {
      const config = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: guard.logProcessor }));
      const rate = Number(config.Environment?.Variables?.[ENV.SAMPLING_RATE]);
      if (Number.isInteger(rate) && rate >= 1 && rate <= 100) return { samplingRate: rate };
    } catch (e) {
      io.stderr(`cdk-waf-guard: warning: the guard's sampling rate could not be read from ${guard.logProcessor} (${(e as Error).message}); `
        + 'checking rules at 100%: pass --sampling if the guard samples its logs');
    }
  }
  return { samplingRate: 100 };
}

const seconds = (s: number) => (s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

function listText(rules: readonly StoredRule[], invalid: readonly string[]): string {
  const table = rules.length === 0 ? 'No valid rules.' : formatTable([
    ['RULE', 'HOST', 'PATH', 'THRESHOLD', 'WINDOW', 'BLOCK FOR', 'ACTION', 'ENABLED', 'SEEDED BY'],
    ...rules.map((r) => [r.ruleId, r.host, `${r.pathPrefix ?? '*'}${r.pathCaseSensitive ? ' (case)' : ''}`, String(r.threshold),
      seconds(r.windowSeconds), seconds(r.blockSeconds), r.action, r.enabled ? 'yes' : 'no', r.managedBy ?? '-']),
  ]);
  return invalid.length === 0 ? table : `${table}\n\nRefused by the guard (not evaluated):\n${invalid.map((m) => `  ${m}`).join('\n')}`;
}

/** A rule row for people: its attributes as plain values. */
function rowText(row: Record<string, AttributeValue>): string {
  const plain = Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, v.S ?? (v.N !== undefined ? Number(v.N) : v.BOOL ?? v)]));
  return JSON.stringify(plain);
}

async function setRow(command: string, ruleId: string, delta: Map<string, AttributeValue | null>, args: Args, clients: RulesClients,
  guard: Guard, io: RulesIo): Promise<number> {
  const table = guard.rulesTable;
  const current = (await clients.dynamo.send(new GetItemCommand({ TableName: table, Key: { ruleId: attr.s(ruleId) }, ConsistentRead: true }))).Item;
  if (!current && command !== 'set') throw new UserError(`no rule "${ruleId}" in ${table}: cdk-waf-guard rules list shows the rule ids`);
  const next = applyChanges(current ?? { ruleId: attr.s(ruleId) }, delta);
  const judged = parseRuleRows([next], await admission(args, clients, guard, io));
  if (judged.invalid.length > 0) throw new UserError(`the guard would refuse this row: ${judged.invalid[0]}; nothing written`);
  if (args.flags.has('--dry-run')) {
    io.stdout(`would write to ${table}:\n${rowText(next)}`);
    return 0;
  }
  try {
    // A new rule never replaces one created meanwhile, and a changed rule is not brought back after a deletion.
    await clients.dynamo.send(new PutItemCommand({
      TableName: table,
      Item: next,
      ...(current
        ? { ConditionExpression: 'attribute_exists(ruleId)' }
        : { ConditionExpression: 'attribute_not_exists(ruleId)' }),
    }));
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') throw new UserError(`rule "${ruleId}" changed meanwhile; run the command again`);
    throw e;
  }
  const rule = judged.rules[0];
  const what = command === 'set' ? (current ? 'changed' : 'created') : `${command}d`;
  io.stdout(`rule "${ruleId}" ${what}: ${rowText(next)}\nThe log processor reads it within its rulesCacheDuration (default 30 s).`
    + (rule.managedBy ? `\nThe row is seeded by the stack (managedBy ${rule.managedBy}): a deploy that changes this rule in the stack `
      + 'rewrites the row, one that removes the rule deletes it (--detach keeps it then).' : ''));
  return 0;
}

/** Runs `rules <command> ...`; returns the exit status (2 for a usage error or a refused row, 1 for AWS failures). */
export async function runRules(argv: readonly string[], io: RulesIo, injected?: RulesClients): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(RULES_USAGE);
      return command === undefined ? 2 : 0;
    }
    const args = parseArgs(rest);
    if (args.flags.has('--help') || args.flags.has('-h')) {
      io.stdout(RULES_USAGE);
      return 0;
    }
    if (!COMMANDS.includes(command)) throw new UserError(`unknown rules command "${command}"\n\n${RULES_USAGE}`);
    // Every argument is checked before any client is made: a typo is reported as a typo, with or without credentials.
    const delta = validateRulesArgs(command, args);
    const region = args.options.get('--region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const clients = injected ?? defaultRulesClients(region);
    const guard = await findGuard(args, clients, region);
    if (command === 'list') {
      const loaded = await loadRules(clients.dynamo, guard.rulesTable, await admission(args, clients, guard, io));
      io.stdout(args.flags.has('--json')
        ? printableJson({ rules: loaded.rules, refused: loaded.invalid })
        : printable(listText(loaded.rules, loaded.invalid)));
      return 0;
    }
    return await setRow(command, args.positional[0], delta!, args, clients, guard, io);
  } catch (e) {
    const explained = explainAwsError(e, '--rules-table');
    if (explained) {
      io.stderr(printable(`cdk-waf-guard: ${explained.message}`));
      return explained.exitCode;
    }
    if (!(e instanceof UserError)) throw e;
    io.stderr(printable(`cdk-waf-guard: ${e.message}`));
    return 2;
  }
}
