/**
 * Test-side readers of the generated saved objects: a field collector that walks every object (JSON-string attributes
 * included), a parser of the KQL the objects hold, and translators that turn each panel (an OpenSearch Dashboards
 * visState or a Lens layer) into the Elasticsearch search the product would send, evaluated over documents by the
 * in-memory index. They read only the objects (and the mapping built from the field settings), never the generator's
 * own view definitions, so a panel that names a wrong field or reference renders nothing here as it would there.
 */
import { SavedObject, DashboardSource } from '../../src/elastic-monitoring/saved-objects/saved-objects';
import { Doc, fieldValue, searchDocuments } from '../../src/reporting/sample/memory-index';
import { DEFAULT_FIELDS, FieldNames } from '../../src/shared/runtime/elastic/connection';

type Json = Record<string, any>;

export const DEFAULT_SOURCE: DashboardSource = {
  indexPattern: 'logs-waf-*',
  fields: DEFAULT_FIELDS,
  statusValues: { allowed: 'allowed', blocked: 'blocked', alerted: 'alerted' },
  apdexTMs: 100,
};

/** Elasticsearch types of the WAF fields, as the monitor's docs ask for them (document-fields.ts). */
const FIELD_TYPES: Record<keyof FieldNames, string> = {
  timestamp: 'date',
  latency: 'float',
  status: 'keyword',
  host: 'keyword',
  customer: 'keyword',
  clientIp: 'ip',
  requestBytes: 'long',
  responseBytes: 'long',
  httpStatusCode: 'short',
};

/** The index mapping a cluster would hold for these field settings (dotted names become object properties). */
export function mappingFor(fields: FieldNames): Json {
  const properties: Json = {};
  for (const [key, name] of Object.entries(fields) as Array<[keyof FieldNames, string]>) {
    const parts = name.split('.');
    let at = properties;
    for (const part of parts.slice(0, -1)) {
      at[part] ??= { properties: {} };
      if (!at[part].properties) throw new Error(`mapping conflict at ${name}`);
      at = at[part].properties;
    }
    if (at[parts[parts.length - 1]]) throw new Error(`mapping conflict at ${name}`);
    at[parts[parts.length - 1]] = { type: FIELD_TYPES[key] };
  }
  return { properties };
}

/** Every leaf field of a mapping with its type, as field capabilities list them. */
export function mappedFields(mapping: Json): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (props: Json, prefix: string) => {
    for (const [k, v] of Object.entries(props)) {
      if (v.properties) walk(v.properties, `${prefix}${k}.`);
      else out.set(`${prefix}${k}`, v.type);
    }
  };
  walk(mapping.properties, '');
  return out;
}

/** The WAF documents with their fields under other names (flattened keys, as in a document with dotted keys). */
export function renameDocs(docs: readonly Doc[], fields: FieldNames): Doc[] {
  const keys = Object.keys(DEFAULT_FIELDS) as Array<keyof FieldNames>;
  return docs.map((d) => {
    const out: Doc = {};
    for (const k of keys) {
      const v = fieldValue(d, DEFAULT_FIELDS[k]);
      if (v !== undefined) out[fields[k]] = v;
    }
    return out;
  });
}

// ---- KQL (the subset of the language a generated object may use; anything else fails the test) ----
// Lexical rules of Kibana's kuery.peg (shared by OpenSearch Dashboards): an unquoted literal may escape only \t \r \n,
// the specials \():<>"*{} and the keywords and/or/not; any other backslash, and any whitespace, is not part of it. An
// unescaped `*` is a wildcard, which a generated field never is, so it is refused here. A quoted string escapes \" \\
// and \t \r \n. An unquoted field that is a keyword is not a field.

