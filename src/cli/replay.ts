import { InputLine } from './log-input';
import { StoredRule } from '../realtime-waf-guard/rule-model';
import { bucketsPerWindow, busiestWindow, scaleToRealRequests, TrafficCounter } from '../realtime-waf-guard/runtime/detector';
import { CidrSet } from '../realtime-waf-guard/runtime/ip';
import { Malformed, MALFORMED_REASONS } from '../realtime-waf-guard/runtime/log-parser';

/**
 * What-if over log lines: the LogProcessor's decisions replayed offline. Lines are counted in batches the way the
 * Kinesis event source hands them over (a batching window of log time, at most `batchSize` records), each batch's
 * counts are added to per-(rule, client) bucket counters as the counters table holds them, and the window total at
 * every window holding the batch's buckets is compared with the threshold, exactly as the Lambda does. The decision code
 * is the Lambda's (`TrafficCounter`, `busiestWindow`, `scaleToRealRequests`); only the storage is in memory.
 */
export interface ReplayOptions {
  /** Configured fields in delivered order. */
  readonly fields: readonly string[];
  readonly rules: readonly StoredRule[];
  readonly samplingRate: number;
  readonly allowList?: CidrSet;
  readonly trustedProxies?: CidrSet;
  /** IPv6 clients are counted per prefix of this length (default 64), as the guard's `ipv6PrefixLength`. */
  readonly ipv6PrefixLength?: number;
  /** Log time a batch spans, like the event source's batching window. */
  readonly batchWindowMs?: number;
  readonly batchSize?: number;
  /** How many malformed line positions to keep. */
  readonly malformedSamples?: number;
  /** Clients below threshold to list per rule, closest first. */
  readonly nearMisses?: number;
}

export interface ReplayBlock {
  readonly ip: string;
  /** Log time of the batch end at which the Lambda would have decided. */
  readonly blockedAt: number;
  readonly blockedUntil: number;
  /** Real requests in the window when the block was decided. */
  readonly observed: number;
  /** Highest window total seen for this client over the whole replay. */
  readonly peak: number;
}

export interface RuleReport {
  readonly rule: StoredRule;
  /** Lines that counted toward this rule. */
  readonly matched: number;
  readonly clients: number;
  /** Every block, renewals included (a client still over threshold when its block ends is blocked again). */
  readonly blocks: ReplayBlock[];
  /** Highest peaks that stayed below the threshold. */
  readonly nearMisses: Array<{ ip: string; peak: number }>;
}

export interface ReplayReport {
  readonly lines: number;
  /** Lines that matched at least one rule. */
  readonly matched: number;
  /** Lines that matched no rule, or were allow-listed or without a usable client behind a trusted proxy. */
  readonly skipped: number;
  readonly malformed: number;
  readonly malformedByReason: Record<string, number>;
  readonly firstMalformed: Array<{ source: string; lineNumber: number; reason: string }>;
  readonly firstTimestampMs?: number;
  readonly lastTimestampMs?: number;
  readonly samplingRate: number;
  readonly fields: readonly string[];
  readonly rules: RuleReport[];
}

interface PairState {
  readonly buckets: Map<number, number>;
  peak: number;
  blockedUntil: number;
}

