/** Which product the WAF dashboard's saved objects are made for. */
export enum KibanaDashboardsFlavour {
  /** Kibana 8.x: a data view, Lens visualizations where they fit, saved searches, one dashboard. */
  KIBANA = 'kibana',
  /** OpenSearch Dashboards 2.x (self-managed or Amazon OpenSearch Service): an index pattern, visualizations, one dashboard. */
  OPENSEARCH_DASHBOARDS = 'opensearch',
}

/**
 * Imports the WAF dashboard (generated from the monitor's field settings) into Kibana or OpenSearch Dashboards when the
 * stack is deployed, and again with overwrite when the settings change.
 */
export interface KibanaDashboardsOptions {
  /**
   * URL of Kibana or OpenSearch Dashboards (not of Elasticsearch), with its base path if it has one: a Kibana space is
   * `https://kibana.example.com:5601/s/<space>`; an Amazon OpenSearch Service domain's is its endpoint plus
   * `/_dashboards`. `https://` unless the monitor's `allowInsecureHttp`; no user info: the monitor's `credentials`
   * (or its role's SigV4 signature) are used.
   */
  readonly endpoint: string;
  /**
   * Which product's objects to import.
   * @default - OPENSEARCH_DASHBOARDS for the OpenSearch engines, KIBANA for Elasticsearch
   */
  readonly flavour?: KibanaDashboardsFlavour;
  /**
   * Delete the imported objects (by id) when the resource is deleted: the stack is deleted, `kibanaDashboards` is
   * removed, or the endpoint or index pattern changes. Objects someone edited in Kibana go too.
   * @default false - the objects stay in Kibana, where teams may have built on them
   */
  readonly removeOnDelete?: boolean;
}
