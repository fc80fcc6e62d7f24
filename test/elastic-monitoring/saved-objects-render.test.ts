import * as fc from 'fast-check';
import {
  DEFAULT_SOURCE, fieldsUsed, kqlToDsl, mappedFields, mappingFor, renameDocs, Rendered, RenderRange, renderLens, renderSearch, renderVisualization,
} from './saved-objects-helpers';
import {
  DashboardFlavour, DashboardSource, SavedObject, toNdjson, wafSavedObjects,
} from '../../src/elastic-monitoring/saved-objects/saved-objects';
import { Doc } from '../../src/reporting/sample/memory-index';
import { sampleDocuments } from '../../src/reporting/sample/sample-data';
import { DEFAULT_FIELDS, FieldNames } from '../../src/shared/runtime/elastic/connection';

const FLAVOURS: DashboardFlavour[] = ['kibana', 'opensearch'];

/** A weekday of the sample traffic: some 2,400 requests, a few blocked, some 5xx, slow now and then. */
const RANGE: RenderRange = { from: new Date('2026-03-10T00:00:00Z'), to: new Date('2026-03-11T00:00:00Z'), interval: '1h' };
const DOCS = sampleDocuments(RANGE.from, RANGE.to);

function render(objects: readonly SavedObject[], docs: readonly Doc[], fields: FieldNames): Rendered[] {
  const mapping = mappedFields(mappingFor(fields));
  return objects.flatMap((o) => {
    if (o.type === 'lens') return [renderLens(objects, o, docs, RANGE, mapping)];
    if (o.type === 'visualization') return [renderVisualization(objects, o, docs, RANGE, mapping)];
    return [];
  });
}

/**
 * What "the panel shows something" means: documents in some leaf, every metric has a value somewhere, and every split
 * has at least two non-empty buckets (a filter naming a missing field puts every document on one side, or none).
 */
