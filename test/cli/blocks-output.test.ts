import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BlocksClients, runBlocks } from '../../src/cli/blocks-command';
import { main } from '../../src/cli/cdk-waf-guard';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { historyItem } from '../../src/realtime-waf-guard/runtime/history-store';
import { MANUAL_RULE_ID } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { BLOCKS_TABLE, HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { blockRow } from '../support/block-rows';
import { useLocalDynamo } from '../support/guard-setup';

/** What `blocks` prints: no value from a table acts on the terminal, and the guard's own settings are followed. */
const CALLER = 'arn:aws:sts::123456789012:assumed-role/Ops/alice';
const CONSOLE_FUNCTION = 'ShopStack-GuardConsoleConsoleWidget-abc';
const dynamo = useLocalDynamo();
const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
afterAll(() => {
  sts.restore();
  cfn.restore();
  lambda.restore();
});

/** A guard in dynalite whose console function has `env`; `env` undefined: the function's configuration cannot be read. */
async function guard(rows: BlockRow[], env?: Record<string, string>, history: Array<Record<string, unknown>> = []) {
  const blocks = await dynamo().createTable('blocks', BLOCKS_TABLE);
  const historyTable = await dynamo().createTable('history', HISTORY_TABLE);
  for (const r of rows) await dynamo().doc.send(new PutCommand({ TableName: blocks, Item: r }));
  for (const h of history) await dynamo().doc.send(new PutCommand({ TableName: historyTable, Item: h }));
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER });
  cfn.reset();
  const resource = (LogicalResourceId: string, PhysicalResourceId: string, ResourceType: string) =>
    ({ LogicalResourceId, PhysicalResourceId, ResourceType, StackName: 'ShopStack', ResourceStatus: 'CREATE_COMPLETE' as const, Timestamp: new Date() });
  cfn.on(DescribeStackResourcesCommand, { StackName: 'ShopStack' }).resolves({
    StackResources: [
      resource('GuardTablesBlocksTable1234', blocks, 'AWS::DynamoDB::Table'),
      resource('GuardTablesHistoryTable5678', historyTable, 'AWS::DynamoDB::Table'),
      resource('GuardConsoleConsoleWidget9ABC', CONSOLE_FUNCTION, 'AWS::Lambda::Function'),
    ],
  });
  lambda.reset();
  if (env) lambda.on(GetFunctionConfigurationCommand, { FunctionName: CONSOLE_FUNCTION }).resolves({ Environment: { Variables: env } });
  else lambda.on(GetFunctionConfigurationCommand).rejects(Object.assign(new Error('not authorized to perform: lambda:GetFunctionConfiguration'), { name: 'AccessDeniedException' }));
  const clients: BlocksClients = {
    doc: dynamo().doc, sts: new STSClient({}), cloudFormation: new CloudFormationClient({}), lambda: new LambdaClient({ region: 'us-east-1' }),
  };
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runBlocks(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, clients);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const inForce = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: blocks }))).Items as BlockRow[])
    .filter((r) => r.blockedUntil > Date.now()).map((r) => `${r.ip} ${r.ruleId}`).sort();
  return { run, blocks, historyTable, inForce };
}

