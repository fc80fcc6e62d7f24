import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { BatchWriteCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { METRIC } from '../../src/realtime-waf-guard/handler-env';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { planIpSets, WAF_IP_SET_LIMIT } from '../../src/realtime-waf-guard/runtime/ip-set-planner';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { CLAIM_LEASE_MS } from '../../src/realtime-waf-guard/runtime/sync-claims';
import { BLOCKS_TABLE, HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { blockRow } from '../support/block-rows';
import { FakeWaf } from '../support/fake-waf';
import { useLocalDynamo } from '../support/guard-setup';
import { Recorder } from '../support/recorders';

const T0 = 1_700_000_000_000;
const dynamo = useLocalDynamo();
const published: PublishCommandInput[] = [];
const sns = mockClient(SNSClient);

afterAll(() => {
  sns.restore();
});
beforeEach(() => {
  published.length = 0;
  sns.reset();
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    published.push(input);
    return { MessageId: `m${published.length}` };
  });
});

const row = (ip: string, over: Partial<BlockRow> = {}): BlockRow => blockRow(ip, T0, over);

async function setup(options: { allowList?: string[]; maxSetSize?: number } = {}) {
  const blocksTable = await dynamo().createTable('blocks', BLOCKS_TABLE);
  const historyTable = await dynamo().createTable('history', HISTORY_TABLE);
  const waf = new FakeWaf();
  const wafMock = waf.install();
  const ipv4 = waf.createSet('guard-v4', 'IPV4');
  const ipv6 = waf.createSet('guard-v6', 'IPV6');
  const recorder = new Recorder();
  let now = T0 + 1000;
  const make = () => new IpSetSync(
    {
      guardName: 'test-guard',
      scope: 'CLOUDFRONT',
      ipv4,
      ipv6,
      allowList: new CidrSet(parseCidrList(options.allowList ?? [], 'allowList')),
      maxSetSize: options.maxSetSize ?? WAF_IP_SET_LIMIT,
      historyRetentionDays: 30,
      blocksTable,
      historyTable,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
    },
    { doc: dynamo().doc, waf: new WAFV2Client({ region: 'us-east-1' }), sns: new SNSClient({ region: 'us-east-1' }), log: recorder, metrics: recorder, now: () => now, sleep: async () => {} },
  );
  const put = async (...rows: BlockRow[]) => {
    for (const r of rows) await dynamo().doc.send(new PutCommand({ TableName: blocksTable, Item: r }));
  };
  const history = async (ip: string) =>
    ((await dynamo().doc.send(new QueryCommand({ TableName: historyTable, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip } }))).Items ?? []).map((i) => i.event);
  const blockRows = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: blocksTable }))).Items ?? []) as BlockRow[];
  return { waf, wafMock, ipv4, ipv6, make, put, history, blockRows, recorder, blocksTable, setNow: (ms: number) => { now = ms; } };
}

afterEach(() => {
  // each setup installs its own WAF fake
  mockClient(WAFV2Client).restore();
});

test('new blocks go into the IPv4 and IPv6 sets, are alerted once in one digest, and recorded in history', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7'), row('2001:db8::bad'));
  const result = await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.7/32']);
  expect(s.waf.addresses(s.ipv6.id)).toEqual(['2001:db8::bad/128']);
  expect(result.updates).toBe(2);
  expect(published).toHaveLength(1);
  expect(published[0].Subject).toBe('[test-guard] 2 blocked');
  expect(published[0].Message).toContain('198.51.100.7  rule api (host api.example.com): 40 requests in 60 s, threshold 20, until 2023-11-14T22:18:20Z');
  expect(published[0].MessageAttributes?.blocked).toEqual({ DataType: 'Number', StringValue: '2' });
  expect(await s.history('198.51.100.7')).toEqual(['BLOCKED']);
  // a second run has nothing to change or say
  const again = await s.make().run();
  expect(again.updates).toBe(0);
  expect(published).toHaveLength(1);
  // the WAF description survives the update
  expect(s.waf.getIpSet({ Name: 'guard-v4', Id: s.ipv4.id, Scope: 'CLOUDFRONT' }).IPSet?.Description).toBe('managed by cdk-waf-guard');
});

