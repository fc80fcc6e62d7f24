/**
 * CloudFront real-time log fields in the order CloudFront delivers them, whatever order a config lists them in.
 * A field's position in a line is its rank among the configured fields in this order.
 */
export const CANONICAL_FIELDS: readonly string[] = [
  'timestamp', 'c-ip', 's-ip', 'time-to-first-byte', 'sc-status', 'sc-bytes', 'cs-method', 'cs-protocol', 'cs-host',
  'cs-uri-stem', 'cs-bytes', 'x-edge-location', 'x-edge-request-id', 'x-host-header', 'time-taken',
  'cs-protocol-version', 'c-ip-version', 'cs-user-agent', 'cs-referer', 'cs-cookie', 'cs-uri-query',
  'x-edge-response-result-type', 'x-forwarded-for', 'ssl-protocol', 'ssl-cipher', 'x-edge-result-type',
  'fle-encrypted-fields', 'fle-status', 'sc-content-type', 'sc-content-len', 'sc-range-start', 'sc-range-end',
  'c-port', 'x-edge-detailed-result-type', 'c-country', 'cs-accept-encoding', 'cs-accept', 'cache-behavior-path-pattern',
  'cs-headers', 'cs-header-names', 'cs-headers-count', 'primary-distribution-id', 'primary-distribution-dns-name',
  'origin-fbl', 'origin-lbl', 'asn',
  'cmcd-encoded-bitrate', 'cmcd-buffer-length', 'cmcd-buffer-starvation', 'cmcd-content-id', 'cmcd-object-duration',
  'cmcd-deadline', 'cmcd-measured-throughput', 'cmcd-next-object-request', 'cmcd-next-range-request',
  'cmcd-object-type', 'cmcd-playback-rate', 'cmcd-requested-maximum-throughput', 'cmcd-streaming-format',
  'cmcd-session-id', 'cmcd-stream-type', 'cmcd-startup', 'cmcd-top-bitrate', 'cmcd-version',
  'r-host', 'sr-reason', 'x-edge-mqcs', 'distribution-tenant-id', 'connection-id',
];

/** Fields detection reads; always part of the configured set. */
export const DETECTION_FIELDS: readonly string[] = ['timestamp', 'c-ip', 'cs-host', 'cs-uri-stem', 'x-forwarded-for'];

/** The first 40 canonical fields: what "all fields" meant when real-time logs launched, and the benchmark's line. */
export const ORIGINAL_40_FIELDS: readonly string[] = CANONICAL_FIELDS.slice(0, 40);

const RANK = new Map(CANONICAL_FIELDS.map((f, i) => [f, i]));

/** Field names not known to CloudFront, for error messages. */
export function unknownFields(fields: readonly string[]): string[] {
  return fields.filter((f) => !RANK.has(f));
}

/**
 * The configured set as CloudFront delivers it: de-duplicated, in canonical order, detection fields included.
 * Throws on a name CloudFront does not know, listing it.
 */
export function deliveredFieldOrder(fields: readonly string[]): string[] {
  const unknown = unknownFields(fields);
  if (unknown.length > 0) {
    throw new Error(
      `Unknown CloudFront real-time log field(s): ${unknown.join(', ')}. Valid names: ${CANONICAL_FIELDS.join(', ')}`,
    );
  }
  const set = new Set([...DETECTION_FIELDS, ...fields]);
  return [...set].sort((a, b) => RANK.get(a)! - RANK.get(b)!);
}
