import { kqlAnd, kqlCompare, kqlIs, kqlIsNot } from './kql';
import type { DashboardSource } from './saved-object-types';

/**
 * The WAF dashboard's views, independent of the product: each flavour (OpenSearch Dashboards visualizations, Kibana
 * Lens) renders the same buckets and metrics, so both show the same figures from the same fields. Every field name
 * is taken from the source's `fields`.
 *
 * Not a view: errors of the WAF's own containers. The request documents have no field that marks them (`FieldNames`
 * holds none), and the monitor watches them elsewhere (the ECS log metric filter and task-crash alarm), so a panel
 * here would have to guess a field name and would show nothing.
 */

/** A split of the documents, outermost first. */
export type ViewBucket =
  /** Over time, on the timestamp field, interval chosen by the product for the time range. */
  | { readonly kind: 'time'; readonly field: string }
  /** Named KQL filters, one bucket each (a document may fall in several). */
  | { readonly kind: 'filters'; readonly filters: ReadonlyArray<{ readonly label: string; readonly kql: string }> }
  /** Numeric ranges, `from` inclusive, `to` exclusive. */
  | { readonly kind: 'range'; readonly field: string; readonly label: string; readonly ranges: ReadonlyArray<{ readonly from: number; readonly to: number; readonly label: string }> }
  /** The most frequent values, by document count. */
  | { readonly kind: 'terms'; readonly field: string; readonly label: string; readonly size: number };

/** What is computed per bucket. */
export type ViewMetric =
  | { readonly kind: 'count'; readonly label: string }
  | { readonly kind: 'avg' | 'sum' | 'cardinality'; readonly field: string; readonly label: string }
  | { readonly kind: 'percentile'; readonly field: string; readonly percent: number; readonly label: string };

/** How the figures are drawn: stacked bars, bars stacked to 100 %, lines, or a table. */
export type ViewChart = 'stacked' | 'percentage' | 'line' | 'table';

export interface View {
  /** Part of the object's stable id: never rename. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly chart: ViewChart;
  readonly buckets: readonly ViewBucket[];
  readonly metrics: readonly ViewMetric[];
  /** Place on the dashboard's 48-column grid. */
  readonly grid: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
}

/** The saved search of single requests, below the charts. */
export interface RequestsSearch {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly columns: readonly string[];
  readonly sortField: string;
  readonly grid: View['grid'];
}

const HALF = 24;
const HEIGHT = 15;

/** The Apdex bands as the monitor counts them (queries.ts `apdexFigures`): the same bounds for the same definition. */
function apdexBands(source: DashboardSource): ViewBucket {
  const { latency, status } = source.fields;
  const t = source.apdexTMs;
  if (source.apdexDefinition === 'allowedRequests') {
    const allowed = kqlIs(status, source.statusValues.allowed);
    return {
      kind: 'filters',
      filters: [
        { label: `satisfied (< ${t} ms)`, kql: kqlAnd(allowed, kqlCompare(latency, '<', t)) },
        { label: `tolerating (${t} to < ${4 * t} ms)`, kql: kqlAnd(allowed, kqlCompare(latency, '>=', t), kqlCompare(latency, '<', 4 * t)) },
        { label: `frustrated (>= ${4 * t} ms)`, kql: kqlAnd(allowed, kqlCompare(latency, '>=', 4 * t)) },
      ],
    };
  }
  return {
    kind: 'filters',
    filters: [
      { label: `satisfied (<= ${t} ms)`, kql: kqlCompare(latency, '<=', t) },
      { label: `tolerating (<= ${4 * t} ms)`, kql: kqlAnd(kqlCompare(latency, '>', t), kqlCompare(latency, '<=', 4 * t)) },
      { label: `frustrated (> ${4 * t} ms)`, kql: kqlCompare(latency, '>', 4 * t) },
    ],
  };
}

const HTTP_CLASSES = [1, 2, 3, 4, 5].map((c) => ({ from: c * 100, to: (c + 1) * 100, label: `${c}xx` }));