test('an ended block is released on the next run, whatever TTL does', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7', { blockedUntil: T0 + 60_000 }), row('198.51.100.8', { blockedUntil: T0 + 600_000 }));
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.7/32', '198.51.100.8/32']);
  s.setNow(T0 + 61_000);
  const result = await s.make().run();
  expect(result.released.map((r) => r.ip)).toEqual(['198.51.100.7']);
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.8/32']);
  expect((await s.blockRows()).map((r) => r.ip)).toEqual(['198.51.100.8']);
  expect(await s.history('198.51.100.7')).toEqual(['BLOCKED', 'RELEASED']);
  expect(published[1].Subject).toBe('[test-guard] 1 released');
  expect(s.recorder.metrics.get(METRIC.RELEASES)).toBe(1);
});

test('an IP blocked by two rules stays blocked until both end', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7', { blockedUntil: T0 + 60_000 }), row('198.51.100.7', { ruleId: 'login', blockedUntil: T0 + 120_000 }));
  s.setNow(T0 + 61_000);
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.7/32']);
  s.setNow(T0 + 121_000);
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual([]);
});

test('COUNT rows alert "would block" and never call WAF', async () => {
  const s = await setup();
  await s.put(row('198.51.100.9', { action: 'COUNT' }));
  const result = await s.make().run();
  expect(s.waf.updates).toBe(0);
  expect(s.wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  expect(result.wouldBlock.map((r) => r.ip)).toEqual(['198.51.100.9']);
  expect(published[0].Subject).toBe('[test-guard] 1 would be blocked');
  expect(published[0].Message).toContain('COUNT rules; WAF unchanged');
  expect(await s.history('198.51.100.9')).toEqual(['WOULD_BLOCK']);
});

test('allow-listed addresses never reach WAF even if a block row exists', async () => {
  const s = await setup({ allowList: ['198.51.100.0/24'] });
  await s.put(row('198.51.100.7'), row('203.0.113.1'));
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['203.0.113.1/32']);
});

test('a lock conflict is retried after reading the table again', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7'));
  let interfered = false;
  s.waf.beforeUpdate = async () => {
    if (interfered) return;
    interfered = true;
    // another writer changes the set between our GetIPSet and UpdateIPSet, and a new block lands meanwhile
    const current = s.waf.getIpSet({ Name: 'guard-v4', Id: s.ipv4.id, Scope: 'CLOUDFRONT' });
    s.waf.beforeUpdate = undefined;
    await s.waf.updateIpSet({ Name: 'guard-v4', Id: s.ipv4.id, Scope: 'CLOUDFRONT', Addresses: ['192.0.2.1/32'], LockToken: current.LockToken });
    await s.put(row('198.51.100.8'));
  };
  const result = await s.make().run();
  expect(s.waf.lockConflicts).toBe(1);
  expect(result.retries).toBe(1);
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.7/32', '198.51.100.8/32']);
});

test('a sync that runs entirely between another one\'s read and write does not make it lose an IP', async () => {
  const s = await setup();
  await s.put(row('198.51.100.1'));
  const a = s.make();
  const b = s.make();
  // the second block arrives while the first run is between reading and writing
  let once = true;
  s.waf.beforeUpdate = async () => {
    if (!once) return;
    once = false;
    await s.put(row('198.51.100.2'));
    await b.run();
  };
  await a.run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.1/32', '198.51.100.2/32']);
  expect(s.waf.lockConflicts).toBeGreaterThanOrEqual(1);
  // each block is alerted exactly once across both runs
  const alerted = published.map((p) => p.Message ?? '').join('\n');
  expect(alerted.match(/198\.51\.100\.1 /g)).toHaveLength(1);
  expect(alerted.match(/198\.51\.100\.2 /g)).toHaveLength(1);
});

test('the set never exceeds its cap: the most severe blocks are kept and the rest alerted once', async () => {
  const s = await setup({ maxSetSize: 3 });
  await s.put(...[1, 2, 3, 4, 5].map((n) => row(`198.51.100.${n}`, { severity: n, observed: 20 * n })));
  const result = await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.3/32', '198.51.100.4/32', '198.51.100.5/32']);
  expect(result.plan.overCap.map((r) => r.ip)).toEqual(['198.51.100.2', '198.51.100.1']);
  expect(published[0].Subject).toBe('[test-guard] 3 blocked, 2 over the IP set limit');
  expect(s.recorder.metrics.get(METRIC.DROPPED_OVER_CAP)).toBe(2);
  await s.make().run();
  expect(published).toHaveLength(1);
});