const UNQUOTED = String.raw`(?:\\[trn]|\\[\\():<>"*{}]|\\(?:and|or|not)|[^\\():<>"*{} \t\r\n])+`;
const QUOTED = String.raw`"(?:\\[trn"\\]|[^"\\])*"`;
const LITERAL = `(${QUOTED}|${UNQUOTED})`;
const IS = new RegExp(`^(not )?${LITERAL} : (${QUOTED})$`);
const COMPARE = new RegExp(`^${LITERAL} (<=|>=|<|>) (-?\\d+(?:\\.\\d+)?)$`);
const WHITESPACE_ESCAPES: Record<string, string> = { t: '\t', r: '\r', n: '\n' };
const unescape = (s: string) => s.replace(/\\([trn]|and|or|.)/g, (_, c: string) => WHITESPACE_ESCAPES[c] ?? c);
function literal(s: string): string {
  if (s.startsWith('"')) return unescape(s.slice(1, -1));
  if (/^(?:and|or|not)$/i.test(s)) throw new Error(`a keyword where KQL expects a field: ${s}`);
  return unescape(s);
}

/** Splits at ` and ` outside quotes. */
function andClauses(kql: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < kql.length; i++) {
    if (kql[i] === '\\') { i++; continue; }
    if (kql[i] === '"') {quoted = !quoted;} else if (!quoted && kql.startsWith(' and ', i)) {
      out.push(kql.slice(start, i));
      start = i + 5;
      i += 4;
    }
  }
  out.push(kql.slice(start));
  return out;
}

interface KqlClause { readonly field: string; readonly dsl: Json }

function parseClause(clause: string): KqlClause {
  const is = IS.exec(clause);
  if (is) {
    const field = literal(is[2]);
    const term = { term: { [field]: literal(is[3]) } };
    return { field, dsl: is[1] ? { bool: { must_not: [term] } } : term };
  }
  const cmp = COMPARE.exec(clause);
  if (cmp) {
    const op = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }[cmp[2]]!;
    const field = literal(cmp[1]);
    return { field, dsl: { range: { [field]: { [op]: Number(cmp[3]) } } } };
  }
  throw new Error(`KQL the test does not know (and a product might not either): ${clause}`);
}

/** The fields a KQL expression names. */
export function kqlFields(kql: string): string[] {
  return kql.trim() === '' ? [] : andClauses(kql).map((c) => parseClause(c).field);
}

/** The Elasticsearch query of a KQL expression. */
export function kqlToDsl(kql: string): Json {
  if (kql.trim() === '') return { match_all: {} };
  const clauses = andClauses(kql).map((c) => parseClause(c).dsl);
  return clauses.length === 1 ? clauses[0] : { bool: { filter: clauses } };
}

// ---- field collector ----

const JSON_STRING = /^\s*[[{]/;

/** The value with every JSON-string inside it parsed (attributes like visState, panelsJSON, searchSourceJSON). */
export function deepParse(value: unknown): unknown {
  if (typeof value === 'string' && JSON_STRING.test(value)) {
    try {
      return deepParse(JSON.parse(value));
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(deepParse);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepParse(v)]));
  return value;
}

/** Keys whose value names one field, wherever they occur. */
const FIELD_KEYS = new Set(['field', 'sourceField', 'fieldName', 'timeFieldName']);
/** Lens's pseudo-field of `count`: all documents. */
const LENS_RECORDS = '___records___';

/**
 * Every field name an object uses: values of field keys anywhere (visState aggs, Lens columns, filters' `meta.key`,
 * index pattern's time field), KQL queries (`{query, language: 'kuery'}` anywhere), a search's columns and sort.
 */
export function fieldsUsed(object: SavedObject): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, key?: string) => {
    if (Array.isArray(v)) { v.forEach((x) => walk(x)); return; }
    if (v && typeof v === 'object') {
      const o = v as Json;
      if (typeof o.query === 'string' && o.language === 'kuery') kqlFields(o.query).forEach((f) => out.add(f));
      if (o.language === 'lucene' && typeof o.query === 'string' && o.query !== '') throw new Error(`lucene query not collected: ${o.query}`);
      if (o.meta && typeof o.meta.key === 'string') out.add(o.meta.key);
      for (const [k, x] of Object.entries(o)) walk(x, k);
      return;
    }
    if (typeof v === 'string' && key !== undefined && FIELD_KEYS.has(key) && v !== LENS_RECORDS) out.add(v);
  };
  const attributes = deepParse(object.attributes) as Json;
  walk(attributes);
  if (object.type === 'search') {
    (attributes.columns as string[]).forEach((c) => out.add(c));
    (attributes.sort as string[][]).forEach(([f]) => out.add(f));
  }
  return out;
}

