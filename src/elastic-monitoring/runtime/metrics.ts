import { CLUSTER_STATUS_CODE, ClusterHealthFigures, NodeHealthFigures } from './cluster-health';
import { CollectorConfig } from './config';
import { EmfDocument, MetricDatum } from './emf';
import { DIMENSION, METRIC } from './metric-names';
import { ComparisonFigure, NodeFigures, StatusCodeFigures, WindowFigures } from './responses';

/** What one run found; any part may be missing when its request failed. */
export interface RunFigures {
  readonly window?: WindowFigures;
  readonly comparison?: readonly ComparisonFigure[];
  readonly statusCodes?: StatusCodeFigures;
  /** Age of the newest document at the run's time; undefined when there is none or the search failed. */
  readonly newestDocumentAgeSeconds?: number;
  readonly nodes?: readonly NodeFigures[];
  readonly errorCount: number;
  /** Whether the searches' figures are partial; undefined when the searches failed altogether. */
  readonly partial?: boolean;
  /** From `_cluster/health`; absent when that request failed. */
  readonly clusterHealth?: ClusterHealthFigures;
  /** Health figures of `_nodes/stats`; absent when that request failed. */
  readonly nodeHealth?: NodeHealthFigures;
}

function worst(values: ReadonlyArray<number | undefined>, pick: (a: number, b: number) => number): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  // Math.max/min must not see reduce's index and array arguments.
  return present.length === 0 ? undefined : present.reduce((a, b) => pick(a, b));
}

/** Where a run's metrics go. */
export type MetricTarget = Pick<CollectorConfig, 'namespace' | 'clusterName'>;

