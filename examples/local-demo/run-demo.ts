/**
 * The local demo as a function: generated traffic through the real handlers on local servers, judged against the
 * ground truth. The CLI (demo.ts), the demo test and the benchmark all call `runDemo`.
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CapacityMeter } from './capacity-meter';
import { DemoClock } from './demo-clock';
import { demoClient, Judgement, judge } from './outcome';
import { LocalPipeline } from './pipeline';
import { DEMO_ATTACKERS, DEMO_FIELDS, DEMO_RULES_JSON, judgeTruth, NEAR_MISS, TrafficGenerator, TruthRow } from './traffic';
import { parseRulesJson } from '../../src/cli/rules-file';
import { OperatorActions } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { HISTORY_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { dryRunReport } from '../../src/reporting/report-cli';

export interface DemoOptions {
  /** Seconds of traffic (real time). */
  readonly durationSeconds?: number;
  /** Background requests per second before sampling; attackers come on top. */
  readonly rate?: number;
  readonly samplingRate?: number;
  readonly seed?: number;
  readonly shards?: number;
  /** How much faster the clock runs once traffic has stopped, to reach the end of the blocks. */
  readonly fastForward?: number;
  /** Expiry sweep interval in clock seconds (the deployed schedule runs every minute). */
  readonly sweepSeconds?: number;
  /** A progress line, a few times a second. */
  readonly progress?: (line: string) => void;
  /** Alert emails, as they would read. */
  readonly onEmail?: (text: string) => void;
  /** Where the day's guard report is rendered (WafReporting's code, dry run); a new temporary directory by default. */
  readonly reportDir?: string;
}

export interface UnitsReport {
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly calls: Record<string, number>;
}

export interface DemoOutcome extends Judgement {
  readonly ok: boolean;
  readonly options: Required<Omit<DemoOptions, 'progress' | 'onEmail' | 'reportDir'>>;
  /** The attacker an operator unblocked by hand while the others served their blocks. */
  readonly manualUnblock?: ManualUnblock;
  /** The day's guard report rendered to files. */
  readonly report: { readonly dir: string; readonly files: string[]; readonly problems: Array<{ source: string; message: string }> };
  readonly startMs: number;
  /** Real requests generated (before sampling). */
  readonly requests: number;
  readonly recordsPut: number;
  readonly linesProcessed: number;
  readonly malformed: number;
  readonly batches: number;
  readonly distinctClients: number;
  readonly nearMiss?: { ip: string; ruleId: string; maxInWindow: number; threshold: number; blocked: boolean };
  readonly emails: number;
  readonly ipSetUpdates: number;
  readonly lockConflicts: number;
  readonly units: { processor: UnitsReport; sync: UnitsReport };
  readonly realSeconds: number;
  readonly clockSecondsAtEnd: number;
}

const TICK_MS = 100;

