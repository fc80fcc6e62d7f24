import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IpAddress } from './ip';
import { isConditionFailure } from '../../shared/runtime/dynamo';
import { StoredRule } from '../rule-model';

/** A row of the blocks table: one client blocked (or, for COUNT rules, recorded) by one rule. */
export interface BlockRow {
  readonly ip: string;
  readonly ruleId: string;
  readonly family: 4 | 6;
  readonly host: string;
  /** `ALLOW` only in run-time allow-list and shield rows, which never reach the IP sets' plan. */
  readonly action: 'BLOCK' | 'COUNT' | 'ALLOW';
  /** Real requests in the window when the block was decided. */
  readonly observed: number;
  readonly threshold: number;
  readonly windowSeconds: number;
  /** observed / threshold: which blocks to keep when the IP sets are full. */
  readonly severity: number;
  readonly firstSeenAt: number;
  /** Timestamp of the request that crossed the threshold (log time, ms): the block period runs from here. */
  readonly crossedAt: number;
  /** When the block was recorded (processing time). */
  readonly blockedAt: number;
  /** `crossedAt` (or `blockedAt`, if the log clock is ahead) plus the rule's block period. */
  readonly blockedUntil: number;
  /** TTL: a day after the block ends, as a backstop; releases never wait for it. */
  readonly expiresAt: number;
  /** Set by the sync function once the block is in WAF and alerted. */
  readonly notifiedAt?: number;
  /**
   * Set by the sync function once the IP sets hold the block (written with its alert claim, or, for a block whose
   * alerts failed, before the sync takes it out of WAF): a block that reached WAF is announced and recorded as blocked
   * and as released, however late. Absent in rows alerted before it existed: `notifiedAt` then stands for it.
   */
  readonly appliedAt?: number;
  /** Set by the sync function when it alerted that the block could not be applied (IP set full). */
  readonly overCapAlertedAt?: number;
  /** Set by the sync function while it releases the ended block. */
  readonly releasedAt?: number;
  /** End of the previous block of this client and rule, when this block replaced it before it was released. */
  readonly renewedFrom?: number;
  /** Set when an alert failed: the row then waits for the scheduled sync instead of retriggering it through the stream. */
  readonly retryAt?: number;
  /** Leases of claims taken but not completed (see sync-claims.ts): a later run takes over once they run out. */
  readonly notifyLeaseUntil?: number;
  readonly overCapLeaseUntil?: number;
  readonly releaseLeaseUntil?: number;
  /**
   * The routes the client was counted on while this row was in force: `DIRECT` (its own source address), `PROXY` (found
   * in X-Forwarded-For behind a trusted proxy) or `BOTH`. A client first blocked on one route and counted on the other
   * gets that route added to the same row (see BlockStore.addRoute), so the one block holds on both, with one alert and
   * one release. Absent in rows written before proxied clients had sets of their own: `DIRECT`.
   */
  readonly route?: ClientRoute;
  /** When a route was last added to the block in force (see `route`): makes the change reach the sync at once. */
  readonly routeAddedAt?: number;
  /** The last action an operator took on this row (see operator-actions.ts); absent for automatic rows untouched by hand. */
  readonly manualAction?: ManualAction;
  /** When, who (an IAM ARN from the CLI, a name typed in the dashboard), why and through what. */
  readonly manualAt?: number;
  readonly manualBy?: string;
  readonly manualReason?: string;
  readonly manualVia?: string;
  /** Set by an unblock: automatic blocks of this client are refused until then. */
  readonly shieldUntil?: number;
  /** Allow-list and shield rows only: the network they cover (their `ip` is the shared partition, see operator-actions.ts). */
  readonly cidr?: string;
}

/**
 * What an operator did: blocked by hand, ended a block early, made a block longer, allow-listed a network at run time,
 * or took it off the run-time allow-list.
 */
export type ManualAction = 'BLOCK' | 'UNBLOCK' | 'EXTEND' | 'ALLOW' | 'UNALLOW';

export type ClientRoute = 'DIRECT' | 'PROXY' | 'BOTH';

/** A pair over its rule's threshold. */
export interface BlockCandidate {
  readonly rule: StoredRule;
  readonly ip: IpAddress;
  readonly observed: number;
  readonly firstSeenMs: number;
  readonly crossedAtMs: number;
  /** @default 'DIRECT' */
  readonly route?: ClientRoute;
}

