import { DistinctCount } from './distinct-count';
import { InputLine, MAX_LINE_BYTES } from './log-input';
import { StoredRule } from '../realtime-waf-guard/rule-model';
import { bucketsPerWindow, busiestWindow, ROUTE_BOTH, routeName, scaleToRealRequests, TrafficCounter } from '../realtime-waf-guard/runtime/detector';
import { CidrSet } from '../realtime-waf-guard/runtime/ip';
import { heldBackBy } from '../realtime-waf-guard/runtime/ip-set-planner';
import { Malformed, MALFORMED_REASONS } from '../realtime-waf-guard/runtime/log-parser';
import { loggedThreshold, overThreshold } from '../realtime-waf-guard/runtime/sampling-bound';

/**
 * What-if over log lines: the LogProcessor's decisions replayed offline. Lines are counted in batches the way the
 * Kinesis event source hands them over (a batching window of log time, at most `batchSize` records), each batch's
 * counts are added to per-(rule, client) bucket counters as the counters table holds them, and the window total at
 * every window holding the batch's buckets is compared with the threshold, exactly as the Lambda does. The decision code
 * is the Lambda's (`TrafficCounter`, `busiestWindow`, `loggedThreshold`); only the storage is in memory.
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

/** Why lines were skipped as malformed, by stable code: the parser's reasons, and lines too long to be log lines. */
export const LINE_TOO_LONG = 'line-too-long';

/** The stable code of a parser reason: its name in kebab case (`FIELD_COUNT` is `field-count`). */
export function malformedCode(reason: Exclude<Malformed, Malformed.NONE>): string {
  return Malformed[reason].toLowerCase().replace(/_/g, '-');
}

/** What a malformed code means, for people. */
export function malformedMessage(code: string): string {
  if (code === LINE_TOO_LONG) return `line longer than ${MAX_LINE_BYTES.toLocaleString('en-US')} bytes (not a CloudFront log line; not kept)`;
  const reason = Object.values(Malformed).find((r) => typeof r === 'number' && r !== Malformed.NONE && malformedCode(r) === code);
  return reason === undefined ? code : MALFORMED_REASONS[reason as Exclude<Malformed, Malformed.NONE>];
}

const ISO_TIME = /^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
/** A zone at the end of an ISO 8601 time: Z, or an offset such as +02:00 or -0500. */
const ZONE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * What is wrong with a timestamp the parser refused, naming the format it expects and, for an ISO 8601 time (what log
 * exports and hand-made samples often hold), the same time as the guard reads it.
 */
export function timestampHint(text: string): string {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const trimmed = text.trim();
  // A time without a zone is taken as UTC, as log times are, and not in this machine's zone (what Date.parse does);
  // the command suggested must read it the same way, hence `date -u`.
  const zoneless = !ZONE.test(trimmed);
  const ms = ISO_TIME.test(text) ? Date.parse(zoneless ? `${trimmed.replace(' ', 'T')}Z` : trimmed) : NaN;
  if (!Number.isNaN(ms)) {
    return `the timestamp field holds ISO 8601 times (${shown}), but CloudFront real-time logs give epoch seconds with `
      + `milliseconds: that time is "${(ms / 1000).toFixed(3)}"${zoneless ? ' (taken as UTC: it names no zone)' : ''}. `
      + `Convert the times (e.g. date${zoneless ? ' -u' : ''} -d '${trimmed}' +%s.%3N), `
      + 'or check that --fields names the timestamp field where the lines have it';
  }
  return `the timestamp field must be epoch seconds with milliseconds like "1700000000.123" (got ${shown}); `
    + 'if the lines hold another field there, --fields must name the fields of the real-time log configuration (any order)';
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
  /**
   * The routes the client was counted on while blocked: `DIRECT` (its own address), `PROXY` (behind a trusted proxy)
   * or `BOTH`. The guard blocks it on every route either way: this says which IP sets it would be in.
   */
  readonly route: 'DIRECT' | 'PROXY' | 'BOTH';
  /**
   * Set when the guard would keep the block out of the IP sets and alert instead: the blocked network holds an
   * allow-listed address (`ALLOW_LISTED`) or a trusted proxy (`TRUSTED_PROXY`).
   */
  readonly notApplied?: 'ALLOW_LISTED' | 'TRUSTED_PROXY';
}

export interface RuleReport {
  readonly rule: StoredRule;
  /** Logged requests within one window that block (k*, see sampling-bound.ts): the threshold itself at 100%. */
  readonly loggedThreshold: number;
  /** Lines that counted toward this rule. */
  readonly matched: number;
  /** Distinct clients that counted toward this rule. */
  readonly clients: number;
  /** False when `clients` is an estimate (about 1% off): past 100,000 clients, they are counted, not remembered. */
  readonly clientsExact: boolean;
  /** Every block, renewals included (a client still over threshold when its block ends is blocked again). */
  readonly blocks: ReplayBlock[];
  /** Highest peaks of clients never blocked (below the threshold, or above it by too few logged requests). */
  readonly nearMisses: Array<{ ip: string; peak: number }>;
}

