/**
 * Buckets a window is split into. A window total is a sum of 12 consecutive buckets, which span `12 × bucketMs` (at
 * most the window), so it never overstates any window-long interval: a client below the threshold in every window-long
 * interval is never blocked. The price is one bucket: requests are caught for sure once `threshold` of them lie within
 * `11 × bucketMs` of each other (first to last), which is 11/12 of the window when the window is a multiple of 3 s
 * (`bucketMs` is then exact) and 3⅔ or 7⅓ ms less otherwise (`bucketMs` is rounded down to whole milliseconds, so that
 * counters, Timestream's `bin()` and the replay share one integer bucket grid). A client sending evenly is blocked by
 * about 12/11 (1.09) times the threshold per window. No bucketed count can do better for two bursts almost exactly a
 * window apart: whether they fall within one window or just outside it depends on where inside their buckets they
 * sit, which the counts do not keep.
 */
export const BUCKETS_PER_WINDOW = 12;

/** Bucket length in milliseconds: `⌊window ms / 12⌋`, so BUCKETS_PER_WINDOW of them never span more than the window. */
export function bucketMs(windowSeconds: number): number {
  return Math.floor((windowSeconds * 1000) / BUCKETS_PER_WINDOW);
}

export function bucketsPerWindow(_windowSeconds: number): number {
  return BUCKETS_PER_WINDOW;
}

export function bucketOf(timestampMs: number, windowSeconds: number): number {
  return Math.floor(timestampMs / bucketMs(windowSeconds));
}

/**
 * The longest time, first request to last, within which `threshold` requests are always caught: 11 buckets. Any two
 * whole-millisecond times at most this far apart fall within 12 consecutive buckets (one window total); one more
 * millisecond and some pair does not.
 */
export function caughtWithinMs(windowSeconds: number): number {
  return (BUCKETS_PER_WINDOW - 1) * bucketMs(windowSeconds);
}
