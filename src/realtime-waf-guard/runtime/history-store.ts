import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from './block-store';

/** What a history item records. */
export type HistoryEvent =
  | 'BLOCKED' | 'RENEWED' | 'WOULD_BLOCK' | 'RELEASED' | 'COUNT_ENDED' | 'ENDED_NOT_APPLIED'
  /** An offence processed so late that its block would already have ended: recorded, never applied. */
  | 'STALE_OFFENCE'
  /** A block whose prefix holds an allow-listed address: recorded and alerted, kept out of the IP sets. */
  | 'NOT_APPLIED_ALLOW_LISTED';

const ENDED: ReadonlySet<HistoryEvent> = new Set(['RELEASED', 'COUNT_ENDED', 'ENDED_NOT_APPLIED']);

/**
 * The history item of an event. The sort key is built from the event's own times (never from when it is written), so
 * a retried write overwrites rather than duplicates.
 */
export function historyItem(row: BlockRow, event: HistoryEvent, retentionDays: number, nowMs: number): Record<string, unknown> {
  const atMs = ENDED.has(event) ? row.blockedUntil : event === 'STALE_OFFENCE' ? row.crossedAt : row.blockedAt;
  const at = new Date(atMs).toISOString();
  return {
    ip: row.ip,
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
    expiresAt: Math.floor(nowMs / 1000) + retentionDays * 86_400,
  };
}

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
