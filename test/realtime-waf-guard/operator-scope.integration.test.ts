import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { ActionError, OperatorActions, OperatorSettings } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { blockRow } from '../support/block-rows';
import { FakeWaf } from '../support/fake-waf';
import { createGuardTables, ipSetSyncConfig, ipSetSyncDeps, useLocalDynamo } from '../support/guard-setup';
import { Recorder, recordSnsPublishes } from '../support/recorders';

/** What an operator's action reaches: only what they named, and never an allow-list wide enough to switch the guard off. */
const T0 = 1_700_000_000_000;
const dynamo = useLocalDynamo();
recordSnsPublishes();

afterAll(() => {
  mockClient(WAFV2Client).restore();
});

const alice = { name: 'arn:aws:sts::123456789012:assumed-role/Ops/alice', via: 'cli' as const };

async function guard(settings: OperatorSettings = {}, rows: BlockRow[] = []) {
  const tables = await createGuardTables(dynamo());
  for (const row of rows) await dynamo().doc.send(new PutCommand({ TableName: tables.blocks, Item: row }));
  const waf = new FakeWaf();
  waf.install();
  const ipv4 = waf.createSet('guard-v4', 'IPV4');
  const ipv6 = waf.createSet('guard-v6', 'IPV6');
  let now = T0;
  const sync = new IpSetSync(
    ipSetSyncConfig('shop', { ipv4, ipv6 }, { blocksTable: tables.blocks, historyTable: tables.history }),
    ipSetSyncDeps(dynamo(), new Recorder(), () => now),
  );
  const actions = new OperatorActions(dynamo().doc, tables.blocks, () => now, settings);
  const inForce = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items as BlockRow[])
    .filter((r) => r.blockedUntil > now).map((r) => `${r.ip} ${r.ruleId}`).sort();
  return { actions, sync, waf, ipv4, ipv6, inForce, setNow: (ms: number) => { now = ms; } };
}

