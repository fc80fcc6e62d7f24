import { Workbook, Worksheet } from 'exceljs';
import { CostNotes, subtotalLabel, totalLabel } from './cost-record';
import { CostLine } from './costs';
import { RoundedSection, centsToDollars, costTotals, toCents } from './money';

/**
 * The cost workbooks. Every sum is a formula (so a reader who corrects a figure sees the totals follow), written with
 * its computed result (so viewers that do not recalculate, and scripts, read the right numbers). Figures are rounded
 * by `money.ts`, and every cell a formula adds up holds whole cents, so the cached result is what the formula computes.
 * Text (items can be cost allocation tag values anyone with tagging rights chose) is always written as a string cell,
 * never as a formula.
 */

const MONEY = '#,##0.00';

export interface MonthCosts {
  /** `YYYY-MM`. */
  readonly month: string;
  readonly aws: readonly CostLine[];
  /** Undefined when Elastic Cloud billing is not configured, or failed with nothing recorded (`notes.elastic.missing`). */
  readonly elastic?: readonly CostLine[];
  /** Partial, estimated, kept or missing figures (see `cost-record.ts`); absent when complete and final. */
  readonly notes?: CostNotes;
}


/** `cost-reports/<year>/<YYYY-MM>.xlsx`: one line per AWS group and Elastic product, subtotals and a total. */
export async function monthlyCostWorkbook(costs: MonthCosts): Promise<Buffer> {
  const wb = new Workbook();
  wb.creator = 'cdk-waf-guard';
  wb.calcProperties.fullCalcOnLoad = true;
  const ws = wb.addWorksheet(`Costs ${costs.month}`);
  ws.columns = [
    { header: 'Source', key: 'source', width: 16 },
    { header: 'Item', key: 'item', width: 48 },
    { header: 'Amount (USD)', key: 'amount', width: 16, style: { numFmt: MONEY } },
  ];
  ws.getRow(1).font = { bold: true };
  const totals = costTotals(costs.aws, costs.elastic);
  const section = (name: string, rounded: RoundedSection, note: CostNotes['aws']) => {
    const first = ws.rowCount + 1;
    for (const l of rounded.lines) ws.addRow({ source: l.source, item: l.item, amount: centsToDollars(l.cents) });
    const last = ws.rowCount;
    const row = ws.addRow({ source: name, item: subtotalLabel(note) });
    row.font = { bold: true };
    // A missing figure stays empty rather than 0, so nobody reads it as "no costs".
    if (!note?.missing) {
      row.getCell('amount').value = rounded.lines.length > 0
        ? { formula: `SUM(C${first}:C${last})`, result: centsToDollars(rounded.subtotalCents) }
        : { formula: '0', result: 0 };
    }
    return row.number;
  };
  const awsRow = section('AWS', totals.aws, costs.notes?.aws);
  const elasticRow = totals.elastic || costs.notes?.elastic?.missing ? section('Elastic Cloud', totals.elastic ?? { lines: [], subtotalCents: 0 }, costs.notes?.elastic) : undefined;
  const total = ws.addRow({ source: totalLabel(costs.notes), item: elasticRow ? 'AWS + Elastic Cloud' : 'AWS (Elastic Cloud not included)' });
  total.font = { bold: true };
  total.getCell('amount').value = {
    formula: elasticRow ? `C${awsRow}+C${elasticRow}` : `C${awsRow}`,
    result: centsToDollars(totals.totalCents),
  };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const YEAR_SHEET = (year: string) => `Total ${year}`;
const FIRST_MONTH_ROW = 2;
const TOTAL_ROW = FIRST_MONTH_ROW + 12;

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && 'result' in value) return Number((value as { result?: unknown }).result ?? 0) || 0;
  return 0;
}

/** A cell's figure in cents: ours hold whole cents; a figure typed in by hand is rounded by the same rule. */
const centsOf = (value: unknown) => toCents(numberOf(value));

