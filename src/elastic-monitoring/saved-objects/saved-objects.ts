import { kibanaObjects } from './kibana-objects';
import { openSearchObjects } from './opensearch-objects';
import { DashboardFlavour, DashboardSource, ObjectIds, SavedObject } from './saved-object-types';
import { stableUuid } from './stable-id';
import { requestsSearch, wafViews } from './views';

/**
 * The WAF views as saved objects for Kibana 8.x and OpenSearch Dashboards 2.x (issue 20), generated from the
 * monitor's own settings: the same field names, status values and Apdex definition the collector queries with, so the
 * dashboards cannot drift from the monitor. Pure: no I/O, the same input gives the same output byte for byte.
 */

export type { DashboardFlavour, DashboardSource, SavedObject } from './saved-object-types';

/** The flavour the monitor's engine calls for: OpenSearch Dashboards for the OpenSearch engines, Kibana otherwise. */
export function flavourOf(source: DashboardSource): DashboardFlavour {
  switch (source.engine?.kind) {
    case 'opensearch':
    case 'amazon-opensearch-service':
    case 'amazon-opensearch-serverless':
      return 'opensearch';
    default:
      return 'kibana';
  }
}

/**
 * Ids from (flavour, index pattern, object name) only: not from the field settings, so that after a field is renamed
 * the next import overwrites the objects rather than adding a second dashboard beside the stale one.
 */
function objectIds(source: DashboardSource, flavour: DashboardFlavour): ObjectIds {
  const id = (name: string) => stableUuid(flavour, source.indexPattern, name);
  return { indexPattern: id('index-pattern'), dashboard: id('dashboard'), view: (name) => id(`view:${name}`) };
}

/** Every object of the WAF dashboard (index pattern / data view, searches, visualizations, the dashboard), stable ids. */
export function wafSavedObjects(source: DashboardSource, flavour: DashboardFlavour): SavedObject[] {
  const ids = objectIds(source, flavour);
  const views = wafViews(source);
  const search = requestsSearch(source);
  return flavour === 'opensearch' ? openSearchObjects(source, views, search, ids) : kibanaObjects(source, views, search, ids);
}

/** Import order: what others reference first, so a reader of the file (or a partial import) meets no dangling name. */
const TYPE_ORDER: Record<string, number> = { 'index-pattern': 0, 'search': 1, 'visualization': 1, 'lens': 1, 'dashboard': 2 };

/** NDJSON as an export writes it: one object a line, in dependency order (referenced objects first). */
export function toNdjson(objects: readonly SavedObject[]): string {
  const rank = (o: SavedObject) => TYPE_ORDER[o.type] ?? 1;
  // Array.prototype.sort is stable: objects of the same rank keep their order.
  const sorted = [...objects].sort((a, b) => rank(a) - rank(b));
  return sorted.map((o) => `${JSON.stringify(o)}\n`).join('');
}

/** The dashboard's id (stable for the same source and flavour), e.g. for a link. */
export function dashboardId(source: DashboardSource, flavour: DashboardFlavour): string {
  return objectIds(source, flavour).dashboard;
}
