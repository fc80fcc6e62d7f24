import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../src/cli/cdk-waf-guard';
import { RulesClients, runRules } from '../../src/cli/rules-command';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { loadRules } from '../../src/realtime-waf-guard/runtime/rules-store';
import { RULES_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { useLocalDynamo } from '../support/guard-setup';

const dynamo = useLocalDynamo();
const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
afterAll(() => {
  cfn.restore();
  lambda.restore();
});

const LOG_PROCESSOR = 'ShopStack-GuardDetectionLogProcessor-abc';
const SEEDED = { ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 100, windowSeconds: 60, blockSeconds: 900, action: 'BLOCK', enabled: true, managedBy: 'ShopStack/Guard' };

/** A guard's rules table in dynalite, found through a stack whose log processor samples at `samplingRate`. */
async function guard(rows: Array<Record<string, unknown>> = [SEEDED], samplingRate = 100) {
  const table = await dynamo().createTable('rules', RULES_TABLE);
  for (const row of rows) await dynamo().doc.send(new PutCommand({ TableName: table, Item: row }));
  cfn.reset();
  const resource = (LogicalResourceId: string, PhysicalResourceId: string, ResourceType: string) => ({
    LogicalResourceId, PhysicalResourceId, ResourceType, StackName: 'ShopStack', ResourceStatus: 'CREATE_COMPLETE' as const, Timestamp: new Date(),
  });
  cfn.on(DescribeStackResourcesCommand, { StackName: 'ShopStack' }).resolves({
    StackResources: [
      resource('GuardTablesRulesTable1234', table, 'AWS::DynamoDB::Table'),
      resource('GuardTablesBlocksTable1234', 'blocks', 'AWS::DynamoDB::Table'),
      resource('GuardDetectionLogProcessor5678', LOG_PROCESSOR, 'AWS::Lambda::Function'),
    ],
  });
  lambda.reset();
  lambda.on(GetFunctionConfigurationCommand, { FunctionName: LOG_PROCESSOR })
    .resolves({ Environment: { Variables: { [ENV.SAMPLING_RATE]: String(samplingRate) } } });
  const clients: RulesClients = { dynamo: dynamo().client, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }), lambda: new LambdaClient({ region: 'us-east-1' }) };
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRules(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, clients);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const row = async (ruleId: string) => (await dynamo().doc.send(new GetCommand({ TableName: table, Key: { ruleId } }))).Item;
  /** What the log processor reads from the table, at the guard's sampling rate. */
  const handlerView = () => loadRules(dynamo().client, table, { samplingRate });
  return { table, run, row, handlerView };
}

test('list shows the rules as the guard reads them, and the rows it refuses with its reason', async () => {
  const g = await guard([SEEDED, { ruleId: 'typo', host: 'api.example.com', threshold: '1e3', windowSeconds: 60 }]);
  const listed = await g.run('list', '--stack', 'ShopStack');
  expect(listed.code).toBe(0);
  expect(listed.out).toMatch(/^RULE\s+HOST\s+PATH\s+THRESHOLD\s+WINDOW\s+BLOCK FOR\s+ACTION\s+ENABLED\s+SEEDED BY\n/);
  expect(listed.out).toMatch(/login\s+www\.example\.com\s+\/login\s+100\s+1m\s+15m\s+BLOCK\s+yes\s+ShopStack\/Guard/);
  const { invalid } = await g.handlerView();
  expect(invalid).toEqual(['rule "typo": threshold must be a whole number of requests from 1 to 100000000 (got "1e3")']);
  expect(listed.out).toContain(`Refused by the guard (not evaluated):\n  ${invalid[0]}`);
  const json = JSON.parse((await g.run('list', '--rules-table', g.table, '--json')).out);
  expect(json).toEqual({ rules: [SEEDED], refused: invalid });
});

test('set creates a rule the log processor reads as given', async () => {
  const g = await guard();
  const created = await g.run('set', 'api', '--host', '*.example.com', '--path-prefix', '/api', '--threshold', '300', '--window', '5m',
    '--block-for', '1h', '--action', 'count', '--stack', 'ShopStack');
  expect(created).toMatchObject({ code: 0, err: '' });
  expect(created.out).toContain('rule "api" created');
  const { rules, invalid } = await g.handlerView();
  expect(invalid).toEqual([]);
  expect(rules.find((r) => r.ruleId === 'api')).toEqual({
    ruleId: 'api', host: '*.example.com', pathPrefix: '/api', threshold: 300, windowSeconds: 300, blockSeconds: 3600, action: 'COUNT', enabled: true,
  });
});

