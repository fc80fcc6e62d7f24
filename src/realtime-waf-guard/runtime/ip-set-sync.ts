import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from './block-store';
import { backoffMs, mapLimit, sleep } from './concurrency';
import { renderDigest } from './digest';
import { HistoryEvent, historyItem } from './history-store';
import { CidrSet } from './ip';
import { allowListCover, IpSetPlan, normaliseAddresses, planIpSets, sameAddresses } from './ip-set-planner';
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
  readonly digest?: { subject: string; body: string };
}

const MAX_ATTEMPTS = 8;
const MIN_WRITE_INTERVAL_MS = 1000;
const CLAIM_CONCURRENCY = 16;
type ClaimAttribute = 'notifiedAt' | 'overCapAlertedAt' | 'releasedAt';
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

  constructor(private readonly config: IpSetSyncConfig, private readonly deps: IpSetSyncDeps) {}

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
    let digestSent: { subject: string; body: string } | undefined;
    let retries = 0;
    let updates = 0;
    let plan: IpSetPlan | undefined;
    for (let attempt = 0; ; attempt++) {
      const rows = await this.readBlocks();
      plan = planIpSets(rows, deps.now(), config.allowList, config.maxSetSize);
      try {
        updates += (await this.apply(config.ipv4, plan.ipv4)) ? 1 : 0;
        updates += (await this.apply(config.ipv6, plan.ipv6)) ? 1 : 0;
        if (config.forwardedIpv4) updates += (await this.apply(config.forwardedIpv4, plan.forwardedIpv4)) ? 1 : 0;
        if (config.forwardedIpv6) updates += (await this.apply(config.forwardedIpv6, plan.forwardedIpv6)) ? 1 : 0;
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

    // Alerts are claimed, then sent, then the claims are kept. Any failure before the message is out gives the claims
    // back (marked for the scheduled run, so the blocks table stream does not retrigger a failing run at once), and the
    // next run alerts again instead of losing the alert.
    const skip = new Set([...plan.overCap, ...plan.allowListed].map((r) => `${r.ip}|${r.ruleId}`));
    const claimed: Array<[BlockRow, ClaimAttribute]> = [];
    const claim = async (rows: readonly BlockRow[], attribute: ClaimAttribute) => {
      const won = await this.claimAll(rows, attribute);
      for (const r of won) claimed.push([r, attribute]);
      return won;
    };
    let notified: BlockRow[] = [];
    let releasing: BlockRow[] = [];
    let released: BlockRow[] = [];
    try {
      notified = await claim(plan.unnotified.filter((r) => !skip.has(`${r.ip}|${r.ruleId}`)), 'notifiedAt');
      const overCap = await claim(plan.overCap.filter((r) => r.overCapAlertedAt === undefined), 'overCapAlertedAt');
      releasing = await claim(plan.expired, 'releasedAt');
      // Only blocks that were applied and announced are announced as released.
      released = releasing.filter((r) => this.applied(r) && r.notifiedAt !== undefined);
      const digest = renderDigest({
        guardName: config.guardName,
        blocked: notified.filter((r) => this.applied(r)),
        wouldBlock: notified.filter((r) => r.action !== 'BLOCK'),
        released,
        overCap,
        shielded: notified.filter((r) => r.action === 'BLOCK' && !this.applied(r)),
      });
      if (digest && config.topicArn) {
        await deps.sns.send(new PublishCommand({
          TopicArn: config.topicArn,
          Subject: digest.subject,
          Message: digest.body,
          MessageAttributes: digest.attributes,
        }));
      }
      digestSent = digest && { subject: digest.subject, body: digest.body };
    } catch (e) {
      await Promise.allSettled(claimed.map(([r, attribute]) => this.unclaim(r, attribute)));
      throw e;
    }
    // History is keyed by the block's own times, so writing it again after a failure overwrites rather than duplicates;
    // a release is recorded before its row goes.
    await mapLimit(notified, CLAIM_CONCURRENCY, (r) => this.history(r,
      r.action !== 'BLOCK' ? 'WOULD_BLOCK' : !this.applied(r) ? 'NOT_APPLIED_ALLOW_LISTED' : r.renewedFrom ? 'RENEWED' : 'BLOCKED'));
    // Ended blocks claimed by a run that failed after its claims stay claimed; they are released without a second alert.
    const leftover = plan.expired.filter((r) => r.releasedAt !== undefined);
    await mapLimit([...releasing, ...leftover], CLAIM_CONCURRENCY, async (r) => {
      const event = r.action !== 'BLOCK' ? 'COUNT_ENDED' : r.notifiedAt !== undefined && this.applied(r) ? 'RELEASED' : 'ENDED_NOT_APPLIED';
      await this.history(r, event);
      await this.release(r);
    });

    deps.metrics.add(METRIC.RELEASES, released.length, 'Count');
    deps.metrics.add(METRIC.ACTIVE_BLOCKS, plan.ipv4.length + plan.ipv6.length + plan.forwardedIpv4.length + plan.forwardedIpv6.length, 'Count');
    deps.metrics.add(METRIC.DROPPED_OVER_CAP, plan.overCap.length, 'Count');
    if (plan.overCap.length > 0) deps.log.error('IP set full: blocks left out', { count: plan.overCap.length });
    const blocked = notified.filter((r) => r.action === 'BLOCK');
    const wouldBlock = notified.filter((r) => r.action !== 'BLOCK');
    return { plan, updates, retries, blocked, wouldBlock, released, digest: digestSent };
  }

  /** A BLOCK row the IP sets hold (or would, but for their size): not one the allow-list covers in whole or in part. */
  private applied(row: BlockRow): boolean {
    return row.action === 'BLOCK' && allowListCover(row, this.config.allowList) === 'none';
  }

  private async readBlocks(): Promise<BlockRow[]> {
    return (await scanAll(this.deps.doc, this.config.blocksTable)) as unknown as BlockRow[];
  }

  private wait(ms: number): Promise<void> {
    return (this.deps.sleep ?? sleep)(ms);
  }

  /** The rows this run won the claim for (conditional writes, so overlapping runs never both alert). */
  private async claimAll(rows: readonly BlockRow[], attribute: ClaimAttribute): Promise<BlockRow[]> {
    const won = await mapLimit(rows, CLAIM_CONCURRENCY, async (r) => ((await this.claim(r, attribute)) ? r : undefined));
    return won.filter((r): r is BlockRow => r !== undefined);
  }

  /** Writes the set when it differs from the plan; returns whether it wrote. */
  private async apply(ref: IpSetRef, desired: string[]): Promise<boolean> {
    const { waf } = this.deps;
    const current = await waf.send(new GetIPSetCommand({ Name: ref.name, Id: ref.id, Scope: this.config.scope }));
    if (sameAddresses(normaliseAddresses(current.IPSet?.Addresses ?? []), desired)) return false;
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

  /** Marks a row once; only the run that wins the conditional write alerts, so overlapping runs do not alert twice. */
  private async claim(row: BlockRow, attribute: ClaimAttribute): Promise<boolean> {
    try {
      await this.deps.doc.send(new UpdateCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: 'SET #a = :now',
        // the same block (not a renewal that replaced it) and not claimed yet
        ConditionExpression: 'attribute_not_exists(#a) AND blockedAt = :blockedAt AND blockedUntil = :until',
        ExpressionAttributeNames: { '#a': attribute },
        ExpressionAttributeValues: { ':now': this.deps.now(), ':blockedAt': row.blockedAt, ':until': row.blockedUntil },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Gives a claim back after a failed publish, unless the row changed meanwhile. */
  private async unclaim(row: BlockRow, attribute: ClaimAttribute): Promise<void> {
    try {
      await this.deps.doc.send(new UpdateCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        // retryAt keeps the row out of the stream trigger: the scheduled run retries, not an immediate loop
        UpdateExpression: 'REMOVE #a SET retryAt = :now',
        ConditionExpression: 'blockedAt = :blockedAt',
        ExpressionAttributeNames: { '#a': attribute },
        ExpressionAttributeValues: { ':blockedAt': row.blockedAt, ':now': this.deps.now() },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /** Deletes an ended block unless it was renewed meanwhile. */
  private async release(row: BlockRow): Promise<boolean> {
    try {
      await this.deps.doc.send(new DeleteCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        // not renewed since it was claimed for release
        ConditionExpression: 'blockedUntil = :until AND attribute_exists(releasedAt)',
        ExpressionAttributeValues: { ':until': row.blockedUntil },
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
