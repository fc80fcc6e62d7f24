/**
 * `npm run bench`: figures, not assertions. Prints parse + count throughput against a naive baseline, detection
 * latency in the local pipeline, DynamoDB units and cost, handler bundle sizes, load times and memory; with
 * `--record`, adds the run to docs/benchmarks.md.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { cpus, totalmem } from 'os';
import { join } from 'path';
import { CountingMix, CountingResult, lightMix, measureCounting, monthlyMix, SECONDS_PER_MONTH, zipfMix } from './counting-cost';
import { bundleSize, ProbeResult, runProbe } from './handler-probe';
import { measureThroughput, ThroughputResult } from './throughput';
import { DemoClock } from '../examples/local-demo/demo-clock';
import { LocalPipeline } from '../examples/local-demo/pipeline';
import { DemoOutcome, runDemo } from '../examples/local-demo/run-demo';
import { DEMO_ATTACKERS, DEMO_FIELDS, DEMO_RULES_JSON, TrafficGenerator } from '../examples/local-demo/traffic';
import { parseRulesJson } from '../src/cli/rules-file';
import { ENV } from '../src/realtime-waf-guard/handler-env';
import { recordData } from '../test/support/log-lines';

const ROOT = join(__dirname, '..');
const ASSETS = join(ROOT, 'assets');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const PRICE = { perMillionWrites: 0.625, perMillionReads: 0.125 };
const rules = parseRulesJson(JSON.stringify(DEMO_RULES_JSON), 'the demo rules');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const say = (text: string) => process.stdout.write(`${text}\n`);

interface Row { readonly metric: string; readonly value: string; readonly goal: string }

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} vCPU (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, Node.js ${process.version}, ${process.platform}/${process.arch}`;
}

function throughputRows(t: ThroughputResult): Row[] {
  return [
    { metric: `parse + count, production (TrafficCounter.addBase64), ${t.bytesPerLine}-byte 40-field lines`, value: `${fmt(t.productionLinesPerSecond)} lines/s per core`, goal: '>= 1,000,000' },
    { metric: 'parse + count, naive baseline (decode, split, object per line)', value: `${fmt(t.naiveLinesPerSecond)} lines/s per core`, goal: '' },
    { metric: 'of which: base64 decode alone (atob) / decode + LogLineParser.parse without counting', value: `${fmt(t.decodeLinesPerSecond)} / ${fmt(t.decodeParseLinesPerSecond)} lines/s`, goal: '' },
    { metric: 'production / naive', value: `${fmt(t.ratio, 2)}x${t.sameCounts ? '' : ' (COUNTS DIFFER: comparison invalid)'}`, goal: '>= 4x' },
  ];
}

function latencyRows(o: DemoOutcome): Row[] {
  const decision = o.attackers.map((a) => a.decisionLatencyMs).filter((x): x is number => x !== undefined);
  const update = o.attackers.map((a) => a.ipSetLatencyMs).filter((x): x is number => x !== undefined);
  const s = (xs: number[]) => (xs.length ? `median ${fmt(median(xs) / 1000, 2)} s, max ${fmt(Math.max(...xs) / 1000, 2)} s` : 'n/a');
  const mix = `${o.options.durationSeconds} s at ${o.options.rate} req/s + attackers, sampling ${o.options.samplingRate}%, ${o.attackers.length} attackers`;
  return [
    { metric: `detection: crossing record on stream -> block decision (${mix})`, value: s(decision), goal: '<= 2 s' },
    { metric: 'detection: crossing record on stream -> WAF IP set updated', value: s(update), goal: '<= 5 s' },
    { metric: 'accuracy: attackers blocked / false blocks / missed', value: `${o.attackers.filter((a) => a.blockedAtMs !== undefined).length} of ${o.attackers.length} / ${o.falseBlocks.length} / ${o.missed.length}${o.ok ? '' : ' (RUN FAILED)'}`, goal: 'all / 0 / 0' },
  ];
}

function unitRows(o: DemoOutcome): Row[] {
  const u = o.units.processor;
  const perThousand = { w: (u.writeUnits / o.recordsPut) * 1000, r: (u.readUnits / o.recordsPut) * 1000 };
  // Per million viewer requests, sampling s% gives s * 10,000 records.
  const records = o.options.samplingRate * 10_000;
  const cost = (records / 1000) * ((perThousand.w * PRICE.perMillionWrites) + (perThousand.r * PRICE.perMillionReads)) / 1e6;
  return [
    { metric: `DynamoDB units per 1,000 sampled records (LogProcessor, sampling ${o.options.samplingRate}%, ${fmt(o.recordsPut)} records)`, value: `${fmt(perThousand.w, 1)} WRU, ${fmt(perThousand.r, 2)} RRU`, goal: '' },
    { metric: `DynamoDB on-demand cost per million requests at ${o.options.samplingRate}% sampling`, value: `$${fmt(cost, 4)}`, goal: '' },
  ];
}

const COUNTING_GOAL_WRU = 0.06;

function countingRows(r: CountingResult): Row[] {
  const { scenario: s } = r;
  const mode = s.localFirstSlackPercent === undefined ? 'EXACT' : `LOCAL_FIRST (${s.localFirstSlackPercent}% slack)`;
  const w = r.writeUnits / r.loggedRequests;
  const rd = r.readUnits / r.loggedRequests;
  // Units per logged request times the price per million units: dollars per million logged requests.
  const cost = (w * PRICE.perMillionWrites) + (rd * PRICE.perMillionReads);
  const { falseBlocks, missed } = r.judgement;
  const kinds = [...r.writeUnitsByKind].sort((a, b) => b[1] - a[1]).map(([kind, units]) => `${kind} ${fmt(units / r.loggedRequests, 3)}`).join(', ');
  return [
    {
      metric: `counting, ${s.mix}, ${mode}: DynamoDB units per logged request (${fmt(r.loggedRequests)} logged requests, ${fmt(r.batches)} batches)`,
      value: `${fmt(w, 3)} WRU (${kinds}), ${fmt(rd, 5)} RRU; $${fmt(cost, 4)} per million logged requests`
        + `${s.samplingRate < 100 ? `, $${fmt((cost * s.samplingRate) / 100, 4)} per million requests` : ''} (run took ${fmt(r.wallSeconds, 1)} s)`,
      goal: s.localFirstSlackPercent === undefined ? '' : `<= ${COUNTING_GOAL_WRU} WRU per logged request`,
    },
    {
      metric: `counting, ${s.mix}, ${mode}: attackers blocked / clients below threshold blocked / missed`,
      value: `${r.attackersBlocked} of ${s.attackers.length} / ${falseBlocks.length} / ${missed.length}; `
        + `decided ${fmt(Math.min(...r.decisionDelaysMs) / 1000, 1)} to ${fmt(Math.max(...r.decisionDelaysMs) / 1000, 1)} s after the crossing request (simulated)`,
      goal: 'all / 0 / 0',
    },
  ];
}

/** What went wrong in a counting run, client by client. */
function countingProblems(r: CountingResult): string[] {
  const { scenario: s } = r;
  const mode = s.localFirstSlackPercent === undefined ? 'EXACT' : `LOCAL_FIRST ${s.localFirstSlackPercent}%`;
  return [
    ...(r.attackersBlocked < s.attackers.length ? [`${mode}, ${s.mix}: ${s.attackers.length - r.attackersBlocked} attacker(s) not blocked`] : []),
    ...r.judgement.falseBlocks.map((f) => `${mode}, ${s.mix}: ${f.ip} blocked by rule ${f.ruleId} with at most ${f.maxInWindow} real requests in a window (threshold ${f.threshold})`),
    ...r.judgement.missed.map((m) => `${mode}, ${s.mix}: ${m.ip} sent ${m.maxInWindow} requests in a window (threshold ${m.threshold} of rule ${m.ruleId}) and was not blocked`),
  ];
}

