import * as fc from 'fast-check';
import { cached, evaluate, readXlsx, XlsxSheet } from './xlsx-reader';
import { CostLine } from '../../src/reporting/runtime/costs';
import { ROUNDING_ITEM, toCents } from '../../src/reporting/runtime/money';
import { monthPeriod } from '../../src/reporting/runtime/period';
import { renderEmail } from '../../src/reporting/runtime/render';
import { MonthCosts, monthlyCostWorkbook, updateYearWorkbook } from '../../src/reporting/runtime/workbook';

/**
 * One set of cost lines, four places it is shown: the email, the month's workbook (cached results, and what its
 * formulas compute when a spreadsheet recalculates on open) and the yearly workbook. Workbooks are read back from the
 * file's XML, not through exceljs.
 */

const november = monthPeriod('2026-11', 'UTC');

function emailTotal(costs: MonthCosts): string {
  const { text } = renderEmail({ reportName: 'test', period: november, generatedAt: new Date('2026-12-01T06:00:00Z'), costs, problems: [], files: [] });
  return /^ {2}Total: (\S+)$/m.exec(text)![1];
}

/** Rows of the month's sheet by their label in columns A and B. */
function row(sheet: XlsxSheet, source: string, item: string): number {
  for (const [address, cell] of sheet) {
    const r = /^A(\d+)$/.exec(address)?.[1];
    if (r && cell.value === source && sheet.get(`B${r}`)?.value === item) return Number(r);
  }
  throw new Error(`no row ${source} / ${item}`);
}

async function shown(costs: MonthCosts) {
  const month = readXlsx(await monthlyCostWorkbook(costs)).get(`Costs ${costs.month}`)!;
  const year = readXlsx(await updateYearWorkbook(undefined, costs)).get(`Total ${costs.month.slice(0, 4)}`)!;
  const totalRow = row(month, 'Total', costs.elastic ? 'AWS + Elastic Cloud' : 'AWS (Elastic Cloud not included)');
  const monthRow = 2 + Number(costs.month.slice(5)) - 1;
  return {
    email: emailTotal(costs),
    monthCached: cached(month, `C${totalRow}`)!,
    monthFormula: evaluate(month, `C${totalRow}`),
    awsSubtotalCached: cached(month, `C${row(month, 'AWS', 'Subtotal')}`)!,
    awsSubtotalFormula: evaluate(month, `C${row(month, 'AWS', 'Subtotal')}`),
    yearAws: cached(year, `B${monthRow}`)!,
    yearCached: cached(year, `D${monthRow}`)!,
    yearFormula: evaluate(year, `D${monthRow}`),
    yearTotalCached: cached(year, 'D14')!,
    yearTotalFormula: evaluate(year, 'D14'),
    month,
  };
}

/** Within a millionth of a cent: what a spreadsheet's floating-point SUM gives for whole cents. */
const same = (a: number, b: number) => Math.abs(a - b) < 1e-8;
const dollars = (cents: bigint) => {
  const abs = cents < 0n ? -cents : cents;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  return `${cents < 0n ? '-' : ''}$${whole}.${(abs % 100n).toString().padStart(2, '0')}`;
};

describe('cost rounding', () => {
  test('200 usage lines of $0.0042 beside $120: $120.84 in the email, cached, recalculated and in the yearly workbook', async () => {
    const usage: CostLine[] = Array.from({ length: 200 }, (_, i) => ({ source: 'AWS', item: `usage-${String(i).padStart(3, '0')}`, amount: 0.0042 }));
    const costs: MonthCosts = { month: '2026-11', aws: [{ source: 'AWS', item: 'Amazon CloudFront', amount: 120 }, ...usage] };
    const s = await shown(costs);
    expect(s.email).toBe('$120.84');
    expect(s.awsSubtotalCached).toBe(120.84);
    expect(same(s.awsSubtotalFormula, 120.84)).toBe(true);
    expect(s.monthCached).toBe(120.84);
    expect(same(s.monthFormula, 120.84)).toBe(true);
    expect(s.yearAws).toBe(120.84);
    expect(s.yearCached).toBe(120.84);
    expect(same(s.yearFormula, 120.84)).toBe(true);
    // Each usage line shows $0.00; the sub-cent amounts appear as one line, so the lines add up to what is shown.
    expect(cached(s.month, `C${row(s.month, 'AWS', 'usage-000')}`)).toBe(0);
    expect(cached(s.month, `C${row(s.month, 'AWS', ROUNDING_ITEM)}`)).toBe(0.84);
  });

  test('one rule: half away from zero on the decimal the source sent, not on its binary approximation', () => {
    expect(toCents(1.005)).toBe(101);
    expect(toCents(2.675)).toBe(268);
    expect(toCents(-1.005)).toBe(-101);
    expect(toCents(0.0042)).toBe(0);
    expect(toCents(0.005)).toBe(1);
    expect(toCents(1.23e-7)).toBe(0);
    expect(toCents(1234567.891)).toBe(123456789);
    expect(() => toCents(Number.NaN)).toThrow(/not an amount/);
  });

  /** Amounts as Cost Explorer sends them: up to 10 decimal places, credits negative. */
  const amount = fc.oneof(
    fc.bigInt({ min: -10_000_000_000n, max: 50_000_000_000n }),
    fc.bigInt({ min: 0n, max: 1_000_000_000_000_000n }),
    fc.constantFrom(42_000_000n, 50_000_000n, -50_000_000n, 150_000_000n),
  );
  const lines = (source: CostLine['source']) => fc.array(fc.tuple(fc.string({ maxLength: 8 }), amount), { maxLength: 30 })
    .map((ls) => ls.map(([item, units]) => ({ source, item, units, line: { source, item, amount: Number(units) / 1e10 } })));

  /** The model: exact sum of the amounts, rounded half away from zero to the cent. */
  const modelCents = (units: readonly bigint[]) => {
    const sum = units.reduce((a, b) => a + b, 0n);
    const abs = sum < 0n ? -sum : sum;
    const cents = abs / 100_000_000n + (2n * (abs % 100_000_000n) >= 100_000_000n ? 1n : 0n);
    return sum < 0n ? -cents : cents;
  };

  test('property: email total == month workbook cached total == its formulas recalculated == yearly workbook', async () => {
    await fc.assert(fc.asyncProperty(lines('AWS'), fc.option(lines('Elastic Cloud'), { nil: undefined }), async (aws, elastic) => {
      const costs: MonthCosts = { month: '2026-11', aws: aws.map((l) => l.line), elastic: elastic?.map((l) => l.line) };
      const awsCents = modelCents(aws.map((l) => l.units));
      const totalCents = awsCents + (elastic ? modelCents(elastic.map((l) => l.units)) : 0n);
      const total = Number(totalCents) / 100;
      const s = await shown(costs);
      expect(s.email).toBe(dollars(totalCents));
      expect(s.monthCached).toBe(total);
      expect(same(s.monthFormula, total)).toBe(true);
      expect(s.awsSubtotalCached).toBe(Number(awsCents) / 100);
      expect(same(s.awsSubtotalFormula, s.awsSubtotalCached)).toBe(true);
      expect(s.yearAws).toBe(Number(awsCents) / 100);
      expect(s.yearCached).toBe(total);
      expect(same(s.yearFormula, total)).toBe(true);
      expect(s.yearTotalCached).toBe(total);
      expect(same(s.yearTotalFormula, total)).toBe(true);
    }), { numRuns: 100 });
  });
});