test('the planner holds WAF\'s 10,000 limit with real volumes, and the fake WAF refuses more', async () => {
  const rows = Array.from({ length: 10_050 }, (_, i) => row(`10.${Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`, { severity: i }));
  const plan = planIpSets(rows, T0 + 1000, new CidrSet([]));
  expect(plan.ipv4).toHaveLength(10_000);
  expect(plan.overCap).toHaveLength(50);
  expect(Math.max(...plan.overCap.map((r) => r.severity))).toBeLessThan(50);
  const waf = new FakeWaf();
  const set = waf.createSet('big', 'IPV4');
  const token = waf.getIpSet({ Name: 'big', Id: set.id, Scope: 'CLOUDFRONT' }).LockToken;
  await expect(waf.updateIpSet({ Name: 'big', Id: set.id, Scope: 'CLOUDFRONT', Addresses: [...plan.ipv4, '192.0.2.1/32'], LockToken: token }))
    .rejects.toThrow(/limit is 10000/);
  await waf.updateIpSet({ Name: 'big', Id: set.id, Scope: 'CLOUDFRONT', Addresses: plan.ipv4, LockToken: token });
  expect(waf.addresses(set.id)).toHaveLength(10_000);
});

test('a WAF failure that is not retryable surfaces and is counted', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7'));
  s.waf.sets.delete(s.ipv4.id);
  await expect(s.make().run()).rejects.toThrow(/doesn’t exist/);
  expect(s.recorder.metrics.get(METRIC.SYNC_ERRORS)).toBe(1);
});

test('large block tables are read across pages', async () => {
  const s = await setup();
  const rows = Array.from({ length: 1200 }, (_, i) => row(`203.0.${Math.floor(i / 256)}.${i % 256}`, { host: 'x'.repeat(800) }));
  for (let i = 0; i < rows.length; i += 25) {
    const puts = rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await dynamo().doc.send(new BatchWriteCommand({ RequestItems: { [s.blocksTable]: puts } }));
  }
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toHaveLength(1200);
});

test('a failed publish gives the claims back, so the next run alerts and releases instead of losing them', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7'), row('198.51.100.8', { blockedUntil: T0 + 500, notifiedAt: T0 }));
  sns.on(PublishCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }));
  await expect(s.make().run()).rejects.toThrow(/Rate exceeded/);
  expect(s.recorder.metrics.get(METRIC.SYNC_ERRORS)).toBe(1);
  expect(await s.history('198.51.100.7')).toEqual([]);
  expect((await s.blockRows()).find((r) => r.ip === '198.51.100.8')?.releasedAt).toBeUndefined();
  // the given-back rows wait for the scheduled run instead of retriggering the sync through the stream filter
  expect((await s.blockRows()).every((r) => r.retryAt !== undefined)).toBe(true);
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    published.push(input);
    return { MessageId: 'retry' };
  });
  const result = await s.make().run();
  expect(published.map((p) => p.Subject)).toEqual(['[test-guard] 1 blocked, 1 released']);
  expect(result.released.map((r) => r.ip)).toEqual(['198.51.100.8']);
  expect(await s.history('198.51.100.7')).toEqual(['BLOCKED']);
  expect(await s.history('198.51.100.8')).toEqual(['RELEASED']);
});

test('an ended block claimed by a run that stopped after alerting is still released, without a second alert', async () => {
  const s = await setup();
  await s.put(row('198.51.100.9', { blockedUntil: T0 + 500, notifiedAt: T0, releasedAt: T0 + 600 }));
  await s.make().run();
  expect(await s.blockRows()).toEqual([]);
  expect(await s.history('198.51.100.9')).toEqual(['RELEASED']);
  expect(published).toEqual([]);
});

