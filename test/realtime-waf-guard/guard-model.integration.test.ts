/**
 * Model-based test of RealtimeWafGuard: generated scenarios (traffic mixes, proxies and routes, IPv6 neighbours,
 * allow-lists, hostile rule rows, operator actions, service outages, recycled execution environments, shards) are
 * driven through the real runtime (LogProcessor, IpSetSync, OperatorActions) on dynalite and the WAF fake, with a
 * controlled clock, and checked against the reference model in test/support/guard-model.ts.
 *
 * Each feature (a scenario part that random steps rarely produce, named after the item of issue 17 it found) forces its
 * part and narrows the scenarios to it, so CI runs the broad scenarios once without features and then each feature on
 * its own and all together. `MODEL_RUNS=10000` runs long; a failure prints the command that replays it
 * (`MODEL_FEATURES=... MODEL_SEED=... MODEL_PATH=...`). `MODEL_FEATURES=a,b` runs only that one combination,
 * `MODEL_FEATURES=none` only the broad scenarios, `MODEL_FEATURES=all` every feature at once.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InternalErrorException, PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { WAFInternalErrorException, WAFV2Client } from '@aws-sdk/client-wafv2';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { Random } from '../../examples/local-demo/traffic';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadShields, OperatorActions, ShieldCache } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { FakeWaf } from '../support/fake-waf';
import { clientKey, covers, GuardModel, modelLoggedThreshold, ModelRequest, Route, sameNetwork, WafSets, wafBlocks, wafView } from '../support/guard-model';
import { createGuardTables, ipSetSyncDeps, useLocalDynamo } from '../support/guard-setup';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder } from '../support/recorders';

/**
 * Scenario parts that random steps rarely produce, each named after the issue 17 item whose broken promise it first
 * reproduced (in brackets). CI runs each alone and all together (see combinations()).
 */
const FEATURE_NAMES = [
  /** [item 1] a client changes route (direct <-> through a trusted proxy) while over the threshold. */
  'routeSwitch',
  /** [item 2] an IPv6 trusted proxy with a /64 neighbour that attacks directly. */
  'ipv6ProxyNeighbours',
  /** [item 3] rules rows with DynamoDB numbers above 2^53. */
  'hostileBigNumbers',
  /** [item 4] SNS outages longer than a block period. */
  'longSnsOutage',
  /** [item 5] an address unblocked inside a wider manual block. */
  'wideUnblock',
  /** [item 9] a shard's batches delivered late (the other shard running ahead). */
  'laggingShards',
  /** [item 12] windows not divisible by 12 s. */
  'oddWindows',
  /**
   * [item 8] 10% sampling, thresholds of 100-200: a client at or below 70% of the threshold is never blocked, one at
   * 3x is blocked. Replaces the exact invariants (which hold at 100% sampling only) for the scenarios it generates.
   */
  'samplingBound',
] as const;
type Feature = typeof FEATURE_NAMES[number];
/** The features of the combination being run (set by each test below; the generators read it). */
const FEATURES: Record<Feature, boolean> = Object.fromEntries(FEATURE_NAMES.map((f) => [f, false])) as Record<Feature, boolean>;

/** The combinations to run: MODEL_FEATURES's one, or none, each feature alone and all together. */
function combinations(): Feature[][] {
  const requested = process.env.MODEL_FEATURES?.split(',').map((s) => s.trim()).filter(Boolean);
  if (requested === undefined || requested.length === 0) return [[], ...FEATURE_NAMES.map((f) => [f]), [...FEATURE_NAMES]];
  if (requested.includes('none')) return [[]];
  if (requested.includes('all')) return [[...FEATURE_NAMES]];
  const unknown = requested.filter((f) => !(FEATURE_NAMES as readonly string[]).includes(f));
  if (unknown.length > 0) throw new Error(`MODEL_FEATURES: unknown ${unknown.join(', ')}; known: ${FEATURE_NAMES.join(', ')}, none, all`);
  return [requested as Feature[]];
}

const fields = deliveredFieldOrder([]);
const T0 = 1_767_225_600_000;
const HOST = 'api.example.com';
const PROXY_V4 = '10.0.0.1';
const PROXY_V6 = '2001:db8:aaaa:1::5';
const ALLOW_LIST = ['192.0.2.10/32', '2001:db8:3::10/128'];
const SHIELD_MS = 3_600_000;
const MANUAL_PERIOD = '2m';
const operator = { name: 'model-test', via: 'cli' as const };

