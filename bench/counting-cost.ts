/**
 * What counting costs in DynamoDB per logged request, and whether it still decides right: the real LogProcessor on
 * dynalite, driven in simulated time (no waiting) the way the Kinesis event source drives it, judged against the
 * traffic generator's ground truth.
 */
import { SimulatedShards } from './simulated-stream';
import { CapacityMeter } from '../examples/local-demo/capacity-meter';
import { BlockJudgement, demoClient, judgeBlocks } from '../examples/local-demo/outcome';
import { localLogProcessor } from '../examples/local-demo/pipeline';
import { AttackerSpec, DEMO_FIELDS, GeneratedMix, GeneratedRecord, judgeTruth, LightClientsGenerator, Random, TrafficGenerator } from '../examples/local-demo/traffic';
import { StoredRule } from '../src/realtime-waf-guard/rule-model';
import { BlockRow, BUDGET_KEY_PREFIX } from '../src/realtime-waf-guard/runtime/block-store';
import { CLAIM_KEY_PREFIX, SHARD_PROGRESS_KEY } from '../src/realtime-waf-guard/runtime/counter-store';
import { LogProcessor } from '../src/realtime-waf-guard/runtime/log-processor';
import { RulesCache } from '../src/realtime-waf-guard/runtime/rules-store';
import { BLOCKS_TABLE, COUNTERS_TABLE, HISTORY_TABLE } from '../src/realtime-waf-guard/table-schemas';
import { LocalDynamo } from '../test/support/local-aws';

export interface CountingScenario {
  /** Names the mix in the printed rows. */
  readonly mix: string;
  readonly generator: GeneratedMix;
  readonly startMs: number;
  readonly rules: readonly StoredRule[];
  readonly attackers: readonly AttackerSpec[];
  readonly samplingRate: number;
  /** Counting.LOCAL_FIRST's slack in percent; undefined for Counting.EXACT. */
  readonly localFirstSlackPercent?: number;
  /** @default 2 */
  readonly shards?: number;
  /** Execution environments; at least `shards`, so a batch always finds an idle one. @default 2 */
  readonly environments?: number;
  /** @default 1000, the event source's batch size */
  readonly batchSize?: number;
  /** Counter writes in flight per invocation (CounterStore's default: 32). */
  readonly writeConcurrency?: number;
  readonly seed?: number;
}

export interface CountingResult {
  readonly scenario: CountingScenario;
  /** Records that are requests (malformed lines left out). */
  readonly loggedRequests: number;
  readonly batches: number;
  readonly writeUnits: number;
  /** Write units by what was written: claims, shard progress, pair counters, budget, blocks, history. */
  readonly writeUnitsByKind: ReadonlyMap<string, number>;
  readonly readUnits: number;
  readonly attackersBlocked: number;
  /** Per attacker blocked: simulated ms from the request that crossed its threshold to the block (batching included). */
  readonly decisionDelaysMs: number[];
  readonly judgement: BlockJudgement;
  readonly wallSeconds: number;
}

/** Names what a LogProcessor write is for, from its table and key. */
function writeKind(tables: { counters: string; blocks: string; history: string }): (input: Record<string, unknown>) => string {
  return (input) => {
    const pk = (input.Key as { pk?: { S?: string } | string } | undefined)?.pk;
    const key = typeof pk === 'string' ? pk : pk?.S ?? '';
    if (input.TableName === tables.blocks) return 'blocks';
    if (input.TableName === tables.history) return 'history';
    if (key.startsWith(CLAIM_KEY_PREFIX)) return 'claims';
    if (key === SHARD_PROGRESS_KEY) return 'shard progress';
    if (key.startsWith(BUDGET_KEY_PREFIX)) return 'block budget';
    return 'pair counters';
  };
}

interface Environment { busy: boolean; readonly processor: LogProcessor }

/**
 * Each simulated second, the generator's records go to shards at random (CloudFront's partition key is
 * undocumented), and each shard's second becomes batches of up to `batchSize` (the construct's batching window is
 * 1 s), invoked at the end of that second. The shards are processed concurrently, one invocation per shard at a
 * time as the event source does, each in an idle environment picked at random; every environment keeps its own
 * LogProcessor and CounterStore (what a warm Lambda keeps) for the whole run: no cold starts.
 */
