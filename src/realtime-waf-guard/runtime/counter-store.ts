import { AttributeValue, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mapLimit } from './concurrency';
import { bucketMs, bucketOf, bucketsPerWindow, busiestWindow, KeyCounts } from './detector';
import { isConditionFailure } from '../../shared/runtime/dynamo';
import { DEFAULT_COUNTER_RETENTION_SECONDS } from '../handler-env';
import { StoredRule } from '../rule-model';

/** Where a batch came from, for idempotent counting. */
export interface BatchIdentity {
  readonly shardId: string;
  /** Sequence number of each record of the batch, by position. */
  readonly sequenceNumbers: readonly string[];
}

/** A (rule, client) pair's total over the window after this batch was counted. */
export interface WindowCount {
  readonly entry: KeyCounts;
  readonly rule: StoredRule;
  /** Sampled requests in the window ending at the pair's latest request. */
  readonly sampledInWindow: number;
  /** Start of the oldest bucket in the window that has requests. */
  readonly firstSeenMs: number;
  /**
   * When the window reached its total: the pair's latest request in this batch, or, when requests that other shards
   * counted later complete the window, the last millisecond of the window's newest bucket (where in the bucket the
   * request fell is not kept; erring late keeps the block its full period). A late shard's batch that completes a
   * window is an offence of that time, not of its own older requests (which could make it look stale).
   */
  readonly crossedAtMs: number;
}

/** Bounds one clean-up write well inside DynamoDB's expression limits. */
const MAX_REMOVALS_PER_WRITE = 100;
/** Bounds the buckets one write of held counts adds, likewise. */
const MAX_BUCKETS_PER_WRITE = 100;

/**
 * The item where each shard records how far behind it processes (attributes `l_<shard>` and `w_<shard>`) and, under
 * `Counting.LOCAL_FIRST`, each execution environment when it last did (`e_<environment>`).
 */
export const SHARD_PROGRESS_KEY = '#shards';

/**
 * How stale a processor's view of the other shards' lags (and of the environments) may get before it writes its own
 * again. Well under the shortest window (10 s), which is the slack kept below the oldest window a shard needs.
 */
const PROGRESS_REFRESH_MS = 5000;

/** The item holding each shard's claim under `Counting.LOCAL_FIRST`: `#claim#<shard>`. */
export const CLAIM_KEY_PREFIX = '#claim#';

/** What the other shards' progress tells a batch. */
export interface ShardProgress {
  /** The oldest event time any shard may still deliver. */
  readonly horizonMs: number;
  /**
   * The same for the shards as they go on, each as far behind as it last reported: how far back execution
   * environments that may hold counts are looked for. A shard that stopped holds `horizonMs` back, not this: the
   * environments holding counts are those running now.
   */
  readonly runningHorizonMs: number;
}

/** The mark an update sets, and the condition on it that keeps the update from counting twice. */
interface MarkUpdate {
  /** Attribute name (`#m` in the condition). */
  readonly name: string;
  /** Its new value (`:m`). */
  readonly value: AttributeValue;
  readonly condition: string;
  readonly values: Record<string, AttributeValue>;
}

/** The execution environment writing held counts, and its next write number. */
export interface HeldWriter {
  readonly environmentId: string;
  /**
   * Increasing, and at least the time of the write in milliseconds x 1000: a mark's age then shows, so the marks of
   * environments gone can be removed from items their clients keep alive (each would cost write units forever).
   */
  nextWrite(): number;
}

/** When a write mark (`h_<environment>`) was last set, from its write number. */
function markTimeMs(value: AttributeValue): number {
  return Number(value.N) / 1000;
}

/** The outcome of a `Counting.LOCAL_FIRST` write of pairs. */
export interface FlushResult {
  readonly windows: WindowCount[];
  /** Pairs whose write certainly did not happen. */
  readonly unwritten: KeyCounts[];
  /** Pairs whose write may or may not have happened. */
  readonly lost: KeyCounts[];
  readonly errors: string[];
}

