import { BaseConnection, errors } from '@elastic/elasticsearch';
import Mock from '@elastic/elasticsearch-mock';
import { ElasticSourceConfig } from '../../src/reporting/runtime/config';
import { localTime } from '../../src/reporting/runtime/period';
import { DEFAULT_FIELDS } from '../../src/shared/runtime/elastic/connection';

/**
 * A WAF index behind `@elastic/elasticsearch-mock` that answers `/:index/_search` from its documents and the request:
 * the queries (bool with filter, must, must_not and should with minimum_should_match; range, exists, terms), and the
 * aggregation kinds the report sends (terms with `missing`, filter with range/exists, sum,
 * avg, cardinality (exact), composite of terms sources paged with `after`, date_histogram by hour or by day in a time
 * zone). Responses are shaped like Elasticsearch 8's.
 */
export type Doc = Record<string, unknown>;

type Json = Record<string, any>;

const get = (doc: Doc, path: string): unknown => (path in doc ? doc[path] : path.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), doc));

/** A terms query's values as a set, made once per request (a filter of 2,000 customers is checked for every document). */
const termSets = new WeakMap<unknown[], Set<string>>();

function matches(doc: Doc, query: Json | undefined): boolean {
  if (!query) return true;
  if (query.bool) {
    const list = (q: unknown): Json[] => (q === undefined ? [] : Array.isArray(q) ? q : [q as Json]);
    const b = query.bool as Json;
    if (![...list(b.filter), ...list(b.must)].every((q) => matches(doc, q))) return false;
    if (list(b.must_not).some((q) => matches(doc, q))) return false;
    const should = list(b.should);
    // As Elasticsearch: with filter or must beside it, should is optional unless minimum_should_match says otherwise.
    const min = b.minimum_should_match ?? (list(b.filter).length + list(b.must).length > 0 ? 0 : 1);
    return should.length === 0 || should.filter((q) => matches(doc, q)).length >= min;
  }
  if (query.terms) {
    const [field, values] = Object.entries(query.terms)[0] as [string, unknown[]];
    let set = termSets.get(values);
    if (!set) termSets.set(values, (set = new Set(values.map(String))));
    const v = get(doc, field);
    return v !== undefined && set.has(String(v));
  }
  if (query.range) {
    const [field, r] = Object.entries(query.range)[0] as [string, Json];
    const raw = get(doc, field);
    if (raw === undefined) return false;
    const v = typeof r.gte === 'string' || typeof r.lt === 'string' ? Date.parse(String(raw)) : Number(raw);
    const bound = (b: unknown) => (typeof b === 'string' ? Date.parse(b) : Number(b));
    return (r.gte === undefined || v >= bound(r.gte)) && (r.gt === undefined || v > bound(r.gt))
      && (r.lt === undefined || v < bound(r.lt)) && (r.lte === undefined || v <= bound(r.lte));
  }
  if (query.exists) return get(doc, query.exists.field) !== undefined;
  throw new Error(`fake-elastic: unsupported query ${JSON.stringify(query)}`);
}

