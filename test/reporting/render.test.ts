import { HOSTILE, historyRows } from './fixtures';
import { mapClientIps, mapCustomers, mapTimeline } from '../../src/reporting/runtime/elastic-report';
import { parseHistoryItem, summarizeGuard } from '../../src/reporting/runtime/guard-summary';
import { dayPeriod, monthPeriod } from '../../src/reporting/runtime/period';
import { renderEmail, ReportModel } from '../../src/reporting/runtime/render';

const berlinDay = dayPeriod('2026-11-30', 'Europe/Berlin');

describe('guard summary', () => {
  const summary = summarizeGuard(historyRows(), berlinDay);

  test('keeps only the local day and counts every event kind, unknown ones as other', () => {
    expect(summary.events).toBe(8);
    expect(summary.totals).toEqual({ blocked: 3, renewed: 1, wouldBlock: 1, released: 1, notApplied: 1, other: 1 });
    expect(summary.records[0].ip).toBe('198.51.100.7');
  });

  test('top and repeat offenders with total blocked time; IPv6 prefixes are clients', () => {
    expect(summary.topOffenders[0]).toEqual({ ip: '198.51.100.7', rules: ['login'], blocks: 2, blockedMs: 2 * 3_600_000, peakObserved: 1234567 });
    expect(summary.topOffenders[1]).toMatchObject({ ip: '2001:db8:1:2::/64', blocks: 2, blockedMs: 60 * 60_000 });
    expect(summary.repeatOffenders.map((o) => o.ip)).toEqual(['198.51.100.7', '2001:db8:1:2::/64']);
  });

  test('busiest minute and a 24-hour timeline labelled in local hours', () => {
    expect(summary.busiestMinutes[0]).toEqual({ minute: Date.parse('2026-11-30T08:15:00Z'), decisions: 3 });
    expect(summary.timeline).toHaveLength(24);
    expect(summary.timeline[0]).toEqual({ label: '00', value: 1 });
    expect(summary.timeline[9]).toEqual({ label: '09', value: 2 });
  });

  test('a monthly timeline has one bar per local day', () => {
    const month = summarizeGuard(historyRows(), monthPeriod('2026-11', 'Europe/Berlin'));
    expect(month.timeline).toHaveLength(30);
    expect(month.timeline[29].label).toBe('30');
  });

  test('history items parse from the stored attributes, the sort key as fallback', () => {
    expect(parseHistoryItem({ ip: '2001:db8::/64', at: '2026-11-30T08:00:00.000Z#STALE_OFFENCE#r#1' })).toMatchObject({ event: 'STALE_OFFENCE', ruleId: 'r#1', at: Date.parse('2026-11-30T08:00:00Z') });
    expect(parseHistoryItem({ ip: '1.2.3.4', at: 'garbage' })).toBeUndefined();
  });
});

function hostileModel(): ReportModel {
  const customers = mapCustomers({
    hits: { total: { value: 1500, relation: 'eq' } },
    aggregations: {
      customers: {
        buckets: [{
          key: HOSTILE,
          doc_count: 1500,
          apdex_satisfied: { doc_count: 1200 },
          apdex_tolerating: { doc_count: 200 },
          status_codes: { buckets: [{ key: 200, doc_count: 1400 }, { key: 403, doc_count: 100 }] },
          hosts: { buckets: [{ key: `${HOSTILE}.example.com`, doc_count: 1500, status_codes: { buckets: [{ key: 200, doc_count: 1500 }] }, breach: { doc_count: 3 } }] },
        }],
      },
    },
  });
  return {
    reportName: `prod ${HOSTILE}`,
    period: berlinDay,
    generatedAt: new Date('2026-12-01T01:00:05Z'),
    guard: summarizeGuard(historyRows(), berlinDay, { budgetExceeded: 4 }),
    elastic: {
      totalRequests: 1500,
      customers,
      timeline: mapTimeline({ aggregations: { timeline: { buckets: [{ key: Date.parse('2026-11-29T23:00:00Z'), doc_count: 1500, avg_latency: { value: 12.5 } }] } } }),
      clientIps: mapClientIps({ aggregations: { client_ips: { buckets: [{ key: HOSTILE, doc_count: 1234 }] } } }),
      trafficFrom: new Date(0),
      trafficTo: new Date(0),
      breachField: 'waf.breach',
    },
    problems: [{ source: 'elastic:clientIps', message: `bad ${HOSTILE}` }],
    files: [`reports/daily/2026-11-30/customers/${HOSTILE}.csv`],
  };
}