function expectShowsData(panel: Rendered): void {
  const filled = panel.rows.filter((r) => r.docCount > 0);
  expect({ panel: panel.title, filledRows: filled.length > 0 }).toEqual({ panel: panel.title, filledRows: true });
  for (const m of panel.metrics) {
    const values = filled.map((r) => r.values[m]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
    expect({ panel: panel.title, metric: m, values: values.length > 0 }).toEqual({ panel: panel.title, metric: m, values: true });
  }
  panel.levels.forEach((level, depth) => {
    const keys = new Set(filled.map((r) => r.keys[depth]));
    expect({ panel: panel.title, level, nonEmptyBuckets: keys.size >= 2 }).toEqual({ panel: panel.title, level, nonEmptyBuckets: true });
  });
}

test('the sample day has the traffic the panels need (allowed and blocked requests, 2xx to 5xx)', () => {
  expect(DOCS.length).toBeGreaterThan(1_000);
  const statuses = new Set(DOCS.map((d) => (d.waf as any).status));
  expect(statuses).toEqual(new Set(['allowed', 'blocked']));
  const classes = new Set(DOCS.map((d) => Math.floor((d.http as any).response.status_code / 100)));
  expect([...classes].sort()).toEqual([2, 3, 4, 5]);
});

describe.each(FLAVOURS)('every panel renders data from the documents (%s)', (flavour) => {
  const objects = wafSavedObjects(DEFAULT_SOURCE, flavour);
  // Rendered once for the tests below; a panel that cannot be rendered fails each of them.
  let panels: Rendered[] = [];
  beforeAll(() => { panels = render(objects, DOCS, DEFAULT_FIELDS); });

  test('eight panels, each with data', () => {
    expect(panels).toHaveLength(8);
    panels.forEach(expectShowsData);
  });

  test('the verdict panel counts the documents by the status values, as the monitor does', () => {
    const verdict = panels.find((p) => /verdict/.test(p.title))!;
    const sum = (value: string) => verdict.rows.filter((r) => r.keys[1] === value).reduce((s, r) => s + r.docCount, 0);
    const expected = (value: string) => DOCS.filter((d) => (d.waf as any).status === value).length;
    expect(sum('blocked')).toBe(expected('blocked'));
    expect(sum('allowed')).toBe(expected('allowed'));
    expect(sum('alerted')).toBe(0);
  });

  test('the Apdex bands split every request with a latency into satisfied, tolerating and frustrated at T and 4T', () => {
    const apdex = panels.find((p) => /Apdex/.test(p.title))!;
    const bands = new Map<string, number>();
    for (const r of apdex.rows) bands.set(r.keys[1], (bands.get(r.keys[1]) ?? 0) + r.docCount);
    const latencies = DOCS.map((d) => (d.waf as any).latency_ms as number);
    const t = DEFAULT_SOURCE.apdexTMs;
    expect([...bands.values()]).toEqual([
      latencies.filter((l) => l <= t).length,
      latencies.filter((l) => l > t && l <= 4 * t).length,
      latencies.filter((l) => l > 4 * t).length,
    ]);
  });

  test('with the allowedRequests definition the bands count allowed requests only, satisfied below T', () => {
    const source: DashboardSource = { ...DEFAULT_SOURCE, apdexDefinition: 'allowedRequests' };
    const apdex = render(wafSavedObjects(source, flavour), DOCS, DEFAULT_FIELDS).find((p) => /Apdex/.test(p.title))!;
    const bands = new Map<string, number>();
    for (const r of apdex.rows) bands.set(r.keys[1], (bands.get(r.keys[1]) ?? 0) + r.docCount);
    const allowed = DOCS.filter((d) => (d.waf as any).status === 'allowed').map((d) => (d.waf as any).latency_ms as number);
    const t = DEFAULT_SOURCE.apdexTMs;
    expect([...bands.values()]).toEqual([
      allowed.filter((l) => l < t).length,
      allowed.filter((l) => l >= t && l < 4 * t).length,
      allowed.filter((l) => l >= 4 * t).length,
    ]);
  });

  test('the requests search shows its columns for the newest documents', () => {
    const search = objects.find((o) => o.type === 'search')!;
    const rows = renderSearch(objects, search, DOCS, RANGE);
    expect(rows.length).toBeGreaterThan(0);
    for (const column of search.attributes.columns as string[]) {
      expect({ column, shown: rows.some((r) => r[column] !== undefined) }).toEqual({ column, shown: true });
    }
  });
});

/** Field names unlike the defaults: none holds a default name, and none is the object parent of another. */
const fieldNamesArb: fc.Arbitrary<FieldNames> = fc.uniqueArray(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,5}(\.[a-z][a-z0-9_@]{0,5}){0,2}$/),
  { minLength: 9, maxLength: 9 },
).filter((names) => names.every((n) => Object.values(DEFAULT_FIELDS).every((d) => !n.includes(d) && !d.includes(n)))
  && names.every((a) => names.every((b) => a === b || !b.startsWith(`${a}.`))))
  .map((names) => Object.fromEntries((Object.keys(DEFAULT_FIELDS) as Array<keyof FieldNames>).map((k, i) => [k, names[i]])) as unknown as FieldNames);

/** Field names KQL cannot take unquoted: with a space, tab or newline inside, or a keyword in any case. */
const awkwardFieldNamesArb: fc.Arbitrary<FieldNames> = fc.uniqueArray(
  fc.oneof(
    fc.constantFrom('not', 'or', 'and', 'NOT', 'Or', 'aNd'),
    fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_():*"\\]{0,4}$/), fc.constantFrom(' ', '\t', '\n', ' and ', ' or ', ' not '), fc.stringMatching(/^[a-z0-9_]{1,4}$/))
      .map(([a, sep, b]) => `${a}${sep}${b}`),
  ),
  { minLength: 9, maxLength: 9, comparator: (a, b) => a.toLowerCase() === b.toLowerCase() },
).filter((names) => names.every((n) => Object.values(DEFAULT_FIELDS).every((d) => !n.includes(d) && !d.includes(n))))
  .map((names) => Object.fromEntries((Object.keys(DEFAULT_FIELDS) as Array<keyof FieldNames>).map((k, i) => [k, names[i]])) as unknown as FieldNames);

