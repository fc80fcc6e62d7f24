import { bucketMs, caughtWithinMs } from './buckets';

/**
 * The statistical bound a sampled count is judged by: pure, shared by the log processor, query detection, the
 * LOCAL_FIRST write levels, the replay CLI and the synth check, so they all block at the same logged count.
 *
 * With sampling rate s, a client sending n requests in a window has K ~ Binomial(n, s) of them logged. Scaling K by
 * 100/s and comparing with the threshold T (the point estimate) blocks innocents: the largest of the many overlapping
 * windows of a day crosses T·s by chance. Instead a rule blocks when a window holds at least k* logged requests, the
 * smallest count such that a client sending steadily at INNOCENT_SHARE (70%) of T reaches it in a day with probability
 * under FALSE_BLOCK_PER_CLIENT_DAY (1 in 1,000): a window is judged at every bucket, `86,400 s / bucket` times a day,
 * and the union bound over them gives each judgement `0.001 / evaluations`. k* is never below the point estimate
 * `⌈T·s⌉` (a count that estimates less than T never blocks), and at 100% it is T exactly: nothing is estimated.
 */

/** Probability, per client and day, that a client steadily at INNOCENT_SHARE of the threshold is blocked. */
export const FALSE_BLOCK_PER_CLIENT_DAY = 0.001;
/** The share of the threshold (in tenths) at which a client is innocent for the bound: 7/10. */
export const INNOCENT_SHARE_TENTHS = 7;
/** A rule must block a client at this many times its threshold within one window (synth and rules-table check). */
export const DETECTION_MULTIPLE = 10;
/** "Blocked within" means with at least this probability. */
export const DETECTION_CONFIDENCE = 0.99;