async function bundleRows(): Promise<Row[]> {
  const rows: Row[] = [];
  const env: Record<string, Record<string, string>> = {
    'realtime-waf-guard/log-processor.lambda': {
      [ENV.RULES_TABLE]: 'rules',
      [ENV.COUNTERS_TABLE]: 'counters',
      [ENV.BLOCKS_TABLE]: 'blocks',
      [ENV.HISTORY_TABLE]: 'history',
      [ENV.FIELDS]: DEMO_FIELDS.join(','),
      [ENV.SAMPLING_RATE]: '100',
      [ENV.COUNTING]: 'LOCAL_FIRST:10',
    },
    'realtime-waf-guard/console-widget.lambda': { [ENV.BLOCKS_TABLE]: 'blocks', [ENV.HISTORY_TABLE]: 'history' },
    'realtime-waf-guard/query-detector.lambda': {
      [ENV.TIMESTREAM_DATABASE]: 'guard-db',
      [ENV.TIMESTREAM_TABLE]: 'requests',
      [ENV.SAMPLING_RATE]: '100',
      [ENV.RULES_TABLE]: 'rules',
      [ENV.COUNTERS_TABLE]: 'counters',
      [ENV.BLOCKS_TABLE]: 'blocks',
      [ENV.HISTORY_TABLE]: 'history',
    },
    'realtime-waf-guard/ip-set-sync.lambda': {
      [ENV.BLOCKS_TABLE]: 'blocks', [ENV.HISTORY_TABLE]: 'history', [ENV.IPV4_SET_NAME]: 'v4', [ENV.IPV4_SET_ID]: 'v4-id', [ENV.IPV6_SET_NAME]: 'v6', [ENV.IPV6_SET_ID]: 'v6-id',
    },
  };
  for (const feature of readdirSync(ASSETS)) {
    for (const handler of readdirSync(join(ASSETS, feature))) {
      const name = `${feature}/${handler}`;
      const bundle = join(ASSETS, feature, handler, 'index.js');
      if (!existsSync(bundle)) continue;
      const size = bundleSize(bundle);
      const base = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', [ENV.SERVICE_NAME]: 'bench', [ENV.METRICS_NAMESPACE]: 'Bench' };
      const probes: ProbeResult[] = [];
      for (let i = 0; i < 5; i++) probes.push(await runProbe(bundle, { ...base, ...(env[name] ?? {}) }));
      const failed = probes.find((p) => p.error);
      rows.push({
        metric: `bundle ${name}`,
        value: `${fmt(size / 1024, 1)} KB; module load ${failed ? `n/a (${failed.error})` : `${fmt(median(probes.map((p) => p.loadMs)), 1)} ms (median of 5 fresh processes)`}`,
        goal: '< 500 KB',
      });
    }
  }
  return rows;
}

