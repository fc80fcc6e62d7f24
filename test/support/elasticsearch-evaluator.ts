/**
 * A small Elasticsearch 8 for tests: indices of documents spread over shards, and a `_search`/`_msearch` that evaluates
 * the request body with Elasticsearch's semantics for the query DSL subset the library sends. It answers from the
 * request, never from the caller's configuration, so a wrong query gives a wrong answer here too.
 *
 * Covered: queries `bool` (filter, must, should + minimum_should_match, must_not), `range`, `term`, `terms`, `exists`,
 * `match_all`; aggregations `stats`, `avg`, `sum`, `min`, `max`, `value_count`, `cardinality` (exact), `percentiles`
 * (exact, see {@link exactPercentile}), `filter`,
 * `filters`, `range`, `date_range`, `terms` (size, shard_size, order by `_count`, `_key` or a sub-aggregation,
 * min_doc_count). Cluster behaviour: a `terms` aggregation is computed per shard (each shard's top `shard_size` buckets
 * by the requested order, judged on that shard's documents) and merged on the "coordinating node", so counts and
 * sub-aggregation values of a term are those of the shards that returned it, as in Elasticsearch; failed and timed-out
 * shards (partial results); a pattern matching no index; aggregations on `text` fields (400) and numeric aggregations on
 * `keyword` fields (400); all shards failed (503).
 */

export type FieldType = 'keyword' | 'text' | 'long' | 'double' | 'date' | 'ip' | 'boolean';

export type Doc = Record<string, unknown>;

export interface IndexDefinition {
  readonly name: string;
  readonly docs: readonly Doc[];
  /** @default 1 */
  readonly shards?: number;
  /**
   * Field types by dotted path. Fields not listed are typed from the first document that has them (string: keyword,
   * number: double, ISO date string on a `*timestamp*` path: date), like dynamic mapping with keyword strings.
   */
  readonly mappings?: Readonly<Record<string, FieldType>>;
  /** Which shard a document lives on. @default round robin by position */
  readonly shardOf?: (doc: Doc, position: number) => number;
  /** Shards that fail every search (their documents are missing from results; `_shards.failed`). */
  readonly failedShards?: readonly number[];
  /** Shards that hit the search timeout before reading anything (`timed_out: true`). */
  readonly timedOutShards?: readonly number[];
  /**
   * Replica copies of each shard. A copy is assigned only to a node holding no other copy of the shard, so with fewer
   * nodes than copies the rest are unassigned (a one-node cluster with replicas is yellow). @default 0
   */
  readonly replicas?: number;
}

/**
 * A node of the fake cluster, for `_nodes/stats` and `_cluster/health`. Rejection counters are cumulative since the
 * node started, as in Elasticsearch: {@link EvaluatedCluster.restartNode} sets them back to 0, the id stays.
 */
export interface NodeDefinition {
  readonly id: string;
  readonly name: string;
  /** @default 10 */
  readonly cpuPercent?: number;
  /** @default 4 GiB */
  readonly heapMaxBytes?: number;
  /** Old-generation pool in use; the heap in use is this plus the young generation. @default 25% of the heap */
  readonly oldUsedBytes?: number;
  /** @default 100 GiB */
  readonly diskTotalBytes?: number;
  /** @default 60 GiB */
  readonly diskAvailableBytes?: number;
  /** Rejections since the node started, by thread pool. @default 0 */
  readonly rejected?: { readonly search?: number; readonly write?: number };
  /** The node does not answer the stats request (`_nodes.failed`). */
  readonly unresponsive?: boolean;
}

export class EsError extends Error {
  constructor(public readonly status: number, public readonly body: Record<string, unknown>) {
    super(JSON.stringify(body));
  }
}

type Json = Record<string, any>;

interface Hit {
  readonly doc: Doc;
  readonly shard: string;
  readonly index: StoredIndex;
}

interface StoredIndex {
  readonly def: IndexDefinition;
  readonly types: Map<string, FieldType>;
}

function badRequest(type: string, reason: string): EsError {
  return new EsError(400, { error: { root_cause: [{ type, reason }], type, reason }, status: 400 });
}

/** Elasticsearch's wrapping of a failure on every shard, with the shard-level reason as root cause. */
function searchPhaseFailure(type: string, reason: string, index: string): EsError {
  const cause = { type, reason };
  return new EsError(400, {
    error: {
      root_cause: [cause],
      type: 'search_phase_execution_exception',
      reason: 'all shards failed',
      phase: 'query',
      grouped: true,
      failed_shards: [{ shard: 0, index, node: 'node-1', reason: cause }],
      caused_by: { ...cause, caused_by: cause },
    },
    status: 400,
  });
}

