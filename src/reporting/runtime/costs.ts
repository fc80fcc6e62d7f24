import { CostExplorerClient, GetCostAndUsageCommand, GetCostAndUsageCommandInput, GetCostAndUsageCommandOutput } from '@aws-sdk/client-cost-explorer';
import { CostConfig, ElasticBillingConfig } from './config';
import { ReportPeriod } from './period';

/** One line of the cost workbook. */
export interface CostLine {
  readonly source: 'AWS' | 'Elastic Cloud';
  readonly item: string;
  /** USD; Elastic Cloud bills in ECU, and 1 ECU is 1 USD. */
  readonly amount: number;
}

/** `YYYY-MM-DD` bounds of a month for Cost Explorer (UTC dates; End exclusive). */
export function monthDates(period: ReportPeriod): { start: string; end: string } {
  const [y, m] = period.label.split('-').map(Number);
  const next = new Date(Date.UTC(y, m, 1));
  return { start: `${period.label}-01`, end: next.toISOString().slice(0, 10) };
}

export function costExplorerRequest(config: CostConfig, period: ReportPeriod, nextPageToken?: string): GetCostAndUsageCommandInput {
  const { start, end } = monthDates(period);
  const groupBy = config.groupByTag
    ? [{ Type: 'TAG' as const, Key: config.groupByTag }]
    : config.groupByDimension
      ? [{ Type: 'DIMENSION' as const, Key: config.groupByDimension }]
      : undefined;
  return {
    TimePeriod: { Start: start, End: end },
    Granularity: 'MONTHLY',
    Metrics: ['UnblendedCost'],
    ...(groupBy ? { GroupBy: groupBy } : {}),
    ...(config.tagFilter ? { Filter: { Tags: { Key: config.tagFilter.key, Values: config.tagFilter.values, MatchOptions: ['EQUALS'] } } } : {}),
    ...(nextPageToken ? { NextPageToken: nextPageToken } : {}),
  };
}

/** Lines of one GetCostAndUsage page: a group per line, or the total without grouping. */
export function mapCostExplorer(output: GetCostAndUsageCommandOutput): CostLine[] {
  const lines: CostLine[] = [];
  for (const result of output.ResultsByTime ?? []) {
    if (result.Groups && result.Groups.length > 0) {
      for (const g of result.Groups) {
        const amount = Number(g.Metrics?.UnblendedCost?.Amount ?? 0);
        // Tag groups come back as `key$value`; an untagged group as `key$`.
        const key = (g.Keys ?? []).join(', ').replace(/^[^$]*\$$/, '(untagged)').replace(/^[^$]*\$/, '');
        lines.push({ source: 'AWS', item: key || '(none)', amount });
      }
    } else if (result.Total?.UnblendedCost) {
      lines.push({ source: 'AWS', item: 'Total', amount: Number(result.Total.UnblendedCost.Amount ?? 0) });
    }
  }
  return lines;
}

/** Cost Explorer's lines for the month and whether it calls any of them estimated (the month is not closed yet). */
export interface AwsCosts {
  readonly lines: CostLine[];
  readonly estimated: boolean;
}

export async function readAwsCosts(ce: Pick<CostExplorerClient, 'send'>, config: CostConfig, period: ReportPeriod): Promise<AwsCosts> {
  const lines: CostLine[] = [];
  let estimated = false;
  let token: string | undefined;
  do {
    // Each page costs $0.01: pages are read one after another and only as many as there are.
    const out = await ce.send(new GetCostAndUsageCommand(costExplorerRequest(config, period, token)));
    lines.push(...mapCostExplorer(out));
    if ((out.ResultsByTime ?? []).some((r) => r.Estimated === true)) estimated = true;
    token = out.NextPageToken;
  } while (token);
  // The same key may span pages; one line each.
  const merged = new Map<string, number>();
  for (const l of lines) merged.set(l.item, (merged.get(l.item) ?? 0) + l.amount);
  return {
    lines: [...merged.entries()].map(([item, amount]) => ({ source: 'AWS' as const, item, amount })).sort((a, b) => b.amount - a.amount || a.item.localeCompare(b.item)),
    estimated,
  };
}

/** The v2 itemized costs request for a month. */
export function elasticBillingUrl(config: ElasticBillingConfig, period: ReportPeriod): string {
  const { start, end } = monthDates(period);
  const url = new URL(`/api/v2/billing/organizations/${encodeURIComponent(config.organizationId)}/costs/items`, config.endpoint);
  url.searchParams.set('from', `${start}T00:00:00Z`);
  url.searchParams.set('to', `${end}T00:00:00Z`);
  return url.toString();
}

/** Lines of a v2 `costs/items` response: one per product (`products[].type`, `total_ecu`). */
export function mapElasticBilling(body: unknown): CostLine[] {
  const products = (body as { products?: unknown })?.products;
  if (!Array.isArray(products)) throw new Error('Elastic billing response has no "products" array');
  return products
    .map((p: { type?: unknown; total_ecu?: unknown }) => ({
      source: 'Elastic Cloud' as const,
      item: typeof p.type === 'string' && p.type !== '' ? p.type : '(unnamed product)',
      amount: typeof p.total_ecu === 'number' ? p.total_ecu : Number(p.total_ecu ?? 0),
    }))
    .sort((a, b) => b.amount - a.amount || a.item.localeCompare(b.item));
}

export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

export async function readElasticCosts(
  fetchFn: FetchLike,
  config: ElasticBillingConfig,
  apiKey: string,
  period: ReportPeriod,
  timeoutMs = 30_000,
): Promise<CostLine[]> {
  const response = await fetchFn(elasticBillingUrl(config, period), {
    headers: { Authorization: `ApiKey ${apiKey}`, Accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    const text = (await response.text()).slice(0, 300);
    throw new Error(`Elastic billing API answered HTTP ${response.status}: ${text}`);
  }
  return mapElasticBilling(await response.json());
}