export interface ReplayReport {
  readonly lines: number;
  /** Lines that matched at least one rule. */
  readonly matched: number;
  /** Lines that matched no rule, or were allow-listed or without a usable client behind a trusted proxy. */
  readonly skipped: number;
  readonly malformed: number;
  /** Malformed lines by stable code (`malformedCode`, `LINE_TOO_LONG`). */
  readonly malformedByReason: Record<string, number>;
  readonly firstMalformed: Array<{ source: string; lineNumber: number; reason: string }>;
  /** The timestamp field of the first line refused for its timestamp, to say what format the lines hold. */
  readonly firstBadTimestamp?: string;
  /**
   * The most (rule, client) pairs held at once. Pairs whose window has passed and whose block has ended are let go,
   * so this follows the clients active within a window or so, not all the clients of the replay.
   */
  readonly peakTrackedClients: number;
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
  /** The block running (or last run), whose route grows as the client is counted on more routes while it runs. */
  block?: { -readonly [K in keyof ReplayBlock]: ReplayBlock[K] };
  /** ROUTE_* bits the client was counted on while that block ran. */
  route: number;
  lastTimestampMs: number;
}

/** Pairs held before the first sweep for idle ones; sweeps then run each time the pairs double, so cost stays linear. */
const SWEEP_FLOOR = 4096;

/** The highest peaks below the threshold, one per client, of clients never blocked. */
class NearMisses {
  private readonly top: Array<{ ip: string; peak: number }> = [];
  constructor(private readonly size: number) {}

  public offer(ip: string, peak: number): void {
    const known = this.top.find((m) => m.ip === ip);
    if (known) known.peak = Math.max(known.peak, peak);
    else if (this.top.length < this.size || peak > this.top[this.top.length - 1].peak) this.top.push({ ip, peak });
    this.top.sort((a, b) => b.peak - a.peak);
    if (this.top.length > this.size) this.top.pop();
  }

  public remove(ip: string): void {
    const i = this.top.findIndex((m) => m.ip === ip);
    if (i >= 0) this.top.splice(i, 1);
  }

  public list(): Array<{ ip: string; peak: number }> {
    return this.top.map((m) => ({ ...m }));
  }
}

