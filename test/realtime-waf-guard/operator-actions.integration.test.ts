import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import {
  ActionError, loadShields, MANUAL_RULE_ID, OperatorActions, ShieldCache,
} from '../../src/realtime-waf-guard/runtime/operator-actions';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { FakeWaf } from '../support/fake-waf';
import { createGuardTables, ipSetSyncDeps, useLocalDynamo } from '../support/guard-setup';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder, recordSnsPublishes } from '../support/recorders';

/**
 * Operators' actions (the code the dashboard widget and the CLI share) against dynalite, followed by the real log
 * processor and IP set sync with the WAF fake: the IP sets follow, and history and digests name the operator.
 */
const fields = deliveredFieldOrder([]);
const T0 = 1_700_000_000_000;
const dynamo = useLocalDynamo();
const published = recordSnsPublishes();

afterAll(() => {
  mockClient(WAFV2Client).restore();
});

const login: StoredRule = {
  ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 20, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true,
};
const alice = { name: 'arn:aws:sts::123456789012:assumed-role/Ops/alice', via: 'cli' as const };
const bob = { name: 'Bob Builder', via: 'dashboard' as const };

async function guard(options: { maxNewBlocks?: number; allowList?: string[]; rules?: StoredRule[] } = {}) {
  const tables = await createGuardTables(dynamo(), options.rules ?? [login]);
  const waf = new FakeWaf();
  waf.install();
  const ipv4 = waf.createSet('guard-v4', 'IPV4');
  const ipv6 = waf.createSet('guard-v6', 'IPV6');
  const recorder = new Recorder();
  let now = T0;
  const makeProcessor = () => new LogProcessor(
    { fields, samplingRate: 100, allowList: new CidrSet([]), trustedProxies: new CidrSet([]) },
    {
      rules: new RulesCache(() => loadRules(dynamo().doc, tables.rules, { samplingRate: 100, minLoggedRequests: 10 }), 0),
      counters: new CounterStore(dynamo().client, tables.counters),
      blocks: new BlockStore(dynamo().doc, tables.blocks, tables.counters, options.maxNewBlocks ?? 50),
      history: new HistoryStore(dynamo().doc, tables.history, 30),
      shields: new ShieldCache((ms) => loadShields(dynamo().doc, tables.blocks, ms), 0),
      metrics: recorder,
      log: recorder,
      now: () => now,
    },
  );
  const processor = makeProcessor();
  const sync = new IpSetSync(
    {
      guardName: 'shop',
      scope: 'CLOUDFRONT',
      ipv4,
      ipv6,
      allowList: new CidrSet(parseCidrList(options.allowList ?? [], 'allowList')),
      maxSetSize: 10_000,
      historyRetentionDays: 30,
      blocksTable: tables.blocks,
      historyTable: tables.history,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
    },
    ipSetSyncDeps(dynamo(), recorder, () => now),
  );
  const actions = new OperatorActions(dynamo().doc, tables.blocks, () => now);
  let sequence = 0;
  const attack = (ip: string, count: number, startMs: number, seconds: number): StreamRecord[] =>
    Array.from({ length: count }, (_, i) => {
      const line = logLine(fields, {
        'timestamp': ((startMs + Math.floor((i * seconds * 1000) / count)) / 1000).toFixed(3),
        'c-ip': ip,
        'cs-host': 'www.example.com',
        'cs-uri-stem': '/login',
      });
      return streamRecord(line, String(++sequence).padStart(20, '0'), startMs + seconds * 1000);
    });
  const blockRows = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
  const history = async (ip: string) => ((await dynamo().doc.send(new QueryCommand({
    TableName: tables.history, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []);
  const budget = async (ms: number) => (await dynamo().doc.send(new GetCommand({
    TableName: tables.counters, Key: { pk: `#budget#${Math.floor(ms / 60_000)}` },
  }))).Item?.used;
  const setNow = (ms: number) => {
    now = ms;
  };
  return { processor, makeProcessor, sync, waf, ipv4, ipv6, actions, attack, blockRows, history, budget, recorder, tables, setNow };
}

/** Blocks the client by an attack at T0 (the sync applies it), then unblocks it at T0 + 20 s. */
async function blockThenUnblock(g: Awaited<ReturnType<typeof guard>>, ip: string, shield?: string): Promise<void> {
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack(ip, 25, T0, 10));
  await g.sync.run();
  g.setNow(T0 + 20_000);
  await g.actions.unblock({ target: ip, reason: 'test', operator: alice, shield });
}

test('an unblock releases at the next sync run, is announced and recorded with its operator, and shields the client', async () => {
  const g = await guard();
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack('198.51.100.7', 25, T0, 10));
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.7/32']);

  g.setNow(T0 + 60_000);
  const result = await g.actions.unblock({ target: '198.51.100.7', reason: 'our QA load test', operator: alice });
  expect(result.rows.map((r) => r.ruleId)).toEqual(['login']);
  // nothing changes in WAF until the sync runs, which is what applies every change
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.7/32']);

  g.setNow(T0 + 62_000);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  expect(published.at(-1)!.Subject).toBe('[shop] 1 unblocked by hand');
  expect(published.at(-1)!.Message).toContain(`198.51.100.7 rule login (host www.example.com): automatic blocks refused until 2023-11-14T23:14:20Z by ${alice.name} (cli): our QA load test`);
  const events = await g.history('198.51.100.7');
  expect(events.map((e) => e.event).sort()).toEqual(['BLOCKED', 'UNBLOCKED']);
  const unblocked = events.find((e) => e.event === 'UNBLOCKED')!;
  expect(unblocked).toMatchObject({ manualBy: alice.name, manualReason: 'our QA load test', manualVia: 'cli', shieldUntil: T0 + 60_000 + 3_600_000 });
  expect(events.find((e) => e.event === 'BLOCKED')!.manualBy).toBeUndefined();
  // the block row is gone; the shield row stays
  expect((await g.blockRows()).map((r) => `${r.ip} ${r.ruleId}`)).toEqual(['#allow SHIELD#198.51.100.7']);

  // the client attacks again within the shield: counted, not blocked
  g.setNow(T0 + 131_000);
  const again = await g.processor.process(g.attack('198.51.100.7', 40, T0 + 120_000, 10));
  expect(again.summary.created).toEqual([]);
  expect(again.summary.shielded!.map((c) => c.ip.text)).toEqual(['198.51.100.7']);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);

  // after the shield ends, an attack blocks it again
  g.setNow(T0 + 60_000 + 3_600_000 + 11_000);
  const later = await g.processor.process(g.attack('198.51.100.7', 40, T0 + 60_000 + 3_600_000, 10));
  expect(later.summary.created.map((r) => r.ip)).toEqual(['198.51.100.7']);
});

test('an unblocked row is never replaced before its release; with no shield the next attack blocks the client again', async () => {
  const g = await guard();
  await blockThenUnblock(g, '198.51.100.8', '0');
  expect((await g.blockRows()).filter((r) => r.ip === '#allow')).toEqual([]);
  // another shard's container (which never saw the block) must not replace the unblocked row: that would undo the unblock
  g.setNow(T0 + 41_000);
  const other = g.makeProcessor();
  expect((await other.process(g.attack('198.51.100.8', 25, T0 + 30_000, 10))).summary.created).toEqual([]);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  g.setNow(T0 + 71_000);
  const fresh = g.makeProcessor();
  expect((await fresh.process(g.attack('198.51.100.8', 25, T0 + 60_000, 10))).summary.created.map((r) => r.ip)).toEqual(['198.51.100.8']);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.8/32']);
});

// The container that made the block caches it; an unblock changes only the table, so that cache must not outlive a minute.
test('the container that made a block blocks the client again within a minute of an unblock with no shield', async () => {
  const g = await guard();
  await blockThenUnblock(g, '198.51.100.9', '0');
  g.setNow(T0 + 22_000);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  // the same processor keeps seeing the attack, a batch a minute; the original block would run to T0 + 610 s
  g.setNow(T0 + 71_000);
  const again = await g.processor.process(g.attack('198.51.100.9', 40, T0 + 60_000, 10));
  expect(again.summary.created.map((r) => r.ip)).toEqual(['198.51.100.9']);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.9/32']);
});

test('the container that made a long block blocks the client again once the default shield of an unblock ends', async () => {
  const g = await guard({ rules: [{ ...login, blockSeconds: 86_400 }] });
  await blockThenUnblock(g, '198.51.100.10');
  g.setNow(T0 + 22_000);
  await g.sync.run();
  g.setNow(T0 + 131_000);
  const shielded = await g.processor.process(g.attack('198.51.100.10', 40, T0 + 120_000, 10));
  expect(shielded.summary.created).toEqual([]);
  // the shield ends at T0 + 20 s + 1 h; the original block would have run for a day
  const start = T0 + 20_000 + 3_600_000;
  g.setNow(start + 11_000);
  const later = await g.processor.process(g.attack('198.51.100.10', 40, start, 10));
  expect(later.summary.created.map((r) => r.ip)).toEqual(['198.51.100.10']);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.10/32']);
});

test('a manual block spends no budget, is announced with its operator, and is never released before its end', async () => {
  const g = await guard({ maxNewBlocks: 1 });
  g.setNow(T0 + 11_000);
  // one automatic block spends the whole budget of the minute
  await g.processor.process(g.attack('198.51.100.1', 25, T0, 10));
  expect(await g.budget(T0 + 11_000)).toBe(1);
  await g.actions.block({ target: '203.0.113.0/24', period: '2h', reason: 'credential stuffing from this hoster', operator: bob });
  await g.actions.block({ target: '2001:db8:1::/48', period: '30m', reason: 'same actor over IPv6', operator: bob });
  expect(await g.budget(T0 + 11_000)).toBe(1);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.1/32', '203.0.113.0/24']);
  expect(g.waf.addresses(g.ipv6.id)).toEqual(['2001:db8:1::/48']);
  const digest = published.at(-1)!;
  expect(digest.Subject).toBe('[shop] 2 blocked by hand, 1 blocked');
  expect(digest.Message).toContain('203.0.113.0/24: until 2023-11-15T00:13:31Z by Bob Builder (dashboard): credential stuffing from this hoster');
  expect((await g.history('203.0.113.0/24')).map((e) => [e.event, e.manualBy, e.manualVia])).toEqual([['MANUAL_BLOCKED', 'Bob Builder', 'dashboard']]);

  // the sweep runs every minute: the /24 stays until its two hours are up
  g.setNow(T0 + 11_000 + 2 * 3_600_000 - 1);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['203.0.113.0/24']);
  g.setNow(T0 + 11_000 + 2 * 3_600_000);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  expect((await g.history('203.0.113.0/24')).map((e) => e.event)).toEqual(['MANUAL_BLOCKED', 'RELEASED']);
  // a manual block again is refused while one is in force
  await g.actions.block({ target: '203.0.113.9', period: '1h', reason: 'x', operator: bob });
  await expect(g.actions.block({ target: '203.0.113.9/32', period: '1h', reason: 'x', operator: bob })).rejects.toThrow('already blocked by hand');
});