export interface RecordBlocksResult {
  readonly created: BlockRow[];
  /** BLOCK candidates refused because the per-minute budget of new blocks was spent. */
  readonly overBudget: BlockCandidate[];
  /** Candidates already under an active block. */
  readonly alreadyActive: number;
  /**
   * Offences processed so late (a backlog after an outage) that their block would already have ended: neither blocked
   * nor charged to the budget, for the caller to record. One per would-be block period per pair and container.
   */
  readonly stale: BlockRow[];
}

/** Partition key prefix of the per-minute new-block budget rows, kept in the counters table (which has no stream). */
export const BUDGET_KEY_PREFIX = '#budget#';

/**
 * Writes block decisions. A block is a conditional put (no active block for the pair), so concurrent shards create
 * it once; BLOCK decisions also spend a per-minute budget so that a bad rule cannot block the world. A block runs from
 * the offence's log time, so a late batch neither blocks a client for longer than the rule says nor, when its offence
 * is older than a block period, spends the budget meant for live attacks.
 */
export class BlockStore {
  /**
   * Pairs known to be blocked, until when and on which routes: spares a conditional write per batch for an ongoing
   * attacker, and a route write once the row is known to hold the route. Trusted only until `checkedUntil` (a minute at
   * most): an operator's unblock ends the block in the table, not in this cache, so the row is read again then.
   */
  private readonly active = new Map<string, { until: number; checkedUntil: number; route: ClientRoute }>();
  /** Stale offences already reported, until when their block would have run: a backlog reports each period once. */
  private readonly staleUntil = new Map<string, number>();
  /** The minute whose budget this container saw spent. */
  private spentMinute = -1;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly countersTableName: string,
    private readonly maxNewBlocksPerMinute: number,
  ) {}

  public async record(candidates: readonly BlockCandidate[], nowMs: number): Promise<RecordBlocksResult> {
    const created: BlockRow[] = [];
    const overBudget: BlockCandidate[] = [];
    const stale: BlockRow[] = [];
    let alreadyActive = 0;
    for (const c of candidates) {
      // By action too: after a rule moves from COUNT to BLOCK, a cached "would block" must not hide the real block.
      const cacheKey = pairKey(c.rule.action, c.rule.ruleId, c.ip.text);
      const row = blockRow(c, nowMs);
      if (row.blockedUntil <= nowMs) {
        if ((this.staleUntil.get(cacheKey) ?? -Infinity) <= row.crossedAt) {
          this.staleUntil.set(cacheKey, row.blockedUntil);
          stale.push(row);
        }
        continue;
      }
      const route = row.route ?? 'DIRECT';
      const known = this.active.get(cacheKey);
      if (known !== undefined && known.until > nowMs && (known.checkedUntil > nowMs || await this.stillInForce(known, row, nowMs))) {
        alreadyActive++;
        if (known.route !== 'BOTH' && known.route !== route) {
          await this.addRoute(row, nowMs);
          known.route = 'BOTH';
        }
        continue;
      }
      const minute = Math.floor(nowMs / 60_000);
      // Once a minute's budget is known to be spent, the rest of that minute's offenders skip the (contended) write.
      if (c.rule.action === 'BLOCK' && (this.spentMinute === minute || !(await this.spendBudget(minute, 1)))) {
        this.spentMinute = minute;
        overBudget.push(c);
        continue;
      }
      let replaced: Record<string, unknown> | undefined;
      try {
        const out = await this.doc.send(new PutCommand({
          TableName: this.tableName,
          Item: row,
          // A BLOCK also replaces an active COUNT row: the documented rollout (COUNT, then BLOCK) must block the clients
          // the dry run caught now, not when their "would block" ends. A COUNT never replaces an active BLOCK.
          ConditionExpression: row.action === 'BLOCK'
          // A row an operator unblocked waits for the sync to release it: replacing it would undo the unblock.
            // A block ending now has ended, as for the sync that releases it.
            ? 'attribute_not_exists(ip) OR ((blockedUntil <= :now OR #action = :count) AND NOT manualAction = :unblock)'
            // A COUNT replaces only an ended COUNT: an ended BLOCK waits for the sync to release it (and the release to
            // be announced and recorded); the next batch after that writes the "would block".
            : 'attribute_not_exists(ip) OR (blockedUntil <= :now AND NOT manualAction = :unblock AND #action = :count)',
          ExpressionAttributeValues: { ':now': nowMs, ':unblock': 'UNBLOCK', ':count': 'COUNT' },
          ExpressionAttributeNames: { '#action': 'action' },
          ReturnValues: 'ALL_OLD',
        }));
        replaced = out.Attributes;
      } catch (e) {
        // The budget unit goes back whatever the failure: only a block that exists may spend it.
        if (c.rule.action === 'BLOCK') await this.spendBudget(minute, -1);
        if (!isConditionFailure(e)) throw e;
        alreadyActive++;
        // A client blocked on one route and now counted on the other is the same client: the block in force covers
        // this route too. Written once; a row that holds the route already fails the condition and changes nothing.
        await this.addRoute(row, nowMs);
        this.active.set(cacheKey, cached(await this.activeUntil(row, nowMs), route, nowMs));
        continue;
      }
      this.active.set(cacheKey, cached(row.blockedUntil, route, nowMs));
      // Only a block that follows an ended block of the same kind is a renewal; a BLOCK that supersedes a "would block"
      // is a new block.
      if (replaced === undefined || replaced.action !== row.action) {
        created.push(row);
        continue;
      }
      if (replaced.notifiedAt === undefined && replaced.appliedAt !== undefined && Number.isFinite(Number(replaced.blockedAt))) {
        // The ended block reached WAF but was never announced (alerts failing): the block goes on as that same block,
        // from its first start and with its record of reaching WAF, so it is announced and recorded once, as blocked
        // since then, rather than as a renewal of a block nobody heard of.
        created.push(await this.continueUnannounced(row, replaced));
        continue;
      }
      // A client still attacking when its block ended, before the sweep released it: the block goes on, and the row
      // says so, so history and alerts show a renewal rather than a release that never happened.
      const renewed: BlockRow = { ...row, renewedFrom: Number(replaced.blockedUntil) };
      await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: 'SET renewedFrom = :from',
        ConditionExpression: 'blockedAt = :blockedAt',
        ExpressionAttributeValues: { ':from': renewed.renewedFrom, ':blockedAt': row.blockedAt },
      })).catch((e) => {
        if (!isConditionFailure(e)) throw e;
      });
      created.push(renewed);
    }
    if (this.active.size > 50_000) this.active.clear();
    if (this.staleUntil.size > 50_000) this.staleUntil.clear();
    return { created, overBudget, alreadyActive, stale };
  }

  /** Gives a block that replaced an ended, never announced one of the same pair that block's start (see record()). */
  private async continueUnannounced(row: BlockRow, replaced: Record<string, unknown>): Promise<BlockRow> {
    const merged: BlockRow = { ...row, blockedAt: Number(replaced.blockedAt), appliedAt: Number(replaced.appliedAt) };
    await this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { ip: row.ip, ruleId: row.ruleId },
      UpdateExpression: 'SET blockedAt = :first, appliedAt = :applied',
      ConditionExpression: 'blockedAt = :blockedAt',
      ExpressionAttributeValues: { ':first': merged.blockedAt, ':applied': merged.appliedAt, ':blockedAt': row.blockedAt },
    })).catch((e) => {
      if (!isConditionFailure(e)) throw e;
    });
    return merged;
  }

  /**
   * Adds the candidate's route to the pair's block in force, when that block does not hold it yet: the row becomes
   * `BOTH`. Only a block in force is touched (not one ended or lifted by an operator, which a new block replaces), and
   * only its route: its alert, history and release stay the ones of that block, so nothing is announced twice.
   */
  private async addRoute(row: BlockRow, nowMs: number): Promise<void> {
    const route = row.route ?? 'DIRECT';
    // The rows that lack the route: the other single route, or (for BOTH) any single one; an absent route is DIRECT.
    const lacking = route === 'DIRECT' ? 'route = :proxy'
      : route === 'PROXY' ? '(attribute_not_exists(route) OR route = :direct)'
        : '(attribute_not_exists(route) OR route <> :both)';
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: 'SET route = :both, routeAddedAt = :now',
        ConditionExpression: `${lacking} AND #action = :action AND blockedUntil > :now AND attribute_not_exists(releasedAt) AND NOT manualAction = :unblock`,
        ExpressionAttributeNames: { '#action': 'action' },
        ExpressionAttributeValues: {
          ':both': 'BOTH',
          ':now': nowMs,
          ':action': row.action,
          ':unblock': 'UNBLOCK',
          ...(route === 'DIRECT' ? { ':proxy': 'PROXY' } : route === 'PROXY' ? { ':direct': 'DIRECT' } : {}),
        },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /**
   * Until when a pair whose write was refused need not be written again: the end of the block in force, so that a
   * client still attacking then is renewed by the next batch (a blind minute would leave it unblocked for up to that
   * minute once the sync released the block). A row an operator unblocked, or one that cannot be read, is checked
   * again in a minute.
   */
  private async activeUntil(row: BlockRow, nowMs: number): Promise<number> {
    const existing = await this.readBlock(row);
    const until = Number(existing?.blockedUntil);
    return existing === undefined || existing.manualAction === 'UNBLOCK' || !Number.isFinite(until) ? nowMs + RECHECK_MS : until;
  }

  /**
   * Whether a cached block is still in force in the table, read again once its minute of trust has passed: an unblocked
   * (or released) pair is dropped from the cache and written again, so automatic blocking resumes once its shield ends.
   */
  private async stillInForce(known: { until: number; checkedUntil: number }, row: BlockRow, nowMs: number): Promise<boolean> {
    const existing = await this.readBlock(row);
    const until = Number(existing?.blockedUntil);
    if (existing === undefined || existing.manualAction === 'UNBLOCK' || !(until > nowMs)) return false;
    known.until = until;
    known.checkedUntil = Math.min(until, nowMs + RECHECK_MS);
    return true;
  }

  /** The pair's row (its end and manual action only); undefined when absent or unreadable. */
  private async readBlock(row: BlockRow): Promise<Record<string, unknown> | undefined> {
    return this.doc.send(new GetCommand({
      TableName: this.tableName,
      Key: { ip: row.ip, ruleId: row.ruleId },
      ConsistentRead: true,
      ProjectionExpression: 'blockedUntil, manualAction',
    })).then((out) => out.Item, () => undefined);
  }

  /** Makes stale offences reportable again, after recording them failed. */
  public forgetStale(rows: readonly BlockRow[]): void {
    for (const r of rows) this.staleUntil.delete(pairKey(r.action, r.ruleId, r.ip));
  }

  /** Takes (or, with -1, returns) one unit of the minute's budget; false when it is spent. */
  private async spendBudget(minute: number, amount: 1 | -1): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.countersTableName,
        Key: { pk: `${BUDGET_KEY_PREFIX}${minute}` },
        UpdateExpression: 'ADD used :n SET expiresAt = :exp',
        ...(amount > 0 ? { ConditionExpression: 'attribute_not_exists(used) OR used < :max' } : {}),
        ExpressionAttributeValues: {
          ':n': amount,
          ':exp': minute * 60 + 3600,
          ...(amount > 0 ? { ':max': this.maxNewBlocksPerMinute } : {}),
        },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }
}

