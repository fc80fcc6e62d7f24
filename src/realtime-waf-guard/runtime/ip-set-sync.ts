import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from './block-store';
import { backoffMs, settleLimit, sleep } from './concurrency';
import { renderDigest } from './digest';
import { HistoryEvent, historyItem } from './history-store';
import { CidrSet } from './ip';
import { allowListCover, IpSetName, IpSetPlan, normaliseAddresses, planIpSets, rowCidr, sameAddresses, setsOf } from './ip-set-planner';
import { activeControlCidrs, controlKind, isControlRow } from './operator-actions';
import { CLAIM_LEASE_MS, ClaimAttribute, claimWork, isClaimable, isPending, LEASE_ATTRIBUTE, rowKey } from './sync-claims';
import { isConditionFailure, scanAll } from '../../shared/runtime/dynamo';
import { Log, MetricsSink } from '../../shared/runtime/telemetry';
import { METRIC } from '../handler-env';

export interface IpSetRef {
  readonly name: string;
  readonly id: string;
}

export interface IpSetSyncConfig {
  readonly guardName: string;
  readonly scope: 'CLOUDFRONT' | 'REGIONAL';
  readonly ipv4: IpSetRef;
  readonly ipv6: IpSetRef;
  /** The sets of clients found behind trusted proxies; only with trusted proxies. */
  readonly forwardedIpv4?: IpSetRef;
  readonly forwardedIpv6?: IpSetRef;
  readonly allowList: CidrSet;
  /** The trusted proxies: no block that covers one is applied (see IpSetPlan.holdsProxy). */
  readonly trustedProxies?: CidrSet;
  readonly maxSetSize: number;
  readonly historyRetentionDays: number;
  readonly blocksTable: string;
  readonly historyTable: string;
  readonly topicArn?: string;
}

export interface IpSetSyncDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly waf: WAFV2Client;
  readonly sns: SNSClient;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface SyncResult {
  readonly plan: IpSetPlan;
  /** UpdateIPSet calls that went through. */
  readonly updates: number;
  /** Lock conflicts and throttles retried. */
  readonly retries: number;
  readonly blocked: BlockRow[];
  readonly wouldBlock: BlockRow[];
  readonly released: BlockRow[];
  /** Blocks an operator lifted by hand, released by this run. */
  readonly unblocked: BlockRow[];
  readonly digest?: { subject: string; body: string };
}

const MAX_ATTEMPTS = 8;
/** The sets in the order a run writes them. */
const SET_NAMES: readonly IpSetName[] = ['ipv4', 'ipv6', 'forwardedIpv4', 'forwardedIpv6'];
const MIN_WRITE_INTERVAL_MS = 1000;
const CLAIM_CONCURRENCY = 16;
interface Claim {
  readonly row: BlockRow;
  readonly attribute: ClaimAttribute;
  /** When it was taken: the value of the claim attribute while the claim is this run's. */
  readonly at: number;
}

/** Errors after which a fresh read and another try can succeed. */
const RETRYABLE = new Set(['WAFOptimisticLockException', 'WAFUnavailableEntityException', 'ThrottlingException', 'WAFLimitsExceededException', 'TooManyRequestsException']);

/**
 * Rebuilds the WAF IP sets from the blocks table, then alerts and releases. The only writer of the sets; a lock
 * conflict means someone else wrote, so the table is read again before the next try, which is how two overlapping
 * runs converge without losing an address.
 */
export class IpSetSync {
  /** When this container last wrote an IP set; the function has one instance at a time (reserved concurrency 1). */
  private lastWriteAt = -Infinity;
  /** The configured allow-list plus the run-time entries in force, as of this run's read of the table. */
  private allowList: CidrSet;
  /** With trusted proxies the forwarded sets exist, and every block is in them (see planIpSets). */
  private readonly forwardedSets: boolean;

  constructor(private readonly config: IpSetSyncConfig, private readonly deps: IpSetSyncDeps) {
    this.allowList = config.allowList;
    this.forwardedSets = config.forwardedIpv4 !== undefined || config.forwardedIpv6 !== undefined;
  }

