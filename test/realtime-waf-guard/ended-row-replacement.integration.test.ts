/**
 * A new decision for a pair whose block has ended but is not yet released (the sweep runs once a minute): it must not
 * erase that block's announcement or its release. Found by an outside attack: a rule switched from BLOCK to COUNT lost
 * the release of a block that was in WAF, and a renewal during an SNS outage erased the first block from history.
 * The real log processor and sync on dynalite, the WAF fake, SNS through aws-sdk-client-mock.
 */
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadShields, ShieldCache } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { FakeWaf } from '../support/fake-waf';
import { createGuardTables, ipSetSyncConfig, ipSetSyncDeps, useLocalDynamo } from '../support/guard-setup';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder } from '../support/recorders';

const fields = deliveredFieldOrder([]);
const T0 = 1_700_000_000_000;
const login: StoredRule = {
  ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 20, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true,
};

const dynamo = useLocalDynamo();
const sns = mockClient(SNSClient);
const published: PublishCommandInput[] = [];
let snsDown = false;
afterAll(() => {
  sns.restore();
  mockClient(WAFV2Client).restore();
});
beforeEach(() => {
  published.length = 0;
  snsDown = false;
  sns.reset();
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    if (snsDown) throw new Error('SNS is down');
    published.push(input);
    return { MessageId: String(published.length) };
  });
});

async function guard() {
  const db = dynamo();
  const tables = await createGuardTables(db, [login]);
  const waf = new FakeWaf();
  waf.install();
  const ipv4 = waf.createSet('guard-v4', 'IPV4');
  const ipv6 = waf.createSet('guard-v6', 'IPV6');
  const recorder = new Recorder();
  let now = T0;
  const processor = new LogProcessor(
    { fields, samplingRate: 100, allowList: new CidrSet([]), trustedProxies: new CidrSet([]) },
    {
      rules: new RulesCache(() => loadRules(db.doc, tables.rules, { samplingRate: 100 }), 0),
      counters: new CounterStore(db.client, tables.counters),
      blocks: new BlockStore(db.doc, tables.blocks, tables.counters, 50),
      history: new HistoryStore(db.doc, tables.history, 30),
      shields: new ShieldCache((ms) => loadShields(db.doc, tables.blocks, ms), 0),
      metrics: recorder,
      log: recorder,
      now: () => now,
    },
  );
  const sync = new IpSetSync(
    ipSetSyncConfig('shop', { ipv4, ipv6 }, { blocksTable: tables.blocks, historyTable: tables.history }),
    ipSetSyncDeps(db, recorder, () => now),
  );
  let sequence = 0;
  /** `count` requests of `ip` to /login spread over `seconds` from `startMs`. */
  const attack = (ip: string, count: number, startMs: number, seconds: number): StreamRecord[] =>
    Array.from({ length: count }, (_, i) => streamRecord(logLine(fields, {
      'timestamp': ((startMs + Math.floor((i * seconds * 1000) / count)) / 1000).toFixed(3),
      'c-ip': ip,
      'cs-host': 'www.example.com',
      'cs-uri-stem': '/login',
    }), String(++sequence).padStart(20, '0'), startMs + seconds * 1000));
  const rows = async () => ((await db.doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
  const history = async (ip: string) => ((await db.doc.send(new QueryCommand({
    TableName: tables.history, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []) as Array<{ event: string; at: string }>;
  const setRule = (rule: StoredRule) => db.doc.send(new PutCommand({ TableName: tables.rules, Item: { ...rule } }));
  /** Runs the sync, as the sweep does, whatever SNS does. */
  const sweep = async (atMs: number) => {
    now = atMs;
    await sync.run().catch(() => undefined);
  };
  return { processor, waf, ipv4, attack, rows, history, setRule, sweep, setNow: (ms: number) => { now = ms; } };
}

const linesNaming = (ip: string) => published.flatMap((p) => (p.Message ?? '').split('\n').filter((l) => l.includes(ip)));

test('a rule switched from BLOCK to COUNT: the ended block is still released, announced and recorded before the "would block"', async () => {
  const g = await guard();
  const ip = '198.51.100.40';
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack(ip, 40, T0, 10));
  await g.sweep(T0 + 11_000);
  const [block] = await g.rows();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([`${ip}/32`]);

  await g.setRule({ ...login, action: 'COUNT' });
  // Still attacking; its batch is processed just after the block ended, before the sweep released it.
  g.setNow(block.blockedUntil + 1250);
  const during = await g.processor.process(g.attack(ip, 40, block.blockedUntil - 10_000, 10));
  expect(during.summary.created).toEqual([]);
  await g.sweep(block.blockedUntil + 1250);
  // Released, and the next batch's "would block" is recorded.
  g.setNow(block.blockedUntil + 70_000);
  const after = await g.processor.process(g.attack(ip, 40, block.blockedUntil + 55_000, 10));
  expect(after.summary.created.map((r) => r.action)).toEqual(['COUNT']);
  await g.sweep(block.blockedUntil + 70_000);
  await g.sweep(block.blockedUntil + 800_000);

  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  expect((await g.history(ip)).map((h) => h.event)).toEqual(['BLOCKED', 'RELEASED', 'WOULD_BLOCK', 'COUNT_ENDED']);
  expect(published.map((p) => (p.Message ?? '').split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('Sent by'))[0]))
    .toEqual(['Blocked in WAF:', 'Released:', 'Would be blocked (COUNT rules; WAF unchanged):']);
  expect(linesNaming(ip)).toHaveLength(3);
});

test('SNS down for longer than a block while the client attacks on: one block, announced late as blocked since its first start', async () => {
  const g = await guard();
  const ip = '198.51.100.60';
  snsDown = true;
  for (let minute = 0; minute <= 11; minute++) {
    g.setNow(T0 + minute * 60_000 + 11_000);
    await g.processor.process(g.attack(ip, 40, T0 + minute * 60_000, 10));
    await g.sweep(T0 + minute * 60_000 + 11_000);
  }
  const firstInWaf = T0 + 11_000;
  snsDown = false;
  await g.sweep(T0 + 12 * 60_000);
  await g.sweep(T0 + 12 * 60_000 + 1000);

  const [row] = await g.rows();
  // The block went on from its first start: one block, in WAF since then, never released meanwhile.
  expect(row.blockedAt).toBe(firstInWaf);
  expect(row.appliedAt).toBe(firstInWaf);
  expect(g.waf.addresses(g.ipv4.id)).toEqual([`${ip}/32`]);
  const events = await g.history(ip);
  expect(events.map((h) => h.event)).toEqual(['BLOCKED']);
  expect(events[0].at).toBe(`${new Date(firstInWaf).toISOString()}#BLOCKED#login`);
  const lines = linesNaming(ip);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`in WAF since ${new Date(firstInWaf).toISOString().replace('.000Z', 'Z')} at the latest`);
});