test('IP set writes are spaced at least a second apart', async () => {
  const s = await setup();
  const waits: number[] = [];
  let clock = T0 + 1000;
  s.setNow(clock);
  const sync = new IpSetSync(
    {
      guardName: 'g',
      scope: 'CLOUDFRONT',
      ipv4: s.ipv4,
      ipv6: s.ipv6,
      allowList: new CidrSet([]),
      maxSetSize: 10_000,
      historyRetentionDays: 1,
      blocksTable: s.blocksTable,
      historyTable: 'unused',
    },
    {
      doc: dynamo().doc,
      waf: new WAFV2Client({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
      log: s.recorder,
      metrics: s.recorder,
      now: () => clock,
      sleep: async (ms) => { waits.push(ms); clock += ms; },
    },
  );
  await s.put(row('198.51.100.7', { notifiedAt: T0 }), row('2001:db8::7', { notifiedAt: T0 }));
  await sync.run();
  expect(s.waf.updates).toBe(2);
  expect(waits).toEqual([1000]);
});

test('syncs started together converge on every block, each alerted once', async () => {
  const s = await setup();
  const ips = ['198.51.100.11', '198.51.100.12', '198.51.100.13', '2001:db8::11'];
  await s.put(row(ips[0]), row(ips[3]));
  // the other blocks land while the runs are in flight
  await Promise.all([s.make().run(), s.make().run(), s.put(row(ips[1])), s.make().run(), s.put(row(ips[2]))]);
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.11/32', '198.51.100.12/32', '198.51.100.13/32']);
  expect(s.waf.addresses(s.ipv6.id)).toEqual(['2001:db8::11/128']);
  const alerted = published.map((p) => p.Message ?? '').join('\n');
  for (const ip of ips) expect(alerted.split(`  ${ip}  `)).toHaveLength(2);
});

test('a block that ended without ever being applied is not announced as released', async () => {
  const s = await setup({ maxSetSize: 1 });
  await s.put(row('198.51.100.1', { severity: 5 }), row('198.51.100.2', { severity: 1, blockedUntil: T0 + 60_000 }));
  await s.make().run();
  expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.1/32']);
  s.setNow(T0 + 61_000);
  const result = await s.make().run();
  expect(result.released).toEqual([]);
  expect(published.map((p) => p.Subject)).toEqual(['[test-guard] 1 blocked, 1 over the IP set limit']);
  expect(await s.history('198.51.100.2')).toEqual(['ENDED_NOT_APPLIED']);
});

test('a claim left by a run that stopped is taken over once its lease runs out, and only then', async () => {
  const s = await setup();
  // claimed at T0 by a run that timed out before publishing
  await s.put(row('198.51.100.7', { blockedUntil: T0 + 3_600_000, notifiedAt: T0, notifyLeaseUntil: T0 + CLAIM_LEASE_MS }));
  s.setNow(T0 + CLAIM_LEASE_MS - 1000);
  await s.make().run();
  expect(published).toEqual([]);
  expect(await s.history('198.51.100.7')).toEqual([]);
  s.setNow(T0 + CLAIM_LEASE_MS + 1000);
  await s.make().run();
  expect(published.map((p) => p.Subject)).toEqual(['[test-guard] 1 blocked']);
  expect(await s.history('198.51.100.7')).toEqual(['BLOCKED']);
  expect(s.recorder.logs.filter((l) => l.message.startsWith('taking over claims')).map((l) => l.extra)).toEqual([{ count: 1 }]);
  // completed: no lease left, nothing more to say
  expect((await s.blockRows())[0].notifyLeaseUntil).toBeUndefined();
  s.setNow(T0 + 3 * CLAIM_LEASE_MS);
  await s.make().run();
  expect(published).toHaveLength(1);
});

test('a block that ended while its alert was still claimed by a stopped run is announced and recorded with its release', async () => {
  const s = await setup();
  await s.put(row('198.51.100.7', { blockedUntil: T0 + 60_000, notifiedAt: T0 + 30_000, notifyLeaseUntil: T0 + 30_000 + CLAIM_LEASE_MS }));
  s.setNow(T0 + 61_000);
  const result = await s.make().run();
  expect(published.map((p) => p.Subject)).toEqual(['[test-guard] 1 blocked, 1 released']);
  expect(result.released.map((r) => r.ip)).toEqual(['198.51.100.7']);
  expect(await s.history('198.51.100.7')).toEqual(['BLOCKED', 'RELEASED']);
  expect(await s.blockRows()).toEqual([]);
});
