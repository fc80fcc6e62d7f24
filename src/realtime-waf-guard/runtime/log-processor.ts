import { randomUUID } from 'crypto';
import type { AnalyticsSink } from './analytics-sink';
import { BlockCandidate, BlockRow } from './block-store';
import { BatchIdentity, CounterStore, oldestEventMs, padSequence, WindowCount } from './counter-store';
import { CountStats, KeyCounts, routeName, scaleToRealRequests, TrafficCounter } from './detector';
import { CidrSet } from './ip';
import { Malformed, MALFORMED_REASONS } from './log-parser';
import { OffenceRecorderDeps, recordOffences, RecordOffencesResult } from './offence-recorder';
import { PendingCounts, writeLevel } from './pending-counts';
import { LoadedRules, RulesCache } from './rules-store';
import { loggedThreshold, overThreshold } from './sampling-bound';
import type { StreamRecord } from './stream-record';
import { METRIC } from '../handler-env';
import { StoredRule } from '../rule-model';

export type { StreamRecord } from './stream-record';

export interface LogProcessorConfig {
  /** Configured fields in delivered order. */
  readonly fields: readonly string[];
  readonly samplingRate: number;
  readonly allowList: CidrSet;
  readonly trustedProxies: CidrSet;
  /**
   * IPv6 clients are counted and blocked per prefix of this length.
   * @default 64
   */
  readonly ipv6PrefixLength?: number;
  /**
   * `Counting.LOCAL_FIRST`: the percent of a threshold by which the shared count of a client may trail its requests.
   * Undefined: `Counting.EXACT`, every (rule, client) pair of every batch written.
   */
  readonly localFirstSlackPercent?: number;
  /**
   * Under `Counting.LOCAL_FIRST`, most pairs an execution environment holds before it writes out the longest-held.
   * @default MAX_HELD_PAIRS
   */
  readonly maxHeldPairs?: number;
}

export interface LogProcessorDeps extends OffenceRecorderDeps {
  readonly rules: RulesCache;
  readonly counters: CounterStore;
  /** Receives every record besides detection (Timestream); its failures never fail the batch. */
  readonly analytics?: AnalyticsSink;
  readonly now: () => number;
}

export interface BatchSummary {
  readonly lines: number;
  readonly matched: number;
  readonly malformed: number;
  readonly created: BlockRow[];
  readonly overBudget: BlockCandidate[];
  /** Offences whose block would already have ended when processed: recorded, not blocked. */
  readonly stale: BlockRow[];
  /** Clients over a threshold spared by a shield or a run-time allow-list entry. */
  readonly shielded?: BlockCandidate[];
}

export interface BatchResult {
  /** What Lambda reads with ReportBatchItemFailures. */
  readonly batchItemFailures: Array<{ itemIdentifier: string }>;
  readonly summary: BatchSummary;
}

const MALFORMED_SAMPLES = 3;

/**
 * Most (rule, client) pairs an execution environment holds under `Counting.LOCAL_FIRST` before it writes out the
 * longest-held, when the function's memory size is unknown (in Lambda it scales with it, see config.ts): about 85 MB
 * of heap (some 430 bytes a pair with up to four buckets, measured), well within the log processor's default 512 MB.
 */
export const MAX_HELD_PAIRS = 200_000;

/** Offenders kept for the next batch when their block rows cannot be written. */
const MAX_UNRECORDED = 1000;

/**
 * One Kinesis batch: parse and count every line, add the counts to the stored windows, and record a block for every
 * (rule, client) pair at or over its threshold. Bad lines are counted and skipped. Under `Counting.EXACT` every pair
 * is written and a storage failure fails the batch from its first record, which is safe because counting is
 * idempotent per shard; under `Counting.LOCAL_FIRST` see countLocalFirst().
 */