function units(meter: CapacityMeter): UnitsReport {
  return { writeUnits: meter.writeUnits, readUnits: meter.readUnits, calls: Object.fromEntries(meter.calls) };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoOutcome> {
  const opts = {
    durationSeconds: options.durationSeconds ?? 20,
    rate: options.rate ?? 500,
    samplingRate: options.samplingRate ?? 100,
    seed: options.seed ?? 42,
    shards: options.shards ?? 2,
    fastForward: options.fastForward ?? 20,
    sweepSeconds: options.sweepSeconds ?? 10,
  };
  if (!(opts.durationSeconds >= 10)) throw new Error('duration must be at least 10 seconds: the attackers need time to cross their thresholds');
  if (!Number.isInteger(opts.samplingRate) || opts.samplingRate < 1 || opts.samplingRate > 100) throw new Error('sampling must be a whole percentage from 1 to 100');
  if (!(opts.rate > 0)) throw new Error('rate must be a positive number of requests per second');
  const rules = parseRulesJson(JSON.stringify(DEMO_RULES_JSON), 'the demo rules');
  const realStart = Date.now();
  const clock = new DemoClock();
  let emails = 0;
  const pipeline = await LocalPipeline.start({
    rules,
    fields: DEMO_FIELDS,
    samplingRate: opts.samplingRate,
    clock,
    shards: opts.shards,
    onEmail: (text) => {
      emails++;
      options.onEmail?.(text);
    },
  });
  try {
    const startMs = clock.now();
    const generator = new TrafficGenerator({
      seed: opts.seed,
      rate: opts.rate,
      samplingRate: opts.samplingRate,
      startMs,
      durationMs: opts.durationSeconds * 1000,
      rules,
      attackers: DEMO_ATTACKERS,
      groundTruth: true,
    });
    const attackerIps = new Set(DEMO_ATTACKERS.map((a) => a.ip));
    const putTimes = new Map<string, Array<[number, number]>>();
    const sweepMs = opts.sweepSeconds * 1000;
    const longestBlockMs = Math.max(...rules.map((r) => r.blockSeconds)) * 1000;
    const deadline = generator.endMs + longestBlockMs + 3 * sweepMs + 30_000;
    let nextSweep = startMs + sweepMs;
    let fastForwarding = false;
    let manualUnblock: ManualUnblock | undefined;
    const problems: string[] = [];

    for (;;) {
      const now = clock.now();
      if (!generator.done) {
        const records = generator.until(now);
        if (records.length > 0) {
          const putAt = await pipeline.put(records);
          for (const r of records) {
            if (r.ip !== undefined && attackerIps.has(r.ip)) {
              let list = putTimes.get(r.ip);
              if (!list) putTimes.set(r.ip, (list = []));
              list.push([r.timestampMs, putAt]);
            }
          }
        }
      }
      await pipeline.pump();
      if (now >= nextSweep) {
        nextSweep += sweepMs;
        void pipeline.runSync();
      }
      if (!fastForwarding && generator.done && !pipeline.busy) {
        await pipeline.settle();
        if (!pipeline.busy) {
          fastForwarding = true;
          // An operator lets one attacker back in by hand, through the code the dashboard widget runs.
          manualUnblock = await unblockByHand(pipeline, clock, MANUAL_UNBLOCK_IP);
          clock.setSpeed(opts.fastForward);
        }
      }
      const sets = pipeline.ipSets();
      const blocks = pipeline.decisions.filter((d) => d.row.action === 'BLOCK').length;
      options.progress?.(
        `${fastForwarding ? `fast-forward x${opts.fastForward}` : 'traffic'} t=+${((now - startMs) / 1000).toFixed(1)}s  `
        + `records ${pipeline.recordsPut.toLocaleString('en-US')}  batches ${pipeline.batches}  `
        + `blocked ${blocks}  released ${pipeline.releases.length}  IP sets ${sets.ipv4.length} v4 / ${sets.ipv6.length} v6`,
      );
      if (fastForwarding && pipeline.releases.length >= blocks && sets.ipv4.length + sets.ipv6.length === 0) break;
      if (now > deadline) {
        problems.push(`the demo did not finish: ${blocks - pipeline.releases.length} block(s) still active at the deadline`);
        break;
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await pipeline.settle();

    const truth: TruthRow[] = judgeTruth(generator.truth, rules);
    const judgement = judge({
      rules,
      truth,
      attackers: DEMO_ATTACKERS,
      decisions: pipeline.decisions,
      updates: pipeline.updates,
      releases: pipeline.releases,
      putTimes,
      syncRuns: pipeline.syncRuns,
      ipSetsAtEnd: pipeline.ipSets(),
      manualUnblocks: new Set(manualUnblock ? [manualUnblock.client] : []),
      sampling: { samplingRate: opts.samplingRate, trafficEndMs: startMs + opts.durationSeconds * 1000 },
    });
    if (!manualUnblock) problems.push(`attacker ${MANUAL_UNBLOCK_IP} could not be unblocked by hand: it was not blocked`);
    else if (!manualUnblock.leftIpSet) problems.push(`attacker ${MANUAL_UNBLOCK_IP} was unblocked by hand but stayed in the WAF IP set`);
    else if (!manualUnblock.recorded) problems.push(`the manual unblock of ${MANUAL_UNBLOCK_IP} is missing from the history table`);
    problems.push(...judgement.problems, ...pipeline.syncErrors.map((e) => `IP set sync failed: ${e}`));
    const nearRow = truth.find((t) => t.ip === NEAR_MISS.ip && t.ruleId === NEAR_MISS.ruleId);
    const report = await renderGuardReport(pipeline, new Date(startMs), options.reportDir);
    problems.push(...report.problems.map((p) => `report: ${p.source}: ${p.message}`));
    return {
      report,
      manualUnblock,
      ...judgement,
      problems,
      ok: problems.length === 0,
      options: opts,
      startMs,
      requests: generator.requests,
      recordsPut: pipeline.recordsPut,
      linesProcessed: pipeline.summaries.reduce((n, s) => n + s.lines, 0),
      malformed: pipeline.summaries.reduce((n, s) => n + s.malformed, 0),
      batches: pipeline.batches,
      distinctClients: generator.distinctClients.size,
      nearMiss: nearRow && {
        ...nearRow,
        threshold: rules.find((r) => r.ruleId === NEAR_MISS.ruleId)!.threshold,
        blocked: pipeline.decisions.some((d) => d.row.ip === NEAR_MISS.ip),
      },
      emails,
      ipSetUpdates: pipeline.updates.length,
      lockConflicts: pipeline.waf.lockConflicts,
      units: { processor: units(pipeline.processorUnits), sync: units(pipeline.syncUnits) },
      realSeconds: (Date.now() - realStart) / 1000,
      clockSecondsAtEnd: (clock.now() - startMs) / 1000,
    };
  } finally {
    await pipeline.stop();
  }
}

/** The attacker the demo's operator unblocks by hand. */
export const MANUAL_UNBLOCK_IP = '203.0.113.99';

export interface ManualUnblock {
  readonly client: string;
  readonly atClockMs: number;
  /** The operator's action as the widget shows it. */
  readonly message: string;
  /** Whether the next sync run took the client out of the WAF IP set. */
  readonly leftIpSet: boolean;
  /** Whether history records the unblock with the operator's name. */
  readonly recorded: boolean;
}

/**
 * Unblocks one client with the dashboard widget's code path (OperatorActions against the blocks table), lets the sync
 * apply it as it would in AWS, and checks the IP set and the history.
 */
async function unblockByHand(pipeline: LocalPipeline, clock: DemoClock, ip: string): Promise<ManualUnblock | undefined> {
  const client = demoClient(ip);
  if (!pipeline.decisions.some((d) => d.row.ip === client && d.row.action === 'BLOCK')) return undefined;
  const actions = new OperatorActions(pipeline.doc, pipeline.tables.blocks, () => clock.now());
  const atClockMs = clock.now();
  const result = await actions.unblock({
    target: client,
    reason: 'false positive: partner load test',
    operator: { name: 'demo-operator', via: 'dashboard' },
  });
  await pipeline.runSync();
  const sets = pipeline.ipSets();
  const leftIpSet = ![...sets.ipv4, ...sets.ipv6].some((a) => a.startsWith(`${client}/`) || a === client);
  const history = await pipeline.doc.send(new QueryCommand({
    TableName: pipeline.tables.history,
    KeyConditionExpression: 'ip = :ip',
    ExpressionAttributeValues: { ':ip': client },
  }));
  const recorded = (history.Items ?? []).some((i) => i.event === 'UNBLOCKED' && String(i.manualBy ?? '').includes('demo-operator'));
  return { client, atClockMs, message: result.message, leftIpSet, recorded };
}

const secs = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const at = (ms: number | undefined, startMs: number) => (ms === undefined ? '-' : `+${((ms - startMs) / 1000).toFixed(1)} s`);

/**
 * The last step: the day's guard report from the demo's own history table, rendered by WafReporting's code to files
 * (what the daily email and blocks CSV would hold), nothing sent.
 */
async function renderGuardReport(pipeline: LocalPipeline, day: Date, reportDir?: string) {
  const outDir = reportDir ?? mkdtempSync(join(tmpdir(), 'waf-demo-report-'));
  const result = await dryRunReport({
    config: {
      reportName: 'local-demo',
      timeZone: 'UTC',
      sender: 'reports@example.com',
      recipients: ['security@example.com'],
      prefix: '',
      guard: { historyTable: pipeline.tables.history, historyIndex: HISTORY_TABLE.globalIndexes![0].name, guardName: 'local-demo' },
    },
    request: { kind: 'daily', day: day.toISOString().slice(0, 10) },
    outDir,
    clients: { doc: pipeline.doc },
    // A report covers a day that has ended. The demo's table gets no more rows once the run is over, so its day is
    // reported as it will stand at midnight (UTC), when the scheduled run would send it.
    now: new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1)),
  });
  return { dir: outDir, files: [...result.emailFiles, ...result.files], problems: result.problems };
}

/** The end-of-run summary as printed by `npm run demo`. */
export function formatSummary(o: DemoOutcome): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    '',
    `Local demo: ${o.options.durationSeconds} s of traffic at ${n(o.options.rate)} requests/s plus attackers, sampling ${o.options.samplingRate}%, seed ${o.options.seed}, ${o.options.shards} shards`,
    `  requests generated  ${n(o.requests)} from ${n(o.distinctClients)} distinct clients`,
    `  records on stream   ${n(o.recordsPut)} (sampled requests and malformed lines)`,
    `  lines processed     ${n(o.linesProcessed)} in ${n(o.batches)} batches, ${n(o.malformed)} malformed (counted and skipped)`,
    `  IP set updates      ${o.ipSetUpdates} (lock conflicts ${o.lockConflicts}), alert emails ${o.emails}`,
    '',
    'Attackers (times from the start of traffic; clock x1 while traffic flows, then fast-forwarded to the block ends):',
    '  client              rule   peak/window  crossed   blocked   decision  in IP set  until      released',
  ];
  for (const a of o.attackers) {
    lines.push(`  ${a.ip.padEnd(18)}  ${a.ruleId.padEnd(5)}  ${String(a.maxInWindow).padStart(11)}  ${at(a.crossedAtMs, o.startMs).padEnd(8)}  `
      + `${at(a.blockedAtMs, o.startMs).padEnd(8)}  ${secs(a.decisionLatencyMs).padEnd(8)}  ${secs(a.ipSetLatencyMs).padEnd(9)}  `
      + `${at(a.blockedUntilMs, o.startMs).padEnd(9)}  ${at(a.releasedAtMs, o.startMs)}`);
  }
  lines.push('  (decision and IP set: real time from the threshold-crossing record reaching the stream; goals 2 s and 5 s)');
  if (o.nearMiss) {
    lines.push(`Near miss: ${o.nearMiss.ip} sent up to ${o.nearMiss.maxInWindow} requests per window against a threshold of ${o.nearMiss.threshold}: ${o.nearMiss.blocked ? 'BLOCKED (wrong)' : 'not blocked'}`);
  }
  lines.push(`Blocks of clients below their threshold: ${o.falseBlocks.length}; clients well over a threshold not blocked: ${o.missed.length}`);
  const u = o.units.processor;
  lines.push(`DynamoDB (LogProcessor): ${n(u.writeUnits)} write units, ${n(u.readUnits)} read units for ${n(o.recordsPut)} records`
    + ` (${(u.writeUnits / (o.recordsPut / 1000)).toFixed(1)} WRU per 1,000)`);
  lines.push(`Real time ${o.realSeconds.toFixed(1)} s; clock advanced ${o.clockSecondsAtEnd.toFixed(0)} s.`);
  lines.push(`Guard report of the day (WafReporting, dry run): ${o.report.dir}`);
  for (const f of o.report.files) lines.push(`  ${f}`);
  lines.push('');
  if (o.manualUnblock) {
    const m = o.manualUnblock;
    lines.push(`Unblocked by hand (the dashboard widget's code path) at ${at(m.atClockMs, o.startMs)} by demo-operator: ${m.message}; `
      + `${m.leftIpSet ? 'out of the WAF IP set after the next sync run' : 'STILL in the WAF IP set'}, `
      + `${m.recorded ? 'recorded in history (UNBLOCKED, by demo-operator)' : 'MISSING from history'}`);
  }
  lines.push(o.ok ? 'OK: every attacker was blocked and released on time, and nobody below a threshold was blocked.' : `FAILED:\n  ${o.problems.join('\n  ')}`);
  return lines.join('\n');
}