/** How long a cached block is trusted before its row is read again (see BlockStore.active). */
const RECHECK_MS = 60_000;

function cached(until: number, route: ClientRoute, nowMs: number): { until: number; checkedUntil: number; route: ClientRoute } {
  return { until, checkedUntil: Math.min(until, nowMs + RECHECK_MS), route };
}

/** The key of a pair in the container's caches: by action too (see record()). */
function pairKey(action: BlockRow['action'], ruleId: string, ip: string): string {
  return `${action}|${ruleId}|${ip}`;
}

/** The row a candidate becomes: its period runs from the offence's log time, never from when a late batch got to it. */
function blockRow(c: BlockCandidate, nowMs: number): BlockRow {
  // A log clock ahead of ours must not lengthen the block.
  const start = Math.min(c.crossedAtMs, nowMs);
  const blockedUntil = start + c.rule.blockSeconds * 1000;
  return {
    ip: c.ip.text,
    ruleId: c.rule.ruleId,
    family: c.ip.family,
    route: c.route ?? 'DIRECT',
    host: c.rule.host,
    action: c.rule.action,
    observed: Math.round(c.observed),
    threshold: c.rule.threshold,
    windowSeconds: c.rule.windowSeconds,
    severity: Math.round((c.observed / c.rule.threshold) * 1000) / 1000,
    firstSeenAt: c.firstSeenMs,
    crossedAt: c.crossedAtMs,
    blockedAt: nowMs,
    blockedUntil,
    expiresAt: Math.floor(blockedUntil / 1000) + 86_400,
  };
}