export function getField(doc: Doc, path: string): unknown {
  if (path in doc) return doc[path];
  const direct = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), doc);
  // A multi-field (`host.keyword`) indexes its parent's value.
  if (direct === undefined && path.endsWith('.keyword')) return getField(doc, path.slice(0, -'.keyword'.length));
  return direct;
}

function values(doc: Doc, path: string): unknown[] {
  const v = getField(doc, path);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined) : [v];
}

function wildcardRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

const GIB = 1024 ** 3;

/** `_nodes/stats` metric groups Elasticsearch 8 knows; the fake models os, process, jvm, fs and thread_pool. */
const NODE_STATS_METRICS = new Set([
  '_all', 'indices', 'os', 'process', 'jvm', 'thread_pool', 'fs', 'transport', 'http', 'breaker', 'script', 'discovery',
  'ingest', 'adaptive_selection', 'script_cache', 'indexing_pressure', 'repositories', 'allocations',
]);

export class EvaluatedCluster {
  private readonly indices: StoredIndex[];
  private readonly nodes: Array<NodeDefinition & { startedAt: number; rejectedNow: { search: number; write: number } }>;
  private clock = Date.parse('2026-11-21T00:00:00Z');

  /** @param nodes the cluster's (data) nodes; default one node. */
  constructor(indices: readonly IndexDefinition[], nodes: readonly NodeDefinition[] = [{ id: 'n1AbCdEfGhIjKlMnOpQrSt', name: 'node-1' }]) {
    this.indices = indices.map((def) => ({ def, types: inferTypes(def) }));
    this.nodes = nodes.map((n) => ({
      ...n,
      startedAt: this.clock - 86_400_000,
      rejectedNow: { search: n.rejected?.search ?? 0, write: n.rejected?.write ?? 0 },
    }));
  }

  /** Moves the fake's clock (node uptime, stats timestamps). */
  public advance(ms: number): this {
    this.clock += ms;
    return this;
  }

  /** The node's thread pool rejects `count` more tasks. */
  public reject(nodeId: string, pool: 'search' | 'write', count: number): this {
    this.node(nodeId).rejectedNow[pool] += count;
    return this;
  }

  /** Shards of an index lose every copy (or get them back): searches fail on them, health turns red. */
  public setFailedShards(indexName: string, shards: readonly number[]): this {
    const i = this.indices.findIndex((ix) => ix.def.name === indexName);
    if (i < 0) throw new Error(`no index ${indexName}`);
    this.indices[i] = { ...this.indices[i], def: { ...this.indices[i].def, failedShards: shards } };
    return this;
  }

  /** The node restarts: same id, counters from 0, uptime from now. */
  public restartNode(nodeId: string): this {
    const n = this.node(nodeId);
    n.rejectedNow = { search: 0, write: 0 };
    n.startedAt = this.clock;
    return this;
  }

  /** The node stops (or starts) answering stats requests. */
  public setUnresponsive(nodeId: string, unresponsive: boolean): this {
    const i = this.nodes.findIndex((n) => n.id === nodeId);
    this.nodes[i] = { ...this.node(nodeId), unresponsive };
    return this;
  }

  /** A node joins the cluster. */
  public addNode(node: NodeDefinition): this {
    this.nodes.push({ ...node, startedAt: this.clock, rejectedNow: { search: node.rejected?.search ?? 0, write: node.rejected?.write ?? 0 } });
    return this;
  }

  /** A node leaves the cluster. */
  public removeNode(nodeId: string): this {
    this.nodes.splice(this.nodes.findIndex((n) => n.id === nodeId), 1);
    return this;
  }

