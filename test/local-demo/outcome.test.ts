import { judge, judgeBlocks, JudgeInput } from '../../examples/local-demo/outcome';
import { DecisionEvent } from '../../examples/local-demo/pipeline';
import { judgeTruth, nearMissFraction } from '../../examples/local-demo/traffic';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { detectionDelayMs } from '../../src/realtime-waf-guard/runtime/sampling-bound';
import { blockRow } from '../support/block-rows';

// The demo's verdict must be able to fail: these cases feed the judge wrong outcomes on purpose.
const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 10, windowSeconds: 10, blockSeconds: 60, action: 'BLOCK', enabled: true };
const T0 = 1_800_000_000_000;
const steady = (count: number, everyMs: number, from = T0) => Array.from({ length: count }, (_, i) => from + i * everyMs);

function row(ip: string, blockedAt: number): BlockRow {
  return blockRow(ip, blockedAt, {
    observed: 12, threshold: 10, windowSeconds: 10, severity: 1.2, firstSeenAt: T0, crossedAt: blockedAt - 500, blockedUntil: blockedAt + 60_000,
  });
}

function input(overrides: Partial<JudgeInput>): JudgeInput {
  // 203.0.113.9 sends 30 requests in 3 s (crosses at its 10th); 192.0.2.1 sends 9 in 9 s (never crosses).
  const truth = judgeTruth(new Map([['api', new Map([['203.0.113.9', steady(30, 100)], ['192.0.2.1', steady(9, 1000)]])]]), [rule]);
  const decision: DecisionEvent = { row: row('203.0.113.9', T0 + 1500), decidedAtReal: T0 + 1600 };
  return {
    rules: [rule],
    truth,
    attackers: [{ ip: '203.0.113.9', ruleId: 'api' }],
    decisions: [decision],
    updates: [{ atReal: T0 + 2500, atClock: T0 + 2500, addresses: ['203.0.113.9/32'] }],
    // Sweeps every 10 s; the one starting 2 s after the block's end releases it.
    releases: [{ row: decision.row, atClock: decision.row.blockedUntil + 3000, runStartedAt: decision.row.blockedUntil + 2000 }],
    putTimes: new Map([['203.0.113.9', steady(30, 100).map((t): [number, number] => [t, t + 50])]]),
    syncRuns: [-8000, 2000, 12_000].map((d) => ({ startedAt: decision.row.blockedUntil + d, endedAt: decision.row.blockedUntil + d + 1000 })),
    ipSetsAtEnd: { ipv4: [], ipv6: [] },
    ...overrides,
  };
}