  public async run(): Promise<SyncResult> {
    try {
      return await this.runOnce();
    } catch (e) {
      this.deps.metrics.add(METRIC.SYNC_ERRORS, 1, 'Count');
      throw e;
    }
  }

  private async runOnce(): Promise<SyncResult> {
    const { deps, config } = this;
    let retries = 0;
    let updates = 0;
    let plan: IpSetPlan | undefined;
    let rows: BlockRow[];
    let control: BlockRow[];
    let planMs: number;
    /** Blocks this run found in WAF on their way out, with when their being there was recorded. */
    const marks = new Map<string, number>();
    /** Blocks found in WAF on their way out whose being there could not be recorded: left for a later run to release. */
    const unrecorded = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const all = await this.readBlocks();
      // Allow-list and shield rows share the table but are not blocks: they only widen the allow-list.
      rows = all.filter((r) => !isControlRow(r));
      control = all.filter(isControlRow);
      planMs = deps.now();
      this.allowList = config.allowList.with(activeControlCidrs(control, planMs, false));
      plan = planIpSets(rows, planMs, this.allowList, config.maxSetSize, {
        trustedProxies: config.trustedProxies,
        forwardedSets: this.forwardedSets,
      });
      try {
        for (const name of SET_NAMES) {
          const ref = config[name];
          if (ref) updates += (await this.apply(ref, plan[name], name, rows, marks, unrecorded)) ? 1 : 0;
        }
        break;
      } catch (e) {
        const name = (e as Error).name;
        if (!RETRYABLE.has(name) || attempt + 1 >= MAX_ATTEMPTS) throw e;
        retries++;
        deps.log.warn('IP set update will be retried', { reason: name, attempt });
        // WAF allows about one write per second per account and Region: back off from there, with jitter.
        await this.wait(backoffMs(attempt, 1000, 20_000));
      }
    }

    if (marks.size + unrecorded.size > 0) {
      rows = rows.filter((r) => !unrecorded.has(rowKey(r))).map((r) => (marks.has(rowKey(r)) ? { ...r, appliedAt: marks.get(rowKey(r)) } : r));
      plan = planIpSets(rows, planMs, this.allowList, config.maxSetSize);
    }