  private node(id: string) {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /**
   * `GET _nodes/stats/<metrics>?filter_path=...`: Elasticsearch 8's answer shape for the modelled groups, only the
   * groups asked for, then trimmed by filter_path as Elasticsearch does.
   */
  public nodesStats(metrics: readonly string[], filterPath?: readonly string[]): Json {
    const unknown = metrics.filter((m) => !NODE_STATS_METRICS.has(m));
    if (unknown.length > 0) {
      throw badRequest('illegal_argument_exception', `request [/_nodes/stats/${metrics.join(',')}] contains unrecognized metric: [${unknown[0]}]`);
    }
    const want = (m: string) => metrics.includes(m) || metrics.includes('_all') || metrics.length === 0;
    const answering = this.nodes.filter((n) => !n.unresponsive);
    const failed = this.nodes.length - answering.length;
    const body: Json = {
      _nodes: {
        total: this.nodes.length,
        successful: answering.length,
        failed,
        ...(failed > 0 ? { failures: this.nodes.filter((n) => n.unresponsive).map((n) => nodeFailure(n.id, n.name)) } : {}),
      },
      cluster_name: 'waf-logs',
      nodes: Object.fromEntries(answering.map((n) => [n.id, this.nodeStatsOf(n, want)])),
    };
    return filterPath ? applyFilterPath(body, filterPath) : body;
  }

  private nodeStatsOf(n: (typeof this.nodes)[number], want: (m: string) => boolean): Json {
    const heapMax = n.heapMaxBytes ?? 4 * GIB;
    const oldUsed = n.oldUsedBytes ?? heapMax / 4;
    const young = Math.round(heapMax * 0.05);
    const cpu = n.cpuPercent ?? 10;
    const diskTotal = n.diskTotalBytes ?? 100 * GIB;
    const diskAvailable = n.diskAvailableBytes ?? 60 * GIB;
    const pool = (rejected: number, threads: number, queue = 0) => ({ threads, queue, active: 0, rejected, largest: threads, completed: 184_223 });
    const out: Json = {
      timestamp: this.clock,
      name: n.name,
      transport_address: '10.0.0.1:9300',
      host: '10.0.0.1',
      ip: '10.0.0.1:9300',
      roles: ['data_content', 'data_hot', 'ingest', 'master', 'remote_cluster_client', 'transform'],
      attributes: { 'xpack.installed': 'true' },
    };
    if (want('os')) {
      out.os = {
        timestamp: this.clock,
        cpu: { percent: Math.min(100, cpu + 3), load_average: { '1m': 1.2, '5m': 1.1, '15m': 0.9 } },
        mem: { total_in_bytes: 2 * heapMax, free_in_bytes: GIB, used_in_bytes: 2 * heapMax - GIB, free_percent: 12, used_percent: 88 },
      };
    }
    if (want('process')) {
      out.process = {
        timestamp: this.clock,
        open_file_descriptors: 1_024,
        max_file_descriptors: 1_048_576,
        cpu: { percent: cpu, total_in_millis: 4_231_020 },
        mem: { total_virtual_in_bytes: 3 * heapMax },
      };
    }
    if (want('jvm')) {
      out.jvm = {
        timestamp: this.clock,
        uptime_in_millis: this.clock - n.startedAt,
        mem: {
          heap_used_in_bytes: oldUsed + young,
          heap_used_percent: Math.round(((oldUsed + young) / heapMax) * 100),
          heap_committed_in_bytes: heapMax,
          heap_max_in_bytes: heapMax,
          non_heap_used_in_bytes: 212_000_000,
          non_heap_committed_in_bytes: 220_000_000,
          // G1: the young and survivor pools have no maximum of their own (0); the old pool's is the heap's.
          pools: {
            young: { used_in_bytes: young, max_in_bytes: 0, peak_used_in_bytes: 2 * young, peak_max_in_bytes: 0 },
            old: { used_in_bytes: oldUsed, max_in_bytes: heapMax, peak_used_in_bytes: oldUsed, peak_max_in_bytes: heapMax },
            survivor: { used_in_bytes: 8_388_608, max_in_bytes: 0, peak_used_in_bytes: 16_777_216, peak_max_in_bytes: 0 },
          },
        },
        threads: { count: 87, peak_count: 91 },
        gc: {
          collectors: {
            young: { collection_count: 812, collection_time_in_millis: 9_120 },
            old: { collection_count: 0, collection_time_in_millis: 0 },
          },
        },
      };
    }
    if (want('fs')) {
      out.fs = { timestamp: this.clock, total: { total_in_bytes: diskTotal, free_in_bytes: diskAvailable, available_in_bytes: diskAvailable } };
    }
    if (want('thread_pool')) {
      out.thread_pool = {
        get: pool(0, 4),
        management: pool(0, 2),
        search: pool(n.rejectedNow.search, 7),
        search_coordination: pool(0, 2),
        search_worker: pool(0, 7),
        snapshot: pool(0, 1),
        write: pool(n.rejectedNow.write, 4),
      };
    }
    return out;
  }

  /**
   * `GET _cluster/health?filter_path=...`, computed from the indices and nodes: a shard of `failedShards` has no copy
   * (primary unassigned: red), replicas beyond what the nodes can hold are unassigned (yellow).
   */
  public clusterHealth(filterPath?: readonly string[]): Json {
    const nodes = this.nodes.length;
    let primaries = 0;
    let active = 0;
    let unassigned = 0;
    let primaryMissing = false;
    for (const ix of this.indices) {
      const copies = 1 + (ix.def.replicas ?? 0);
      const failed = new Set(ix.def.failedShards ?? []);
      for (let shard = 0; shard < (ix.def.shards ?? 1); shard++) {
        const assigned = failed.has(shard) ? 0 : Math.min(copies, nodes);
        if (assigned > 0) primaries++;
        else primaryMissing = true;
        active += assigned;
        unassigned += copies - assigned;
      }
    }
    const total = active + unassigned;
    const body: Json = {
      cluster_name: 'waf-logs',
      status: primaryMissing ? 'red' : unassigned > 0 ? 'yellow' : 'green',
      timed_out: false,
      number_of_nodes: nodes,
      number_of_data_nodes: nodes,
      active_primary_shards: primaries,
      active_shards: active,
      relocating_shards: 0,
      initializing_shards: 0,
      unassigned_shards: unassigned,
      unassigned_primary_shards: this.indices.reduce((a, ix) => a + (ix.def.failedShards?.length ?? 0), 0),
      delayed_unassigned_shards: 0,
      number_of_pending_tasks: 0,
      number_of_in_flight_fetch: 0,
      task_max_waiting_in_queue_millis: 0,
      active_shards_percent_as_number: total === 0 ? 100 : (active / total) * 100,
    };
    return filterPath ? applyFilterPath(body, filterPath) : body;
  }

  /** `_msearch`: one item per header/body pair; a failed search is an `{error, status}` item, as in Elasticsearch. */
  public msearch(searches: readonly Json[]): Json {
    const responses: Json[] = [];
    for (let i = 0; i < searches.length; i += 2) {
      const header = searches[i] ?? {};
      try {
        responses.push({ ...this.search(header.index ?? '_all', searches[i + 1] ?? {}, header), status: 200 });
      } catch (e) {
        if (!(e instanceof EsError)) throw e;
        responses.push({ ...e.body, status: e.status });
      }
    }
    return { took: 5, responses };
  }

  /** `_search` on an index expression; throws {@link EsError} where Elasticsearch answers with an error. */
  public search(indexExpression: string | string[], body: Json, options: Json = {}): Json {
    const indices = this.resolve(indexExpression, options);
    const total = indices.reduce((a, ix) => a + (ix.def.shards ?? 1), 0);
    const failures: Json[] = [];
    let timedOut = false;
    const hits: Hit[] = [];
    for (const ix of indices) {
      const shards = ix.def.shards ?? 1;
      const failed = new Set(ix.def.failedShards ?? []);
      const slow = new Set(ix.def.timedOutShards ?? []);
      for (const s of failed) {
        failures.push({ shard: s, index: ix.def.name, node: `node-${s}`, reason: { type: 'node_not_connected_exception', reason: `[node-${s}] Node not connected` } });
      }
      if ([...slow].some((s) => !failed.has(s))) timedOut = true;
      ix.def.docs.forEach((doc, position) => {
        const shard = (ix.def.shardOf?.(doc, position) ?? position) % shards;
        if (failed.has(shard) || slow.has(shard)) return;
        hits.push({ doc, shard: `${ix.def.name}#${shard}`, index: ix });
      });
    }
    if (total > 0 && failures.length === total) {
      throw new EsError(503, {
        error: { root_cause: [], type: 'search_phase_execution_exception', reason: 'all shards failed', phase: 'query', grouped: true, failed_shards: failures },
        status: 503,
      });
    }
    const types = (field: string) => fieldType(indices, field);
    const matched = hits.filter((h) => matches(h.doc, body.query ?? { match_all: {} }, types));
    const response: Json = {
      took: 3,
      timed_out: timedOut,
      _shards: { total, successful: total - failures.length, skipped: 0, failed: failures.length, ...(failures.length ? { failures } : {}) },
      hits: {
        ...(body.track_total_hits === false ? {} : { total: { value: matched.length, relation: 'eq' } }),
        max_score: null,
        hits: [],
      },
    };
    // Elasticsearch leaves `aggregations` out when no shard was searched.
    if (body.aggs && total > 0) {
      const names = indices.map((ix) => ix.def.name).join(',');
      response.aggregations = evaluateAggs(body.aggs, matched, types, names);
    }
    return response;
  }

  private resolve(expression: string | string[], options: Json): StoredIndex[] {
    const parts = (Array.isArray(expression) ? expression : expression.split(',')).map((p) => p.trim());
    const found = new Set<StoredIndex>();
    for (const part of parts) {
      const re = wildcardRegex(part === '_all' ? '*' : part);
      const hit = this.indices.filter((ix) => re.test(ix.def.name));
      if (hit.length === 0 && !part.includes('*') && part !== '_all' && options.ignore_unavailable !== true) {
        throw new EsError(404, {
          error: { root_cause: [{ type: 'index_not_found_exception', reason: `no such index [${part}]` }], type: 'index_not_found_exception', reason: `no such index [${part}]`, index: part },
          status: 404,
        });
      }
      hit.forEach((ix) => found.add(ix));
    }
    if (found.size === 0 && options.allow_no_indices === false) {
      throw new EsError(404, {
        error: { root_cause: [{ type: 'index_not_found_exception', reason: `no such index [${parts.join(',')}]` }], type: 'index_not_found_exception', reason: `no such index [${parts.join(',')}]` },
        status: 404,
      });
    }
    return [...found];
  }
}

/** How `_nodes/stats` reports a node that did not answer in time. */
function nodeFailure(id: string, name: string): Json {
  return {
    type: 'failed_node_exception',
    reason: `Failed node [${id}]`,
    node_id: id,
    caused_by: {
      type: 'receive_timeout_transport_exception',
      reason: `[${name}][10.0.0.1:9300][cluster:monitor/nodes/stats[n]] request_id [81] timed out after [15008ms]`,
    },
  };
}

/**
 * Elasticsearch's `filter_path`: keeps the paths matching any pattern (dot-separated, `*` within a key, `**` for any
 * depth); a matched object is kept whole; nothing matched gives `{}`.
 */
export function applyFilterPath(body: Json, patterns: readonly string[]): Json {
  const split = patterns.flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('-')).map((p) => p.split('.'));
  const keyMatches = (pattern: string, key: string) => wildcardRegex(pattern).test(key);
  const filter = (value: unknown, paths: string[][]): unknown => {
    if (paths.some((p) => p.length === 0)) return value;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const out: Json = {};
    for (const [key, child] of Object.entries(value as Json)) {
      const next: string[][] = [];
      for (const p of paths) {
        if (p[0] === '**') {
          next.push(p);
          if (p.length > 1 && keyMatches(p[1], key)) next.push(p.slice(2));
        } else if (keyMatches(p[0], key)) {
          next.push(p.slice(1));
        }
      }
      if (next.length === 0) continue;
      const kept = filter(child, next);
      if (kept !== undefined && !(typeof kept === 'object' && kept !== null && !Array.isArray(kept) && Object.keys(kept).length === 0 && !next.some((p) => p.length === 0))) {
        out[key] = kept;
      }
    }
    return out;
  };
  return (filter(body, split) as Json | undefined) ?? {};
}

