import { CostLine } from './costs';

/**
 * Money in the cost report, in integer cents, rounded by one rule in one place, so the email, the month's workbook and
 * the yearly workbook show the same figures and every total equals the sum of the figures shown above it:
 *
 * - Amounts are read as the decimals the source sent (Cost Explorer sends up to 10 places) and added exactly.
 * - A line is rounded to the cent, half away from zero (as Excel's ROUND).
 * - A section's subtotal is its exact sum rounded to the cent, so it matches the bill, and the difference to the sum
 *   of the rounded lines (sub-cent usage: 200 lines of $0.0042 show $0.00 each but add up to $0.84) is shown as a
 *   line of its own, so the lines always add up to the subtotal, in the email and in the workbook's SUM formula.
 * - The total is the sum of the subtotals.
 */

/** Decimal places kept before rounding to the cent; Cost Explorer's amounts have 10. */
const PLACES = 10;
const UNITS_PER_CENT = 10n ** BigInt(PLACES - 2);

/** The line that makes the rounded lines add up to the rounded subtotal. */
export const ROUNDING_ITEM = 'Rounding (sub-cent amounts)';

/** Half away from zero, on integers. */
function divideRounded(n: bigint, d: bigint): bigint {
  const sign = n < 0n ? -1n : 1n;
  const abs = n * sign;
  const q = abs / d;
  return sign * (2n * (abs % d) >= d ? q + 1n : q);
}

/**
 * An amount as an integer of 10^-10 dollars, from the shortest decimal that reads back as the same number (what
 * `String` prints), so `1.005` is 1.005 and not the binary fraction below it.
 */
function toUnits(amount: number): bigint {
  if (!Number.isFinite(amount)) throw new Error(`not an amount of money: ${amount}`);
  const [mantissa, exponent = '0'] = String(Math.abs(amount)).split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  const shift = Number(exponent) - fraction.length + PLACES;
  const units = shift >= 0 ? digits * 10n ** BigInt(shift) : divideRounded(digits, 10n ** BigInt(-shift));
  return amount < 0 ? -units : units;
}

const unitsToCents = (units: bigint) => Number(divideRounded(units, UNITS_PER_CENT));

/** An amount in dollars rounded to whole cents by the rule above. */
export function toCents(amount: number): number {
  return unitsToCents(toUnits(amount));
}

/** Cents as the dollar figure written into a workbook cell (the nearest double to `x.yz`). */
export function centsToDollars(cents: number): number {
  return cents / 100;
}

export interface RoundedLine {
  readonly source: CostLine['source'];
  readonly item: string;
  readonly cents: number;
}

export interface RoundedSection {
  /** The lines in cents, with a {@link ROUNDING_ITEM} line when sub-cent amounts add up to cents. */
  readonly lines: readonly RoundedLine[];
  /** The sum of `lines`, equal to the exact sum of the amounts rounded to the cent. */
  readonly subtotalCents: number;
}

/** One source's lines, rounded by the rule above. */
export function roundSection(source: CostLine['source'], lines: readonly CostLine[]): RoundedSection {
  const units = lines.map((l) => toUnits(l.amount));
  const rounded: RoundedLine[] = lines.map((l, i) => ({ source: l.source, item: l.item, cents: unitsToCents(units[i]) }));
  const subtotalCents = unitsToCents(units.reduce((a, b) => a + b, 0n));
  const shown = rounded.reduce((sum, l) => sum + l.cents, 0);
  if (shown !== subtotalCents) rounded.push({ source, item: ROUNDING_ITEM, cents: subtotalCents - shown });
  return { lines: rounded, subtotalCents };
}

export interface CostTotals {
  readonly aws: RoundedSection;
  /** Undefined when Elastic Cloud costs are not known. */
  readonly elastic?: RoundedSection;
  readonly totalCents: number;
}

/** The figures of a month's costs, as the email and both workbooks show them. */
export function costTotals(aws: readonly CostLine[], elastic: readonly CostLine[] | undefined): CostTotals {
  const awsSection = roundSection('AWS', aws);
  const elasticSection = elastic ? roundSection('Elastic Cloud', elastic) : undefined;
  return { aws: awsSection, elastic: elasticSection, totalCents: awsSection.subtotalCents + (elasticSection?.subtotalCents ?? 0) };
}