export async function measureCounting(s: CountingScenario): Promise<CountingResult> {
  const started = process.hrtime.bigint();
  const shardCount = s.shards ?? 2;
  const environmentCount = s.environments ?? 2;
  if (environmentCount < shardCount) throw new Error('fewer environments than shards would leave a batch waiting for one');
  const dynamo = await LocalDynamo.start();
  try {
    const tables = {
      counters: await dynamo.createTable('counters', COUNTERS_TABLE),
      blocks: await dynamo.createTable('blocks', BLOCKS_TABLE),
      history: await dynamo.createTable('history', HISTORY_TABLE),
    };
    const meter = new CapacityMeter(writeKind(tables));
    let now = s.startMs;
    const environments: Environment[] = Array.from({ length: environmentCount }, () => {
      const connection = dynamo.connect();
      meter.attach(connection.client);
      const processor = localLogProcessor({
        connection,
        tables,
        rules: new RulesCache(async () => ({ rules: [...s.rules], invalid: [], version: '1' }), 1e12),
        fields: DEMO_FIELDS,
        samplingRate: s.samplingRate,
        localFirstSlackPercent: s.localFirstSlackPercent,
        writeConcurrency: s.writeConcurrency,
        now: () => now,
      });
      return { busy: false, processor };
    });
    const random = new Random(s.seed ?? 5);
    const shards = new SimulatedShards(shardCount);
    const batchSize = s.batchSize ?? 1000;
    const blocked: BlockRow[] = [];
    let loggedRequests = 0;
    let batches = 0;

    const invoke = async (shard: number, records: readonly GeneratedRecord[]) => {
      const idle = environments.filter((e) => !e.busy);
      const environment = idle[random.int(idle.length)];
      environment.busy = true;
      try {
        const batch = shards.batch(shard, records);
        // Lambda retries a failed batch from its first failed record; dynalite does not fail, so once is enough.
        const result = await environment.processor.process(batch);
        if (result.batchItemFailures.length > 0) throw new Error(`a batch of shard ${shard} failed on dynalite`);
        batches++;
        blocked.push(...result.summary.created);
      } finally {
        environment.busy = false;
      }
    };

    for (let second = s.startMs; !s.generator.done; second += 1000) {
      const perShard: GeneratedRecord[][] = Array.from({ length: shardCount }, () => []);
      for (const r of s.generator.until(second + 1000)) {
        perShard[random.int(shardCount)].push(r);
        if (r.ip !== undefined) loggedRequests++;
      }
      now = second + 1000;
      await Promise.all(perShard.map(async (records, shard) => {
        for (let i = 0; i < records.length; i += batchSize) await invoke(shard, records.slice(i, i + batchSize));
      }));
    }

    const truth = judgeTruth(s.generator.truth, s.rules);
    const judgement = judgeBlocks(s.rules, truth, blocked);
    const blockedPairs = new Set(blocked.map((b) => `${b.ruleId}|${b.ip}`));
    // Simulated time from the request that took an attacker over its threshold to the block decision.
    const decisionDelaysMs = s.attackers.flatMap((a) => {
      const crossedAtMs = truth.find((t) => t.ruleId === a.ruleId && t.ip === a.ip)?.crossedAtMs;
      const row = blocked.find((b) => b.ruleId === a.ruleId && b.ip === demoClient(a.ip));
      return crossedAtMs === undefined || row === undefined ? [] : [row.blockedAt - crossedAtMs];
    });
    return {
      decisionDelaysMs,
      scenario: s,
      loggedRequests,
      batches,
      writeUnits: meter.writeUnits,
      writeUnitsByKind: meter.writeUnitsByKind,
      readUnits: meter.readUnits,
      attackersBlocked: s.attackers.filter((a) => blockedPairs.has(`${a.ruleId}|${demoClient(a.ip)}`)).length,
      judgement,
      wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  } finally {
    await dynamo.stop();
  }
}

export interface CountingMixOptions {
  readonly rules: readonly StoredRule[];
  readonly attackers: readonly AttackerSpec[];
  readonly samplingRate: number;
}

/** A mix ready to be counted: everything but the counting mode. */
export type CountingMix = Pick<CountingScenario, 'mix' | 'generator' | 'startMs' | 'rules' | 'attackers' | 'samplingRate'>;

const T0 = 1_767_225_600_000;

function mixOptions(o: CountingMixOptions) {
  return { samplingRate: o.samplingRate, startMs: T0, rules: o.rules, attackers: o.attackers, groundTruth: true };
}

/** The demo's Zipf mix: 500 req/s from 5,000 clients plus the attackers (from 15-40% of the run to its end). */
export function zipfMix(o: CountingMixOptions & { readonly seconds: number }): CountingMix {
  return {
    ...o,
    mix: `Zipf mix (500 req/s from 5,000 clients + ${o.attackers.length} attackers, ${o.seconds} s, sampling ${o.samplingRate}%)`,
    generator: new TrafficGenerator({ ...mixOptions(o), seed: 21, rate: 500, durationMs: o.seconds * 1000 }),
    startMs: T0,
  };
}

/** Seconds in an average month (365.25 / 12 days). */
export const SECONDS_PER_MONTH = 2_629_800;

/**
 * Steady traffic of `requestsPerMonth` from the demo's Zipf population, without attackers: what the cost table of the
 * README is computed from (an attacker adds a write per batch under EXACT, one per write level of its requests under
 * LOCAL_FIRST).
 */
export function monthlyMix(o: Omit<CountingMixOptions, 'attackers'> & { readonly requestsPerMonth: number; readonly seconds: number }): CountingMix {
  const rate = o.requestsPerMonth / SECONDS_PER_MONTH;
  return {
    ...o,
    attackers: [],
    mix: `${o.requestsPerMonth / 1e6} M requests a month (${rate.toFixed(1)} req/s from 5,000 Zipf clients, ${o.seconds} s, sampling ${o.samplingRate}%)`,
    generator: new TrafficGenerator({ ...mixOptions({ ...o, attackers: [] }), seed: 23, rate, durationMs: o.seconds * 1000 }),
    startMs: T0,
  };
}

/**
 * 20,000 clients sending 1 to 10 requests each at random times over 10 minutes, plus the attackers, each attacking
 * for a tenth of the run.
 */
export function lightMix(o: CountingMixOptions): CountingMix {
  const attackers = o.attackers.map((a) => ({ ...a, endFraction: a.startFraction + 0.1 }));
  return {
    ...o,
    mix: `light mix (20,000 clients x 1-10 requests over 600 s + ${attackers.length} attackers for 60 s each, sampling ${o.samplingRate}%)`,
    generator: new LightClientsGenerator({ ...mixOptions({ ...o, attackers }), seed: 22, durationMs: 600_000 }),
    startMs: T0,
    attackers,
  };
}
