import { Mapped, MissingNodeFields, asObj, at, finite } from './responses';
import { Problem } from '../../shared/runtime/elastic/problems';

/**
 * Cluster health figures: status and unassigned shards from `_cluster/health`, JVM memory pressure and thread-pool
 * rejections from the `_nodes/stats` answer the run already has.
 *
 * Rejection counters are cumulative since each node started, and the collector keeps no state between runs. A run
 * emits the counters summed over the nodes that reported them, and an id of that set of nodes; the per-period figure
 * is computed in CloudWatch (see {@link rejectionsExpression}) as the difference from the previous period, counted
 * only when the set of nodes did not change. Why this never over-counts: a restarted node keeps its id (Elasticsearch
 * persists it in the data path) and its counter starts again from 0, so the summed difference is at most the
 * rejections that really happened (the restart's loss only hides some); a node that joins, leaves or fails to report
 * changes the set, and that one period is not counted (a node reappearing with a week of old rejections would
 * otherwise page).
 */

/** `ClusterStatus` values: ordered, so "not green" is `>= 1` and red is `>= 2`. */
export const CLUSTER_STATUS_CODE = { green: 0, yellow: 1, red: 2 } as const;

export type ClusterStatus = keyof typeof CLUSTER_STATUS_CODE;

export interface ClusterHealthFigures {
  readonly status?: ClusterStatus;
  readonly unassignedShards?: number;
}

export interface NodeHealth {
  readonly id: string;
  readonly name: string;
  /** Old-generation pool used / max, percent. */
  readonly jvmMemoryPressurePercent?: number;
  readonly searchRejected?: number;
  readonly writeRejected?: number;
}

export interface NodeHealthFigures {
  readonly nodes: readonly NodeHealth[];
  /** Rejections since start summed over `countedNodes`; absent when no node reported both counters. */
  readonly searchRejectedTotal?: number;
  readonly writeRejectedTotal?: number;
  /** Nodes that reported both rejection counters. */
  readonly countedNodes: number;
  /** Id of the set of counted nodes; see {@link nodeSetId}. */
  readonly nodeSetId?: number;
}

const HEALTH_SOURCE = '_cluster/health';

/** Reads `_cluster/health`. An answer without a known status or unassigned-shard count is a problem. */
export function mapClusterHealth(body: unknown): Mapped<ClusterHealthFigures> {
  const problems: Problem[] = [];
  const raw = at(body, ['status']);
  const status = typeof raw === 'string' && raw.toLowerCase() in CLUSTER_STATUS_CODE
    ? (raw.toLowerCase() as ClusterStatus)
    : undefined;
  if (status === undefined) {
    problems.push({
      kind: 'response',
      source: HEALTH_SOURCE,
      message: `${HEALTH_SOURCE}: unexpected response: status is ${JSON.stringify(raw) ?? 'missing'}, not green, yellow or red`,
    });
  }
  const unassignedShards = finite(at(body, ['unassigned_shards']));
  if (unassignedShards === undefined) {
    problems.push({ kind: 'missing-field', source: HEALTH_SOURCE, message: `${HEALTH_SOURCE} reports no unassigned_shards` });
  }
  return { value: { status, unassignedShards }, problems };
}

/** Largest prime below 2^20: ids stay small integers, exact through CloudWatch's statistics. */
const NODE_SET_MODULUS = 1_048_573;

/**
 * An id of a set of node ids (a polynomial hash of the sorted ids, below 2^20). It changes when the set changes; two
 * sets share an id about once in a million.
 */
export function nodeSetId(ids: readonly string[]): number {
  let hash = 0;
  for (const ch of [...ids].sort().join('\n')) hash = (hash * 131 + ch.codePointAt(0)!) % NODE_SET_MODULUS;
  return hash;
}

/**
 * Reads the health part of `_nodes/stats`: old-generation use against its maximum (the heap maximum when the JVM
 * reports no old-generation maximum) and the search and write pools' rejection counters. One problem per missing
 * path, naming the nodes (see MissingNodeFields); `_nodes.failed` and a missing `nodes` object are reported by the
 * node-stats mapping already.
 */
export function mapNodeHealth(body: unknown): Mapped<NodeHealthFigures> {
  const source = '_nodes/stats';
  const problems: Problem[] = [];
  const nodes: NodeHealth[] = [];
  const gaps = new MissingNodeFields(source);
  for (const [id, node] of Object.entries(asObj(at(body, ['nodes'])) ?? {})) {
    const reported = at(node, ['name']);
    const name = typeof reported === 'string' && reported.trim() !== '' ? reported : id;
    const missing = (path: string) => gaps.add(path, name);
    const used = finite(at(node, ['jvm', 'mem', 'pools', 'old', 'used_in_bytes']));
    const oldMax = finite(at(node, ['jvm', 'mem', 'pools', 'old', 'max_in_bytes']));
    // A JVM may report -1 or 0 for a pool without its own limit; the old generation can then grow to the heap maximum.
    const max = oldMax !== undefined && oldMax > 0 ? oldMax : finite(at(node, ['jvm', 'mem', 'heap_max_in_bytes']));
    const jvmMemoryPressurePercent = used !== undefined && max !== undefined && max > 0 ? (used / max) * 100 : undefined;
    if (jvmMemoryPressurePercent === undefined) missing('jvm.mem.pools.old.used_in_bytes/max_in_bytes');
    const searchRejected = finite(at(node, ['thread_pool', 'search', 'rejected']));
    if (searchRejected === undefined) missing('thread_pool.search.rejected');
    const writeRejected = finite(at(node, ['thread_pool', 'write', 'rejected']));
    if (writeRejected === undefined) missing('thread_pool.write.rejected');
    nodes.push({ id, name, jvmMemoryPressurePercent, searchRejected, writeRejected });
  }
  for (const p of gaps.problems()) problems.push(p);
  // One set of nodes for both sums, so one node-set id guards both differences.
  const counted = nodes.filter((n) => n.searchRejected !== undefined && n.writeRejected !== undefined);
  const sum = (pick: (n: NodeHealth) => number) => counted.reduce((a, n) => a + pick(n), 0);
  const value: NodeHealthFigures = counted.length === 0
    ? { nodes, countedNodes: 0 }
    : {
      nodes,
      countedNodes: counted.length,
      searchRejectedTotal: sum((n) => n.searchRejected!),
      writeRejectedTotal: sum((n) => n.writeRejected!),
      nodeSetId: nodeSetId(counted.map((n) => n.id)),
    };
  return { value, problems };
}

/**
 * The per-period rejections in CloudWatch metric math, over the metric ids `total` (the summed counters, Maximum) and
 * `nodes` (the node-set id, Maximum): the increase since the previous period, 0 when the counters went down
 * (restarts) or the set of nodes changed. DIFF needs the previous datapoint, so an alarm on it evaluates at least two
 * periods. Ids are parameters because one graph holds the search and the write figure.
 */
export function rejectionsExpression(total = 'total', nodes = 'nodes'): string {
  return `IF(DIFF(${nodes}) == 0, IF(DIFF(${total}) > 0, DIFF(${total}), 0), 0)`;
}