// ---- rendering panels ----

/** The documents' time range the panels are rendered for, and the interval an "auto" histogram gets for it. */
export interface RenderRange { readonly from: Date; readonly to: Date; readonly interval: string }

/** One leaf row of a rendered panel: the keys of its buckets (outermost first), its count and metric values. */
export interface Row { readonly keys: readonly string[]; readonly docCount: number; readonly values: Record<string, number | null> }

export interface Rendered {
  readonly title: string;
  /** Names of the bucket levels (outermost first) and of the metrics, as the request named them. */
  readonly levels: readonly string[];
  readonly metrics: readonly string[];
  readonly rows: readonly Row[];
}

function byReference(objects: readonly SavedObject[], object: SavedObject, name: string): SavedObject {
  const ref = object.references.find((r) => r.name === name);
  if (!ref) throw new Error(`${object.type} ${object.id} has no reference named ${name}`);
  const target = objects.find((o) => o.id === ref.id && o.type === ref.type);
  if (!target) throw new Error(`reference ${name} of ${object.id} (${ref.type} ${ref.id}) is not in the file`);
  return target;
}

function requireType(mapping: Map<string, string>, field: string, allowed: readonly string[], what: string): void {
  const type = mapping.get(field);
  if (type === undefined) throw new Error(`${what} names field "${field}", which is not in the mapping`);
  if (!allowed.includes(type)) throw new Error(`${what} needs ${allowed.join('/')} but "${field}" is ${type}`);
}

const NUMERIC = ['long', 'integer', 'short', 'float', 'double'];
const AGGREGATABLE = ['keyword', 'ip', ...NUMERIC];

function timeQuery(indexPattern: SavedObject, range: RenderRange): Json {
  const field = indexPattern.attributes.timeFieldName as string;
  return { range: { [field]: { gte: range.from.toISOString(), lt: range.to.toISOString(), format: 'strict_date_optional_time' } } };
}

/** Walks the answer's nested buckets (lists or keyed objects) down to the leaves. */
function leafRows(aggs: Json, levels: readonly string[], metrics: readonly string[]): Row[] {
  // A percentiles answer holds its one percent under `values`, the others their `value`.
  const metricValue = (node: Json, name: string): number | null => {
    const answer = node[name];
    return answer.values ? (Object.values(answer.values)[0] as number | null) : answer.value;
  };
  const rows: Row[] = [];
  const walk = (node: Json, depth: number, keys: string[], docCount: number) => {
    if (depth === levels.length) {
      rows.push({ keys, docCount, values: Object.fromEntries(metrics.map((m) => [m, metricValue(node, m)])) });
      return;
    }
    const buckets = node[levels[depth]].buckets;
    const entries: Array<[string, Json]> = Array.isArray(buckets) ? buckets.map((b: Json) => [String(b.key), b]) : Object.entries(buckets);
    for (const [key, b] of entries) walk(b, depth + 1, [...keys, key], b.doc_count);
  };
  walk(aggs, 0, [], -1);
  return rows;
}