    // Every alert goes through claim -> publish -> record -> complete. A claim is a conditional write, so overlapping
    // runs never both announce a row; it carries a lease until it is completed. A run that fails gives back every claim
    // it won and has not completed, so the next run announces and records them again (the alert at least once, the
    // history once, since its keys are the block's own times). A run that stops without giving back (timeout) leaves
    // leases that a later run takes over once they run out.
    const nowMs = deps.now();
    const work = claimWork(plan, rows, nowMs);
    // Run-time allow-list entries are announced and recorded when added and when they end, like blocks; shields are
    // announced by the unblock that made them and simply lapse.
    const allowRows = control.filter((r) => controlKind(r) === 'ALLOW');
    work.notify.push(...allowRows.filter((r) => r.blockedUntil > nowMs && r.notifiedAt === undefined));
    work.release.push(...allowRows.filter((r) => r.blockedUntil <= nowMs && isClaimable(r, 'releasedAt', nowMs)));
    if (work.takenOver > 0) deps.log.warn('taking over claims left by a run that stopped', { count: work.takenOver });
    const won: Claim[] = [];
    try {
      await this.claimAll(work.notify, 'notifiedAt', nowMs, won);
      await this.claimAll(work.overCap, 'overCapAlertedAt', nowMs, won);
      await this.claimAll(work.release, 'releasedAt', nowMs, won);
    } catch (e) {
      await this.giveBack(won);
      throw e;
    }
    const rowsOf = (attribute: ClaimAttribute) => won.filter((c) => c.attribute === attribute).map((c) => c.row);
    const releasing = rowsOf('releasedAt');
    // Ended before their start was announced: the run that claimed their alert stopped, or alerts failed for as long
    // as they were in force. A block that reached WAF (and a "would block") is announced and recorded late, with its
    // release, rather than never.
    const lateStart = new Set(releasing.filter((r) => isPending(r, 'notifiedAt')
      || (r.notifiedAt === undefined && (this.reached(r) || r.action === 'COUNT'))));
    const started = [...rowsOf('notifiedAt'), ...lateStart];
    const byHand = (r: BlockRow, action: string) => r.manualAction === action;
    const allowed = started.filter(isControlRow);
    const extended = started.filter((r) => !isControlRow(r) && byHand(r, 'EXTEND') && this.reached(r));
    const blocked = started.filter((r) => r.action === 'BLOCK' && !extended.includes(r));
    const wouldBlock = started.filter((r) => r.action === 'COUNT');
    const unblocked = releasing.filter((r) => !isControlRow(r) && byHand(r, 'UNBLOCK'));
    // Every block that reached WAF is announced as released (its start, if never announced, in the same digest).
    const released = releasing.filter((r) => this.reached(r) && !unblocked.includes(r));
    const digest = renderDigest({
      guardName: config.guardName,
      at: nowMs,
      blocked: blocked.filter((r) => this.reached(r) && !byHand(r, 'BLOCK')),
      wouldBlock,
      released,
      overCap: rowsOf('overCapAlertedAt'),
      shielded: blocked.filter((r) => !this.reached(r) && !this.holdsProxy(r)),
      holdsProxy: blocked.filter((r) => !this.reached(r) && this.holdsProxy(r)),
      manual: {
        blocked: blocked.filter((r) => this.reached(r) && byHand(r, 'BLOCK')),
        extended,
        unblocked,
        allowed,
        allowEnded: releasing.filter((r) => controlKind(r) === 'ALLOW'),
      },
    });
    try {
      if (digest && config.topicArn) {
        await deps.sns.send(new PublishCommand({
          TopicArn: config.topicArn,
          Subject: digest.subject,
          Message: digest.body,
          MessageAttributes: digest.attributes,
        }));
      }
    } catch (e) {
      await this.giveBack(won);
      throw e;
    }
    const digestSent = digest && { subject: digest.subject, body: digest.body };

    const outcomes = await settleLimit(won, CLAIM_CONCURRENCY, async (c) => {
      if (c.attribute === 'notifiedAt') await this.history(c.row, this.startEvent(c.row));
      if (c.attribute === 'releasedAt') {
        if (lateStart.has(c.row)) await this.history(c.row, this.startEvent(c.row));
        await this.history(c.row, this.endEvent(c.row));
      }
      await this.complete(c);
    });
    // Claimed for release by a version without leases, which may have alerted: released without a second alert.
    const unleased = await settleLimit(work.releaseUnleased, CLAIM_CONCURRENCY, async (r) => {
      await this.history(r, this.endEvent(r));
      await this.release(r, { releasedAt: r.releasedAt!, leased: false });
    });
    const unfinished = won.filter((_, i) => outcomes[i]?.status !== 'fulfilled');
    const failure = [...outcomes, ...unleased].find((o): o is PromiseRejectedResult => o?.status === 'rejected');
    if (failure) {
      // The digest is out; what is given back is announced again by the next run rather than never recorded.
      await this.giveBack(unfinished);
      throw failure.reason;
    }