/** Keyword order as Elasticsearch sorts it: by UTF-8 bytes; with `missing_bucket`, null sorts first. */
function compareKeys(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

/**
 * A composite aggregation of terms sources: buckets in key order, only those after `after`, at most `size`, and an
 * `after_key` when the page has buckets (as Elasticsearch does, even on the last page).
 */
function composite(docs: Doc[], spec: Json, sub: Json | undefined): Json {
  const sources = (spec.sources as Json[]).map((source) => {
    const [sourceName, def] = Object.entries(source)[0] as [string, Json];
    if (!def.terms) throw new Error(`fake-elastic: unsupported composite source ${JSON.stringify(source)}`);
    return { name: sourceName, field: def.terms.field as string, missingBucket: def.terms.missing_bucket === true };
  });
  const groups = new Map<string, { key: Json; docs: Doc[] }>();
  for (const d of docs) {
    const key: Json = {};
    let skip = false;
    for (const src of sources) {
      const v = get(d, src.field);
      if (v === undefined && !src.missingBucket) skip = true;
      key[src.name] = v === undefined ? null : v;
    }
    if (skip) continue;
    const id = JSON.stringify(key);
    const group = groups.get(id);
    if (group) group.docs.push(d);
    else groups.set(id, { key, docs: [d] });
  }
  const compare = (a: Json, b: Json) => {
    for (const src of sources) {
      const c = compareKeys(a[src.name], b[src.name]);
      if (c !== 0) return c;
    }
    return 0;
  };
  const page = [...groups.values()].sort((a, b) => compare(a.key, b.key))
    .filter((g) => spec.after === undefined || compare(g.key, spec.after) > 0)
    .slice(0, spec.size ?? 10)
    .map((g) => ({ key: g.key, doc_count: g.docs.length, ...aggregate(g.docs, sub) }));
  return { ...(page.length > 0 ? { after_key: page[page.length - 1].key } : {}), buckets: page };
}

function aggregate(docs: Doc[], aggs: Json | undefined): Json | undefined {
  if (!aggs) return undefined;
  const out: Json = {};
  for (const [name, spec] of Object.entries(aggs) as Array<[string, Json]>) {
    const sub = spec.aggs;
    if (spec.terms) {
      const groups = new Map<unknown, Doc[]>();
      for (const d of docs) {
        const key = get(d, spec.terms.field) ?? spec.terms.missing;
        if (key === undefined) continue;
        groups.set(key, [...(groups.get(key) ?? []), d]);
      }
      const buckets = [...groups.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, spec.terms.size ?? 10)
        .map(([key, group]) => ({ key, doc_count: group.length, ...aggregate(group, sub) }));
      // Documents without the field (and no `missing`) are in no bucket, listed or not.
      const grouped = [...groups.values()].reduce((s, g) => s + g.length, 0);
      out[name] = { doc_count_error_upper_bound: 0, sum_other_doc_count: grouped - buckets.reduce((s, b) => s + b.doc_count, 0), buckets };
    } else if (spec.composite) {
      out[name] = composite(docs, spec.composite, sub);
    } else if (spec.cardinality) {
      // Exact; Elasticsearch's HyperLogLog is close to this below precision_threshold.
      out[name] = { value: new Set(docs.map((d) => get(d, spec.cardinality.field)).filter((v) => v !== undefined)).size };
    } else if (spec.filter) {
      const group = docs.filter((d) => matches(d, spec.filter));
      out[name] = { doc_count: group.length, ...aggregate(group, sub) };
    } else if (spec.sum) {
      out[name] = { value: docs.reduce((s, d) => s + Number(get(d, spec.sum.field) ?? 0), 0) };
    } else if (spec.avg) {
      const values = docs.map((d) => get(d, spec.avg.field)).filter((v) => v !== undefined).map(Number);
      out[name] = { value: values.length ? values.reduce((s, v) => s + v, 0) / values.length : null };
    } else if (spec.date_histogram) {
      const h = spec.date_histogram;
      const keyOf = (t: number) => {
        if (h.calendar_interval === '1h') return Math.floor(t / 3_600_000) * 3_600_000;
        const l = localTime(new Date(t), h.time_zone);
        // Local midnight of that day: walk back in hours until the local date changes.
        let k = Math.floor(t / 3_600_000) * 3_600_000 - (l.hour * 3_600_000);
        while (localTime(new Date(k), h.time_zone).day !== l.day) k += 3_600_000;
        return k;
      };
      const keys = new Set<number>();
      for (let t = h.extended_bounds.min; t <= h.extended_bounds.max; t += 3_600_000) keys.add(keyOf(t));
      out[name] = {
        buckets: [...keys].sort((a, b) => a - b).map((key) => {
          const group = docs.filter((d) => keyOf(Date.parse(String(get(d, h.field)))) === key);
          return { key_as_string: new Date(key).toISOString(), key, doc_count: group.length, ...aggregate(group, sub) };
        }),
      };
    } else {
      throw new Error(`fake-elastic: unsupported aggregation ${name}`);
    }
  }
  return out;
}

export class FakeElastic {
  public readonly searches: Array<{ index: string; body: Json }> = [];
  private readonly mock = new Mock();

  constructor(public docs: Doc[]) {
    this.mock.add({ method: 'POST', path: '/:index/_search' }, this.answer);
  }

  /** The answer to one search, from the documents and the request. */
  private readonly answer = (params: any): Json => {
    const body = params.body as Json;
    this.searches.push({ index: decodeURIComponent(params.path.split('/')[1]), body });
    const hits = this.docs.filter((d) => matches(d, body.query));
    return {
      took: 3,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: { total: { value: hits.length, relation: 'eq' }, max_score: null, hits: [] },
      ...(body.aggs ? { aggregations: aggregate(hits, body.aggs) } : {}),
    };
  };

  /** Searches whose request matches `which` time out (the client's TimeoutError); the others are answered. */
  public timeOut(which: (body: Json) => boolean): void {
    const answer = this.answer;
    this.mock.clearAll();
    this.mock.add({ method: 'POST', path: '/:index/_search' }, (params: any) => {
      if (which(params.body as Json)) {
        this.searches.push({ index: decodeURIComponent(params.path.split('/')[1]), body: params.body });
        return new errors.TimeoutError('Request timed out');
      }
      return answer(params);
    });
  }

  /** Every search fails as when the cluster cannot be reached. */
  public goDown(): void {
    this.mock.clearAll();
    this.mock.add({ method: 'POST', path: '/:index/_search' }, () => new errors.ConnectionError('connect ECONNREFUSED 10.0.0.5:9243'));
  }

  public connection(): typeof BaseConnection {
    const Base = this.mock.getConnection();
    return class extends Base {
      async close(): Promise<void> {}
    };
  }
}

/** The secret the report tests' Elasticsearch API key lives in. */
export const ES_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:waf/es-AbCdEf';

/** The report's Elasticsearch settings the tests run with (API key from ES_SECRET, default fields). */
export function elasticSourceConfig(overrides: Partial<ElasticSourceConfig> = {}): ElasticSourceConfig {
  return {
    endpoint: 'https://es.example.com:9243',
    indexPattern: 'waf-*',
    fields: DEFAULT_FIELDS,
    credentials: { kind: 'apiKey', secretArn: ES_SECRET },
    apdexTMs: 30,
    requestTimeoutMs: 5000,
    topClientIps: 25,
    ...overrides,
  };
}