/** An OpenSearch Dashboards visualization as the search its vis editor sends (buckets nested in order, metrics in the leaves). */
export function renderVisualization(
  objects: readonly SavedObject[], vis: SavedObject, docs: readonly Doc[], range: RenderRange, mapping: Map<string, string>,
): Rendered {
  const state = JSON.parse(vis.attributes.visState as string);
  const source = JSON.parse((vis.attributes.kibanaSavedObjectMeta as Json).searchSourceJSON);
  const indexPattern = byReference(objects, vis, source.indexRefName);
  const what = `"${state.title}"`;
  const metricAggs = (state.aggs as Json[]).filter((a) => a.schema === 'metric');
  const bucketAggs = (state.aggs as Json[]).filter((a) => a.schema !== 'metric');
  const leaf: Json = {};
  for (const m of metricAggs) {
    if (m.type === 'count') continue;
    const kinds: Record<string, string> = { avg: 'avg', sum: 'sum', cardinality: 'cardinality', percentiles: 'percentiles' };
    if (!kinds[m.type]) throw new Error(`${what}: metric ${m.type} not rendered by the test`);
    requireType(mapping, m.params.field, m.type === 'cardinality' ? AGGREGATABLE : NUMERIC, what);
    leaf[`m${m.id}`] = { [kinds[m.type]]: m.type === 'percentiles' ? { field: m.params.field, percents: m.params.percents } : { field: m.params.field } };
  }
  let aggs: Json = leaf;
  for (const b of [...bucketAggs].reverse()) {
    let spec: Json;
    if (b.type === 'date_histogram') {
      requireType(mapping, b.params.field, ['date'], what);
      spec = { date_histogram: { field: b.params.field, fixed_interval: range.interval, min_doc_count: b.params.min_doc_count } };
    } else if (b.type === 'filters') {
      spec = { filters: { filters: Object.fromEntries((b.params.filters as Json[]).map((f) => [f.label, kqlToDsl(f.input.query)])) } };
    } else if (b.type === 'range') {
      requireType(mapping, b.params.field, NUMERIC, what);
      spec = { range: { field: b.params.field, ranges: b.params.ranges } };
    } else if (b.type === 'terms') {
      requireType(mapping, b.params.field, AGGREGATABLE, what);
      const countId = metricAggs.find((m) => m.type === 'count')?.id;
      if (b.params.orderBy !== countId) throw new Error(`${what}: terms ordered by ${b.params.orderBy}, the test renders count order only`);
      spec = { terms: { field: b.params.field, size: b.params.size, order: { _count: b.params.order } } };
    } else {
      throw new Error(`${what}: bucket ${b.type} not rendered by the test`);
    }
    aggs = { [`b${b.id}`]: Object.keys(aggs).length ? { ...spec, aggs } : spec };
  }
  const body = { size: 0, query: { bool: { filter: [timeQuery(indexPattern, range), kqlToDsl(source.query.query)] } }, aggs };
  const answer = searchDocuments(docs, body);
  const levels = bucketAggs.map((b) => `b${b.id}`);
  const metrics = metricAggs.filter((m) => m.type !== 'count').map((m) => `m${m.id}`);
  return {
    title: state.title,
    levels,
    metrics,
    rows: leafRows(answer.aggregations, levels, metrics),
  };
}

