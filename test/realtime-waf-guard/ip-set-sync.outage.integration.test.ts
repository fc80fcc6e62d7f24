/**
 * Outages longer than a block: SNS, the blocks table's writes or WAF failing across several sweeps while blocks start
 * and end. The real sync on dynalite, the WAF fake and SNS through aws-sdk-client-mock; what is checked is what was
 * actually published, what WAF held after each run, and the history rows: every block that reached WAF is announced
 * and recorded exactly once as blocked (marked late when it was) and once as released, and a block that never
 * reached WAF is recorded as such and announced as neither.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InternalErrorException, PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, GetIPSetCommandInput, WAFInternalErrorException, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { BLOCKS_TABLE, HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { scanAll } from '../../src/shared/runtime/dynamo';
import { blockRow } from '../support/block-rows';
import { FakeWaf } from '../support/fake-waf';
import { ipSetSyncConfig, useLocalDynamo } from '../support/guard-setup';
import { Recorder } from '../support/recorders';

jest.setTimeout(5 * 60_000);

const T0 = 1_700_000_040_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const dynamo = useLocalDynamo();
const sns = mockClient(SNSClient);
afterAll(() => {
  sns.restore();
});
afterEach(() => {
  mockClient(WAFV2Client).restore();
});

/** Which services fail for a run. */
interface Outage {
  readonly sns?: boolean;
  /** Every write to the blocks table (reads still work). */
  readonly blockWrites?: boolean;
  readonly waf?: boolean;
}

interface Change { readonly event: string; readonly ip: string; readonly ruleId: string; readonly until: string; readonly late?: boolean }

