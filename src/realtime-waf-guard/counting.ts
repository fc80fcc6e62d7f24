import { Token } from 'aws-cdk-lib';
import { StoredRule } from './rule-model';
import { writeLevel } from './runtime/pending-counts';

/** Slack of `Counting.LOCAL_FIRST`, in percent of a rule's threshold (of its logged threshold when sampling). */
const DEFAULT_SLACK_PERCENT = 10;

/**
 * How the log processor keeps the per-client counts it compares with each rule's threshold. Both never block a
 * client below its threshold; they differ in DynamoDB writes and in how far over a threshold a client may get
 * before it is caught. The README's counting section states each bound and what it costs.
 */
export class Counting {
  /**
   * One DynamoDB write per (rule, client) pair and batch: the shared count is always complete, at the price of a
   * write for nearly every logged request of a light client (measured: 0.25 write units per logged request on a Zipf
   * mix of clients, 0.40 on a mix of many light clients).
   */
  public static readonly EXACT = new Counting('EXACT');

  /**
   * The default: each execution environment of the log processor counts in memory and writes a (rule, client) pair
   * only once its requests within a window reach the environment's share of 10% of the threshold, so clients far
   * below every threshold cost no writes. The shared count trails the requests by less than 10% of the threshold,
   * so a client is caught by the threshold plus 10%. Below 100% sampling the same holds for the logged requests that
   * block (the README's sampling section). Counts held by an environment that ends (a cold start) are lost, so a
   * client may then need up to one more window to be caught.
   */
  public static readonly LOCAL_FIRST = new Counting('LOCAL_FIRST', DEFAULT_SLACK_PERCENT);

  /**
   * `LOCAL_FIRST` with another slack: the percent of a threshold by which a client's shared count may trail its
   * requests, 1 to 50. More slack, fewer writes; clients are caught later.
   */
  public static localFirst(slackPercent: number): Counting {
    if (Token.isUnresolved(slackPercent)) {
      throw new Error('Counting.localFirst(slackPercent) needs a number known at synth time, not a token');
    }
    if (!Number.isInteger(slackPercent) || slackPercent < 1 || slackPercent > 50) {
      throw new Error(`Counting.localFirst(slackPercent): a whole percent from 1 to 50 (got ${slackPercent}); use Counting.EXACT for no slack`);
    }
    return new Counting('LOCAL_FIRST', slackPercent);
  }

  /** `EXACT` or `LOCAL_FIRST`. */
  public readonly mode: string;

  /**
   * Percent of a threshold by which a client's shared count may trail its requests.
   * @default - undefined for `EXACT`
   */
  public readonly slackPercent?: number;

  private constructor(mode: string, slackPercent?: number) {
    this.mode = mode;
    this.slackPercent = slackPercent;
  }

  /** The log processor's setting. @internal */
  public _environmentValue(): string {
    return this.slackPercent === undefined ? this.mode : `${this.mode}:${this.slackPercent}`;
  }
}

/**
 * The execution environments that share LOCAL_FIRST's slack, as synth can know them: one per shard (Lambda runs one
 * batch per shard at a time), so the provisioned shards, 4 for a new on-demand stream (where it starts), and 1 for a
 * stream of the user's (unknown).
 */
export function countingEnvironments(existingStream: boolean, shardCount: number | undefined): number {
  return existingStream ? 1 : shardCount ?? 4;
}

/**
 * Whether LOCAL_FIRST with this slack can hold back no client of any rule: an environment holds a client back only
 * while its share of the slack is more than one logged request (a write level above 1). Where none is, every pair of
 * every batch is written as with EXACT, plus a claim per batch. Unknown without rules (they come from the table).
 */
export function localFirstHoldsNothing(
  rules: readonly StoredRule[], samplingRate: number, slackPercent: number, environments: number): boolean {
  return rules.length > 0 && rules.every((r) => writeLevel(r, samplingRate, slackPercent, environments) <= 1);
}

/** The shards `countingEnvironments` counted, for messages: an on-demand stream's 4 are where it starts, not a setting. */
export function shardsText(existingStream: boolean, shardCount: number | undefined): string {
  if (existingStream) return '1 shard (assumed for a stream of yours)';
  if (shardCount === undefined) return '4 shards, as a new on-demand stream starts with';
  return shardCount === 1 ? '1 shard' : `${shardCount} shards`;
}

/**
 * The changes that would let LOCAL_FIRST hold clients back where it holds none, each one alone: a higher
 * samplingRate (below 100), fewer shards (a stream the guard creates, with more than one), more slack (up to 50).
 * Only those that would work for these rules are named; empty when none would.
 */
export function localFirstRemedies(rules: readonly StoredRule[], samplingRate: number, slackPercent: number,
  environments: number, existingStream: boolean, shardCount: number | undefined): string[] {
  const remedies: string[] = [];
  if (samplingRate < 100 && !localFirstHoldsNothing(rules, 100, slackPercent, environments)) remedies.push('a higher samplingRate');
  if (!existingStream && environments > 1 && !localFirstHoldsNothing(rules, samplingRate, slackPercent, 1)) {
    remedies.push(shardCount === undefined ? 'a provisioned stream of fewer shards (shardCount)' : 'fewer shards (shardCount)');
  }
  if (slackPercent < 50 && !localFirstHoldsNothing(rules, samplingRate, 50, environments)) remedies.push('more slack (Counting.localFirst(n), up to 50)');
  return remedies;
}

/**
 * The counting mode: the one asked for, else LOCAL_FIRST, unless it could hold nothing for the given rules, where
 * EXACT detects the same at fewer writes (`automatic` says the guard chose).
 */
export function chooseCounting(
  requested: Counting | undefined, rules: readonly StoredRule[], samplingRate: number, environments: number,
): { counting: Counting; exactChosen: boolean } {
  if (requested) return { counting: requested, exactChosen: false };
  const holdsNothing = localFirstHoldsNothing(rules, samplingRate, Counting.LOCAL_FIRST.slackPercent!, environments);
  return holdsNothing ? { counting: Counting.EXACT, exactChosen: true } : { counting: Counting.LOCAL_FIRST, exactChosen: false };
}
