import { NaiveCounter } from './naive-counter';
import { DEMO_ATTACKERS, DEMO_FIELDS, TrafficGenerator } from '../examples/local-demo/traffic';
import { StoredRule } from '../src/realtime-waf-guard/rule-model';
import { TrafficCounter } from '../src/realtime-waf-guard/runtime/detector';
import { CidrSet } from '../src/realtime-waf-guard/runtime/ip';
import { LogLineParser } from '../src/realtime-waf-guard/runtime/log-parser';
import { recordData } from '../test/support/log-lines';

export interface ThroughputResult {
  readonly lines: number;
  readonly bytesPerLine: number;
  readonly productionLinesPerSecond: number;
  readonly naiveLinesPerSecond: number;
  readonly ratio: number;
  /** Where the production path's time goes: base64 decoding alone, and decoding plus parsing without counting. */
  readonly decodeLinesPerSecond: number;
  readonly decodeParseLinesPerSecond: number;
  readonly iterations: number;
  /** Both counters agreed on matched lines and on every (rule, client) total. */
  readonly sameCounts: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Lines per second on one core for the production parse + count (TrafficCounter.addBase64, as the LogProcessor runs
 * it: a reset per batch of `batchSize`) and for the naive baseline, alternating runs after a warm-up; the median.
 */
export interface ThroughputOptions {
  readonly lines?: number;
  readonly iterations?: number;
  readonly batchSize?: number;
}

export function measureThroughput(rules: readonly StoredRule[], options: ThroughputOptions = {}): ThroughputResult {
  const lines = options.lines ?? 200_000;
  const iterations = options.iterations ?? 9;
  const batchSize = options.batchSize ?? 1000;
  // The demo's mix: many distinct Zipf-distributed clients, several hosts, attackers, malformed lines.
  const rate = 5000;
  const generator = new TrafficGenerator({
    seed: 1,
    rate,
    samplingRate: 100,
    startMs: 1_767_225_600_000,
    durationMs: Math.ceil(lines / rate) * 1000 + 10_000,
    rules,
    attackers: DEMO_ATTACKERS,
  });
  const data: string[] = [];
  let bytes = 0;
  while (data.length < lines) {
    for (const r of generator.until(generator.endMs)) {
      if (data.length < lines) {
        data.push(recordData(r.line));
        bytes += r.line.length + 1;
      }
    }
  }

  const production = new TrafficCounter({ fields: DEMO_FIELDS, rules, allowList: new CidrSet([]), trustedProxies: new CidrSet([]) });
  const naive = new NaiveCounter(DEMO_FIELDS, rules);
  let sink = 0;
  const runProduction = () => {
    const t = process.hrtime.bigint();
    for (let start = 0; start < data.length; start += batchSize) {
      production.reset();
      const end = Math.min(start + batchSize, data.length);
      for (let i = start; i < end; i++) production.addBase64(data[i], i - start);
      sink += production.entries().length;
    }
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const runNaive = () => {
    const t = process.hrtime.bigint();
    for (let start = 0; start < data.length; start += batchSize) {
      naive.reset();
      const end = Math.min(start + batchSize, data.length);
      for (let i = start; i < end; i++) naive.addBase64(data[i]);
      sink += naive.counts.size;
    }
    return Number(process.hrtime.bigint() - t) / 1e9;
  };

  const parser = new LogLineParser(DEMO_FIELDS);
  const timed = (f: (d: string) => number) => () => {
    const t = process.hrtime.bigint();
    for (const d of data) sink += f(d);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const runDecode = timed((d) => atob(d).length);
  const runDecodeParse = timed((d) => parser.parse(atob(d)));

  for (let i = 0; i < 2; i++) {
    runProduction();
    runNaive();
    runDecode();
    runDecodeParse();
  }
  const decodeTimes: number[] = [];
  const decodeParseTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    decodeTimes.push(runDecode());
    decodeParseTimes.push(runDecodeParse());
  }
  const prodTimes: number[] = [];
  const naiveTimes: number[] = [];
  for (let i = 0; i < iterations; i++) {
    prodTimes.push(runProduction());
    naiveTimes.push(runNaive());
  }
  if (sink < 0) throw new Error('unreachable');
  const productionLinesPerSecond = lines / median(prodTimes);
  const naiveLinesPerSecond = lines / median(naiveTimes);
  return {
    lines,
    bytesPerLine: Math.round(bytes / lines),
    productionLinesPerSecond,
    naiveLinesPerSecond,
    ratio: productionLinesPerSecond / naiveLinesPerSecond,
    decodeLinesPerSecond: lines / median(decodeTimes),
    decodeParseLinesPerSecond: lines / median(decodeParseTimes),
    iterations,
    sameCounts: sameCounts(data, rules),
  };
}

/** The baseline is only a fair comparison if it computes the same thing: one pass of each over all lines. */
function sameCounts(data: readonly string[], rules: readonly StoredRule[]): boolean {
  const production = new TrafficCounter({ fields: DEMO_FIELDS, rules, allowList: new CidrSet([]), trustedProxies: new CidrSet([]) });
  const naive = new NaiveCounter(DEMO_FIELDS, rules);
  data.forEach((d, i) => {
    production.addBase64(d, i);
    naive.addBase64(d);
  });
  if (production.stats.matched !== naive.matched || production.stats.malformed !== naive.malformed) return false;
  const prodTotals = new Map(production.entries().map((e) => [
    `${production.matcher.rules[e.ruleIndex].ruleId}|${e.ip.text}`, [...e.buckets.values()].reduce((a, b) => a + b, 0),
  ]));
  if (prodTotals.size !== naive.counts.size) return false;
  for (const [key, buckets] of naive.counts) {
    if (prodTotals.get(key) !== [...buckets.values()].reduce((a, b) => a + b, 0)) return false;
  }
  return true;
}