export function wafViews(source: DashboardSource): View[] {
  const f = source.fields;
  const sv = source.statusValues;
  const time: ViewBucket = { kind: 'time', field: f.timestamp };
  const count: ViewMetric = { kind: 'count', label: 'Requests' };
  const avgLatency: ViewMetric = { kind: 'avg', field: f.latency, label: 'Average latency (ms)' };
  const apdexRequests = source.apdexDefinition === 'allowedRequests' ? 'allowed requests with a latency' : 'requests with a latency';
  return [
    {
      name: 'requests-by-verdict',
      title: 'WAF requests by verdict',
      description: `Requests over time split by the WAF's verdict (${f.status}: ${sv.allowed}, ${sv.blocked}, ${sv.alerted}).`,
      chart: 'stacked',
      buckets: [time, { kind: 'filters', filters: [sv.allowed, sv.blocked, sv.alerted].map((v) => ({ label: v, kql: kqlIs(f.status, v) })) }],
      metrics: [count],
      grid: { x: 0, y: 0, w: HALF, h: HEIGHT },
    },
    {
      name: 'requests-by-http-status',
      title: 'WAF requests by HTTP status class',
      description: `Requests over time by class of the response's HTTP status code (${f.httpStatusCode}).`,
      chart: 'stacked',
      buckets: [time, { kind: 'range', field: f.httpStatusCode, label: 'HTTP status', ranges: HTTP_CLASSES }],
      metrics: [count],
      grid: { x: HALF, y: 0, w: HALF, h: HEIGHT },
    },
    {
      name: 'blocked-share',
      title: 'WAF blocked share',
      description: `Share of requests the WAF blocked (${f.status} is ${sv.blocked}), over time.`,
      chart: 'percentage',
      buckets: [time, { kind: 'filters', filters: [{ label: sv.blocked, kql: kqlIs(f.status, sv.blocked) }, { label: `not ${sv.blocked}`, kql: kqlIsNot(f.status, sv.blocked) }] }],
      metrics: [count],
      grid: { x: 0, y: HEIGHT, w: HALF, h: HEIGHT },
    },
    {
      name: 'latency',
      title: 'WAF latency (average and 95th percentile)',
      description: `Latency the WAF added (${f.latency}), average and 95th percentile, over time.`,
      chart: 'line',
      buckets: [time],
      metrics: [avgLatency, { kind: 'percentile', field: f.latency, percent: 95, label: '95th percentile latency (ms)' }],
      grid: { x: HALF, y: HEIGHT, w: HALF, h: HEIGHT },
    },
    {
      name: 'apdex-bands',
      title: `WAF Apdex bands (T = ${source.apdexTMs} ms)`,
      description: `Share of ${apdexRequests} that are satisfied, tolerating or frustrated (${f.latency}), over time; `
        + 'Apdex = satisfied + tolerating / 2 of these shares.',
      chart: 'percentage',
      buckets: [time, apdexBands(source)],
      metrics: [count],
      grid: { x: 0, y: 2 * HEIGHT, w: HALF, h: HEIGHT },
    },
    {
      name: 'traffic-per-customer',
      title: 'WAF traffic per customer',
      description: `Requests, latency and bytes per customer (${f.customer}; ${f.requestBytes}, ${f.responseBytes}).`,
      chart: 'table',
      buckets: [{ kind: 'terms', field: f.customer, label: 'Customer', size: 50 }],
      metrics: [
        count,
        avgLatency,
        { kind: 'sum', field: f.requestBytes, label: 'Request bytes' },
        { kind: 'sum', field: f.responseBytes, label: 'Response bytes' },
      ],
      grid: { x: HALF, y: 2 * HEIGHT, w: HALF, h: HEIGHT },
    },
    {
      name: 'top-hosts',
      title: 'WAF top hosts',
      description: `Hosts with the most requests (${f.host}), with their average latency.`,
      chart: 'table',
      buckets: [{ kind: 'terms', field: f.host, label: 'Host', size: 20 }],
      metrics: [count, avgLatency],
      grid: { x: 0, y: 3 * HEIGHT, w: HALF, h: HEIGHT },
    },
    {
      name: 'top-client-ips',
      title: 'WAF top client IPs',
      description: `Client addresses with the most requests (${f.clientIp}), and how many hosts each reached.`,
      chart: 'table',
      buckets: [{ kind: 'terms', field: f.clientIp, label: 'Client IP', size: 20 }],
      metrics: [count, { kind: 'cardinality', field: f.host, label: 'Hosts' }],
      grid: { x: HALF, y: 3 * HEIGHT, w: HALF, h: HEIGHT },
    },
  ];
}

export function requestsSearch(source: DashboardSource): RequestsSearch {
  const f = source.fields;
  return {
    name: 'requests',
    title: 'WAF requests',
    description: 'Single requests, newest first.',
    columns: [f.host, f.customer, f.clientIp, f.status, f.httpStatusCode, f.latency],
    sortField: f.timestamp,
    grid: { x: 0, y: 4 * HEIGHT, w: 2 * HALF, h: 20 },
  };
}
