import { freshnessLookbackMs } from './runtime/queries';

/**
 * Default thresholds of the monitor's alarms that follow from its schedule, kept pure so tests can check the collector's
 * figures against the same numbers the construct alarms on.
 */

/**
 * Default freshness threshold, seconds: the newest document may be as old as the run's distance to the start of its
 * window (ingest delay + at most one interval of schedule drift + the window) while the window still holds documents.
 * Older than that, the window the run measured was empty and so is the time since: nothing arrived.
 */
export function freshnessThresholdSeconds(intervalMs: number, windowMs: number, ingestDelayMs: number): number {
  return Math.round((ingestDelayMs + intervalMs + windowMs) / 1000);
}

/**
 * Seconds the freshness search looks back (see the collector's `freshnessLookbackMs`): with no document in it the
 * collector emits at least this, so a freshness threshold must stay below it or a dead pipeline never alarms.
 */
export function freshnessLookbackSeconds(intervalMs: number, windowMs: number, ingestDelayMs: number): number {
  return Math.floor(freshnessLookbackMs({ intervalMs, windowMs, ingestDelayMs }) / 1000);
}

/** Default traffic floor: fewer than this many requests in a period is breaching (zero traffic). */
export const DEFAULT_TRAFFIC_FLOOR = 1;

/** Default timeout share, percent of the requests with a latency. */
export const DEFAULT_TIMEOUT_PERCENT = 1;

/** Default share of HTTP 5xx answers, percent of the requests with a status code. */
export const DEFAULT_SERVER_ERROR_PERCENT = 5;
