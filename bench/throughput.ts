import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { buildSync } from 'esbuild';
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
 * it: a reset per batch of `batchSize`) and for the naive baseline; the median of `iterations` runs after a warm-up.
 * Each variant runs in its own fresh Node.js process on the same generated data, so neither pays for the other's
 * garbage or heap growth, as neither would in a Lambda execution environment.
 */
export interface ThroughputOptions {
  readonly lines?: number;
  readonly iterations?: number;
  readonly batchSize?: number;
}

type Variant = 'production' | 'naive' | 'decode' | 'decodeParse';

export function measureThroughput(rules: readonly StoredRule[], options: ThroughputOptions = {}): ThroughputResult {
  const lines = options.lines ?? 200_000;
  const iterations = options.iterations ?? 9;
  const batchSize = options.batchSize ?? 1000;
  // Measured as deployed: bundled by esbuild with the handler bundles' settings (what Lambda runs), not as ts-node
  // transpiles it; the baseline is bundled the same way.
  const bundleDir = mkdtempSync(join(tmpdir(), 'cdk-waf-guard-bench-'));
  const bundle = join(bundleDir, 'throughput.js');
  buildSync({ entryPoints: [__filename], bundle: true, platform: 'node', target: 'node22', minify: true, outfile: bundle, logLevel: 'error' });
  const run = (variant: Variant): number => {
    const out = execFileSync(process.execPath, [bundle, variant, String(lines), String(iterations), String(batchSize), JSON.stringify(rules)], {
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      encoding: 'utf8',
      maxBuffer: 1024 * 1024,
    });
    return Number(JSON.parse(out.trim().split('\n').pop()!).linesPerSecond);
  };
  const productionLinesPerSecond = run('production');
  const naiveLinesPerSecond = run('naive');
  const { data, bytes } = generate(rules, lines);
  const result: ThroughputResult = {
    lines,
    bytesPerLine: Math.round(bytes / lines),
    productionLinesPerSecond,
    naiveLinesPerSecond,
    ratio: productionLinesPerSecond / naiveLinesPerSecond,
    decodeLinesPerSecond: run('decode'),
    decodeParseLinesPerSecond: run('decodeParse'),
    iterations,
    sameCounts: sameCounts(data, rules),
  };
  rmSync(bundleDir, { recursive: true, force: true });
  return result;
}

/** The demo's mix: many distinct Zipf-distributed clients, several hosts, attackers, malformed lines; base64 records. */
function generate(rules: readonly StoredRule[], lines: number): { data: string[]; bytes: number } {
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
  return { data, bytes };
}

/** One variant in this (fresh) process: prints `{"linesPerSecond": n}`. */
function measureVariant(variant: Variant, rules: readonly StoredRule[], lines: number, iterations: number, batchSize: number): number {
  const { data } = generate(rules, lines);
  let sink = 0;
  const production = new TrafficCounter({ fields: DEMO_FIELDS, rules, allowList: new CidrSet([]), trustedProxies: new CidrSet([]) });
  const naive = new NaiveCounter(DEMO_FIELDS, rules);
  const parser = new LogLineParser(DEMO_FIELDS);
  const passes: Record<Variant, () => void> = {
    production: () => {
      for (let start = 0; start < data.length; start += batchSize) {
        production.reset();
        const end = Math.min(start + batchSize, data.length);
        for (let i = start; i < end; i++) production.addBase64(data[i], i - start);
        sink += production.entries().length;
      }
    },
    naive: () => {
      for (let start = 0; start < data.length; start += batchSize) {
        naive.reset();
        const end = Math.min(start + batchSize, data.length);
        for (let i = start; i < end; i++) naive.addBase64(data[i]);
        sink += naive.counts.size;
      }
    },
    decode: () => {
      for (const d of data) sink += atob(d).length;
    },
    decodeParse: () => {
      for (const d of data) sink += parser.parse(atob(d));
    },
  };
  const pass = passes[variant];
  const timed = () => {
    const t = process.hrtime.bigint();
    pass();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  timed();
  timed();
  const times = Array.from({ length: iterations }, timed);
  if (sink < 0) throw new Error('unreachable');
  return lines / median(times);
}

// The entry point of the bundled worker (see measureThroughput).
if (require.main === module) {
  const [variant, lines, iterations, batchSize, rulesJson] = process.argv.slice(2);
  const linesPerSecond = measureVariant(variant as Variant, JSON.parse(rulesJson), Number(lines), Number(iterations), Number(batchSize));
  process.stdout.write(`${JSON.stringify({ linesPerSecond })}\n`);
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
