import type { _Record, Dimension, MeasureValue } from '@aws-sdk/client-timestream-write';
import { normaliseHost, pathReadings, resolveClient, TrafficCounterOptions } from './detector';
import { clientOf, DEFAULT_IPV6_PREFIX_LENGTH, IpAddress, parseIp } from './ip';
import { LogLineParser, Malformed } from './log-parser';

/**
 * How one CloudFront real-time log line becomes one Timestream multi-measure record. Pure: the sink does the I/O.
 *
 * Every record has the time of the request (log timestamp, milliseconds) and these dimensions, which query detection
 * and the README queries rely on:
 * - `client`: the client detection counts the request against, resolved exactly as streaming detection does (the
 *   right-most X-Forwarded-For address behind a trusted proxy; an IPv6 address as its prefix);
 * - `route`: `DIRECT`, `PROXY` (found behind a trusted proxy), `ALLOW_LISTED` (never counted) or `NO_CLIENT` (a
 *   trusted proxy without a usable X-Forwarded-For; `client` is then the proxy): only DIRECT and PROXY count;
 * - `host`: the Host header as rules match it (lower case, no port or trailing dot);
 * - `path`: `cs-uri-stem` without its query string, as nginx-like origins read it (decoded once, `//` and dot segments
 *   resolved): the first of the readings streaming detection matches path rules on;
 * - `request_id`: `x-edge-request-id`, which keeps two requests of one client in the same millisecond two records
 *   (Timestream treats records with equal dimensions, time and measure name as one).
 * Chosen fields add dimensions (strings) or measures (numbers); a `-` value leaves its dimension or measure out.
 */

/** The measure name of every record; the measures are its multi-measure values. */
export const ANALYTICS_MEASURE_NAME = 'request';

/** Fields whose values are decimal numbers: DOUBLE measures. */
const DOUBLE_FIELDS: ReadonlySet<string> = new Set(['time-to-first-byte', 'time-taken', 'origin-fbl', 'origin-lbl']);
/** Fields whose values are whole numbers: BIGINT measures. */
const BIGINT_FIELDS: ReadonlySet<string> = new Set([
  'sc-bytes', 'cs-bytes', 'sc-content-len', 'sc-range-start', 'sc-range-end', 'c-port', 'cs-headers-count', 'fle-encrypted-fields',
]);

/** Fields every record carries in a form of their own (see above); listing them among the chosen fields adds nothing. */
export const ALWAYS_WRITTEN_FIELDS: readonly string[] = ['timestamp', 'c-ip', 'cs-host', 'cs-uri-stem', 'x-forwarded-for', 'x-edge-request-id'];

/**
 * Fields never written: cookies and full headers carry session tokens and credentials, which an analytics table kept
 * for months must not hold.
 */
export const REFUSED_FIELDS: readonly string[] = ['cs-cookie', 'cs-headers'];

/** The fields written when none are chosen: what the README queries and Grafana panels typically need. */
export const DEFAULT_ANALYTICS_FIELDS: readonly string[] = [
  'sc-status', 'x-edge-location', 'c-country', 'c-ip-version', 'cs-method',
  'sc-bytes', 'time-taken', 'time-to-first-byte', 'origin-fbl', 'origin-lbl',
];

/** Shorter names for the dimensions queried most; other fields keep their CloudFront name with `_` for `-`. */
const RENAMED: Readonly<Record<string, string>> = {
  'sc-status': 'status',
  'x-edge-location': 'edge_location',
  'c-country': 'country',
  'c-ip-version': 'ip_version',
  'cs-method': 'method',
};

/**
 * The bytes a record may take. Timestream refuses records over 2 KB; its quota page does not say how a record's size is
 * counted, so this uses the write-metering formula (time 8 bytes; UTF-8 bytes of every dimension name and value and of
 * the measure name; each measure's name plus 8 bytes for BIGINT/DOUBLE, counted here as its text when longer) and keeps
 * 48 bytes below 2,048 besides.
 */
export const RECORD_BUDGET_BYTES = 2000;
/** Most UTF-8 bytes of a path, and of any other optional dimension value: a path can be 8 KB long. */
const MAX_PATH_BYTES = 512;
const MAX_VALUE_BYTES = 256;

