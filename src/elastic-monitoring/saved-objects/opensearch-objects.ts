import type { DashboardSource, ObjectIds, SavedObject } from './saved-object-types';
import { RequestsSearch, View, ViewBucket, ViewMetric } from './views';

/**
 * OpenSearch Dashboards 2.x objects, in the shape its export writes them (compared with the OpenSearch catalog's AWS WAF
 * integration): aggregation-based `visualization`s whose index is a reference named by `indexRefName`, and a dashboard
 * whose panels name their references `panel_N`. `migrationVersion` is that of the catalog's export, so the import runs
 * the product's own migrations from there.
 */

const MIGRATION = { 'index-pattern': '7.6.0', 'visualization': '7.10.0', 'search': '7.9.3', 'dashboard': '7.9.3' } as const;

/** Written into each panel; OpenSearch Dashboards reads it only to migrate panels of 6.x dashboards. */
const PANEL_VERSION = '2.11.0';

const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

type Json = Record<string, unknown>;


function searchSource(extra: Json = {}): Json {
  return { searchSourceJSON: JSON.stringify({ ...extra, query: { query: '', language: 'kuery' }, filter: [], indexRefName: INDEX_REF }) };
}

function bucketAgg(bucket: ViewBucket, id: string, schema: string): Json {
  switch (bucket.kind) {
    case 'time':
      return {
        id,
        enabled: true,
        type: 'date_histogram',
        schema,
        params: {
          field: bucket.field,
          useNormalizedOpenSearchInterval: true,
          scaleMetricValues: false,
          interval: 'auto',
          drop_partials: false,
          min_doc_count: 1,
          extended_bounds: {},
        },
      };
    case 'filters':
      return {
        id,
        enabled: true,
        type: 'filters',
        schema,
        params: { filters: bucket.filters.map((f) => ({ input: { query: f.kql, language: 'kuery' }, label: f.label })) },
      };
    case 'range':
      return {
        id,
        enabled: true,
        type: 'range',
        schema,
        params: { field: bucket.field, ranges: bucket.ranges.map((r) => ({ from: r.from, to: r.to })), customLabel: bucket.label },
      };
    case 'terms':
      return {
        id,
        enabled: true,
        type: 'terms',
        schema,
        params: {
          field: bucket.field,
          orderBy: '1',
          order: 'desc',
          size: bucket.size,
          otherBucket: false,
          otherBucketLabel: 'Other',
          missingBucket: false,
          missingBucketLabel: 'Missing',
          customLabel: bucket.label,
        },
      };
  }
}

function metricAgg(metric: ViewMetric, id: string): Json {
  switch (metric.kind) {
    case 'count':
      return { id, enabled: true, type: 'count', schema: 'metric', params: { customLabel: metric.label } };
    case 'percentile':
      return { id, enabled: true, type: 'percentiles', schema: 'metric', params: { field: metric.field, percents: [metric.percent], customLabel: metric.label } };
    default:
      return { id, enabled: true, type: metric.kind, schema: 'metric', params: { field: metric.field, customLabel: metric.label } };
  }
}

/** Parameters of a vislib point-series chart (as the catalog's "Requests History"), stacked or stacked to 100 %. */
function seriesParams(view: View, metricIds: readonly string[]): Json {
  const type = view.chart === 'line' ? 'line' : 'histogram';
  return {
    type,
    grid: { categoryLines: false },
    categoryAxes: [{ id: 'CategoryAxis-1', type: 'category', position: 'bottom', show: true, style: {}, scale: { type: 'linear' }, labels: { show: true, filter: true, truncate: 100 }, title: {} }],
    valueAxes: [{
      id: 'ValueAxis-1',
      name: 'LeftAxis-1',
      type: 'value',
      position: 'left',
      show: true,
      style: {},
      scale: { type: 'linear', mode: view.chart === 'percentage' ? 'percentage' : 'normal' },
      labels: { show: true, rotate: 0, filter: false, truncate: 100 },
      title: { text: view.metrics[0].label },
    }],
    seriesParams: view.metrics.map((m, i) => ({
      show: true,
      type,
      mode: view.chart === 'line' ? 'normal' : 'stacked',
      data: { label: m.label, id: metricIds[i] },
      valueAxis: 'ValueAxis-1',
      drawLinesBetweenPoints: true,
      lineWidth: 2,
      showCircles: true,
    })),
    addTooltip: true,
    addLegend: true,
    legendPosition: 'right',
    times: [],
    addTimeMarker: false,
    labels: { show: false },
    thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
  };
}

