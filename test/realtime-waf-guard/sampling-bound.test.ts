import { readFileSync } from 'fs';
import { join } from 'path';
import fc from 'fast-check';
import { bucketMs } from '../../src/realtime-waf-guard/runtime/buckets';
import {
  binomialTail, DETECTION_CONFIDENCE, detectionDelayMs, evaluationsPerDay, FALSE_BLOCK_PER_CLIENT_DAY, falseBlocksPerClientDay,
  loggedThreshold, samplingProblem,
} from '../../src/realtime-waf-guard/runtime/sampling-bound';
import { delayTable } from '../support/sampling-table';

/** P(X >= k) for X ~ Binomial(n, rate / 100), exactly in rationals, as a double. */
function exactTail(n: number, rate: number, k: number): number {
  let numerator = 0n;
  let choose = 1n;
  for (let j = 0; j <= n; j++) {
    if (j > 0) choose = (choose * BigInt(n - j + 1)) / BigInt(j);
    if (j >= k) numerator += choose * BigInt(rate) ** BigInt(j) * BigInt(100 - rate) ** BigInt(n - j);
  }
  const denominator = 100n ** BigInt(n);
  if (numerator === 0n) return 0;
  // Scaled so the quotient keeps about 17 significant digits whatever the size of the tail.
  const shift = Math.max(0, denominator.toString().length - numerator.toString().length + 17);
  return Number((numerator * 10n ** BigInt(shift)) / denominator) / 10 ** shift;
}

describe('binomial tail', () => {
  test('exact values', () => {
    expect(binomialTail(10, 0.5, 8)).toBeCloseTo(56 / 1024, 15);
    expect(binomialTail(20, 0.3, 1)).toBeCloseTo(1 - 0.7 ** 20, 15);
    expect(binomialTail(20, 0.3, 0)).toBe(1);
    expect(binomialTail(20, 0.3, 21)).toBe(0);
    expect(binomialTail(20, 1, 20)).toBe(1);
    expect(binomialTail(20, 1, 21)).toBe(0);
    expect(binomialTail(20, 0, 1)).toBe(0);
  });

  test('agrees with exact rational arithmetic to 1e-9, small tails included', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 99 }), fc.nat(81), (n, rate, k) => {
      const exact = exactTail(n, rate, k);
      const computed = binomialTail(n, rate / 100, k);
      if (exact < 1e-300) return computed < 1e-290;
      return Math.abs(computed - exact) <= 1e-9 * exact;
    }), { seed: 17, numRuns: 400 });
  });

  test('many requests at a small rate: the known Poisson tails', () => {
    // Poisson(7), P(X >= 20) and Poisson(10), P(X >= 25): scipy.stats.poisson.sf(19, 7) and sf(24, 10)
    expect(binomialTail(10_000_000, 7e-7, 20) / 4.440247653963753e-5).toBeCloseTo(1, 4);
    expect(binomialTail(10_000_000, 1e-6, 25) / 4.694938142679987e-5).toBeCloseTo(1, 4);
    // Poisson(2), P(X >= 3) = 1 - 5 e^-2 and Poisson(1), P(X >= 1) = 1 - e^-1
    expect(binomialTail(10_000_000, 2e-7, 3)).toBeCloseTo(1 - 5 * Math.exp(-2), 6);
    expect(binomialTail(10_000_000, 1e-7, 1)).toBeCloseTo(1 - Math.exp(-1), 6);
  });

  test('huge counts stay fast and exact in the tail: Binomial(7e7, 0.5) far above its mean', () => {
    // scipy.stats.binom.sf(35_030_000 - 1, 70_000_000, 0.5)
    expect(binomialTail(70_000_000, 0.5, 35_030_000) / 3.7157328626153127e-13).toBeCloseTo(1, 5);
  });
});

describe('the logged threshold k*', () => {
  test('100 per minute at 10%: 24 logged requests, not the point estimate of 10', () => {
    // 70 requests a window at 10%: P(X >= 24) = 3.45e-8 and P(X >= 23) = 1.61e-7 (scipy), against 0.001 / 17,280
    // evaluations a day = 5.79e-8
    expect(evaluationsPerDay(60)).toBe(17_280);
    expect(loggedThreshold(100, 10, 60)).toBe(24);
    expect(falseBlocksPerClientDay(100, 10, 60)).toBeCloseTo(17_280 * 3.451453154588456e-8, 10);
  });

  test('at 100% nothing is estimated: the threshold itself', () => {
    for (const threshold of [1, 3, 100, 12_345]) expect(loggedThreshold(threshold, 100, 60)).toBe(threshold);
  });

  test('the smallest count at or above the point estimate that keeps a client at 70% under 1 false block in 1,000 days', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 10, max: 3600 }),
      (threshold, rate, windowSeconds) => {
        const k = loggedThreshold(threshold, rate, windowSeconds);
        const pointEstimate = Math.ceil((threshold * rate) / 100 - 1e-9);
        const innocent = Math.ceil(threshold * 0.7 - 1e-9);
        const perDay = (count: number) => evaluationsPerDay(windowSeconds) * binomialTail(innocent, rate / 100, count);
        expect(k).toBeGreaterThanOrEqual(Math.max(1, pointEstimate));
        expect(perDay(k)).toBeLessThan(FALSE_BLOCK_PER_CLIENT_DAY);
        expect(falseBlocksPerClientDay(threshold, rate, windowSeconds)).toBeLessThan(FALSE_BLOCK_PER_CLIENT_DAY);
        // minimal: one fewer would either estimate below the threshold or break the bound
        if (k > Math.max(1, pointEstimate)) expect(perDay(k - 1)).toBeGreaterThanOrEqual(FALSE_BLOCK_PER_CLIENT_DAY);
      },
    ), { seed: 8, numRuns: 300 });
  });

  test('large volumes are judged by the point estimate: the noise is small against them', () => {
    expect(loggedThreshold(10_000, 10, 60)).toBe(1000);
    expect(loggedThreshold(100_000_000, 50, 10)).toBe(50_000_000);
  });
});

