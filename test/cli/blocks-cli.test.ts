import { execFileSync } from 'child_process';
import { join } from 'path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BlocksClients, runBlocks } from '../../src/cli/blocks-command';
import { main } from '../../src/cli/cdk-waf-guard';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { historyItem } from '../../src/realtime-waf-guard/runtime/history-store';
import { MANUAL_RULE_ID } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { BLOCKS_TABLE, HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { blockRow } from '../support/block-rows';
import { useLocalDynamo } from '../support/guard-setup';

const CALLER = 'arn:aws:sts::123456789012:assumed-role/Ops/alice';
const dynamo = useLocalDynamo();
const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
afterAll(() => {
  sts.restore();
  cfn.restore();
});

async function guard(rows: BlockRow[] = []) {
  const blocks = await dynamo().createTable('blocks', BLOCKS_TABLE);
  const history = await dynamo().createTable('history', HISTORY_TABLE);
  for (const r of rows) await dynamo().doc.send(new PutCommand({ TableName: blocks, Item: r }));
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: '123456789012' });
  cfn.reset();
  cfn.on(DescribeStackResourcesCommand, { StackName: 'ShopStack' }).resolves({
    StackResources: [
      { LogicalResourceId: 'GuardTablesBlocksTable1234', PhysicalResourceId: blocks, ResourceType: 'AWS::DynamoDB::Table', StackName: 'ShopStack', ResourceStatus: 'CREATE_COMPLETE', Timestamp: new Date() },
      { LogicalResourceId: 'GuardTablesHistoryTable5678', PhysicalResourceId: history, ResourceType: 'AWS::DynamoDB::Table', StackName: 'ShopStack', ResourceStatus: 'CREATE_COMPLETE', Timestamp: new Date() },
    ],
  });
  cfn.on(DescribeStackResourcesCommand, { StackName: 'Nope' }).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
  const clients: BlocksClients = { doc: dynamo().doc, sts: new STSClient({ region: 'us-east-1' }), cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) };
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runBlocks(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, clients);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const rowsOf = async () => ((await dynamo().doc.send(new QueryCommand({ TableName: blocks, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': '203.0.113.5' } }))).Items ?? []) as BlockRow[];
  return { blocks, history, run, rowsOf };
}

const now = Date.now();

test('list finds the guard by stack name and filters by rule, host, address and state', async () => {
  const g = await guard([
    blockRow('198.51.100.7', now - 1000),
    blockRow('198.51.100.8', now - 2000, { action: 'COUNT', ruleId: 'login', host: 'www.example.com' }),
  ]);
  const all = await g.run('list', '--stack', 'ShopStack');
  expect(all.code).toBe(0);
  expect(all.out).toMatch(/^CLIENT\s+WHAT\s+RULE\s+HOST/);
  expect(all.out).toContain('198.51.100.7  Blocked ');
  expect(all.out).toContain('2 rows');
  expect((await g.run('list', '--stack', 'ShopStack', '--would-block')).out).not.toContain('198.51.100.7');
  expect((await g.run('list', '--stack', 'ShopStack', '--active')).out).not.toContain('198.51.100.8');
  expect((await g.run('list', '--stack', 'ShopStack', '--rule', 'login')).out).toContain('1 row');
  expect((await g.run('list', '--stack', 'ShopStack', '--host', 'api.example.com')).out).toContain('198.51.100.7');
  expect((await g.run('list', '--stack', 'ShopStack', '--ip', '100.8')).out).not.toContain('198.51.100.7');
  const json = JSON.parse((await g.run('list', '--blocks-table', g.blocks, '--history-table', g.history, '--json')).out);
  expect(json.map((r: { client: string }) => r.client)).toEqual(['198.51.100.7', '198.51.100.8']);
  expect(json[1]).toMatchObject({ kind: 'Would block (COUNT)', ruleId: 'login', threshold: 20 });
});

test('block, extend and unblock record the STS caller and the reason; history shows them', async () => {
  const g = await guard();
  const blocked = await g.run('block', '203.0.113.5', '--for', '2h', '--reason', 'scraping', '--stack', 'ShopStack');
  expect(blocked).toMatchObject({ code: 0, err: '' });
  expect(blocked.out).toContain('203.0.113.5 blocked until');
  expect((await g.rowsOf())[0]).toMatchObject({ ruleId: MANUAL_RULE_ID, manualBy: CALLER, manualVia: 'cli', manualReason: 'scraping' });
  expect((await g.run('extend', '203.0.113.5', '--by', '1h', '--reason', 'still at it', '--stack', 'ShopStack')).code).toBe(0);
  const [extended] = await g.rowsOf();
  expect(extended.blockedUntil - extended.blockedAt).toBe(3 * 3_600_000);
  const unblocked = await g.run('unblock', '203.0.113.5', '--reason', 'false positive', '--shield', '30m', '--stack', 'ShopStack');
  expect(unblocked.out).toContain('unblocked; WAF follows on the next sync run; automatic blocks refused until');
  const [row] = await g.rowsOf();
  expect(row).toMatchObject({ manualAction: 'UNBLOCK', manualBy: CALLER, manualReason: 'false positive' });
  // history as the sync writes it
  await dynamo().doc.send(new PutCommand({ TableName: g.history, Item: historyItem(row, 'UNBLOCKED', 30, Date.now()) }));
  const history = await g.run('history', '203.0.113.5', '--since', '1d', '--stack', 'ShopStack');
  expect(history.out).toMatch(/UNBLOCKED\s+#manual\s+\*/);
  expect(history.out).toContain(`${CALLER} (cli)  false positive`);
  expect(JSON.parse((await g.run('history', '203.0.113.5', '--json', '--stack', 'ShopStack')).out)[0].manualBy).toBe(CALLER);
});

test('clear errors: bad address, unknown guard, missing reason, missing credentials', async () => {
  const g = await guard();
  const bad = await g.run('block', '203.0.113.500', '--for', '1h', '--reason', 'x', '--stack', 'ShopStack');
  expect(bad).toMatchObject({ code: 2, err: 'cdk-waf-guard: "203.0.113.500" is not an IPv4 or IPv6 address or CIDR range' });
  expect(await g.run('list', '--stack', 'Nope')).toMatchObject({ code: 2, err: 'cdk-waf-guard: no stack "Nope" in us-east-1: check --stack and --region' });
  cfn.on(DescribeStackResourcesCommand, { StackName: 'Empty' }).resolves({ StackResources: [] });
  expect((await g.run('list', '--stack', 'Empty')).err).toBe('cdk-waf-guard: stack "Empty" holds no cdk-waf-guard guard (no blocks and history tables)');
  expect((await g.run('list')).err).toContain('name the guard: --stack <stack name>');
  expect((await g.run('list', '--blocks-table', 'missing', '--history-table', 'missing')).err).toMatch(/^cdk-waf-guard: table not found .*check --blocks-table/);
  expect((await g.run('block', '203.0.113.5', '--for', '1h', '--stack', 'ShopStack')).err).toBe('cdk-waf-guard: --reason <text> is required');
  expect((await g.run('unblock', '203.0.113.9', '--reason', 'x', '--stack', 'ShopStack')).err).toBe('cdk-waf-guard: no block or dry-run record in force for 203.0.113.9/32');
  sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
  const noCredentials = await g.run('block', '203.0.113.5', '--for', '1h', '--reason', 'x', '--stack', 'ShopStack');
  expect(noCredentials.code).toBe(1);
  expect(noCredentials.err).toBe('cdk-waf-guard: no AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  expect(await g.rowsOf()).toEqual([]);
  expect((await g.run('frobnicate')).err).toContain('unknown blocks command "frobnicate"');
});

test('the main CLI dispatches blocks commands and still answers replay help', async () => {
  const out: string[] = [];
  const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t) };
  expect(await main(['blocks', '--help'], io)).toBe(0);
  expect(out.join('\n')).toContain('Usage: cdk-waf-guard blocks <command>');
  expect(await main(['--help'], io)).toBe(0);
  expect(out.join('\n')).toContain('cdk-waf-guard blocks list|unblock|block|extend|allow|unallow|history');
});

// Built by `npx projen bundle`, like the handlers' bundles the construct tests need.
const bundle = join(__dirname, '../../assets/cli/blocks-command/index.js');
test('the bundled blocks command runs on Node.js alone and says when credentials are missing', () => {
  // An empty environment and HOME: no credentials anywhere; the bundle must not need node_modules either.
  const script = `require(${JSON.stringify(bundle)}).runBlocks(['block','203.0.113.5','--for','1h','--reason','x','--blocks-table','b','--history-table','h'],`
    + '{stdout:console.log,stderr:console.error}).then((c)=>process.exit(c))';
  let stderr = '';
  try {
    execFileSync(process.execPath, ['-e', script], { cwd: '/', env: { HOME: '/nonexistent', PATH: '/usr/bin:/bin', AWS_EC2_METADATA_DISABLED: 'true' }, stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    stderr = String((e as { stderr: Buffer }).stderr);
    expect((e as { status: number }).status).toBe(1);
  }
  expect(stderr).toContain('cdk-waf-guard: no AWS credentials found');
});