/** Who may send: an address, how it reaches CloudFront, and through which proxy. */
interface Sender {
  readonly address: string;
  readonly route: Route;
  readonly proxy?: string;
}
const SENDERS: readonly Sender[] = [
  { address: '198.51.100.1', route: 'DIRECT' },
  { address: '198.51.100.2', route: 'DIRECT' },
  { address: '203.0.113.1', route: 'PROXY', proxy: PROXY_V4 },
  { address: '203.0.113.2', route: 'PROXY', proxy: PROXY_V4 },
  // IPv6 neighbours: one client
  { address: '2001:db8:1::1', route: 'DIRECT' },
  { address: '2001:db8:1::2', route: 'DIRECT' },
  { address: '2001:db8:2::1', route: 'PROXY', proxy: PROXY_V4 },
  // allow-listed, and a neighbour of an allow-listed IPv6 address
  { address: '192.0.2.10', route: 'DIRECT' },
  { address: '2001:db8:3::99', route: 'DIRECT' },
];
const IPV6_PROXY_SENDERS: readonly Sender[] = [
  { address: '2001:db8:aaaa:1::9', route: 'DIRECT' },
  { address: '203.0.113.50', route: 'PROXY', proxy: PROXY_V6 },
];
/** Never send: their requests through each proxy and directly must always be allowed. */
const BYSTANDERS = ['198.51.100.200', '2001:db8:77::1'];

type Fault = 'dynamo' | 'waf' | 'sns';
type Op = { kind: 'unblock' | 'block' | 'wideBlock'; sender: number } | { kind: 'hostileRow'; row: Record<string, unknown> } | { kind: 'recycle'; which: 'processor' | 'sync' };

interface Step {
  /** Per sender: request offsets within the step (ms). */
  readonly traffic: ReadonlyArray<readonly number[]>;
  readonly faults: readonly Fault[];
  readonly ops: readonly Op[];
  /** Per sender (route switch): send on the other route this step. */
  readonly switched: readonly boolean[];
}

interface Scenario {
  readonly threshold: number;
  /** 100, or 10 with `samplingBound`: which requests are logged is drawn from `samplingSeed`. */
  readonly samplingRate: number;
  readonly samplingSeed: number;
  /** Counting.LOCAL_FIRST's slack percent, or undefined for Counting.EXACT. */
  readonly slackPercent?: number;
  readonly windowSeconds: number;
  readonly blockSeconds: number;
  /** Steps per window. */
  readonly stepsPerWindow: number;
  readonly senders: readonly Sender[];
  readonly shards: number;
  /** laggingShards: steps for which shard 1 stops delivering (from step 1), before it catches up. */
  readonly lag: number;
  readonly snsTail: boolean;
  readonly steps: readonly Step[];
}

/** Rows an operator may type into the rules table, each refused on its own (numbers as DynamoDB stores them: `N`). */
function hostileRowArb(): fc.Arbitrary<Record<string, unknown>> {
  const attr = fc.oneof(
    fc.string({ maxLength: 8 }).map((s) => ({ S: s })),
    fc.constantFrom('-5', '0', '0.5', '1e3', '100000001', '3.5').map((n) => ({ N: n })),
    fc.boolean().map((b) => ({ BOOL: b })),
    fc.constant({ NULL: true }),
    fc.constant({ L: [{ S: 'x' }] }),
    fc.constant({ M: { a: { N: '1' } } }),
  );
  const big = fc.constantFrom('9007199254740993', '1e40', '-9007199254740993').map((n) => ({ N: n }));
  // every other row holds a number beyond 2^53 where a number belongs, in a row otherwise fit to be a rule
  const numeric = FEATURES.hostileBigNumbers ? fc.oneof(attr, big) : attr;
  return fc.record({
    // the table's key: always a string
    ruleId: fc.constantFrom('bad', 'api2', '\u202e', 'x'.repeat(300)).map((id) => ({ S: id })),
    host: fc.oneof(fc.constant({ S: HOST }), attr),
    threshold: numeric,
    windowSeconds: fc.oneof(fc.constant({ N: '60' }), numeric),
    blockSeconds: fc.oneof(fc.constant({ N: '60' }), numeric),
    enabled: fc.oneof(fc.constant({ BOOL: true }), attr),
  }, { requiredKeys: ['ruleId', 'threshold'] });
}