const TABLE_PARAMS = {
  perPage: 10,
  showPartialRows: false,
  showMetricsAtAllLevels: false,
  sort: { columnIndex: null, direction: null },
  showTotal: false,
  totalFunc: 'sum',
  percentageCol: '',
};

export function visState(view: View): Json {
  const metricIds = view.metrics.map((_, i) => String(i + 1));
  const metrics = view.metrics.map((m, i) => metricAgg(m, metricIds[i]));
  // Charts: the first bucket is the x axis (segment), the next splits the series (group); tables: rows (bucket).
  const buckets = view.buckets.map((b, i) => bucketAgg(b, String(metrics.length + i + 1), view.chart === 'table' ? 'bucket' : i === 0 ? 'segment' : 'group'));
  return {
    title: view.title,
    type: view.chart === 'table' ? 'table' : view.chart === 'line' ? 'line' : 'histogram',
    aggs: [...metrics, ...buckets],
    params: view.chart === 'table' ? TABLE_PARAMS : seriesParams(view, metricIds),
  };
}

function indexReference(ids: ObjectIds) {
  return [{ id: ids.indexPattern, name: INDEX_REF, type: 'index-pattern' }];
}

export function openSearchObjects(source: DashboardSource, views: readonly View[], search: RequestsSearch, ids: ObjectIds): SavedObject[] {
  const indexPattern: SavedObject = {
    id: ids.indexPattern,
    type: 'index-pattern',
    // An empty field list makes OpenSearch Dashboards read the fields from the cluster's mapping on first use, rather
    // than trusting types guessed here.
    attributes: { fields: '[]', timeFieldName: source.fields.timestamp, title: source.indexPattern },
    references: [],
    migrationVersion: { 'index-pattern': MIGRATION['index-pattern'] },
  };
  const visualizations = views.map((view): SavedObject => ({
    id: ids.view(view.name),
    type: 'visualization',
    attributes: {
      description: view.description,
      kibanaSavedObjectMeta: searchSource(),
      title: view.title,
      uiStateJSON: '{}',
      version: 1,
      visState: JSON.stringify(visState(view)),
    },
    references: indexReference(ids),
    migrationVersion: { visualization: MIGRATION.visualization },
  }));
  const requests: SavedObject = {
    id: ids.view(search.name),
    type: 'search',
    attributes: {
      columns: [...search.columns],
      description: search.description,
      hits: 0,
      kibanaSavedObjectMeta: searchSource({ highlightAll: true, version: true }),
      sort: [[search.sortField, 'desc']],
      title: search.title,
      version: 1,
    },
    references: indexReference(ids),
    migrationVersion: { search: MIGRATION.search },
  };
  const panelled = [
    ...visualizations.map((o, i) => ({ object: o, title: views[i].title, grid: views[i].grid })),
    { object: requests, title: search.title, grid: search.grid },
  ];
  const panels = panelled.map((p, n) => {
    const panelIndex = String(n + 1);
    return {
      embeddableConfig: {}, gridData: { ...p.grid, i: panelIndex }, panelIndex, title: p.title, version: PANEL_VERSION, panelRefName: `panel_${n}`,
    };
  });
  const dashboard: SavedObject = {
    id: ids.dashboard,
    type: 'dashboard',
    attributes: {
      description: `The WAF's requests in ${source.indexPattern}, generated by cdk-waf-guard from the monitor's field settings.`,
      hits: 0,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { language: 'kuery', query: '' }, filter: [] }) },
      optionsJSON: JSON.stringify({ darkTheme: false, hidePanelTitles: false, useMargins: true }),
      panelsJSON: JSON.stringify(panels),
      timeRestore: false,
      title: `WAF (${source.indexPattern})`,
      version: 1,
    },
    references: panelled.map((p, n) => ({ id: p.object.id, name: `panel_${n}`, type: p.object.type })),
    migrationVersion: { dashboard: MIGRATION.dashboard },
  };
  return [indexPattern, ...visualizations, requests, dashboard];
}
