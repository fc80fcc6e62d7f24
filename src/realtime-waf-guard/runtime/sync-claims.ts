import { BlockRow } from './block-store';
import { IpSetPlan } from './ip-set-planner';
import { SYNC_TIMEOUT_SECONDS } from '../handler-env';

/** What a sync run claims on a block row before it alerts; the attribute holds the time the claim was taken. */
export type ClaimAttribute = 'notifiedAt' | 'overCapAlertedAt' | 'releasedAt';

/**
 * Where an unfinished claim keeps its lease. Completing a claim removes the lease, so a claim without one is done
 * (which also covers rows claimed before leases existed).
 */
export const LEASE_ATTRIBUTE = {
  notifiedAt: 'notifyLeaseUntil',
  overCapAlertedAt: 'overCapLeaseUntil',
  releasedAt: 'releaseLeaseUntil',
} as const satisfies Record<ClaimAttribute, keyof BlockRow>;

/**
 * A run lives at most the function's timeout, so a lease a minute longer is never taken from a run still working on
 * it: only from one that stopped without completing or giving back its claims.
 */
export const CLAIM_LEASE_MS = SYNC_TIMEOUT_SECONDS * 1000 + 60_000;

/** Claimed but neither completed nor given back. */
export function isPending(row: BlockRow, attribute: ClaimAttribute): boolean {
  return row[attribute] !== undefined && row[LEASE_ATTRIBUTE[attribute]] !== undefined;
}

/** Never claimed, or claimed by a run that stopped and whose lease has run out. */
export function isClaimable(row: BlockRow, attribute: ClaimAttribute, nowMs: number): boolean {
  if (row[attribute] === undefined) return true;
  const lease = row[LEASE_ATTRIBUTE[attribute]];
  return lease !== undefined && lease < nowMs;
}

export interface ClaimWork {
  /** Blocks in force (BLOCK and COUNT) to announce. */
  readonly notify: BlockRow[];
  /** Blocks left out of a full IP set, to announce once. */
  readonly overCap: BlockRow[];
  /** Ended rows to announce (BLOCK rows that were announced), record and delete. */
  readonly release: BlockRow[];
  /** Ended rows claimed for release before claims had leases: recorded and deleted without a second alert. */
  readonly releaseUnleased: BlockRow[];
  /** Claims among these left by a run that stopped (their lease ran out). */
  readonly takenOver: number;
}

/** A row's key in the blocks table, as one string. */
export function rowKey(r: BlockRow): string {
  return `${r.ip}|${r.ruleId}`;
}

/** What a run has to claim, given the plan and every row it read. */
export function claimWork(plan: IpSetPlan, rows: readonly BlockRow[], nowMs: number): ClaimWork {
  const skip = new Set([...plan.overCap, ...plan.allowListed].map(rowKey));
  const takeOver = rows.filter((r) => r.blockedUntil > nowMs && r.notifiedAt !== undefined && isClaimable(r, 'notifiedAt', nowMs));
  const notify = [...plan.unnotified, ...takeOver].filter((r) => !skip.has(rowKey(r)));
  const overCap = plan.overCap.filter((r) => isClaimable(r, 'overCapAlertedAt', nowMs));
  const release = plan.expired.filter((r) => isClaimable(r, 'releasedAt', nowMs));
  return {
    notify,
    overCap,
    release,
    releaseUnleased: plan.expired.filter((r) => r.releasedAt !== undefined && r.releaseLeaseUntil === undefined),
    takenOver: notify.filter((r) => r.notifiedAt !== undefined).length
      + overCap.filter((r) => r.overCapAlertedAt !== undefined).length
      + release.filter((r) => r.releasedAt !== undefined).length,
  };
}