    deps.metrics.add(METRIC.RELEASES, released.length, 'Count');
    deps.metrics.add(METRIC.ACTIVE_BLOCKS, plan.ipv4.length + plan.ipv6.length + plan.forwardedIpv4.length + plan.forwardedIpv6.length, 'Count');
    deps.metrics.add(METRIC.ACTIVE_BLOCKS_IPV4, plan.ipv4.length, 'Count');
    deps.metrics.add(METRIC.ACTIVE_BLOCKS_IPV6, plan.ipv6.length, 'Count');
    deps.metrics.add(METRIC.ACTIVE_BLOCKS_PROXIED, plan.forwardedIpv4.length + plan.forwardedIpv6.length, 'Count');
    // One line per release, so the dashboard can count releases per rule without a metric per rule.
    for (const r of [...released, ...unblocked]) deps.log.info('block released', { ip: r.ip, ruleId: r.ruleId, host: r.host, manual: r.manualAction === 'UNBLOCK' });
    // Kept in WAF past their end until recorded: an error for the alarm, though the run did the rest.
    if (unrecorded.size > 0) deps.metrics.add(METRIC.SYNC_ERRORS, 1, 'Count');
    deps.metrics.add(METRIC.DROPPED_OVER_CAP, plan.overCap.length, 'Count');
    if (plan.overCap.length > 0) deps.log.error('IP set full: blocks left out', { count: plan.overCap.length });
    return { plan, updates, retries, blocked, wouldBlock, released, unblocked, digest: digestSent };
  }

  private startEvent(r: BlockRow): HistoryEvent {
    if (isControlRow(r)) return 'ALLOWED';
    if (r.action !== 'BLOCK') return 'WOULD_BLOCK';
    if (!this.reached(r)) return this.holdsProxy(r) ? 'NOT_APPLIED_TRUSTED_PROXY' : 'NOT_APPLIED_ALLOW_LISTED';
    if (r.manualAction === 'EXTEND') return 'EXTENDED';
    if (r.manualAction === 'BLOCK') return 'MANUAL_BLOCKED';
    return r.renewedFrom ? 'RENEWED' : 'BLOCKED';
  }

  private endEvent(r: BlockRow): HistoryEvent {
    if (isControlRow(r)) return r.manualAction === 'UNALLOW' ? 'ALLOW_REMOVED' : 'ALLOW_ENDED';
    if (r.manualAction === 'UNBLOCK') return 'UNBLOCKED';
    return r.action !== 'BLOCK' ? 'COUNT_ENDED' : this.reached(r) ? 'RELEASED' : 'ENDED_NOT_APPLIED';
  }

  /**
   * A block the IP sets held: recorded so (`appliedAt`), or, in a row alerted before that was recorded, announced while
   * the allow-list left it in the sets.
   */
  private reached(r: BlockRow): boolean {
    return r.appliedAt !== undefined || (r.notifiedAt !== undefined && this.applied(r));
  }

  /**
   * A BLOCK row the IP sets hold (or would, but for their size): not one the allow-list covers in whole or in part,
   * nor one whose network holds a trusted proxy.
   */
  private applied(row: BlockRow): boolean {
    return row.action === 'BLOCK' && allowListCover(row, this.allowList) === 'none' && !this.holdsProxy(row);
  }

  /** A BLOCK row kept out of the sets because its network holds a trusted proxy (the allow-list first, as planIpSets). */
  private holdsProxy(row: BlockRow): boolean {
    const proxies = this.config.trustedProxies;
    return row.action === 'BLOCK' && proxies !== undefined && allowListCover(row, this.allowList) === 'none' && allowListCover(row, proxies) !== 'none';
  }

  private async readBlocks(): Promise<BlockRow[]> {
    return (await scanAll(this.deps.doc, this.config.blocksTable)) as unknown as BlockRow[];
  }

  private wait(ms: number): Promise<void> {
    return (this.deps.sleep ?? sleep)(ms);
  }

  /**
   * Claims rows for one kind of alert, adding each claim won to `won`. On a failure, the claims already in flight are
   * still waited for and added, so that the caller can give back every claim it holds.
   */
  private async claimAll(rows: readonly BlockRow[], attribute: ClaimAttribute, nowMs: number, won: Claim[]): Promise<void> {
    // A block announced as in force is in the sets this run wrote: its claim records that it reached WAF.
    const applied = rows.map((r) => attribute === 'notifiedAt' && this.applied(r));
    const outcomes = await settleLimit(rows, CLAIM_CONCURRENCY, (r, i) => this.claim(r, attribute, nowMs, applied[i]), true);
    outcomes.forEach((o, i) => {
      const row = applied[i] ? { ...rows[i], appliedAt: rows[i].appliedAt ?? nowMs } : rows[i];
      if (o?.status === 'fulfilled' && o.value) won.push({ row, attribute, at: nowMs });
    });
    const failure = outcomes.find((o): o is PromiseRejectedResult => o?.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /**
   * Writes the set when it differs from the plan; returns whether it wrote. Blocks about to leave the set whose being
   * in WAF is not recorded yet (their alert claim failed, or alerts failed while they were in force) are recorded
   * first, in `marks` too: once out of the set, nothing else would tell that they were blocked.
   */
  private async apply(
    ref: IpSetRef, planned: string[], name: IpSetName, rows: readonly BlockRow[], marks: Map<string, number>, unrecorded: Set<string>,
  ): Promise<boolean> {
    const { waf } = this.deps;
    const current = await waf.send(new GetIPSetCommand({ Name: ref.name, Id: ref.id, Scope: this.config.scope }));
    const held = normaliseAddresses(current.IPSet?.Addresses ?? []);
    let desired = planned;
    if (sameAddresses(held, desired)) return false;
    const wanted = new Set(desired);
    const leaving = new Set(held.filter((a) => !wanted.has(a)));
    const toRecord = leaving.size === 0 ? [] : rows.filter((r) => {
      if (r.action !== 'BLOCK' || r.appliedAt !== undefined || marks.has(rowKey(r))) return false;
      const cidr = rowCidr(r);
      return cidr !== undefined && leaving.has(cidr.text) && setsOf(r, cidr.family, this.forwardedSets).includes(name);
    });
    const outcomes = await settleLimit(toRecord, CLAIM_CONCURRENCY, (r) => this.recordApplied(r, marks));
    const failed = toRecord.filter((_, i) => outcomes[i]?.status === 'rejected');
    toRecord.filter((_, i) => outcomes[i]?.status === 'fulfilled').forEach((r) => unrecorded.delete(rowKey(r)));
    if (failed.length > 0) {
      // Not taken out unrecorded, nor released by this run; new blocks still go in. A later run records and releases.
      failed.forEach((r) => unrecorded.add(rowKey(r)));
      const keep = [...new Set(failed.map((r) => rowCidr(r)!.text))].slice(0, Math.max(0, this.config.maxSetSize - desired.length));
      this.deps.log.warn('blocks leaving WAF could not be recorded as applied; kept in the IP set until they are', { count: failed.length, set: name });
      desired = [...desired, ...keep].sort();
      if (sameAddresses(held, desired)) return false;
    }
    // At most one write a second: WAF's quota is about that per account and Region, shared with every other writer.
    const sinceLast = this.deps.now() - this.lastWriteAt;
    if (sinceLast < MIN_WRITE_INTERVAL_MS) await this.wait(MIN_WRITE_INTERVAL_MS - sinceLast);
    this.lastWriteAt = this.deps.now();
    await waf.send(new UpdateIPSetCommand({
      Name: ref.name,
      Id: ref.id,
      Scope: this.config.scope,
      Addresses: desired,
      // UpdateIPSet replaces every field: omitting the description would erase it.
      Description: current.IPSet?.Description,
      LockToken: current.LockToken,
    }));
    return true;
  }

  /**
   * Claims a row once: only the run that wins the conditional write alerts, so overlapping runs do not alert twice. A
   * claim whose lease ran out was left by a run that stopped; it is taken over.
   */
  private async claim(row: BlockRow, attribute: ClaimAttribute, nowMs: number, applied: boolean): Promise<boolean> {
    try {
      await this.deps.doc.send(new UpdateCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: `SET #a = :now, #lease = :leaseUntil${applied ? ', appliedAt = if_not_exists(appliedAt, :now)' : ''}`,
        // the same block (not a renewal that replaced it), and not claimed or only by a run that stopped
        ConditionExpression: '(attribute_not_exists(#a) OR #lease < :now) AND blockedAt = :blockedAt AND blockedUntil = :until',
        ExpressionAttributeNames: { '#a': attribute, '#lease': LEASE_ATTRIBUTE[attribute] },
        ExpressionAttributeValues: { ':now': nowMs, ':leaseUntil': nowMs + CLAIM_LEASE_MS, ':blockedAt': row.blockedAt, ':until': row.blockedUntil },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Records that a block reached WAF (once: a mark already there is kept), unless the row is another block by now. */
  private async recordApplied(row: BlockRow, marks: Map<string, number>): Promise<void> {
    try {
      const out = await this.deps.doc.send(new UpdateCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: 'SET appliedAt = if_not_exists(appliedAt, :now)',
        // the same block: extended or unblocked by hand, it is still the block that was in WAF
        ConditionExpression: 'blockedAt = :blockedAt',
        ExpressionAttributeValues: { ':now': this.deps.now(), ':blockedAt': row.blockedAt },
        ReturnValues: 'UPDATED_NEW',
      }));
      marks.set(rowKey(row), Number(out.Attributes?.appliedAt));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /** Marks a claim done once its alert is out and its history written; a release is done when its row is gone. */
  private async complete(c: Claim): Promise<void> {
    if (c.attribute === 'releasedAt') {
      await this.release(c.row, { releasedAt: c.at, leased: true });
      return;
    }
    await this.updateClaim(c, 'REMOVE #lease', {});
  }

  /**
   * Gives claims back after a failure, so the next run alerts and records them again; best effort, since a claim that
   * cannot be given back is taken over when its lease runs out.
   */
  private async giveBack(claims: readonly Claim[]): Promise<void> {
    const outcomes = await settleLimit(claims, CLAIM_CONCURRENCY, (c) => this.unclaim(c));
    const kept = outcomes.filter((o) => o?.status === 'rejected').length;
    if (kept > 0) this.deps.log.warn('claims not given back; a later run takes them over when their lease ends', { count: kept, leaseMs: CLAIM_LEASE_MS });
  }

  private async unclaim(c: Claim): Promise<void> {
    // retryAt keeps the row out of the stream trigger: the scheduled run retries, not an immediate loop
    await this.updateClaim(c, 'REMOVE #a, #lease SET retryAt = :now', { ':now': this.deps.now() });
  }

  /** Updates a claimed row (`#a`, `#lease` named) only while the claim is still this run's; otherwise does nothing. */
  private async updateClaim(c: Claim, updateExpression: string, values: Record<string, unknown>): Promise<void> {
    try {
      await this.deps.doc.send(new UpdateCommand({
        TableName: this.config.blocksTable,
        Key: { ip: c.row.ip, ruleId: c.row.ruleId },
        UpdateExpression: updateExpression,
        // still this run's claim: not replaced by a renewal, not taken over
        ConditionExpression: '#a = :at',
        ExpressionAttributeNames: { '#a': c.attribute, '#lease': LEASE_ATTRIBUTE[c.attribute] },
        ExpressionAttributeValues: { ':at': c.at, ...values },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /** Deletes an ended block still under the release claim given, unless it was renewed meanwhile. */
  private async release(row: BlockRow, claim: { releasedAt: number; leased: boolean }): Promise<boolean> {
    try {
      await this.deps.doc.send(new DeleteCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        ConditionExpression: claim.leased ? 'blockedUntil = :until AND releasedAt = :at' : 'blockedUntil = :until AND releasedAt = :at AND attribute_not_exists(releaseLeaseUntil)',
        ExpressionAttributeValues: { ':until': row.blockedUntil, ':at': claim.releasedAt },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  private async history(row: BlockRow, event: HistoryEvent): Promise<void> {
    await this.deps.doc.send(new PutCommand({
      TableName: this.config.historyTable,
      Item: historyItem(row, event, this.config.historyRetentionDays, this.deps.now()),
    }));
  }
}
