import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { METRIC } from '../../src/realtime-waf-guard/handler-env';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { COUNTERS_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { createGuardTables } from '../support/guard-setup';
import { KinesisPoller } from '../support/kinesis-poller';
import { LocalDynamo, LocalKinesis } from '../support/local-aws';
import { logLine } from '../support/log-lines';
import { Recorder } from '../support/recorders';

const fields = deliveredFieldOrder(['sc-status']);
const T0 = 1_700_000_000_000;
let dynamo: LocalDynamo;
let kinesis: LocalKinesis;

beforeAll(async () => {
  [dynamo, kinesis] = await Promise.all([LocalDynamo.start(), LocalKinesis.start()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), kinesis.stop()]);
});

const baseRule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 20, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK', enabled: true };

interface PipelineOptions {
  samplingRate?: number;
  allowList?: string[];
  trustedProxies?: string[];
  maxNewBlocks?: number;
  countersTable?: string;
}

/** Rows as an operator may type them in the console: any attribute types. */
type RuleRow = StoredRule | Record<string, unknown>;

async function pipeline(rules: RuleRow[], options: PipelineOptions = {}) {
  const { rules: rulesTable, counters: countersTable, blocks: blocksTable, history: historyTable } = await createGuardTables(dynamo, rules);
  const samplingRate = options.samplingRate ?? 100;
  const stream = await kinesis.createStream('logs');
  const poller = new KinesisPoller(kinesis.client, stream);
  await poller.init();
  const recorder = new Recorder();
  let now = T0 + 5_000;
  const processor = new LogProcessor(
    {
      fields,
      samplingRate,
      allowList: new CidrSet(parseCidrList(options.allowList ?? [], 'allowList')),
      trustedProxies: new CidrSet(parseCidrList(options.trustedProxies ?? [], 'trustedProxies')),
    },
    {
      rules: new RulesCache(() => loadRules(dynamo.doc, rulesTable, { samplingRate, minLoggedRequests: 10 }), 0),
      counters: new CounterStore(dynamo.client, options.countersTable ?? countersTable),
      blocks: new BlockStore(dynamo.doc, blocksTable, countersTable, options.maxNewBlocks ?? 50),
      history: new HistoryStore(dynamo.doc, historyTable, 30),
      metrics: recorder,
      log: recorder,
      now: () => now,
    },
  );
  /** Puts lines on the stream and reads them back as one event source batch. */
  const send = async (lines: string[]): Promise<StreamRecord[]> => {
    for (let i = 0; i < lines.length; i += 500) {
      await kinesis.client.send(new PutRecordsCommand({
        StreamName: stream,
        Records: lines.slice(i, i + 500).map((l, j) => ({ Data: Buffer.from(`${l}\n`), PartitionKey: `p${i + j}` })),
      }));
    }
    const batches = await poller.poll(10_000);
    return batches.flat();
  };
  const blocks = async () => ((await dynamo.doc.send(new ScanCommand({ TableName: blocksTable }))).Items ?? []) as BlockRow[];
  const counter = async (ruleId: string, ip: string) =>
    (await dynamo.doc.send(new GetCommand({ TableName: countersTable, Key: { pk: `${ruleId}#${ip}` } }))).Item;
  const history = async (ip: string) => ((await dynamo.doc.send(new QueryCommand({
    TableName: historyTable, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []);
  const budgetUsed = async (minuteOfMs: number) => (await dynamo.doc.send(new GetCommand({
    TableName: countersTable, Key: { pk: `#budget#${Math.floor(minuteOfMs / 60_000)}` },
  }))).Item?.used ?? 0;
  return { processor, send, blocks, counter, history, budgetUsed, recorder, setNow: (ms: number) => { now = ms; } };
}

/** `count` requests from `ip`, spread over `seconds` from `startMs`. */
function requests(ip: string, count: number, startMs: number, seconds: number, extra: Record<string, string> = {}, host = 'api.example.com'): string[] {
  return Array.from({ length: count }, (_, i) => logLine(fields, {
    'timestamp': ((startMs + Math.floor((i * seconds * 1000) / count)) / 1000).toFixed(3),
    'c-ip': ip,
    'sc-status': 200,
    'cs-host': host,
    'cs-uri-stem': '/v1/items',
    ...extra,
  }));
}

test('blocks IPv4 and IPv6 clients over the threshold, not clients under it, and counts malformed lines', async () => {
  const p = await pipeline([baseRule]);
  const lines = [
    ...requests('198.51.100.7', 25, T0, 30),
    ...requests('2001:db8::bad', 21, T0, 30),
    ...requests('192.0.2.10', 19, T0, 30),
    ...requests('192.0.2.11', 30, T0, 30, {}, 'www.example.com'),
    'not a log line', `${requests('192.0.2.12', 1, T0, 1)[0]}\textra-field`,
  ];
  const records = await p.send(lines);
  expect(records).toHaveLength(lines.length);
  const result = await p.processor.process(records);
  expect(result.batchItemFailures).toEqual([]);
  const rows = await p.blocks();
  expect(rows.map((r) => r.ip).sort()).toEqual(['198.51.100.7', '2001:db8::/64']);
  const v4 = rows.find((r) => r.ip === '198.51.100.7')!;
  expect(v4).toMatchObject({ ruleId: 'api', family: 4, action: 'BLOCK', observed: 25, threshold: 20, windowSeconds: 60, blockedAt: T0 + 5000, blockedUntil: T0 + 5000 + 300_000 });
  expect(rows.find((r) => r.ip === '2001:db8::/64')!.family).toBe(6);
  expect(p.recorder.metrics.get(METRIC.MALFORMED)).toBe(2);
  expect(p.recorder.metrics.get(METRIC.RECORDS)).toBe(lines.length);
  expect(p.recorder.metrics.get(METRIC.NEW_BLOCKS)).toBe(2);
  const warning = p.recorder.logs.find((l) => l.message === 'skipped malformed log lines');
  expect(JSON.stringify(warning?.extra)).toContain('not a log line');
});

test('a replayed batch does not double-count, and an overlapping retry counts only its new records', async () => {
  const p = await pipeline([{ ...baseRule, threshold: 1000 }]);
  const first = await p.send(requests('198.51.100.7', 10, T0, 5));
  await p.processor.process(first);
  const bucketSum = async () => {
    const item = (await p.counter('api', '198.51.100.7'))!;
    return Object.entries(item).filter(([k]) => /^b\d+$/.test(k)).reduce((a, [, v]) => a + Number(v), 0);
  };
  expect(await bucketSum()).toBe(10);
  await p.processor.process(first);
  expect(await bucketSum()).toBe(10);
  const more = await p.send(requests('198.51.100.7', 4, T0 + 6000, 2));
  // the retried batch holds the already counted records and newer ones, as a retry after a partial failure can
  await p.processor.process([...first, ...more]);
  expect(await bucketSum()).toBe(14);
});

test('counts accumulate across batches into one window and are judged by the sampling bound', async () => {
  const p = await pipeline([{ ...baseRule, threshold: 100 }], { samplingRate: 10 });
  await p.processor.process(await p.send(requests('203.0.113.5', 6, T0, 10)));
  // 6 + 5 logged estimate 110 real requests within 60 s, but a client at 70% of the threshold shows that many in some
  // window most days: the bound asks for 24 logged requests in one window at 10% (sampling-bound.ts)
  const r = await p.processor.process(await p.send(requests('203.0.113.5', 5, T0 + 20_000, 10)));
  expect(r.summary.created).toEqual([]);
  const under = await p.processor.process(await p.send(requests('203.0.113.5', 12, T0 + 30_000, 10)));
  expect(under.summary.created).toEqual([]);
  const over = await p.processor.process(await p.send(requests('203.0.113.5', 1, T0 + 45_000, 1)));
  expect(over.summary.created.map((b) => [b.ip, b.observed])).toEqual([['203.0.113.5', 240]]);
});

test('requests outside the window do not add up', async () => {
  const p = await pipeline([{ ...baseRule, threshold: 20 }]);
  await p.processor.process(await p.send(requests('203.0.113.6', 15, T0, 5)));
  // two minutes later: the earlier 15 are out of the 60 s window
  const r = await p.processor.process(await p.send(requests('203.0.113.6', 15, T0 + 120_000, 5)));
  expect(r.summary.created).toEqual([]);
});

test('COUNT rules record "would block"; allow-listed clients are never recorded', async () => {
  const p = await pipeline([{ ...baseRule, action: 'COUNT' }], { allowList: ['192.0.2.0/24'] });
  const r = await p.processor.process(await p.send([...requests('198.51.100.8', 30, T0, 10), ...requests('192.0.2.50', 30, T0, 10)]));
  expect(r.summary.created.map((b) => [b.ip, b.action])).toEqual([['198.51.100.8', 'COUNT']]);
  expect(p.recorder.metrics.get(METRIC.WOULD_BLOCK)).toBe(1);
  expect(p.recorder.metrics.get(METRIC.NEW_BLOCKS)).toBeUndefined();
});

test('a spoofed X-Forwarded-For never gets the spoofed address blocked; behind a trusted proxy the real client is', async () => {
  const p = await pipeline([baseRule], { trustedProxies: ['10.0.0.0/8'] });
  const spoofed = requests('198.51.100.20', 30, T0, 10, { 'x-forwarded-for': '192.0.2.99' });
  const proxied = requests('10.1.2.3', 30, T0, 10, { 'x-forwarded-for': '192.0.2.99,%20203.0.113.77' });
  await p.processor.process(await p.send([...spoofed, ...proxied]));
  expect((await p.blocks()).map((b) => b.ip).sort()).toEqual(['198.51.100.20', '203.0.113.77']);
});

test('the new-block budget caps blocks per minute', async () => {
  const p = await pipeline([baseRule], { maxNewBlocks: 2 });
  const attackers = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'];
  const r = await p.processor.process(await p.send(attackers.flatMap((ip) => requests(ip, 25, T0, 10))));
  expect(r.summary.created).toHaveLength(2);
  expect(r.summary.overBudget).toHaveLength(2);
  expect(p.recorder.metrics.get(METRIC.BLOCK_BUDGET_EXCEEDED)).toBe(2);
  // the next minute has a fresh budget
  p.setNow(T0 + 65_000);
  const next = await p.processor.process(await p.send(attackers.flatMap((ip) => requests(ip, 5, T0 + 40_000, 5))));
  expect(next.summary.created).toHaveLength(2);
  expect((await p.blocks())).toHaveLength(4);
});

test('an ongoing attacker is blocked once, not once per batch', async () => {
  const p = await pipeline([baseRule]);
  await p.processor.process(await p.send(requests('198.51.100.30', 25, T0, 10)));
  const again = await p.processor.process(await p.send(requests('198.51.100.30', 25, T0 + 11_000, 10)));
  expect(again.summary.created).toEqual([]);
  expect(await p.blocks()).toHaveLength(1);
});

test('a storage failure fails the batch from its first record so that it is retried', async () => {
  const p = await pipeline([baseRule], { countersTable: 'does-not-exist' });
  const records = await p.send(requests('198.51.100.40', 3, T0, 1));
  const r = await p.processor.process(records);
  expect(r.batchItemFailures).toEqual([{ itemIdentifier: records[0].kinesis.sequenceNumber }]);
  expect(p.recorder.logs.some((l) => l.level === 'error')).toBe(true);
});

test('invalid rule rows are reported and skipped; valid ones still work', async () => {
  const p = await pipeline([baseRule, { ...baseRule, ruleId: 'broken', windowSeconds: 5 } as StoredRule]);
  const r = await p.processor.process(await p.send(requests('198.51.100.50', 25, T0, 10)));
  expect(r.summary.created.map((b) => b.ruleId)).toEqual(['api']);
  expect(JSON.stringify(p.recorder.logs.filter((l) => l.message === 'skipping invalid rule row'))).toContain('rule \\"broken\\": window');
});

test('a counter item never keeps buckets older than its window, whatever the request cadence', async () => {
  const p = await pipeline([{ ...baseRule, ruleId: 'short', threshold: 1000, windowSeconds: 10 }]);
  const bucketNames = async () => Object.keys((await p.counter('short', '198.51.100.60'))!).filter((k) => /^b\d+$/.test(k));
  // one request every 7 s (a fresh bucket almost every time), then a 10-minute pause, then more
  const times = [...Array.from({ length: 40 }, (_, i) => T0 + i * 7000), ...Array.from({ length: 5 }, (_, i) => T0 + 900_000 + i * 3000)];
  let most = 0;
  for (const t of times) {
    p.setNow(t + 1000);
    await p.processor.process(await p.send(requests('198.51.100.60', 1, t, 1)));
    most = Math.max(most, (await bucketNames()).length);
  }
  // a 10 s window has 12 buckets of 833 ms: the item holds at most those and a window of slack for late records
  expect(most).toBeLessThanOrEqual(24);
  expect((await bucketNames()).length).toBeLessThanOrEqual(5);
});

test('a client still attacking when its block ends is renewed, not released and blocked again', async () => {
  const p = await pipeline([{ ...baseRule, blockSeconds: 60 }]);
  await p.processor.process(await p.send(requests('198.51.100.70', 25, T0, 10)));
  // 70 s later the block has ended but no sweep has released it yet, and the client is still over the threshold
  p.setNow(T0 + 5000 + 70_000);
  const r = await p.processor.process(await p.send(requests('198.51.100.70', 25, T0 + 65_000, 10)));
  expect(r.summary.created.map((b) => [b.ip, b.renewedFrom])).toEqual([['198.51.100.70', T0 + 5000 + 60_000]]);
  const [stored] = await p.blocks();
  // the renewed block runs from the latest offending request (T0 + 74.6 s), not from when the batch was processed
  expect(stored).toMatchObject({ renewedFrom: T0 + 65_000, blockedUntil: T0 + 74_600 + 60_000 });
  expect(stored.notifiedAt).toBeUndefined();
});

test('the lag metric measures from the oldest record of the batch', async () => {
  const p = await pipeline([baseRule]);
  const records = await p.send(requests('198.51.100.80', 2, T0, 1));
  const aged = records.map((r, i) => ({ ...r, kinesis: { ...r.kinesis, approximateArrivalTimestamp: (T0 - 60_000 + i * 30_000) / 1000 } }));
  await p.processor.process(aged);
  expect(p.recorder.metrics.get(METRIC.LAG)).toBe(65_000);
});

test('a block that fails to be written gives its budget unit back', async () => {
  const countersTable = await dynamo.createTable('counters', COUNTERS_TABLE);
  const store = new BlockStore(dynamo.doc, 'no-such-blocks-table', countersTable, 5);
  const candidate = { rule: baseRule, ip: { family: 4 as const, text: '198.51.100.90', value: 0 }, observed: 30, firstSeenMs: T0, crossedAtMs: T0 };
  await expect(store.record([candidate], T0)).rejects.toThrow();
  const budget = await dynamo.doc.send(new GetCommand({ TableName: countersTable, Key: { pk: `#budget#${Math.floor(T0 / 60_000)}` } }));
  expect(budget.Item?.used).toBe(0);
});

test('a batch longer than a window catches a burst that the window at its last request no longer sees', async () => {
  const p = await pipeline([{ ...baseRule, threshold: 20, windowSeconds: 10 }]);
  // a backlog: 25 requests within 5 s, then one more 5 minutes later, all in one batch
  const lines = [...requests('198.51.100.95', 25, T0, 5), ...requests('198.51.100.95', 1, T0 + 300_000, 1)];
  const r = await p.processor.process(await p.send(lines));
  expect(r.summary.created.map((b) => [b.ip, b.observed])).toEqual([['198.51.100.95', 25]]);
  // and only the last window's bucket was stored
  const stored = Object.keys((await p.counter('api', '198.51.100.95'))!).filter((k) => /^b\d+$/.test(k));
  expect(stored).toHaveLength(1);
});

test('two bursts of threshold - 1 less than a window apart, at bucket edges, are blocked across batches', async () => {
  const p = await pipeline([{ ...baseRule, threshold: 20, windowSeconds: 60 }]);
  // the first burst at the very end of a 10 s bucket, the second 50.2 s later at the start of another
  const first = T0 + 9_900;
  p.setNow(first + 1000);
  await p.processor.process(await p.send(requests('198.51.100.96', 19, first, 0.05)));
  p.setNow(first + 51_000);
  const r = await p.processor.process(await p.send(requests('198.51.100.96', 19, first + 50_200, 0.05)));
  expect(r.summary.created.map((b) => [b.ip, b.observed])).toEqual([['198.51.100.96', 38]]);
});

test('a shard 25 s behind keeps its counts for a 10 s rule, and items shrink again once it has caught up', async () => {
  const p = await pipeline([{ ...baseRule, threshold: 20, windowSeconds: 10 }]);
  const ip = '198.51.100.97';
  const onShard = (shard: number, records: StreamRecord[]) =>
    records.map((r) => ({ ...r, eventID: `shardId-00000000000${shard}:${r.kinesis.sequenceNumber}` }));
  p.setNow(T0 + 25_000);
  // shard 1 is 25 s behind: it counts 12 requests from T0 ...
  await p.processor.process(onShard(1, await p.send(requests(ip, 12, T0, 4))));
  // ... while shard 0 is current and sees the same client at T0 + 24 s ...
  await p.processor.process(onShard(0, await p.send(requests(ip, 1, T0 + 24_000, 1))));
  // ... and then 12 more, within 10 s of the first ones
  p.setNow(T0 + 26_000);
  const r = await p.processor.process(onShard(1, await p.send(requests(ip, 12, T0 + 5_000, 4))));
  expect(r.summary.created.map((b) => [b.ip, b.observed])).toEqual([[ip, 24]]);

  // both shards current again: the lagging shard's buckets go
  p.setNow(T0 + 30_000);
  await p.processor.process(onShard(1, await p.send(requests(ip, 1, T0 + 29_000, 1))));
  await p.processor.process(onShard(0, await p.send(requests(ip, 1, T0 + 29_500, 1))));
  const starts = Object.keys((await p.counter('api', ip))!).filter((k) => /^b\d+$/.test(k)).map((k) => Number(k.slice(1)) * 833);
  expect(Math.min(...starts)).toBeGreaterThanOrEqual(T0 + 20_000);
});

describe('rule rows typed by hand', () => {
  test('wrong types are refused, logged with row and field, counted, and never become a rule; "TRUE" enables', async () => {
    const p = await pipeline([
      // `true` would read as a threshold of 1 and block every client of the host
      { ...baseRule, ruleId: 'bool-threshold', threshold: true },
      { ...baseRule, ruleId: 'list-threshold', threshold: [100] },
      { ...baseRule, ruleId: 'hex-threshold', threshold: '0x64' },
      { ...baseRule, ruleId: 'yes-enabled', enabled: 'yes' },
      // typed as text in the console: still a working rule
      { ...baseRule, ruleId: 'typed', threshold: '20', enabled: 'TRUE' },
    ]);
    const r = await p.processor.process(await p.send(requests('198.51.100.110', 5, T0, 10)));
    expect(r.summary.created).toEqual([]);
    expect(p.recorder.metrics.get(METRIC.INVALID_RULE_ROWS)).toBe(4);
    const refused = p.recorder.logs.filter((l) => l.message === 'skipping invalid rule row').map((l) => String(l.extra?.problem));
    expect(refused.sort()).toEqual([
      'rule "bool-threshold": threshold must be a whole number of requests from 1 to 100000000 (got true)',
      'rule "hex-threshold": threshold must be a whole number of requests from 1 to 100000000 (got "0x64")',
      'rule "list-threshold": threshold must be a whole number of requests from 1 to 100000000 (got [100])',
      'rule "yes-enabled": enabled must be true or false (got "yes")',
    ]);
    const over = await p.processor.process(await p.send(requests('198.51.100.111', 25, T0, 10)));
    expect(over.summary.created.map((b) => [b.ruleId, b.ip])).toEqual([['typed', '198.51.100.111']]);
    // measured on every batch (the alarm watches the maximum), logged once per load of the rules
    expect(p.recorder.metrics.get(METRIC.INVALID_RULE_ROWS)).toBe(8);
  });

  test('a row whose threshold stands for too few logged requests at this sampling rate is refused', async () => {
    // 1%: a threshold of 50 is half a logged request, so the first logged request would block
    const p = await pipeline([
      { ...baseRule, ruleId: 'too-low', threshold: 50 },
      { ...baseRule, ruleId: 'sound', threshold: 1000 },
    ], { samplingRate: 1 });
    const r = await p.processor.process(await p.send(requests('198.51.100.112', 1, T0, 1)));
    expect(r.summary.created).toEqual([]);
    expect(p.recorder.metrics.get(METRIC.INVALID_RULE_ROWS)).toBe(1);
    expect(p.recorder.logs.find((l) => l.message === 'skipping invalid rule row')?.extra?.problem).toMatch(
      /^rule "too-low": threshold 50 at samplingRate 1% is 0.5 logged requests per window.*at least 249 or samplingRate to at least 5$/);
    // the sound rule still blocks, at its logged threshold: 26 logged requests in a window at 1%
    const under = await p.processor.process(await p.send(requests('198.51.100.113', 25, T0, 10)));
    expect(under.summary.created).toEqual([]);
    const over = await p.processor.process(await p.send(requests('198.51.100.113', 1, T0 + 11_000, 1)));
    expect(over.summary.created.map((b) => [b.ruleId, b.observed])).toEqual([['sound', 2600]]);
  });
});

describe('backlogs', () => {
  const late = T0 + 50 * 60_000;

  test('an offence older than its block period is recorded, neither blocking nor spending the budget', async () => {
    const p = await pipeline([baseRule], { maxNewBlocks: 1 });
    p.setNow(late);
    // after an outage: three bursts from 50 minutes ago (blocks of 5 minutes) and one attack a minute ago, one batch
    const lines = [
      ...['198.51.100.120', '198.51.100.121', '198.51.100.122'].flatMap((ip) => requests(ip, 25, T0, 10)),
      ...requests('203.0.113.120', 25, late - 60_000, 10),
    ];
    const r = await p.processor.process(await p.send(lines));
    expect(r.summary.stale.map((b) => b.ip).sort()).toEqual(['198.51.100.120', '198.51.100.121', '198.51.100.122']);
    // the live attacker gets the one new block the minute allows, and its block runs from its offence
    expect(r.summary.created.map((b) => b.ip)).toEqual(['203.0.113.120']);
    expect(r.summary.overBudget).toEqual([]);
    expect(await p.budgetUsed(late)).toBe(1);
    const [row] = await p.blocks();
    expect(row).toMatchObject({ ip: '203.0.113.120', blockedAt: late, blockedUntil: late - 60_000 + 9600 + 300_000 });
    expect(p.recorder.metrics.get(METRIC.STALE_OFFENCES)).toBe(3);
    expect(p.recorder.metrics.get(METRIC.BLOCK_BUDGET_EXCEEDED)).toBeUndefined();
    const [event] = await p.history('198.51.100.120');
    expect(event).toMatchObject({
      event: 'STALE_OFFENCE', ruleId: 'api', action: 'BLOCK', observed: 25, crossedAt: T0 + 9600, blockedUntil: T0 + 9600 + 300_000,
    });
    expect(event.at).toBe(`${new Date(T0 + 9600).toISOString()}#STALE_OFFENCE#api`);
  });

  test('a backlog records each would-be block period once, not once per batch', async () => {
    const p = await pipeline([baseRule]);
    p.setNow(late);
    await p.processor.process(await p.send(requests('198.51.100.123', 25, T0, 10)));
    // the same burst goes on in the next batches, within the period its block would have had
    await p.processor.process(await p.send(requests('198.51.100.123', 25, T0 + 10_000, 10)));
    await p.processor.process(await p.send(requests('198.51.100.123', 25, T0 + 20_000, 10)));
    expect((await p.history('198.51.100.123')).map((e) => e.event)).toEqual(['STALE_OFFENCE']);
    // past that period, a new offence is a new event
    await p.processor.process(await p.send(requests('198.51.100.123', 25, T0 + 400_000, 10)));
    expect((await p.history('198.51.100.123')).map((e) => e.event)).toEqual(['STALE_OFFENCE', 'STALE_OFFENCE']);
    expect(await p.blocks()).toEqual([]);
  });
});