/** Recounts one pair from the batch, using only records whose sequence number is above `afterSequence`. */
export type Recount = (entry: KeyCounts, afterSequence: string) => Map<number, number>;

/**
 * Kinesis sequence numbers are decimal strings of up to 128 digits; padded to equal length, string order is numeric
 * order, which DynamoDB conditions can compare.
 */
export function padSequence(sequenceNumber: string): string {
  return sequenceNumber.padStart(128, '0');
}


/**
 * Counts per (rule, client) in DynamoDB, one item per pair with one attribute per time bucket. Under `Counting.EXACT`
 * (`apply`) each update adds the batch's bucket counts atomically and records, per shard, the highest sequence number
 * counted; the update is conditional on that mark being below the batch's first record for the pair, so a retried
 * batch is never counted twice. Records that were partly counted (a retry that overlaps newer records) are recounted
 * from the batch. Under `Counting.LOCAL_FIRST` a batch is claimed once per shard (`claim`) and only held counts that
 * reached their write level are added (`addHeld`).
 */
export class CounterStore {
  /** Per shard this processor handled: the lag it last wrote and when; and the shards' progress as last read. */
  private readonly written = new Map<string, { lagMs: number; atMs: number }>();
  private progressItem: Record<string, AttributeValue> = {};

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionSeconds = DEFAULT_COUNTER_RETENTION_SECONDS,
    private readonly concurrency = 32,
  ) {}

  public async apply(
    entries: readonly KeyCounts[],
    rules: readonly StoredRule[],
    batch: BatchIdentity,
    recount: Recount,
    nowMs: number,
  ): Promise<WindowCount[]> {
    if (entries.length === 0) return [];
    const { horizonMs } = await this.progress(batch.shardId, oldestEventMs(entries, rules), nowMs);
    return mapLimit(entries, this.concurrency, (entry) => this.applyPair(entry, rules[entry.ruleIndex], batch, recount, horizonMs, nowMs));
  }

  /**
   * `Counting.LOCAL_FIRST`'s write: adds counts an execution environment held to the pairs' counters. The batch they
   * came from is claimed, so no batch mark is needed against counting twice; what must not count twice is a write the
   * SDK retries after it was applied, so each write carries the environment's own increasing write number
   * (`h_<environment>`) and is conditional on it being new. A write that fails must not fail the batch (a retry would
   * find it claimed). Its outcome is settled by fencing: setting the mark to its write number, which the write itself
   * can no longer pass once stored, even should DynamoDB apply it late. Fenced, the write certainly did not happen and
   * the pair is returned in `unwritten` for the caller to hold again; the fence refused, it happened and its count is
   * used. When the fence fails too, a read decides as well as it can (a write applied after it would count twice), and
   * when the read fails, the pair is `lost`, since holding counts that may be stored could count them twice.
   */
  public async addHeld(
    entries: readonly KeyCounts[],
    rules: readonly StoredRule[],
    writer: HeldWriter,
    horizonMs: number,
    nowMs: number,
  ): Promise<FlushResult> {
    const result: FlushResult = { windows: [], unwritten: [], lost: [], errors: [] };
    const markName = `h_${writer.environmentId}`;
    await mapLimit(entries, this.concurrency, async (entry) => {
      const rule = rules[entry.ruleIndex];
      const key = counterKey(rule, entry);
      const n = writer.nextWrite();
      const applied = (item: Record<string, AttributeValue> | undefined) => item !== undefined && Number(item[markName]?.N) >= n;
      const current = bucketOf(entry.lastTimestampMs, rule.windowSeconds);
      const keepFrom = keepFromBucket(horizonMs, rule);
      const stored = bucketsToStore(entry.buckets, keepFrom, current);
      try {
        let item = await this.update(key, rule, stored, keepFrom, nowMs, {
          name: markName, value: { N: String(n) }, condition: 'attribute_not_exists(#m) OR #m < :m', values: {},
        });
        if (item === 'conflict') {
          item = await this.read(key);
          if (!applied(item)) throw new Error(`counter ${key.pk.S} holds a newer write of this environment than ${n}`);
        }
        await this.cleanStale(key, keepFrom, item ?? {}, nowMs);
        result.windows.push(this.windowCount(entry, rule, item ?? {}, stored));
      } catch (e) {
        result.errors.push((e as Error).message);
        let fenced: boolean | undefined;
        try {
          fenced = await this.fence(key, markName, n, rule, nowMs);
        } catch {
          // Unsettled: the read below is the best left.
        }
        if (fenced === true) {
          result.unwritten.push(entry);
          return;
        }
        let item: Record<string, AttributeValue> | undefined;
        try {
          item = await this.read(key);
        } catch {
          result.lost.push(entry);
          return;
        }
        if (fenced === false || applied(item)) result.windows.push(this.windowCount(entry, rule, item ?? {}, stored));
        else result.unwritten.push(entry);
      }
    });
    return result;
  }

  /**
   * Sets a write mark to `n` unless it is already there or beyond: true if set, so that the write numbered `n` can
   * never apply; false if the mark shows that write applied.
   */
  private async fence(key: Record<string, AttributeValue>, markName: string, n: number, rule: StoredRule, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #m = :m, expiresAt = if_not_exists(expiresAt, :exp)',
        ConditionExpression: 'attribute_not_exists(#m) OR #m < :m',
        ExpressionAttributeNames: { '#m': markName },
        ExpressionAttributeValues: {
          ':m': { N: String(n) },
          ':exp': this.counterExpiry(rule, nowMs),
        },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * Claims a batch's records for this execution environment before `Counting.LOCAL_FIRST` counts them: the claim
   * item of the shard keeps the highest sequence number claimed, so a batch delivered again (Lambda's event source
   * delivers at least once, and may deliver to another environment) finds its records taken and counts none of them.
   * Returns the position of the first record not claimed before. `token` tells this claim from another's when the
   * SDK retries a claim that was in fact written.
   */
  public async claim(batch: BatchIdentity, token: string, nowMs: number): Promise<number> {
    const key = { pk: { S: `${CLAIM_KEY_PREFIX}${batch.shardId}` } };
    const sequences = batch.sequenceNumbers.map(padSequence);
    const last = sequences[sequences.length - 1];
    let expected: string | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const from = expected === undefined ? 0 : sequences.findIndex((s) => s > expected!);
      if (from < 0) return sequences.length;
      try {
        await this.client.send(new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET c = :last, t = :token, expiresAt = :exp',
          ConditionExpression: expected === undefined ? 'attribute_not_exists(c) OR c < :first' : 'c = :expected',
          ExpressionAttributeValues: {
            ':last': { S: last },
            ':token': { S: token },
            ':exp': { N: String(Math.floor(nowMs / 1000) + this.retentionSeconds) },
            ...(expected === undefined ? { ':first': { S: sequences[0] } } : { ':expected': { S: expected } }),
          },
        }));
        return from;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
      const item = await this.read(key);
      if (item?.t?.S === token && item.c?.S === last) return expected === undefined ? 0 : sequences.findIndex((s) => s > expected!);
      expected = item?.c?.S;
    }
    throw new Error(`the claim of shard ${batch.shardId} kept changing; the batch will be retried`);
  }

  private async applyPair(
    entry: KeyCounts,
    rule: StoredRule,
    batch: BatchIdentity,
    recount: Recount,
    horizonMs: number,
    nowMs: number,
  ): Promise<WindowCount> {
    const markName = `s_${batch.shardId}`;
    const key = counterKey(rule, entry);
    const first = padSequence(batch.sequenceNumbers[entry.firstRecord]);
    const last = padSequence(batch.sequenceNumbers[entry.lastRecord]);
    const current = bucketOf(entry.lastTimestampMs, rule.windowSeconds);
    const keepFrom = keepFromBucket(horizonMs, rule);
    const batchBuckets = bucketsToStore(entry.buckets, keepFrom, current);
    let item = await this.update(key, rule, batchBuckets, keepFrom, nowMs, {
      name: markName, value: { S: last }, condition: 'attribute_not_exists(#m) OR #m < :first', values: { ':first': { S: first } },
    });
    if (item === 'conflict') {
      const mark = await this.readMark(key, markName);
      if (mark !== undefined && mark >= last) {
        item = await this.read(key);
      } else {
        const remaining = bucketsToStore(recount(entry, mark ?? ''), keepFrom, current);
        item = remaining.size === 0
          ? await this.read(key)
          : await this.update(key, rule, remaining, keepFrom, nowMs, {
            name: markName,
            value: { S: last },
            condition: mark === undefined ? 'attribute_not_exists(#m)' : '#m = :expected',
            values: mark === undefined ? {} : { ':expected': { S: mark } },
          });
        if (item === 'conflict') {
          throw new Error(`counter ${key.pk.S} changed twice during one batch; the batch will be retried`);
        }
      }
    }
    await this.cleanStale(key, keepFrom, item ?? {}, nowMs);
    return this.windowCount(entry, rule, item ?? {}, batchBuckets);
  }

  /**
   * Records this shard's lag (wall clock minus its batch's oldest event time) and returns the oldest event time any
   * shard may still deliver: each live shard may resume from the oldest event time of its last report (a shard that
   * stops reporting has not moved on). A shard is live while it wrote within the counter retention, which is at least
   * the event source's maximum record age (older records are dropped), and nothing older than that is kept, so items
   * stay bounded. `environmentId` (given under
   * `Counting.LOCAL_FIRST`) is recorded too, so every environment knows how many may hold counts in memory.
   */
  public async progress(shardId: string, oldestMs: number, nowMs: number, environmentId?: string): Promise<ShardProgress> {
    const retentionMs = this.retentionSeconds * 1000;
    const lagMs = Math.max(0, nowMs - oldestMs);
    const last = this.written.get(shardId);
    // Written when the lag moved by a second or more, or every few seconds so the others' lags are read as often.
    if (!last || nowMs - last.atMs >= PROGRESS_REFRESH_MS || Math.abs(lagMs - last.lagMs) >= 1000) {
      const names: Record<string, string> = { '#l': `l_${shardId}`, '#w': `w_${shardId}` };
      let set = 'SET #l = :l, #w = :w, expiresAt = :exp';
      if (environmentId !== undefined) {
        names['#e'] = `e_${environmentId}`;
        set += ', #e = :w';
      }
      // Environments and shards not heard of within the retention are gone (a closed shard, a recycled environment);
      // their attributes go in the same write.
      const wroteAt = (name: string) => Number(this.progressItem[name.startsWith('l_') ? `w_${name.slice(2)}` : name]?.N);
      const written = new Set(Object.values(names));
      const gone = Object.keys(this.progressItem)
        .filter((name) => /^[elw]_/.test(name) && !written.has(name) && !(wroteAt(name) >= nowMs - retentionMs))
        .slice(0, MAX_REMOVALS_PER_WRITE);
      gone.forEach((name, i) => { names[`#g${i}`] = name; });
      const out = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: SHARD_PROGRESS_KEY } },
        UpdateExpression: gone.length > 0 ? `${set} REMOVE ${gone.map((_, i) => `#g${i}`).join(', ')}` : set,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':l': { N: String(lagMs) },
          ':w': { N: String(nowMs) },
          ':exp': { N: String(Math.floor(nowMs / 1000) + this.retentionSeconds) },
        },
        ReturnValues: 'ALL_NEW',
      }));
      this.progressItem = out.Attributes ?? {};
      this.written.set(shardId, { lagMs, atMs: nowMs });
    }
    let horizon = oldestMs;
    let running = oldestMs;
    for (const [name, value] of Object.entries(this.progressItem)) {
      if (!name.startsWith('l_') || value.N === undefined || name === `l_${shardId}`) continue;
      const wroteAt = Number(this.progressItem[`w_${name.slice(2)}`]?.N);
      if (!(wroteAt >= nowMs - retentionMs)) continue;
      // Where the shard was when it last reported, not that far behind now: a shard that stopped (throttled, failing
      // before it reports, its records delayed) resumes from there, and its backlog adds to those windows.
      horizon = Math.min(horizon, Math.max(wroteAt - Number(value.N), nowMs - retentionMs));
      running = Math.min(running, nowMs - Math.min(Number(value.N), retentionMs));
    }
    return { horizonMs: horizon, runningHorizonMs: running };
  }

  /**
   * Execution environments active since `sinceMs` (this one included), as far as the last progress read shows: how
   * many may be holding counts in memory under `Counting.LOCAL_FIRST`. An active environment writes its progress at
   * least every PROGRESS_REFRESH_MS. At least the shards active since then: each runs in an environment of its own
   * while it is processed, so the shards already known cover environments starting together that have not all
   * reported yet.
   */
  public environmentsSince(sinceMs: number): number {
    sinceMs -= PROGRESS_REFRESH_MS;
    let environments = 0;
    let shards = 0;
    for (const [name, value] of Object.entries(this.progressItem)) {
      if (name.startsWith('e_') && Number(value.N) >= sinceMs) environments++;
      if (name.startsWith('w_') && Number(value.N) >= sinceMs) shards++;
    }
    return Math.max(1, environments, shards);
  }

  /**
   * Removes buckets below `keepFrom` that the update could not name (a pair idle for more than a window and back
   * before its TTL, or a lagging shard caught up), and the write marks of environments that have not written the
   * item within the counter retention (no SDK retry of theirs can still arrive), so no item grows without bound.
   * Costs a write only when there is such a bucket or mark.
   */
  private async cleanStale(
    key: Record<string, AttributeValue>,
    keepFrom: number,
    item: Record<string, AttributeValue>,
    nowMs: number,
  ): Promise<void> {
    const marksFrom = nowMs - this.retentionSeconds * 1000;
    const stale = [
      ...[...bucketsFromItem(item).keys()].filter((b) => b < keepFrom).map((b) => `b${b}`),
      ...Object.entries(item).filter(([name, value]) => name.startsWith('h_') && markTimeMs(value) < marksFrom).map(([name]) => name),
    ].slice(0, MAX_REMOVALS_PER_WRITE);
    if (stale.length === 0) return;
    await this.client.send(new UpdateItemCommand({
      TableName: this.tableName,
      Key: key,
      UpdateExpression: `REMOVE ${stale.map((_, i) => `#s${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(stale.map((name, i) => [`#s${i}`, name])),
    }));
  }

  private async update(
    key: Record<string, AttributeValue>,
    rule: StoredRule,
    buckets: ReadonlyMap<number, number>,
    keepFrom: number,
    nowMs: number,
    mark: MarkUpdate,
  ): Promise<Record<string, AttributeValue> | 'conflict' | undefined> {
    const names: Record<string, string> = { '#m': mark.name };
    const values: Record<string, AttributeValue> = {
      ...mark.values,
      ':m': mark.value,
      ':exp': this.counterExpiry(rule, nowMs),
    };
    const adds: string[] = [];
    let n = 0;
    for (const [bucket, count] of buckets) {
      names[`#b${n}`] = `b${bucket}`;
      values[`:b${n}`] = { N: String(count) };
      adds.push(`#b${n} :b${n}`);
      n++;
    }
    // Drop, in the same write, a window's worth of buckets just below `keepFrom`: an item updated at least once per
    // window keeps no stale bucket. Anything older is removed by cleanStale().
    const removes: string[] = [];
    const perWindow = bucketsPerWindow(rule.windowSeconds);
    for (let j = 1; j <= perWindow + 1; j++) {
      names[`#r${j}`] = `b${keepFrom - j}`;
      removes.push(`#r${j}`);
    }
    try {
      const out = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET #m = :m, expiresAt = :exp${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''} REMOVE ${removes.join(', ')}`,
        ConditionExpression: mark.condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes;
    } catch (e) {
      if (isConditionFailure(e)) return 'conflict';
      throw e;
    }
  }

  private async read(key: Record<string, AttributeValue>): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  private async readMark(key: Record<string, AttributeValue>, markName: string): Promise<string | undefined> {
    const item = await this.read(key);
    return item?.[markName]?.S;
  }

  /** A pair's item outlives its window by the counter retention. */
  private counterExpiry(rule: StoredRule, nowMs: number): AttributeValue {
    return { N: String(Math.floor(nowMs / 1000) + rule.windowSeconds + this.retentionSeconds) };
  }

  /** `stored`: the buckets of the entry that the write added; the others still count, from the entry. */
  private windowCount(
    entry: KeyCounts,
    rule: StoredRule,
    item: Record<string, AttributeValue>,
    stored: ReadonlyMap<number, number>,
  ): WindowCount {
    const buckets = bucketsFromItem(item);
    const current = bucketOf(entry.lastTimestampMs, rule.windowSeconds);
    let first = Infinity;
    let last = -Infinity;
    for (const [b, c] of entry.buckets) {
      if (!stored.has(b)) buckets.set(b, (buckets.get(b) ?? 0) + c);
      if (b < first) first = b;
      if (b > last) last = b;
    }
    const busiest = busiestWindow(buckets, rule.windowSeconds, first, last);
    return {
      entry,
      rule,
      sampledInWindow: busiest.total,
      firstSeenMs: (busiest.total > 0 ? busiest.firstBucket : current) * bucketMs(rule.windowSeconds),
      crossedAtMs: busiest.total > 0 && busiest.lastBucket > current
        ? (busiest.lastBucket + 1) * bucketMs(rule.windowSeconds) - 1 : entry.lastTimestampMs,
    };
  }
}

