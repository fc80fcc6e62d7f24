import * as fc from 'fast-check';
import { dailyModel, DAILY, monthlyModel } from './email-models';
import { HOSTILE, historyRows } from './fixtures';
import { totalLabel } from '../../src/reporting/runtime/cost-record';
import { HistoryRecord } from '../../src/reporting/runtime/guard-summary';
import { headlineFigures, KeyFigures, keyFigures, parseKeyFigures } from '../../src/reporting/runtime/headline';
import { centsToDollars, costTotals } from '../../src/reporting/runtime/money';
import { dayPeriod, monthPeriod, ReportPeriod } from '../../src/reporting/runtime/period';
import { renderEmail } from '../../src/reporting/runtime/render';
import { ReportOutputs, runReport } from '../../src/reporting/runtime/report-run';

/** `Requests: 264,000 (+64,000 (+32.0%) vs 2026-11-29)` lines of the text part, by label. */
function headlineLines(text: string): Map<string, { value: string; change?: string }> {
  const head = text.split('\n\n')[1];
  return new Map(head.split('\n').map((line) => {
    const m = /^([^:]+): (.*?)(?: \((.*)\))?$/.exec(line)!;
    return [m[1], { value: m[2], change: m[3] }];
  }));
}

const num = (s: string) => Number(s.replace(/[$,]/g, ''));

describe('the headline', () => {
  test('its figures are the totals of the detailed tables (daily)', () => {
    const model = dailyModel();
    const email = renderEmail(model);
    const head = headlineLines(email.text);
    const elastic = model.elastic!;
    const guard = model.guard!;
    const customersTotal = elastic.customers!.reduce((s, c) => s + c.requests, 0);
    const timelineTotal = elastic.timeline!.reduce((s, p) => s + p.requests, 0);
    expect(num(head.get('Requests')!.value)).toBe(customersTotal);
    expect(num(head.get('Requests')!.value)).toBe(timelineTotal);
    expect(num(head.get('Blocks')!.value)).toBe(guard.byRule.reduce((s, r) => s + r.blocked, 0));
    expect(email.text).toMatch(new RegExp(`^ +Blocks +${head.get('Blocks')!.value}$`, 'm'));
    // Fewer than a table's rows here, so every blocked client is a top offender.
    expect(num(head.get('Clients blocked')!.value)).toBe(guard.topOffenders.length);
    expect(head.get('Top offender')).toEqual({ value: guard.topOffenders[0].ip, change: `${guard.topOffenders[0].blocks} blocks` });
  });

  test('the monthly cost figure is the cost table\'s total with its qualifier', () => {
    const model = monthlyModel();
    const email = renderEmail(model);
    const label = totalLabel(model.costs!.notes, 'Cost');
    const [, costValue] = new RegExp(`^${label.replace(/[()]/g, '\\$&')}: (\\S+)`, 'm').exec(email.text)!;
    const lineCents = costTotals(model.costs!.aws ?? [], model.costs!.elastic);
    const [, tableTotal] = new RegExp(`^ {2}${totalLabel(model.costs!.notes).replace(/[()]/g, '\\$&')}: (\\S+)$`, 'm').exec(email.text)!;
    expect(costValue).toBe(tableTotal);
    expect(Math.round(num(costValue) * 100)).toBe(lineCents.totalCents);
    expect(email.text).toContain(`${label}: ${costValue} (no comparison: this total is partial)`);
  });

  test('changes come from the previous period\'s figures; without them the email says "no comparison"', () => {
    const model = dailyModel();
    const previous: KeyFigures = { kind: 'daily', period: '2026-11-29', requests: 200_000, blocks: 12 };
    const head = headlineLines(renderEmail({ ...model, previous }).text);
    expect(head.get('Requests')!.change).toBe('+64,000 (+32.0%) vs 2026-11-29');
    expect(head.get('Blocks')!.change).toBe('±0 vs 2026-11-29');
    expect(head.get('Clients blocked')!.change).toBe('no comparison: 2026-11-29 not known');
    const none = headlineLines(renderEmail(model).text);
    expect(none.get('Requests')!.change).toBe('no comparison: previous period unavailable');
  });

  test('property: the change shown is current minus previous, for any counts', () => {
    fc.assert(fc.property(fc.nat({ max: 10 ** 9 }), fc.nat({ max: 10 ** 9 }), (now, before) => {
      const [requests] = headlineFigures(
        { kind: 'daily', period: DAILY.label, elastic: { totalRequests: now, trafficFrom: DAILY.start, trafficTo: DAILY.end } },
        { kind: 'daily', period: '2026-11-29', requests: before },
      );
      const m = /^(±0|[+-][\d,]+)(?: \(([+-][\d,.]+)%\))? vs 2026-11-29$/.exec(requests.change!)!;
      expect(m).not.toBeNull();
      expect(m[1] === '±0' ? 0 : num(m[1])).toBe(now - before);
      if (before > 0 && now !== before) expect(Math.abs(num(m[2]) - ((now - before) / before) * 100)).toBeLessThanOrEqual(0.0501);
    }));
  });

  test('a request count from a search answered in part is shown as partial, not compared and not stored', () => {
    const model = dailyModel();
    const problems = [{ source: 'elastic:customers', message: 'search "customers" returned partial results (1 shard(s) failed); figures may be low' }];
    const previous: KeyFigures = { kind: 'daily', period: '2026-11-29', requests: 200_000, blocks: 12 };
    const email = renderEmail({ ...model, elastic: { ...model.elastic!, totalRequestsPartial: true }, problems, previous });
    const head = headlineLines(email.text);
    expect(head.has('Requests')).toBe(false);
    expect(head.get('Requests (partial)')).toEqual({ value: '264,000', change: 'no comparison: the search answered in part' });
    expect(email.subject).toContain('264,000 requests (partial)');
    expect(keyFigures({ kind: 'daily', period: DAILY.label, elastic: model.elastic, requestsPartial: true }).requests).toBeUndefined();
  });

  test('stored figures of another period are refused, not compared', () => {
    expect(() => parseKeyFigures(JSON.stringify({ kind: 'daily', period: '2026-11-28', requests: 1 }), 'daily', '2026-11-29')).toThrow(/2026-11-29/);
    expect(parseKeyFigures(JSON.stringify({ kind: 'daily', period: '2026-11-29', requests: -1, blocks: 'x' }), 'daily', '2026-11-29')).toEqual({ kind: 'daily', period: '2026-11-29' });
  });

  test('the subject carries the key figures', () => {
    expect(renderEmail(dailyModel()).subject).toBe(`Daily WAF report 2026-11-30: prod ${HOSTILE} ${dailyModel().reportName.split(' ').at(-1)} - 264,000 requests, 12 blocks (1 problem)`);
    const monthly = monthlyModel();
    const total = costTotals(monthly.costs!.aws ?? [], monthly.costs!.elastic).totalCents;
    expect(renderEmail(monthly).subject).toContain(`requests, ${monthly.guard!.totals.blocked} blocks, $${centsToDollars(total).toLocaleString('en-US', { minimumFractionDigits: 2 })} (partial) (1 problem)`);
  });
});