function inferTypes(def: IndexDefinition): Map<string, FieldType> {
  const types = new Map<string, FieldType>(Object.entries(def.mappings ?? {}));
  const walk = (o: unknown, prefix: string) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return;
    for (const [k, v] of Object.entries(o as Json)) {
      const path = prefix ? `${prefix}.${k}` : k;
      const sample = Array.isArray(v) ? v[0] : v;
      if (sample && typeof sample === 'object') {walk(sample, path);} else if (!types.has(path) && sample !== undefined && sample !== null) {
        types.set(path, typeof sample === 'number' ? 'double' : typeof sample === 'boolean' ? 'boolean'
          : /timestamp/.test(path) && !Number.isNaN(Date.parse(String(sample))) ? 'date' : 'keyword');
      }
    }
  };
  for (const doc of def.docs) walk(doc, '');
  return types;
}

function fieldType(indices: StoredIndex[], field: string): FieldType | undefined {
  for (const ix of indices) {
    const t = ix.types.get(field);
    if (t) return t;
    if (field.endsWith('.keyword') && ix.types.has(field.slice(0, -'.keyword'.length))) {
      // Dynamic mapping gives strings a keyword sub-field; an explicit text field is assumed to have one too.
      return 'keyword';
    }
  }
  return undefined;
}

