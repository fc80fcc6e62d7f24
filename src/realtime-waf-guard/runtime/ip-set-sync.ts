import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from './block-store';
import { backoffMs, sleep } from './concurrency';
import { renderDigest } from './digest';
import { CidrSet } from './ip';
import { IpSetPlan, normaliseAddresses, planIpSets, sameAddresses } from './ip-set-planner';
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
/** Errors after which a fresh read and another try can succeed. */
const RETRYABLE = new Set(['WAFOptimisticLockException', 'WAFUnavailableEntityException', 'ThrottlingException', 'WAFLimitsExceededException', 'TooManyRequestsException']);

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException';
}

/**
 * Rebuilds the WAF IP sets from the blocks table, then alerts and releases. The only writer of the sets; a lock
 * conflict means someone else wrote, so the table is read again before the next try, which is how two overlapping
 * runs converge without losing an address.
 */
export class IpSetSync {
  constructor(private readonly config: IpSetSyncConfig, private readonly deps: IpSetSyncDeps) {}

  public async run(): Promise<SyncResult> {
    const { deps, config } = this;
    const wait = deps.sleep ?? sleep;
    let retries = 0;
    let updates = 0;
    let plan: IpSetPlan | undefined;
    for (let attempt = 0; ; attempt++) {
      const rows = await this.readBlocks();
      plan = planIpSets(rows, deps.now(), config.allowList, config.maxSetSize);
      try {
        updates += (await this.apply(config.ipv4, plan.ipv4)) ? 1 : 0;
        updates += (await this.apply(config.ipv6, plan.ipv6)) ? 1 : 0;
        break;
      } catch (e) {
        const name = (e as Error).name;
        if (!RETRYABLE.has(name) || attempt + 1 >= MAX_ATTEMPTS) {
          deps.metrics.add(METRIC.SYNC_ERRORS, 1, 'Count');
          throw e;
        }
        retries++;
        deps.log.warn('IP set update will be retried', { reason: name, attempt });
        // WAF allows about one write per second per account and Region: back off from there, with jitter.
        await wait(backoffMs(attempt, 1000, 20_000));
      }
    }
    const blocked: BlockRow[] = [];
    const wouldBlock: BlockRow[] = [];
    const released: BlockRow[] = [];
    const overCapKeys = new Set(plan.overCap.map((r) => `${r.ip}|${r.ruleId}`));
    const allowKeys = new Set(plan.allowListed.map((r) => `${r.ip}|${r.ruleId}`));
    for (const row of plan.unnotified) {
      const key = `${row.ip}|${row.ruleId}`;
      if (overCapKeys.has(key) || allowKeys.has(key)) continue;
      if (await this.claim(row, 'notifiedAt')) {
        (row.action === 'BLOCK' ? blocked : wouldBlock).push(row);
        await this.history(row, row.action === 'BLOCK' ? 'BLOCKED' : 'WOULD_BLOCK');
      }
    }
    const newlyOverCap: BlockRow[] = [];
    for (const row of plan.overCap) {
      if ((row as { overCapAlertedAt?: number }).overCapAlertedAt === undefined && (await this.claim(row, 'overCapAlertedAt'))) newlyOverCap.push(row);
    }
    for (const row of plan.expired) {
      if (await this.release(row)) {
        if (row.action === 'BLOCK') released.push(row);
        await this.history(row, row.action === 'BLOCK' ? 'RELEASED' : 'COUNT_ENDED');
      }
    }
    deps.metrics.add(METRIC.RELEASES, released.length, 'Count');
    deps.metrics.add(METRIC.ACTIVE_BLOCKS, plan.ipv4.length + plan.ipv6.length, 'Count');
    deps.metrics.add(METRIC.DROPPED_OVER_CAP, plan.overCap.length, 'Count');
    if (plan.overCap.length > 0) deps.log.error('IP set full: blocks left out', { count: plan.overCap.length });

    const digest = renderDigest({ guardName: config.guardName, blocked, wouldBlock, released, overCap: newlyOverCap });
    if (digest && config.topicArn) {
      await deps.sns.send(new PublishCommand({
        TopicArn: config.topicArn,
        Subject: digest.subject,
        Message: digest.body,
        MessageAttributes: digest.attributes,
      }));
    }
    return { plan, updates, retries, blocked, wouldBlock, released, digest: digest && { subject: digest.subject, body: digest.body } };
  }

  private async readBlocks(): Promise<BlockRow[]> {
    const rows: BlockRow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.deps.doc.send(
        new ScanCommand({ TableName: this.config.blocksTable, ExclusiveStartKey: startKey, ConsistentRead: true }),
      );
      rows.push(...((page.Items ?? []) as BlockRow[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return rows;
  }

  /** Writes the set when it differs from the plan; returns whether it wrote. */
  private async apply(ref: IpSetRef, desired: string[]): Promise<boolean> {
    const { waf } = this.deps;
    const current = await waf.send(new GetIPSetCommand({ Name: ref.name, Id: ref.id, Scope: this.config.scope }));
    if (sameAddresses(normaliseAddresses(current.IPSet?.Addresses ?? []), desired)) return false;
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
  private async claim(row: BlockRow, attribute: 'notifiedAt' | 'overCapAlertedAt'): Promise<boolean> {
    try {
      await this.deps.doc.send(new UpdateCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: 'SET #a = :now',
        ConditionExpression: 'attribute_not_exists(#a) AND blockedAt = :blockedAt',
        ExpressionAttributeNames: { '#a': attribute },
        ExpressionAttributeValues: { ':now': this.deps.now(), ':blockedAt': row.blockedAt },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Deletes an ended block unless it was renewed meanwhile. */
  private async release(row: BlockRow): Promise<boolean> {
    try {
      await this.deps.doc.send(new DeleteCommand({
        TableName: this.config.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        ConditionExpression: 'blockedUntil = :until',
        ExpressionAttributeValues: { ':until': row.blockedUntil },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  private async history(row: BlockRow, event: 'BLOCKED' | 'WOULD_BLOCK' | 'RELEASED' | 'COUNT_ENDED'): Promise<void> {
    const now = this.deps.now();
    const at = new Date(now).toISOString();
    await this.deps.doc.send(new PutCommand({
      TableName: this.config.historyTable,
      Item: {
        ip: row.ip,
        at: `${at}#${event}#${row.ruleId}`,
        day: at.slice(0, 10),
        event,
        ruleId: row.ruleId,
        host: row.host,
        action: row.action,
        observed: row.observed,
        threshold: row.threshold,
        windowSeconds: row.windowSeconds,
        firstSeenAt: row.firstSeenAt,
        crossedAt: row.crossedAt,
        blockedAt: row.blockedAt,
        blockedUntil: row.blockedUntil,
        expiresAt: Math.floor(now / 1000) + this.config.historyRetentionDays * 86_400,
      },
    }));
  }
}