export class LogProcessor {
  private counter?: { version: string; counter: TrafficCounter };
  /** The last rule load whose invalid rows were logged: once per load, not once per batch. */
  private reported?: LoadedRules;
  /** Under `Counting.LOCAL_FIRST`: what this execution environment counted and has not written. */
  private readonly pending = new PendingCounts();
  /** Offenders whose block row could not be written after their batch was claimed: tried again with the next batch. */
  private unrecorded: BlockCandidate[] = [];
  private readonly environmentId = randomUUID().slice(0, 8);
  private claims = 0;
  private writes = 0;
  private prunedAtMs = 0;
  /** What the held pairs were last compared with: the environments and the rules. */
  private leveledEnvironments = 1;
  private leveledRules?: readonly StoredRule[];

  constructor(private readonly config: LogProcessorConfig, private readonly deps: LogProcessorDeps) {}

  /** Pairs held in memory under `Counting.LOCAL_FIRST`. */
  public get heldPairs(): number {
    return this.pending.size;
  }

  public async process(records: readonly StreamRecord[]): Promise<BatchResult> {
    // Written alongside detection rather than after it, so analytics adds no latency to blocking; awaited before
    // returning because a frozen Lambda would not finish the calls.
    const analytics = records.length > 0 ? this.deps.analytics?.write(records) : undefined;
    const result = await this.detect(records);
    await analytics;
    return result;
  }

  private async detect(records: readonly StreamRecord[]): Promise<BatchResult> {
    const empty: BatchSummary = { lines: 0, matched: 0, malformed: 0, created: [], overBudget: [], stale: [] };
    if (records.length === 0) return { batchItemFailures: [], summary: empty };
    const { deps, config } = this;
    const now = deps.now();
    try {
      const loaded = await deps.rules.get(now);
      this.reportInvalidRules(loaded);
      const counter = this.counterFor(loaded.version, loaded.rules);
      counter.reset();
      const samples: Array<{ sequenceNumber: string; reason: string; line: string }> = [];
      for (let i = 0; i < records.length; i++) {
        const result = counter.addBase64(records[i].kinesis.data, i);
        if (result !== Malformed.NONE && samples.length < MALFORMED_SAMPLES) {
          const { sequenceNumber, data } = records[i].kinesis;
          samples.push({ sequenceNumber, reason: MALFORMED_REASONS[result], line: preview(data) });
        }
      }
      const stats = counter.stats;
      deps.metrics.add(METRIC.RECORDS, stats.lines, 'Count');
      deps.metrics.add(METRIC.MALFORMED, stats.malformed, 'Count');
      // The oldest record shows how far behind detection is; the newest would hide a backlog.
      const oldestArrival = records.reduce((m, r) => Math.min(m, r.kinesis.approximateArrivalTimestamp), Infinity) * 1000;
      deps.metrics.add(METRIC.LAG, Math.max(0, now - oldestArrival), 'Milliseconds');
      if (samples.length > 0) deps.log.warn('skipped malformed log lines', { count: stats.malformed, samples });

      const rules = counter.matcher.rules;
      const shardId = records[0].eventID.split(':')[0];
      const batch: BatchIdentity = { shardId, sequenceNumbers: records.map((r) => r.kinesis.sequenceNumber) };
      const recount = (entry: KeyCounts, afterSequence: string) => this.recount(records, entry, rules[entry.ruleIndex], afterSequence);
      if (config.localFirstSlackPercent !== undefined) {
        return await this.countLocalFirst(records, counter, batch, config.localFirstSlackPercent, now);
      }
      const windows = await deps.counters.apply(counter.entries(), rules, batch, recount, now);
      return { batchItemFailures: [], summary: summarise(stats, await recordOffences(this.offenders(windows), deps, now)) };
    } catch (e) {
      deps.log.error('batch failed; it will be retried from its first record', { error: (e as Error).message, records: records.length });
      return { batchItemFailures: [{ itemIdentifier: records[0].kinesis.sequenceNumber }], summary: empty };
    }
  }

