import { CostNotes, totalLabel } from './cost-record';
import { CostLine } from './costs';
import { ElasticSummary } from './elastic-report';
import { formatCount, formatMoney, formatPercent } from './format';
import { GuardSummary } from './guard-summary';
import { centsToDollars, costTotals } from './money';
import { ReportKind } from './period';

/**
 * The top of the email (pure): a few key figures with their change against the previous period, and what needs
 * attention. Every figure is one the detailed tables below add up to; a change is only shown when the previous period's
 * figure is known and complete, otherwise the reader is told there is no comparison.
 */

/** A period's key figures, stored next to its report (`figures.json`) so the next run can compare. */
export interface KeyFigures {
  readonly kind: ReportKind;
  readonly period: string;
  /** WAF requests (Elasticsearch), absent when the search failed or is not configured. */
  readonly requests?: number;
  /** Blocks the guard started (BLOCKED events). */
  readonly blocks?: number;
  /** Distinct clients (IPs or prefixes) blocked or renewed. */
  readonly clientsBlocked?: number;
  /** The month's cost total in cents, only when complete (no failed source). */
  readonly costCents?: number;
  /**
   * `costCents` was estimated (Cost Explorer had not closed the month): a later month compared with it says so, as the
   * final figure may differ.
   */
  readonly costEstimated?: boolean;
  /** Configured alarms that were in ALARM at some time of the period. */
  readonly alarms?: number;
}

export interface KeyFigureSources {
  readonly kind: ReportKind;
  readonly period: string;
  readonly guard?: GuardSummary | null;
  readonly elastic?: ElasticSummary | null;
  readonly costs?: { readonly aws?: readonly CostLine[]; readonly elastic?: readonly CostLine[]; readonly notes?: CostNotes };
  /** The search that counts requests answered in part (shards failed, timed out): the count may be low. */
  readonly requestsPartial?: boolean;
  /** Configured alarms in ALARM at some time of the period; undefined when none are configured or they could not be read. */
  readonly alarmCount?: number;
}

/**
 * Whether the request count may be low: only when the page that carried it (the customers search's first) answered in
 * part. A later page failing cuts the customer tables (the email says so), not the count.
 */
export function requestsPartial(elastic: ElasticSummary | null | undefined): boolean {
  return elastic?.totalRequestsPartial === true;
}

/** A cost total with an estimated source (Cost Explorer's month not closed): compared, but labelled so. */
export function costIsEstimated(notes: CostNotes | undefined): boolean {
  return notes?.total?.split('; ').includes('estimated') === true;
}

/** A cost total is partial when a source's figures are not this run's: never compared, never stored as complete. */
export function costIsPartial(notes: CostNotes | undefined): boolean {
  return notes?.total?.startsWith('partial') === true;
}

export function keyFigures(s: KeyFigureSources): KeyFigures {
  const starts = s.guard ? new Set(s.guard.records.filter((r) => r.event === 'BLOCKED' || r.event === 'RENEWED').map((r) => r.ip)) : undefined;
  const costCents = s.costs && !costIsPartial(s.costs.notes) ? costTotals(s.costs.aws ?? [], s.costs.elastic).totalCents : undefined;
  return {
    kind: s.kind,
    period: s.period,
    // A partial count is shown, never stored: the next period must not compare with a figure that may be low.
    ...(s.elastic?.totalRequests !== undefined && !s.requestsPartial ? { requests: s.elastic.totalRequests } : {}),
    ...(s.guard ? { blocks: s.guard.totals.blocked, clientsBlocked: starts!.size } : {}),
    ...(costCents !== undefined ? { costCents, ...(costIsEstimated(s.costs?.notes) ? { costEstimated: true } : {}) } : {}),
    ...(s.alarmCount !== undefined ? { alarms: s.alarmCount } : {}),
  };
}

const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/** The stored figures of `period`; an unreadable or foreign file is an error (never a comparison with wrong figures). */
export function parseKeyFigures(text: string, kind: ReportKind, period: string): KeyFigures {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw?.kind !== kind || raw.period !== period) throw new Error(`the key figures are not those of the ${kind} report ${period}`);
  const costCents = typeof raw.costCents === 'number' && Number.isSafeInteger(raw.costCents) ? raw.costCents : undefined;
  const figures: KeyFigures = {
    kind,
    period,
    ...(count(raw.requests) !== undefined ? { requests: count(raw.requests) } : {}),
    ...(count(raw.blocks) !== undefined ? { blocks: count(raw.blocks) } : {}),
    ...(count(raw.clientsBlocked) !== undefined ? { clientsBlocked: count(raw.clientsBlocked) } : {}),
    ...(costCents !== undefined ? { costCents, ...(raw.costEstimated === true ? { costEstimated: true } : {}) } : {}),
    ...(count(raw.alarms) !== undefined ? { alarms: count(raw.alarms) } : {}),
  };
  return figures;
}

export function serializeKeyFigures(figures: KeyFigures): string {
  return `${JSON.stringify(figures, null, 2)}\n`;
}

export interface HeadlineFigure {
  readonly label: string;
  readonly value: string;
  /** `+1,200 (+4.8%) vs 2026-11-29` (`vs 2026-09, estimated` against an estimated cost), or `no comparison` with the reason. */
  readonly change?: string;
  /** Direction of a figure for which up is bad (blocks, costs); undefined for requests and when not compared. */
  readonly trend?: 'up' | 'down' | 'flat';
}