describe('demo verdict', () => {
  test('ground truth: the most requests in any window and the request that reached the threshold', () => {
    const truth = judgeTruth(new Map([['api', new Map([['a', steady(30, 100)], ['b', steady(12, 1000)]])]]), [rule]);
    expect(truth).toEqual([
      { ruleId: 'api', ip: 'a', maxInWindow: 30, crossedAtMs: T0 + 900 },
      // One per second: a window (t - 10 s, t] holds 10 of them, so the 10th request crosses.
      { ruleId: 'api', ip: 'b', maxInWindow: 10, crossedAtMs: T0 + 9000 },
    ]);
  });

  test('a correct run has no problems and latencies from the crossing record\'s put time', () => {
    const j = judge(input({}));
    expect(j.problems).toEqual([]);
    expect(j.attackers[0]).toMatchObject({ crossedAtMs: T0 + 900, decisionLatencyMs: 1600 - 950, ipSetLatencyMs: 2500 - 950 });
  });

  test('a client below threshold that was blocked fails the run', () => {
    const extra: DecisionEvent = { row: row('192.0.2.1', T0 + 9000), decidedAtReal: T0 + 9000 };
    const base = input({});
    const releases = [...base.releases, { row: extra.row, atClock: extra.row.blockedUntil, runStartedAt: extra.row.blockedUntil }];
    const j = judge(input({ decisions: [...base.decisions, extra], releases }));
    expect(j.falseBlocks).toEqual([{ ip: '192.0.2.1', ruleId: 'api', maxInWindow: 9, threshold: 10 }]);
    expect(j.problems).toEqual(['192.0.2.1 was blocked by rule api with at most 9 real requests in a window (threshold 10)']);
  });

  test('an attacker not blocked, never released, released late, or left in the IP set fails the run', () => {
    expect(judge(input({ decisions: [], releases: [] })).problems).toEqual([
      'attacker 203.0.113.9 (rule api, 30 requests in a window) was not blocked',
      '203.0.113.9 sent 30 requests in a window (threshold 10 of rule api) and was not blocked',
    ]);
    expect(judge(input({ releases: [] })).problems).toEqual(['203.0.113.9 (rule api) was never released']);
    const late = input({}).releases.map((r) => ({ ...r, atClock: r.row.blockedUntil + 13_000, runStartedAt: r.row.blockedUntil + 12_000 }));
    expect(judge(input({ releases: late })).problems).toEqual([
      '203.0.113.9 (rule api) was released 13.0 s after its block ended, not by the first sync run after it',
    ]);
    const early = input({}).releases.map((r) => ({ ...r, atClock: r.row.blockedUntil - 7000, runStartedAt: r.row.blockedUntil - 8000 }));
    expect(judge(input({ releases: early })).problems).toEqual(['203.0.113.9 (rule api) was released 7.0 s before its block ended']);
    expect(judge(input({ updates: [] })).problems).toEqual(['attacker 203.0.113.9 was blocked but never reached the WAF IP set']);
    expect(judge(input({ ipSetsAtEnd: { ipv4: ['203.0.113.9/32'], ipv6: [] } })).problems).toEqual(['the WAF IP sets still hold 203.0.113.9/32 at the end']);
  });

  test('below 100% sampling a client is due to be blocked only within the sampling bound\'s documented delay', () => {
    // the demo's login rule at 10% sampling: 10 logged requests per window; an attacker at twice the threshold
    const login: StoredRule = { ...rule, ruleId: 'login', threshold: 100 };
    const truth = judgeTruth(new Map([['login', new Map([['2001:db8:9:1::abc', steady(300, 50)]])]]), [login]);
    const crossedAtMs = truth[0].crossedAtMs!;
    const delayMs = detectionDelayMs(100, 10, 10, 2);
    expect(truth[0].maxInWindow).toBe(200);
    expect(delayMs).toBeGreaterThan(60_000);
    const missed = (samplingRate: number, trafficEndMs: number) => judgeBlocks([login], truth, [], { samplingRate, trafficEndMs }).missed.length;
    // at 100% it is due at once; at 10%, once its documented delay has passed before the traffic ended
    expect(missed(100, crossedAtMs + 14_000)).toBe(1);
    expect(missed(10, crossedAtMs + 14_000)).toBe(0);
    expect(missed(10, crossedAtMs + delayMs)).toBe(1);
    // and the attacker check of the verdict follows it
    const verdict = (trafficEndMs: number) => judge(input({
      rules: [login],
      truth,
      attackers: [{ ip: '2001:db8:9:1::abc', ruleId: 'login' }],
      decisions: [],
      releases: [],
      updates: [],
      syncRuns: [],
      sampling: { samplingRate: 10, trafficEndMs },
    })).problems;
    expect(verdict(crossedAtMs + 14_000)).toEqual([]);
    expect(verdict(crossedAtMs + delayMs)).toEqual([
      'attacker 2001:db8:9:1::abc (rule login, 200 requests in a window) was not blocked',
      '2001:db8:9:1::abc sent 200 requests in a window (threshold 100 of rule login) and was not blocked',
    ]);
  });

  test('the near-miss client stays as close to the threshold as sampling can tell apart', () => {
    expect(nearMissFraction(100, 100)).toBe(0.9);
    expect(nearMissFraction(100, 5)).toBeLessThan(0.3);
    expect(nearMissFraction(100, 5)).toBeGreaterThan(0.1);
  });
});