/** A Lens visualization's one form-based layer as the search Lens sends for it. */
export function renderLens(
  objects: readonly SavedObject[], lens: SavedObject, docs: readonly Doc[], range: RenderRange, mapping: Map<string, string>,
): Rendered {
  const state = lens.attributes.state as Json;
  const what = `"${lens.attributes.title}"`;
  const layers = Object.entries(state.datasourceStates.formBased.layers) as Array<[string, Json]>;
  if (layers.length !== 1) throw new Error(`${what}: ${layers.length} layers, the test renders one`);
  const [layerId, layer] = layers[0];
  const dataView = byReference(objects, lens, `indexpattern-datasource-layer-${layerId}`);
  const columns = (layer.columnOrder as string[]).map((id) => ({ id, ...layer.columns[id] }));
  const bucketCols = columns.filter((c) => c.isBucketed);
  const metricCols = columns.filter((c) => !c.isBucketed);
  const leaf: Json = {};
  for (const m of metricCols) {
    if (m.filter) throw new Error(`${what}: column filters are not rendered by the test`);
    if (m.operationType === 'count') {
      if (m.sourceField !== LENS_RECORDS) throw new Error(`${what}: count of a field is not rendered by the test`);
      continue;
    }
    const kinds: Record<string, string> = { average: 'avg', sum: 'sum', unique_count: 'cardinality', percentile: 'percentiles' };
    if (!kinds[m.operationType]) throw new Error(`${what}: operation ${m.operationType} not rendered by the test`);
    requireType(mapping, m.sourceField, m.operationType === 'unique_count' ? AGGREGATABLE : NUMERIC, what);
    leaf[m.id] = { [kinds[m.operationType]]: m.operationType === 'percentile' ? { field: m.sourceField, percents: [m.params.percentile] } : { field: m.sourceField } };
  }
  let aggs: Json = leaf;
  for (const b of [...bucketCols].reverse()) {
    let spec: Json;
    if (b.operationType === 'date_histogram') {
      requireType(mapping, b.sourceField, ['date'], what);
      spec = { date_histogram: { field: b.sourceField, fixed_interval: range.interval } };
    } else if (b.operationType === 'filters') {
      spec = { filters: { filters: Object.fromEntries((b.params.filters as Json[]).map((f) => [f.label, kqlToDsl(f.input.query)])) } };
    } else if (b.operationType === 'range') {
      requireType(mapping, b.sourceField, NUMERIC, what);
      if (b.params.type !== 'range') throw new Error(`${what}: range of type ${b.params.type} not rendered by the test`);
      spec = { range: { field: b.sourceField, ranges: (b.params.ranges as Json[]).map((r) => ({ from: r.from, to: r.to, key: r.label })) } };
    } else if (b.operationType === 'terms') {
      requireType(mapping, b.sourceField, AGGREGATABLE, what);
      const orderCol = layer.columns[b.params.orderBy.columnId];
      if (b.params.orderBy.type !== 'column' || orderCol?.operationType !== 'count') throw new Error(`${what}: terms not ordered by a count column`);
      spec = { terms: { field: b.sourceField, size: b.params.size, order: { _count: b.params.orderDirection } } };
    } else {
      throw new Error(`${what}: bucket ${b.operationType} not rendered by the test`);
    }
    aggs = { [b.id]: Object.keys(aggs).length ? { ...spec, aggs } : spec };
  }
  const body = { size: 0, query: { bool: { filter: [timeQuery(dataView, range), kqlToDsl(state.query.query)] } }, aggs };
  const answer = searchDocuments(docs, body);
  const levels = bucketCols.map((c) => c.id as string);
  const metrics = metricCols.filter((m) => m.operationType !== 'count').map((m) => m.id as string);
  return {
    title: lens.attributes.title as string,
    levels,
    metrics,
    rows: leafRows(answer.aggregations, levels, metrics),
  };
}

/** A saved search as Discover shows it: the newest documents' values of its columns. */
export function renderSearch(
  objects: readonly SavedObject[], search: SavedObject, docs: readonly Doc[], range: RenderRange,
): Array<Record<string, unknown>> {
  const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as Json).searchSourceJSON);
  const indexPattern = byReference(objects, search, source.indexRefName);
  const query = { bool: { filter: [timeQuery(indexPattern, range), kqlToDsl(source.query.query)] } };
  const total = searchDocuments(docs, { size: 0, query }).hits.total.value as number;
  const [[sortField, order]] = search.attributes.sort as string[][];
  // The in-memory index returns no hits: select the same documents by the query's time range and sort them here.
  const inRange = docs.filter((d) => {
    const t = Date.parse(String(fieldValue(d, indexPattern.attributes.timeFieldName as string)));
    return t >= range.from.getTime() && t < range.to.getTime();
  });
  if (inRange.length !== total) throw new Error('time range selection differs from the index');
  const sorted = [...inRange].sort((a, b) => String(fieldValue(a, sortField)).localeCompare(String(fieldValue(b, sortField))) * (order === 'desc' ? -1 : 1));
  return sorted.slice(0, 50).map((d) => Object.fromEntries((search.attributes.columns as string[]).map((c) => [c, fieldValue(d, c)])));
}
