import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { CidrSet } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { BLOCKS_TABLE, HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { scanAll } from '../../src/shared/runtime/dynamo';
import { blockRow } from '../support/block-rows';
import { FakeWaf } from '../support/fake-waf';
import { FaultInjector, serveFromFake } from '../support/fault-injection';
import { LocalDynamo } from '../support/local-aws';
import { Recorder } from '../support/recorders';

/**
 * Every AWS call of a scenario of sync runs is failed in turn (once as a service error, once as a crash of the run),
 * the runs go on as the deployed system would run them, and the end state must be whole: the IP sets hold exactly the
 * blocks in force, every block and release was alerted at least once, and history holds each event exactly once.
 */

jest.setTimeout(15 * 60_000);

const T0 = 1_700_000_000_000;
const MIN = 60_000;
/** The sweep schedule of the deployed sync function. */
const SWEEP_MS = MIN;
/** How many times Lambda retries a failed stream batch (`retryAttempts` of the event source). */
const STREAM_RETRIES = 3;
/** The README's bound: claims of a run that crashed are taken over by a sweep at most this long after it. */
const CRASH_BOUND_MS = 4 * MIN;

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await LocalDynamo.start();
});
afterAll(async () => {
  await dynamo.stop();
});

interface Phase {
  readonly at: number;
  /** Rows written when the phase starts (a new block, or a renewal replacing an ended one). */
  readonly rows: BlockRow[];
  /** The phase must settle before this time, or rows meant to end in the next phase would end in this one. */
  readonly settleBefore: number;
}

const r = (ip: string, blockedAt: number, minutes: number, over: Partial<BlockRow> = {}): BlockRow =>
  blockRow(ip, blockedAt, { blockedUntil: blockedAt + minutes * MIN, ...over });

const B = T0 + 30 * MIN;
const renewed = r('198.51.100.30', B, 60, { renewedFrom: T0 + 20 * MIN });
/** New blocks (v4, v6), COUNT rows, blocks that end, a renewal, one address under two rules, across three phases. */
const PHASES: Phase[] = [
  {
    at: T0 + 1000,
    rows: [
      r('198.51.100.10', T0, 120),
      r('2001:db8::a', T0, 120),
      r('203.0.113.5', T0, 120, { action: 'COUNT', ruleId: 'login-dry' }),
      r('198.51.100.20', T0, 20),
      r('2001:db8::e', T0, 20),
      r('198.51.100.30', T0, 20),
    ],
    settleBefore: T0 + 20 * MIN,
  },
  {
    at: B,
    rows: [
      r('198.51.100.40', B, 60),
      r('2001:db8::b', B, 30),
      r('198.51.100.50', B, 60, { action: 'COUNT', ruleId: 'login-dry' }),
      r('198.51.100.10', B, 70, { ruleId: 'login' }),
      renewed,
    ],
    settleBefore: T0 + 55 * MIN,
  },
  { at: T0 + 4 * 60 * MIN, rows: [], settleBefore: T0 + 5 * 60 * MIN },
];
const ALL_ROWS = PHASES.flatMap((p) => p.rows);
/** The first block of the renewed client: replaced by its renewal before any run saw it end, so never released. */
const replaced = ALL_ROWS.find((x) => x.ip === renewed.ip && x !== renewed)!;

const startEvent = (x: BlockRow) => (x.action !== 'BLOCK' ? 'WOULD_BLOCK' : x.renewedFrom ? 'RENEWED' : 'BLOCKED');
const endEvent = (x: BlockRow) => (x.action !== 'BLOCK' ? 'COUNT_ENDED' : 'RELEASED');

const EXPECTED_HISTORY = ALL_ROWS.flatMap((x) => [
  `${x.ip} ${x.ruleId} ${startEvent(x)} ${x.blockedAt}`,
  ...(x === replaced ? [] : [`${x.ip} ${x.ruleId} ${endEvent(x)} ${x.blockedAt}`]),
]).sort();
const EXPECTED_ALERTS = ALL_ROWS.flatMap((x) => [
  `${x.action === 'BLOCK' ? 'blocked' : 'wouldBlock'} ${x.ip} ${x.ruleId} ${x.blockedUntil}`,
  ...(x === replaced || x.action !== 'BLOCK' ? [] : [`released ${x.ip} ${x.ruleId} ${x.blockedUntil}`]),
]).sort();

