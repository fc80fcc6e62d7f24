import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { nagFindings, newStack, US_EAST_1 } from './construct-fixtures';
import { RealtimeWafGuard, RealtimeWafGuardProps } from '../../src';
import { EXIT_RUNTIME } from '../../src/cli/aws-errors';
import { BlocksClients, runBlocks } from '../../src/cli/blocks-command';
import { RulesClients, runRules } from '../../src/cli/rules-command';
import { createGuardTables, GuardTables, useLocalDynamo } from '../support/guard-setup';
import { AwsCall, Deployment, isAllowed, PolicyStatement, resolveIntrinsics } from '../support/iam-evaluator';

/**
 * The operator grants judged by the calls themselves: every `cdk-waf-guard blocks` and `rules` command runs against
 * dynalite through clients that ask an IAM evaluator, with the grantee's synthesized policy, before each call (DynamoDB
 * calls as sent on the wire; CloudFormation, Lambda and STS answered from the synthesized template). A call the policy lacks fails as it
 * would in AWS, with AccessDeniedException.
 */
const ACCOUNT = '111111111111';
const STACK = 'GuardStack';
const STACK_ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/0d6a8f60-0000-11f1-9f1e-0a1b2c3d4e5f`;
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/Operator/alice`;
const dynamo = useLocalDynamo();

/** A guard whose stack also holds an operator role and a read-only role, granted by the guard. */
function synthGrants(props: RealtimeWafGuardProps = {}) {
  const stack = newStack();
  const guard = new RealtimeWafGuard(stack, 'Guard', props);
  const operator = new iam.Role(stack, 'OperatorRole', { assumedBy: new iam.AccountRootPrincipal() });
  const viewer = new iam.Role(stack, 'ViewerRole', { assumedBy: new iam.AccountRootPrincipal() });
  const operatorGrant = guard.grantOperator(operator);
  const viewerGrant = guard.grantReadOnly(viewer);
  return { stack, guard, template: Template.fromStack(stack), operatorGrant, viewerGrant };
}

const tableArn = (name: string) => `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${name}`;
const functionArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** What deploying the template would name things: the guard's tables are the dynalite tables of the test. */
function deploymentOf(template: Template, tables: GuardTables): Deployment {
  const refs: Record<string, string> = {};
  const attributes: Record<string, string> = {};
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)) {
    if (resource.Type === 'AWS::DynamoDB::Table') {
      const kind = (['rules', 'counters', 'blocks', 'history'] as const).find((k) => id.toLowerCase().includes(`${k}table`))!;
      refs[id] = tables[kind];
      attributes[`${id}.Arn`] = tableArn(tables[kind]);
      attributes[`${id}.StreamArn`] = `${tableArn(tables[kind])}/stream/2026-01-01T00:00:00.000`;
    } else if (resource.Type === 'AWS::Lambda::Function') {
      refs[id] = `${STACK}-${id}`;
      attributes[`${id}.Arn`] = functionArn(refs[id]);
    } else {
      // the rest only appears in the dashboard body (alarm ARNs), which the viewer does not act on
      refs[id] = id;
      attributes[`${id}.Arn`] = `arn:aws:${resource.Type.split('::')[1].toLowerCase()}:us-east-1:${ACCOUNT}:${id}`;
    }
  }
  return {
    pseudo: { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': STACK, 'AWS::StackId': STACK_ID },
    refs,
    attributes,
  };
}

/** The statements of the policies attached to the role whose logical id starts with `roleId`. */
function statementsOf(template: Template, roleId: string, deployment: Deployment): PolicyStatement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles ?? []).some((r: { Ref?: string }) => r.Ref?.startsWith(roleId)));
  expect(policies.length).toBeGreaterThan(0);
  return policies.flatMap((p) => resolveIntrinsics(p.Properties.PolicyDocument.Statement, deployment));
}

/** Every (action, resource) pair the statements name, so merged or split statements compare alike. */
function grantedPairs(statements: readonly PolicyStatement[]): string[] {
  return statements.flatMap((s) => {
    expect(s.Effect).toBe('Allow');
    return [s.Action!].flat().flatMap((a) => [s.Resource!].flat().map((r) => `${a} ${r}`));
  }).sort();
}