describe('email rendering', () => {
  test('every value from traffic or props is escaped in the HTML, verbatim in the text', () => {
    const email = renderEmail(hostileModel());
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toMatch(/alert\("x"\)/);
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    // Only the tags the renderer writes itself.
    const tags = new Set([...email.html.matchAll(/<\/?([a-zA-Z!][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase()));
    expect([...tags].sort()).toEqual(['!doctype', 'b', 'body', 'div', 'h1', 'h2', 'h3', 'head', 'html', 'li', 'line', 'meta', 'p', 'rect', 'svg', 'table', 'td', 'text', 'th', 'title', 'tr', 'ul']);
    expect(email.text).toContain(HOSTILE);
    expect(email.subject).toBe(`Daily WAF report 2026-11-30: prod ${HOSTILE} - 1,500 requests, 3 blocks (1 problem)`);
  });

  test('numbers with thousands separators and times in the report zone, in both parts', () => {
    const email = renderEmail(hostileModel());
    for (const part of [email.html, email.text]) {
      expect(part).toContain('1,234,567');
      expect(part).toContain('1,500');
      expect(part).toContain('2026-11-30 00:00 to 2026-12-01 00:00 (Europe/Berlin)');
      expect(part).toContain('09:15');
      expect(part).toContain('0.867');
    }
    expect(email.html).toContain('Data-breach hits');
    // Inline SVG only: no external resource of any kind.
    expect(email.html).not.toMatch(/(src|href)=|url\(|@import/);
  });

  test('empty tables say so instead of rendering nothing', () => {
    const email = renderEmail({
      reportName: 'quiet',
      period: berlinDay,
      generatedAt: new Date(),
      problems: [],
      files: [],
      guard: summarizeGuard([], berlinDay),
      elastic: { totalRequests: 0, customers: [], timeline: [], clientIps: [], trafficFrom: new Date(0), trafficTo: new Date(0) },
    });
    expect(email.html).toContain('No guard activity in this period.');
    expect(email.html).toContain('No client was blocked.');
    expect(email.text).toContain('No requests in this period.');
    expect(email.subject).toBe('Daily WAF report 2026-11-30: quiet - 0 requests, 0 blocks');
  });

  test('a cut cost table points to the workbook that was written, and says when none was', () => {
    const lines = Array.from({ length: 30 }, (_, i) => ({ source: 'AWS' as const, item: `Service ${i}`, amount: 1 }));
    const model = { reportName: 'x', period: monthPeriod('2026-11', 'UTC'), generatedAt: new Date(), problems: [], files: [], costs: { aws: lines } };
    const written = renderEmail({ ...model, tableFiles: { costs: 's3://b/cost-reports/2026/2026-11.xlsx' } });
    expect(written.text).toContain('Showing 25 of 30 rows; all of them are in s3://b/cost-reports/2026/2026-11.xlsx.');
    expect(written.html).toContain('Showing 25 of 30 rows; all of them are in s3://b/cost-reports/2026/2026-11.xlsx.');
    expect(renderEmail(model).text).toContain('Showing 25 of 30 rows; the file with all of them was not written.');
  });

  test('an unreadable source is shown as such', () => {
    const email = renderEmail({ reportName: 'x', period: berlinDay, generatedAt: new Date(), problems: [{ source: 'guard-history', message: 'denied' }], files: [], guard: null, elastic: null });
    expect(email.text).toContain('The guard history could not be read');
    expect(email.text).toContain('Elasticsearch could not be read');
  });
});
