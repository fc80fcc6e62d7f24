import { bucketMs, bucketOf, bucketsPerWindow, busiestWindow, KeyCounts, ROUTE_BOTH } from './detector';
import { IpAddress } from './ip';
import { loggedThreshold } from './sampling-bound';
import { StoredRule } from '../rule-model';

/**
 * The fewest sampled requests of one (rule, client) pair, within one window, that an execution environment writes to
 * the shared counters; fewer stay in its memory. With `environments` environments each holding fewer than this, the
 * counts missing from the shared total stay below `slackPercent` of the rule's logged threshold k* (the count that
 * blocks, see sampling-bound.ts; the threshold itself at 100%). At least 1, which is exact counting: a threshold of a
 * few logged requests leaves no room to hold any back.
 */
export function writeLevel(rule: StoredRule, samplingRate: number, slackPercent: number, environments: number): number {
  const blocksAt = loggedThreshold(rule.threshold, samplingRate, rule.windowSeconds);
  const share = (blocksAt * slackPercent) / 100 / Math.max(1, environments);
  // Holdings are whole and below the level: rounding the share up keeps each holding below the share itself.
  return Math.max(1, Math.ceil(share));
}

interface HeldPair {
  readonly ruleId: string;
  readonly windowSeconds: number;
  readonly ip: IpAddress;
  route: number;
  readonly buckets: Map<number, number>;
}

/**
 * Per (rule, client) counts this execution environment has counted but not written: the pure part of
 * `Counting.LOCAL_FIRST`. Keys carry the rule's window, so an edited window starts its pairs afresh (their
 * buckets would mean other times).
 */
export class PendingCounts {
  private readonly pairs = new Map<string, HeldPair>();

  public get size(): number {
    return this.pairs.size;
  }

  /**
   * Adds a batch's pairs to what is held and returns, no longer held, those to write now: their busiest window
   * reaches the rule's write level. Each returned pair carries all its held buckets, and its latest time is that of
   * its newest bucket or request (this environment may also serve shards further ahead). The batch is claimed before
   * this runs, so it is never counted again and holding is its only record; `hold()` puts back a pair whose write
   * did not happen.
   */
  public add(entries: readonly KeyCounts[], rules: readonly StoredRule[], level: (rule: StoredRule) => number): KeyCounts[] {
    const write: KeyCounts[] = [];
    for (const entry of entries) {
      const rule = rules[entry.ruleIndex];
      const [key, pair] = this.merge(rule, entry);
      if (busiestWindow(pair.buckets, rule.windowSeconds).total >= level(rule)) {
        this.pairs.delete(key);
        write.push(toEntry(pair, entry.ruleIndex, entry.lastTimestampMs));
      }
    }
    return write;
  }

  /**
   * Takes out every held pair that has reached its rule's write level, for when the levels fell (more environments,
   * a lower threshold) so that no pair stays held above its level until its client comes back.
   */
  public overLevel(rules: readonly StoredRule[], level: (rule: StoredRule) => number): KeyCounts[] {
    const indexOf = ruleIndexer(rules);
    const write: KeyCounts[] = [];
    for (const [key, pair] of this.pairs) {
      const index = indexOf(pair);
      if (index === undefined) continue;
      if (busiestWindow(pair.buckets, pair.windowSeconds).total >= level(rules[index])) {
        this.pairs.delete(key);
        write.push(toEntry(pair, index, -Infinity));
      }
    }
    return write;
  }

  /**
   * Takes out the longest-held pairs until at most `keep` remain, to bound memory: many distinct clients (a botnet,
   * rotating IPv6 prefixes) under a long window would otherwise fill the environment. Written out, their counts stay
   * exact; the price is their writes. Pairs of rules gone or re-windowed are dropped, as prune() would.
   */
  public evict(rules: readonly StoredRule[], keep: number): KeyCounts[] {
    const indexOf = ruleIndexer(rules);
    const write: KeyCounts[] = [];
    for (const [key, pair] of this.pairs) {
      if (this.pairs.size <= keep) break;
      this.pairs.delete(key);
      const index = indexOf(pair);
      if (index !== undefined) write.push(toEntry(pair, index, -Infinity));
    }
    return write;
  }

  /** Holds a pair again whose write did not happen, adding to whatever was held since. */
  public hold(rule: StoredRule, entry: KeyCounts): void {
    this.merge(rule, entry);
  }

  /** Sampled requests held for a pair (all buckets). */
  public heldFor(rule: StoredRule, client: string): number {
    let total = 0;
    for (const count of this.pairs.get(pairKey(rule, client))?.buckets.values() ?? []) total += count;
    return total;
  }

  /**
   * Drops buckets that can no longer share a window with requests still to come (none will be older than
   * `horizonMs`) and the pairs of rules that are gone or whose window changed. Returns how many pairs were dropped.
   */
  public prune(rules: readonly StoredRule[], horizonMs: number): number {
    const indexOf = ruleIndexer(rules);
    let dropped = 0;
    for (const [key, pair] of this.pairs) {
      if (indexOf(pair) === undefined) {
        this.pairs.delete(key);
        dropped++;
        continue;
      }
      const { windowSeconds, buckets } = pair;
      const keepFrom = bucketOf(horizonMs, windowSeconds) - bucketsPerWindow(windowSeconds) + 1;
      for (const bucket of buckets.keys()) if (bucket < keepFrom) buckets.delete(bucket);
      if (buckets.size === 0) {
        this.pairs.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Adds an entry's counts to its held pair, which it starts if there is none. */
  private merge(rule: StoredRule, entry: KeyCounts): [string, HeldPair] {
    const key = pairKey(rule, entry.ip.text);
    let pair = this.pairs.get(key);
    if (!pair) {
      pair = { ruleId: rule.ruleId, windowSeconds: rule.windowSeconds, ip: entry.ip, route: entry.route, buckets: new Map() };
      this.pairs.set(key, pair);
    } else if (pair.route !== entry.route) {
      pair.route = ROUTE_BOTH;
    }
    for (const [bucket, count] of entry.buckets) pair.buckets.set(bucket, (pair.buckets.get(bucket) ?? 0) + count);
    return [key, pair];
  }
}

/** Finds the rule a held pair counts for: undefined when the rule is gone or its window changed. */
function ruleIndexer(rules: readonly StoredRule[]): (pair: HeldPair) => number | undefined {
  const byId = new Map(rules.map((r, i) => [r.ruleId, i]));
  return (pair) => {
    const index = byId.get(pair.ruleId);
    return index !== undefined && rules[index].windowSeconds === pair.windowSeconds ? index : undefined;
  };
}

function pairKey(rule: StoredRule, client: string): string {
  return `${rule.ruleId}\u0000${rule.windowSeconds}\u0000${client}`;
}

/** A held pair as the counter store writes it: all its buckets, its latest time at least that of its newest bucket. */
function toEntry(pair: HeldPair, ruleIndex: number, lastTimestampMs: number): KeyCounts {
  const newest = Math.max(...pair.buckets.keys()) * bucketMs(pair.windowSeconds);
  return {
    ruleIndex,
    ip: pair.ip,
    route: pair.route,
    buckets: pair.buckets,
    firstRecord: 0,
    lastRecord: 0,
    lastTimestampMs: Math.max(lastTimestampMs, newest),
  };
}
