import { readFileSync } from 'fs';
import { join } from 'path';
import { DEFAULT_SOURCE } from './saved-objects-helpers';
import {
  DashboardFlavour, DashboardSource, dashboardId, flavourOf, SavedObject, toNdjson, wafSavedObjects,
} from '../../src/elastic-monitoring/saved-objects/saved-objects';

type Json = Record<string, any>;

const FLAVOURS: DashboardFlavour[] = ['kibana', 'opensearch'];

/** A real OpenSearch Dashboards export: the OpenSearch catalog's AWS WAF integration (see SOURCE.md there). */
const EXAMPLES = join(__dirname, 'fixtures', 'saved-objects');
const catalog: Json[] = readFileSync(join(EXAMPLES, 'opensearch-catalog-aws_waf.excerpt.ndjson'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)).filter((o) => o.type !== undefined);
const catalogOf = (type: string) => catalog.find((o) => o.type === type)!;

/** Set by the server on save, not part of what an import needs: the catalog's export carries them, ours does not. */
const SERVER_ASSIGNED = ['updated_at', 'version'];
const keys = (o: object) => Object.keys(o).sort();

/** Attributes that are JSON kept as strings, by the products' own convention. */
const JSON_STRING_ATTRIBUTES = ['visState', 'uiStateJSON', 'panelsJSON', 'optionsJSON', 'fields', 'fieldAttrs', 'fieldFormatMap', 'runtimeFieldMap', 'typeMeta'];

function panelsOf(dashboard: SavedObject): Json[] {
  return JSON.parse(dashboard.attributes.panelsJSON as string);
}

/** The reference a panel resolves to: `panel_N` in OpenSearch Dashboards, `<panelIndex>:<panelRefName>` in Kibana 8. */
function panelReferenceName(flavour: DashboardFlavour, panel: Json): string {
  return flavour === 'kibana' ? `${panel.panelIndex}:${panel.panelRefName}` : panel.panelRefName;
}

