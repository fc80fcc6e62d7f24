import { readCsv } from './csv-reader';
import { Doc, FakeElastic, elasticSourceConfig } from './fake-elastic';
import { reportSources } from '../../src/reporting/runtime/aws-adapters';
import { ReportConfig } from '../../src/reporting/runtime/config';
import { MAX_CUSTOMERS, pageCustomers, reportSearches } from '../../src/reporting/runtime/elastic-report';
import { HistoryRecord } from '../../src/reporting/runtime/guard-summary';
import { dayPeriod, monthPeriod } from '../../src/reporting/runtime/period';
import { RenderedEmail, renderEmail } from '../../src/reporting/runtime/render';
import { runReport } from '../../src/reporting/runtime/report-run';

/**
 * Nothing is cut without saying so: every customer is paged through (up to the documented limit, then "N of about M"),
 * every table the email shortens has its CSV, and one failed search does not cost the others.
 */

const secrets = { send: async () => ({ SecretString: JSON.stringify({ apiKey: 'es-key' }) }) } as never;

function config(): ReportConfig {
  return {
    reportName: 'prod',
    timeZone: 'UTC',
    sender: 'reports@example.com',
    recipients: ['ops@example.com'],
    prefix: '',
    elastic: elasticSourceConfig(),
  };
}

/** One request per customer on 2026-11-30, plus one without a customer field. */
function customerDocs(customers: number): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < customers; i++) {
    docs.push({
      '@timestamp': `2026-11-30T${String(i % 24).padStart(2, '0')}:00:00Z`,
      'waf': { latency_ms: 10, customer: `c${String(i).padStart(6, '0')}` },
      'url': { domain: `h${i}.example` },
      'client': { ip: '192.0.2.1' },
      'http': { request: { bytes: 100 }, response: { bytes: 1000, status_code: 200 } },
    });
  }
  docs.push({ '@timestamp': '2026-11-30T12:00:00Z', 'waf': { latency_ms: 10 }, 'url': { domain: 'anon.example' }, 'client': { ip: '192.0.2.2' }, 'http': { response: { status_code: 200 } } });
  return docs;
}

function memoryOutputs() {
  const objects = new Map<string, string>();
  const emails: RenderedEmail[] = [];
  return {
    objects,
    emails,
    outputs: {
      putObject: async (key: string, body: Buffer | string) => {
        objects.set(key, body.toString());
        return key;
      },
      getObject: async (key: string) => (objects.has(key) ? Buffer.from(objects.get(key)!) : undefined),
      sendEmail: async (email: RenderedEmail) => {
        emails.push(email);
        return 'm-1';
      },
    },
  };
}

async function run(elastic: FakeElastic, period = dayPeriod('2026-11-30', 'UTC'), history?: HistoryRecord[], cfg = config()) {
  const out = memoryOutputs();
  const result = await runReport({
    config: cfg,
    period,
    now: new Date('2026-12-01T01:00:00Z'),
    sources: {
      ...reportSources(cfg, { secrets, elasticConnection: elastic.connection() as never }),
      ...(history ? { readHistory: async () => history } : {}),
    },
    outputs: out.outputs,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { add: () => undefined },
  });
  return { ...out, result };
}

const customerCsvs = (objects: Map<string, string>) => [...objects.keys()].filter((k) => k.includes('/customers/'));

