import { CollectorConfig } from '../runtime/config';

/** The types the generator's parts share (kept apart so the parts do not import the generator that imports them). */

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

export interface ObjectIds {
  readonly indexPattern: string;
  readonly dashboard: string;
  view(name: string): string;
}
