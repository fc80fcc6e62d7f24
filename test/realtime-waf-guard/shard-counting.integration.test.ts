import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { CidrSet } from '../../src/realtime-waf-guard/runtime/ip';
import { LogProcessor } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { createGuardTables } from '../support/guard-setup';
import { LocalDynamo } from '../support/local-aws';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder } from '../support/recorders';

/**
 * Two shards on dynalite: one shard's batch spans more than a window (a backlog caught up), the other, processed after
 * it, adds requests to that batch's earlier window. The shared count must hold both, whichever counting mode.
 */
const fields = deliveredFieldOrder([]);
const T0 = 1_800_000_000_000;
const rule: StoredRule = {
  ruleId: 'api', host: 'api.example.com', pathPrefix: '/v1', threshold: 20, windowSeconds: 60, blockSeconds: 900, action: 'BLOCK', enabled: true,
};
const line = (ip: string, ms: number) => logLine(fields, { 'timestamp': (ms / 1000).toFixed(3), 'c-ip': ip, 'cs-host': 'api.example.com', 'cs-uri-stem': '/v1' });
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await LocalDynamo.start();
});
afterAll(async () => {
  await dynamo.stop();
});

test.each([['EXACT', undefined], ['LOCAL_FIRST', 10]])(
  '%s: a batch spanning more than a window stores its earlier window, so another shard completes it',
  async (_mode, localFirstSlackPercent) => {
    const t = await createGuardTables(dynamo, [rule]);
    // Counts the counter writes of the pair, to hold the write cost at one per pair per batch.
    const pairWrites: string[] = [];
    const client = {
      send: (command: any) => {
        if (command instanceof UpdateItemCommand && command.input.Key?.pk?.S === 'api#198.51.100.7') pairWrites.push(command.input.UpdateExpression!);
        return dynamo.client.send(command);
      },
    } as unknown as DynamoDBClient;
    let sequence = 1000;
    const records = (shard: string, lines: string[]) => lines.map((l) => streamRecord(l, String(++sequence), T0 + 200_000, shard));
    const processor = () => new LogProcessor(
      { fields, samplingRate: 100, allowList: new CidrSet([]), trustedProxies: new CidrSet([]), localFirstSlackPercent },
      {
        rules: new RulesCache(() => loadRules(dynamo.doc, t.rules, { samplingRate: 100 }), 0),
        counters: new CounterStore(client, t.counters),
        blocks: new BlockStore(dynamo.doc, t.blocks, t.counters, 50),
        metrics: new Recorder(),
        log: new Recorder(),
        now: () => T0 + 200_000,
      },
    );
    // Shard A: 12 requests in T0..T0+11 s and one at T0+100 s, a window later, in the same batch.
    const a = Array.from({ length: 12 }, (_, i) => line('198.51.100.7', T0 + i * 1000));
    a.push(line('198.51.100.7', T0 + 100_000));
    await processor().process(records('shardId-000000000000', a));
    if (localFirstSlackPercent === undefined) expect(pairWrites).toHaveLength(1);
    // Shard B: 12 more in T0+15..T0+26 s: 24 requests within 27 s, threshold 20 a minute.
    await processor().process(records('shardId-000000000001', Array.from({ length: 12 }, (_, i) => line('198.51.100.7', T0 + 15_000 + i * 1000))));
    const rows = ((await dynamo.doc.send(new ScanCommand({ TableName: t.blocks }))).Items ?? []) as BlockRow[];
    expect(rows.map((r) => `${r.ip} ${r.ruleId} ${r.action} ${r.observed}`)).toEqual(['198.51.100.7 api BLOCK 24']);
  },
);
