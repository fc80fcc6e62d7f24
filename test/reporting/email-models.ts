import { HOSTILE, historyRows } from './fixtures';
import { mergeCosts } from '../../src/reporting/runtime/cost-record';
import { CustomerFigures, ElasticSummary, TimelinePoint } from '../../src/reporting/runtime/elastic-report';
import { HistoryRecord, summarizeGuard, timelineBuckets } from '../../src/reporting/runtime/guard-summary';
import { dayPeriod, monthPeriod, ReportPeriod } from '../../src/reporting/runtime/period';
import { ReportModel } from '../../src/reporting/runtime/render';

/**
 * Full daily and monthly email models as a busy installation would produce them: many customers, long host names
 * without spaces (they come from the Host header), hostile values, a problem, costs with a failed source. Deterministic.
 */

const LONG_HOST = 'checkout-eu-west-1-canary.payments.internal-services.very-long-customer-name.example.com';

function customers(scale: number): CustomerFigures[] {
  return Array.from({ length: 8 }, (_, i) => {
    const name = i === 0 ? HOSTILE : i === 1 ? 'a-customer-name-that-has-no-spaces-and-goes-on-for-a-while' : `customer-${i}`;
    const hosts = [0, 1, 2].map((h) => ({
      host: h === 0 && i < 3 ? `${LONG_HOST.slice(0, 20 + i * 10)}.${i}.example` : `h${h}.customer-${i}.example.com`,
      requests: (3 - h) * (9 - i) * 1000 * scale,
      statusCodes: [{ code: '200', count: (3 - h) * (9 - i) * 900 * scale, share: 0.9 }, { code: '403', count: (3 - h) * (9 - i) * 100 * scale, share: 0.1 }],
      breachHits: h === 1 ? i : 0,
    }));
    const requests = hosts.reduce((s, h) => s + h.requests, 0);
    return {
      customer: name,
      requests,
      apdex: 0.9 - i * 0.03,
      statusCodes: [{ code: '200', count: requests * 0.9, share: 0.9 }, { code: '403', count: requests * 0.1, share: 0.1 }],
      hosts,
    };
  });
}

function timeline(period: ReportPeriod, total: number): TimelinePoint[] {
  const buckets = timelineBuckets(period);
  const weights = buckets.map((_, i) => 1 + ((i * 7) % 5));
  const sum = weights.reduce((s, w) => s + w, 0);
  let left = total;
  return buckets.map((b, i) => {
    const requests = i === buckets.length - 1 ? left : Math.floor((total * weights[i]) / sum);
    left -= requests;
    return { start: b.start, requests, avgLatencyMs: 8 + weights[i] * 1.5 };
  });
}

function elastic(period: ReportPeriod, scale: number): ElasticSummary {
  const list = customers(scale);
  const totalRequests = list.reduce((s, c) => s + c.requests, 0);
  return {
    totalRequests,
    customers: list,
    timeline: timeline(period, totalRequests),
    clientIps: [
      { ip: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', requests: 4200 * scale },
      { ip: '198.51.100.7', requests: 3100 * scale },
      { ip: HOSTILE, requests: 12 },
    ],
    trafficFrom: period.start,
    trafficTo: period.end,
    breachField: 'waf.breach',
  };
}

/** The guard's rows of the fixture day, repeated over more clients and a long rule id, spread over the period. */
function guardRows(period: ReportPeriod, days: number): HistoryRecord[] {
  const base = historyRows();
  const rows: HistoryRecord[] = [...base];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < 12; i++) {
      const at = period.start.getTime() + d * 86_400_000 + (i * 97 + 13) * 60_000;
      rows.push({
        ip: `203.0.113.${(d * 12 + i) % 40}`,
        at,
        event: i % 4 === 0 ? 'RENEWED' : 'BLOCKED',
        ruleId: i % 3 === 0 ? 'login-bruteforce-per-client-ip-and-host-header-combined' : 'api',
        host: i % 2 === 0 ? LONG_HOST : 'api.example.com',
        action: 'BLOCK',
        observed: 150 + i * 10,
        threshold: 100,
        windowSeconds: 60,
        blockedAt: at,
        blockedUntil: at + 15 * 60_000,
      });
    }
  }
  return rows;
}

export const DAILY = dayPeriod('2026-11-30', 'Europe/Berlin');
export const MONTHLY = monthPeriod('2026-11', 'Europe/Berlin');

export function dailyModel(): ReportModel {
  return {
    reportName: `prod ${HOSTILE} ${LONG_HOST}`,
    period: DAILY,
    generatedAt: new Date('2026-12-01T01:00:05Z'),
    guard: summarizeGuard(guardRows(DAILY, 1), DAILY, { budgetExceeded: 4 }),
    elastic: elastic(DAILY, 1),
    problems: [{ source: 'elastic:clientIps', message: `search "clientIps" returned partial results (2 shard(s) failed); figures may be low ${HOSTILE}` }],
    files: [`reports/daily/2026-11-30/customers/${LONG_HOST}-${LONG_HOST}.csv`, 'reports/daily/2026-11-30/blocks.csv'],
  };
}

export function monthlyModel(): ReportModel {
  const line = (source: 'AWS' | 'Elastic Cloud', item: string, amount: number) => ({ source, item, amount });
  const merged = mergeCosts('2026-11', { month: '2026-11', sources: { elastic: { lines: [line('Elastic Cloud', 'Hot storage', 512.25)], recordedAt: '2026-11-30T01:00:00.000Z' } } }, {
    aws: { lines: [line('AWS', 'Amazon CloudFront', 1234.5678), line('AWS', 'AWS WAF', 100.01), line('AWS', `Amazon DynamoDB ${LONG_HOST}`, 12.3)], estimated: true },
    elastic: undefined,
    elasticConfigured: true,
  }, new Date('2026-12-01T01:00:00Z'));
  return {
    reportName: `prod ${LONG_HOST}`,
    period: MONTHLY,
    generatedAt: new Date('2026-12-01T02:00:05Z'),
    guard: summarizeGuard(guardRows(MONTHLY, 30), MONTHLY, { budgetExceeded: 31 }),
    elastic: elastic(MONTHLY, 30),
    costs: merged.costs,
    problems: [{ source: 'elastic-billing', message: 'Error: 403 organization.invalid_access' }],
    files: ['cost-reports/2026/2026-11.xlsx', 'cost-reports/2026/Total_2026.xlsx'],
  };
}