/**
 * What `map` returns for a line whose client, route, host and request id alone would not fit in a record: detection
 * needs them whole, so such a record is refused (counted as AnalyticsRecordsTooLarge) rather than cut.
 */
export const RECORD_TOO_LARGE = 'RECORD_TOO_LARGE';

/** The column a field is written to. */
export function analyticsColumn(field: string): string {
  return RENAMED[field] ?? field.replace(/-/g, '_');
}

/** The Timestream type of a chosen field: a measure type, or `VARCHAR` for a dimension. */
export function analyticsType(field: string): 'DOUBLE' | 'BIGINT' | 'VARCHAR' {
  if (DOUBLE_FIELDS.has(field)) return 'DOUBLE';
  if (BIGINT_FIELDS.has(field)) return 'BIGINT';
  return 'VARCHAR';
}

/** Why a chosen field list cannot be written, or undefined. */
export function analyticsFieldsProblem(fields: readonly string[]): string | undefined {
  const refused = fields.filter((f) => REFUSED_FIELDS.includes(f));
  if (refused.length > 0) {
    return `${refused.join(', ')} cannot be written to Timestream: cookies and headers carry session tokens and credentials`;
  }
  return undefined;
}

/** The log fields and client resolution of detection (without its rules), and the fields to write. */
export interface AnalyticsRecordOptions extends Omit<TrafficCounterOptions, 'rules'> {
  /** The chosen fields to write besides the ones every record has. */
  readonly analyticsFields: readonly string[];
}

export type AnalyticsRoute = 'DIRECT' | 'PROXY' | 'ALLOW_LISTED' | 'NO_CLIENT';

/** Routes whose requests detection counts. */
export const COUNTED_ROUTES: readonly AnalyticsRoute[] = ['DIRECT', 'PROXY'];

/** Turns log lines into records; built once per configuration. */
export class AnalyticsRecordMapper {
  private readonly parser: LogLineParser;
  private readonly extra: ReadonlyArray<{ index: number; column: string; type: 'DOUBLE' | 'BIGINT' | 'VARCHAR' }>;
  private readonly requestIdIndex: number;
  private readonly ipv6PrefixLength: number;

  constructor(private readonly options: AnalyticsRecordOptions) {
    this.parser = new LogLineParser(options.fields);
    this.requestIdIndex = options.fields.indexOf('x-edge-request-id');
    this.ipv6PrefixLength = options.ipv6PrefixLength ?? DEFAULT_IPV6_PREFIX_LENGTH;
    const chosen = [...new Set(options.analyticsFields)].filter((f) => !ALWAYS_WRITTEN_FIELDS.includes(f) && !REFUSED_FIELDS.includes(f));
    // c-ip is written as `client`; as a chosen field it adds the peer address as logged (the proxy, for proxied requests).
    if (options.analyticsFields.includes('c-ip')) chosen.unshift('c-ip');
    this.extra = chosen
      .map((field) => ({ index: options.fields.indexOf(field), column: analyticsColumn(field), type: analyticsType(field) }))
      .filter((f) => f.index >= 0);
  }