function signed(n: number, format: (v: number) => string): string {
  return n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : '±0';
}

function change(current: number, previous: number | undefined, previousLabel: string | undefined, format: (v: number) => string): Pick<HeadlineFigure, 'change' | 'trend'> {
  if (previousLabel === undefined) return { change: 'no comparison: previous period unavailable' };
  if (previous === undefined) return { change: `no comparison: ${previousLabel} not known` };
  const diff = current - previous;
  const share = previous !== 0 ? ` (${diff > 0 ? '+' : ''}${formatPercent(diff / previous)})` : '';
  return { change: `${signed(diff, format)}${diff !== 0 ? share : ''} vs ${previousLabel}`, trend: diff > 0 ? 'up' : diff < 0 ? 'down' : 'flat' };
}

/**
 * The headline: requests, blocks, clients blocked, the top offender and (monthly) the cost total, each shown only when
 * its source answered. `previous` is undefined when the previous period's figures could not be found.
 */
export function headlineFigures(s: KeyFigureSources, previous: KeyFigures | undefined): HeadlineFigure[] {
  const now = keyFigures(s);
  const prevLabel = previous?.period;
  const out: HeadlineFigure[] = [];
  // More or fewer requests is neither good nor bad: no trend colour, unlike blocks and costs.
  if (now.requests !== undefined) out.push({ label: 'Requests', value: formatCount(now.requests), change: change(now.requests, previous?.requests, prevLabel, formatCount).change });
  else if (s.elastic?.totalRequests !== undefined) out.push({ label: 'Requests (partial)', value: formatCount(s.elastic.totalRequests), change: 'no comparison: the search answered in part' });
  if (now.blocks !== undefined) out.push({ label: 'Blocks', value: formatCount(now.blocks), ...change(now.blocks, previous?.blocks, prevLabel, formatCount) });
  if (now.clientsBlocked !== undefined) out.push({ label: 'Clients blocked', value: formatCount(now.clientsBlocked), ...change(now.clientsBlocked, previous?.clientsBlocked, prevLabel, formatCount) });
  if (now.alarms !== undefined) out.push({ label: 'Alarms', value: formatCount(now.alarms), ...change(now.alarms, previous?.alarms, prevLabel, formatCount) });
  const top = s.guard?.topOffenders[0];
  if (top) out.push({ label: 'Top offender', value: top.ip, change: `${formatCount(top.blocks)} block${top.blocks === 1 ? '' : 's'}` });
  if (s.costs) {
    const totalCents = costTotals(s.costs.aws ?? [], s.costs.elastic).totalCents;
    const label = totalLabel(s.costs.notes, 'Cost');
    const value = formatMoney(centsToDollars(totalCents));
    // An estimated previous total may still change: the comparison says it is against an estimate.
    const against = prevLabel !== undefined && previous?.costEstimated ? `${prevLabel}, estimated` : prevLabel;
    if (now.costCents === undefined) out.push({ label, value, change: 'no comparison: this total is partial' });
    else out.push({ label, value, ...change(now.costCents, previous?.costCents, against, (c) => formatMoney(centsToDollars(c))) });
  }
  return out;
}

/** One line of the "needs attention" banner. */
export interface AttentionItem {
  readonly source: string;
  readonly message: string;
}

/**
 * What an operator must act on, before any detail: each failed part of the run, blocks not applied because an IP set
 * was full, offenders not blocked because the new-block budget was spent, and a partial cost total.
 */
export function attentionItems(s: KeyFigureSources, problems: readonly AttentionItem[]): AttentionItem[] {
  const items: AttentionItem[] = [...problems];
  const g = s.guard;
  if (g && g.totals.notApplied > 0) {
    items.push({ source: 'IP-set cap', message: `${formatCount(g.totals.notApplied)} block${g.totals.notApplied === 1 ? ' was' : 's were'} not applied because an IP set was full` });
  }
  if (g && g.budgetExceeded !== undefined && g.budgetExceeded > 0) {
    items.push({ source: 'new-block budget', message: `${formatCount(g.budgetExceeded)} offender${g.budgetExceeded === 1 ? ' was' : 's were'} not blocked because the new-block budget was spent` });
  }
  if (s.costs && costIsPartial(s.costs.notes)) {
    items.push({ source: 'costs', message: `${totalLabel(s.costs.notes)}: the cost total lacks figures from this run` });
  }
  return items;
}

/** `264,000 requests, 12 blocks, $1,846.87`: the subject's key figures, those that are known. */
export function subjectFigures(s: KeyFigureSources): string {
  const now = keyFigures(s);
  const parts: string[] = [];
  if (s.elastic?.totalRequests !== undefined) parts.push(`${formatCount(s.elastic.totalRequests)} requests${s.requestsPartial ? ' (partial)' : ''}`);
  if (now.blocks !== undefined) parts.push(`${formatCount(now.blocks)} block${now.blocks === 1 ? '' : 's'}`);
  if (s.costs) {
    const total = formatMoney(centsToDollars(costTotals(s.costs.aws ?? [], s.costs.elastic).totalCents));
    parts.push(costIsPartial(s.costs.notes) ? `${total} (partial)` : total);
  }
  if (now.alarms) parts.push(`${formatCount(now.alarms)} alarm${now.alarms === 1 ? '' : 's'}`);
  return parts.join(', ');
}