describe('the test\'s KQL parser follows kuery.peg', () => {
  test('a backslash before a space, an unescaped wildcard and a keyword as an unquoted field are refused', () => {
    expect(() => kqlToDsl('waf\\ status : "allowed"')).toThrow();
    expect(() => kqlToDsl('waf*status : "allowed"')).toThrow();
    expect(() => kqlToDsl('not : "allowed"')).toThrow();
    expect(() => kqlToDsl('a : "b" and OR : "allowed"')).toThrow();
  });

  test('a quoted field name and the escapes KQL defines are read', () => {
    expect(kqlToDsl('"waf status" : "allowed"')).toEqual({ term: { 'waf status': 'allowed' } });
    expect(kqlToDsl('not "not" : "a\\"b"')).toEqual({ bool: { must_not: [{ term: { not: 'a"b' } }] } });
    expect(kqlToDsl('waf\\tstatus\\(x\\) <= 4')).toEqual({ range: { 'waf\tstatus(x)': { lte: 4 } } });
  });
});

describe.each(FLAVOURS)('renamed field settings (%s)', (flavour) => {
  test('every field an object names exists in the mapping of the settings, and no default field name is left anywhere', () => {
    fc.assert(fc.property(fieldNamesArb, (fields) => {
      const objects = wafSavedObjects({ ...DEFAULT_SOURCE, fields }, flavour);
      const mapping = mappedFields(mappingFor(fields));
      const used = new Set(objects.flatMap((o) => [...fieldsUsed(o)]));
      expect([...used].filter((f) => !mapping.has(f))).toEqual([]);
      // Every field setting is used by some object: a setting the dashboard ignores would be a view left out.
      expect([...mapping.keys()].filter((f) => !used.has(f))).toEqual([]);
      const text = toNdjson(objects);
      expect(Object.values(DEFAULT_FIELDS).filter((d) => text.includes(d))).toEqual([]);
    }), { numRuns: 50 });
  });

  test('every panel still renders data from documents that carry only the renamed fields', () => {
    fc.assert(fc.property(fieldNamesArb, (fields) => {
      const objects = wafSavedObjects({ ...DEFAULT_SOURCE, fields }, flavour);
      const panels = render(objects, renameDocs(DOCS, fields), fields);
      expect(panels).toHaveLength(8);
      panels.forEach(expectShowsData);
    }), { numRuns: 8 });
  });

  test('field names with characters KQL reads as syntax are escaped: the filters still find the documents', () => {
    const fields: FieldNames = { ...DEFAULT_FIELDS, status: 'waf verdict (final):value', latency: 'timing.waf*ms' };
    for (const apdexDefinition of ['allRequests', 'allowedRequests'] as const) {
      const objects = wafSavedObjects({ ...DEFAULT_SOURCE, fields, apdexDefinition }, flavour);
      const mapping = mappedFields(mappingFor(fields));
      const used = new Set(objects.flatMap((o) => [...fieldsUsed(o)]));
      expect([...used].filter((f) => !mapping.has(f))).toEqual([]);
      expect(used).toContain(fields.status);
      render(objects, renameDocs(DOCS, fields), fields).forEach(expectShowsData);
    }
  });

  test('field names with whitespace or named like a KQL keyword are quoted: KQL reads them, and the filters still find the documents', () => {
    fc.assert(fc.property(awkwardFieldNamesArb, (fields) => {
      const objects = wafSavedObjects({ ...DEFAULT_SOURCE, fields }, flavour);
      const mapping = mappedFields(mappingFor(fields));
      const used = new Set(objects.flatMap((o) => [...fieldsUsed(o)]));
      expect([...used].filter((f) => !mapping.has(f))).toEqual([]);
      expect(used).toContain(fields.status);
      render(objects, renameDocs(DOCS, fields), fields).forEach(expectShowsData);
    }), { numRuns: 10 });
  });

  test('a panel still naming an old field renders nothing (the check above can fail)', () => {
    const fields: FieldNames = { ...DEFAULT_FIELDS, host: 'host.name', latency: 'event.duration_ms' };
    const objects = wafSavedObjects(DEFAULT_SOURCE, flavour); // generated from the old settings
    const docs = renameDocs(DOCS, fields);
    const panels = render(objects.map((o) => o), docs, DEFAULT_FIELDS);
    const hosts = panels.find((p) => /top hosts/.test(p.title))!;
    expect(hosts.rows.filter((r) => r.docCount > 0)).toEqual([]);
    const latency = panels.find((p) => /latency/.test(p.title))!;
    expect(latency.rows.every((r) => latency.metrics.every((m) => r.values[m] === null))).toBe(true);
  });
});
