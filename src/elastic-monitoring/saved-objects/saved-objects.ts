import { CollectorConfig } from '../runtime/config';

/**
 * CONTRACT (issue 20), to be implemented on branch i20gen: the WAF views as saved objects for Kibana 8.x and
 * OpenSearch Dashboards 2.x, generated from the monitor's own settings. Other branches import only what is declared
 * here; the bodies are replaced by the implementation.
 */

/** Which product the objects are for: Kibana 8.x (data view, Lens where it fits) or OpenSearch Dashboards 2.x. */
export type DashboardFlavour = 'kibana' | 'opensearch';

/** One saved object as an export writes it (one NDJSON line). */
export interface SavedObject {
  readonly id: string;
  readonly type: string;
  readonly attributes: Record<string, unknown>;
  readonly references: ReadonlyArray<{ readonly id: string; readonly name: string; readonly type: string }>;
  readonly coreMigrationVersion?: string;
  readonly typeMigrationVersion?: string;
  readonly migrationVersion?: Record<string, string>;
}

/** The settings the objects are generated from: the collector's configuration (fields, index pattern, Apdex, engine). */
export type DashboardSource = Pick<CollectorConfig, 'indexPattern' | 'fields' | 'statusValues' | 'apdexTMs' | 'apdexDefinition' | 'engine'>;

/** The flavour the monitor's engine calls for: OpenSearch Dashboards for the OpenSearch engines, Kibana otherwise. */
export declare function flavourOf(source: DashboardSource): DashboardFlavour;

/** Every object of the WAF dashboard (index pattern / data view, searches, visualizations, the dashboard), stable ids. */
export declare function wafSavedObjects(source: DashboardSource, flavour: DashboardFlavour): SavedObject[];

/** NDJSON as an export writes it: one object a line, in dependency order (referenced objects first). */
export declare function toNdjson(objects: readonly SavedObject[]): string;

/** The dashboard's id (stable for the same source and flavour), e.g. for a link. */
export declare function dashboardId(source: DashboardSource, flavour: DashboardFlavour): string;