  /** The pairs whose window holds the rule's logged threshold (see sampling-bound.ts). */
  private offenders(windows: readonly WindowCount[]): BlockCandidate[] {
    const candidates: BlockCandidate[] = [];
    for (const w of windows) {
      if (overThreshold(w.sampledInWindow, w.rule, this.config.samplingRate)) {
        const observed = scaleToRealRequests(w.sampledInWindow, this.config.samplingRate);
        candidates.push({
          rule: w.rule, ip: w.entry.ip, observed, firstSeenMs: w.firstSeenMs, crossedAtMs: w.crossedAtMs, route: routeName(w.entry.route),
        });
      }
    }
    return candidates;
  }

  /**
   * `Counting.LOCAL_FIRST`. The batch is claimed first (a batch delivered again, here or in another environment,
   * counts nothing), then each pair is held in memory until its held requests within a window reach the rule's
   * write level, a share of the threshold's slack per environment; only then is it added to the shared counters and
   * judged against the threshold. Each environment holding less than its share, the shared count of a client trails
   * its requests by less than the slack, and never exceeds them. After the claim nothing fails the batch: a retry would
   * find it claimed and count nothing, so failed writes are held and offenders not recorded are tried again.
   */
  private async countLocalFirst(
    records: readonly StreamRecord[],
    counter: TrafficCounter,
    batch: BatchIdentity,
    slackPercent: number,
    now: number,
  ): Promise<BatchResult> {
    const { deps, config } = this;
    const rules = counter.matcher.rules;
    let stats = counter.stats;
    // entries() builds a new array from every rule's map: taken once per count, not once per use
    let entries = counter.entries();
    const oldest = entries.length > 0 ? oldestEventMs(entries, rules) : now;
    const { horizonMs, runningHorizonMs } = await deps.counters.progress(batch.shardId, oldest, now, this.environmentId);
    // A batch that counts nothing (no record matches a rule) has nothing to count twice: no claim, no write.
    const from = entries.length === 0 ? 0 : await deps.counters.claim(batch, `${this.environmentId}:${++this.claims}`, now);
    if (from > 0) {
      // Part of the batch was counted before (a delivery again, or a retry after a bisect): count only the rest.
      deps.metrics.add(METRIC.RECORDS_ALREADY_COUNTED, from, 'Count');
      deps.log.warn('records delivered again were already counted; skipped', { shardId: batch.shardId, records: from });
      counter.reset();
      for (let i = from; i < records.length; i++) counter.addBase64(records[i].kinesis.data, i);
      stats = counter.stats;
      entries = counter.entries();
    }
    const maxWindowMs = Math.max(0, ...rules.map((r) => r.windowSeconds * 1000));
    const environments = deps.counters.environmentsSince(runningHorizonMs - maxWindowMs);
    const level = (rule: StoredRule) => writeLevel(rule, config.samplingRate, slackPercent, environments);
    const write = this.pending.add(entries, rules, level);
    // Levels fall when an environment joins or a threshold is lowered: pairs held above the new level are written now
    // rather than when their clients come back, which may be never.
    if (this.leveledRules !== undefined && (environments > this.leveledEnvironments || counter.matcher.rules !== this.leveledRules)) {
      write.push(...this.pending.overLevel(rules, level));
    }
    const maxHeld = config.maxHeldPairs ?? MAX_HELD_PAIRS;
    if (this.pending.size > maxHeld) write.push(...this.pending.evict(rules, Math.floor(maxHeld * 0.9)));
    this.leveledEnvironments = environments;
    this.leveledRules = counter.matcher.rules;
    const writer = { environmentId: this.environmentId, nextWrite: () => (this.writes = Math.max(this.writes + 1, now * 1000)) };
    const result = await deps.counters.addHeld(write, rules, writer, horizonMs, now);
    for (const entry of result.unwritten) this.pending.hold(rules[entry.ruleIndex], entry);
    if (result.errors.length > 0) {
      deps.metrics.add(METRIC.COUNTER_WRITE_ERRORS, result.errors.length, 'Count');
      deps.log.error('counter writes failed; their counts stay in memory for the next batch', {
        errors: result.errors.slice(0, 3), held: result.unwritten.length, dropped: result.lost.length,
      });
    }
    if (result.lost.length > 0) {
      // Neither written for sure nor surely not: holding them could count them twice, so they are dropped.
      deps.metrics.add(METRIC.HELD_COUNTS_DROPPED, sum(result.lost.map((e) => sum([...e.buckets.values()]))), 'Count');
    }
    if (now - this.prunedAtMs >= 5000) {
      this.prunedAtMs = now;
      this.pending.prune(rules, horizonMs);
    }
    deps.metrics.add(METRIC.HELD_PAIRS, this.pending.size, 'Count');

    const candidates = [...this.unrecorded, ...this.offenders(result.windows)];
    this.unrecorded = [];
    let recorded: RecordOffencesResult = { created: [], overBudget: [], stale: [], shielded: [], alreadyActive: 0 };
    try {
      recorded = await recordOffences(candidates, deps, now);
    } catch (e) {
      // Kept for the next batch, a bounded number: while the blocks table fails, newer offences replace older ones.
      this.unrecorded = candidates.slice(-MAX_UNRECORDED);
      deps.log.error('offenders could not be recorded; trying again with the next batch', { error: (e as Error).message, clients: candidates.length });
    }
    return { batchItemFailures: [], summary: summarise(stats, recorded) };
  }