type Types = (field: string) => FieldType | undefined;

function comparable(v: unknown, type: FieldType | undefined): number | string | undefined {
  if (type === 'date') {
    const t = typeof v === 'number' ? v : Date.parse(String(v));
    return Number.isNaN(t) ? undefined : t;
  }
  if (type === 'long' || type === 'double') {
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return v === undefined || v === null ? undefined : String(v);
}

function matches(doc: Doc, query: Json, types: Types): boolean {
  const [kind, spec] = Object.entries(query)[0] ?? ['match_all', {}];
  switch (kind) {
    case 'match_all':
      return true;
    case 'bool': {
      const list = (v: unknown): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as Json]);
      const must = [...list(spec.filter), ...list(spec.must)];
      if (!must.every((q) => matches(doc, q, types))) return false;
      if (list(spec.must_not).some((q) => matches(doc, q, types))) return false;
      const should = list(spec.should);
      const minimum = spec.minimum_should_match ?? (must.length === 0 ? 1 : 0);
      return should.length === 0 || should.filter((q) => matches(doc, q, types)).length >= minimum;
    }
    case 'range': {
      const [field, bounds] = Object.entries(spec as Json)[0];
      const type = types(field);
      return values(doc, field).some((raw) => {
        const v = comparable(raw, type);
        if (v === undefined) return false;
        const b = (x: unknown) => comparable(x, type) as number | string;
        return (bounds.gte === undefined || v >= b(bounds.gte)) && (bounds.gt === undefined || v > b(bounds.gt))
          && (bounds.lte === undefined || v <= b(bounds.lte)) && (bounds.lt === undefined || v < b(bounds.lt));
      });
    }
    case 'term': {
      const [field, raw] = Object.entries(spec as Json)[0];
      const wanted = raw && typeof raw === 'object' ? raw.value : raw;
      return termMatch(doc, field, [wanted], types);
    }
    case 'terms': {
      const [field, list] = Object.entries(spec as Json)[0];
      return termMatch(doc, field, list as unknown[], types);
    }
    case 'exists':
      return values(doc, spec.field).length > 0;
    default:
      throw badRequest('parsing_exception', `unknown query [${kind}]`);
  }
}