class AccessDenied extends Error {
  public readonly name = 'AccessDeniedException';
}

/** AWS as the grantee sees it: each call is authorized against `statements` before it is made, and recorded. */
class Session {
  public readonly calls: AwsCall[] = [];
  public readonly denied: AwsCall[] = [];

  constructor(private readonly template: Template, private readonly deployment: Deployment, private readonly statements: PolicyStatement[]) {}

  public authorize(call: AwsCall): void {
    this.calls.push(call);
    if (!isAllowed(this.statements, call)) {
      this.denied.push(call);
      throw new AccessDenied(`User: ${CALLER} is not authorized to perform: ${call.action} on resource: ${call.resource}`);
    }
  }

  /** Clients of both commands: `doc` and `dynamo` share one middleware stack, so every DynamoDB call is authorized. */
  public clients(): BlocksClients & RulesClients {
    const { client, doc } = dynamo().connect();
    // On the wire, after serialization: the operation DynamoDB authorizes and the table (and index) it names.
    doc.middlewareStack.add((next: any) => async (args: any) => {
      const operation = String(args.request.headers['x-amz-target']).split('.')[1];
      const raw = args.request.body;
      const body = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
      this.authorize({ action: `dynamodb:${operation}`, resource: `${tableArn(body.TableName)}${body.IndexName ? `/index/${body.IndexName}` : ''}` });
      return next(args);
    }, { step: 'build', name: 'authorizeDynamo' });
    const options = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    return {
      doc,
      dynamo: client,
      sts: this.fake(new STSClient(options), () => {
        this.authorize({ action: 'sts:GetCallerIdentity', resource: '*' });
        return { Arn: CALLER, Account: ACCOUNT };
      }),
      cloudFormation: this.fake(new CloudFormationClient(options), (input) => {
        this.authorize({ action: 'cloudformation:DescribeStackResources', resource: input.StackName === STACK ? STACK_ID : `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${input.StackName}/1` });
        if (input.StackName !== STACK) throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
        return {
          StackResources: Object.entries(this.template.toJSON().Resources as Record<string, { Type: string }>).map(([id, r]) => ({
            LogicalResourceId: id, PhysicalResourceId: this.deployment.refs[id], ResourceType: r.Type, StackName: STACK,
          })),
        };
      }),
      lambda: this.fake(new LambdaClient(options), (input) => {
        this.authorize({ action: 'lambda:GetFunctionConfiguration', resource: functionArn(input.FunctionName) });
        const [, fn] = Object.entries(this.template.findResources('AWS::Lambda::Function'))
          .find(([id]) => this.deployment.refs[id] === input.FunctionName) ?? [];
        if (!fn) throw Object.assign(new Error(`Function not found: ${input.FunctionName}`), { name: 'ResourceNotFoundException' });
        return { FunctionName: input.FunctionName, Environment: resolveIntrinsics(fn.Properties.Environment, this.deployment) };
      }),
    };
  }

