import { createHash } from 'crypto';
import { stringify } from 'csv-stringify/sync';
import { CustomerTraffic } from './elastic-report';
import { toMegabytes } from './format';
import { HistoryRecord } from './guard-summary';

/**
 * CSV files of the report, RFC 4180 (quotes doubled, fields with commas, quotes or line breaks quoted, CRLF), through
 * csv-stringify rather than string joins. Times are ISO 8601 in UTC: spreadsheets and scripts read them unambiguously.
 */

const options = { header: true, record_delimiter: 'windows' as const };

/** Requests and traffic per hostname of one customer, largest first. */
export function customerTrafficCsv(traffic: CustomerTraffic): string {
  return stringify(
    traffic.hosts.map((h) => ({
      hostname: h.host,
      requests: h.requests,
      request_mb: toMegabytes(h.requestBytes),
      response_mb: toMegabytes(h.responseBytes),
    })),
    { ...options, columns: ['hostname', 'requests', 'request_mb', 'response_mb'] },
  );
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

/** Every history event of the period, oldest first. */
export function blocksCsv(records: readonly HistoryRecord[]): string {
  return stringify(
    records.map((r) => ({
      time: iso(r.at),
      event: r.event,
      client: r.ip,
      rule: r.ruleId,
      host: r.host,
      action: r.action,
      observed: r.observed ?? '',
      threshold: r.threshold ?? '',
      window_seconds: r.windowSeconds ?? '',
      blocked_at: iso(r.blockedAt),
      blocked_until: iso(r.blockedUntil),
    })),
    { ...options, columns: ['time', 'event', 'client', 'rule', 'host', 'action', 'observed', 'threshold', 'window_seconds', 'blocked_at', 'blocked_until'] },
  );
}

/**
 * A customer name as a file name: anything but letters, digits, `.`, `_` and `-` becomes `_`, and a changed name gets
 * a short hash of the original so `a/b` and `a_b` do not overwrite each other.
 */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 100);
  if (cleaned === name && name !== '') return name;
  return `${cleaned}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}