function scenarioArb(): fc.Arbitrary<Scenario> {
  const windows = FEATURES.oddWindows ? [12, 60, 10, 13, 61] : [12, 60];
  const pool = FEATURES.ipv6ProxyNeighbours ? [...SENDERS, ...IPV6_PROXY_SENDERS] : SENDERS;
  return fc.record({
    threshold: FEATURES.samplingBound ? fc.integer({ min: 100, max: 200 }) : fc.integer({ min: 4, max: 16 }),
    samplingRate: fc.constant(FEATURES.samplingBound ? 10 : 100),
    samplingSeed: fc.nat(),
    /** samplingBound: each sender's steady rate, in percent of the threshold per window. */
    rates: fc.array(fc.oneof(fc.integer({ min: 20, max: 70 }), fc.integer({ min: 350, max: 450 })), { minLength: 5, maxLength: 5 }),
    slackPercent: fc.constantFrom(undefined, 10, 25),
    windowSeconds: fc.constantFrom(...windows),
    blockSeconds: fc.constantFrom(60, 120, 300),
    stepsPerWindow: fc.constantFrom(3, 4, 6),
    senders: fc.subarray([...pool], { minLength: 1, maxLength: 5 }),
    shards: FEATURES.laggingShards ? fc.constant(2) : fc.constantFrom(1, 2),
    // up to two windows (stepsPerWindow is at most 6)
    lag: FEATURES.laggingShards ? fc.integer({ min: 1, max: 12 }) : fc.constant(0),
    /** longSnsOutage: SNS fails in the last two steps and stays down for a whole block period after them. */
    snsTail: fc.constant(FEATURES.longSnsOutage),
    stepCount: fc.integer({ min: 4, max: 14 }),
  }).chain((s) => {
    const stepMs = Math.floor((s.windowSeconds * 1000) / s.stepsPerWindow);
    // a sender sends nothing, a little or a lot in a step: thresholds are crossed by some scenarios, not all
    const burst = (n: number) => (s.samplingRate < 100 ? steadyBurst(s, s.rates[n], stepMs) : fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as number[]) },
      { weight: 3, arbitrary: fc.array(fc.integer({ min: 0, max: stepMs - 1 }), { maxLength: Math.ceil(s.threshold / s.stepsPerWindow) }) },
      { weight: 2, arbitrary: fc.array(fc.integer({ min: 0, max: stepMs - 1 }), { minLength: 1, maxLength: s.threshold }) },
    ));
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constantFrom<'unblock' | 'block' | 'wideBlock'>('unblock', 'block', ...(FEATURES.wideUnblock ? ['wideBlock' as const] : [])),
        sender: fc.nat({ max: s.senders.length - 1 }),
      }),
      fc.record({ kind: fc.constant('hostileRow' as const), row: hostileRowArb() }),
      fc.record({ kind: fc.constant('recycle' as const), which: fc.constantFrom('processor' as const, 'sync' as const) }),
    );
    const fault = fc.constantFrom<Fault>('dynamo', 'waf', 'sns');
    const step = fc.record({
      traffic: fc.tuple(...s.senders.map((_, n) => burst(n))),
      faults: fc.oneof({ weight: 4, arbitrary: fc.constant([] as Fault[]) }, { weight: 1, arbitrary: fc.uniqueArray(fault, { maxLength: 2 }) }),
      ops: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Op[]) }, { weight: 1, arbitrary: fc.array(op, { maxLength: 2 }) }),
      switched: fc.array(FEATURES.routeSwitch ? fc.boolean() : fc.constant(false), { minLength: s.senders.length, maxLength: s.senders.length }),
    });
    // laggingShards: the stop outlasts two windows, longer than the counters keep buckets for a shard that reported
    const sc = { ...s, lag: FEATURES.laggingShards ? Math.max(s.lag, 2 * s.stepsPerWindow + 2) : s.lag };
    return fc.array(step, { minLength: s.stepCount, maxLength: s.stepCount })
      .map((steps) => ({ ...sc, steps: withForcedParts(withOutageLimits(steps, sc), sc) }));
  });
}

/**
 * samplingBound: a sender sends steadily at its rate (percent of the threshold per window), evenly with a jitter drawn
 * per step.
 */
function steadyBurst(s: { threshold: number; stepsPerWindow: number }, percent: number, stepMs: number): fc.Arbitrary<number[]> {
  const count = Math.round((s.threshold * percent) / 100 / s.stepsPerWindow);
  return fc.nat({ max: 1000 }).map((jitter) =>
    Array.from({ length: count }, (_, i) => Math.min(stepMs - 1, Math.floor((i * stepMs) / count) + ((jitter + i * 7) % 5))));
}

/**
 * The parts of a feature that random steps would rarely produce: an SNS outage at the end (longSnsOutage), a wide manual
 * block and then an unblock of an address inside it (wideUnblock), and a pair of bursts ceil(11/12 of a window) - 1 ms
 * apart with the first at the last millisecond of a bucket (oddWindows: an attacker who knows the bucket length).
 */
function withForcedParts(steps: Step[], s: Omit<Scenario, 'steps'>): Step[] {
  const out = steps.map((step) => ({ ...step, traffic: step.traffic.map((t) => [...t]), ops: [...step.ops], faults: [...step.faults] }));
  if (FEATURES.longSnsOutage) for (const step of out.slice(-2)) if (!step.faults.includes('sns')) step.faults.push('sns');
  if (FEATURES.wideUnblock && out.length >= 2) {
    out[0].ops.push({ kind: 'wideBlock', sender: 0 });
    out[1].ops.push({ kind: 'unblock', sender: 0 });
  }
  if (FEATURES.laggingShards && s.samplingRate === 100 && out.length >= 3) {
    // sender 0 crosses the threshold in step 1, half of it through the shard that stops, and keeps sending a little
    const total = s.threshold + Math.ceil((s.threshold * (s.slackPercent ?? 0)) / 100);
    out[1].traffic[0].push(...Array(total).fill(0));
    for (const step of out.slice(2)) step.traffic[0].push(0);
  }
  if (FEATURES.oddWindows && s.samplingRate === 100) {
    const stepMs = Math.floor((s.windowSeconds * 1000) / s.stepsPerWindow);
    const bucket = Math.floor((s.windowSeconds * 1000) / 12);
    const first = Math.ceil((T0 + stepMs) / bucket) * bucket - 1;
    const second = first + Math.ceil((s.windowSeconds * 11000) / 12) - 1;
    const total = s.threshold + Math.ceil((s.threshold * (s.slackPercent ?? 0)) / 100);
    const place = (atMs: number, count: number) => {
      const index = Math.floor((atMs - T0) / stepMs);
      if (index < out.length) out[index].traffic[0].push(...Array(count).fill(atMs - T0 - index * stepMs));
    };
    place(first, Math.ceil(total / 2));
    place(second, total - Math.ceil(total / 2));
  }
  return out;
}

