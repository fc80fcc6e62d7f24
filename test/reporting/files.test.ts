import { Workbook } from 'exceljs';
import { HOSTILE, historyRows } from './fixtures';
import { blocksCsv, customerTrafficCsv, safeFileName } from '../../src/reporting/runtime/csv';
import { mapTraffic } from '../../src/reporting/runtime/elastic-report';
import { monthlyCostWorkbook, updateYearWorkbook } from '../../src/reporting/runtime/workbook';

describe('CSV files (RFC 4180)', () => {
  test('customer traffic: BOM, hosts sorted by requests, MB, text quoted with quotes doubled, numbers bare, CRLF', () => {
    const [traffic] = mapTraffic({
      aggregations: {
        customers: {
          buckets: [{
            key: 'acme',
            doc_count: 10,
            hosts: {
              buckets: [
                { key: 'small.example.com', doc_count: 1, request_bytes: { value: 1000 }, response_bytes: { value: 2_000_000 } },
                { key: 'a,"quoted"\nhost', doc_count: 9, request_bytes: { value: 1_500_000 }, response_bytes: { value: 123_456_789 } },
              ],
            },
          }],
        },
      },
    });
    const csv = customerTrafficCsv(traffic);
    expect(csv).toBe(`\uFEFF${[
      '"hostname","requests","request_mb","response_mb"',
      '"a,""quoted""\nhost",9,1.5,123.457',
      '"small.example.com",1,0.001,2',
      '',
    ].join('\r\n')}`);
  });

  test('blocks: one row per event, ISO times, hostile values quoted as data', () => {
    const csv = blocksCsv(historyRows());
    const header = '"time","event","client","rule","host","action","observed","threshold","window_seconds","blocked_at","blocked_until"';
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(`\uFEFF${header}`);
    expect(lines[1]).toBe('"2026-11-29T22:59:59.000Z","BLOCKED","198.51.100.1","login","www.example.com","BLOCK",150,100,60,"2026-11-29T22:59:59.000Z","2026-11-29T23:14:59.000Z"');
    expect(csv).toContain('"<script>alert(""x"")</script>&\'"');
    expect(csv).toContain('"2001:db8:1:2::/64"');
    expect(blocksCsv([])).toBe(`\uFEFF${header}\r\n`);
  });

  test('customer names become safe, distinct file names', () => {
    expect(safeFileName('acme-1')).toBe('acme-1');
    expect(safeFileName('a/b')).toMatch(/^a_b-[0-9a-f]{8}$/);
    expect(safeFileName('a/b')).not.toBe(safeFileName('a_b'));
    expect(safeFileName('../etc')).not.toContain('/');
    expect(safeFileName(HOSTILE)).not.toMatch(/[<>"'/&]/);
  });
});

async function read(buffer: Buffer): Promise<Workbook> {
  const wb = new Workbook();
  await wb.xlsx.load(buffer as unknown as ArrayBuffer);
  return wb;
}

describe('cost workbooks', () => {
  const november = {
    month: '2026-11',
    aws: [
      { source: 'AWS' as const, item: 'Amazon CloudFront', amount: 1234.567 },
      { source: 'AWS' as const, item: 'AWS WAF', amount: 100 },
    ],
    elastic: [{ source: 'Elastic Cloud' as const, item: 'hosted-deployment', amount: 512.25 }],
  };

  test('monthly workbook: lines, subtotal and total formulas with their results', async () => {
    const ws = (await read(await monthlyCostWorkbook(november))).getWorksheet('Costs 2026-11')!;
    expect(ws.getRow(1).values).toEqual([undefined, 'Source', 'Item', 'Amount (USD)']);
    expect(ws.getCell('B2').value).toBe('Amazon CloudFront');
    expect(ws.getCell('C2').value).toBe(1234.57);
    expect(ws.getCell('C4').value).toEqual({ formula: 'SUM(C2:C3)', result: 1334.57 });
    expect(ws.getCell('C6').value).toEqual({ formula: 'SUM(C5:C5)', result: 512.25 });
    expect(ws.getCell('A7').value).toBe('Total');
    expect(ws.getCell('C7').value).toEqual({ formula: 'C4+C6', result: 1846.82 });
  });

  test('yearly workbook: created, then updated in place; the same month twice gives the same figures', async () => {
    const first = await updateYearWorkbook(undefined, november);
    const december = { month: '2026-12', aws: [{ source: 'AWS' as const, item: 'Total', amount: 10 }] };
    const second = await updateYearWorkbook(first, december);
    const again = await updateYearWorkbook(second, december);
    const ws = (await read(again)).getWorksheet('Total 2026')!;
    expect(ws.getCell('A12').value).toBe('2026-11');
    expect(ws.getCell('B12').value).toBe(1334.57);
    expect(ws.getCell('C12').value).toBe(512.25);
    expect(ws.getCell('D12').value).toEqual({ formula: 'B12+C12', result: 1846.82 });
    expect(ws.getCell('B13').value).toBe(10);
    // Elastic Cloud unknown for December: empty, not 0.
    expect(ws.getCell('C13').value).toBeNull();
    expect(ws.getCell('B14').value).toEqual({ formula: 'SUM(B2:B13)', result: 1344.57 });
    expect(ws.getCell('D14').value).toEqual({ formula: 'SUM(D2:D13)', result: 1856.82 });
    const once = (await read(second)).getWorksheet('Total 2026')!;
    for (const cell of ['B13', 'C13', 'D13', 'B14', 'C14', 'D14']) expect(ws.getCell(cell).value).toEqual(once.getCell(cell).value);
    expect((await read(again)).worksheets).toHaveLength(1);
  });
});