test('set changes only the given fields: the stack\'s marker and an operator\'s own attributes stay', async () => {
  const g = await guard([{ ...SEEDED, note: 'raised for the sale' }]);
  const changed = await g.run('set', 'login', '--threshold', '250', '--all-paths', '--stack', 'ShopStack');
  expect(changed.code).toBe(0);
  expect(changed.out).toContain('rule "login" changed');
  expect(changed.out).toContain('a deploy that changes this rule in the stack rewrites the row, one that removes the rule deletes it');
  const { pathPrefix, ...rest } = SEEDED;
  expect(pathPrefix).toBe('/login');
  expect(await g.row('login')).toEqual({ ...rest, threshold: 250, note: 'raised for the sale' });
  const detached = await g.run('set', 'login', '--detach', '--stack', 'ShopStack');
  expect(detached.out).not.toContain('seeded by the stack');
  const { managedBy, ...operatorOwned } = rest;
  expect(managedBy).toBe('ShopStack/Guard');
  expect(await g.row('login')).toStrictEqual({ ...operatorOwned, threshold: 250, note: 'raised for the sale' });
});

test('set refuses what the log processor would refuse at the guard\'s sampling rate, with its message, and writes nothing', async () => {
  // At 1% sampling a threshold of 20 per 10 s cannot be told from chance: the handler refuses such a row.
  const g = await guard([SEEDED], 1);
  const refused = await g.run('set', 'login', '--threshold', '20', '--window', '10s', '--stack', 'ShopStack');
  // The same row, written straight into the table, as the handler judges it.
  await dynamo().doc.send(new PutCommand({ TableName: g.table, Item: { ...SEEDED, ruleId: 'direct', threshold: 20, windowSeconds: 10 } }));
  const [handlerMessage] = (await g.handlerView()).invalid;
  expect(handlerMessage).toMatch(/^rule "direct": /);
  expect(refused).toEqual({
    code: 2, out: '', err: `cdk-waf-guard: the guard would refuse this row: ${handlerMessage.replace('"direct"', '"login"')}; nothing written`,
  });
  expect((await g.row('login'))!.threshold).toBe(100);
  // --sampling overrides what the stack says (a guard found by its table has no stack to ask).
  await dynamo().doc.send(new DeleteCommand({ TableName: g.table, Key: { ruleId: 'direct' } }));
  expect((await g.run('set', 'login', '--threshold', '20', '--window', '10s', '--rules-table', g.table, '--sampling', '100')).code).toBe(0);
});

test('disable and enable flip the row\'s enabled flag, which the log processor follows; --dry-run writes nothing', async () => {
  const g = await guard();
  const dry = await g.run('disable', 'login', '--dry-run', '--stack', 'ShopStack');
  expect(dry.code).toBe(0);
  expect(dry.out).toContain(`would write to ${g.table}:`);
  expect(dry.out).toContain('"enabled":false');
  expect((await g.row('login'))!.enabled).toBe(true);
  expect((await g.run('disable', 'login', '--stack', 'ShopStack')).out).toContain('rule "login" disabled');
  expect((await g.handlerView()).rules.map((r) => [r.ruleId, r.enabled])).toEqual([['login', false]]);
  expect((await g.run('list', '--stack', 'ShopStack')).out).toMatch(/login .*BLOCK\s+no\s/);
  expect((await g.run('enable', 'login', '--stack', 'ShopStack')).out).toContain('rule "login" enabled');
  expect((await g.handlerView()).rules.map((r) => [r.ruleId, r.enabled])).toEqual([['login', true]]);
  expect(await g.run('enable', 'nope', '--stack', 'ShopStack')).toEqual({
    code: 2, out: '', err: `cdk-waf-guard: no rule "nope" in ${g.table}: cdk-waf-guard rules list shows the rule ids`,
  });
});

test('an unknown stack, a stack without a guard and a missing table are named', async () => {
  const g = await guard();
  cfn.on(DescribeStackResourcesCommand, { StackName: 'Nope' }).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
  cfn.on(DescribeStackResourcesCommand, { StackName: 'Empty' }).resolves({ StackResources: [] });
  expect(await g.run('list', '--stack', 'Nope')).toMatchObject({ code: 2, err: 'cdk-waf-guard: no stack "Nope" in us-east-1: check --stack and --region' });
  expect(await g.run('list', '--stack', 'Empty')).toMatchObject({ code: 2, err: 'cdk-waf-guard: stack "Empty" holds no cdk-waf-guard guard (no rules table)' });
  expect((await g.run('list', '--rules-table', 'missing')).err).toMatch(/^cdk-waf-guard: table not found .*check --rules-table and --region$/);
});

test('the main CLI dispatches rules commands', async () => {
  const out: string[] = [];
  expect(await main(['rules', '--help'], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) })).toBe(0);
  expect(out.join('\n')).toContain('Usage: cdk-waf-guard rules <command>');
});