const DAY_MS = 86_400_000;

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x >= 1 (Lanczos, g = 7): about 15 significant digits. */
function lnGamma(x: number): number {
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function binomialPmf(n: number, p: number, k: number): number {
  return Math.exp(lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/** P(X >= k) for X ~ Binomial(n, p), summed from the side away from the mode so that small tails stay exact. */
export function binomialTail(n: number, p: number, k: number): number {
  if (k <= 0 || p >= 1) return k <= n ? 1 : 0;
  if (k > n || p <= 0) return 0;
  const odds = p / (1 - p);
  if (k > Math.floor((n + 1) * p)) {
    // Above the mode the terms fall: add them upwards until they no longer count.
    let term = binomialPmf(n, p, k);
    let sum = 0;
    for (let j = k; j <= n && term > sum * 1e-17; j++) {
      sum += term;
      term *= ((n - j) / (j + 1)) * odds;
    }
    return Math.min(1, sum);
  }
  let term = binomialPmf(n, p, k - 1);
  let below = 0;
  for (let j = k - 1; j >= 0 && term > below * 1e-17; j--) {
    below += term;
    term *= (j / (n - j + 1)) / odds;
  }
  return Math.max(0, 1 - below);
}

/** The smallest k with P(X >= k) < maxTail for X ~ Binomial(n, p); the tail falls with k, so a binary search. */
export function binomialCountAbove(n: number, p: number, maxTail: number): number {
  let lo = 0; // P(X >= 0) = 1: not below any maxTail <= 1
  let hi = n + 1; // P(X >= n + 1) = 0
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (binomialTail(n, p, mid) < maxTail) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Window totals judged per client and day: one window ends at every bucket. */
export function evaluationsPerDay(windowSeconds: number): number {
  return Math.ceil(DAY_MS / bucketMs(windowSeconds));
}

/** Requests in a window of a client steadily at INNOCENT_SHARE of the threshold, rounded up. */
function innocentRequests(threshold: number): number {
  return Math.ceil((threshold * INNOCENT_SHARE_TENTHS) / 10);
}

const memo = new Map<string, number>();

/**
 * k*: the fewest logged requests in a window that block, for a rule of `threshold` real requests per window at
 * `samplingRate` percent. Computed once per (threshold, rate, window) and remembered, so callers may ask per decision.
 */
export function loggedThreshold(threshold: number, samplingRate: number, windowSeconds: number): number {
  if (samplingRate >= 100) return threshold;
  const key = `${threshold}/${samplingRate}/${windowSeconds}`;
  let k = memo.get(key);
  if (k === undefined) {
    // ⌈T·s/100⌉ in whole numbers: the point estimate, below which the count estimates less than the threshold.
    const pointEstimate = Math.floor((threshold * samplingRate + 99) / 100);
    const perEvaluation = FALSE_BLOCK_PER_CLIENT_DAY / evaluationsPerDay(windowSeconds);
    k = Math.max(1, pointEstimate, binomialCountAbove(innocentRequests(threshold), samplingRate / 100, perEvaluation));
    if (memo.size >= 10_000) memo.clear();
    memo.set(key, k);
  }
  return k;
}

/** Whether a window holding `sampledInWindow` logged requests blocks under the rule. */
export function overThreshold(
  sampledInWindow: number,
  rule: { readonly threshold: number; readonly windowSeconds: number },
  samplingRate: number,
): boolean {
  return sampledInWindow >= loggedThreshold(rule.threshold, samplingRate, rule.windowSeconds);
}

/**
 * The union bound on the probability that a client steadily at `share` of the threshold is blocked within a day:
 * evaluations a day × P(its window holds k* logged requests). At most FALSE_BLOCK_PER_CLIENT_DAY at 70%; 0 at 100%.
 */
export function falseBlocksPerClientDay(threshold: number, samplingRate: number, windowSeconds: number, shareTenths = INNOCENT_SHARE_TENTHS): number {
  const k = loggedThreshold(threshold, samplingRate, windowSeconds);
  const requests = Math.ceil((threshold * shareTenths) / 10);
  return Math.min(1, evaluationsPerDay(windowSeconds) * binomialTail(requests, samplingRate / 100, k));
}

/**
 * How long a client that starts sending evenly at `multiple` times the threshold takes, at most, until it is blocked
 * with DETECTION_CONFIDENCE (99%): Infinity when that takes more than a day. Batching and processing (about a second)
 * come on top.
 *
 * Requests within `caughtWithinMs` of each other share a window total, so after c requests (c ≤ those that fit in that
 * span) the client is blocked with P(Binomial(c, s) >= k*); the delay is the time to send the smallest c for which
 * that reaches 99%. When no c within the span does, each window-long period holds a span of its own, sampled
 * independently, blocking with probability p each: 99% takes ⌈ln 0.01 / ln(1 − p)⌉ windows (an upper bound; the
 * sliding windows in between only add chances).
 */
export function detectionDelayMs(threshold: number, samplingRate: number, windowSeconds: number, multiple: number): number {
  const k = loggedThreshold(threshold, samplingRate, windowSeconds);
  const p = samplingRate / 100;
  const windowMs = windowSeconds * 1000;
  const perWindow = multiple * threshold;
  const inSpan = Math.floor((perWindow * caughtWithinMs(windowSeconds)) / windowMs);
  if (binomialTail(inSpan, p, k) >= DETECTION_CONFIDENCE) {
    let lo = k - 1; // too few: fewer than k* requests cannot hold k* logged ones
    let hi = inSpan;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (binomialTail(mid, p, k) >= DETECTION_CONFIDENCE) hi = mid;
      else lo = mid;
    }
    return Math.ceil((hi * windowMs) / perWindow);
  }
  const perSpan = binomialTail(inSpan, p, k);
  if (perSpan <= 0) return Infinity;
  const windows = Math.ceil(Math.log(1 - DETECTION_CONFIDENCE) / Math.log1p(-perSpan));
  return windows * windowMs > DAY_MS ? Infinity : windows * windowMs;
}

/** Whether a client at DETECTION_MULTIPLE times the threshold is blocked within one window (99%). */
function detectable(threshold: number, samplingRate: number, windowSeconds: number): boolean {
  return samplingRate >= 100 || detectionDelayMs(threshold, samplingRate, windowSeconds, DETECTION_MULTIPLE) <= caughtWithinMs(windowSeconds);
}

/**
 * Why a rule cannot be judged at this sampling rate, or undefined when it can: the bound must let a client at
 * DETECTION_MULTIPLE (10) times the threshold be blocked within one window. At 1%, a threshold of 50 per minute is
 * half a logged request per window, while keeping false blocks under 1 in 1,000 client-days takes 7 in one window.
 * At 100% nothing is estimated, so any threshold is exact and allowed.
 *
 * @param subject how to name the sampling rate in the fix, e.g. `samplingRate` or `--sampling`
 */
export function samplingProblem(threshold: number, samplingRate: number, windowSeconds: number, subject = 'samplingRate'): string | undefined {
  if (detectable(threshold, samplingRate, windowSeconds)) return undefined;
  const logged = (threshold * samplingRate) / 100;
  let lowestThreshold = threshold + 1;
  while (!detectable(lowestThreshold, samplingRate, windowSeconds)) lowestThreshold++;
  let lowestRate = samplingRate + 1;
  while (!detectable(threshold, lowestRate, windowSeconds)) lowestRate++;
  return `threshold ${threshold} at ${subject} ${samplingRate}% is ${Math.round(logged * 100) / 100} logged requests per ` +
    `window, and keeping false blocks under 1 in 1,000 client-days takes ${loggedThreshold(threshold, samplingRate, windowSeconds)} ` +
    `in one window, so even a client at ${DETECTION_MULTIPLE} times the threshold would not be blocked within a window (99%): ` +
    `raise threshold to at least ${lowestThreshold} or ${subject} to at least ${lowestRate}`;
}