/** What WAF must hold at `now`, from the scenario alone. */
function expectedSets(now: number): { v4: string[]; v6: string[] } {
  const live = ALL_ROWS.filter((x) => (x !== replaced || now < renewed.blockedAt) && x.action === 'BLOCK' && x.blockedAt <= now && x.blockedUntil > now);
  const cidrs = (family: 4 | 6) => [...new Set(live.filter((x) => x.family === family).map((x) => `${x.ip}/${family === 4 ? 32 : 128}`))].sort();
  return { v4: cidrs(4), v6: cidrs(6) };
}

interface Outcome {
  readonly calls: number;
  readonly injected?: string;
  readonly problems: string[];
}

/** The scenario on fresh tables, with call `failAt` failed (0: none). */
async function scenario(failAt: number, crash: boolean): Promise<Outcome> {
  const blocksTable = await dynamo.createTable('blocks', BLOCKS_TABLE);
  const historyTable = await dynamo.createTable('history', HISTORY_TABLE);
  const faults = new FaultInjector();
  const fake = new FakeWaf();
  const ipv4 = fake.createSet('guard-v4', 'IPV4');
  const ipv6 = fake.createSet('guard-v6', 'IPV6');
  const published: PublishCommandInput[] = [];
  // The code under test talks through its own clients; the test inspects through dynamo.doc, which is not counted.
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${dynamo.port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const waf = new WAFV2Client({ region: 'us-east-1' });
  const sns = new SNSClient({ region: 'us-east-1' });
  faults.attach(doc, 'dynamodb');
  faults.attach(waf, 'waf');
  faults.attach(sns, 'sns');
  serveFromFake(waf, (command, input) => {
    if (command === 'GetIPSetCommand') return fake.getIpSet(input);
    if (command === 'UpdateIPSetCommand') return fake.updateIpSet(input);
    throw new Error(`unexpected WAF call ${command}`);
  });
  serveFromFake(sns, (command, input) => {
    if (command !== 'PublishCommand') throw new Error(`unexpected SNS call ${command}`);
    published.push(input);
    return { MessageId: `m${published.length}` };
  });
  faults.arm(failAt, crash);

  let now = 0;
  const recorder = new Recorder();
  const config = {
    guardName: 'faults',
    scope: 'CLOUDFRONT' as const,
    ipv4,
    ipv6,
    allowList: new CidrSet([]),
    maxSetSize: 10_000,
    historyRetentionDays: 30,
    blocksTable,
    historyTable,
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
  };
  /** One invocation: a fresh container after a failure, as Lambda does after a timeout. */
  const invoke = async (): Promise<boolean> => {
    faults.beginRun();
    const sync = new IpSetSync(config, { doc, waf, sns, log: recorder, metrics: recorder, now: () => now, sleep: async () => {} });
    try {
      await sync.run();
      return true;
    } catch {
      return false;
    }
  };
  const snapshot = async () => JSON.stringify([
    await scanAll(dynamo.doc, blocksTable),
    (await scanAll(dynamo.doc, historyTable)).length,
    fake.addresses(ipv4.id),
    fake.addresses(ipv6.id),
    published.length,
  ]);
  let last = '';
  /** A run that succeeds and changes nothing (state changes only through runs and the scenario's own writes). */
  const idle = async () => {
    const ok = await invoke();
    const before = last;
    last = await snapshot();
    return ok && before === last;
  };

  const problems: string[] = [];
  for (const [i, phase] of PHASES.entries()) {
    now = phase.at;
    for (const row of phase.rows) await dynamo.doc.send(new PutCommand({ TableName: blocksTable, Item: row }));
    // The new rows reach the function through the table's stream; Lambda retries a failed batch a few times.
    if (phase.rows.length > 0) {
      for (let attempt = 0; attempt <= STREAM_RETRIES && !(await invoke()); attempt++) now += 1000;
    }
    last = await snapshot();
    // Then the sweep, every minute, until a sweep changes nothing and neither does one past the crash bound.
    let settled = false;
    while (!settled && now < phase.settleBefore) {
      now += SWEEP_MS;
      if (!(await idle())) continue;
      now += CRASH_BOUND_MS;
      settled = await idle();
    }
    if (!settled || now >= phase.settleBefore) problems.push(`phase ${i + 1} not settled at +${(now - T0) / MIN} min`);
    const sets = expectedSets(now);
    const held = { v4: fake.addresses(ipv4.id), v6: fake.addresses(ipv6.id) };
    if (JSON.stringify(held) !== JSON.stringify(sets)) problems.push(`phase ${i + 1}: IP sets ${JSON.stringify(held)}, blocks in force ${JSON.stringify(sets)}`);
  }

  const left = await scanAll(dynamo.doc, blocksTable);
  if (left.length > 0) problems.push(`rows never released: ${left.map((x) => `${x.ip} ${x.ruleId}`).join(', ')}`);
  const history = (await scanAll(dynamo.doc, historyTable)).map((h) => `${h.ip} ${h.ruleId} ${h.event} ${h.blockedAt}`).sort();
  const missing = EXPECTED_HISTORY.filter((e) => !history.includes(e));
  const extra = history.filter((e) => !EXPECTED_HISTORY.includes(e));
  if (missing.length > 0) problems.push(`history lacks ${missing.join('; ')}`);
  if (extra.length > 0) problems.push(`history has unexpected ${extra.join('; ')}`);
  const alerted = published.flatMap((p) => JSON.parse(p.MessageAttributes?.changes?.StringValue ?? '[]') as Array<{ event: string; ip: string; ruleId: string; until: string }>)
    .map((c) => `${c.event} ${c.ip} ${c.ruleId} ${Date.parse(c.until)}`);
  const unalerted = EXPECTED_ALERTS.filter((e) => !alerted.includes(e));
  const wrong = [...new Set(alerted.filter((e) => !EXPECTED_ALERTS.includes(e)))];
  if (unalerted.length > 0) problems.push(`never alerted: ${unalerted.join('; ')}`);
  if (wrong.length > 0) problems.push(`alerted though it did not happen: ${wrong.join('; ')}`);

  await dynamo.client.send(new DeleteTableCommand({ TableName: blocksTable }));
  await dynamo.client.send(new DeleteTableCommand({ TableName: historyTable }));
  client.destroy();
  return { calls: faults.calls, injected: faults.injected, problems };
}

let baselineCalls = 0;

test('without faults the scenario ends whole (the baseline the fault runs are held to)', async () => {
  const outcome = await scenario(0, false);
  expect(outcome.problems).toEqual([]);
  baselineCalls = outcome.calls;
  // the scenario exercises every service several times over
  expect(baselineCalls).toBeGreaterThan(40);
});

describe.each([
  ['a service error', false],
  ['a crash of the run (timeout: no cleanup)', true],
])('failing each AWS call of the scenario in turn with %s', (_title, crash) => {
  test('leaves IP sets, alerts and history whole once the runs go on', async () => {
    expect(baselineCalls).toBeGreaterThan(0);
    const failures: string[] = [];
    const injectedInto = new Set<string>();
    for (let n = 1; n <= baselineCalls; n++) {
      const outcome = await scenario(n, crash);
      if (!outcome.injected) failures.push(`call ${n}: the fault was never reached (${outcome.calls} calls)`);
      else injectedInto.add(outcome.injected.split(' ')[0]);
      for (const p of outcome.problems) failures.push(`call ${n} (${outcome.injected}): ${p}`);
    }
    expect(failures).toEqual([]);
    // faults landed on all three services
    expect([...injectedInto].sort()).toEqual(['dynamodb', 'sns', 'waf']);
  });
});
