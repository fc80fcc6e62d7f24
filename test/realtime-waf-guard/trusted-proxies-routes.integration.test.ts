import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { synthGuard } from './construct-fixtures';
import { RealtimeWafGuardProps } from '../../src';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { ipSetSyncConfigFromEnv, logProcessorConfigFromEnv } from '../../src/realtime-waf-guard/runtime/config';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor } from '../../src/realtime-waf-guard/runtime/log-processor';
import { OperatorActions } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { createGuardTables, ipSetSyncDeps, synthesizedGuard, useLocalDynamo } from '../support/guard-setup';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder, recordSnsPublishes } from '../support/recorders';
import { evaluateWebAcl, WafRequest } from '../support/waf-evaluator';

// The guard as synthesized (WebACL, IP sets, handler environments), its handlers run over dynalite and the WAF fake,
// and the WebACL's rules evaluated over the IP sets the sync wrote: what a client gets, request by request.
const T0 = 1_700_000_040_000;
const dynamo = useLocalDynamo();
const published = recordSnsPublishes();

afterAll(() => {
  mockClient(WAFV2Client).restore();
});

const PROXY = '10.1.2.3';
const PROXY_V6 = '2001:db8:aaaa:1::5';
const ATTACKER = '203.0.113.77';
const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 20, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK', enabled: true };

/** The logical id a CloudFormation value (Ref, GetAtt, or a function of them) refers to. */
const logicalId = (value: unknown): string => JSON.stringify(value).match(/"(?:Ref":"|Fn::GetAtt":\[")([A-Za-z0-9]+)"/)![1];

/** A guard as deployed from `props`: its log processor and sync over fresh tables, and WAF's verdict on a request. */
async function deployedGuard(props: RealtimeWafGuardProps) {
  const { template } = synthGuard(props);
  const { processorEnv, syncEnv, webAcl, ipSets, waf } = synthesizedGuard(template);
  const guardTables = await createGuardTables(dynamo(), [rule]);
  const tables: Record<string, string> = {
    [ENV.RULES_TABLE]: guardTables.rules,
    [ENV.COUNTERS_TABLE]: guardTables.counters,
    [ENV.BLOCKS_TABLE]: guardTables.blocks,
    [ENV.HISTORY_TABLE]: guardTables.history,
  };
  const resolve = (env: Record<string, unknown>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k,
    typeof v === 'string' ? v : tables[k] ?? (k.endsWith('_SET_ID') ? `${logicalId(v)}-id` : k.endsWith('_SET_NAME') ? logicalId(v) : 'arn:aws:sns:us-east-1:1:t')]));
  const clock = { now: T0 };
  const recorder = new Recorder();
  const config = logProcessorConfigFromEnv(resolve(processorEnv));
  const processor = new LogProcessor(config, {
    rules: new RulesCache(() => loadRules(dynamo().doc, tables[ENV.RULES_TABLE]), 0),
    counters: new CounterStore(dynamo().client, tables[ENV.COUNTERS_TABLE], config.counterRetentionSeconds),
    blocks: new BlockStore(dynamo().doc, tables[ENV.BLOCKS_TABLE], tables[ENV.COUNTERS_TABLE], 50),
    metrics: recorder,
    log: recorder,
    now: () => clock.now,
  });
  const sync = new IpSetSync(ipSetSyncConfigFromEnv(resolve(syncEnv)), ipSetSyncDeps(dynamo(), recorder, () => clock.now));
  const lookup = (arn: unknown) => {
    const id = logicalId(arn);
    const set = ipSets[id].Properties;
    return { version: set.IPAddressVersion, addresses: set.Addresses.length > 0 ? set.Addresses : waf.addresses(`${id}-id`) };
  };
  let sequence = 0;
  return {
    clock,
    recorder,
    waf,
    setOf: (envName: string) => waf.addresses(resolve(syncEnv)[envName]),
    verdict: (request: WafRequest) => evaluateWebAcl(webAcl.Properties.Rules, lookup, request).action,
    /** `perSecond` requests a second from `cIp` (with X-Forwarded-For `xff`) over [from, from + seconds): one batch. */
    async traffic(cIp: string, xff: string | undefined, from: number, seconds: number, perSecond: number) {
      const lines = Array.from({ length: seconds * perSecond }, (_, i) => logLine(config.fields, {
        'timestamp': ((from + Math.floor((i * 1000) / perSecond)) / 1000).toFixed(3),
        'c-ip': cIp,
        'cs-host': 'api.example.com',
        'cs-uri-stem': '/v1',
        'x-forwarded-for': xff ?? '-',
      }));
      clock.now = from + seconds * 1000 + 500;
      const records = lines.map((l) => streamRecord(l, String(++sequence).padStart(20, '0'), clock.now - 200));
      expect((await processor.process(records)).batchItemFailures).toEqual([]);
    },
    sync: () => sync.run(),
    rows: async () => ((await dynamo().doc.send(new ScanCommand({ TableName: tables[ENV.BLOCKS_TABLE] }))).Items ?? []) as BlockRow[],
    operator: new OperatorActions(dynamo().doc, tables[ENV.BLOCKS_TABLE], () => clock.now),
    history: async (ip: string) => ((await dynamo().doc.send(new QueryCommand({
      TableName: tables[ENV.HISTORY_TABLE], KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
    }))).Items ?? []).map((i) => i.event as string),
  };
}