describe('detection delay', () => {
  test('at 100%: the time to send the threshold; at 1x never (a client sending evenly needs 12/11 of it)', () => {
    expect(detectionDelayMs(100, 100, 60, 2)).toBe(30_000);
    expect(detectionDelayMs(100, 100, 60, 10)).toBe(6000);
    expect(detectionDelayMs(100, 100, 60, 1)).toBe(Infinity);
  });

  test('within one window, the delay is when enough requests were sent for k* logged ones with 99%', () => {
    fc.assert(fc.property(
      fc.integer({ min: 20, max: 100_000 }), fc.integer({ min: 1, max: 100 }), fc.constantFrom(10, 60, 300, 3600), fc.constantFrom(2, 5, 10, 20),
      (threshold, rate, windowSeconds, multiple) => {
        const delay = detectionDelayMs(threshold, rate, windowSeconds, multiple);
        const k = loggedThreshold(threshold, rate, windowSeconds);
        const windowMs = windowSeconds * 1000;
        if (delay > 11 * bucketMs(windowSeconds)) return;
        const sent = Math.floor((delay * multiple * threshold) / windowMs);
        expect(binomialTail(sent, rate / 100, k)).toBeGreaterThanOrEqual(DETECTION_CONFIDENCE);
        // a request less and it would not be sure yet
        const before = Math.ceil(((delay - 1) * multiple * threshold) / windowMs) - 1;
        expect(binomialTail(before, rate / 100, k)).toBeLessThan(DETECTION_CONFIDENCE);
      },
    ), { seed: 12, numRuns: 200 });
  });

  test('a busier client is never caught later', () => {
    for (const rate of [1, 5, 10, 25, 50, 100]) {
      const delays = [1, 2, 5, 10, 20].map((m) => detectionDelayMs(100, rate, 60, m));
      expect([...delays].sort((a, b) => b - a)).toEqual(delays);
    }
  });
});

describe('rules the bound cannot judge', () => {
  test('at 1% a threshold of 50 per minute is refused, with the lowest threshold and rate that work', () => {
    const problem = samplingProblem(50, 1, 60);
    expect(problem).toMatch(/^threshold 50 at samplingRate 1% is 0.5 logged requests per window, and keeping false blocks under 1 in 1,000 client-days takes 7 in one window/);
    expect(problem).toMatch(/raise threshold to at least 249 or samplingRate to at least 5$/);
    expect(samplingProblem(50, 1, 60, '--sampling')).toMatch(/at least 249 or --sampling to at least 5$/);
  });

  test('the suggested threshold and rate are the lowest that pass', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom(10, 13, 60, 61, 300, 3600),
      (threshold, rate, windowSeconds) => {
        const problem = samplingProblem(threshold, rate, windowSeconds);
        fc.pre(problem !== undefined);
        const [, lowestThreshold, lowestRate] = /at least (\d+) or samplingRate to at least (\d+)/.exec(problem!)!.map(Number);
        expect(samplingProblem(lowestThreshold, rate, windowSeconds)).toBeUndefined();
        expect(samplingProblem(lowestThreshold - 1, rate, windowSeconds)).toBeDefined();
        expect(samplingProblem(threshold, lowestRate, windowSeconds)).toBeUndefined();
        expect(samplingProblem(threshold, lowestRate - 1, windowSeconds)).toBeDefined();
      },
    ), { seed: 3, numRuns: 40 });
  });

  test('a rule passes when a client at 10 times the threshold is blocked within a window; 100% always passes', () => {
    expect(samplingProblem(100, 10, 60)).toBeUndefined();
    expect(detectionDelayMs(100, 10, 60, 10)).toBeLessThanOrEqual(55_000);
    expect(samplingProblem(20, 10, 60)).toBeDefined();
    expect(detectionDelayMs(20, 10, 60, 10)).toBeGreaterThan(55_000);
    expect(samplingProblem(1, 100, 10)).toBeUndefined();
  });
});

test('the table of detection delays in docs/guard-internals.md is what the bound computes', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'guard-internals.md'), 'utf8');
  const start = readme.indexOf('<!-- sampling-delays:start -->');
  const end = readme.indexOf('<!-- sampling-delays:end -->');
  expect(start).toBeGreaterThan(0);
  expect(readme.slice(start + '<!-- sampling-delays:start -->'.length, end).trim()).toBe(delayTable());
});
