import { AttributeValue, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mapLimit } from './concurrency';
import { bucketOf, bucketSeconds, bucketsInWindow, bucketsPerWindow, KeyCounts, maxWindowTotal, windowTotal } from './detector';
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
}

/** Bounds one clean-up write well inside DynamoDB's expression limits. */
const MAX_REMOVALS_PER_WRITE = 100;

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
 * Counts per (rule, client) in DynamoDB, one item per pair with one attribute per time bucket. Each update adds the
 * batch's bucket counts atomically and records, per shard, the highest sequence number counted; the update is
 * conditional on that mark being below the batch's first record for the pair, so a retried batch is never counted
 * twice. Records that were partly counted (a retry that overlaps newer records) are recounted from the batch.
 */
export class CounterStore {
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
    const markName = `s_${batch.shardId}`;
    const results = await mapLimit(entries, this.concurrency, async (entry) => {
      const rule = rules[entry.ruleIndex];
      const key = { pk: { S: `${rule.ruleId}#${entry.ip.text}` } };
      const first = padSequence(batch.sequenceNumbers[entry.firstRecord]);
      const last = padSequence(batch.sequenceNumbers[entry.lastRecord]);
      // Only the buckets of the window ending at the pair's latest request are stored: older ones of a long batch could
      // never count again, and each one would cost an ADD clause against DynamoDB's expression limits.
      const current = bucketOf(entry.lastTimestampMs, rule.windowSeconds);
      let item = await this.update(key, rule, bucketsInWindow(entry.buckets, rule.windowSeconds, current), markName, last, nowMs, { first });
      if (item === 'conflict') {
        const mark = await this.readMark(key, markName);
        if (mark !== undefined && mark >= last) {
          item = await this.read(key);
        } else {
          const remaining = bucketsInWindow(recount(entry, mark ?? ''), rule.windowSeconds, current);
          item = remaining.size === 0 ? await this.read(key) : await this.update(key, rule, remaining, markName, last, nowMs, { expected: mark });
          if (item === 'conflict') {
            throw new Error(`counter ${key.pk.S} changed twice during one batch; the batch will be retried`);
          }
        }
      }
      await this.cleanStale(key, rule, entry, item ?? {});
      return this.windowCount(entry, rule, item ?? {});
    });
    return results;
  }

  /**
   * Removes buckets older than the window that the update could not name (a pair idle for more than a window and back
   * before its TTL), so no item grows without bound. Costs a write only when such buckets exist.
   */
  private async cleanStale(
    key: Record<string, AttributeValue>,
    rule: StoredRule,
    entry: KeyCounts,
    item: Record<string, AttributeValue>,
  ): Promise<void> {
    // A window of slack below the current one, for shards whose clocks run a little behind this one's.
    const keepFrom = bucketOf(entry.lastTimestampMs, rule.windowSeconds) - 2 * bucketsPerWindow(rule.windowSeconds) + 1;
    const stale = [...bucketsFromItem(item).keys()].filter((b) => b < keepFrom).slice(0, MAX_REMOVALS_PER_WRITE);
    if (stale.length === 0) return;
    await this.client.send(new UpdateItemCommand({
      TableName: this.tableName,
      Key: key,
      UpdateExpression: `REMOVE ${stale.map((_, i) => `#s${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(stale.map((b, i) => [`#s${i}`, `b${b}`])),
    }));
  }

  private async update(
    key: Record<string, AttributeValue>,
    rule: StoredRule,
    buckets: ReadonlyMap<number, number>,
    markName: string,
    last: string,
    nowMs: number,
    condition: { first?: string; expected?: string },
  ): Promise<Record<string, AttributeValue> | 'conflict' | undefined> {
    const names: Record<string, string> = { '#m': markName };
    const values: Record<string, AttributeValue> = {
      ':last': { S: last },
      ':exp': { N: String(Math.floor(nowMs / 1000) + rule.windowSeconds + this.retentionSeconds) },
    };
    const adds: string[] = [];
    let oldest = Infinity;
    let n = 0;
    for (const [bucket, count] of buckets) {
      names[`#b${n}`] = `b${bucket}`;
      values[`:b${n}`] = { N: String(count) };
      adds.push(`#b${n} :b${n}`);
      oldest = Math.min(oldest, bucket);
      n++;
    }
    // Drop, in the same write, a window's worth of buckets a window below this one: an item updated at least once per
    // window keeps no stale bucket, and another shard a little behind in time still finds its current window intact.
    // Anything older is removed by cleanStale().
    const removes: string[] = [];
    const perWindow = bucketsPerWindow(rule.windowSeconds);
    for (let j = 0; j <= perWindow; j++) {
      names[`#r${j}`] = `b${oldest - 2 * perWindow - j}`;
      removes.push(`#r${j}`);
    }
    let conditionExpression: string;
    if (condition.expected === undefined || condition.expected === '') {
      conditionExpression = condition.first !== undefined ? 'attribute_not_exists(#m) OR #m < :first' : 'attribute_not_exists(#m)';
      if (condition.first !== undefined) values[':first'] = { S: condition.first };
    } else {
      conditionExpression = '#m = :expected';
      values[':expected'] = { S: condition.expected };
    }
    try {
      const out = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET #m = :last, expiresAt = :exp ADD ${adds.join(', ')} REMOVE ${removes.join(', ')}`,
        ConditionExpression: conditionExpression,
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

  private windowCount(entry: KeyCounts, rule: StoredRule, item: Record<string, AttributeValue>): WindowCount {
    const buckets = bucketsFromItem(item);
    const current = bucketOf(entry.lastTimestampMs, rule.windowSeconds);
    const firstInWindow = current - bucketsPerWindow(rule.windowSeconds) + 1;
    let oldest = current;
    for (const [b, c] of buckets) if (c > 0 && b >= firstInWindow && b < oldest) oldest = b;
    return {
      entry,
      rule,
      sampledInWindow: Math.max(windowTotal(buckets, rule.windowSeconds, current), maxWindowTotal(entry.buckets, rule.windowSeconds)),
      firstSeenMs: oldest * bucketSeconds(rule.windowSeconds) * 1000,
    };
  }
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
