import { HistoryRecord } from '../../src/reporting/runtime/guard-summary';

export const HOSTILE = '<script>alert("x")</script>&\'';

const t = (iso: string) => Date.parse(iso);

/** History rows of 2026-11-30 in Europe/Berlin (UTC+1): the first row is on the 29th locally, the last on Dec 1st. */
export function historyRows(): HistoryRecord[] {
  const block = (ip: string, at: string, ruleId: string, host: string, minutes: number, event = 'BLOCKED', observed = 150): HistoryRecord => ({
    ip,
    at: t(at),
    event,
    ruleId,
    host,
    action: event === 'WOULD_BLOCK' ? 'COUNT' : 'BLOCK',
    observed,
    threshold: 100,
    windowSeconds: 60,
    blockedAt: t(at),
    blockedUntil: t(at) + minutes * 60_000,
  });
  return [
    block('198.51.100.1', '2026-11-29T22:59:59.000Z', 'login', 'www.example.com', 15),
    block('198.51.100.7', '2026-11-29T23:00:00.000Z', 'login', 'www.example.com', 60, 'BLOCKED', 1234567),
    block('198.51.100.7', '2026-11-30T00:00:00.000Z', 'login', 'www.example.com', 60, 'RENEWED', 4000),
    { ...block('198.51.100.7', '2026-11-30T01:00:00.000Z', 'login', 'www.example.com', 0, 'RELEASED') },
    block('2001:db8:1:2::/64', '2026-11-30T08:15:10.000Z', 'api', 'api.example.com', 30),
    block('2001:db8:1:2::/64', '2026-11-30T08:15:40.000Z', HOSTILE, `${HOSTILE}.example.com`, 30),
    block('203.0.113.9', '2026-11-30T08:15:20.000Z', 'dry-run', 'api.example.com', 5, 'WOULD_BLOCK'),
    block('203.0.113.10', '2026-11-30T12:00:00.000Z', 'api', 'api.example.com', 5, 'ENDED_NOT_APPLIED'),
    block('203.0.113.11', '2026-11-30T13:00:00.000Z', 'api', 'api.example.com', 5, 'STALE_OFFENCE'),
    block('198.51.100.99', '2026-11-30T23:00:00.000Z', 'login', 'www.example.com', 15),
  ];
}
