import type { DashboardSource, ObjectIds, SavedObject } from './saved-object-types';
import { stableUuid } from './stable-id';
import { RequestsSearch, View, ViewBucket, ViewMetric } from './views';

/**
 * Kibana 8.x objects, in the shape Kibana 8.8's export writes them (compared with the sample data sets Kibana ships):
 * a data view (`index-pattern` type, fields left to Kibana), Lens visualizations (form-based datasource, one layer,
 * the data view referenced per layer), a saved search, and a dashboard whose references are named
 * `<panelIndex>:panel_<panelIndex>`. The migration versions are those of 8.8, the oldest 8.x the objects import into;
 * Kibana migrates them forward on import into a newer one.
 */

const CORE_MIGRATION = '8.8.0';
/**
 * The versions the objects' shapes belong to, as Kibana 8.8's sample data sets carry them. Kibana runs every migration
 * newer than these on import and refuses a version newer than its own last migration of the type. Lens must say 8.6.0:
 * its `formBased` datasource is what the 8.6.0 migration renames the older `indexpattern` one to, and running that
 * migration again would replace the layers.
 */
const TYPE_MIGRATION = { 'index-pattern': '7.11.0', 'lens': '8.6.0', 'search': '7.9.3', 'dashboard': '8.7.0' } as const;

/** Lens's pseudo-field of the count operation: "every document", not a field of the index. */
export const LENS_RECORDS = '___records___';

type Json = Record<string, unknown>;

function bucketColumn(bucket: ViewBucket, orderBy: string): Json {
  switch (bucket.kind) {
    case 'time':
      return {
        label: bucket.field,
        dataType: 'date',
        operationType: 'date_histogram',
        sourceField: bucket.field,
        isBucketed: true,
        scale: 'interval',
        params: { interval: 'auto', includeEmptyRows: true, dropPartials: false },
      };
    case 'filters':
      return {
        label: 'Filters',
        dataType: 'string',
        operationType: 'filters',
        isBucketed: true,
        scale: 'ordinal',
        params: { filters: bucket.filters.map((f) => ({ input: { query: f.kql, language: 'kuery' }, label: f.label })) },
      };
    case 'range':
      return {
        label: bucket.label,
        customLabel: true,
        dataType: 'number',
        operationType: 'range',
        sourceField: bucket.field,
        isBucketed: true,
        scale: 'ordinal',
        params: { type: 'range', maxBars: 'auto', ranges: bucket.ranges.map((r) => ({ from: r.from, to: r.to, label: r.label })) },
      };
    case 'terms':
      return {
        label: bucket.label,
        customLabel: true,
        dataType: 'string',
        operationType: 'terms',
        sourceField: bucket.field,
        isBucketed: true,
        scale: 'ordinal',
        params: {
          size: bucket.size,
          orderBy: { type: 'column', columnId: orderBy },
          orderDirection: 'desc',
          otherBucket: false,
          missingBucket: false,
          parentFormat: { id: 'terms' },
        },
      };
  }
}

function metricColumn(metric: ViewMetric): Json {
  const common = { label: metric.label, customLabel: true, dataType: 'number', isBucketed: false, scale: 'ratio' };
  switch (metric.kind) {
    case 'count':
      return { ...common, operationType: 'count', sourceField: LENS_RECORDS, params: { emptyAsNull: true } };
    case 'percentile':
      return { ...common, operationType: 'percentile', sourceField: metric.field, params: { percentile: metric.percent } };
    case 'avg':
      return { ...common, operationType: 'average', sourceField: metric.field, params: { emptyAsNull: true } };
    case 'sum':
      return { ...common, operationType: 'sum', sourceField: metric.field, params: { emptyAsNull: true } };
    case 'cardinality':
      return { ...common, operationType: 'unique_count', sourceField: metric.field, params: { emptyAsNull: true } };
  }
}

const SERIES_TYPE = { stacked: 'bar_stacked', percentage: 'bar_percentage_stacked', line: 'line' } as const;