/** How often the digests named `ip` in each section. */
function digestMentions(ip: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of published) {
    let sectionTitle = '';
    for (const line of (p.Message ?? '').split('\n')) {
      if (!line.startsWith(' ')) sectionTitle = line;
      else if (line.trim().startsWith(`${ip} `)) counts[sectionTitle] = (counts[sectionTitle] ?? 0) + 1;
    }
  }
  return counts;
}

describe('a client blocked on one route is blocked on the other', () => {
  test('blocked as a direct client, it goes on through a trusted proxy at 10x the threshold for 2 minutes: every proxied request is blocked', async () => {
    const guard = await deployedGuard({ trustedProxies: ['10.0.0.0/8'], guardName: 'route-guard' });
    // a minute of direct attack at 10x the threshold (200 a minute), in 10-second batches, the sync after each
    for (let t = 0; t < 60; t += 10) {
      await guard.traffic(ATTACKER, undefined, T0 + t * 1000, 10, 4);
      await guard.sync();
    }
    expect((await guard.rows()).map((r) => [r.ip, r.route])).toEqual([[ATTACKER, 'DIRECT']]);
    expect(guard.verdict({ sourceIp: ATTACKER })).toBe('BLOCK');
    // Through the proxy it is the same client: blocked before its first proxied request is even counted.
    expect(guard.verdict({ sourceIp: PROXY, xff: ATTACKER })).toBe('BLOCK');
    expect(guard.verdict({ sourceIp: PROXY, xff: `198.51.100.1, ${ATTACKER}` })).toBe('BLOCK');
    // two minutes through the proxy: each request the proxy forwards for the attacker is blocked, nobody else's
    for (let t = 60; t < 180; t += 10) {
      await guard.traffic(PROXY, ATTACKER, T0 + t * 1000, 10, 4);
      await guard.sync();
      expect(guard.verdict({ sourceIp: PROXY, xff: ATTACKER })).toBe('BLOCK');
      expect(guard.verdict({ sourceIp: ATTACKER })).toBe('BLOCK');
    }
    expect(guard.verdict({ sourceIp: PROXY, xff: '198.51.100.1' })).toBe('ALLOW');
    expect(guard.verdict({ sourceIp: '198.51.100.1', xff: ATTACKER })).toBe('ALLOW');
    expect(guard.verdict({ sourceIp: PROXY })).toBe('ALLOW');
    // one block, on both routes
    const [row] = await guard.rows();
    expect([row.ip, row.route]).toEqual([ATTACKER, 'BOTH']);
    expect(guard.setOf(ENV.FORWARDED_IPV4_SET_ID)).toEqual([`${ATTACKER}/32`]);

    // The block ends on time, once: one alert, one release, one history of each.
    guard.clock.now = row.blockedUntil + 1000;
    await guard.sync();
    await guard.sync();
    expect([guard.setOf(ENV.IPV4_SET_ID), guard.setOf(ENV.FORWARDED_IPV4_SET_ID)]).toEqual([[], []]);
    expect(guard.verdict({ sourceIp: PROXY, xff: ATTACKER })).toBe('ALLOW');
    expect(await guard.rows()).toEqual([]);
    expect((await guard.history(ATTACKER)).sort()).toEqual(['BLOCKED', 'RELEASED']);
    expect(digestMentions(ATTACKER)).toEqual({ 'Blocked in WAF:': 1, 'Released:': 1 });
  });

  test('blocked behind a trusted proxy, it goes on directly: its direct requests are blocked from its first direct batch', async () => {
    const guard = await deployedGuard({ trustedProxies: ['10.0.0.0/8'], guardName: 'route-guard' });
    for (let t = 0; t < 60; t += 10) {
      await guard.traffic(PROXY, `192.0.2.1, ${ATTACKER}`, T0 + t * 1000, 10, 4);
      await guard.sync();
    }
    expect((await guard.rows()).map((r) => [r.ip, r.route])).toEqual([[ATTACKER, 'PROXY']]);
    expect(guard.verdict({ sourceIp: PROXY, xff: ATTACKER })).toBe('BLOCK');
    // Only a proxy has named the address so far: the source-address set does not take it on a proxy's word.
    expect(guard.setOf(ENV.IPV4_SET_ID)).toEqual([]);
    for (let t = 60; t < 180; t += 10) {
      await guard.traffic(ATTACKER, undefined, T0 + t * 1000, 10, 4);
      await guard.sync();
      expect(guard.verdict({ sourceIp: ATTACKER })).toBe('BLOCK');
      expect(guard.verdict({ sourceIp: PROXY, xff: ATTACKER })).toBe('BLOCK');
    }
    const [row] = await guard.rows();
    expect([row.ip, row.route]).toEqual([ATTACKER, 'BOTH']);
    // the route joined the block in force: same block, same end
    expect(row.blockedUntil).toBe(row.crossedAt + rule.blockSeconds * 1000);
    expect(row.crossedAt).toBeLessThan(T0 + 60_000);
    guard.clock.now = row.blockedUntil + 1000;
    await guard.sync();
    await guard.sync();
    expect([guard.setOf(ENV.IPV4_SET_ID), guard.setOf(ENV.FORWARDED_IPV4_SET_ID)]).toEqual([[], []]);
    expect((await guard.history(ATTACKER)).sort()).toEqual(['BLOCKED', 'RELEASED']);
    expect(digestMentions(ATTACKER)).toEqual({ 'Blocked in WAF:': 1, 'Released:': 1 });
  });
});