function termMatch(doc: Doc, field: string, wanted: unknown[], types: Types): boolean {
  const type = types(field);
  // A term query on a text field matches an analyzed token (lower-cased words), not the whole value.
  const have = values(doc, field).flatMap((v) => (type === 'text' ? String(v).toLowerCase().split(/\W+/) : [comparable(v, type)]));
  return wanted.some((w) => have.includes(type === 'text' ? String(w) : comparable(w, type)));
}

const NUMERIC_AGGS = new Set(['stats', 'avg', 'sum', 'min', 'max', 'range', 'percentiles']);

/**
 * The `p`th percentile of sorted values as Elasticsearch's TDigest gives it while every value is its own centroid
 * (small sets, below the compression): the i-th value (0-based) sits at rank i + 1/2 of n, the percentile at rank
 * p/100 x n is interpolated linearly between the two values around it, and clamped to the minimum and maximum at the
 * ends (Hazen's definition). Exact values, not an estimate: tests compare with plain arithmetic over the documents.
 */
export function exactPercentile(sorted: readonly number[], p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = (p / 100) * n - 0.5;
  if (rank <= 0) return sorted[0];
  if (rank >= n - 1) return sorted[n - 1];
  const below = Math.floor(rank);
  return sorted[below] + (rank - below) * (sorted[below + 1] - sorted[below]);
}

/** Values of a field for an aggregation, refusing the field types Elasticsearch refuses. */
function aggValues(hits: readonly Hit[], field: string, agg: string, types: Types, index: string): unknown[] {
  const type = types(field);
  if (type === 'text') {
    throw searchPhaseFailure('illegal_argument_exception',
      `Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [${field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory.`,
      index);
  }
  if (NUMERIC_AGGS.has(agg) && (type === 'keyword' || type === 'ip' || type === 'boolean')) {
    throw searchPhaseFailure('illegal_argument_exception', `Field [${field}] of type [${type}] is not supported for aggregation [${agg}]`, index);
  }
  return hits.flatMap((h) => values(h.doc, field));
}

function numbers(hits: readonly Hit[], field: string, agg: string, types: Types, index: string): number[] {
  return aggValues(hits, field, agg, types, index).map((v) => comparable(v, types(field) ?? 'double') as number).filter((v) => typeof v === 'number');
}

function evaluateAggs(aggs: Json, hits: readonly Hit[], types: Types, index: string): Json {
  const out: Json = {};
  for (const [name, def] of Object.entries(aggs)) out[name] = evaluateAgg(def, hits, types, index);
  return out;
}

function stats(vs: number[]): Json {
  if (vs.length === 0) return { count: 0, min: null, max: null, avg: null, sum: 0 };
  const sum = vs.reduce((a, b) => a + b, 0);
  return { count: vs.length, min: Math.min(...vs), max: Math.max(...vs), avg: sum / vs.length, sum };
}

function rangeKey(from: number | undefined, to: number | undefined): string {
  const f = (n: number | undefined) => (n === undefined ? '*' : Number.isInteger(n) ? n.toFixed(1) : String(n));
  return `${f(from)}-${f(to)}`;
}