  /** What a console viewer's browser calls: the dashboard, then each custom widget's function as the body names it. */
  public viewDashboard(): void {
    const [[id, dashboard]] = Object.entries(this.template.findResources('AWS::CloudWatch::Dashboard'));
    this.authorize({ action: 'cloudwatch:GetDashboard', resource: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${this.deployment.refs[id]}` });
    const body = JSON.parse(resolveIntrinsics(dashboard.Properties.DashboardBody, this.deployment));
    const endpoints = body.widgets.filter((w: { type: string }) => w.type === 'custom').map((w: { properties: { endpoint: string } }) => w.properties.endpoint);
    expect(endpoints).toHaveLength(1);
    for (const endpoint of endpoints) this.authorize({ action: 'lambda:InvokeFunction', resource: endpoint });
  }

  /** A client that answers each command from `answer` instead of sending it. */
  private fake<C extends { middlewareStack: { add: (...a: any[]) => void } }>(client: C, answer: (input: any) => Record<string, unknown>): C {
    client.middlewareStack.add(() => async (args: any) => ({ output: { $metadata: {}, ...answer(args.input) } }), { step: 'initialize', name: 'fakeAws' });
    return client;
  }
}

async function setUp(props: RealtimeWafGuardProps = {}) {
  const { template } = synthGrants(props);
  const tables = await createGuardTables(dynamo(), [
    { ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 20, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true },
  ]);
  const deployment = deploymentOf(template, tables);
  const session = (roleId: string) => new Session(template, deployment, statementsOf(template, roleId, deployment));
  return { template, tables, deployment, session };
}

async function cli(clients: BlocksClients, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runBlocks(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, clients);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `cdk-waf-guard rules ...`, as the CLI runs it. */
async function rulesCli(clients: RulesClients, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRules(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, clients);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The rules table as the test (not the grantee) reads it. */
async function rulesRows(table: string) {
  const rows = (await dynamo().doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
  return rows.sort((a, b) => String(a.ruleId).localeCompare(String(b.ruleId)));
}

const byStack = ['--stack', STACK];
const OPERATOR_COMMANDS: string[][] = [
  ['block', '203.0.113.5', '--for', '2h', '--reason', 'scraping'],
  ['list'],
  ['extend', '203.0.113.5', '--by', '1h', '--reason', 'still at it'],
  ['unblock', '203.0.113.5', '--reason', 'false positive'],
  ['allow', '192.0.2.0/24', '--for', '7d', '--reason', 'partner office'],
  ['unallow', '192.0.2.0/24', '--reason', 'contract ended'],
  ['history', '203.0.113.5', '--since', '1d'],
  ['history', '2001:db8::1'],
];
/** Every `rules` command that writes, each on the row it writes. */
const RULES_WRITES: string[][] = [
  ['set', 'api', '--host', 'api.example.com', '--path-prefix', '/v1', '--threshold', '600', '--window', '1m'],
  ['set', 'login', '--threshold', '30'],
  ['disable', 'login'],
  ['enable', 'login'],
];

test('grantOperator: every blocks and rules command and the console are allowed, and the commands took each path', async () => {
  const { tables, session } = await setUp();
  const operator = session('OperatorRole');
  const clients = operator.clients();
  for (const argv of OPERATOR_COMMANDS) {
    const result = await cli(clients, ...argv, ...byStack);
    expect({ argv, code: result.code, err: result.err }).toEqual({ argv, code: 0, err: '' });
  }
  expect((await cli(clients, 'list', '--blocks-table', tables.blocks, '--history-table', tables.history)).code).toBe(0);
  // With --stack the rules commands read the sampling rate from the log processor: a refused read would warn on stderr.
  for (const argv of [['list'], ...RULES_WRITES, ['disable', 'api'], ['list', '--json']]) {
    const result = await rulesCli(clients, ...argv, ...byStack);
    expect({ argv, code: result.code, err: result.err }).toEqual({ argv, code: 0, err: '' });
  }
  const listed = JSON.parse((await rulesCli(clients, 'list', '--json', ...byStack)).out);
  expect(listed.rules.map((r: { ruleId: string; threshold: number; enabled: boolean }) => [r.ruleId, r.threshold, r.enabled]))
    .toEqual([['api', 600, false], ['login', 30, true]]);
  expect(await rulesRows(tables.rules)).toEqual([
    { ruleId: 'api', host: 'api.example.com', pathPrefix: '/v1', threshold: 600, windowSeconds: 60, enabled: false },
    { ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 30, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true },
  ]);
  // --rules-table names the table: no stack lookup, the same table calls
  expect((await rulesCli(clients, 'disable', 'login', '--rules-table', tables.rules)).code).toBe(0);
  expect((await rulesRows(tables.rules)).find((r) => r.ruleId === 'login')!.enabled).toBe(false);
  operator.viewDashboard();

  expect(operator.denied).toEqual([]);
  const made = new Set(operator.calls.map((c) => `${c.action} ${c.resource}`));
  expect([...made].sort()).toEqual(expect.arrayContaining([
    `dynamodb:Scan ${tableArn(tables.blocks)}`,
    `dynamodb:PutItem ${tableArn(tables.blocks)}`,
    `dynamodb:UpdateItem ${tableArn(tables.blocks)}`,
    `dynamodb:Query ${tableArn(tables.history)}`,
    `dynamodb:Scan ${tableArn(tables.rules)}`,
    `dynamodb:GetItem ${tableArn(tables.rules)}`,
    `dynamodb:PutItem ${tableArn(tables.rules)}`,
    `cloudformation:DescribeStackResources ${STACK_ID}`,
    expect.stringMatching(/^lambda:GetFunctionConfiguration arn:aws:lambda:us-east-1:111111111111:function:GuardStack-GuardConsoleConsoleWidget/),
    expect.stringMatching(/^lambda:GetFunctionConfiguration arn:aws:lambda:us-east-1:111111111111:function:GuardStack-Guard\w*LogProcessor/),
    expect.stringMatching(/^lambda:InvokeFunction arn:aws:lambda:us-east-1:111111111111:function:GuardStack-GuardConsoleConsoleWidget/),
  ]));
  // what the rules commands call on their table, and nothing else (no UpdateItem to grant)
  expect([...made].filter((c) => c.endsWith(` ${tableArn(tables.rules)}`)).map((c) => c.split(' ')[0]).sort())
    .toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan']);
});

test('the rules commands judge a row at the sampling rate read from the log processor, under either grant', async () => {
  const { tables, session } = await setUp({ samplingRate: 1 });
  for (const role of ['OperatorRole', 'ViewerRole']) {
    const grantee = session(role);
    // At 1% sampling a threshold of 20 per 10 s cannot be told from chance: refused before any write.
    const refused = await rulesCli(grantee.clients(), 'set', 'login', '--threshold', '20', '--window', '10s', ...byStack);
    expect({ role, code: refused.code }).toEqual({ role, code: 2 });
    expect(refused.err).toMatch(/^cdk-waf-guard: the guard would refuse this row: rule "login": .*; nothing written$/);
    expect(grantee.denied).toEqual([]);
    expect(grantee.calls).toContainEqual({ action: 'lambda:GetFunctionConfiguration', resource: expect.stringMatching(/LogProcessor/) });
  }
  // the same row at the 100% the CLI falls back to without the read is admitted
  expect((await rulesCli(session('OperatorRole').clients(), 'set', 'login', '--threshold', '20', '--window', '10s', '--dry-run', '--rules-table', tables.rules)).code).toBe(0);
});

test('grantReadOnly: blocks list and history, rules list and the dashboard are allowed; every action is refused at its first write, and nothing changes', async () => {
  const { tables, session } = await setUp();
  const setup = session('OperatorRole').clients();
  expect((await cli(setup, 'block', '203.0.113.5', '--for', '2h', '--reason', 'scraping', ...byStack)).code).toBe(0);
  expect((await cli(setup, 'allow', '192.0.2.0/24', '--reason', 'partner office', ...byStack)).code).toBe(0);
  const rowsBefore = (await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items;
  const rulesBefore = await rulesRows(tables.rules);

  const viewer = session('ViewerRole');
  const clients = viewer.clients();
  for (const argv of [['list'], ['list', '--json'], ['history', '203.0.113.5', '--since', '1d']]) {
    expect(await cli(clients, ...argv, ...byStack)).toMatchObject({ code: 0, err: '' });
  }
  expect((await cli(clients, 'list', ...byStack)).out).toContain('203.0.113.5');
  for (const argv of [['list'], ['list', '--json']]) {
    expect(await rulesCli(clients, ...argv, ...byStack)).toMatchObject({ code: 0, err: '' });
  }
  expect((await rulesCli(clients, 'list', ...byStack)).out).toMatch(/login\s+www\.example\.com\s+\/login\s+20\s/);
  expect(viewer.denied).toEqual([]);

  const writes = [
    ['block', '198.51.100.9', '--for', '1h', '--reason', 'x'],
    ['extend', '203.0.113.5', '--by', '1h', '--reason', 'x'],
    ['unblock', '203.0.113.5', '--reason', 'x'],
    ['allow', '198.51.100.0/24', '--reason', 'x'],
    ['unallow', '192.0.2.0/24', '--reason', 'x'],
  ];
  for (const argv of writes) {
    const deniedBefore = viewer.denied.length;
    const result = await cli(clients, ...argv, ...byStack);
    // a refusal by AWS is not a mistake in the arguments: the CLI's status for AWS failures
    expect({ argv, code: result.code }).toEqual({ argv, code: EXIT_RUNTIME });
    expect(result.err).toContain('AWS refused the call (AccessDeniedException)');
    // refused at a write of the blocks table, after the reads it needed were allowed
    expect(viewer.denied.slice(deniedBefore)).toEqual([{ action: expect.stringMatching(/^dynamodb:(PutItem|UpdateItem)$/), resource: tableArn(tables.blocks) }]);
  }
  for (const argv of RULES_WRITES) {
    const deniedBefore = viewer.denied.length;
    const result = await rulesCli(clients, ...argv, ...byStack);
    expect({ argv, code: result.code }).toEqual({ argv, code: EXIT_RUNTIME });
    expect(result.err).toContain('AWS refused the call (AccessDeniedException)');
    // refused at the put of the row, after the stack, the sampling rate and the row were read
    expect(viewer.denied.slice(deniedBefore)).toEqual([{ action: 'dynamodb:PutItem', resource: tableArn(tables.rules) }]);
  }
  expect(await rulesRows(tables.rules)).toEqual(rulesBefore);
  expect(() => viewer.viewDashboard()).toThrow(/not authorized to perform: lambda:InvokeFunction/);
  expect(viewer.denied.at(-1)).toEqual({ action: 'lambda:InvokeFunction', resource: expect.stringContaining('ConsoleWidget') });
  expect((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items).toEqual(rowsBefore);
});

test('the grants hold exactly these actions on exactly these resources: no wildcard resource, no KMS, no other table', async () => {
  const { template, tables, deployment } = await setUp();
  const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
  const fn = functions.find((id) => id.includes('ConsoleWidget'))!;
  const dashboard = Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))[0];
  const console = functionArn(deployment.refs[fn]);
  const [logProcessor, ...others] = functions.filter((id) => id.includes('LogProcessor'));
  expect(others).toEqual([]);
  const reads = [
    `dynamodb:Scan ${tableArn(tables.rules)}`,
    `dynamodb:GetItem ${tableArn(tables.rules)}`,
    `dynamodb:Scan ${tableArn(tables.blocks)}`,
    `dynamodb:Query ${tableArn(tables.history)}`,
    `cloudformation:DescribeStackResources ${STACK_ID}`,
    `lambda:GetFunctionConfiguration ${console}`,
    `lambda:GetFunctionConfiguration ${functionArn(deployment.refs[logProcessor])}`,
    `cloudwatch:GetDashboard arn:aws:cloudwatch::${ACCOUNT}:dashboard/${dashboard}`,
  ];
  const writes = [
    `dynamodb:PutItem ${tableArn(tables.rules)}`,
    `dynamodb:PutItem ${tableArn(tables.blocks)}`,
    `dynamodb:UpdateItem ${tableArn(tables.blocks)}`,
    `lambda:InvokeFunction ${console}`,
  ];
  expect(grantedPairs(statementsOf(template, 'OperatorRole', deployment))).toEqual([...reads, ...writes].sort());
  expect(grantedPairs(statementsOf(template, 'ViewerRole', deployment))).toEqual([...reads].sort());
});

test('without the dashboard the grants hold the tables, the stack lookup and the log processor\'s configuration only', async () => {
  const { template, tables, deployment } = await setUp({ dashboard: false });
  const pairs = grantedPairs(statementsOf(template, 'OperatorRole', deployment));
  expect(pairs.filter((p) => !p.startsWith('dynamodb:'))).toEqual([
    `cloudformation:DescribeStackResources ${STACK_ID}`,
    expect.stringMatching(/^lambda:GetFunctionConfiguration arn:aws:lambda:us-east-1:111111111111:function:GuardStack-Guard\w*LogProcessor/),
  ]);
  expect(pairs.filter((p) => p.startsWith('dynamodb:')).map((p) => p.split(' ')[1])).not.toContain(tableArn(tables.counters));
  // the CLI still works: the settings fall back to the defaults, as the CLI says
  const operator = new Session(template, deployment, statementsOf(template, 'OperatorRole', deployment));
  const result = await cli(operator.clients(), 'block', '203.0.113.5', '--for', '2h', '--reason', 'scraping', ...byStack);
  expect(result).toMatchObject({ code: 0, err: '' });
  expect(operator.denied).toEqual([]);
});

test('grantOperator returns a grant on the grantee\'s policy', () => {
  const { operatorGrant, viewerGrant } = synthGrants();
  expect(operatorGrant.success).toBe(true);
  expect(viewerGrant.success).toBe(true);
  expect(operatorGrant.principalStatements.length).toBeGreaterThanOrEqual(7);
});

test('a grantee in another stack of the app gets the same statements through exports; cdk-nag finds nothing on it', () => {
  const guardStack = newStack();
  const guard = new RealtimeWafGuard(guardStack, 'Guard');
  const opsStack = new Stack(guardStack.node.root as App, 'OpsStack', US_EAST_1);
  const operators = new iam.Role(opsStack, 'OperatorRole', { assumedBy: new iam.AccountRootPrincipal() });
  guard.grantOperator(operators);
  const findings = nagFindings(opsStack);
  const policies = Object.values(Template.fromStack(opsStack).findResources('AWS::IAM::Policy'));
  expect(policies).toHaveLength(1);
  const statements = policies[0].Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
  expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual([
    'cloudformation:DescribeStackResources', 'cloudwatch:GetDashboard', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:PutItem',
    'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:Scan', 'dynamodb:UpdateItem', 'lambda:GetFunctionConfiguration', 'lambda:GetFunctionConfiguration',
    'lambda:InvokeFunction',
  ]);
  // every resource is the guard stack's own, imported: none is a pattern
  expect(statements.every((s) => JSON.stringify(s.Resource).includes('Fn::ImportValue') && !JSON.stringify(s.Resource).includes('*'))).toBe(true);
  expect(findings).toEqual([]);
});

test('the README\'s policy for a CLI user outside CDK is grantOperator\'s, and without the writes grantReadOnly\'s', async () => {
  const { template, tables, deployment } = await setUp();
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes('"Sid": "RulesTable"'));
  expect(blocks).toHaveLength(1);
  const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
  const fn = functions.find((id) => id.includes('ConsoleWidget'))!;
  const logProcessor = functions.find((id) => id.includes('LogProcessor'))!;
  const dashboard = Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))[0];
  const names: Record<string, string> = {
    '<account>': ACCOUNT,
    '<rules table>': tables.rules,
    '<blocks table>': tables.blocks,
    '<history table>': tables.history,
    '<stack id>': STACK_ID,
    '<console function>': deployment.refs[fn],
    '<log processor>': deployment.refs[logProcessor],
    '<dashboard>': deployment.refs[dashboard],
  };
  const policy = JSON.parse(blocks[0].replace(/<[a-z ]+>/g, (placeholder) => {
    expect(Object.keys(names)).toContain(placeholder);
    return names[placeholder];
  }));
  const documented = grantedPairs(policy.Statement);
  expect(documented).toEqual(grantedPairs(statementsOf(template, 'OperatorRole', deployment)));
  // "For read-only access, drop PutItem, UpdateItem and lambda:InvokeFunction."
  expect(readme).toContain('For read-only access, drop `PutItem`, `UpdateItem` and `lambda:InvokeFunction`.');
  expect(documented.filter((p) => !/^(dynamodb:PutItem|dynamodb:UpdateItem|lambda:InvokeFunction) /.test(p)))
    .toEqual(grantedPairs(statementsOf(template, 'ViewerRole', deployment)));
});