describe('no source-address block covers a trusted proxy', () => {
  const bob = { name: 'Bob', via: 'cli' as const };

  test('an IPv6 neighbour of a proxy over a threshold: its /64 stays out of the sets, alerted and recorded once; the proxy\'s clients pass', async () => {
    const guard = await deployedGuard({ trustedProxies: [PROXY_V6, '10.0.0.0/8'], guardName: 'v6-proxy-guard' });
    const NEIGHBOUR = '2001:db8:aaaa:1::9';
    const PREFIX = '2001:db8:aaaa:1::/64';
    for (let t = 0; t < 60; t += 10) {
      await guard.traffic(NEIGHBOUR, undefined, T0 + t * 1000, 10, 4);
      await guard.sync();
    }
    // detected as the /64, as any IPv6 client is
    expect((await guard.rows()).map((r) => r.ip)).toEqual([PREFIX]);
    expect([guard.setOf(ENV.IPV6_SET_ID), guard.setOf(ENV.FORWARDED_IPV6_SET_ID)]).toEqual([[], []]);
    // every innocent client behind the proxy, IPv4 and IPv6, and the proxy itself, pass
    expect(guard.verdict({ sourceIp: PROXY_V6, xff: '198.51.100.23' })).toBe('ALLOW');
    expect(guard.verdict({ sourceIp: PROXY_V6, xff: '2001:db8:cccc::1' })).toBe('ALLOW');
    expect(guard.verdict({ sourceIp: PROXY_V6 })).toBe('ALLOW');
    // a proxy chained behind it, in the same /64, is not blocked as a forwarded address either
    expect(guard.verdict({ sourceIp: PROXY, xff: PROXY_V6 })).toBe('ALLOW');
    const [row] = await guard.rows();
    guard.clock.now = row.blockedUntil + 1000;
    await guard.sync();
    await guard.sync();
    expect(await guard.rows()).toEqual([]);
    expect((await guard.history(PREFIX)).sort()).toEqual(['ENDED_NOT_APPLIED', 'NOT_APPLIED_TRUSTED_PROXY']);
    // named once, in the section that says why (its title runs over two lines), and never as blocked or released
    expect(digestMentions(PREFIX)).toEqual({ 'out of the IP sets. Block the offender by a narrower network (a longer prefix) if it must be stopped:': 1 });
    expect(published[0].Message).toContain('NOT blocked: the network holds a trusted proxy');
    expect(published.filter((p) => p.MessageAttributes?.notBlockedTrustedProxy?.StringValue === '1')).toHaveLength(1);
  });

  test('a manual IPv4 block over a proxy, and a /64 holding part of a proxy range, stay out; blocks beside the proxy apply', async () => {
    const guard = await deployedGuard({ trustedProxies: ['10.1.2.0/24', '2001:db8:bbbb::/120'], guardName: 'range-guard' });
    await guard.operator.block({ target: '10.1.0.0/16', period: '1h', reason: 'noisy network', operator: bob });
    await guard.operator.block({ target: '10.2.0.0/16', period: '1h', reason: 'noisy network', operator: bob });
    // a client outside the proxy range but in its /64
    for (let t = 0; t < 60; t += 10) await guard.traffic('2001:db8:bbbb::1:1', undefined, T0 + t * 1000, 10, 4);
    await guard.sync();
    expect((await guard.rows()).map((r) => r.ip).sort()).toEqual(['10.1.0.0/16', '10.2.0.0/16', '2001:db8:bbbb::/64']);
    expect([guard.setOf(ENV.IPV4_SET_ID), guard.setOf(ENV.IPV6_SET_ID)]).toEqual([['10.2.0.0/16'], []]);
    expect(guard.verdict({ sourceIp: '10.1.2.7', xff: '198.51.100.23' })).toBe('ALLOW');
    expect(guard.verdict({ sourceIp: '2001:db8:bbbb::10', xff: '198.51.100.23' })).toBe('ALLOW');
    expect(guard.verdict({ sourceIp: '10.2.0.1' })).toBe('BLOCK');
    expect(guard.verdict({ sourceIp: '10.1.3.1' })).toBe('ALLOW');
    const digest = published.map((p) => p.Message).join('\n');
    const notBlocked = digest.slice(digest.indexOf('NOT blocked: the network holds a trusted proxy'));
    expect(notBlocked).toContain('  2001:db8:bbbb::/64  rule api');
    expect(notBlocked).toContain('  10.1.0.0/16: blocked by hand until');
    expect(digest.slice(0, digest.indexOf('NOT blocked'))).not.toContain('10.1.0.0/16');
    expect(await guard.history('10.1.0.0/16')).toEqual(['NOT_APPLIED_TRUSTED_PROXY']);
  });
});

