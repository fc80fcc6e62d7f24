import { localTime } from '../runtime/period';

/**
 * WAF documents in memory, searched the way Elasticsearch 8 answers the report's searches: bool queries (filter, must,
 * must_not, should with minimum_should_match) of range, exists, term and terms queries; terms aggregations (with `missing`, `size`, `sum_other_doc_count`), filter, filters (named or
 * a list), range (numeric, `from` inclusive, `to` exclusive), sum, avg, cardinality (exact), percentiles (exact, interpolated between ranks),
 * composite of terms sources paged with `after`, and date_histogram by hour or by local day (`calendar_interval`) or by a `fixed_interval`.
 * The saved-object tests render the dashboards' panels through it. `report --sample` reads
 * its generated traffic through it, and the tests' Elasticsearch fake answers with it, so the report code runs
 * against answers computed from documents and the request, never from the report's configuration.
 */

export type Doc = Record<string, unknown>;
type Json = Record<string, any>;

/** A request the index does not evaluate: the report sent something new, and answering anyway would hide it. */
export class UnsupportedSearchError extends Error {
  constructor(what: string) {
    super(`in-memory index: unsupported ${what}`);
    this.name = 'UnsupportedSearchError';
  }
}

/** A field by dotted path; a key holding the dots itself (`"waf.customer": ...`) wins, as in a flattened document. */
export function fieldValue(doc: Doc, path: string): unknown {
  if (path in doc) return doc[path];
  let v: any = doc;
  for (const k of path.split('.')) {
    if (v == null) return undefined;
    v = v[k];
  }
  return v;
}

/** A terms query's values as a set, made once per request (a filter of 2,000 customers is checked for every document). */
const termSets = new WeakMap<unknown[], Set<string>>();

const clauses = (q: unknown): Json[] => (q === undefined ? [] : Array.isArray(q) ? q : [q as Json]);

function matches(doc: Doc, query: Json | undefined): boolean {
  if (!query) return true;
  if (query.match_all) return true;
  if (query.bool) {
    const b = query.bool as Json;
    if (![...clauses(b.filter), ...clauses(b.must)].every((q) => matches(doc, q))) return false;
    if (clauses(b.must_not).some((q) => matches(doc, q))) return false;
    const should = clauses(b.should);
    // As Elasticsearch: beside filter or must, should is optional unless minimum_should_match says otherwise.
    const min = b.minimum_should_match ?? (clauses(b.filter).length + clauses(b.must).length > 0 ? 0 : 1);
    return should.length === 0 || should.filter((q) => matches(doc, q)).length >= min;
  }
  if (query.term) {
    const [field, spec] = Object.entries(query.term)[0] as [string, unknown];
    const wanted = typeof spec === 'object' && spec !== null ? (spec as Json).value : spec;
    const v = fieldValue(doc, field);
    return v !== undefined && v !== null && String(v) === String(wanted);
  }
  if (query.terms) {
    const [field, values] = Object.entries(query.terms)[0] as [string, unknown[]];
    let set = termSets.get(values);
    if (!set) termSets.set(values, (set = new Set(values.map(String))));
    const v = fieldValue(doc, field);
    return v !== undefined && v !== null && set.has(String(v));
  }
  if (query.range) {
    const [field, r] = Object.entries(query.range)[0] as [string, Json];
    const raw = fieldValue(doc, field);
    if (raw === undefined || raw === null) return false;
    const dates = typeof r.gte === 'string' || typeof r.lt === 'string' || typeof r.gt === 'string' || typeof r.lte === 'string';
    const v = dates ? Date.parse(String(raw)) : Number(raw);
    const bound = (b: unknown) => (typeof b === 'string' ? Date.parse(b) : Number(b));
    return (r.gte === undefined || v >= bound(r.gte)) && (r.gt === undefined || v > bound(r.gt))
      && (r.lt === undefined || v < bound(r.lt)) && (r.lte === undefined || v <= bound(r.lte));
  }
  if (query.exists) {
    const v = fieldValue(doc, query.exists.field);
    return v !== undefined && v !== null;
  }
  throw new UnsupportedSearchError(`query ${JSON.stringify(query)}`);
}