describe('unblock ends only what the operator named', () => {
  test('an address inside a manual /16 block: nothing ends, the operator is told and offered the two choices', async () => {
    const g = await guard();
    await g.actions.block({ target: '203.0.0.0/16', period: '1d', reason: 'botnet range', operator: alice });
    await g.sync.run();
    expect(g.waf.addresses(g.ipv4.id)).toEqual(['203.0.0.0/16']);

    g.setNow(T0 + 60_000);
    const refused = await g.actions.unblock({ target: '203.0.113.7', reason: 'a customer', operator: alice }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ActionError);
    expect((refused as ActionError).message).toMatch(/^203\.0\.113\.7 lies inside 203\.0\.0\.0\/16 \(manual block\), left in force/);
    expect((refused as ActionError).choices).toEqual([
      { action: 'unblock', target: '203.0.0.0/16', label: 'End the block of 203.0.0.0/16' },
      { action: 'allow', target: '203.0.113.7', label: 'Allow-list 203.0.113.7' },
    ]);
    // No row changed, no shield: the /16 stays blocked in WAF.
    expect(await g.inForce()).toEqual(['203.0.0.0/16 #manual']);
    await g.sync.run();
    expect(g.waf.addresses(g.ipv4.id)).toEqual(['203.0.0.0/16']);

    // The first choice, taken by name, ends the /16.
    const ended = await g.actions.unblock({ target: '203.0.0.0/16', reason: 'range cleaned', operator: alice, shield: '0' });
    expect(ended.rows.map((r) => r.ip)).toEqual(['203.0.0.0/16']);
    g.setNow(T0 + 62_000);
    await g.sync.run();
    expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  });

  test('an address blocked on its own inside a wider block: its own block ends and is shielded, the /16 stays', async () => {
    const g = await guard({}, [blockRow('203.0.113.7', T0 - 1000, { blockedUntil: T0 + 3_600_000 })]);
    await g.actions.block({ target: '203.0.0.0/16', period: '1d', reason: 'botnet range', operator: alice });
    await g.sync.run();
    g.setNow(T0 + 60_000);
    const result = await g.actions.unblock({ target: '203.0.113.7', reason: 'a customer', operator: alice });
    expect(result.rows.map((r) => `${r.ip} ${r.ruleId}`)).toEqual(['203.0.113.7 api']);
    expect(result.message).toContain('203.0.113.7 lies inside 203.0.0.0/16 (manual block), left in force');
    expect(result.choices?.map((c) => `${c.action} ${c.target}`)).toEqual(['unblock 203.0.0.0/16', 'allow 203.0.113.7']);
    // Only the address is shielded: a shield of the /16 would spare the whole range from automatic blocks for the shield period.
    expect(await g.inForce()).toEqual(['#allow SHIELD#203.0.113.7', '203.0.0.0/16 #manual']);
    g.setNow(T0 + 62_000);
    await g.sync.run();
    expect(g.waf.addresses(g.ipv4.id)).toEqual(['203.0.0.0/16']);
  });

  test('the allow-list choice does what the message says: while the entry lasts, the wider block is kept out of WAF', async () => {
    const g = await guard();
    await g.actions.block({ target: '203.0.0.0/16', period: '1d', reason: 'botnet range', operator: alice });
    await g.sync.run();
    const refused = await g.actions.unblock({ target: '203.0.113.7', reason: 'a customer', operator: alice }).catch((e: ActionError) => e);
    expect(refused.message).toContain('allow-list 203.0.113.7 (allow 203.0.113.7; while the entry lasts, a block that holds an allow-listed address is kept out of WAF)');
    await g.actions.allow({ target: '203.0.113.7', period: '1h', reason: 'a customer', operator: alice });
    g.setNow(T0 + 2000);
    await g.sync.run();
    expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
    expect(await g.inForce()).toEqual(['#allow ALLOW#203.0.113.7', '203.0.0.0/16 #manual']);
  });

  test('a prefix still ends the blocks inside it', async () => {
    const g = await guard({}, [blockRow('198.51.100.7', T0 - 1000), blockRow('198.51.100.8', T0 - 1000), blockRow('198.51.101.1', T0 - 1000)]);
    const result = await g.actions.unblock({ target: '198.51.100.0/24', reason: 'office NAT', operator: alice, shield: '0' });
    expect(result.rows.map((r) => r.ip).sort()).toEqual(['198.51.100.7', '198.51.100.8']);
    expect(result.choices).toBeUndefined();
    expect(await g.inForce()).toEqual(['198.51.101.1 api']);
  });

  test('an IPv6 address names its client, the prefix of the guard\'s ipv6PrefixLength (here /56)', async () => {
    const g = await guard({ ipv6PrefixLength: 56 }, [blockRow('2001:db8:0:100::/56', T0 - 1000), blockRow('2001:db8:0:200::/56', T0 - 1000)]);
    const result = await g.actions.unblock({ target: '2001:db8:0:1ab::9', reason: 'a customer', operator: alice, shield: '0' });
    expect(result.rows.map((r) => r.ip)).toEqual(['2001:db8:0:100::/56']);
    expect(result.choices).toBeUndefined();
    expect(await g.inForce()).toEqual(['2001:db8:0:200::/56 api']);
  });
});

describe('an IPv6 CIDR names exactly that network; only a bare address stands for its client prefix', () => {
  async function twoManual128s() {
    const g = await guard();
    await g.actions.block({ target: '2001:db8:1:2::1/128', period: '2h', reason: 'scanner', operator: alice });
    await g.actions.block({ target: '2001:db8:1:2::bad/128', period: '2h', reason: 'scanner', operator: alice });
    return g;
  }

  test('unblock of a /128 ends that block only, not its neighbour in the same /64', async () => {
    const g = await twoManual128s();
    const result = await g.actions.unblock({ target: '2001:db8:1:2::1/128', reason: 'a customer', operator: alice, shield: '0' });
    expect(result.rows.map((r) => r.ip)).toEqual(['2001:db8:1:2::1/128']);
    expect(await g.inForce()).toEqual(['2001:db8:1:2::bad/128 #manual']);
  });

  test('extend of a /128 lengthens that block only', async () => {
    const g = await twoManual128s();
    const result = await g.actions.extend({ target: '2001:db8:1:2::bad/128', by: '1h', reason: 'still at it', operator: alice });
    expect(result.rows.map((r) => [r.ip, r.blockedUntil])).toEqual([['2001:db8:1:2::bad/128', T0 + 3 * 3_600_000]]);
    const rows = await g.actions.rows();
    expect(rows.find((r) => r.ip === '2001:db8:1:2::1/128')!.blockedUntil).toBe(T0 + 2 * 3_600_000);
  });

  test('a bare address still reaches its client\'s automatic /64 block and a manual /128 of that address', async () => {
    const g = await guard({}, [blockRow('2001:db8:1:2::/64', T0 - 1000)]);
    await g.actions.block({ target: '2001:db8:1:2::1/128', period: '2h', reason: 'scanner', operator: alice });
    const result = await g.actions.unblock({ target: '2001:db8:1:2::1', reason: 'a customer', operator: alice, shield: '0' });
    expect(result.rows.map((r) => r.ip).sort()).toEqual(['2001:db8:1:2::/64', '2001:db8:1:2::1/128']);
    expect(await g.inForce()).toEqual([]);
  });
});