describe('adding a route to a block in force', () => {
  const candidate = (route: 'DIRECT' | 'PROXY' | 'BOTH', crossedAtMs: number) => ({
    rule, ip: { family: 4 as const, text: ATTACKER, value: 0 }, observed: 40, firstSeenMs: crossedAtMs - 1000, crossedAtMs, route,
  });

  test('changes only the route of that block, once, whichever container sees the client on the new route; never an ended or lifted block', async () => {
    const tables = await createGuardTables(dynamo(), [rule]);
    const store = () => new BlockStore(dynamo().doc, tables.blocks, tables.counters, 50);
    const read = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
    const [a, b] = [store(), store()];
    const t = T0 + 10_000;
    expect((await a.record([candidate('PROXY', t)], t)).created).toHaveLength(1);
    const [first] = await read();
    // another container counts the client directly: no new block, the same row gains the route
    const seen = await b.record([candidate('DIRECT', t + 5000)], t + 5000);
    expect([seen.created, seen.alreadyActive]).toEqual([[], 1]);
    const [both] = await read();
    expect(both).toEqual({ ...first, route: 'BOTH', routeAddedAt: t + 5000 });
    // the first container, whose cache still says PROXY, and both again later: nothing changes any more
    await a.record([candidate('DIRECT', t + 6000)], t + 6000);
    await b.record([candidate('PROXY', t + 7000), candidate('BOTH', t + 7000)], t + 7000);
    expect(await read()).toEqual([both]);

    // a block an operator lifted is not given a route back (the client is counted again once the sync released it)
    const lifted = await createGuardTables(dynamo(), [rule]);
    const c = new BlockStore(dynamo().doc, lifted.blocks, lifted.counters, 50);
    await c.record([candidate('DIRECT', t)], t);
    await new OperatorActions(dynamo().doc, lifted.blocks, () => t + 1000).unblock({ target: ATTACKER, reason: 'customer', operator: { name: 'Bob', via: 'cli' }, shield: '0' });
    const before = (await dynamo().doc.send(new ScanCommand({ TableName: lifted.blocks }))).Items;
    await new BlockStore(dynamo().doc, lifted.blocks, lifted.counters, 50).record([candidate('PROXY', t + 2000)], t + 2000);
    expect((await dynamo().doc.send(new ScanCommand({ TableName: lifted.blocks }))).Items).toEqual(before);

    // an ended block waiting for its release is replaced by a new one (a renewal), not extended to the route
    const ended = await createGuardTables(dynamo(), [rule]);
    await new BlockStore(dynamo().doc, ended.blocks, ended.counters, 50).record([candidate('DIRECT', t)], t);
    const later = t + rule.blockSeconds * 1000 + 1000;
    const renewed = await new BlockStore(dynamo().doc, ended.blocks, ended.counters, 50).record([candidate('PROXY', later)], later);
    expect(renewed.created.map((r) => [r.route, r.renewedFrom])).toEqual([['PROXY', t + rule.blockSeconds * 1000]]);
    const [row] = (await dynamo().doc.send(new ScanCommand({ TableName: ended.blocks }))).Items as BlockRow[];
    expect([row.route, row.routeAddedAt]).toEqual(['PROXY', undefined]);
  });
});