describe('customers are paged, not cut at 500', () => {
  test('1,234 customers and one without a name: every one has its traffic CSV and is in the figures', async () => {
    const elastic = new FakeElastic(customerDocs(1_234));
    const { objects, result } = await run(elastic);
    expect(result.problems).toEqual([]);
    const csvs = customerCsvs(objects);
    expect(csvs).toHaveLength(1_235);
    expect(csvs).toContain('reports/daily/2026-11-30/customers/c001233.csv');
    expect(csvs.filter((k) => /\/customers\/_none_-[0-9a-f]{8}\.csv$/.test(k))).toHaveLength(1);
    expect(objects.get('reports/daily/2026-11-30/customers/c000777.csv')!.split('\r\n')[1]).toBe('"h777.example",1,0,0.001');
    // Every page asked for the customers after the last one it had.
    const pages = elastic.searches.filter((s) => s.body.aggs?.customers?.composite && 'apdex_satisfied' in s.body.aggs.customers.aggs);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0].body.aggs.customers.composite.after).toBeUndefined();
    expect(pages[1].body.aggs.customers.composite.after).toBeDefined();
    expect(result.email.text).not.toMatch(/of about/);
  });

  test(`beyond ${MAX_CUSTOMERS} customers the email says "N of about M" for the figures and the CSVs`, async () => {
    const elastic = new FakeElastic(customerDocs(MAX_CUSTOMERS + 10));
    const { objects, result } = await run(elastic);
    expect(customerCsvs(objects)).toHaveLength(MAX_CUSTOMERS);
    const shown = MAX_CUSTOMERS.toLocaleString('en-US');
    const total = (MAX_CUSTOMERS + 11).toLocaleString('en-US');
    for (const part of [result.email.text, result.email.html]) {
      expect(part).toContain(`Per-customer figures cover ${shown} of about ${total} customers`);
      expect(part).toContain(`Per-customer traffic CSVs cover ${shown} of about ${total} customers`);
    }
  });
});

describe('beyond the limit, the customers kept are the largest, not the first by name', () => {
  /** `requests` documents of a customer on 2026-11-30, all on one host. */
  const traffic = (customer: string, requests: number): Doc[] => Array.from({ length: requests }, () => ({
    '@timestamp': '2026-11-30T08:00:00Z', 'waf': { latency_ms: 5, customer }, 'url': { domain: `www.${customer}.example` }, 'client': { ip: '192.0.2.9' }, 'http': { response: { status_code: 200 } },
  }));

  test(`${MAX_CUSTOMERS + 11} customers, the busiest named last: they are in the figures and have their CSVs, "N of about M" stays right`, async () => {
    // 2,011 customers with one request (c000000... and the unnamed one), then five named zz-* with 3 to 7.
    const docs = [...customerDocs(MAX_CUSTOMERS + 10), ...[3, 4, 5, 6, 7].flatMap((n, i) => traffic(`zz-${i}`, n))];
    const { objects, result } = await run(new FakeElastic(docs));
    expect(result.problems).toEqual([]);
    const base = 'reports/daily/2026-11-30/';
    const customers = readCsv(objects.get(`${base}customers.csv`)!.replace(/^\uFEFF/, '')).slice(1).filter((r) => r.length > 1);
    expect(customers).toHaveLength(MAX_CUSTOMERS);
    expect(customers.slice(0, 5).map((r) => [r[0], r[1]])).toEqual([['zz-4', '7'], ['zz-3', '6'], ['zz-2', '5'], ['zz-1', '4'], ['zz-0', '3']]);
    // Among the one-request customers, the first by name fill the rest: the unnamed one and c000000 to c001993.
    const names = new Set(customers.map((r) => r[0]));
    expect(names.has('(none)')).toBe(true);
    expect(names.has('c001993')).toBe(true);
    expect(names.has('c001994')).toBe(false);
    for (let i = 0; i < 5; i++) expect(objects.has(`${base}customers/zz-${i}.csv`)).toBe(true);
    expect(objects.has(`${base}customers/c001994.csv`)).toBe(false);
    expect(customerCsvs(objects)).toHaveLength(MAX_CUSTOMERS);
    const total = (MAX_CUSTOMERS + 16).toLocaleString('en-US');
    for (const part of [result.email.text, result.email.html]) {
      expect(part).toContain(`Per-customer figures cover 2,000 of about ${total} customers (the 2,000 with the most requests; a report holds at most 2,000).`);
      expect(part).toContain(`Per-customer traffic CSVs cover 2,000 of about ${total} customers (the 2,000 with the most requests; a report holds at most 2,000).`);
    }
    // The request total still counts every document.
    expect(result.email.text).toContain(`Requests: ${(MAX_CUSTOMERS + 11 + 25).toLocaleString('en-US')}`);
  });

  test('a page of the chosen customers times out: those before it are kept, and the email says which they are', async () => {
    const docs = [...customerDocs(MAX_CUSTOMERS + 10), ...[3, 4, 5, 6, 7].flatMap((n, i) => traffic(`zz-${i}`, n))];
    const elastic = new FakeElastic(docs);
    // The second page of the customers search restricted to the chosen ones (a terms filter).
    elastic.timeOut((body) => body.aggs?.customers?.aggs?.apdex_satisfied !== undefined && body.aggs.customers.composite?.after !== undefined
      && JSON.stringify(body.query).includes('"terms"'));
    const { result } = await run(elastic);
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:customers']);
    expect(result.problems[0].message).toMatch(/timed out .*; kept 250 of the 2000 customers with the most requests of the pages before it$/);
    const total = (MAX_CUSTOMERS + 16).toLocaleString('en-US');
    for (const part of [result.email.text, result.email.html]) {
      expect(part).toContain(`Per-customer figures cover 250 of about ${total} customers (250 of the 2,000 with the most requests; the search failed after them, see the problems).`);
    }
  });

  test('the email says among how many customers the largest were chosen when the ranking stopped at its bound', () => {
    const period = dayPeriod('2026-11-30', 'UTC');
    const customersCut = { shown: 2_000, ofAbout: 300_000, largest: 2_000, rankedAmong: 250_000 };
    const email = renderEmail({
      reportName: 'prod',
      period,
      generatedAt: new Date('2026-12-01T04:00:00Z'),
      problems: [],
      files: [],
      elastic: { customers: [], customersCut, trafficFrom: period.start, trafficTo: period.end },
    });
    expect(email.text).toContain('Per-customer figures cover 2,000 of about 300,000 customers (the 2,000 with the most requests among the first 250,000 by name; a report holds at most 2,000).');
  });

  test('the ranking pass is bounded: the largest among the customers it reached, and the cut says among how many', async () => {
    const docs = [...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].flatMap((name, i) => traffic(name, [1, 9, 2, 8, 3, 7, 4, 6][i]))];
    const elastic = new FakeElastic(docs);
    const cfg = config();
    const sources = reportSources(cfg, { secrets, elasticConnection: elastic.connection() as never });
    const search = reportSearches(cfg.elastic!, dayPeriod('2026-11-30', 'UTC')).find((s) => s.name === 'customers')!;
    // At most 2 customers, ranked 3 a page for 2 pages: a to f are ranked, g and h are not reached.
    const paged = await pageCustomers(search.body, (body) => sources.elasticSearch!('customers', body), { max: 2, rankPage: 3, rankPages: 2 });
    const kept = (paged.response as any).aggregations.customers.buckets.map((b: any) => [b.key.customer, b.doc_count]);
    expect(kept).toEqual([['b', 9], ['d', 8]]);
    expect(paged.cut).toEqual({ shown: 2, ofAbout: 8, largest: 2, rankedAmong: 6 });
    // Every answer counts the whole period: the total is not the kept customers'.
    expect((paged.response as any).hits.total.value).toBe(40);
  });
});

