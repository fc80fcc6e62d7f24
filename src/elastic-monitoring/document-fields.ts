/**
 * Names of the fields of the WAF's request documents in Elasticsearch, so the monitor fits any log schema. Dotted
 * paths address object fields. Fields used in aggregations must be `keyword`, numeric or `date` fields (for a `text`
 * field with a keyword sub-field, give the sub-field, e.g. `host.keyword`).
 */
export interface ElasticDocumentFields {
  /**
   * Time of the request (`date`).
   * @default '@timestamp'
   */
  readonly timestamp?: string;
  /**
   * Time the WAF added to the request, in milliseconds (numeric).
   * @default 'waf.latency_ms'
   */
  readonly latencyMs?: string;
  /**
   * The WAF's verdict: allowed, blocked or alerted (`keyword`; values in `statusValues`).
   * @default 'waf.status'
   */
  readonly status?: string;
  /**
   * Host name the request was for (`keyword`).
   * @default 'url.domain'
   */
  readonly host?: string;
  /**
   * Customer the host belongs to (`keyword`), shown with the slowest hosts.
   * @default 'waf.customer'
   */
  readonly customer?: string;
  /**
   * Client IP address (`ip` or `keyword`); distinct clients are counted per slow host.
   * @default 'client.ip'
   */
  readonly clientIp?: string;
  /**
   * Request size in bytes (numeric).
   * @default 'http.request.bytes'
   */
  readonly requestBytes?: string;
  /**
   * Response size in bytes (numeric).
   * @default 'http.response.bytes'
   */
  readonly responseBytes?: string;
  /**
   * HTTP status code of the response (numeric); 5xx responses are counted per slow host.
   * @default 'http.response.status_code'
   */
  readonly httpStatusCode?: string;
}

/** The values of the status field meaning each verdict. */
export interface WafStatusValues {
  /**
   * Request passed.
   * @default 'allowed'
   */
  readonly allowed?: string;
  /**
   * Request blocked.
   * @default 'blocked'
   */
  readonly blocked?: string;
  /**
   * Request passed but matched a rule in detection mode.
   * @default 'alerted'
   */
  readonly alerted?: string;
}
