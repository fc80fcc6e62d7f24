import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockCandidate, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { createGuardTables, useLocalDynamo } from '../support/guard-setup';

// Found by the model-based test (guard-model.integration.test.ts): a client over its threshold when its block ends
// must be blocked again by the next batch, whichever execution environment processes it.
const T0 = 1_700_000_000_000;
const dynamo = useLocalDynamo();


const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 20, windowSeconds: 60, blockSeconds: 60, action: 'BLOCK', enabled: true };
const offence = (atMs: number): BlockCandidate => ({
  rule, ip: { family: 4, text: '198.51.100.7', value: 0 }, observed: 30, firstSeenMs: atMs - 10_000, crossedAtMs: atMs,
});

async function store(): Promise<{ make: () => BlockStore }> {
  const tables = await createGuardTables(dynamo());
  return { make: () => new BlockStore(dynamo().doc, tables.blocks, tables.counters, 50) };
}

test('an environment that learns of a block from a refused write renews it when it ends, not a minute after', async () => {
  const s = await store();
  expect((await s.make().record([offence(T0)], T0)).created).toHaveLength(1);
  // a new execution environment (cold start, or another shard's) sees the client still attacking 50 s later
  const restarted = s.make();
  expect((await restarted.record([offence(T0 + 50_000)], T0 + 50_000)).alreadyActive).toBe(1);
  // the block ended at T0 + 60 s; the client is still over its threshold at T0 + 70 s
  const renewed = await restarted.record([offence(T0 + 70_000)], T0 + 70_000);
  expect(renewed.created.map((r) => [r.ip, r.renewedFrom, r.blockedUntil])).toEqual([['198.51.100.7', T0 + 60_000, T0 + 130_000]]);
});

test('a block ending exactly now has ended, as for the sync that releases it: an offence now renews it', async () => {
  const s = await store();
  const env = s.make();
  expect((await env.record([offence(T0)], T0)).created).toHaveLength(1);
  const renewed = await env.record([offence(T0 + 60_000)], T0 + 60_000);
  expect(renewed.created.map((r) => [r.renewedFrom, r.blockedUntil])).toEqual([[T0 + 60_000, T0 + 120_000]]);
  // and later in the block, the environment knows it is in force without asking again
  expect((await env.record([offence(T0 + 90_000)], T0 + 90_000)).alreadyActive).toBe(1);
});