/** Keyword order as Elasticsearch sorts it: by UTF-8 bytes, numbers by value; with `missing_bucket`, null first. */
function compareKeys(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

function groupBy<K>(docs: readonly Doc[], keyOf: (d: Doc) => K | undefined): Map<K, Doc[]> {
  const groups = new Map<K, Doc[]>();
  for (const d of docs) {
    const key = keyOf(d);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  return groups;
}

/**
 * Composite of terms sources: buckets in key order, only those after `after`, at most `size`, and an `after_key` when
 * the page has buckets (as Elasticsearch does, even on the last page).
 */
function composite(docs: readonly Doc[], spec: Json, sub: Json | undefined): Json {
  const sources = (spec.sources as Json[]).map((source) => {
    const [name, def] = Object.entries(source)[0] as [string, Json];
    if (!def.terms) throw new UnsupportedSearchError(`composite source ${JSON.stringify(source)}`);
    return { name, field: def.terms.field as string, missingBucket: def.terms.missing_bucket === true };
  });
  const keys = new Map<string, Json>();
  const groups = groupBy(docs, (d) => {
    const key: Json = {};
    for (const src of sources) {
      const v = fieldValue(d, src.field);
      if ((v === undefined || v === null) && !src.missingBucket) return undefined;
      key[src.name] = v ?? null;
    }
    const id = JSON.stringify(key);
    keys.set(id, key);
    return id;
  });
  const compare = (a: Json, b: Json) => {
    for (const src of sources) {
      const c = compareKeys(a[src.name], b[src.name]);
      if (c !== 0) return c;
    }
    return 0;
  };
  const page = [...groups.entries()].map(([id, group]) => ({ key: keys.get(id)!, group }))
    .filter((g) => spec.after === undefined || compare(g.key, spec.after) > 0)
    .sort((a, b) => compare(a.key, b.key))
    .slice(0, spec.size ?? 10)
    .map((g) => ({ key: g.key, doc_count: g.group.length, ...aggregate(g.group, sub) }));
  return { ...(page.length > 0 ? { after_key: page[page.length - 1].key } : {}), buckets: page };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A `fixed_interval` (`30m`, `1h`, `1d`) in milliseconds. */
function fixedIntervalMs(interval: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(interval);
  if (!m || Number(m[1]) <= 0) throw new UnsupportedSearchError(`date_histogram fixed_interval ${interval}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** The value below which `percent` % of the values lie, interpolated between the two nearest ranks (exact, not a TDigest). */
function percentile(sorted: readonly number[], percent: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (percent / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** Numbers of a field over the documents that have it. */
function numbers(docs: readonly Doc[], field: string): number[] {
  return docs.map((d) => fieldValue(d, field)).filter((v) => v !== undefined && v !== null).map(Number);
}

/** Start of the bucket holding `t`: the UTC hour, or local midnight of its day in `timeZone`. */
function histogramKey(interval: string, timeZone: string, cache: Map<number, number>): (t: number) => number {
  if (interval !== '1h' && interval !== '1d') throw new UnsupportedSearchError(`date_histogram interval ${interval}`);
  return (t) => {
    const hour = Math.floor(t / 3_600_000) * 3_600_000;
    if (interval === '1h') return hour;
    let key = cache.get(hour);
    if (key === undefined) {
      const l = localTime(new Date(hour), timeZone);
      // Walk back to the first hour of the same local date (zones off by whole hours; the report's are).
      key = hour - l.hour * 3_600_000;
      while (localTime(new Date(key), timeZone).day !== l.day) key += 3_600_000;
      cache.set(hour, key);
    }
    return key;
  };
}

function aggregate(docs: readonly Doc[], aggs: Json | undefined): Json | undefined {
  if (!aggs) return undefined;
  const out: Json = {};
  for (const [name, spec] of Object.entries(aggs) as Array<[string, Json]>) {
    const sub = spec.aggs;
    if (spec.terms) {
      const groups = groupBy(docs, (d) => {
        const v = fieldValue(d, spec.terms.field);
        return v === undefined || v === null ? spec.terms.missing : v;
      });
      const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || compareKeys(a[0], b[0]));
      const listed = sorted.slice(0, spec.terms.size ?? 10).map(([key, group]) => ({ key, doc_count: group.length, ...aggregate(group, sub) }));
      // Documents without the field (and no `missing`) are in no bucket, listed or not.
      const grouped = sorted.reduce((s, [, g]) => s + g.length, 0);
      out[name] = { doc_count_error_upper_bound: 0, sum_other_doc_count: grouped - listed.reduce((s, b) => s + b.doc_count, 0), buckets: listed };
    } else if (spec.composite) {
      out[name] = composite(docs, spec.composite, sub);
    } else if (spec.cardinality) {
      out[name] = { value: groupBy(docs, (d) => fieldValue(d, spec.cardinality.field) ?? undefined).size };
    } else if (spec.filter) {
      const group = docs.filter((d) => matches(d, spec.filter));
      out[name] = { doc_count: group.length, ...aggregate(group, sub) };
    } else if (spec.sum) {
      out[name] = { value: docs.reduce((s, d) => s + Number(fieldValue(d, spec.sum.field) ?? 0), 0) };
    } else if (spec.avg) {
      const values = numbers(docs, spec.avg.field);
      out[name] = { value: values.length ? values.reduce((s, v) => s + v, 0) / values.length : null };
    } else if (spec.percentiles) {
      const sorted = numbers(docs, spec.percentiles.field).sort((a, b) => a - b);
      const percents: number[] = spec.percentiles.percents ?? [1, 5, 25, 50, 75, 95, 99];
      // Keyed as Elasticsearch keys them: the percent as a decimal ("95.0").
      const key = (p: number) => (Number.isInteger(p) ? p.toFixed(1) : String(p));
      out[name] = spec.percentiles.keyed === false
        ? { values: percents.map((p) => ({ key: p, value: percentile(sorted, p) })) }
        : { values: Object.fromEntries(percents.map((p) => [key(p), percentile(sorted, p)])) };
    } else if (spec.filters) {
      const named = spec.filters.filters as Json | Json[];
      const bucket = (q: Json) => {
        const group = docs.filter((d) => matches(d, q));
        return { doc_count: group.length, ...aggregate(group, sub) };
      };
      out[name] = {
        buckets: Array.isArray(named)
          ? named.map(bucket)
          : Object.fromEntries(Object.entries(named).map(([key, q]) => [key, bucket(q as Json)])),
      };
    } else if (spec.range) {
      const r = spec.range;
      const fmt = (n: number | undefined) => (n === undefined ? '*' : Number.isInteger(n) ? n.toFixed(1) : String(n));
      out[name] = {
        buckets: (r.ranges as Array<{ from?: number; to?: number; key?: string }>).map((range) => {
          const group = docs.filter((d) => {
            const raw = fieldValue(d, r.field);
            if (raw === undefined || raw === null) return false;
            const v = Number(raw);
            return (range.from === undefined || v >= range.from) && (range.to === undefined || v < range.to);
          });
          return {
            key: range.key ?? `${fmt(range.from)}-${fmt(range.to)}`,
            ...(range.from !== undefined ? { from: range.from } : {}),
            ...(range.to !== undefined ? { to: range.to } : {}),
            doc_count: group.length,
            ...aggregate(group, sub),
          };
        }),
      };
    } else if (spec.date_histogram) {
      const h = spec.date_histogram;
      const fixed = h.fixed_interval !== undefined ? fixedIntervalMs(h.fixed_interval) : undefined;
      const keyOf = fixed !== undefined ? (t: number) => Math.floor(t / fixed) * fixed : histogramKey(h.calendar_interval, h.time_zone ?? 'UTC', new Map());
      const groups = groupBy(docs, (d) => {
        const raw = fieldValue(d, h.field);
        // A document without the field is in no bucket, as in Elasticsearch.
        return raw === undefined || raw === null ? undefined : keyOf(Date.parse(String(raw)));
      });
      const keys = new Set<number>(groups.keys());
      if (h.extended_bounds) for (let t = h.extended_bounds.min; t <= h.extended_bounds.max; t += fixed ?? 3_600_000) keys.add(keyOf(t));
      out[name] = {
        buckets: [...keys].sort((a, b) => a - b).map((key) => {
          const group = groups.get(key) ?? [];
          return { key_as_string: new Date(key).toISOString(), key, doc_count: group.length, ...aggregate(group, sub) };
        }),
      };
    } else {
      throw new UnsupportedSearchError(`aggregation ${name}: ${JSON.stringify(spec)}`);
    }
  }
  return out;
}

/** The answer to one `_search` body over `docs`, shaped like Elasticsearch 8's (no hits returned: the report sends size 0). */
export function searchDocuments(docs: readonly Doc[], body: Json): Json {
  const hits = docs.filter((d) => matches(d, body.query));
  return {
    took: 1,
    timed_out: false,
    _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
    hits: { total: { value: hits.length, relation: 'eq' }, max_score: null, hits: [] },
    ...(body.aggs ? { aggregations: aggregate(hits, body.aggs) } : {}),
  };
}