/** Which requests CloudFront logs, drawn from a seed. */
function sampler(seed: number, rate: number): () => boolean {
  const random = new Random(seed);
  return () => random.next() < rate / 100;
}

/**
 * Without `longSnsOutage` (item 4), no block may end before the alert of its start went out: an SNS outage lasts less
 * than half a block period (consecutive steps add up; the steps past the limit lose their SNS fault), and no unblock
 * happens during an outage or in the step right after it (found by this test: a block in WAF that an operator unblocks
 * before SNS is back is recorded as UNBLOCKED with no start, and never alerted as blocked; see the report of issue 17).
 */
function withOutageLimits(steps: Step[], s: { windowSeconds: number; stepsPerWindow: number; blockSeconds: number }): Step[] {
  if (FEATURES.longSnsOutage) return steps;
  const stepMs = (s.windowSeconds * 1000) / s.stepsPerWindow;
  const maxSteps = Math.max(0, Math.floor((s.blockSeconds * 1000) / stepMs / 2) - 1);
  let run = 0;
  let previousDown = false;
  return steps.map((step) => {
    let faults = step.faults;
    if (faults.includes('sns')) {
      run++;
      if (run > maxSteps) faults = faults.filter((f) => f !== 'sns');
    } else {
      run = 0;
    }
    const down = faults.includes('sns');
    const ops = down || previousDown ? step.ops.filter((op) => op.kind !== 'unblock') : step.ops;
    previousDown = down;
    return { ...step, faults, ops };
  });
}

/** The network around an address an operator may block whole: its /24, or its IPv6 /48. */
function widerNetwork(address: string): string {
  if (!address.includes(':')) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  return `${clientKey(address).split(':').slice(0, 3).join(':')}::/48`;
}

const dynamo = useLocalDynamo();
const sns = mockClient(SNSClient);
afterAll(() => {
  sns.restore();
  mockClient(WAFV2Client).restore();
});

/** How often each invariant was exercised over the runs (printed with MODEL_STATS=1): a model that checks nothing passes. */
const stats = { runs: 0, cleanSteps: 0, mustBlock: 0, mustAllow: 0, manual: 0, reachedWaf: 0, released: 0, failedBatches: 0, failedSyncs: 0 };

/** What a run observed that breaks a promise; thrown with the scenario so that fast-check shrinks and reports it. */
class Broken extends Error {}

function expectThat(ok: boolean, what: () => string): void {
  if (!ok) throw new Broken(what());
}