/** A guard's sync with services that fail while `outage` says so. */
async function setup() {
  const blocksTable = await dynamo().createTable('blocks', BLOCKS_TABLE);
  const historyTable = await dynamo().createTable('history', HISTORY_TABLE);
  const fake = new FakeWaf();
  const wafMock = fake.install();
  const ipv4 = fake.createSet('guard-v4', 'IPV4');
  const ipv6 = fake.createSet('guard-v6', 'IPV6');
  let outage: Outage = {};
  wafMock.on(GetIPSetCommand).callsFake((input: GetIPSetCommandInput) => {
    if (outage.waf) throw new WAFInternalErrorException({ $metadata: { httpStatusCode: 500 }, message: 'AWS WAF couldn’t perform the operation because of a system problem.' });
    return fake.getIpSet(input);
  });
  const published: Array<PublishCommandInput & { at: number }> = [];
  let now = T0;
  sns.reset();
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    if (outage.sns) throw new InternalErrorException({ $metadata: { httpStatusCode: 500 }, message: 'Request could not be completed.' });
    published.push({ ...input, at: now });
    return { MessageId: `m${published.length}` };
  });
  // The sync's own client: writes to the blocks table fail during an outage; the test inspects through dynamo().doc.
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${dynamo().port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  client.middlewareStack.add((next, context) => async (args) => {
    const write = /^(Update|Put|Delete)Item/.test(context.commandName ?? '');
    if (outage.blockWrites && write && (args.input as { TableName?: string }).TableName === blocksTable) {
      throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    }
    return next(args);
  }, { step: 'initialize', name: 'outage', priority: 'high' });
  const recorder = new Recorder();
  /** What WAF held after each run, by run time. */
  const held: Array<{ at: number; addresses: string[] }> = [];

  /** One invocation at `at`, in a fresh container as after a failure; false when it failed. */
  const run = async (at: number, during: Outage = {}): Promise<boolean> => {
    now = at;
    outage = during;
    const sync = new IpSetSync(
      ipSetSyncConfig('outage', { ipv4, ipv6 }, { blocksTable, historyTable }),
      { doc, waf: new WAFV2Client({ region: 'us-east-1' }), sns: new SNSClient({ region: 'us-east-1' }), log: recorder, metrics: recorder, now: () => now, sleep: async () => {} },
    );
    let ok = true;
    try {
      await sync.run();
    } catch {
      ok = false;
    }
    outage = {};
    held.push({ at, addresses: [...fake.addresses(ipv4.id), ...fake.addresses(ipv6.id)] });
    return ok;
  };
  const put = async (...rows: BlockRow[]) => {
    for (const r of rows) await dynamo().doc.send(new PutCommand({ TableName: blocksTable, Item: r }));
  };
  const history = async (ip: string) => ((await dynamo().doc.send(new QueryCommand({
    TableName: historyTable, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []).map((i) => `${i.event} ${i.ruleId} ${i.blockedAt}`);
  /** Every change announced, from the messages SNS accepted. */
  const changes = (): Array<Change & { at: number }> => published.flatMap((p) => (JSON.parse(p.MessageAttributes?.changes?.StringValue ?? '[]') as Change[])
    .map((c) => ({ ...c, at: p.at })));
  const remove = async () => {
    await dynamo().client.send(new DeleteTableCommand({ TableName: blocksTable }));
    await dynamo().client.send(new DeleteTableCommand({ TableName: historyTable }));
    client.destroy();
  };
  return { run, put, history, changes, published, held, blocksTable, remove };
}

test('SNS failing for 3 minutes across a 2-minute block: announced as blocked (late) and as released, history BLOCKED then RELEASED', async () => {
  const s = await setup();
  const ip = '198.51.100.7';
  const block = blockRow(ip, T0, { blockedUntil: T0 + 2 * MIN });
  await s.put(block);
  // The stream's run and the sweeps of minutes 1 and 2 fail to publish; the sweep of minute 3 finds SNS back.
  for (const at of [T0 + 1000, T0 + MIN, T0 + 2 * MIN]) await s.run(at, { sns: true });
  expect(await s.run(T0 + 3 * MIN)).toBe(true);
  // The address was in the IP set for two sweeps, then left it when the block ended.
  expect(s.held.map((h) => h.addresses)).toEqual([[`${ip}/32`], [`${ip}/32`], [], []]);

  expect(s.published).toHaveLength(1);
  const [digest] = s.published;
  expect(digest.Subject).toBe('[outage] 1 blocked, 1 released');
  expect(digest.Message).toContain(`Blocked in WAF:\n  ${ip}  rule api (host api.example.com): 40 requests in 60 s, threshold 20, until ${iso(T0 + 2 * MIN)} `
    + `(announced late: in WAF since ${iso(T0 + 1000)} at the latest)`);
  expect(digest.Message).toContain(`Released:\n  ${ip}  rule api (host api.example.com): block ended ${iso(T0 + 2 * MIN)}`);
  expect(s.changes().map(({ event, ip: addr, late }) => ({ event, ip: addr, late }))).toEqual([
    { event: 'blocked', ip, late: true },
    { event: 'released', ip, late: undefined },
  ]);
  expect(await s.history(ip)).toEqual([`BLOCKED api ${T0}`, `RELEASED api ${T0}`]);
  expect(await scanAll(dynamo().doc, s.blocksTable)).toEqual([]);
  // Nothing more to say.
  expect(await s.run(T0 + 4 * MIN)).toBe(true);
  expect(s.published).toHaveLength(1);
  await s.remove();
});

describe.each([
  ['fail in the run that wrote WAF only', 1],
  ['fail until after the block ended', 3],
])('the WAF update goes through, but the writes that record it %s', (_title, failedRuns) => {
  test('the block is still announced as blocked (late) and as released, and recorded so; never taken out of WAF unrecorded', async () => {
    const s = await setup();
    const ip = '2001:db8::7';
    await s.put(blockRow(ip, T0, { blockedUntil: T0 + 2 * MIN }));
    const times = [T0 + 1000, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN];
    for (const [i, at] of times.entries()) await s.run(at, { blockWrites: i < failedRuns });
    // In WAF from the first run; taken out only by a run that could record that it had been there.
    expect(s.held.map((h) => h.addresses)).toEqual(times.map((_, i) => (i < Math.max(2, failedRuns) ? [`${ip}/128`] : [])));
    // Announced by the next run that could record it: in force then (not known to be late, since what would have
    // told when it reached WAF is the write that failed), or ended by then (late).
    expect(s.changes().map((c) => `${c.event} ${c.ip}${c.late ? ' late' : ''} ${(c.at - T0) / MIN}`)).toEqual(
      failedRuns === 1 ? [`blocked ${ip} 1`, `released ${ip} 2`] : [`blocked ${ip} late 3`, `released ${ip} 3`]);
    expect(await s.history(ip)).toEqual([`BLOCKED api ${T0}`, `RELEASED api ${T0}`]);
    expect(await scanAll(dynamo().doc, s.blocksTable)).toEqual([]);
    await s.remove();
  });
});

test('a new block reaches WAF while an ended one that cannot be recorded yet stays there, and both are announced once recorded', async () => {
  const s = await setup();
  const [ended, fresh] = ['198.51.100.1', '198.51.100.2'];
  await s.put(blockRow(ended, T0, { blockedUntil: T0 + 2 * MIN }));
  // The stream's run puts it in WAF, but the write that records it fails.
  await s.run(T0 + 1000, { blockWrites: true });
  await s.put(blockRow(fresh, T0 + 2 * MIN - 1000, { blockedUntil: T0 + 12 * MIN }));
  // The table's writes still fail when the first block has ended and a new one is in force.
  await s.run(T0 + 2 * MIN, { blockWrites: true });
  expect(s.held[1].addresses).toEqual([`${ended}/32`, `${fresh}/32`]);
  expect(await s.history(ended)).toEqual([]);
  await s.run(T0 + 3 * MIN);
  expect(s.held[2].addresses).toEqual([`${fresh}/32`]);
  expect(s.changes().map((c) => `${c.event} ${c.ip}${c.late ? ' late' : ''}`).sort()).toEqual([`blocked ${ended} late`, `blocked ${fresh}`, `released ${ended}`]);
  expect(await s.history(ended)).toEqual([`BLOCKED api ${T0}`, `RELEASED api ${T0}`]);
  await s.remove();
});

/** A block of the property below: when it starts (a sweep), for how many minutes, BLOCK or COUNT. */
interface GeneratedBlock { readonly start: number; readonly minutes: number; readonly count: boolean }

const SWEEPS = 10;

test('whatever SNS, the table\'s writes and WAF do sweep by sweep, every block that reached WAF is announced and recorded once as blocked and once as released', async () => {
  const outage = fc.record({ sns: fc.boolean(), blockWrites: fc.boolean(), waf: fc.boolean() });
  // Failures are likely: three sweeps in four draw each service failing or not, so outages often span several sweeps.
  const schedule = fc.array(
    fc.oneof({ weight: 1, arbitrary: fc.constant({}) }, { weight: 3, arbitrary: outage }),
    { minLength: SWEEPS, maxLength: SWEEPS },
  );
  const blocks = fc.array(
    fc.record({ start: fc.integer({ min: 0, max: 6 }), minutes: fc.integer({ min: 1, max: 4 }), count: fc.boolean() }),
    { minLength: 1, maxLength: 4 },
  );
  await fc.assert(fc.asyncProperty(schedule, blocks, async (outages: Outage[], generated: GeneratedBlock[]) => {
    const s = await setup();
    const rows = generated.map((g, i) => blockRow(i % 2 === 0 ? `198.51.100.${i + 1}` : `2001:db8::${i + 1}`, T0 + g.start * MIN - 1000, {
      blockedUntil: T0 + (g.start + g.minutes) * MIN - 1000,
      ...(g.count ? { action: 'COUNT' as const, ruleId: 'api-dry' } : {}),
    }));
    // A sweep a minute: the blocks starting at a sweep are in the table by then; then sweeps without faults.
    const problems: string[] = [];
    for (let sweep = 0; sweep < SWEEPS + 8; sweep++) {
      const at = T0 + sweep * MIN;
      await s.put(...rows.filter((_, i) => generated[i].start === sweep));
      await s.run(at, outages[sweep] ?? {});
      // Whatever else fails, a run that reaches WAF puts every block in force there.
      if (outages[sweep]?.waf) continue;
      const addresses = s.held[s.held.length - 1].addresses;
      for (const row of rows.filter((r) => r.action === 'BLOCK' && r.blockedAt <= at && r.blockedUntil > at)) {
        if (!addresses.includes(`${row.ip}/${row.family === 4 ? 32 : 128}`)) problems.push(`${row.ip}: in force at +${sweep} min, not in WAF after that run`);
      }
    }
    const announced = s.changes();
    for (const row of rows) {
      const cidr = `${row.ip}/${row.family === 4 ? 32 : 128}`;
      const inWaf = s.held.filter((h) => h.addresses.includes(cidr)).map((h) => h.at);
      const mine = announced.filter((c) => c.ip === row.ip && c.ruleId === row.ruleId);
      const events = mine.map((c) => c.event).sort();
      const history = (await s.history(row.ip)).filter((h) => h.includes(` ${row.ruleId} `));
      const expected = row.action === 'COUNT'
        ? { events: ['wouldBlock'], history: [`WOULD_BLOCK ${row.ruleId} ${row.blockedAt}`, `COUNT_ENDED ${row.ruleId} ${row.blockedAt}`] }
        : inWaf.length > 0
          ? { events: ['blocked', 'released'], history: [`BLOCKED ${row.ruleId} ${row.blockedAt}`, `RELEASED ${row.ruleId} ${row.blockedAt}`] }
          : { events: [], history: [`ENDED_NOT_APPLIED ${row.ruleId} ${row.blockedAt}`] };
      if (row.action === 'COUNT' && inWaf.length > 0) problems.push(`${row.ip}: a COUNT row reached WAF`);
      if (JSON.stringify(events) !== JSON.stringify(expected.events)) problems.push(`${row.ip}: announced ${JSON.stringify(events)}, expected ${JSON.stringify(expected.events)}`);
      if (JSON.stringify(history) !== JSON.stringify(expected.history)) problems.push(`${row.ip}: history ${JSON.stringify(history)}, expected ${JSON.stringify(expected.history)}`);
      // Announced after it ended: marked late. Marked late: it ended, or WAF held it, before the sweep that announced it.
      const start = mine.find((c) => c.event === 'blocked' || c.event === 'wouldBlock');
      if (start && start.at >= row.blockedUntil && !start.late) problems.push(`${row.ip}: announced at +${(start.at - T0) / 1000} s, after it ended, not marked late`);
      if (start?.late && !(start.at >= row.blockedUntil || inWaf[0] < start.at)) problems.push(`${row.ip}: marked late, but announced with its first sweep in WAF`);
    }
    if (s.held[s.held.length - 1].addresses.length > 0) problems.push(`WAF still holds ${s.held[s.held.length - 1].addresses.join(', ')}`);
    if ((await scanAll(dynamo().doc, s.blocksTable)).length > 0) problems.push('rows never released');
    await s.remove();
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }), { numRuns: Number(process.env.OUTAGE_RUNS ?? 30), seed: Number(process.env.OUTAGE_SEED ?? 17), endOnFailure: true });
});
