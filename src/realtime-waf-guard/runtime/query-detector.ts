import { QueryCommand, QueryCommandOutput, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { BlockCandidate } from './block-store';
import { mapLimit } from './concurrency';
import { BucketRow, NamedRow, offenders, QueryTable, ruleQuery, toBucketRow } from './detection-query';
import { OffenceRecorderDeps, recordOffences } from './offence-recorder';
import { LoadedRules } from './rules-store';
import { METRIC } from '../handler-env';
import { StoredRule } from '../rule-model';

/**
 * Late records still count: CloudFront delivers real-time logs within seconds, and the log processor's batching and
 * the write add a few more. Each run looks this much further back than the previous run ended, so a window the
 * previous run saw incomplete is judged again, complete.
 */
export const LATE_ARRIVAL_MS = 60_000;

/** A query never pages forever: past this many pages the rule's answer is cut (and logged). */
export const MAX_PAGES = 1000;

export interface QueryDetectorConfig extends QueryTable {
  readonly samplingRate: number;
  /** Time between runs. */
  readonly intervalMs: number;
  /**
   * Rule queries in flight at once.
   * @default 4
   */
  readonly maxConcurrentQueries?: number;
}

export interface QueryDetectorDeps extends OffenceRecorderDeps {
  readonly rules: { get(nowMs: number): Promise<LoadedRules> };
  readonly query: TimestreamQueryClient;
  readonly now: () => number;
}

export interface QueryDetectionSummary {
  readonly rules: number;
  readonly failedRules: string[];
  readonly candidates: BlockCandidate[];
  readonly created: number;
  readonly overBudget: number;
  readonly stale: number;
}

/**
 * Detection by query: per enabled rule, one query over the Timestream table for clients over the threshold, and the
 * offenders into the blocks table through the same BlockStore as streaming detection (budget, COUNT rules, renewals),
 * so the IP set sync applies them like any other block. A failing rule query is logged and counted; the other rules
 * still run, and the next run tries again.
 */
export class QueryDetector {
  constructor(private readonly config: QueryDetectorConfig, private readonly deps: QueryDetectorDeps) {}

  public async run(): Promise<QueryDetectionSummary> {
    const { deps, config } = this;
    const now = deps.now();
    const loaded = await deps.rules.get(now);
    for (const problem of loaded.invalid) deps.log.error('skipping invalid rule row', { problem });
    deps.metrics.add(METRIC.INVALID_RULE_ROWS, loaded.invalid.length, 'Count');
    const rules = loaded.rules.filter((r) => r.enabled);
    const failedRules: string[] = [];
    const perRule = await mapLimit(rules, config.maxConcurrentQueries ?? 4, async (rule) => {
      try {
        return await this.detect(rule, now);
      } catch (e) {
        failedRules.push(rule.ruleId);
        deps.log.error('detection query failed', { ruleId: rule.ruleId, error: `${(e as Error).name}: ${(e as Error).message}` });
        return [];
      }
    });
    if (failedRules.length > 0) deps.metrics.add(METRIC.DETECTION_QUERY_ERRORS, failedRules.length, 'Count');
    const candidates = perRule.flat();
    const recorded = await recordOffences(candidates, deps, now);
    return {
      rules: rules.length,
      failedRules,
      candidates,
      created: recorded.created.length,
      overBudget: recorded.overBudget.length,
      stale: recorded.stale.length,
    };
  }

  /** One rule: its query over every window that ended since the previous run (and late records), then the offenders. */
  private async detect(rule: StoredRule, now: number): Promise<BlockCandidate[]> {
    const { config } = this;
    const newSinceMs = now - config.intervalMs - LATE_ARRIVAL_MS;
    const period = { fromMs: newSinceMs - rule.windowSeconds * 1000, toMs: now };
    const rows = await this.rows(ruleQuery(rule, config, period, config.samplingRate), rule.ruleId);
    return offenders(rule, rows, config.samplingRate, newSinceMs);
  }

  /** Every page of the answer. Timestream may answer a page with no rows and a token while the query still runs. */
  private async rows(queryString: string, ruleId: string): Promise<BucketRow[]> {
    const rows: BucketRow[] = [];
    let unreadable = 0;
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page: QueryCommandOutput = await this.deps.query.send(new QueryCommand({ QueryString: queryString, NextToken: nextToken }));
      const names = (page.ColumnInfo ?? []).map((c) => c.Name ?? '');
      for (const row of page.Rows ?? []) {
        const named: Record<string, string | null> = {};
        (row.Data ?? []).forEach((datum, i) => { named[names[i]] = datum.NullValue ? null : datum.ScalarValue ?? null; });
        const parsed = toBucketRow(named as NamedRow);
        if (parsed) rows.push(parsed);
        else unreadable++;
      }
      nextToken = page.NextToken;
    } while (nextToken && ++pages < MAX_PAGES);
    if (nextToken) this.deps.log.error('detection query answer cut after too many pages', { ruleId, pages: MAX_PAGES });
    if (unreadable > 0) this.deps.log.warn('skipped unreadable rows of a detection query', { ruleId, count: unreadable });
    return rows;
  }
}