async function runScenario(s: Scenario): Promise<void> {
  const stepMs = Math.floor((s.windowSeconds * 1000) / s.stepsPerWindow);
  const rule: StoredRule = {
    ruleId: 'api', host: HOST, threshold: s.threshold, windowSeconds: s.windowSeconds, blockSeconds: s.blockSeconds, action: 'BLOCK', enabled: true,
  };
  const tables = await createGuardTables(dynamo(), [rule]);
  const waf = new FakeWaf();
  waf.install();
  const sets = {
    ipv4: waf.createSet('v4', 'IPV4'),
    ipv6: waf.createSet('v6', 'IPV6'),
    forwardedIpv4: waf.createSet('fwd-v4', 'IPV4'),
    forwardedIpv6: waf.createSet('fwd-v6', 'IPV6'),
  };
  const trustedProxies = FEATURES.ipv6ProxyNeighbours ? [`${PROXY_V4}/32`, `${PROXY_V6}/128`] : [`${PROXY_V4}/32`];
  let now = T0;
  let down = new Set<Fault>();
  const published: PublishCommandInput[] = [];
  sns.reset();
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    if (down.has('sns')) throw new InternalErrorException({ $metadata: { httpStatusCode: 500 }, message: 'Request could not be completed.' });
    published.push(input);
    return { MessageId: `m${published.length}` };
  });
  waf.beforeUpdate = () => {
    if (down.has('waf')) throw new WAFInternalErrorException({ $metadata: { httpStatusCode: 500 }, message: 'system problem' });
  };
  const recorder = new Recorder();
  const allowList = new CidrSet(parseCidrList(ALLOW_LIST, 'allowList'));
  const newProcessor = () => {
    const { client, doc } = dynamo().connect();
    client.middlewareStack.add((next) => async (args) => {
      if (down.has('dynamo')) throw Object.assign(new Error('injected: service unavailable'), { name: 'ServiceUnavailable' });
      return next(args);
    }, { step: 'initialize', name: 'faults', priority: 'high' });
    return new LogProcessor(
      {
        fields,
        samplingRate: s.samplingRate,
        allowList,
        trustedProxies: new CidrSet(parseCidrList(trustedProxies, 'trustedProxies')),
        localFirstSlackPercent: s.slackPercent,
      },
      {
        rules: new RulesCache(() => loadRules(doc, tables.rules, { samplingRate: s.samplingRate, minLoggedRequests: 10 }), 0),
        counters: new CounterStore(client, tables.counters),
        blocks: new BlockStore(doc, tables.blocks, tables.counters, 1000),
        history: new HistoryStore(doc, tables.history, 30),
        shields: new ShieldCache((ms) => loadShields(doc, tables.blocks, ms), 0),
        metrics: recorder,
        log: recorder,
        now: () => now,
      },
    );
  };
  const newSync = () => new IpSetSync({
    guardName: 'model',
    scope: 'CLOUDFRONT',
    ...sets,
    allowList,
    trustedProxies: new CidrSet(parseCidrList(trustedProxies, 'trustedProxies')),
    maxSetSize: 10_000,
    historyRetentionDays: 30,
    blocksTable: tables.blocks,
    historyTable: tables.history,
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
  }, ipSetSyncDeps(dynamo(), recorder, () => now));
  let processor = newProcessor();
  let sync = newSync();
  const actions = new OperatorActions(dynamo().doc, tables.blocks, () => now);
  const sampled = s.samplingRate < 100;
  // Under sampling the model is told the logged requests only and judges them by the README's bound (the guard cannot
  // know of requests CloudFront did not log): must block at k* logged within 11 × b ms (plus the LOCAL_FIRST slack,
  // a share of k*), may block from the point estimate ⌈threshold × s⌉.
  const blockAt = modelLoggedThreshold(s.threshold, s.samplingRate, s.windowSeconds);
  const catchAt = blockAt + Math.ceil((blockAt * (s.slackPercent ?? 0)) / 100);
  const mayBlockFrom = sampled ? Math.ceil((s.threshold * s.samplingRate) / 100) : s.threshold;
  const logged = sampler(s.samplingSeed, s.samplingRate);
  const model = new GuardModel({ threshold: s.threshold, catchAt, mayBlockFrom, windowMs: s.windowSeconds * 1000, blockMs: s.blockSeconds * 1000 }, ALLOW_LIST.map((a) => a.split('/')[0]), SHIELD_MS,
    trustedProxies.map((p) => p.split('/')[0]));

  const sequences = [0, 0];
  /** Log lines of the requests, as the event source delivers them from `shard`. */
  const toRecords = (shard: number, requests: readonly ModelRequest[]): StreamRecord[] => requests.map((r) => {
    const line = logLine(fields, {
      'timestamp': (r.atMs / 1000).toFixed(3),
      'c-ip': r.route === 'DIRECT' ? r.address : r.proxy!,
      'x-forwarded-for': r.route === 'DIRECT' ? '-' : r.address,
      'cs-host': HOST,
      'cs-uri-stem': '/v1/items',
    });
    return streamRecord(line, `4960${String(++sequences[shard]).padStart(20, '0')}`, r.atMs, `shardId-00000000000${shard}`);
  });
  /** Batches not yet processed successfully, per shard, oldest first; each with the requests it holds. */
  const queue: Array<Array<{ records: StreamRecord[]; requests: ModelRequest[]; dueStep: number }>> = [[], []];
  const wafSets = (): WafSets => ({
    direct: [...waf.addresses(sets.ipv4.id), ...waf.addresses(sets.ipv6.id)],
    forwarded: [...waf.addresses(sets.forwardedIpv4.id), ...waf.addresses(sets.forwardedIpv6.id)],
  });
  const blocked = (address: string, route: Route, proxy = PROXY_V4) => wafBlocks(wafSets(), trustedProxies, wafView(address, route, proxy));
  const blockRows = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
  /** Every block row seen in WAF (in a set of its route), by ip|ruleId|blockedAt. */
  const reachedWaf = new Map<string, BlockRow>();
  const observeWaf = async () => {
    const current = wafSets();
    const network = (r: BlockRow) => (r.ip.includes('/') ? r.ip : `${r.ip}/${r.family === 4 ? 32 : 128}`);
    for (const r of await blockRows()) {
      if (r.ip.startsWith('#') || r.action !== 'BLOCK') continue;
      const inDirect = current.direct.includes(network(r));
      const inForwarded = current.forwarded.includes(network(r));
      if (inDirect || inForwarded) reachedWaf.set(`${r.ip}|${r.ruleId}|${r.blockedAt}`, r);
    }
  };
  /** Latest log time of the requests the model had checked "must be blocked" for. */
  let checkedUpTo = -Infinity;
  /** Crossings before this log time need not be caught (LOCAL_FIRST, after an environment ended). */
  let lostUntil = -Infinity;
  /** Crossings after this log time must be blocked now: not checked before, not lost, and their block not yet over. */
  const dueAfter = () => Math.max(checkedUpTo, lostUntil, now - s.blockSeconds * 1000);
  /** Per client: the routes (route|address|proxy) of its requests delivered since the last clean step. */
  const routesOf = new Map<string, Set<string>>();
  const trace: string[] = [];

  for (let i = 0; i < s.steps.length; i++) {
    const step = s.steps[i];
    const start = T0 + i * stepMs;
    now = start + stepMs;
    down = new Set(step.faults);
    trace.push(`step ${i} now=${now - T0}${step.faults.length ? ` down=${step.faults}` : ''}`);

    for (const op of step.ops) {
      if (op.kind === 'recycle') {
        if (op.which === 'processor') {
          processor = newProcessor();
          // LOCAL_FIRST: what the ended environment held is lost; its clients are caught within one more window.
          if (s.slackPercent !== undefined) lostUntil = now + s.windowSeconds * 1000;
        } else {
          sync = newSync();
        }
        trace.push(`  recycle ${op.which}`);
      } else if (op.kind === 'hostileRow') {
        await dynamo().client.send(new PutItemCommand({ TableName: tables.rules, Item: { ...op.row, ruleId: op.row.ruleId ?? { S: 'bad' } } as never }));
        trace.push(`  hostile row ${JSON.stringify(op.row)}`);
      } else {
        const sender = s.senders[op.sender];
        const key = op.kind === 'wideBlock' ? widerNetwork(sender.address) : clientKey(sender.address);
        try {
          if (op.kind === 'unblock') {
            await actions.unblock({ target: key, reason: 'model', operator });
            model.unblocked(key, now);
          } else {
            await actions.block({ target: key, period: MANUAL_PERIOD, reason: 'model', operator });
            model.manuallyBlocked(key, now, 120_000);
          }
          trace.push(`  ${op.kind} ${key}`);
        } catch (e) {
          if ((e as Error).name !== 'ActionError') throw e;
          trace.push(`  ${op.kind} ${key} refused: ${(e as Error).message}`);
        }
      }
    }

    // This step's requests, one batch per shard (senders spread over shards).
    const perShard: ModelRequest[][] = [[], []];
    step.traffic.forEach((offsets, n) => {
      const sender = s.senders[n];
      const route: Route = step.switched[n] ? (sender.route === 'DIRECT' ? 'PROXY' : 'DIRECT') : sender.route;
      const proxy = sender.proxy ?? PROXY_V4;
      offsets.forEach((o, k) => {
        // laggingShards: a client's requests spread over both shards, as Kinesis partitions them at random
        const shard = FEATURES.laggingShards ? k % s.shards : n % s.shards;
        perShard[shard].push({ atMs: start + o, address: sender.address, route, proxy, logged: logged() });
      });
    });
    for (let shard = 0; shard < s.shards; shard++) {
      const requests = perShard[shard].sort((a, b) => a.atMs - b.atMs);
      if (requests.length === 0) continue;
      const records = toRecords(shard, requests.filter((r) => r.logged));
      // laggingShards: shard 1 reports in step 0, stops for `lag` steps, then catches up at once
      queue[shard].push({ records, requests, dueStep: shard === 1 && i >= 1 && i < 1 + s.lag ? 1 + s.lag : i });
      trace.push(`  shard ${shard}: ${requests.map((r) => `${r.address}${r.route === 'PROXY' ? '>p' : ''}@${r.atMs - T0}`).join(' ')}`);
    }

    // The log processor: each shard's batches in order; a failed batch is delivered again first.
    let processedAll = true;
    for (let shard = 0; shard < s.shards; shard++) {
      while (queue[shard].length > 0 && queue[shard][0].dueStep <= i) {
        const batch = queue[shard][0];
        // CloudFront logged none of them: nothing reaches the stream
        const result = batch.records.length === 0 ? { batchItemFailures: [] } : await processor.process(batch.records);
        if (result.batchItemFailures.length > 0) {
          processedAll = false;
          break;
        }
        queue[shard].shift();
        model.deliver(batch.requests.filter((r) => r.logged));
        for (const r of batch.requests.filter((q) => q.logged)) {
          const routes = routesOf.get(clientKey(r.address)) ?? new Set<string>();
          routes.add(`${r.route}|${r.address}|${r.proxy}`);
          routesOf.set(clientKey(r.address), routes);
        }
      }
    }

    // The sync (stream trigger and sweep).
    let synced = true;
    try {
      await sync.run();
    } catch (e) {
      synced = false;
      trace.push(`  sync failed: ${(e as Error).message}`);
    }
    await observeWaf();
    const deliveredUpTo = now;
    if (!processedAll) stats.failedBatches++;
    if (!synced) stats.failedSyncs++;
    if (!(processedAll && synced && queue.every((q) => q.length === 0))) continue;
    stats.cleanSteps++;

    // Invariants at a clean step (everything delivered, the sync ran).
    for (const sender of [...s.senders, ...BYSTANDERS.map((address) => ({ address, route: 'DIRECT' as Route }))]) {
      const key = clientKey(sender.address);
      const manual = model.manualBlockAt(key, now) && !model.heldBack(key);
      const routes = [...(routesOf.get(key) ?? [])].map((r) => r.split('|'));
      const allRoutes: Array<[Route, string]> = [['DIRECT', PROXY_V4], ['PROXY', PROXY_V4], ...(FEATURES.ipv6ProxyNeighbours ? [['PROXY', PROXY_V6] as [Route, string]] : [])];
      if (!manual && (!model.mayBlock(key) || model.shielded(key, now) || model.heldBack(key))) {
        stats.mustAllow++;
        for (const [route, proxy] of allRoutes) {
          expectThat(!blocked(sender.address, route, proxy), () =>
            `${sender.address} (client ${key}) is blocked on route ${route} via ${proxy} at ${now - T0} ms, but never sent ${s.threshold} ` +
            'requests within a window (or is shielded/allow-listed) and is not blocked by hand' + `\n${trace.join('\n')}`);
        }
      }
      if (manual) {
        stats.manual++;
        for (const [route, proxy] of allRoutes) {
          expectThat(blocked(sender.address, route, proxy), () => `${key} is blocked by hand but not on route ${route} via ${proxy} at ${now - T0} ms\n${trace.join('\n')}`);
        }
      }
      if (!model.wasShielded(key) && !model.heldBack(key) && model.mustBlockBetween(key, dueAfter(), deliveredUpTo)) {
        stats.mustBlock++;
        for (const [route, address, proxy] of routes) {
          expectThat(blocked(address, route as Route, proxy), () =>
            `${key} sent ${catchAt} requests within 11 × b ms by ${now - T0} ms but ${address} is not blocked on route ${route}` +
            `\n${trace.join('\n')}`);
        }
      }
    }
    checkedUpTo = deliveredUpTo;
    routesOf.clear();
    // No rule blocks a client the model says never crossed the threshold.
    for (const r of await blockRows()) {
      if (r.ip.startsWith('#') || r.ruleId !== 'api') continue;
      const keys = s.senders.map((x) => clientKey(x.address)).filter((k) => k === r.ip || covers(r.ip.includes('/') ? r.ip : `${r.ip}/32`, k.split('/')[0]));
      expectThat(keys.some((k) => model.mayBlock(k)), () => `rule row for ${r.ip} although no client in it crossed the threshold\n${trace.join('\n')}`);
    }
  }

  // A quiet period: every outage over, deliveries caught up, time past every block; the IP sets equal the active blocks.
  down = new Set();
  for (let shard = 0; shard < s.shards; shard++) {
    for (const batch of queue[shard]) {
      expectThat((await processor.process(batch.records)).batchItemFailures.length === 0, () => 'a batch failed with every service up');
      model.deliver(batch.requests.filter((r) => r.logged));
      for (const r of batch.requests.filter((q) => q.logged)) routesOf.set(clientKey(r.address), new Set([...(routesOf.get(clientKey(r.address)) ?? []), `${r.route}|${r.address}|${r.proxy}`]));
    }
  }
  if (s.snsTail) {
    // item 4: SNS stays down while the sweeps go on, past the end of every block of the last steps
    down = new Set(['sns']);
    for (const later of [s.blockSeconds * 500, s.blockSeconds * 500 + 1000]) {
      now += later;
      await sync.run().catch(() => undefined);
      await observeWaf();
    }
    down = new Set();
  }
  // The sweep runs as soon as the outages end (an outage outlasting the blocks it hid is item 4, `longSnsOutage`).
  await sync.run();
  await observeWaf();
  // What lagging shards delivered late: a client it puts over the threshold is blocked now, if its block is still due.
  for (const sender of s.senders) {
    const key = clientKey(sender.address);
    if (model.wasShielded(key) || model.heldBack(key) || !model.mustBlockBetween(key, dueAfter(), now)) continue;
    stats.mustBlock++;
    for (const [route, address, proxy] of [...(routesOf.get(key) ?? [])].map((r) => r.split('|'))) {
      expectThat(blocked(address, route as Route, proxy), () =>
        `${key} sent ${catchAt} requests within 11 × b ms (delivered late) but ${address} is not blocked on route ${route} at ${now - T0} ms` +
        `\nwhat the processor said: ${JSON.stringify(recorder.logs.filter((l) => l.level !== 'info' || l.message.startsWith('client')).slice(-3))}` +
        `\n${trace.join('\n')}`);
    }
  }
  for (const later of [s.blockSeconds * 1000 + 1000, 121_000 + s.blockSeconds * 1000]) {
    now += later;
    await sync.run();
    await sync.run();
    await observeWaf();
    const current = wafSets();
    const activeManual = model.activeManual(now);
    const holds = (list: readonly string[]) => list.length === activeManual.length && activeManual.every((n) => list.some((e) => sameNetwork(e, n)));
    expectThat(holds(current.direct) && holds(current.forwarded), () =>
      `after a quiet period the IP sets hold ${JSON.stringify(current)}, the active blocks are ${JSON.stringify(activeManual)}\n${trace.join('\n')}`);
  }
  const left = (await blockRows()).filter((r) => !r.ip.startsWith('#'));
  expectThat(left.length === 0, () => `block rows left after every block ended: ${JSON.stringify(left)}\n${trace.join('\n')}`);

  // Every block that reached WAF was recorded and alerted exactly once, as blocked, then as released.
  type Change = { event: string; ip: string; ruleId: string };
  const changes = published.flatMap((p) => JSON.parse(p.MessageAttributes!.changes.StringValue!) as Change[]);
  const historyOf = async (ip: string) => ((await dynamo().doc.send(new QueryCommand({
    TableName: tables.history, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []) as Array<{ event: string; ruleId: string; blockedAt: number }>;
  stats.runs++;
  stats.reachedWaf += reachedWaf.size;
  stats.released += changes.filter((c) => c.event === 'released' || c.event === 'unblocked').length;
  const pairs = new Map<string, BlockRow[]>();
  for (const r of reachedWaf.values()) pairs.set(`${r.ip}|${r.ruleId}`, [...(pairs.get(`${r.ip}|${r.ruleId}`) ?? []), r]);
  for (const [pair, rows] of pairs) {
    const [ip, ruleId] = pair.split('|');
    const history = (await historyOf(ip)).filter((h) => h.ruleId === ruleId);
    for (const r of rows) {
      const starts = history.filter((h) => h.blockedAt === r.blockedAt && ['BLOCKED', 'RENEWED', 'MANUAL_BLOCKED', 'EXTENDED'].includes(h.event));
      const ends = history.filter((h) => h.blockedAt === r.blockedAt && ['RELEASED', 'UNBLOCKED', 'ENDED_NOT_APPLIED', 'COUNT_ENDED'].includes(h.event));
      const renewed = history.some((h) => h.event === 'RENEWED' && h.blockedAt > r.blockedAt);
      expectThat(starts.length === 1, () => `block ${pair} from ${r.blockedAt - T0} was in WAF; history has ${starts.length} start events: ${JSON.stringify(history.map((h) => [h.event, h.blockedAt - T0]))}\n${trace.join('\n')}`);
      expectThat(ends.every((e) => e.event === 'RELEASED' || e.event === 'UNBLOCKED') && (ends.length === 1 || (ends.length === 0 && renewed)), () =>
        `block ${pair} from ${r.blockedAt - T0} was in WAF; history ends it with ${JSON.stringify(ends.map((e) => e.event))}: ${JSON.stringify(history.map((h) => [h.event, h.blockedAt - T0]))}\n${trace.join('\n')}`);
    }
    const startEvents = history.filter((h) => ['BLOCKED', 'RENEWED', 'MANUAL_BLOCKED'].includes(h.event)).length;
    const endEvents = history.filter((h) => ['RELEASED', 'UNBLOCKED'].includes(h.event)).length;
    const alerted = changes.filter((c) => c.ip === ip && c.ruleId === ruleId);
    const startAlerts = alerted.filter((c) => ['blocked', 'manualBlocked'].includes(c.event)).length;
    const endAlerts = alerted.filter((c) => ['released', 'unblocked'].includes(c.event)).length;
    expectThat(startAlerts === startEvents && endAlerts === endEvents, () =>
      `block ${pair}: digests name it ${startAlerts}x blocked and ${endAlerts}x released; history records ${startEvents} starts and ${endEvents} ends` +
      `\n${JSON.stringify(alerted)}\n${trace.join('\n')}`);
  }

  // Detection survives every rules row written meanwhile: a new execution environment (no rules cached) still blocks.
  if (!sampled) {
    processor = newProcessor();
    const probe = '198.51.100.99';
    const attack = Array.from({ length: catchAt }, (_, i): ModelRequest => ({ atMs: now - 2000 + i, address: probe, route: 'DIRECT' }));
    const result = await processor.process(toRecords(0, attack));
    expectThat(result.batchItemFailures.length === 0 && result.summary.created.some((r) => r.ip === probe), () =>
      `a new execution environment did not block ${probe} after ${catchAt} requests in 2 s: ` +
      `${JSON.stringify(recorder.logs.filter((l) => l.level === 'error').slice(-3))}\n${trace.join('\n')}`);
  }
}

const seed = process.env.MODEL_SEED !== undefined ? Number(process.env.MODEL_SEED) : 1717;
const runs = Number(process.env.MODEL_RUNS ?? 12);

describe.each(combinations().map((features) => [features.length > 0 ? features.join(',') : 'none', features] as const))(
  'features: %s', (name, features) => {
    test('the guard keeps its promises over generated scenarios (model-based)', async () => {
      for (const f of FEATURE_NAMES) FEATURES[f] = features.includes(f);
      const result = await fc.check(fc.asyncProperty(scenarioArb(), runScenario), {
        seed,
        numRuns: runs,
        path: process.env.MODEL_PATH,
        endOnFailure: process.env.MODEL_SHRINK === '0',
      });
      if (process.env.MODEL_STATS === '1') console.log(JSON.stringify(stats));
      if (result.failed) {
        throw new Error(
          `model-based test failed; replay with:\n  MODEL_FEATURES=${name} MODEL_SEED=${result.seed} MODEL_PATH=${result.counterexamplePath} ` +
          `npx jest test/realtime-waf-guard/guard-model.integration.test.ts -w 1\n\n${(result.errorInstance as Error)?.message ?? String(result.errorInstance)}\n` +
          `scenario: ${JSON.stringify(result.counterexample?.[0])}`,
        );
      }
    }, Math.max(600_000, runs * 10_000));
  });