describe('needs attention', () => {
  test('problems, the IP-set cap, the spent budget and a partial cost total, above every detail', () => {
    const monthly = monthlyModel();
    const email = renderEmail({ ...monthly, guard: { ...monthly.guard!, totals: { ...monthly.guard!.totals, notApplied: 3 } } });
    const banner = email.html.indexOf('Needs attention');
    expect(banner).toBeGreaterThan(0);
    expect(banner).toBeLessThan(email.html.indexOf('Realtime WAF guard'));
    const items = [...email.html.slice(banner, email.html.indexOf('</ul>', banner)).matchAll(/<li><b>([^<]*)<\/b>: ([^<]*)<\/li>/g)].map((m) => [m[1], m[2]]);
    expect(items).toEqual([
      ['elastic-billing', 'Error: 403 organization.invalid_access'],
      ['IP-set cap', '3 blocks were not applied because an IP set was full'],
      ['new-block budget', '31 offenders were not blocked because the new-block budget was spent'],
      ['costs', `${totalLabel(monthly.costs!.notes)}: the cost total lacks figures from this run`],
    ]);
    expect(email.text.indexOf('NEEDS ATTENTION')).toBeLessThan(email.text.indexOf('REALTIME WAF GUARD'));
  });

  test('a quiet day says nothing needs attention; hostile values are escaped in the banner and tiles', () => {
    const day = dailyModel();
    const quiet = renderEmail({ ...day, problems: [], guard: { ...day.guard!, budgetExceeded: 0, totals: { ...day.guard!.totals, notApplied: 0 } } });
    expect(quiet.html).toContain('Nothing needs attention.');
    const hostile = dailyModel();
    const top = { ...hostile.guard!.topOffenders[0], ip: HOSTILE, blocks: 99 };
    const email = renderEmail({ ...hostile, guard: { ...hostile.guard!, topOffenders: [top, ...hostile.guard!.topOffenders] } });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</div>');
  });
});

describe('repeat offenders', () => {
  test('only those the top offenders do not show get a table', () => {
    const model = dailyModel();
    const email = renderEmail(model);
    expect(model.guard!.repeatOffenders.length).toBe(2);
    expect(email.text).toContain('All 2 repeat offenders (blocked more than once) are in the top offenders above.');
    const hidden = { ip: '192.0.2.200', rules: ['api'], blocks: 2, blockedMs: 60_000, peakObserved: 1 };
    const other = renderEmail({ ...model, guard: { ...model.guard!, repeatOffenders: [...model.guard!.repeatOffenders, hidden] } });
    const section = other.text.slice(other.text.indexOf('Repeat offenders not in the top offenders above'));
    expect(section.split('\n').slice(0, 3).join('\n')).toMatch(/Client.*\n +192\.0\.2\.200 +api +2/);
    expect(section.split('\n\n')[0]).not.toContain('198.51.100.7');
  });
});