  /** Every batch measures the refused rows (so the alarm stays in alarm while they last); each load logs them once. */
  private reportInvalidRules(loaded: LoadedRules): void {
    this.deps.metrics.add(METRIC.INVALID_RULE_ROWS, loaded.invalid.length, 'Count');
    if (this.reported === loaded) return;
    this.reported = loaded;
    for (const problem of loaded.invalid) this.deps.log.error('skipping invalid rule row', { problem });
  }

  /** The counter is rebuilt only when the rules change, so its caches survive across batches. */
  private counterFor(version: string, rules: readonly StoredRule[]): TrafficCounter {
    if (this.counter?.version !== version) {
      const { fields, allowList, trustedProxies, ipv6PrefixLength, samplingRate } = this.config;
      this.counter = { version, counter: new TrafficCounter({ fields, rules, allowList, trustedProxies, ipv6PrefixLength }) };
      // Each rule's logged threshold is computed now, when the rules load, rather than by the first batch's decisions.
      for (const rule of rules) loggedThreshold(rule.threshold, samplingRate, rule.windowSeconds);
    }
    return this.counter.counter;
  }

  private recount(records: readonly StreamRecord[], entry: KeyCounts, rule: StoredRule, afterSequence: string): Map<number, number> {
    const { fields, allowList, trustedProxies, ipv6PrefixLength } = this.config;
    const single = new TrafficCounter({ fields, rules: [rule], allowList, trustedProxies, ipv6PrefixLength });
    for (let i = entry.firstRecord; i <= entry.lastRecord; i++) {
      if (padSequence(records[i].kinesis.sequenceNumber) > afterSequence) single.addBase64(records[i].kinesis.data, i);
    }
    return single.entries().find((e) => e.ip.text === entry.ip.text)?.buckets ?? new Map();
  }
}

function summarise(stats: CountStats, recorded: RecordOffencesResult): BatchSummary {
  return {
    lines: stats.lines,
    matched: stats.matched,
    malformed: stats.malformed,
    created: recorded.created,
    overBudget: recorded.overBudget,
    stale: recorded.stale,
    shielded: recorded.shielded,
  };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** A bad line as it can be shown in a log: decoded, cut short, control characters escaped by JSON. */
function preview(data: string): string {
  let text: string;
  try {
    text = atob(data);
  } catch {
    return `<not base64: ${data.slice(0, 40)}>`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