/** The EMF documents of a run: one for the cluster, one per compared window, one per node. */
export function runMetrics(config: MetricTarget, timestamp: Date, figures: RunFigures): EmfDocument[] {
  const clusterDims = { [DIMENSION.cluster]: config.clusterName };
  const docs: EmfDocument[] = [];
  const w = figures.window;
  const cluster: MetricDatum[] = [
    // Always emitted, 0 included, so "collector did not run" (missing data) is told apart from "ran fine".
    { name: METRIC.collectorErrors, unit: 'Count', value: figures.errorCount },
  ];
  if (figures.partial !== undefined) {
    cluster.push({ name: METRIC.partialRun, unit: 'Count', value: figures.partial ? 1 : 0 });
  }
  if (figures.newestDocumentAgeSeconds !== undefined) {
    cluster.push({ name: METRIC.newestDocumentAgeSeconds, unit: 'Seconds', value: figures.newestDocumentAgeSeconds });
  }
  if (figures.statusCodes?.serverErrorPercent !== undefined) {
    cluster.push({ name: METRIC.serverErrorPercent, unit: 'Percent', value: figures.statusCodes.serverErrorPercent });
  }
  if (w) {
    cluster.push(
      { name: METRIC.requestCount, unit: 'Count', value: w.requests },
      { name: METRIC.timeoutCount, unit: 'Count', value: w.timeouts },
      { name: METRIC.timeoutPercent, unit: 'Percent', value: w.timeoutPercent },
      { name: METRIC.latencyP95, unit: 'Milliseconds', value: w.latencyP95Ms },
      { name: METRIC.latencyP99, unit: 'Milliseconds', value: w.latencyP99Ms },
      { name: METRIC.documentsWithoutLatency, unit: 'Count', value: w.withoutLatency },
      { name: METRIC.documentsWithoutStatus, unit: 'Count', value: w.withoutStatus },
      { name: METRIC.latencyAverage, unit: 'Milliseconds', value: w.latencyAverageMs },
      { name: METRIC.latencyAverageWithoutTimeouts, unit: 'Milliseconds', value: w.latencyAverageWithoutTimeoutsMs },
      { name: METRIC.slowest5PctAverage, unit: 'Milliseconds', value: w.slowest5PctAverageMs },
      {
        name: METRIC.slowest5PctAverageWithoutTimeouts,
        unit: 'Milliseconds',
        value: w.slowest5PctAverageWithoutTimeoutsMs,
      },
      { name: METRIC.allowedCount, unit: 'Count', value: w.status.allowed },
      { name: METRIC.blockedCount, unit: 'Count', value: w.status.blocked },
      { name: METRIC.alertedCount, unit: 'Count', value: w.status.alerted },
      { name: METRIC.allowedPercent, unit: 'Percent', value: w.statusPercent?.allowed },
      { name: METRIC.blockedPercent, unit: 'Percent', value: w.statusPercent?.blocked },
      { name: METRIC.alertedPercent, unit: 'Percent', value: w.statusPercent?.alerted },
      { name: METRIC.apdex, unit: 'None', value: w.apdex },
    );
  }
  const nodes = figures.nodes ?? [];
  if (nodes.length > 0) {
    cluster.push(
      { name: METRIC.nodeCpuPercentMax, unit: 'Percent', value: worst(nodes.map((n) => n.cpuPercent), Math.max) },
      { name: METRIC.nodeHeapUsedPercentMax, unit: 'Percent', value: worst(nodes.map((n) => n.heapUsedPercent), Math.max) },
      { name: METRIC.nodeDiskFreePercentMin, unit: 'Percent', value: worst(nodes.map((n) => n.diskFreePercent), Math.min) },
    );
  }
  cluster.push(...clusterHealthMetrics(figures));
  docs.push({ namespace: config.namespace, timestamp, dimensions: clusterDims, metrics: cluster });
  for (const c of figures.comparison ?? []) {
    docs.push({
      namespace: config.namespace,
      timestamp,
      dimensions: { ...clusterDims, [DIMENSION.offset]: c.offset },
      metrics: [{ name: METRIC.latencyAverageByOffset, unit: 'Milliseconds', value: c.averageLatencyMs }],
    });
  }
  const pressureById = new Map((figures.nodeHealth?.nodes ?? []).map((h) => [h.id, h.jvmMemoryPressurePercent]));
  for (const n of nodes) {
    docs.push({
      namespace: config.namespace,
      timestamp,
      dimensions: { ...clusterDims, [DIMENSION.node]: n.name },
      metrics: [
        { name: METRIC.nodeCpuPercent, unit: 'Percent', value: n.cpuPercent },
        { name: METRIC.nodeHeapUsedPercent, unit: 'Percent', value: n.heapUsedPercent },
        { name: METRIC.nodeDiskFreePercent, unit: 'Percent', value: n.diskFreePercent },
        { name: METRIC.nodeJvmMemoryPressure, unit: 'Percent', value: pressureById.get(n.id) },
      ],
    });
  }
  return docs;
}

/** Cluster-level health datums: status, unassigned shards, worst memory pressure, summed rejection counters. */
function clusterHealthMetrics(figures: RunFigures): MetricDatum[] {
  const health = figures.clusterHealth;
  const nodeHealth = figures.nodeHealth;
  const out: MetricDatum[] = [];
  if (health) {
    out.push(
      { name: METRIC.clusterStatus, unit: 'None', value: health.status === undefined ? undefined : CLUSTER_STATUS_CODE[health.status] },
      { name: METRIC.unassignedShards, unit: 'Count', value: health.unassignedShards },
    );
  }
  if (nodeHealth) {
    out.push(
      { name: METRIC.jvmMemoryPressureMax, unit: 'Percent', value: worst(nodeHealth.nodes.map((n) => n.jvmMemoryPressurePercent), Math.max) },
      { name: METRIC.searchRejectedTotal, unit: 'Count', value: nodeHealth.searchRejectedTotal },
      { name: METRIC.writeRejectedTotal, unit: 'Count', value: nodeHealth.writeRejectedTotal },
      { name: METRIC.statsNodeSet, unit: 'None', value: nodeHealth.nodeSetId },
    );
  }
  return out;
}