  /**
   * The record of one line (Latin-1 text, as `atob` yields it), or why the line was skipped. Every record fits in
   * RECORD_BUDGET_BYTES: client, route, host and request id are kept whole (or the record is refused with
   * RECORD_TOO_LARGE); the path, then the chosen dimensions in order, get what is left, each cut at a character
   * boundary.
   */
  public map(line: string): _Record | Malformed | typeof RECORD_TOO_LARGE {
    const parser = this.parser;
    const reason = parser.parse(line);
    if (reason !== Malformed.NONE) return reason;
    const peer = parseIp(parser.clientIp);
    if (!peer) return Malformed.CLIENT_IP;
    const { client, route } = this.resolve(peer);

    const dimensions: Dimension[] = [
      { Name: 'client', Value: client.text },
      { Name: 'route', Value: route },
    ];
    const host = parser.host;
    const hostName = host === undefined ? '' : normaliseHost(host);
    if (hostName.length > 0) dimensions.push({ Name: 'host', Value: utf8(hostName) });
    const values = this.extra.length > 0 || this.requestIdIndex >= 0 ? splitFields(line) : [];
    const requestId = present(values[this.requestIdIndex]);
    if (requestId !== undefined) dimensions.push({ Name: 'request_id', Value: utf8(requestId) });

    // Every record needs a measure, and `requests` lets queries add up requests like any other measure.
    const measures: MeasureValue[] = [{ Name: 'requests', Value: '1', Type: 'BIGINT' }];
    const optional: Array<{ name: string; text: string; maxBytes: number }> = [];
    const path = parser.path;
    if (path !== undefined) {
      const q = path.indexOf('?');
      optional.push({ name: 'path', text: utf8(pathReadings(q < 0 ? path : path.slice(0, q))[0]), maxBytes: MAX_PATH_BYTES });
    }
    for (const f of this.extra) {
      const value = present(values[f.index]);
      if (value === undefined) continue;
      if (f.type === 'VARCHAR') {
        optional.push({ name: f.column, text: utf8(value), maxBytes: MAX_VALUE_BYTES });
      } else if (f.type === 'DOUBLE' ? DECIMAL.test(value) : INTEGER.test(value)) {
        measures.push({ Name: f.column, Value: value, Type: f.type });
      }
    }
    let left = RECORD_BUDGET_BYTES - TIME_BYTES - byteLength(ANALYTICS_MEASURE_NAME);
    for (const m of measures) left -= byteLength(m.Name!) + Math.max(8, byteLength(m.Value!));
    for (const d of dimensions) left -= byteLength(d.Name!) + byteLength(d.Value!);
    if (left < 0) return RECORD_TOO_LARGE;
    for (const d of optional) {
      const value = cutUtf8(d.text, Math.min(d.maxBytes, left - byteLength(d.name)));
      // Timestream refuses an empty dimension value: a value with no room left is left out.
      if (value.length === 0) continue;
      dimensions.push({ Name: d.name, Value: value });
      left -= byteLength(d.name) + byteLength(value);
    }
    return {
      Dimensions: dimensions,
      MeasureName: ANALYTICS_MEASURE_NAME,
      MeasureValueType: 'MULTI',
      MeasureValues: measures,
      Time: String(parser.timestampMs),
      TimeUnit: 'MILLISECONDS',
    };
  }

  /** The same resolution as TrafficCounter.add: trusted proxies, then the allow-list on the address, then the prefix. */
  private resolve(peer: IpAddress): { client: IpAddress; route: AnalyticsRoute } {
    const { trustedProxies, allowList } = this.options;
    let client: IpAddress | undefined = peer;
    let route: AnalyticsRoute = 'DIRECT';
    if (trustedProxies.size > 0) {
      client = resolveClient(peer, this.parser, trustedProxies);
      if (!client) return { client: clientOf(peer, this.ipv6PrefixLength), route: 'NO_CLIENT' };
      if (client !== peer) route = 'PROXY';
    }
    if (allowList.size > 0 && allowList.contains(client)) route = 'ALLOW_LISTED';
    return { client: clientOf(client, this.ipv6PrefixLength), route };
  }
}

const DECIMAL = /^\d{1,15}(\.\d{1,9})?$/;
const INTEGER = /^\d{1,18}$/;

function splitFields(line: string): string[] {
  let end = line.length;
  while (end > 0 && (line.charCodeAt(end - 1) === 10 || line.charCodeAt(end - 1) === 13 || line.charCodeAt(end - 1) === 32)) end--;
  return line.slice(0, end).split('\t');
}

/** A value as logged, or undefined for CloudFront's `-` (empty) and an empty string. */
function present(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === '-' ? undefined : value;
}

/** Latin-1 text (bytes) as the UTF-8 string it encodes (invalid sequences as U+FFFD). */
function utf8(latin1: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

/** Timestream counts a timestamp as 8 bytes. */
const TIME_BYTES = 8;

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The longest start of `text` of at most `maxBytes` UTF-8 bytes that ends on a character boundary: never half of a
 * multi-byte sequence or of a surrogate pair.
 */
export function cutUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // A UTF-16 unit is at most 3 UTF-8 bytes (a pair of them 4): short text needs no counting.
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff;
    // A lone surrogate is written as U+FFFD, 3 bytes.
    const size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return text.slice(0, i);
}