describe('model: route switches, generated', () => {
  const BYSTANDER = '198.51.100.60';
  // What the attacker does in each 10-second batch: nothing, or 4 requests a second (12x the threshold) on one route.
  const step = fc.constantFrom<'IDLE' | 'DIRECT' | 'PROXY'>('IDLE', 'DIRECT', 'PROXY', 'PROXY');
  const runs = Number(process.env.MODEL_RUNS ?? 5);

  test('through the real handlers: blocked on every route it used while blocked, never a bystander, each block alerted and recorded once', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 6, maxLength: 36 }), async (steps) => {
      published.length = 0;
      const guard = await deployedGuard({ trustedProxies: ['10.0.0.0/8'], guardName: 'model-guard' });
      const directSeen: number[] = [];
      for (let i = 0; i < steps.length; i++) {
        const from = T0 + i * 10_000;
        if (steps[i] === 'DIRECT') await guard.traffic(ATTACKER, undefined, from, 10, 4);
        else if (steps[i] === 'PROXY') await guard.traffic(PROXY, ATTACKER, from, 10, 4);
        // a bystander behind the proxy and directly, far under the threshold
        await guard.traffic(PROXY, BYSTANDER, from + 9000, 1, 1);
        await guard.traffic(BYSTANDER, undefined, from + 9000, 1, 1);
        if (steps[i] === 'DIRECT') directSeen.push(from + 10_000);
        await guard.sync();
        const inForce = (await guard.rows()).find((r) => r.ip === ATTACKER && r.blockedUntil > guard.clock.now);
        // the model: blocked through the proxy whenever blocked at all; directly once it connected itself during the block
        const direct = inForce !== undefined && directSeen.some((end) => end >= inForce.crossedAt);
        expect([guard.verdict({ sourceIp: PROXY, xff: ATTACKER }), guard.verdict({ sourceIp: ATTACKER })])
          .toEqual([inForce ? 'BLOCK' : 'ALLOW', direct ? 'BLOCK' : 'ALLOW']);
        expect([guard.verdict({ sourceIp: PROXY, xff: BYSTANDER }), guard.verdict({ sourceIp: BYSTANDER }), guard.verdict({ sourceIp: PROXY })])
          .toEqual(['ALLOW', 'ALLOW', 'ALLOW']);
      }
      // quiet: every block ends; the sets are empty and each block was announced and recorded once, start and end
      guard.clock.now = T0 + steps.length * 10_000 + rule.blockSeconds * 1000 + 1000;
      await guard.sync();
      await guard.sync();
      expect([guard.setOf(ENV.IPV4_SET_ID), guard.setOf(ENV.FORWARDED_IPV4_SET_ID), await guard.rows()]).toEqual([[], [], []]);
      const events = await guard.history(ATTACKER);
      const starts = events.filter((e) => e === 'BLOCKED' || e === 'RENEWED').length;
      expect(events.filter((e) => e === 'RELEASED').length).toBe(starts);
      expect(starts > 0).toBe(steps.some((s) => s !== 'IDLE'));
      const mentions = digestMentions(ATTACKER);
      expect([mentions['Blocked in WAF:'] ?? 0, mentions['Released:'] ?? 0]).toEqual([starts, starts]);
      expect(await guard.history(BYSTANDER)).toEqual([]);
    }), { seed: 1717, numRuns: runs, endOnFailure: true });
  });
});