describe.each(FLAVOURS)('saved objects (%s)', (flavour) => {
  const objects = wafSavedObjects(DEFAULT_SOURCE, flavour);
  const dashboard = objects.find((o) => o.type === 'dashboard')!;

  test('one index pattern, one dashboard, and a visualization per view plus the requests search', () => {
    const count = (type: string) => objects.filter((o) => o.type === type).length;
    expect(count('index-pattern')).toBe(1);
    expect(count('dashboard')).toBe(1);
    expect(count('search')).toBe(1);
    expect(count(flavour === 'kibana' ? 'lens' : 'visualization')).toBe(8);
    expect(objects).toHaveLength(11);
    const indexPattern = objects.find((o) => o.type === 'index-pattern')!;
    expect(indexPattern.attributes.title).toBe(DEFAULT_SOURCE.indexPattern);
    expect(indexPattern.attributes.timeFieldName).toBe(DEFAULT_SOURCE.fields.timestamp);
  });

  test('every reference resolves inside the file, by id and by type', () => {
    for (const o of objects) {
      for (const ref of o.references) {
        const target = objects.filter((t) => t.id === ref.id);
        expect({ from: o.id, ref, found: target.map((t) => t.type) }).toEqual({ from: o.id, ref, found: [ref.type] });
      }
      // Reference names are what the attributes look references up by: they must be unique per object.
      expect(new Set(o.references.map((r) => r.name)).size).toBe(o.references.length);
    }
  });

  test('ids are unique and UUIDs', () => {
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
    for (const o of objects) expect(o.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('JSON-string attributes parse, and searchSourceJSON index references name a reference of the object', () => {
    for (const o of objects) {
      for (const key of JSON_STRING_ATTRIBUTES) {
        if (key in o.attributes) {
          expect(typeof o.attributes[key]).toBe('string');
          expect(() => JSON.parse(o.attributes[key] as string)).not.toThrow();
        }
      }
      const meta = o.attributes.kibanaSavedObjectMeta as Json | undefined;
      if (meta) {
        const source = JSON.parse(meta.searchSourceJSON);
        expect(source.index).toBeUndefined(); // an inline index id is the legacy form that needs a migration
        if (o.type === 'dashboard') {
          expect(source.indexRefName).toBeUndefined();
        } else {
          const ref = o.references.find((r) => r.name === source.indexRefName);
          expect(ref?.type).toBe('index-pattern');
        }
      }
    }
  });

  test('the dashboard panels: each names exactly one reference, gridData.i is the panelIndex, every other object is on it', () => {
    const panels = panelsOf(dashboard);
    const used = panels.map((p) => panelReferenceName(flavour, p));
    expect(new Set(used).size).toBe(panels.length);
    expect([...used].sort()).toEqual(dashboard.references.map((r) => r.name).sort());
    for (const p of panels) {
      expect(p.gridData.i).toBe(p.panelIndex);
      if (flavour === 'opensearch') expect(p.panelRefName).toMatch(/^panel_\d+$/);
      const ref = dashboard.references.find((r) => r.name === panelReferenceName(flavour, p))!;
      if (flavour === 'kibana') expect(p.type).toBe(ref.type);
    }
    expect(new Set(panels.map((p) => p.panelIndex)).size).toBe(panels.length);
    const shown = dashboard.references.map((r) => r.id).sort();
    expect(shown).toEqual(objects.filter((o) => o.type !== 'dashboard' && o.type !== 'index-pattern').map((o) => o.id).sort());
  });

  test('panels fit the 48-column grid and do not overlap', () => {
    const grids = panelsOf(dashboard).map((p) => p.gridData);
    for (const g of grids) {
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.x + g.w).toBeLessThanOrEqual(48);
      expect(g.w).toBeGreaterThan(0);
      expect(g.h).toBeGreaterThan(0);
    }
    for (const [i, a] of grids.entries()) {
      for (const b of grids.slice(i + 1)) {
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
        expect({ a, b, apart }).toEqual({ a, b, apart: true });
      }
    }
  });

  test('the NDJSON lists referenced objects before the objects that reference them, one object a line', () => {
    // Shuffled input: the order comes from toNdjson, not from the generator.
    const text = toNdjson([...objects].reverse());
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(objects.length);
    expect(lines.map((l) => l.id).sort()).toEqual(objects.map((o) => o.id).sort());
    lines.forEach((line, i) => {
      for (const ref of line.references) {
        const at = lines.findIndex((l) => l.id === ref.id && l.type === ref.type);
        expect({ line: line.id, ref: ref.name, before: at >= 0 && at < i }).toEqual({ line: line.id, ref: ref.name, before: true });
      }
    });
    expect(lines[0].type).toBe('index-pattern');
    expect(lines[lines.length - 1].type).toBe('dashboard');
  });

  test('ids are the same on every run, also after a field is renamed (a re-import overwrites), and dashboardId names the dashboard', () => {
    expect(toNdjson(wafSavedObjects(DEFAULT_SOURCE, flavour))).toBe(toNdjson(objects));
    const renamed = wafSavedObjects({ ...DEFAULT_SOURCE, fields: { ...DEFAULT_SOURCE.fields, host: 'host.name' } }, flavour);
    expect(renamed.map((o) => o.id)).toEqual(objects.map((o) => o.id));
    expect(dashboardId(DEFAULT_SOURCE, flavour)).toBe(dashboard.id);
  });

  test('ids differ for another index pattern', () => {
    const other = wafSavedObjects({ ...DEFAULT_SOURCE, indexPattern: 'other-waf-*' }, flavour);
    const ids = new Set(objects.map((o) => o.id));
    expect(other.filter((o) => ids.has(o.id))).toEqual([]);
    expect(dashboardId({ ...DEFAULT_SOURCE, indexPattern: 'other-waf-*' }, flavour)).not.toBe(dashboard.id);
  });
});

test('ids differ between the flavours', () => {
  const kibana = new Set(wafSavedObjects(DEFAULT_SOURCE, 'kibana').map((o) => o.id));
  expect(wafSavedObjects(DEFAULT_SOURCE, 'opensearch').filter((o) => kibana.has(o.id))).toEqual([]);
  expect(dashboardId(DEFAULT_SOURCE, 'kibana')).not.toBe(dashboardId(DEFAULT_SOURCE, 'opensearch'));
});

describe('OpenSearch Dashboards objects have the shape of the real OpenSearch Dashboards export', () => {
  const objects = wafSavedObjects(DEFAULT_SOURCE, 'opensearch');

  test.each(['index-pattern', 'visualization', 'search', 'dashboard'])('%s: same keys and migrationVersion as the catalog export', (type) => {
    const real = catalogOf(type);
    for (const o of objects.filter((x) => x.type === type)) {
      expect(keys(o)).toEqual(keys(real).filter((k) => !SERVER_ASSIGNED.includes(k)));
      expect(keys(o.attributes)).toEqual(keys(real.attributes));
      expect(o.migrationVersion).toEqual(real.migrationVersion);
      for (const ref of o.references) expect(keys(ref)).toEqual(['id', 'name', 'type']);
    }
  });

  test('visState, its aggs and searchSourceJSON have the keys of the catalog visualizations', () => {
    const realVis = catalog.filter((o) => o.type === 'visualization').map((o) => JSON.parse(o.attributes.visState));
    const realAggKeys = keys(realVis[0].aggs[0]);
    const realSourceKeys = keys(JSON.parse(catalogOf('visualization').attributes.kibanaSavedObjectMeta.searchSourceJSON));
    for (const o of objects.filter((x) => x.type === 'visualization')) {
      const state = JSON.parse(o.attributes.visState as string);
      expect(keys(state)).toEqual(keys(realVis[0]));
      for (const agg of state.aggs) expect(keys(agg)).toEqual(realAggKeys);
      expect(keys(JSON.parse((o.attributes.kibanaSavedObjectMeta as Json).searchSourceJSON))).toEqual(realSourceKeys);
      expect(['table', 'histogram', 'line']).toContain(state.type);
      expect(state.title).toBe(o.attributes.title);
    }
  });

  test('dashboard panels have the keys of the catalog dashboard panels', () => {
    const realPanel = JSON.parse(catalogOf('dashboard').attributes.panelsJSON)[0];
    for (const p of panelsOf(objects.find((o) => o.type === 'dashboard')!)) {
      expect(keys(p)).toEqual(keys(realPanel));
      expect(keys(p.gridData)).toEqual(keys(realPanel.gridData));
    }
    expect(keys(JSON.parse(objects.find((o) => o.type === 'dashboard')!.attributes.optionsJSON as string)))
      .toEqual(keys(JSON.parse(catalogOf('dashboard').attributes.optionsJSON)));
  });
});

describe('Kibana objects have the shape of a Kibana 8.8 export', () => {
  const objects = wafSavedObjects(DEFAULT_SOURCE, 'kibana');

  test('every object carries coreMigrationVersion 8.8.0 and a typeMigrationVersion no newer than it, and no migrationVersion', () => {
    const semver = (v: string) => v.split('.').map(Number).reduce((s, n) => s * 1000 + n, 0);
    for (const o of objects) {
      expect(o.coreMigrationVersion).toBe('8.8.0');
      expect(o.typeMigrationVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(semver(o.typeMigrationVersion!)).toBeLessThanOrEqual(semver('8.8.0'));
      expect(o.migrationVersion).toBeUndefined();
    }
  });

  test('Lens objects are at 8.6.0, the migration that introduced the form-based datasource they use', () => {
    // Older, Kibana would run that migration on import and rebuild formBased from a missing "indexpattern" state.
    for (const lens of objects.filter((o) => o.type === 'lens')) {
      expect(lens.typeMigrationVersion).toBe('8.6.0');
      expect(Object.keys((lens.attributes.state as Json).datasourceStates)).not.toContain('indexpattern');
    }
  });

  test('the data view is an index-pattern object with the attributes Kibana 8 exports, fields left to Kibana', () => {
    const dataView = objects.find((o) => o.type === 'index-pattern')!;
    expect(keys(dataView.attributes)).toEqual(['fieldAttrs', 'fieldFormatMap', 'fields', 'name', 'runtimeFieldMap', 'timeFieldName', 'title', 'typeMeta']);
    expect(JSON.parse(dataView.attributes.fields as string)).toEqual([]);
  });

  test('the saved search has the legacy attributes both products share (as the catalog search)', () => {
    const search = objects.find((o) => o.type === 'search')!;
    expect(keys(search.attributes)).toEqual(keys(catalogOf('search').attributes));
  });

  test('each Lens object has one form-based layer whose data view is referenced by the layer name, and its visualization uses only its columns', () => {
    for (const lens of objects.filter((o) => o.type === 'lens')) {
      const state = lens.attributes.state as Json;
      const layers = Object.entries(state.datasourceStates.formBased.layers) as Array<[string, Json]>;
      expect(layers).toHaveLength(1);
      const [layerId, layer] = layers[0];
      expect(lens.references).toEqual([{ id: objects[0].id, name: `indexpattern-datasource-layer-${layerId}`, type: 'index-pattern' }]);
      expect([...layer.columnOrder].sort()).toEqual(Object.keys(layer.columns).sort());
      const vis = state.visualization;
      const visLayers: Json[] = lens.attributes.visualizationType === 'lnsDatatable' ? [vis] : vis.layers;
      for (const l of visLayers) expect(l.layerId).toBe(layerId);
      const used: string[] = lens.attributes.visualizationType === 'lnsDatatable'
        ? vis.columns.map((c: Json) => c.columnId)
        : vis.layers.flatMap((l: Json) => [...l.accessors, l.xAccessor, ...(l.splitAccessor ? [l.splitAccessor] : [])]);
      expect([...used].sort()).toEqual([...layer.columnOrder].sort());
      for (const c of Object.values(layer.columns) as Json[]) {
        if (c.operationType === 'terms') expect(layer.columns[c.params.orderBy.columnId]).toBeDefined();
      }
      expect(['lnsXY', 'lnsDatatable']).toContain(lens.attributes.visualizationType);
    }
  });

  test('dashboard panels are typed like their references and versioned', () => {
    const dashboard = objects.find((o) => o.type === 'dashboard')!;
    for (const p of panelsOf(dashboard)) {
      expect(p.version).toBe('8.8.0');
      expect(p.panelRefName).toBe(`panel_${p.panelIndex}`);
    }
  });
});

describe('flavourOf', () => {
  const withEngine = (kind?: string): DashboardSource => ({ ...DEFAULT_SOURCE, ...(kind ? { engine: { kind: kind as any } } : {}) });
  test.each([
    [undefined, 'kibana'],
    ['elasticsearch', 'kibana'],
    ['opensearch', 'opensearch'],
    ['amazon-opensearch-service', 'opensearch'],
    ['amazon-opensearch-serverless', 'opensearch'],
  ])('engine %s: %s', (kind, flavour) => {
    expect(flavourOf(withEngine(kind))).toBe(flavour);
  });
});