export async function replay(lines: AsyncIterable<InputLine> | Iterable<InputLine>, options: ReplayOptions): Promise<ReplayReport> {
  const batchWindowMs = options.batchWindowMs ?? 1000;
  const batchSize = options.batchSize ?? 1000;
  const maxSamples = options.malformedSamples ?? 5;
  const nearMissCount = options.nearMisses ?? 3;
  const allowList = options.allowList ?? new CidrSet([]);
  const trustedProxies = options.trustedProxies ?? new CidrSet([]);
  const counter = new TrafficCounter({
    fields: options.fields,
    rules: options.rules,
    allowList,
    trustedProxies,
    ipv6PrefixLength: options.ipv6PrefixLength,
  });
  const rules = counter.matcher.rules;
  const blocksAt = rules.map((r) => loggedThreshold(r.threshold, options.samplingRate, r.windowSeconds));
  const pairs = rules.map(() => new Map<string, PairState>());
  const sweepAt = rules.map(() => SWEEP_FLOOR);
  const blocks = rules.map((): ReplayBlock[] => []);
  // Per rule, the highest peak of each client ever blocked: the blocks are reported, so this is as big as the report.
  const blockedPeaks = rules.map(() => new Map<string, number>());
  const nearMisses = rules.map(() => new NearMisses(nearMissCount));
  const clients = rules.map(() => new DistinctCount());
  const matchedPerRule = rules.map(() => 0);
  const totals = { lines: 0, matched: 0, skipped: 0, malformed: 0 };
  let peakTrackedClients = 0;
  const byReason = new Map<string, number>();
  const countMalformed = (code: string, n: number) => byReason.set(code, (byReason.get(code) ?? 0) + n);
  const firstMalformed: ReplayReport['firstMalformed'] = [];
  let firstTs: number | undefined;
  let lastTs: number | undefined;
  let batchStart = -1;
  let batchEnd = -1;
  let inBatch = 0;

  /** A pair leaves memory; what the report needs of it stays. */
  const retire = (ruleIndex: number, ip: string, pair: PairState) => {
    if (!blockedPeaks[ruleIndex].has(ip)) nearMisses[ruleIndex].offer(ip, pair.peak);
  };

  /**
   * Lets go of the pairs that can no longer count or block: nothing within the window (and a window more, for lines
   * a little out of order) before the newest log time, and no block running. A client that comes back starts afresh,
   * as it would with an empty window.
   */
  const sweep = (ruleIndex: number) => {
    const now = lastTs ?? -Infinity;
    const idleBefore = now - 2 * rules[ruleIndex].windowSeconds * 1000;
    const held = pairs[ruleIndex];
    for (const [ip, pair] of held) {
      if (pair.lastTimestampMs < idleBefore && pair.blockedUntil <= now) {
        retire(ruleIndex, ip, pair);
        held.delete(ip);
      }
    }
    sweepAt[ruleIndex] = Math.max(SWEEP_FLOOR, 2 * held.size);
  };

  const flush = () => {
    const stats = counter.stats;
    totals.lines += stats.lines;
    totals.matched += stats.matched;
    totals.skipped += stats.unmatched + stats.allowListed + stats.unattributed;
    totals.malformed += stats.malformed;
    for (const [reason, n] of stats.malformedByReason) countMalformed(malformedCode(reason as Exclude<Malformed, Malformed.NONE>), n);
    // The Lambda decides when the batch is processed; offline, that is the newest log time in the batch.
    const now = batchEnd;
    for (const entry of counter.entries()) {
      const rule = rules[entry.ruleIndex];
      let pair = pairs[entry.ruleIndex].get(entry.ip.text);
      if (!pair) {
        pair = { buckets: new Map(), peak: 0, blockedUntil: -Infinity, route: 0, lastTimestampMs: entry.lastTimestampMs };
        pairs[entry.ruleIndex].set(entry.ip.text, pair);
        clients[entry.ruleIndex].add(entry.ip.text);
      }
      pair.lastTimestampMs = Math.max(pair.lastTimestampMs, entry.lastTimestampMs);
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
      const ip = entry.ip.text;
      // One decision for blocking and for adding a route, the guard's: below 100% sampling, k* logged requests.
      const over = overThreshold(busiest.total, rule, options.samplingRate);
      if (over && pair.blockedUntil <= now) {
        pair.blockedUntil = now + rule.blockSeconds * 1000;
        pair.route = entry.route;
        const notApplied = rule.action === 'BLOCK' ? heldBackBy(ip, allowList, trustedProxies) : undefined;
        const route = routeName(pair.route);
        pair.block = { ip, blockedAt: now, blockedUntil: pair.blockedUntil, observed, peak: observed, route, ...(notApplied ? { notApplied } : {}) };
        list.push(pair.block);
        nearMisses[entry.ruleIndex].remove(ip);
      } else if (over && pair.block && pair.blockedUntil > now && pair.route !== ROUTE_BOTH) {
        // Over the threshold on another route while blocked: the guard's block gains that route too (BlockStore.addRoute).
        pair.route = pair.route === entry.route ? pair.route : ROUTE_BOTH;
        pair.block.route = routeName(pair.route);
      }
      const blockedPeak = blockedPeaks[entry.ruleIndex].get(ip);
      if (pair.blockedUntil > -Infinity && (blockedPeak === undefined || pair.peak > blockedPeak)) blockedPeaks[entry.ruleIndex].set(ip, pair.peak);
    }
    counter.reset();
    let tracked = 0;
    for (const p of pairs) tracked += p.size;
    peakTrackedClients = Math.max(peakTrackedClients, tracked);
    pairs.forEach((p, i) => {
      if (p.size >= sweepAt[i]) sweep(i);
    });
    inBatch = 0;
    batchStart = -1;
  };

  let firstBadTimestamp: string | undefined;
  for await (const line of lines) {
    if (line.overlongBytes !== undefined) {
      // Counted here, not by the counter, which never sees the text.
      totals.lines++;
      totals.malformed++;
      countMalformed(LINE_TOO_LONG, 1);
      if (firstMalformed.length < maxSamples) firstMalformed.push({ source: line.source, lineNumber: line.lineNumber, reason: LINE_TOO_LONG });
      inBatch++;
      continue;
    }
    const result = counter.add(line.text, inBatch);
    if (result === Malformed.TIMESTAMP && firstBadTimestamp === undefined) {
      firstBadTimestamp = line.text.split('\t')[options.fields.indexOf('timestamp')];
    }
    if (result !== Malformed.NONE) {
      if (firstMalformed.length < maxSamples) {
        firstMalformed.push({ source: line.source, lineNumber: line.lineNumber, reason: malformedCode(result) });
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

  const ruleReports = rules.map((rule, i): RuleReport => {
    for (const [ip, pair] of pairs[i]) retire(i, ip, pair);
    const ruleBlocks = blocks[i].map((b) => ({ ...b, peak: blockedPeaks[i].get(b.ip)! }));
    return {
      rule,
      loggedThreshold: blocksAt[i],
      matched: matchedPerRule[i],
      clients: clients[i].value,
      clientsExact: clients[i].isExact,
      blocks: ruleBlocks,
      nearMisses: nearMisses[i].list(),
    };
  });
  return {
    ...totals,
    malformedByReason: Object.fromEntries(byReason),
    firstMalformed,
    ...(firstBadTimestamp === undefined ? {} : { firstBadTimestamp }),
    peakTrackedClients,
    firstTimestampMs: firstTs,
    lastTimestampMs: lastTs,
    samplingRate: options.samplingRate,
    fields: options.fields,
    rules: ruleReports,
  };
}
