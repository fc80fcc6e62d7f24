import { BlockCandidate, BlockStore, RecordBlocksResult } from './block-store';
import { mapLimit } from './concurrency';
import { HistoryStore } from './history-store';
import { CidrSet, parseCidr } from './ip';
import { Log, MetricsSink } from '../../shared/runtime/telemetry';
import { METRIC } from '../handler-env';

/** What turns offenders into block rows, whichever detection found them (streaming or Timestream query). */
export interface OffenceRecorderDeps {
  readonly blocks: BlockStore;
  /** Where stale offences are recorded (`STALE_OFFENCE`); without it they are only logged and counted. */
  readonly history?: HistoryStore;
  /**
   * Networks never blocked automatically at run time: the run-time allow-list and the shields operators' unblocks
   * leave (see operator-actions.ts). Without it only the configured allow-list applies.
   */
  readonly shields?: { get(nowMs: number): Promise<CidrSet> };
  readonly metrics: MetricsSink;
  readonly log: Log;
}

/** The block store's outcome, and the offenders spared by a shield or a run-time allow-list row. */
export interface RecordOffencesResult extends RecordBlocksResult {
  readonly shielded: BlockCandidate[];
}

/**
 * Records offenders the same way for both detections: shielded clients are spared, the rest go through the block
 * store (new-block budget, COUNT rules, stale offences), and every outcome is logged and measured.
 */
export async function recordOffences(candidates: readonly BlockCandidate[], deps: OffenceRecorderDeps, now: number): Promise<RecordOffencesResult> {
  const spared = await shielded(candidates, deps, now);
  const recorded = await deps.blocks.record(candidates.filter((c) => !spared.includes(c)), now);
  for (const row of recorded.created) {
    deps.log.info(row.action === 'BLOCK' ? 'client blocked' : 'client would be blocked (COUNT rule)', { ...row });
    deps.metrics.add(row.action === 'BLOCK' ? METRIC.NEW_BLOCKS : METRIC.WOULD_BLOCK, 1, 'Count');
  }
  if (recorded.overBudget.length > 0) {
    deps.metrics.add(METRIC.BLOCK_BUDGET_EXCEEDED, recorded.overBudget.length, 'Count');
    deps.log.error('new-block budget spent: clients over threshold were not blocked', {
      clients: recorded.overBudget.map((c) => ({ ip: c.ip.text, ruleId: c.rule.ruleId, observed: Math.round(c.observed) })),
    });
  }
  await recordStale(recorded, deps, now);
  return { ...recorded, shielded: spared };
}

async function shielded(candidates: readonly BlockCandidate[], deps: OffenceRecorderDeps, now: number): Promise<BlockCandidate[]> {
  if (candidates.length === 0 || !deps.shields) return [];
  const shields = await deps.shields.get(now);
  if (shields.size === 0) return [];
  const spared = candidates.filter((c) => {
    const network = parseCidr(c.ip.text);
    return typeof network !== 'string' && shields.containsCidr(network);
  });
  if (spared.length > 0) {
    deps.log.info('clients over a threshold spared: shielded by an unblock or allow-listed at run time', {
      clients: spared.slice(0, 20).map((c) => ({ ip: c.ip.text, ruleId: c.rule.ruleId })),
      count: spared.length,
    });
  }
  return spared;
}

/**
 * Offences older than their block period (a backlog after an outage) are history, not blocks: they go to the
 * history table so operators can see what the outage hid, and spend nothing meant for live attacks.
 */
async function recordStale(recorded: RecordBlocksResult, deps: OffenceRecorderDeps, now: number): Promise<void> {
  const stale = recorded.stale;
  if (stale.length === 0) return;
  deps.metrics.add(METRIC.STALE_OFFENCES, stale.length, 'Count');
  deps.log.warn('offences processed after their block would have ended: recorded, not blocked', {
    offences: stale.slice(0, 20).map((r) => ({
      ip: r.ip, ruleId: r.ruleId, crossedAt: new Date(r.crossedAt).toISOString(), lateMs: now - r.crossedAt,
    })),
    count: stale.length,
  });
  const history = deps.history;
  if (!history) return;
  try {
    await mapLimit(stale, 16, (r) => history.put(r, 'STALE_OFFENCE', now));
  } catch (e) {
    // The run is retried: let the retry report these again (the writes are keyed by log time, so no duplicates).
    deps.blocks.forgetStale(stale);
    throw e;
  }
}