/** 30 clients blocked in October 2026 by 30 rules, 27 of them twice, each decision in its own minute. */
function octoberHistory(): HistoryRecord[] {
  const rows: HistoryRecord[] = [];
  for (let i = 0; i < 30; i++) {
    const at = Date.parse('2026-10-05T00:00:00Z') + i * 3_600_000;
    const row = { ip: `198.51.100.${i}`, ruleId: `rule-${i}`, host: 'www.example.com', action: 'BLOCK', observed: 100 + i, threshold: 100, windowSeconds: 60 };
    rows.push({ ...row, at, event: 'BLOCKED', blockedAt: at, blockedUntil: at + 600_000 });
    if (i < 27) rows.push({ ...row, at: at + 60_000, event: 'RENEWED', blockedAt: at + 60_000, blockedUntil: at + 660_000 });
  }
  return rows;
}

/** 30 customers with two hosts each, requests on every day of October 2026, from 40 client IPs. */
function octoberDocs(): Doc[] {
  const docs: Doc[] = [];
  for (let day = 1; day <= 31; day++) {
    for (let c = 0; c < 30; c++) {
      docs.push({
        '@timestamp': `2026-10-${String(day).padStart(2, '0')}T12:00:00Z`,
        'waf': { latency_ms: 10 + c, customer: `cust-${c}` },
        'url': { domain: `${day % 2 ? 'www' : 'api'}.cust-${c}.example` },
        'client': { ip: `203.0.113.${(day * 30 + c) % 40}` },
        'http': { request: { bytes: 100 }, response: { bytes: 1000, status_code: [200, 404, 500][c % 3] } },
      });
    }
  }
  return docs;
}