function createYearSheet(wb: Workbook, year: string): Worksheet {
  const ws = wb.addWorksheet(YEAR_SHEET(year));
  ws.columns = [
    { header: 'Month', key: 'month', width: 12 },
    { header: 'AWS (USD)', key: 'aws', width: 16, style: { numFmt: MONEY } },
    { header: 'Elastic Cloud (USD)', key: 'elastic', width: 20, style: { numFmt: MONEY } },
    { header: 'Total (USD)', key: 'total', width: 16, style: { numFmt: MONEY } },
    { header: 'Notes', key: 'notes', width: 60 },
  ];
  ws.getRow(1).font = { bold: true };
  for (let m = 1; m <= 12; m++) ws.getCell(FIRST_MONTH_ROW + m - 1, 1).value = `${year}-${String(m).padStart(2, '0')}`;
  ws.getCell(TOTAL_ROW, 1).value = 'Year';
  ws.getRow(TOTAL_ROW).font = { bold: true };
  return ws;
}

/**
 * `Total_<year>.xlsx`: one row per month. Reads the existing workbook (or starts one), writes the month's row in place,
 * so running a month twice gives the same file, and refreshes the formulas' results.
 */
export async function updateYearWorkbook(existing: Buffer | undefined, costs: MonthCosts): Promise<Buffer> {
  const year = costs.month.slice(0, 4);
  const month = Number(costs.month.slice(5, 7));
  const wb = new Workbook();
  if (existing) await wb.xlsx.load(existing as unknown as ArrayBuffer);
  wb.creator = 'cdk-waf-guard';
  wb.calcProperties.fullCalcOnLoad = true;
  const ws = wb.getWorksheet(YEAR_SHEET(year)) ?? createYearSheet(wb, year);
  const row = FIRST_MONTH_ROW + month - 1;
  const totals = costTotals(costs.aws, costs.elastic);
  // A source with no figure at all leaves its cell as it is: a failed read never blanks or zeroes a recorded figure.
  if (!costs.notes?.aws?.missing) ws.getCell(row, 2).value = centsToDollars(totals.aws.subtotalCents);
  // Elastic Cloud not configured stays empty rather than 0, so a reader sees the gap.
  if (!costs.notes?.elastic?.missing) ws.getCell(row, 3).value = totals.elastic ? centsToDollars(totals.elastic.subtotalCents) : null;
  ws.getCell(row, 5).value = costs.notes?.total ? totalLabel(costs.notes) : null;
  if (ws.getCell(1, 5).value !== 'Notes') ws.getCell(1, 5).value = 'Notes';
  let awsTotal = 0;
  let elasticTotal = 0;
  for (let r = FIRST_MONTH_ROW; r < TOTAL_ROW; r++) {
    const aws = centsOf(ws.getCell(r, 2).value);
    const elastic = centsOf(ws.getCell(r, 3).value);
    awsTotal += aws;
    elasticTotal += elastic;
    ws.getCell(r, 4).value = { formula: `B${r}+C${r}`, result: centsToDollars(aws + elastic) };
    ws.getCell(r, 4).numFmt = MONEY;
  }
  const last = TOTAL_ROW - 1;
  const partialMonths = [];
  for (let r = FIRST_MONTH_ROW; r < TOTAL_ROW; r++) if (String(ws.getCell(r, 5).value ?? '').includes('partial')) partialMonths.push(ws.getCell(r, 1).value);
  ws.getCell(TOTAL_ROW, 1).value = partialMonths.length > 0 ? `Year (partial: ${partialMonths.join(', ')})` : 'Year';
  ws.getCell(TOTAL_ROW, 2).value = { formula: `SUM(B${FIRST_MONTH_ROW}:B${last})`, result: centsToDollars(awsTotal) };
  ws.getCell(TOTAL_ROW, 3).value = { formula: `SUM(C${FIRST_MONTH_ROW}:C${last})`, result: centsToDollars(elasticTotal) };
  ws.getCell(TOTAL_ROW, 4).value = { formula: `SUM(D${FIRST_MONTH_ROW}:D${last})`, result: centsToDollars(awsTotal + elasticTotal) };
  return Buffer.from(await wb.xlsx.writeBuffer());
}