test('extend, likewise, lengthens only blocks inside what was named, never a wider block that holds it', async () => {
  const g = await guard({}, [blockRow('203.0.113.7', T0 - 1000, { blockedUntil: T0 + 300_000 })]);
  await g.actions.block({ target: '203.0.0.0/16', period: '1h', reason: 'botnet range', operator: alice });
  const result = await g.actions.extend({ target: '203.0.113.7', by: '1h', reason: 'repeat offender', operator: alice });
  expect(result.rows.map((r) => [r.ip, r.blockedUntil])).toEqual([['203.0.113.7', T0 + 300_000 + 3_600_000]]);
  const onlyWider = await guard();
  await onlyWider.actions.block({ target: '203.0.0.0/16', period: '1h', reason: 'botnet range', operator: alice });
  await expect(onlyWider.actions.extend({ target: '203.0.113.7', by: '1d', reason: 'x', operator: alice }))
    .rejects.toThrow('203.0.113.7 lies inside 203.0.0.0/16 (manual block): to make that block longer, extend it by its name (203.0.0.0/16)');
  const extended = await onlyWider.actions.extend({ target: '203.0.0.0/16', by: '1h', reason: 'still active', operator: alice });
  expect(extended.rows.map((r) => [r.ip, r.blockedUntil])).toEqual([['203.0.0.0/16', T0 + 2 * 3_600_000]]);
});

describe('run-time allow-list entries have the width limits of blocks', () => {
  const WIDE = ['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1', '10.0.0.0/8', '2001:db8::/31'];

  test.each(WIDE)('%s is refused, and nothing is written', async (target) => {
    const g = await guard();
    await expect(g.actions.allow({ target, reason: 'everyone', operator: alice })).rejects.toThrow(/is wider than \/(16|32): a few wide allow-list entries would switch the guard off/);
    expect(await g.inForce()).toEqual([]);
  });

  test('the widest entries that blocks allow are accepted; the settings widen the limit on purpose, never to /0', async () => {
    const g = await guard();
    await g.actions.allow({ target: '10.1.0.0/16', reason: 'office', operator: alice });
    await g.actions.allow({ target: '2001:db8::/32', reason: 'office', operator: alice });
    expect(await g.inForce()).toEqual(['#allow ALLOW#10.1.0.0/16', '#allow ALLOW#2001:db8::/32']);

    const wide = await guard({ allowListWidestPrefixIpv4: 8, allowListWidestPrefixIpv6: 24 });
    await wide.actions.allow({ target: '10.0.0.0/8', reason: 'corporate network', operator: alice });
    await expect(wide.actions.allow({ target: '0.0.0.0/1', reason: 'x', operator: alice })).rejects.toThrow('wider than /8');
    await expect(wide.actions.allow({ target: '::/1', reason: 'x', operator: alice })).rejects.toThrow('wider than /24');
    await expect(wide.actions.allow({ target: '0.0.0.0/0', reason: 'x', operator: alice })).rejects.toThrow('covers every address');
    expect(await wide.inForce()).toEqual(['#allow ALLOW#10.0.0.0/8']);
  });
});
