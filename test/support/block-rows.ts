import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';

/** A block row of rule `api` (threshold 20 per 60 s, 40 observed) blocked at `blockedAt` for five minutes. */
export function blockRow(ip: string, blockedAt: number, over: Partial<BlockRow> = {}): BlockRow {
  return {
    ip,
    ruleId: 'api',
    family: ip.includes(':') ? 6 : 4,
    host: 'api.example.com',
    action: 'BLOCK',
    observed: 40,
    threshold: 20,
    windowSeconds: 60,
    severity: 2,
    firstSeenAt: blockedAt - 30_000,
    crossedAt: blockedAt - 1000,
    blockedAt,
    blockedUntil: blockedAt + 300_000,
    expiresAt: Math.floor(blockedAt / 1000) + 86_400 + 300,
    ...over,
  };
}