test('extend makes a block longer, announced and recorded with its operator', async () => {
  const g = await guard();
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack('198.51.100.9', 25, T0, 10));
  await g.sync.run();
  const [row] = await g.blockRows();
  g.setNow(T0 + 100_000);
  await g.actions.extend({ target: '198.51.100.9', by: '1h', reason: 'repeat offender', operator: bob });
  await g.sync.run();
  expect(published.at(-1)!.Subject).toBe('[shop] 1 extended');
  expect(published.at(-1)!.Message).toContain('198.51.100.9 rule login (host www.example.com): now until');
  // past the original end, still blocked
  g.setNow(row.blockedUntil + 1000);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.9/32']);
  g.setNow(row.blockedUntil + 3_600_000);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  const events = await g.history('198.51.100.9');
  expect(events.map((e) => e.event)).toEqual(['BLOCKED', 'EXTENDED', 'RELEASED']);
  expect(events[1]).toMatchObject({ manualBy: 'Bob Builder', manualReason: 'repeat offender', blockedUntil: row.blockedUntil + 3_600_000 });
  expect(events[2].manualBy).toBeUndefined();
});

test('run-time allow-list entries keep networks out of the IP sets and spare them from automatic blocks', async () => {
  const g = await guard();
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack('198.51.100.20', 25, T0, 10));
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.20/32']);
  await g.actions.allow({ target: '198.51.100.0/24', period: '1d', reason: 'partner office', operator: alice });
  await g.sync.run();
  // the block stays recorded, but WAF no longer holds the address
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  expect(published.at(-1)!.Message).toContain('198.51.100.0/24: until 2023-11-15T22:13:31Z by arn:aws:sts::123456789012:assumed-role/Ops/alice (cli): partner office');
  expect((await g.history('198.51.100.0/24')).map((e) => [e.event, e.manualReason])).toEqual([['ALLOWED', 'partner office']]);
  g.setNow(T0 + 131_000);
  const r = await g.processor.process(g.attack('198.51.100.21', 25, T0 + 120_000, 10));
  expect(r.summary.shielded!.map((c) => c.ip.text)).toEqual(['198.51.100.21']);

  await g.actions.unallow({ target: '198.51.100.0/24', reason: 'contract ended', operator: alice });
  g.setNow(T0 + 132_000);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.20/32']);
  expect((await g.history('198.51.100.0/24')).map((e) => [e.event, e.manualReason])).toEqual([['ALLOWED', 'partner office'], ['ALLOW_REMOVED', 'contract ended']]);
  expect((await g.blockRows()).map((r2) => r2.ruleId)).toEqual(['login']);
});

