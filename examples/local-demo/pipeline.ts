/**
 * The guard's data path on local servers, driven the way AWS drives it: kinesalite for the stream, dynalite for the
 * tables (created from the construct's schemas), the real LogProcessor called per shard like the Kinesis event source
 * mapping (batch size, batching window, one invocation per shard at a time), and the real IpSetSync called like the
 * blocks-table stream (a batching window after a new block) and the expiry schedule. WAF is FakeWaf (lock tokens,
 * 10,000 limit); SNS is a stand-in that hands the digest over as the email would read.
 */
import { randomUUID } from 'crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CapacityMeter } from './capacity-meter';
import { DemoClock } from './demo-clock';
import { GeneratedRecord, Random } from './traffic';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetSync, SyncResult } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { BatchSummary, LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { applySeed, planSeed } from '../../src/realtime-waf-guard/runtime/rules-seeder';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { BLOCKS_TABLE, COUNTERS_TABLE, HISTORY_TABLE, RULES_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { Log, MetricsSink } from '../../src/shared/runtime/telemetry';
import { FakeWaf } from '../../test/support/fake-waf';
import { KinesisPoller } from '../../test/support/kinesis-poller';
import { LocalDynamo, LocalKinesis } from '../../test/support/local-aws';

export interface PipelineOptions {
  readonly rules: readonly StoredRule[];
  readonly fields: readonly string[];
  readonly samplingRate: number;
  readonly clock: DemoClock;
  readonly shards?: number;
  /** Event source mapping settings, as the construct sets them by default. */
  readonly batchSize?: number;
  readonly batchingWindowMs?: number;
  /** The blocks-table stream's batching window before the sync runs. */
  readonly streamWindowMs?: number;
  readonly maxNewBlocksPerMinute?: number;
  readonly allowList?: CidrSet;
  /** Receives each alert as the email would read. */
  readonly onEmail?: (text: string) => void;
  readonly log?: Log;
  /**
   * Counting.LOCAL_FIRST's slack in percent, as the construct sets it by default; 0 for Counting.EXACT.
   * @default 10
   */
  readonly localFirstSlackPercent?: number;
  /**
   * Lambda execution environments of the log processor. Each invocation runs in an idle one picked at random, as
   * Lambda gives no shard its own environment, so counts held in memory end up spread over all of them.
   * @default the number of shards
   */
  readonly environments?: number;
}

/** A block decision as the pipeline saw it, on the real clock. */
export interface DecisionEvent {
  readonly row: BlockRow;
  /** Real time the LogProcessor returned with this block. */
  readonly decidedAtReal: number;
}

export interface IpSetUpdateEvent {
  readonly atReal: number;
  readonly atClock: number;
  readonly addresses: string[];
}

export interface ReleaseEvent {
  readonly row: BlockRow;
  readonly atClock: number;
  /** Clock time at which the sync run that released it started. */
  readonly runStartedAt: number;
}

const silent: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noMetrics: MetricsSink = { add: () => undefined };

interface ShardState {
  buffer: StreamRecord[];
  firstBufferedAt: number;
  busy: boolean;
}

interface Environment {
  busy: boolean;
  readonly processor: LogProcessor;
}

export interface LocalConnection {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
}

/** How the pipeline and the benchmarks wire a LogProcessor to local tables, as the handler does to DynamoDB. */
export interface ProcessorWiring {
  readonly connection: LocalConnection;
  readonly tables: { readonly counters: string; readonly blocks: string; readonly history?: string };
  readonly rules: RulesCache;
  readonly fields: readonly string[];
  readonly samplingRate: number;
  readonly allowList?: CidrSet;
  /** As LogProcessorConfig: undefined is Counting.EXACT. */
  readonly localFirstSlackPercent?: number;
  readonly maxNewBlocksPerMinute?: number;
  /** Counter writes in flight at once (CounterStore's concurrency). */
  readonly writeConcurrency?: number;
  readonly log?: Log;
  readonly now: () => number;
}

export function localLogProcessor(w: ProcessorWiring): LogProcessor {
  const { client, doc } = w.connection;
  return new LogProcessor({
    fields: w.fields,
    samplingRate: w.samplingRate,
    allowList: w.allowList ?? new CidrSet([]),
    trustedProxies: new CidrSet([]),
    localFirstSlackPercent: w.localFirstSlackPercent,
  }, {
    rules: w.rules,
    counters: new CounterStore(client, w.tables.counters, undefined, w.writeConcurrency),
    blocks: new BlockStore(doc, w.tables.blocks, w.tables.counters, w.maxNewBlocksPerMinute ?? 50),
    history: w.tables.history === undefined ? undefined : new HistoryStore(doc, w.tables.history, 90),
    metrics: noMetrics,
    log: w.log ?? silent,
    now: w.now,
  });
}

export class LocalPipeline {
  public static async start(options: PipelineOptions): Promise<LocalPipeline> {
    const [dynamo, kinesis] = await Promise.all([LocalDynamo.start(), LocalKinesis.start()]);
    const tables = {
      rules: await dynamo.createTable('rules', RULES_TABLE),
      counters: await dynamo.createTable('counters', COUNTERS_TABLE),
      blocks: await dynamo.createTable('blocks', BLOCKS_TABLE),
      history: await dynamo.createTable('history', HISTORY_TABLE),
    };
    const stream = await kinesis.createStream('realtime-logs', options.shards ?? 2);
    // Seeded the way the construct's custom resource seeds it.
    const managed = options.rules.map((r) => ({ ...r, managedBy: 'local-demo' }));
    await applySeed(dynamo.doc, tables.rules, planSeed({ RequestType: 'Create', ResourceProperties: { TableName: tables.rules, RulesJson: JSON.stringify(managed) } }));
    const poller = new KinesisPoller(kinesis.client, stream);
    await poller.init('TRIM_HORIZON');
    return new LocalPipeline(options, dynamo, kinesis, stream, tables, poller);
  }

  public readonly waf = new FakeWaf();
  public readonly processorUnits = new CapacityMeter();
  public readonly syncUnits = new CapacityMeter();
  public readonly decisions: DecisionEvent[] = [];
  public readonly updates: IpSetUpdateEvent[] = [];
  public readonly releases: ReleaseEvent[] = [];
  /** Clock start and end of every sync run. */
  public readonly syncRuns: Array<{ startedAt: number; endedAt: number }> = [];
  public readonly summaries: BatchSummary[] = [];
  public readonly syncErrors: string[] = [];
  public recordsPut = 0;
  public batches = 0;
  private readonly shards = new Map<string, ShardState>();
  private readonly environments: Environment[] = [];
  private readonly random = new Random(7);
  private readonly sync: IpSetSync;
  private readonly ipv4: { name: string; id: string };
  private readonly ipv6: { name: string; id: string };
  private syncChain: Promise<void> = Promise.resolve();
  private streamTriggerAt?: number;
  private inFlight = 0;

  private constructor(
    private readonly options: PipelineOptions,
    private readonly dynamo: LocalDynamo,
    private readonly kinesis: LocalKinesis,
    private readonly streamName: string,
    public readonly tables: { rules: string; counters: string; blocks: string; history: string },
    private readonly poller: KinesisPoller,
  ) {
    for (let i = 0; i < (options.environments ?? options.shards ?? 2); i++) this.environments.push({ busy: false, processor: this.newProcessor() });
    this.ipv4 = this.waf.createSet('demo-blocked-ipv4', 'IPV4');
    this.ipv6 = this.waf.createSet('demo-blocked-ipv6', 'IPV6');
    const syncConnection = this.meteredClient(this.syncUnits);
    const clock = options.clock;
    this.sync = new IpSetSync({
      guardName: 'local-demo',
      scope: 'CLOUDFRONT',
      ipv4: this.ipv4,
      ipv6: this.ipv6,
      allowList: options.allowList ?? new CidrSet([]),
      maxSetSize: 10_000,
      historyRetentionDays: 90,
      blocksTable: tables.blocks,
      historyTable: tables.history,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:local-demo-alerts',
    }, {
      doc: syncConnection.doc,
      waf: this.wafStandIn(),
      sns: this.snsStandIn(),
      log: options.log ?? silent,
      metrics: noMetrics,
      now: () => clock.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms / clock.speed)),
    });
  }

  /** Writes records to the stream as CloudFront does: PutRecords, 500 at most per call, random partition keys. */
  public async put(records: readonly GeneratedRecord[]): Promise<number> {
    const putAt = Date.now();
    for (let i = 0; i < records.length; i += 500) {
      const chunk = records.slice(i, i + 500);
      const out = await this.kinesis.client.send(new PutRecordsCommand({
        StreamName: this.streamName,
        Records: chunk.map((r) => ({ Data: Buffer.from(`${r.line}\n`, 'latin1'), PartitionKey: randomUUID() })),
      }));
      if (out.FailedRecordCount) throw new Error(`kinesalite refused ${out.FailedRecordCount} records`);
    }
    this.recordsPut += records.length;
    return putAt;
  }

  /**
   * One polling round of the event source mapping: read every shard, and invoke the processor for each shard whose
   * batch is full or whose batching window has passed (never two invocations of one shard at once).
   */
  public async pump(): Promise<void> {
    const batchSize = this.options.batchSize ?? 1000;
    const windowMs = this.options.batchingWindowMs ?? 1000;
    for (const batch of await this.poller.poll(batchSize)) {
      const shard = this.shard(batch[0].eventID.split(':')[0]);
      if (shard.buffer.length === 0) shard.firstBufferedAt = Date.now();
      shard.buffer.push(...batch);
    }
    for (const shard of this.shards.values()) {
      if (shard.busy || shard.buffer.length === 0) continue;
      if (shard.buffer.length < batchSize && Date.now() - shard.firstBufferedAt < windowMs) continue;
      const idle = this.environments.filter((e) => !e.busy);
      if (idle.length === 0) continue;
      const environment = idle[this.random.int(idle.length)];
      const records = shard.buffer.splice(0, batchSize);
      shard.firstBufferedAt = Date.now();
      shard.busy = true;
      environment.busy = true;
      this.inFlight++;
      void this.invoke(shard, environment, records).finally(() => {
        shard.busy = false;
        environment.busy = false;
        this.inFlight--;
      });
    }
    if (this.streamTriggerAt !== undefined && Date.now() >= this.streamTriggerAt) {
      this.streamTriggerAt = undefined;
      void this.runSync();
    }
  }

  /** Whether records or a triggered sync are still on their way. */
  public get busy(): boolean {
    return this.inFlight > 0 || this.streamTriggerAt !== undefined || [...this.shards.values()].some((s) => s.buffer.length > 0);
  }

  /** The sync function has reserved concurrency 1: runs queue behind each other. */
  public runSync(): Promise<void> {
    this.syncChain = this.syncChain.then(async () => {
      const startedAt = this.options.clock.now();
      try {
        const result = await this.sync.run();
        this.afterSync(result, startedAt);
      } catch (e) {
        this.syncErrors.push((e as Error).message);
      }
    });
    return this.syncChain;
  }

  public async settle(): Promise<void> {
    await this.syncChain;
  }

  /** Port of the local DynamoDB, for processes that use the same tables. */
  public get dynamoPort(): number {
    return this.dynamo.port;
  }

  public ipSets(): { ipv4: string[]; ipv6: string[] } {
    return { ipv4: this.waf.addresses(this.ipv4.id), ipv6: this.waf.addresses(this.ipv6.id) };
  }

  /** A document client on the local DynamoDB, for readers of the tables (the report step). */
  public get doc() {
    return this.dynamo.doc;
  }

  public async stop(): Promise<void> {
    await this.syncChain;
    await Promise.all([this.dynamo.stop(), this.kinesis.stop()]);
  }

  private async invoke(shard: ShardState, environment: Environment, records: StreamRecord[]): Promise<void> {
    const result = await environment.processor.process(records);
    this.batches++;
    this.summaries.push(result.summary);
    const decidedAtReal = Date.now();
    for (const row of result.summary.created) this.decisions.push({ row, decidedAtReal });
    if (result.batchItemFailures.length > 0) {
      // Lambda would retry from the first failed record: put the batch back in front.
      shard.buffer.unshift(...records);
    }
    if (result.summary.created.length > 0) {
      this.streamTriggerAt ??= Date.now() + (this.options.streamWindowMs ?? 1000);
    }
  }

  private afterSync(result: SyncResult, startedAt: number): void {
    const at = this.options.clock.now();
    this.syncRuns.push({ startedAt, endedAt: at });
    for (const row of [...result.released, ...result.unblocked]) this.releases.push({ row, atClock: at, runStartedAt: startedAt });
  }

  private shard(shardId: string): ShardState {
    let state = this.shards.get(shardId);
    if (!state) {
      state = { buffer: [], firstBufferedAt: 0, busy: false };
      this.shards.set(shardId, state);
    }
    return state;
  }

  private newProcessor(): LogProcessor {
    const { options } = this;
    const connection = this.meteredClient(this.processorUnits);
    const slack = options.localFirstSlackPercent ?? 10;
    return localLogProcessor({
      connection,
      tables: this.tables,
      rules: new RulesCache(
        () => loadRules(connection.doc, this.tables.rules, { samplingRate: options.samplingRate }),
        30_000,
      ),
      fields: options.fields,
      samplingRate: options.samplingRate,
      allowList: options.allowList,
      localFirstSlackPercent: slack > 0 ? slack : undefined,
      maxNewBlocksPerMinute: options.maxNewBlocksPerMinute,
      log: options.log,
      now: () => options.clock.now(),
    });
  }

  /** A client of its own per handler, so capacity is counted per handler as on AWS. */
  private meteredClient(meter: CapacityMeter): LocalConnection {
    const connection = this.dynamo.connect();
    meter.attach(connection.client);
    return connection;
  }

  private wafStandIn(): WAFV2Client {
    const { waf, updates, options } = this;
    const send = async (command: unknown) => {
      if (command instanceof GetIPSetCommand) return waf.getIpSet(command.input);
      if (command instanceof UpdateIPSetCommand) {
        const out = await waf.updateIpSet(command.input);
        updates.push({ atReal: Date.now(), atClock: options.clock.now(), addresses: [...(command.input.Addresses ?? [])] });
        return out;
      }
      throw new Error(`the WAF stand-in does not implement ${(command as object).constructor.name}`);
    };
    return { send } as unknown as WAFV2Client;
  }

  private snsStandIn(): SNSClient {
    const { options } = this;
    const send = async (command: unknown) => {
      if (!(command instanceof PublishCommand)) throw new Error('the SNS stand-in only publishes');
      const input: PublishCommandInput = command.input;
      options.onEmail?.([
        'From: AWS Notifications <no-reply@sns.amazonaws.com>',
        `Subject: ${input.Subject ?? ''}`,
        '',
        input.Message ?? '',
      ].join('\n'));
      return { MessageId: randomUUID() };
    };
    return { send } as unknown as SNSClient;
  }
}