export async function replay(lines: AsyncIterable<InputLine> | Iterable<InputLine>, options: ReplayOptions): Promise<ReplayReport> {
  const batchWindowMs = options.batchWindowMs ?? 1000;
  const batchSize = options.batchSize ?? 1000;
  const maxSamples = options.malformedSamples ?? 5;
  const counter = new TrafficCounter({
    fields: options.fields,
    rules: options.rules,
    allowList: options.allowList ?? new CidrSet([]),
    trustedProxies: options.trustedProxies ?? new CidrSet([]),
    ipv6PrefixLength: options.ipv6PrefixLength,
  });
  const rules = counter.matcher.rules;
  const pairs = rules.map(() => new Map<string, PairState>());
  const blocks = rules.map((): ReplayBlock[] => []);
  const matchedPerRule = rules.map(() => 0);
  const totals = { lines: 0, matched: 0, skipped: 0, malformed: 0 };
  const byReason = new Map<Malformed, number>();
  const firstMalformed: ReplayReport['firstMalformed'] = [];
  let firstTs: number | undefined;
  let lastTs: number | undefined;
  let batchStart = -1;
  let batchEnd = -1;
  let inBatch = 0;

  const flush = () => {
    const stats = counter.stats;
    totals.lines += stats.lines;
    totals.matched += stats.matched;
    totals.skipped += stats.unmatched + stats.allowListed + stats.unattributed;
    totals.malformed += stats.malformed;
    for (const [reason, n] of stats.malformedByReason) byReason.set(reason, (byReason.get(reason) ?? 0) + n);
    // The Lambda decides when the batch is processed; offline, that is the newest log time in the batch.
    const now = batchEnd;
    for (const entry of counter.entries()) {
      const rule = rules[entry.ruleIndex];
      let pair = pairs[entry.ruleIndex].get(entry.ip.text);
      if (!pair) {
        pair = { buckets: new Map(), peak: 0, blockedUntil: -Infinity };
        pairs[entry.ruleIndex].set(entry.ip.text, pair);
      }
      let oldest = Infinity;
      let newest = -Infinity;
      for (const [bucket, n] of entry.buckets) {
        pair.buckets.set(bucket, (pair.buckets.get(bucket) ?? 0) + n);
        matchedPerRule[entry.ruleIndex] += n;
        oldest = Math.min(oldest, bucket);
        newest = Math.max(newest, bucket);
      }
      // Like the counters table: buckets that left the window are dropped so memory follows the active clients.
      for (const bucket of pair.buckets.keys()) if (bucket < oldest - bucketsPerWindow(rule.windowSeconds)) pair.buckets.delete(bucket);
      const busiest = busiestWindow(pair.buckets, rule.windowSeconds, oldest, newest);
      const observed = scaleToRealRequests(busiest.total, options.samplingRate);
      if (observed > pair.peak) pair.peak = observed;
      const list = blocks[entry.ruleIndex];
      if (observed >= rule.threshold && pair.blockedUntil <= now) {
        pair.blockedUntil = now + rule.blockSeconds * 1000;
        list.push({ ip: entry.ip.text, blockedAt: now, blockedUntil: pair.blockedUntil, observed, peak: observed });
      }
    }
    counter.reset();
    inBatch = 0;
    batchStart = -1;
  };

  for await (const line of lines) {
    const result = counter.add(line.text, inBatch);
    if (result !== Malformed.NONE) {
      if (firstMalformed.length < maxSamples) {
        firstMalformed.push({ source: line.source, lineNumber: line.lineNumber, reason: MALFORMED_REASONS[result] });
      }
      inBatch++;
      continue;
    }
    const ts = counter.parser.timestampMs;
    if (batchStart < 0) {
      batchStart = ts;
      batchEnd = ts;
    }
    batchEnd = Math.max(batchEnd, ts);
    firstTs = firstTs === undefined ? ts : Math.min(firstTs, ts);
    lastTs = lastTs === undefined ? ts : Math.max(lastTs, ts);
    // The line that reaches past the batching window closes the batch; which side of the boundary it falls on is as
    // arbitrary in the event source mapping.
    if (++inBatch >= batchSize || Math.abs(ts - batchStart) >= batchWindowMs) flush();
  }
  if (counter.stats.lines > 0) flush();

  const nearMissCount = options.nearMisses ?? 3;
  const ruleReports = rules.map((rule, i): RuleReport => {
    const peaks = pairs[i];
    const ruleBlocks = blocks[i].map((b) => ({ ...b, peak: peaks.get(b.ip)!.peak }));
    const nearMisses = [...peaks].filter(([, p]) => p.peak < rule.threshold)
      .sort((a, b) => b[1].peak - a[1].peak)
      .slice(0, nearMissCount)
      .map(([ip, p]) => ({ ip, peak: p.peak }));
    return { rule, matched: matchedPerRule[i], clients: peaks.size, blocks: ruleBlocks, nearMisses };
  });
  const malformedByReason: Record<string, number> = {};
  for (const [reason, n] of byReason) malformedByReason[MALFORMED_REASONS[reason as Exclude<Malformed, Malformed.NONE>]] = n;
  return {
    ...totals,
    malformedByReason,
    firstMalformed,
    firstTimestampMs: firstTs,
    lastTimestampMs: lastTs,
    samplingRate: options.samplingRate,
    fields: options.fields,
    rules: ruleReports,
  };
}
