import { bucketOf, bucketsPerWindow, busiestWindow, KeyCounts } from './detector';
import { StoredRule } from '../rule-model';

/**
 * The fewest sampled requests of one (rule, client) pair, within one window, that an execution environment writes to
 * the shared counters; fewer stay in its memory. With `environments` environments each holding fewer than this, the
 * counts missing from the shared total stay below `slackPercent` of the sampled threshold. At least 1, which is
 * exact counting: a threshold of a few logged requests leaves no room to hold any back.
 */
export function writeLevel(rule: StoredRule, samplingRate: number, slackPercent: number, environments: number): number {
  const sampledThreshold = (rule.threshold * samplingRate) / 100;
  return Math.max(1, Math.floor((sampledThreshold * slackPercent) / 100 / Math.max(1, environments)));
}

/** What a batch does with one pair: write it (with everything held for it) or keep holding it. */
export interface PendingDecision {
  readonly entry: KeyCounts;
  /** The batch's buckets plus those held from earlier batches. */
  readonly merged: Map<number, number>;
}

/**
 * Per (rule, client) counts this execution environment has counted but not written: the pure part of
 * `Counting.LOCAL_FIRST`. Keys carry the rule's window, so an edited window starts its pairs afresh (their
 * buckets would mean other times).
 */
export class PendingCounts {
  private readonly pairs = new Map<string, Map<number, number>>();

  public get size(): number {
    return this.pairs.size;
  }

  /**
   * Splits a batch's pairs into those to write now (their busiest window, held counts included, reaches the rule's
   * write level) and those to hold. Held pairs are stored at once: the batch is claimed before this runs, so it is
   * never counted again, and holding is its only record. Written pairs are no longer held; `hold()` puts one back
   * when its write did not happen.
   */
  public split(entries: readonly KeyCounts[], rules: readonly StoredRule[], level: (rule: StoredRule) => number): PendingDecision[] {
    const write: PendingDecision[] = [];
    for (const entry of entries) {
      const rule = rules[entry.ruleIndex];
      const key = pairKey(rule, entry.ip.text);
      const held = this.pairs.get(key);
      const merged = new Map(held ?? []);
      for (const [bucket, count] of entry.buckets) merged.set(bucket, (merged.get(bucket) ?? 0) + count);
      if (busiestWindow(merged, rule.windowSeconds).total >= level(rule)) {
        this.pairs.delete(key);
        write.push({ entry, merged });
      } else {
        this.pairs.set(key, merged);
      }
    }
    return write;
  }

  /** Holds counts again, adding to whatever was held since. */
  public hold(rule: StoredRule, client: string, buckets: ReadonlyMap<number, number>): void {
    const key = pairKey(rule, client);
    const held = this.pairs.get(key) ?? new Map<number, number>();
    for (const [bucket, count] of buckets) held.set(bucket, (held.get(bucket) ?? 0) + count);
    this.pairs.set(key, held);
  }

  /** Sampled requests held for a pair (all buckets). */
  public heldFor(rule: StoredRule, client: string): number {
    let total = 0;
    for (const count of this.pairs.get(pairKey(rule, client))?.values() ?? []) total += count;
    return total;
  }

  /**
   * Drops buckets that can no longer share a window with requests still to come (none will be older than
   * `horizonMs`) and the pairs of rules that are gone or whose window changed. Returns how many pairs were dropped.
   */
  public prune(rules: readonly StoredRule[], horizonMs: number): number {
    const windows = new Map(rules.map((r) => [r.ruleId, r.windowSeconds]));
    let dropped = 0;
    for (const [key, buckets] of this.pairs) {
      const [ruleId, window] = splitKey(key);
      const windowSeconds = windows.get(ruleId);
      if (windowSeconds !== window) {
        this.pairs.delete(key);
        dropped++;
        continue;
      }
      const keepFrom = bucketOf(horizonMs, windowSeconds) - bucketsPerWindow(windowSeconds) + 1;
      for (const bucket of buckets.keys()) if (bucket < keepFrom) buckets.delete(bucket);
      if (buckets.size === 0) {
        this.pairs.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
}

function pairKey(rule: StoredRule, client: string): string {
  return `${rule.ruleId}\u0000${rule.windowSeconds}\u0000${client}`;
}

function splitKey(key: string): [string, number] {
  const [ruleId, window] = key.split('\u0000');
  return [ruleId, Number(window)];
}
