import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { bucketOf, KeyCounts, ROUTE_BOTH, ROUTE_DIRECT, ROUTE_PROXY } from '../../src/realtime-waf-guard/runtime/detector';
import { parseIp } from '../../src/realtime-waf-guard/runtime/ip';
import { PendingCounts, writeLevel } from '../../src/realtime-waf-guard/runtime/pending-counts';
import { loggedThreshold } from '../../src/realtime-waf-guard/runtime/sampling-bound';

const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 300, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK', enabled: true };
const T0 = 1_767_225_600_000;

function entry(ip: string, times: number[], route = ROUTE_DIRECT): KeyCounts {
  const buckets = new Map<number, number>();
  for (const t of times) buckets.set(bucketOf(t, rule.windowSeconds), (buckets.get(bucketOf(t, rule.windowSeconds)) ?? 0) + 1);
  return { ruleIndex: 0, ip: parseIp(ip)!, buckets, route, firstRecord: 0, lastRecord: times.length - 1, lastTimestampMs: Math.max(...times) };
}

const times = (n: number, from: number, stepMs: number) => Array.from({ length: n }, (_, i) => from + i * stepMs);

describe('writeLevel', () => {
  test('is the slack of the logged threshold k* shared by the environments, and never below 1', () => {
    expect(writeLevel(rule, 100, 10, 1)).toBe(30);
    // 7.5: holding at most 7 stays under the share.
    expect(writeLevel(rule, 100, 10, 4)).toBe(8);
    // At 10% the rule blocks at 48 logged requests in a window, not at the point estimate of 30: the slack is of those.
    expect(loggedThreshold(rule.threshold, 10, rule.windowSeconds)).toBe(48);
    expect(writeLevel(rule, 10, 10, 1)).toBe(5);
    expect(writeLevel(rule, 10, 10, 4)).toBe(2);
    expect(writeLevel({ ...rule, threshold: 20 }, 5, 10, 1)).toBe(1);
  });
});

describe('PendingCounts', () => {
  test('holds a pair until its busiest window reaches the level, then hands over everything held', () => {
    const pending = new PendingCounts();
    expect(pending.add([entry('192.0.2.1', times(5, T0, 1000))], [rule], () => 10)).toEqual([]);
    expect(pending.heldFor(rule, '192.0.2.1')).toBe(5);
    const [written] = pending.add([entry('192.0.2.1', times(5, T0 + 5000, 1000), ROUTE_PROXY)], [rule], () => 10);
    expect([...written.buckets.values()].reduce((a, b) => a + b, 0)).toBe(10);
    expect(written.route).toBe(ROUTE_BOTH);
    expect(written.lastTimestampMs).toBe(T0 + 9000);
    expect(pending.size).toBe(0);
  });

  test('counts within a window, not over all time: requests spread over many windows stay held', () => {
    const pending = new PendingCounts();
    // 12 requests 20 s apart: at most 3 in any 60 s window.
    for (const t of times(12, T0, 20_000)) expect(pending.add([entry('192.0.2.1', [t])], [rule], () => 4)).toEqual([]);
    expect(pending.heldFor(rule, '192.0.2.1')).toBe(12);
  });

  test('a write that did not happen is held again, adding to what came since', () => {
    const pending = new PendingCounts();
    const [written] = pending.add([entry('192.0.2.1', times(10, T0, 100))], [rule], () => 10);
    pending.add([entry('192.0.2.1', times(2, T0 + 2000, 100))], [rule], () => 10);
    pending.hold(rule, written);
    expect(pending.heldFor(rule, '192.0.2.1')).toBe(12);
  });

  test('when the level falls, pairs held above it are handed over without their clients coming back', () => {
    const pending = new PendingCounts();
    pending.add([entry('192.0.2.1', times(6, T0, 100)), entry('192.0.2.2', times(2, T0, 100))], [rule], () => 10);
    const written = pending.overLevel([rule], () => 5);
    expect(written.map((e) => e.ip.text)).toEqual(['192.0.2.1']);
    expect(written[0].lastTimestampMs).toBeGreaterThanOrEqual(T0);
    expect(pending.heldFor(rule, '192.0.2.2')).toBe(2);
  });

  test('prune drops buckets no request to come can share a window with, and pairs of rules gone or re-windowed', () => {
    const pending = new PendingCounts();
    pending.add([entry('192.0.2.1', [T0, T0 + 120_000]), entry('192.0.2.2', [T0])], [rule], () => 100);
    // Nothing older than T0 + 110 s is still to come: T0 is more than a window before it.
    expect(pending.prune([rule], T0 + 110_000)).toBe(1);
    expect(pending.heldFor(rule, '192.0.2.1')).toBe(1);
    expect(pending.prune([{ ...rule, windowSeconds: 30 }], T0 + 110_000)).toBe(1);
    expect(pending.size).toBe(0);
  });

  test('evict writes out the longest-held pairs beyond the cap, and only pairs of current rules', () => {
    const pending = new PendingCounts();
    for (let i = 1; i <= 10; i++) pending.add([entry(`192.0.2.${i}`, [T0 + i])], [rule], () => 100);
    const written = pending.evict([rule], 4);
    expect(written.map((e) => e.ip.text)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6']);
    expect(pending.size).toBe(4);
    expect(pending.evict([{ ...rule, ruleId: 'other' }], 2)).toEqual([]);
    expect(pending.size).toBe(2);
  });
});