test('a customer with more than 1,000 hosts: the email says how many requests the host tables and CSVs leave out', async () => {
  const docs = customerDocs(3);
  // c000001 gets 1,004 more hosts, the first 1,000 of them twice (busier), the last 4 once.
  for (let i = 0; i < 1_004; i++) {
    for (let n = 0; n < (i < 1_000 ? 2 : 1); n++) {
      docs.push({ '@timestamp': '2026-11-30T10:00:00Z', 'waf': { latency_ms: 5, customer: 'c000001' }, 'url': { domain: `x${i}.example` }, 'http': { response: { status_code: 200 } } });
    }
  }
  const { objects, result } = await run(new FakeElastic(docs));
  const sentence = (what: string) => `1 of 4 customers have more than 1,000 hosts: ${what} list their 1,000 busiest, and 5 requests on the others are in the totals only (c000001).`;
  for (const part of [result.email.text, result.email.html]) {
    expect(part).toContain(sentence('the host tables'));
    expect(part).toContain(sentence('the traffic CSVs'));
  }
  expect(readCsv(objects.get('reports/daily/2026-11-30/customers/c000001.csv')!.replace(/^\uFEFF/, '')).filter((r) => r.length > 1)).toHaveLength(1 + 1_000);
});

describe('status codes and client IPs say "N of about M" where their lists stop', () => {
  const csvRows = (objects: Map<string, string>, key: string) => readCsv(objects.get(key)!.replace(/^\uFEFF/, '')).slice(1).filter((r) => r.length > 1);

  test('a host with 60 status codes: 50 of about 60, the rest in an "(other codes)" row, each list adds up to its requests', async () => {
    const docs = customerDocs(3);
    // c000001's odd.example answers with 60 codes: the first 50 three times each, the other 10 once.
    for (let code = 0; code < 60; code++) {
      for (let n = 0; n < (code < 50 ? 3 : 1); n++) {
        docs.push({ '@timestamp': '2026-11-30T10:00:00Z', 'waf': { latency_ms: 5, customer: 'c000001' }, 'url': { domain: 'odd.example' }, 'http': { response: { status_code: 520 + code } } });
      }
    }
    const { objects, result } = await run(new FakeElastic(docs));
    expect(result.problems).toEqual([]);
    // The customer's own list has 200 (its other host) as well: 61 codes, 11 requests in the codes not listed.
    const note = '2 status-code lists show only the 50 most frequent codes (c000001 (all hosts): 50 of about 61; c000001 odd.example: 50 of about 60); the requests with the other codes are in an "(other codes)" row, so each list adds up to its requests.';
    expect(result.email.text).toContain(note);
    expect(result.email.html).toContain(note.replace(/"/g, '&quot;'));
    const rows = csvRows(objects, 'reports/daily/2026-11-30/status-codes.csv');
    const list = (host: string) => rows.filter((r) => r[0] === 'c000001' && r[1] === host);
    expect(list('odd.example')).toHaveLength(51);
    expect(list('odd.example').find((r) => r[2] === '(other codes)')?.[3]).toBe('10');
    expect(list('odd.example').reduce((sum, r) => sum + Number(r[3]), 0)).toBe(160);
    expect(list('(all hosts)').find((r) => r[2] === '(other codes)')?.[3]).toBe('11');
    expect(list('(all hosts)').reduce((sum, r) => sum + Number(r[3]), 0)).toBe(161);
    expect(list('(all hosts)').reduce((sum, r) => sum + Number(r[4]), 0)).toBeCloseTo(1, 12);
    // Lists that fit have no such row.
    expect(rows.filter((r) => r[0] !== 'c000001' && r[2] === '(other codes)')).toEqual([]);
  });

  test('40 client IPs and the top 25 listed: "Top 25 of about 40 client IPs" with the others\' requests', async () => {
    // Client i sends i + 1 requests: the 15 not listed send 1 + 2 + ... + 15 = 120.
    const docs: Doc[] = [];
    for (let i = 0; i < 40; i++) {
      for (let n = 0; n <= i; n++) docs.push({ '@timestamp': '2026-11-30T09:00:00Z', 'waf': { latency_ms: 5, customer: 'acme' }, 'url': { domain: 'www.acme.example' }, 'client': { ip: `198.51.100.${i}` }, 'http': { response: { status_code: 200 } } });
    }
    const { result } = await run(new FakeElastic(docs));
    for (const part of [result.email.text, result.email.html]) expect(part).toContain('Top 25 of about 40 client IPs (the others sent 120 requests)');
    expect(result.email.text).toMatch(/Client IP\s+Requests\n\s+198\.51\.100\.39\s+40\n/);
  });

  test('every client IP listed: the caption says all of them, no estimate', async () => {
    const { result } = await run(new FakeElastic(customerDocs(3)));
    expect(result.email.text).toContain('All 2 client IPs');
    expect(result.email.text).not.toMatch(/client IPs? \(the others/);
  });
});

describe('every table the email shortens has a CSV, named in an "N of M" pointer', () => {
  test('a 31-day month: all days in both parts, each cut table points to its CSV holding all rows', async () => {
    const cfg = { ...config(), elastic: { ...config().elastic!, topClientIps: 40 } };
    const { objects, result } = await run(new FakeElastic(octoberDocs()), monthPeriod('2026-10', 'UTC'), octoberHistory(), cfg);
    expect(result.problems).toEqual([]);
    const { text, html } = result.email;
    for (let day = 1; day <= 31; day++) expect(text).toContain(`2026-10-${String(day).padStart(2, '0')}`);
    expect(text).not.toMatch(/more rows/);
    expect(html).not.toMatch(/more rows/);

    const pointers = [...text.matchAll(/Showing (\d+) of (\d+) rows; all of them are in (\S+)\./g)]
      .map(([, shown, total, file]) => ({ shown: Number(shown), total: Number(total), file }));
    // The same sentences in the HTML part.
    expect([...html.matchAll(/Showing (\d+) of (\d+) rows; all of them are in (\S+)\./g)].map((m) => m[0])).toEqual(
      [...text.matchAll(/Showing (\d+) of (\d+) rows; all of them are in (\S+)\./g)].map((m) => m[0]));
    const base = 'reports/monthly/2026-10/';
    expect(pointers).toEqual([
      { shown: 25, total: 30, file: `${base}rules.csv` },
      { shown: 25, total: 30, file: `${base}offenders.csv` },
      // The repeat offenders the top offenders do not show fit in the email: no pointer for them.
      { shown: 5, total: 57, file: `${base}busiest-minutes.csv` },
      { shown: 25, total: 30, file: `${base}customers.csv` },
      // Per customer: 1 status for all hosts and 1 for each of 2 hosts.
      { shown: 25, total: 90, file: `${base}status-codes.csv` },
      { shown: 25, total: 60, file: `${base}hosts.csv` },
      { shown: 25, total: 40, file: `${base}client-ips.csv` },
    ]);
    for (const p of pointers) {
      const rows = readCsv(objects.get(p.file)!.replace(/^\uFEFF/, '')).filter((r) => r.length > 1);
      const dataRows = rows.slice(1);
      if (p.file.endsWith('offenders.csv') && p.total === 27) expect(dataRows.filter((r) => Number(r[2]) > 1)).toHaveLength(27);
      else expect(dataRows).toHaveLength(p.total);
    }
    // Each table's rows add up: status-code counts per host to the host's requests.
    const hosts = readCsv(objects.get(`${base}hosts.csv`)!.replace(/^\uFEFF/, '')).slice(1).filter((r) => r.length > 1);
    expect(hosts.reduce((sum, r) => sum + Number(r[2]), 0)).toBe(31 * 30);
    expect(result.files).toEqual(expect.arrayContaining(pointers.map((p) => p.file)));
  });
});

describe('the email stays small with thousands of customers', () => {
  test('2,000 customers: the Files list names the report files and ten customer CSVs, and counts the rest under their folder', async () => {
    const elastic = new FakeElastic(customerDocs(1_999));
    const { objects, result } = await run(elastic);
    expect(result.problems).toEqual([]);
    expect(customerCsvs(objects)).toHaveLength(2_000);
    const html = objects.get('reports/daily/2026-11-30/report.html')!;
    const text = objects.get('reports/daily/2026-11-30/report.txt')!;
    for (const part of [html, text, result.email.html, result.email.text]) {
      expect(part).toContain('and 1,990 more customer CSVs under reports/daily/2026-11-30/customers/');
      expect(part.match(/reports\/daily\/2026-11-30\/customers\/[^<\s/]+\.csv/g)).toHaveLength(10);
      for (const file of ['report.html', 'figures.json', 'customers.csv', 'hosts.csv']) expect(part).toContain(`reports/daily/2026-11-30/${file}`);
    }
    // Before, all 2,000 keys made report.html 213 KB and the text part 2,163 lines. Gmail clips a message above 102 KB.
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
    expect(text.split('\n').length).toBeLessThan(250);
  });
});

describe('one failed search does not cost the others', () => {
  test('the timeline search times out: the client-IP and per-customer searches still run, the problem names the timeline', async () => {
    const elastic = new FakeElastic(customerDocs(30));
    elastic.timeOut((body) => body.aggs?.timeline !== undefined);
    const { objects, result } = await run(elastic);
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:timeline']);
    expect(result.problems[0].message).toMatch(/^TimeoutError: search "timeline" to https:\/\/es\.example\.com:9243 timed out/);
    // Every search was sent: customers, timeline, client IPs, traffic.
    expect(elastic.searches.map((s) => Object.keys(s.body.aggs).filter((k) => !k.endsWith('_count')))).toEqual([['customers'], ['timeline'], ['client_ips'], ['customers']]);
    expect(customerCsvs(objects)).toHaveLength(31);
    expect(result.email.text).toMatch(/Client IP\s+Requests\n\s+192\.0\.2\.1\s+30/);
    expect(result.email.text).toMatch(/NEEDS ATTENTION\n\s+elastic:timeline: TimeoutError/);
    expect(result.email.html).toContain('elastic:timeline');
  });

  test('a page of customers times out: the customers before it are kept and the email says "N of about M"', async () => {
    const elastic = new FakeElastic(customerDocs(1_234));
    // The third page of the customers search (after c000498): the first two pages hold the unnamed customer and 499 others.
    elastic.timeOut((body) => body.aggs?.customers?.aggs?.apdex_satisfied !== undefined
      && typeof body.aggs.customers.composite?.after?.customer === 'string' && body.aggs.customers.composite.after.customer > 'c000400');
    const { objects, result } = await run(elastic);
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:customers']);
    expect(result.problems[0].message).toMatch(/timed out .*; kept the first 500 customers \(by name\) of the pages before it$/);
    for (const part of [result.email.text, result.email.html]) {
      expect(part).toContain('Per-customer figures cover 500 of about 1,235 customers (the first 500 by name; the search failed after them, see the problems).');
    }
    // The traffic search is not affected: every customer's CSV.
    expect(customerCsvs(objects)).toHaveLength(1_235);
  });

  test('a later page of customers fails: the request count of the first page (hits.total) stays in the headline and figures.json', async () => {
    const elastic = new FakeElastic(customerDocs(1_234));
    elastic.timeOut((body) => body.aggs?.customers?.aggs?.apdex_satisfied !== undefined
      && typeof body.aggs.customers.composite?.after?.customer === 'string' && body.aggs.customers.composite.after.customer > 'c000400');
    const { objects, result } = await run(elastic);
    expect(result.problems.map((p) => p.source)).toEqual(['elastic:customers']);
    // Every document is a request of the day: the count is all of them, though only 500 customers are listed.
    const documents = elastic.docs.length;
    expect(JSON.parse(objects.get('reports/daily/2026-11-30/figures.json')!).requests).toBe(documents);
    expect(result.email.text).toMatch(new RegExp(`^Requests: ${documents.toLocaleString('en-US')} `, 'm'));
    expect(result.email.text).not.toContain('Requests (partial)');
    expect(result.email.subject).toContain(`- ${documents.toLocaleString('en-US')} requests (1 problem)`);
  });

  test('an unreachable cluster is one problem that names the searches not run', async () => {
    const elastic = new FakeElastic(customerDocs(3));
    elastic.goDown();
    const { result } = await run(elastic);
    expect(result.problems).toEqual([{ source: 'elastic:customers', message: expect.stringMatching(/cannot reach .*; not run: timeline, clientIps, traffic$/) }]);
  });
});
