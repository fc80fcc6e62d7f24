import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from './block-store';

/** What a history item records. */
export type HistoryEvent =
  | 'BLOCKED' | 'RENEWED' | 'WOULD_BLOCK' | 'RELEASED' | 'COUNT_ENDED' | 'ENDED_NOT_APPLIED'
  /** An offence processed so late that its block would already have ended: recorded, never applied. */
  | 'STALE_OFFENCE'
  /** A block whose prefix holds an allow-listed address: recorded and alerted, kept out of the IP sets. */
  | 'NOT_APPLIED_ALLOW_LISTED'
  /** A block whose network holds a trusted proxy: recorded and alerted, kept out of the IP sets. */
  | 'NOT_APPLIED_TRUSTED_PROXY'
  /** Operators' actions (who, why and through what are in `manualBy`, `manualReason`, `manualVia`). */
  | 'MANUAL_BLOCKED' | 'UNBLOCKED' | 'EXTENDED' | 'ALLOWED' | 'ALLOW_REMOVED' | 'ALLOW_ENDED';

const ENDED: ReadonlySet<HistoryEvent> = new Set(['RELEASED', 'COUNT_ENDED', 'ENDED_NOT_APPLIED', 'UNBLOCKED', 'ALLOW_REMOVED', 'ALLOW_ENDED']);

/**
 * The history item of an event. The sort key is built from the event's own times (never from when it is written), so
 * a retried write overwrites rather than duplicates.
 */
export function historyItem(row: BlockRow, event: HistoryEvent, retentionDays: number, nowMs: number): Record<string, unknown> {
  const atMs = ENDED.has(event) ? row.blockedUntil
    : event === 'STALE_OFFENCE' ? row.crossedAt
      : event === 'EXTENDED' ? row.manualAt ?? row.blockedAt : row.blockedAt;
  const at = new Date(atMs).toISOString();
  // Only events an operator caused carry who and why: a later automatic release must not look like theirs.
  const manual = MANUAL_EVENT[event] === row.manualAction && row.manualAction !== undefined;
  return {
    // Allow-list rows share one partition of the blocks table; their history belongs to the network itself.
    ip: row.cidr ?? row.ip,
    at: `${at}#${event}#${row.ruleId}`,
    day: at.slice(0, 10),
    event,
    ruleId: row.ruleId,
    host: row.host,
    action: row.action,
    route: row.route ?? 'DIRECT',
    observed: row.observed,
    threshold: row.threshold,
    windowSeconds: row.windowSeconds,
    firstSeenAt: row.firstSeenAt,
    crossedAt: row.crossedAt,
    blockedAt: row.blockedAt,
    blockedUntil: row.blockedUntil,
    ...(manual ? {
      manualAt: row.manualAt,
      manualBy: row.manualBy,
      manualReason: row.manualReason,
      manualVia: row.manualVia,
      ...(row.shieldUntil !== undefined ? { shieldUntil: row.shieldUntil } : {}),
    } : {}),
    expiresAt: Math.floor(nowMs / 1000) + retentionDays * 86_400,
  };
}

/** The manual action each operator event records. */
const MANUAL_EVENT: Partial<Record<HistoryEvent, string>> = {
  MANUAL_BLOCKED: 'BLOCK',
  UNBLOCKED: 'UNBLOCK',
  EXTENDED: 'EXTEND',
  ALLOWED: 'ALLOW',
  ALLOW_REMOVED: 'UNALLOW',
};

/** Writes history items (PutItem only: a writer can add events, never read or remove them). */
export class HistoryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  public async put(row: BlockRow, event: HistoryEvent, nowMs: number): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: historyItem(row, event, this.retentionDays, nowMs) }));
  }
}