/**
 * The oldest bucket a pair's item keeps: the windows of the oldest event time any shard may still deliver (`horizonMs`
 * is at most the batch's oldest), and a window more for records that arrive a little out of order.
 */
function keepFromBucket(horizonMs: number, rule: StoredRule): number {
  return bucketOf(horizonMs, rule.windowSeconds) - 2 * bucketsPerWindow(rule.windowSeconds) + 1;
}

/**
 * The buckets of a pair a write adds: every one a shard may still add to (from `keepFrom`), not only the window ending
 * at the pair's latest request, or a batch spanning several windows (a backlog, another shard lagging) would leave the
 * shared count of its earlier windows short. At most MAX_BUCKETS_PER_WRITE, the newest, in the one write.
 */
function bucketsToStore(buckets: ReadonlyMap<number, number>, keepFrom: number, current: number): Map<number, number> {
  const from = Math.max(keepFrom, current - MAX_BUCKETS_PER_WRITE + 1);
  return new Map([...buckets].filter(([b]) => b >= from && b <= current));
}

function counterKey(rule: StoredRule, entry: KeyCounts): Record<string, AttributeValue> {
  return { pk: { S: `${rule.ruleId}#${entry.ip.text}` } };
}

/** The oldest event time of a batch, to the start of its bucket. */
export function oldestEventMs(entries: readonly KeyCounts[], rules: readonly StoredRule[]): number {
  let oldest = Infinity;
  for (const entry of entries) {
    const size = bucketMs(rules[entry.ruleIndex].windowSeconds);
    for (const b of entry.buckets.keys()) oldest = Math.min(oldest, b * size);
  }
  return oldest;
}

/** The bucket counts of a counter item (attributes `b<bucket>`). */
export function bucketsFromItem(item: Record<string, AttributeValue>): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const [name, value] of Object.entries(item)) {
    if (name.charCodeAt(0) === 98 /* b */ && value.N !== undefined) {
      const bucket = Number(name.slice(1));
      if (Number.isInteger(bucket)) buckets.set(bucket, Number(value.N));
    }
  }
  return buckets;
}