describe('a run compares with the figures the previous run stored', () => {
  const rows: HistoryRecord[] = [
    ...historyRows(),
    ...[1, 2, 3].map((i) => ({ ...historyRows()[1], ip: `192.0.2.${i}`, at: Date.parse('2026-11-29T12:00:00Z') + i })),
  ];
  function memory(): ReportOutputs & { objects: Map<string, Buffer> } {
    const objects = new Map<string, Buffer>();
    return {
      objects,
      putObject: async (key, body) => { objects.set(key, Buffer.from(body)); return key; },
      getObject: async (key) => objects.get(key),
      sendEmail: async () => 'id',
    };
  }
  const run = (outputs: ReportOutputs, period: ReportPeriod) => runReport({
    config: { reportName: 'r', timeZone: 'Europe/Berlin', sender: 'a@example.com', recipients: ['b@example.com'], prefix: '', guard: { historyTable: 't', historyIndex: 'i', guardName: 'g' } },
    period,
    now: new Date(period.end.getTime() + 3_600_000),
    // Answers from the period asked for.
    sources: { readHistory: async (p) => rows.filter((r) => r.at >= p.start.getTime() && r.at < p.end.getTime()) },
    outputs,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { add: () => undefined },
  });

  test('the second day shows the change against the first; the first has no comparison', async () => {
    const outputs = memory();
    const first = await run(outputs, dayPeriod('2026-11-29', 'Europe/Berlin'));
    expect(headlineLines(first.email.text).get('Blocks')!.change).toBe('no comparison: previous period unavailable');
    expect(JSON.parse(outputs.objects.get('reports/daily/2026-11-29/figures.json')!.toString())).toEqual({ kind: 'daily', period: '2026-11-29', blocks: 4, clientsBlocked: 4 });
    const second = await run(outputs, dayPeriod('2026-11-30', 'Europe/Berlin'));
    const head = headlineLines(second.email.text);
    expect(head.get('Blocks')).toEqual({ value: '3', change: '-1 (-25.0%) vs 2026-11-29' });
    expect(head.get('Clients blocked')).toEqual({ value: '2', change: '-2 (-50.0%) vs 2026-11-29' });
  });

  test('a month compared with an estimated one says so; once that month is final, the label goes', async () => {
    const outputs = memory();
    // Cost Explorer's answer for the month asked for.
    const ledger = new Map<string, { amount: number; estimated: boolean }>([['2026-09', { amount: 200, estimated: true }], ['2026-10', { amount: 150, estimated: false }]]);
    const monthly = (period: ReportPeriod) => runReport({
      config: { reportName: 'r', timeZone: 'Europe/Berlin', sender: 'a@example.com', recipients: ['b@example.com'], prefix: '' },
      period,
      now: new Date(period.end.getTime() + 3_600_000),
      sources: {
        readAwsCosts: async (p) => {
          const answer = ledger.get(p.label)!;
          return { lines: [{ source: 'AWS', item: 'Amazon CloudFront', amount: answer.amount }], estimated: answer.estimated };
        },
      },
      outputs,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { add: () => undefined },
    });
    const september = await monthly(monthPeriod('2026-09', 'Europe/Berlin'));
    expect(headlineLines(september.email.text).get('Cost (estimated)')!.value).toBe('$200.00');
    expect(JSON.parse(outputs.objects.get('reports/monthly/2026-09/figures.json')!.toString())).toEqual({ kind: 'monthly', period: '2026-09', costCents: 20_000, costEstimated: true });
    const october = await monthly(monthPeriod('2026-10', 'Europe/Berlin'));
    expect(headlineLines(october.email.text).get('Cost')).toEqual({ value: '$150.00', change: '-$50.00 (-25.0%) vs 2026-09, estimated' });
    expect(october.email.html).toContain('-$50.00 (-25.0%) vs 2026-09, estimated');
    expect(JSON.parse(outputs.objects.get('reports/monthly/2026-10/figures.json')!.toString())).not.toHaveProperty('costEstimated');
    // September closed at $180: its re-run records the final figure, and October compares with it unlabelled.
    ledger.set('2026-09', { amount: 180, estimated: false });
    await monthly(monthPeriod('2026-09', 'Europe/Berlin'));
    const again = await monthly(monthPeriod('2026-10', 'Europe/Berlin'));
    expect(headlineLines(again.email.text).get('Cost')).toEqual({ value: '$150.00', change: '-$30.00 (-16.7%) vs 2026-09' });
  });
});