test('actions refuse bad input with messages an operator can act on', async () => {
  const g = await guard();
  const bad = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(ActionError);
  await bad(g.actions.block({ target: '999.1.1.1', period: '1h', reason: 'x', operator: bob }));
  await expect(g.actions.block({ target: '10.0.0.0/8', period: '1h', reason: 'x', operator: bob })).rejects.toThrow('wider than /16');
  await expect(g.actions.block({ target: '10.0.0.1', period: 'soon', reason: 'x', operator: bob })).rejects.toThrow('the block period must be a duration');
  await expect(g.actions.block({ target: '10.0.0.1', period: '1h', reason: ' ', operator: bob })).rejects.toThrow('a reason is required');
  await expect(g.actions.block({ target: '10.0.0.1', period: '1h', reason: 'x', operator: { name: '', via: 'dashboard' } })).rejects.toThrow('operator name is required');
  await expect(g.actions.unblock({ target: '10.0.0.1', reason: 'x', operator: bob })).rejects.toThrow('no block or dry-run record in force for 10.0.0.1/32');
  await expect(g.actions.extend({ target: '10.0.0.1', by: '1h', reason: 'x', operator: bob })).rejects.toThrow('no block in force');
  expect(await g.blockRows()).toEqual([]);
  // the manual rule id never collides with a rule's rows
  expect(MANUAL_RULE_ID.startsWith('#')).toBe(true);
});