/** The Lens state of one view: one layer whose columns are the view's buckets (outermost first), then its metrics. */
export function lensState(view: View, layerId: string): Json {
  const bucketIds = view.buckets.map((_, i) => `${layerId}-b${i}`);
  const metricIds = view.metrics.map((_, i) => `${layerId}-m${i}`);
  const columns: Record<string, Json> = {};
  view.buckets.forEach((b, i) => { columns[bucketIds[i]] = bucketColumn(b, metricIds[0]); });
  view.metrics.forEach((m, i) => { columns[metricIds[i]] = metricColumn(m); });
  const visualization = view.chart === 'table'
    ? { layerId, layerType: 'data', columns: [...bucketIds, ...metricIds].map((columnId) => ({ columnId })) }
    : {
      legend: { isVisible: true, position: 'right' },
      valueLabels: 'hide',
      preferredSeriesType: SERIES_TYPE[view.chart],
      layers: [{
        layerId,
        layerType: 'data',
        seriesType: SERIES_TYPE[view.chart],
        accessors: metricIds,
        xAccessor: bucketIds[0],
        ...(bucketIds.length > 1 ? { splitAccessor: bucketIds[1] } : {}),
      }],
    };
  return {
    adHocDataViews: {},
    datasourceStates: {
      formBased: { layers: { [layerId]: { columnOrder: [...bucketIds, ...metricIds], columns, incompleteColumns: {}, sampling: 1 } } },
      textBased: { layers: {} },
    },
    filters: [],
    internalReferences: [],
    query: { query: '', language: 'kuery' },
    visualization,
  };
}

export function kibanaObjects(source: DashboardSource, views: readonly View[], search: RequestsSearch, ids: ObjectIds): SavedObject[] {
  const dataView: SavedObject = {
    id: ids.indexPattern,
    type: 'index-pattern',
    // Kibana 8 keeps no field list in the object (`fields` "[]"): it reads the mapping when the data view is used.
    attributes: {
      fieldAttrs: '{}',
      fieldFormatMap: '{}',
      fields: '[]',
      name: `WAF requests (${source.indexPattern})`,
      runtimeFieldMap: '{}',
      timeFieldName: source.fields.timestamp,
      title: source.indexPattern,
      typeMeta: '{}',
    },
    references: [],
    coreMigrationVersion: CORE_MIGRATION,
    typeMigrationVersion: TYPE_MIGRATION['index-pattern'],
  };
  const lenses = views.map((view): SavedObject => {
    const id = ids.view(view.name);
    // Layer ids only need to be unique within the object; derived from its id so the export is the same every run.
    const layerId = stableUuid(id, 'layer');
    return {
      id,
      type: 'lens',
      attributes: {
        description: view.description,
        state: lensState(view, layerId),
        title: view.title,
        visualizationType: view.chart === 'table' ? 'lnsDatatable' : 'lnsXY',
      },
      references: [{ id: ids.indexPattern, name: `indexpattern-datasource-layer-${layerId}`, type: 'index-pattern' }],
      coreMigrationVersion: CORE_MIGRATION,
      typeMigrationVersion: TYPE_MIGRATION.lens,
    };
  });
  const requests: SavedObject = {
    id: ids.view(search.name),
    type: 'search',
    attributes: {
      columns: [...search.columns],
      description: search.description,
      hits: 0,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          highlightAll: true, version: true, query: { query: '', language: 'kuery' }, filter: [], indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index',
        }),
      },
      sort: [[search.sortField, 'desc']],
      title: search.title,
      version: 1,
    },
    references: [{ id: ids.indexPattern, name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
    coreMigrationVersion: CORE_MIGRATION,
    typeMigrationVersion: TYPE_MIGRATION.search,
  };
  const panelled = [...lenses.map((o, i) => ({ object: o, grid: views[i].grid })), { object: requests, grid: search.grid }];
  const panels = panelled.map((p) => {
    const panelIndex = stableUuid(ids.dashboard, 'panel', p.object.id);
    return {
      version: CORE_MIGRATION,
      type: p.object.type,
      gridData: { ...p.grid, i: panelIndex },
      panelIndex,
      embeddableConfig: { enhancements: {} },
      panelRefName: `panel_${panelIndex}`,
    };
  });
  const dashboard: SavedObject = {
    id: ids.dashboard,
    type: 'dashboard',
    attributes: {
      description: `The WAF's requests in ${source.indexPattern}, generated by cdk-waf-guard from the monitor's field settings.`,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
      panelsJSON: JSON.stringify(panels),
      timeRestore: false,
      title: `WAF (${source.indexPattern})`,
      version: 1,
    },
    // Kibana 8 names a panel's reference "<panelIndex>:<panelRefName>" (as its export and sample data do).
    references: panels.map((p, i) => ({ id: panelled[i].object.id, name: `${p.panelIndex}:${p.panelRefName}`, type: panelled[i].object.type })),
    coreMigrationVersion: CORE_MIGRATION,
    typeMigrationVersion: TYPE_MIGRATION.dashboard,
  };
  return [dataView, ...lenses, requests, dashboard];
}
