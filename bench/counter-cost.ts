/**
 * Size and write units of counter items for steady clients, against dynalite: what the bucket layout costs. Prints,
 * per rule window and shard count, the largest counter item (bytes by DynamoDB's size rules, bucket attributes) and
 * the write units per batch of the pair. Run: `npx ts-node -T --project tsconfig.dev.json bench/counter-cost.ts`.
 */
import { AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SimulatedShards } from './simulated-stream';
import { CapacityMeter } from '../examples/local-demo/capacity-meter';
import { localLogProcessor } from '../examples/local-demo/pipeline';
import { deliveredFieldOrder } from '../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../src/realtime-waf-guard/rule-model';
import { RulesCache } from '../src/realtime-waf-guard/runtime/rules-store';
import { BLOCKS_TABLE, COUNTERS_TABLE } from '../src/realtime-waf-guard/table-schemas';
import { LocalDynamo } from '../test/support/local-aws';
import { logLine } from '../test/support/log-lines';

const fields = deliveredFieldOrder([]);
const T0 = 1_767_225_600_000;

/** DynamoDB's item size: attribute names plus values (numbers: about one byte per two significant digits, plus one). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.replace(/^-|\.|^0+/g, '').replace(/0+$/, '').length / 2) + 1;
  }
  return bytes;
}

interface Scenario { readonly windowSeconds: number; readonly shards: number; readonly ratePerSecond: number; readonly seconds: number }

/** Write units spent on the measured pair's item alone. */
const pairUnits = { value: 0 };

async function measure(dynamo: LocalDynamo, meter: CapacityMeter, s: Scenario): Promise<string> {
  const counters = await dynamo.createTable('counters', COUNTERS_TABLE);
  const blocks = await dynamo.createTable('blocks', BLOCKS_TABLE);
  const rule: StoredRule = { ruleId: 'r', host: 'api.example.com', threshold: 1e9, windowSeconds: s.windowSeconds, blockSeconds: 60, action: 'BLOCK', enabled: true };
  let now = T0;
  const processor = localLogProcessor({
    connection: dynamo,
    tables: { counters, blocks },
    rules: new RulesCache(async () => ({ rules: [rule], invalid: [], version: '1' }), 1e12),
    fields,
    samplingRate: 100,
    now: () => now,
  });
  let largest = 0;
  let mostBuckets = 0;
  let units = 0;
  let writes = 0;
  pairUnits.value = 0;
  const shards = new SimulatedShards(s.shards);
  // One batch per second per shard, each shard getting its share of the client's requests (random partition keys).
  for (let second = 0; second < s.seconds; second++) {
    for (let shard = 0; shard < s.shards; shard++) {
      const n = Math.round(s.ratePerSecond / s.shards);
      const records = shards.batch(shard, Array.from({ length: n }, (_, i) => {
        const timestampMs = T0 + second * 1000 + Math.floor((i * 1000) / n);
        return { timestampMs, line: logLine(fields, { 'timestamp': (timestampMs / 1000).toFixed(3), 'c-ip': '198.51.100.7', 'cs-host': 'api.example.com', 'cs-uri-stem': '/x' }) };
      }));
      now = T0 + (second + 1) * 1000;
      meter.reset();
      await processor.process(records);
      units += meter.writeUnits;
      writes++;
      const item = (await dynamo.client.send(new GetItemCommand({ TableName: counters, Key: { pk: { S: 'r#198.51.100.7' } } }))).Item ?? {};
      largest = Math.max(largest, itemBytes(item));
      mostBuckets = Math.max(mostBuckets, Object.keys(item).filter((k) => /^b\d+$/.test(k)).length);
    }
  }
  return `window ${s.windowSeconds} s, ${s.shards} shard(s), ${s.ratePerSecond} req/s for ${s.seconds} s: largest item ${largest} bytes, `
    + `${mostBuckets} bucket attributes; ${(pairUnits.value / writes).toFixed(2)} write units per batch on the pair's item, `
    + `${(units / writes).toFixed(2)} in all`;
}

async function main(): Promise<void> {
  const dynamo = await LocalDynamo.start();
  const meter = new CapacityMeter();
  meter.attach(dynamo.client);
  dynamo.client.middlewareStack.add((next, context) => async (args) => {
    const out = await next(args);
    const input = args.input as { Key?: { pk?: { S?: string } } };
    const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
    if (context.commandName === 'UpdateItemCommand' && input.Key?.pk?.S === 'r#198.51.100.7') pairUnits.value += consumed?.CapacityUnits ?? 0;
    return out;
  }, { step: 'initialize', name: 'pairUnits', priority: 'low' });
  try {
    for (const s of [
      { windowSeconds: 10, shards: 1, ratePerSecond: 20, seconds: 60 },
      { windowSeconds: 60, shards: 1, ratePerSecond: 20, seconds: 180 },
      { windowSeconds: 300, shards: 1, ratePerSecond: 5, seconds: 900 },
      { windowSeconds: 10, shards: 4, ratePerSecond: 20, seconds: 60 },
    ]) process.stdout.write(`${await measure(dynamo, meter, s)}\n`);
  } finally {
    await dynamo.stop();
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  });
}