const now = Date.now();
/** Anything a terminal acts on: C0 (but the line break), DEL, C1, bidirectional overrides. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EVIL_RULE = 'login\u001b]0;owned\u0007\u001b[2J';
const EVIL_REASON = 'ok\u009b31m\r\u202eevil';

describe('every value a table holds is printed escaped', () => {
  test('list, list --json, history and an action\'s message', async () => {
    const row = blockRow('198.51.100.7', now - 1000, { ruleId: EVIL_RULE, host: 'api.example.com\r', manualBy: 'x\u001b[8m', manualReason: EVIL_REASON, manualVia: 'cli' });
    const g = await guard([row], { [ENV.IPV6_PREFIX_LENGTH]: '64' }, [historyItem(row, 'BLOCKED', 30, now)]);
    const list = await g.run('list', '--stack', 'ShopStack');
    expect(list.code).toBe(0);
    expect(list.out).not.toMatch(CONTROL);
    expect(list.out).toContain('login\\u001b]0;owned\\u0007\\u001b[2J');
    expect(list.out).toContain('ok\\u009b31m\\u000d\\u202eevil');
    // Columns stay aligned: the header's RULE column starts where the escaped rule id does.
    const [header, line] = list.out.split('\n');
    expect(line.indexOf('login\\u001b')).toBe(header.indexOf('RULE'));

    const json = await g.run('list', '--stack', 'ShopStack', '--json');
    expect(json.out).not.toMatch(CONTROL);
    expect(JSON.parse(json.out)[0]).toMatchObject({ ruleId: EVIL_RULE, manualReason: EVIL_REASON });

    const history = await g.run('history', '198.51.100.7', '--stack', 'ShopStack');
    expect(history.out).toContain('BLOCKED');
    expect(history.out).not.toMatch(CONTROL);
    expect(history.out).toContain('login\\u001b]0;owned');

    const unblocked = await g.run('unblock', '198.51.100.7', '--reason', 'customer', '--stack', 'ShopStack');
    expect(unblocked.code).toBe(0);
    expect(unblocked.out).toContain('198.51.100.7 (rule login\\u001b]0;owned\\u0007\\u001b[2J) unblocked');
    expect(unblocked.out).not.toMatch(CONTROL);
  });

  test('the replay report escapes what the rules file holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    writeFileSync(join(dir, 'rules.json'), JSON.stringify([{ id: 'login', host: 'www.example.com', pathPrefix: '/login\u001b[2J\u009b', threshold: 20, window: '10s' }]));
    writeFileSync(join(dir, 'empty.log'), '');
    const out: string[] = [];
    const code = await main(['replay', '--rules', join(dir, 'rules.json'), join(dir, 'empty.log')], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('path /login\\u001b[2J\\u009b*');
    expect(out.join('\n')).not.toMatch(CONTROL);
  });
});

describe('the guard\'s ipv6PrefixLength, for an IPv6 address', () => {
  const client56 = blockRow('2001:db8:0:100::/56', now - 60_000, { blockedUntil: now - 1000 });
  const events = [historyItem(client56, 'BLOCKED', 30, now - 60_000)];

  test('read from the guard\'s console function: the history of an address is its /56 client\'s', async () => {
    const g = await guard([], { [ENV.IPV6_PREFIX_LENGTH]: '56' }, events);
    const history = await g.run('history', '2001:db8:0:1ab::9', '--stack', 'ShopStack');
    expect(history).toMatchObject({ code: 0, err: '' });
    expect(history.out).toMatch(/BLOCKED\s+api\s+api\.example\.com/);
  });

  test('given by --ipv6-prefix-length with the tables named; without it, the default /64 finds nothing', async () => {
    const g = await guard([], { [ENV.IPV6_PREFIX_LENGTH]: '56' }, events);
    const tables = ['--blocks-table', g.blocks, '--history-table', g.historyTable];
    expect((await g.run('history', '2001:db8:0:1ab::9', ...tables, '--ipv6-prefix-length', '56')).out).toMatch(/BLOCKED\s+api/);
    expect((await g.run('history', '2001:db8:0:1ab::9', ...tables)).out).toBe('No history.');
    expect((await g.run('history', '2001:db8:0:1ab::9', ...tables, '--ipv6-prefix-length', '40')).err)
      .toBe('cdk-waf-guard: --ipv6-prefix-length must be a whole number from 48 to 128 (got 40)');
  });

  test('unreadable settings: a warning naming the flag, and the defaults', async () => {
    const g = await guard([], undefined, events);
    const history = await g.run('history', '2001:db8:0:1ab::9', '--stack', 'ShopStack');
    expect(history.err).toMatch(/^cdk-waf-guard: warning: the guard's settings could not be read from ShopStack-GuardConsoleConsoleWidget-abc .*pass --ipv6-prefix-length/);
    expect(history.out).toBe('No history.');
    expect((await g.run('history', '2001:db8:0:1ab::9', '--stack', 'ShopStack', '--ipv6-prefix-length', '56')).out).toMatch(/BLOCKED\s+api/);
  });
});

describe('unblock and allow from the command line', () => {
  const manual16 = blockRow('203.0.0.0/16', now - 60_000, { ruleId: MANUAL_RULE_ID, blockedUntil: now + 86_400_000, manualBy: 'Ann', manualReason: 'botnet', manualVia: 'cli' });

  test('an address inside a wider block: nothing ends, and the two choices are printed as commands', async () => {
    const g = await guard([manual16], {});
    const result = await g.run('unblock', '203.0.113.7', '--reason', 'a customer', '--stack', 'ShopStack');
    expect(result.code).toBe(2);
    expect(result.err).toContain('cdk-waf-guard: 203.0.113.7 lies inside 203.0.0.0/16 (manual block), left in force');
    expect(result.err).toContain('End the block of 203.0.0.0/16:  cdk-waf-guard blocks unblock 203.0.0.0/16 --reason <text> [--shield 1h|0] --stack ShopStack');
    expect(result.err).toContain('Allow-list 203.0.113.7:         cdk-waf-guard blocks allow 203.0.113.7 --reason <text> [--for 7d] --stack ShopStack');
    expect(await g.inForce()).toEqual(['203.0.0.0/16 #manual']);
  });

  test('allow-list entries wider than the guard allows are refused; the guard\'s setting widens them', async () => {
    const narrow = await guard([], {});
    for (const target of ['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']) {
      const refused = await narrow.run('allow', target, '--reason', 'everyone', '--stack', 'ShopStack');
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/is wider than \/(16|32): a few wide allow-list entries would switch the guard off/);
    }
    expect(await narrow.inForce()).toEqual([]);
    const wide = await guard([], { [ENV.ALLOW_WIDEST_PREFIX_IPV4]: '8' });
    expect((await wide.run('allow', '10.0.0.0/8', '--reason', 'corporate', '--stack', 'ShopStack')).out).toBe('10.0.0.0/8 allow-listed');
    expect((await wide.run('allow', '0.0.0.0/1', '--reason', 'x', '--stack', 'ShopStack')).err).toContain('is wider than /8');
  });
});