/** The LogProcessor bundle handling one 10,000-record batch of the demo's mix, on dynalite, in a fresh process. */
async function memoryRows(): Promise<Row[]> {
  const pipeline = await LocalPipeline.start({ rules, fields: DEMO_FIELDS, samplingRate: 100, clock: new DemoClock() });
  try {
    const now = Date.now();
    const generator = new TrafficGenerator({
      seed: 3, rate: 5000, samplingRate: 100, startMs: now - 2500, durationMs: 2500, rules, attackers: DEMO_ATTACKERS,
    });
    const records = generator.until(now).slice(0, 10_000);
    const event = {
      Records: records.map((r, i) => ({
        eventID: `shardId-000000000000:${49_000_000_000 + i}`,
        eventSource: 'aws:kinesis',
        kinesis: { kinesisSchemaVersion: '1.0', partitionKey: String(i), sequenceNumber: String(49_000_000_000 + i), data: recordData(r.line), approximateArrivalTimestamp: now / 1000 },
      })),
    };
    const bundle = join(ASSETS, 'realtime-waf-guard', 'log-processor.lambda', 'index.js');
    const result = await runProbe(bundle, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${pipeline.dynamoPort}`,
      [ENV.RULES_TABLE]: pipeline.tables.rules,
      [ENV.COUNTERS_TABLE]: pipeline.tables.counters,
      [ENV.BLOCKS_TABLE]: pipeline.tables.blocks,
      [ENV.HISTORY_TABLE]: pipeline.tables.history,
      [ENV.FIELDS]: DEMO_FIELDS.join(','),
      [ENV.SAMPLING_RATE]: '100',
      [ENV.COUNTING]: 'LOCAL_FIRST:10',
      [ENV.SERVICE_NAME]: 'bench',
      [ENV.METRICS_NAMESPACE]: 'Bench',
    }, event);
    if (result.error || result.failures) return [{ metric: 'LogProcessor memory, 10,000-record batch', value: `n/a (${result.error ?? `${result.failures} failed records`})`, goal: '' }];
    return [{
      metric: `LogProcessor memory, one ${fmt(event.Records.length)}-record batch (fresh process, bundle, dynalite)`,
      value: `peak RSS ${fmt(result.peakRssMb!, 1)} MB (after init ${fmt(result.rssLoadedMb, 1)} MB, with the event ${fmt(result.rssBeforeHandlerMb!, 1)} MB), peak heap ${fmt(result.peakHeapMb!, 1)} MB; handled in ${fmt(result.handlerMs!)} ms`,
      goal: '',
    }];
  } finally {
    await pipeline.stop();
  }
}

function printTable(title: string, rows: Row[]): Row[] {
  say(`\n${title}`);
  for (const r of rows) say(`  ${r.metric}\n      ${r.value}${r.goal ? `   [goal ${r.goal}]` : ''}`);
  return rows;
}

function record(rows: Row[], notes: string[]): void {
  const date = new Date().toISOString().slice(0, 10);
  const section = [
    `## ${date}`,
    '',
    `Machine: ${machine()}.`,
    '',
    '| Metric | Measured | Goal |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.metric} | ${r.value} | ${r.goal || '-'} |`),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  const header = [
    '# Benchmarks',
    '',
    'Figures printed by `npm run bench` (which runs `npx projen bundle` first) and recorded here, newest first, one table per',
    'run date. They are measurements on the machine named, not assertions: CI never fails on them.',
    '',
  ].join('\n');
  let existing = existsSync(DOC) ? readFileSync(DOC, 'utf8') : header;
  if (!existing.startsWith('# Benchmarks')) existing = header + existing;
  // A second run on the same day replaces that day's table.
  const sections = existing.slice(header.length).split(/^(?=## \d{4}-\d{2}-\d{2})/m).filter((s) => s.trim() && !s.startsWith(`## ${date}\n`));
  writeFileSync(DOC, [header, section, ...sections].join('\n').replace(/\n{3,}/g, '\n\n'));
  say(`\nRecorded in ${DOC}`);
}

/** `--only throughput,pipeline,bundles,memory,counting` runs a subset (and records nothing). */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',')) : undefined;
  const run = (section: string) => !only || only.has(section);
  say(`cdk-waf-guard benchmarks on ${machine()}`);
  const rows: Row[] = [];
  const notes: string[] = [];
  const problems: string[] = [];

  if (run('throughput')) {
    say('\n[1/5] parse + count throughput (200,000 lines, 2 warm-up and 9 measured runs each, median) ...');
    const throughput = measureThroughput(rules);
    rows.push(...printTable('Parse + count', throughputRows(throughput)));
    notes.push(`Throughput: ${fmt(throughput.lines)} records of the demo's mix (5,000 Zipf clients over 3 hosts, 4 attackers, 0.2% malformed), `
      + 'base64 as Kinesis delivers them, counted in batches of 1,000 as the LogProcessor does; one core; both bundled by esbuild as '
      + 'the handlers are and each run in its own fresh Node.js process (median of 9 after 2 warm-ups); the baseline reaches the same '
      + `counts (${throughput.sameCounts ? 'checked' : 'CHECK FAILED'}).`);
  }
  if (run('pipeline')) {
    // 10%: the demo's login rule (100 requests per window) then stands for 10 logged requests per window. The verdict
    // expects only the blocks the sampling bound promises within the run: the login rule's attacker at 2x is not due.
    say('\n[2/5] local pipeline at 100% and at 10% sampling (about 30 s each) ...');
    const full = await runDemo({ durationSeconds: 20 });
    const sampled = await runDemo({ durationSeconds: 20, samplingRate: 10 });
    rows.push(...printTable('Detection', latencyRows(full)));
    rows.push(...printTable('DynamoDB', [...unitRows(full), ...unitRows(sampled)]));
    problems.push(...full.problems, ...sampled.problems);
    notes.push(
      'Detection: kinesalite, dynalite, the traffic generator and both handlers share one Node.js process and event loop here; dynalite '
      + 'takes about 2.5 ms per UpdateItem. The time includes the 1 s batching window of the Kinesis event source and the 1 s window of '
      + 'the blocks-table stream that triggers the sync.',
      'DynamoDB: units reported by dynalite (ReturnConsumedCapacity, DynamoDB\'s size rules; conditional-check failures counted as 1 WRU); '
      + `on-demand prices of $${PRICE.perMillionWrites} per million WRU and $${PRICE.perMillionReads} per million RRU. The pipeline counts `
      + 'with the default Counting.LOCAL_FIRST: counters are written only for clients near a threshold, plus a claim per batch and shard; '
      + 'under Counting.EXACT they are written once per (rule, client) and batch (the counting rows compare the two).',
    );
  }
  if (run('bundles')) {
    say('\n[3/5] handler bundles ...');
    rows.push(...printTable('Bundles', await bundleRows()));
    notes.push('Bundles: module load is the `require` of the bundle in a fresh `node` process with the construct\'s environment, including the '
      + 'AWS SDK v3 modules the bundles leave external (the Lambda runtime provides them); Lambda adds its own runtime start.');
  }
  if (run('memory')) {
    say('\n[4/5] LogProcessor memory ...');
    rows.push(...printTable('Memory', await memoryRows()));
    notes.push('Memory: the bundled LogProcessor handler in a fresh process, counters on dynalite; RSS includes the parsed event '
      + '(10,000 base64 records of about 850 bytes) as the Lambda runtime would hold it. Peak RSS is getrusage\'s high-water mark.');
  }
  if (run('counting')) {
    say('\n[5/5] counting cost: the LogProcessor on dynalite in simulated time, EXACT and LOCAL_FIRST (several minutes) ...');
    const mixes: Array<() => CountingMix> = [
      () => zipfMix({ rules, attackers: DEMO_ATTACKERS, samplingRate: 100, seconds: 60 }),
      () => zipfMix({ rules, attackers: DEMO_ATTACKERS, samplingRate: 10, seconds: 60 }),
      () => lightMix({ rules, attackers: DEMO_ATTACKERS, samplingRate: 100 }),
    ];
    for (const mix of mixes) {
      for (const slack of [undefined, 10]) {
        // A fresh generator per run: it is consumed as it goes.
        const result = await measureCounting({ ...mix(), localFirstSlackPercent: slack });
        rows.push(...printTable('Counting cost', countingRows(result)));
        problems.push(...countingProblems(result));
      }
    }
    // The README's monthly cost table: steady traffic at three volumes, on 1 shard (a provisioned stream; 1 B requests a
    // month is under 400 a second) and on 4 (an on-demand stream starts with 4), one environment per shard.
    for (const shards of [1, 4]) {
      for (const samplingRate of [100, 10]) {
        const cells: string[] = [];
        for (const requestsPerMonth of [10e6, 100e6, 1e9]) {
          const costs = [];
          for (const slack of [undefined, 10]) {
            const result = await measureCounting({
              ...monthlyMix({ rules, samplingRate, requestsPerMonth, seconds: 120 }), localFirstSlackPercent: slack, shards, environments: shards,
            });
            const perSecond = { w: result.writeUnits / 120, r: result.readUnits / 120 };
            costs.push(((perSecond.w * PRICE.perMillionWrites) + (perSecond.r * PRICE.perMillionReads)) * SECONDS_PER_MONTH / 1e6);
            problems.push(...countingProblems(result));
          }
          cells.push(`${fmt(requestsPerMonth / 1e6)} M: EXACT $${fmt(costs[0], 2)}, LOCAL_FIRST $${fmt(costs[1], 2)}`);
        }
        rows.push(...printTable('Counting cost per month', [{
          metric: `DynamoDB on-demand cost per month of the log processor, ${shards} shard(s), sampling ${samplingRate}%`,
          value: cells.join('; '),
          goal: '',
        }]));
      }
    }
    notes.push('Counting cost: the real LogProcessor (two execution environments, each with its own CounterStore) on dynalite, in simulated '
      + 'time: each simulated second, the mix\'s records go to one of 2 shards at random and each shard\'s second becomes batches of up to '
      + '1,000 records (the construct\'s batching window is 1 s), handled at the end of that second by a random idle environment, the '
      + 'shards concurrently; no cold starts. Units are those of every LogProcessor call (claims, shard progress, counters, blocks, '
      + 'history) as dynalite reports them, per logged request (malformed lines left out); cost at the on-demand prices above. Blocks are '
      + 'judged against the generator\'s ground truth: a block is false if the client never had `threshold` real requests within any '
      + 'window. The Zipf mix sends about a third of its requests to a host and path some rule counts; the light mix uses the same '
      + 'hosts and paths; both include the near-miss client (just under the login threshold). Decision times are simulated: from the '
      + 'request that took an attacker over its threshold to the end of the second whose batch blocked it; under sampling the scaled '
      + 'count may cross a little before the real requests do (a negative time).');
  }
  if (args.includes('--record') && !only) record(rows, notes);
  if (problems.length > 0) {
    say('\nA pipeline run did not have the expected outcome:');
    for (const p of problems) say(`  ${p}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exitCode = 2;
});
