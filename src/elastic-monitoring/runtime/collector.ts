import { ClusterHealthFigures, NodeHealthFigures, mapClusterHealth, mapNodeHealth } from './cluster-health';
import { CollectorConfig, hasNodeStats, redactUrlCredentials } from './config';
import { renderEmf } from './emf';
import { COLLECTOR_ERROR_EVENT, COLLECTOR_WARNING_EVENT, TOP_HOST_APPROXIMATE_FIELD, TOP_HOST_EVENT } from './metric-names';
import { MetricTarget, runMetrics } from './metrics';
import { CLUSTER_HEALTH_REQUEST, CollectionWindow, NODE_STATS_REQUEST, buildMsearch, collectionWindow, freshnessLookbackMs } from './queries';
import {
  ComparisonFigure,
  HostFigures,
  NodeFigures,
  Notice,
  StatusCodeFigures,
  WindowFigures,
  mapNodeStats,
  mapSearchResponses,
} from './responses';
import { Problem, classifyError } from '../../shared/runtime/elastic/problems';
import { Log } from '../../shared/runtime/telemetry';

/** The requests a run makes, one method each; an adapter over the collector's HTTP transport in production. */
export interface SearchClient {
  msearch(searches: Record<string, unknown>[]): Promise<unknown>;
  nodesStats(request: typeof NODE_STATS_REQUEST): Promise<unknown>;
  clusterHealth(request: typeof CLUSTER_HEALTH_REQUEST): Promise<unknown>;
}

export interface RunSummary {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly requests?: number;
  readonly nodes: number;
  readonly problems: readonly Problem[];
  /** Warnings the figures should be read with (no matching index, partial results, approximate ranking). */
  readonly notices: readonly Notice[];
  /** Some shard failed or timed out: the figures are partial. */
  readonly partial: boolean;
}

export interface CollectorRun {
  readonly client: SearchClient;
  readonly config: CollectorConfig;
  readonly now: Date;
  readonly logger: Log;
  /** Where EMF lines go: standard output in Lambda, which CloudWatch Logs reads as EMF. */
  readonly writeEmf: (line: string) => void;
  /** @default MAX_LOGGED_PROBLEMS */
  readonly maxLoggedProblems?: number;
}

/**
 * At most this many problems are logged per run (the rest counted in one warning). Problems are per request, search
 * or missing field, never per node, so a real run stays far below it; it bounds the log of an answer built to flood it.
 */
export const MAX_LOGGED_PROBLEMS = 50;

/**
 * One collection: the `_msearch`, `_nodes/stats` and `_cluster/health` requests in parallel (three round trips, no
 * retries: the next scheduled run is the retry; one on Serverless, which has neither node stats nor cluster health),
 * figures to EMF, top hosts to the log. A failed request costs only its own figures. Never throws for a cluster-side
 * problem.
 */
