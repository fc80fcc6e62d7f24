import { Doc, FakeElastic } from './fake-elastic';
import { reportSources } from '../../src/reporting/runtime/aws-adapters';
import { ReportConfig } from '../../src/reporting/runtime/config';
import { MAX_CUSTOMERS } from '../../src/reporting/runtime/elastic-report';
import { dayPeriod } from '../../src/reporting/runtime/period';
import { RenderedEmail } from '../../src/reporting/runtime/render';
import { runReport } from '../../src/reporting/runtime/report-run';
import { DEFAULT_FIELDS } from '../../src/shared/runtime/elastic/connection';

/**
 * Nothing is cut without saying so: every customer is paged through (up to the documented limit, then "N of about M"),
 * every table the email shortens has its CSV, and one failed search does not cost the others.
 */

const ES_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:waf/es-AbCdEf';
const secrets = { send: async () => ({ SecretString: JSON.stringify({ apiKey: 'es-key' }) }) } as never;

function config(): ReportConfig {
  return {
    reportName: 'prod',
    timeZone: 'UTC',
    sender: 'reports@example.com',
    recipients: ['ops@example.com'],
    prefix: '',
    elastic: {
      endpoint: 'https://es.example.com:9243',
      indexPattern: 'waf-*',
      fields: DEFAULT_FIELDS,
      credentials: { kind: 'apiKey', secretArn: ES_SECRET },
      apdexTMs: 30,
      requestTimeoutMs: 5000,
      topClientIps: 25,
    },
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

async function run(elastic: FakeElastic, period = dayPeriod('2026-11-30', 'UTC')) {
  const out = memoryOutputs();
  const cfg = config();
  const result = await runReport({
    config: cfg,
    period,
    now: new Date('2026-12-01T01:00:00Z'),
    sources: reportSources(cfg, { secrets, elasticConnection: elastic.connection() as never }),
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