function evaluateAgg(def: Json, hits: readonly Hit[], types: Types, index: string): Json {
  const sub = def.aggs ?? def.aggregations;
  const withSub = (bucketHits: readonly Hit[], bucket: Json) => (sub ? { ...bucket, ...evaluateAggs(sub, bucketHits, types, index) } : bucket);
  const kinds = Object.keys(def).filter((k) => k !== 'aggs' && k !== 'aggregations');
  if (kinds.length !== 1) throw badRequest('parsing_exception', `expected one aggregation type, got [${kinds.join(',')}]`);
  const kind = kinds[0];
  const spec = def[kind];
  switch (kind) {
    case 'stats':
      return stats(numbers(hits, spec.field, kind, types, index));
    case 'avg': {
      const vs = numbers(hits, spec.field, kind, types, index);
      return { value: vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null };
    }
    case 'sum':
      return { value: numbers(hits, spec.field, kind, types, index).reduce((a, b) => a + b, 0) };
    case 'min':
    case 'max': {
      const vs = numbers(hits, spec.field, kind, types, index);
      const value = vs.length ? vs.reduce((a, b) => (kind === 'min' ? Math.min(a, b) : Math.max(a, b))) : null;
      // A date field's min/max also comes as a string in the field's format.
      return types(spec.field) === 'date' && value !== null ? { value, value_as_string: new Date(value).toISOString() } : { value };
    }
    case 'percentiles': {
      const sorted = numbers(hits, spec.field, kind, types, index).sort((a, b) => a - b);
      const percents: number[] = spec.percents ?? [1, 5, 25, 50, 75, 95, 99];
      // Keys are the percents as doubles ("95.0"), as Elasticsearch prints them.
      const key = (p: number) => (Number.isInteger(p) ? p.toFixed(1) : String(p));
      if (spec.keyed === false) return { values: percents.map((p) => ({ key: p, value: exactPercentile(sorted, p) })) };
      return { values: Object.fromEntries(percents.map((p) => [key(p), exactPercentile(sorted, p)])) };
    }
    case 'value_count':
      return { value: aggValues(hits, spec.field, kind, types, index).length };
    case 'cardinality':
      return { value: new Set(aggValues(hits, spec.field, kind, types, index).map(String)).size };
    case 'filter': {
      const inside = hits.filter((h) => matches(h.doc, spec, types));
      return withSub(inside, { doc_count: inside.length });
    }
    case 'filters': {
      const entries: Array<[string, Json]> = Array.isArray(spec.filters)
        ? spec.filters.map((q: Json, i: number) => [String(i), q])
        : Object.entries(spec.filters);
      const buckets = entries.map(([key, q]) => {
        const inside = hits.filter((h) => matches(h.doc, q, types));
        return [key, withSub(inside, { doc_count: inside.length })] as const;
      });
      return { buckets: Array.isArray(spec.filters) ? buckets.map(([, b]) => b) : Object.fromEntries(buckets) };
    }
    case 'range':
    case 'date_range': {
      const type = kind === 'date_range' ? 'date' : 'double';
      const field: string = spec.field;
      if (kind === 'range') aggValues(hits, field, 'range', types, index);
      else if (types(field) === 'text') aggValues(hits, field, 'date_range', types, index);
      const buckets = (spec.ranges as Json[]).map((r) => {
        const from = r.from === undefined ? undefined : (comparable(r.from, type) as number);
        const to = r.to === undefined ? undefined : (comparable(r.to, type) as number);
        // from inclusive, to exclusive
        const inside = hits.filter((h) => values(h.doc, field).some((raw) => {
          const v = comparable(raw, types(field) ?? type) as number;
          return typeof v === 'number' && (from === undefined || v >= from) && (to === undefined || v < to);
        }));
        const iso = (n: number) => new Date(n).toISOString();
        const key = r.key ?? (kind === 'date_range' ? `${from === undefined ? '*' : iso(from)}-${to === undefined ? '*' : iso(to)}` : rangeKey(from, to));
        const bucket: Json = {
          key,
          ...(from === undefined ? {} : { from, ...(kind === 'date_range' ? { from_as_string: iso(from) } : {}) }),
          ...(to === undefined ? {} : { to, ...(kind === 'date_range' ? { to_as_string: iso(to) } : {}) }),
          doc_count: inside.length,
        };
        return withSub(inside, bucket);
      });
      if (spec.keyed === true) return { buckets: Object.fromEntries(buckets.map(({ key, ...rest }) => [key, rest])) };
      return { buckets };
    }
    case 'terms':
      return termsAgg(spec, sub, hits, types, index);
    default:
      throw badRequest('parsing_exception', `Unknown aggregation type [${kind}]`);
  }
}

interface Order { readonly path: string; readonly desc: boolean }