export async function collect(run: CollectorRun): Promise<RunSummary> {
  const { client, config, logger } = run;
  const window = collectionWindow(run.now, config);
  const problems: Problem[] = [];

  // Serverless has no nodes or cluster health to ask about: those figures are left out there, not reported as failing.
  const withNodes = hasNodeStats(config.engine);
  const [searchResult, nodesResult, healthResult] = await Promise.allSettled([
    client.msearch(buildMsearch(config, window)),
    withNodes ? client.nodesStats(NODE_STATS_REQUEST) : Promise.resolve(undefined),
    withNodes ? client.clusterHealth(CLUSTER_HEALTH_REQUEST) : Promise.resolve(undefined),
  ]);

  let windowFigures: WindowFigures | undefined;
  let comparison: readonly ComparisonFigure[] | undefined;
  let topHosts: readonly HostFigures[] = [];
  let notices: readonly Notice[] = [];
  let partial: boolean | undefined;
  let statusCodes: StatusCodeFigures | undefined;
  let newestDocumentAt: Date | undefined;
  let noDocumentInLookback = false;
  let approximate = false;
  if (searchResult.status === 'fulfilled') {
    const responses = (searchResult.value as { responses?: unknown } | undefined)?.responses;
    const results = mapSearchResponses(Array.isArray(responses) ? responses : [], config);
    windowFigures = results.window;
    comparison = results.comparison;
    topHosts = results.topHosts ?? [];
    notices = results.notices;
    partial = results.partial;
    statusCodes = results.statusCodes;
    newestDocumentAt = results.newestDocumentAt;
    noDocumentInLookback = results.noDocumentInLookback;
    approximate = results.topHostsApproximate;
    for (const p of results.problems) problems.push(p);
  } else {
    problems.push(classifyError(searchResult.reason, '_msearch', config.endpoint));
  }

  let nodes: NodeFigures[] | undefined;
  if (!withNodes) {
    nodes = undefined;
  } else if (nodesResult.status === 'fulfilled') {
    const mapped = mapNodeStats(nodesResult.value);
    nodes = mapped.value;
    for (const p of mapped.problems) problems.push(p);
  } else {
    problems.push(classifyError(nodesResult.reason, '_nodes/stats', config.endpoint));
  }

  // Cluster health: the health call's figures, and the health part of the node stats answer.
  let clusterHealth: ClusterHealthFigures | undefined;
  let nodeHealth: NodeHealthFigures | undefined;
  if (!withNodes) {
    clusterHealth = undefined;
  } else if (healthResult.status === 'fulfilled') {
    const mapped = mapClusterHealth(healthResult.value);
    clusterHealth = mapped.value;
    for (const p of mapped.problems) problems.push(p);
  } else {
    problems.push(classifyError(healthResult.reason, '_cluster/health', config.endpoint));
  }
  if (withNodes && nodesResult.status === 'fulfilled') {
    const mapped = mapNodeHealth(nodesResult.value);
    nodeHealth = mapped.value;
    for (const p of mapped.problems) problems.push(p);
  }

  const windowFields = windowLogFields(window);
  const maxLogged = run.maxLoggedProblems ?? MAX_LOGGED_PROBLEMS;
  for (const p of problems.slice(0, maxLogged)) logProblem(logger, p, windowFields);
  if (problems.length > maxLogged) {
    logger.warn(`${problems.length - maxLogged} more collector errors in this run were left out of the log (${problems.length} in all, the first ${maxLogged} logged)`, {
      event: COLLECTOR_WARNING_EVENT,
      kind: 'problems-left-out',
      leftOut: problems.length - maxLogged,
      ...windowFields,
    });
  }
  for (const n of notices) {
    logger.warn(`collector warning (${n.kind}): ${n.message}`, {
      event: COLLECTOR_WARNING_EVENT,
      kind: n.kind,
      searches: n.searches,
      indexPattern: config.indexPattern,
      ...windowFields,
    });
  }
  if (windowFigures && windowFigures.requests === 0) {
    logger.warn('no documents in the window; averages, percentages and Apdex are not emitted', {
      event: 'empty-window',
      indexPattern: config.indexPattern,
      timestampField: config.fields.timestamp,
      ...windowFields,
    });
  }
  for (const host of topHosts) {
    // A partial run's or an approximate ranking's hosts say so, so the table is never read as complete or exact.
    logger.info(`top host ${host.rank}: ${host.host}`, {
      event: TOP_HOST_EVENT,
      ...host,
      ...(partial ? { partial: true } : {}),
      ...(approximate ? { [TOP_HOST_APPROXIMATE_FIELD]: true } : {}),
      ...windowFields,
    });
  }

  const docs = runMetrics(config, window.timestamp, {
    window: windowFigures,
    comparison,
    statusCodes,
    newestDocumentAgeSeconds: newestDocumentAge(run.now, window, newestDocumentAt, noDocumentInLookback, freshnessLookbackMs(config)),
    nodes,
    errorCount: problems.length,
    partial,
    clusterHealth,
    nodeHealth,
  });
  for (const doc of docs) {
    for (const line of renderEmf(doc)) run.writeEmf(line);
  }

  return {
    windowStart: windowFields.windowStart,
    windowEnd: windowFields.windowEnd,
    requests: windowFigures?.requests,
    nodes: nodes?.length ?? 0,
    problems,
    notices,
    partial: partial === true,
  };
}

/**
 * A run that could not reach Elasticsearch at all (bad configuration, unreadable secret) still reports itself, so the
 * CollectorErrors alarm fires instead of the metric going silent.
 */
export function reportFailedRun(
  problem: Problem,
  logger: Log,
  writeEmf: (line: string) => void,
  metricTarget: MetricTarget | undefined,
  now: Date,
): void {
  logProblem(logger, problem, {});
  if (!metricTarget) return;
  const docs = runMetrics(metricTarget, now, { errorCount: 1 });
  for (const doc of docs) for (const line of renderEmf(doc)) writeEmf(line);
}

/** The one place problems are logged; messages can quote URLs from error texts, so user info is redacted here too. */
function logProblem(logger: Log, problem: Problem, extra: Record<string, unknown>): void {
  logger.error(`collector error (${problem.kind}) in ${problem.source}: ${redactUrlCredentials(problem.message)}`, {
    event: COLLECTOR_ERROR_EVENT,
    kind: problem.kind,
    source: problem.source,
    ...extra,
  });
}

function windowLogFields(window: CollectionWindow) {
  return { windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() };
}

/**
 * Seconds since the newest document. With none in the lookback (a dead pipeline, a pattern that matches nothing after
 * a rollover rename) the newest is at least as old as the lookback, and that bound is emitted: the freshness alarm
 * then fires on a value, and a missing value means only that the collector could not search (CollectorErrors says so).
 */
function newestDocumentAge(
  now: Date, window: CollectionWindow, newest: Date | undefined, noneInLookback: boolean, lookbackMs: number,
): number | undefined {
  // Never negative: the freshness search reads only up to the run's time.
  if (newest) return Math.max(0, (now.getTime() - newest.getTime()) / 1000);
  if (noneInLookback) return (now.getTime() - (window.end.getTime() - lookbackMs)) / 1000;
  return undefined;
}