function orders(spec: Json): Order[] {
  const raw = spec.order === undefined ? [{ _count: 'desc' }] : Array.isArray(spec.order) ? spec.order : [spec.order];
  const list: Order[] = raw.map((o: Json) => {
    const [path, dir] = Object.entries(o)[0];
    return { path, desc: dir === 'desc' };
  });
  // Elasticsearch breaks ties by key, ascending.
  if (!list.some((o) => o.path === '_key')) list.push({ path: '_key', desc: false });
  return list;
}

/** The value a bucket is ordered by: `_count`, `_key`, a single-value metric, `stats.avg`, or a filter's doc_count. */
function orderValue(bucket: Json, path: string): number | string | null {
  if (path === '_count') return bucket.doc_count;
  if (path === '_key') return bucket.key;
  const [name, prop] = path.split('.');
  const agg = bucket[name];
  if (agg === undefined) throw badRequest('aggregation_execution_exception', `Invalid aggregation order path [${path}]`);
  if (prop) return agg[prop] ?? null;
  if ('value' in agg) return agg.value;
  return agg.doc_count;
}

function compareBuckets(list: Order[]) {
  return (a: Json, b: Json): number => {
    for (const o of list) {
      const x = orderValue(a, o.path);
      const y = orderValue(b, o.path);
      if (x === y) continue;
      // Buckets without a value (an average over no values) go last, whatever the direction.
      if (x === null) return 1;
      if (y === null) return -1;
      const c = x < y ? -1 : 1;
      return o.desc ? -c : c;
    }
    return 0;
  };
}

function groupByTerm(hits: readonly Hit[], field: string, types: Types, index: string): Map<string, { key: unknown; hits: Hit[] }> {
  aggValues(hits, field, 'terms', types, index);
  const groups = new Map<string, { key: unknown; hits: Hit[] }>();
  for (const h of hits) {
    for (const v of new Set(values(h.doc, field))) {
      const key = comparable(v, types(field) ?? 'keyword');
      const id = String(key);
      const g = groups.get(id) ?? { key, hits: [] };
      g.hits.push(h);
      groups.set(id, g);
    }
  }
  return groups;
}

/**
 * Each shard ranks its own buckets (its documents only) and returns the top `shard_size`; the coordinating node merges
 * the returned buckets by key and ranks again. A term missing from a shard's answer loses that shard's documents.
 */
function termsAgg(spec: Json, sub: Json | undefined, hits: readonly Hit[], types: Types, index: string): Json {
  const size: number = spec.size ?? 10;
  const shardSize: number = spec.shard_size ?? Math.floor(size * 1.5 + 10);
  if (shardSize < size) throw badRequest('illegal_argument_exception', 'shard_size must be greater than or equal to size');
  const minDocCount: number = spec.min_doc_count ?? 1;
  const order = orders(spec);
  const byShard = new Map<string, Hit[]>();
  for (const h of hits) byShard.set(h.shard, [...(byShard.get(h.shard) ?? []), h]);
  const merged = new Map<string, { key: unknown; hits: Hit[] }>();
  let truncated = false;
  let countError = 0;
  for (const shardHits of byShard.values()) {
    const groups = [...groupByTerm(shardHits, spec.field, types, index).values()];
    const ranked = groups
      .map((g) => ({ g, bucket: { key: g.key, doc_count: g.hits.length, ...(sub ? evaluateAggs(sub, g.hits, types, index) : {}) } }))
      .sort((a, b) => compareBuckets(order)(a.bucket, b.bucket));
    if (ranked.length > shardSize) {
      truncated = true;
      // A term this shard left out can have at most as many documents here as its last returned bucket.
      countError += ranked[shardSize - 1].bucket.doc_count;
    }
    for (const { g } of ranked.slice(0, shardSize)) {
      const id = String(g.key);
      const m = merged.get(id) ?? { key: g.key, hits: [] };
      m.hits.push(...g.hits);
      merged.set(id, m);
    }
  }
  const all = [...merged.values()]
    .map((g) => ({ key: g.key, doc_count: g.hits.length, ...(sub ? evaluateAggs(sub, g.hits, types, index) : {}) }))
    .filter((b) => b.doc_count >= minDocCount)
    .sort(compareBuckets(order));
  const buckets = all.slice(0, size);
  const withTerm = hits.filter((h) => values(h.doc, spec.field).length > 0).length;
  const countOrdered = order[0].path === '_count' && order[0].desc;
  return {
    // Elasticsearch bounds the count error only for descending count order; otherwise it cannot (-1).
    doc_count_error_upper_bound: !truncated ? 0 : countOrdered ? countError : -1,
    sum_other_doc_count: withTerm - buckets.reduce((a, b) => a + b.doc_count, 0),
    buckets,
  };
}
