/**
 * The few KQL (Kibana Query Language) expressions the views need, which both products accept in a `filters` bucket.
 * Field names come from the monitor's settings and may hold characters KQL treats as syntax, so they are escaped.
 */

/** Characters KQL reads as syntax in an unquoted field name, and whitespace, escaped with a backslash. */
export function kqlField(name: string): string {
  return name.replace(/[\\():<>"*{}\s]/g, (c) => `\\${c}`);
}

/** A quoted KQL value: only the quote and the backslash are special inside quotes. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `field : "value"`: the field has exactly this value. */
export function kqlIs(field: string, value: string): string {
  return `${kqlField(field)} : ${quoted(value)}`;
}

/** `not field : "value"`: documents without the field count as "not". */
export function kqlIsNot(field: string, value: string): string {
  return `not ${kqlIs(field, value)}`;
}

export type KqlComparison = '<' | '<=' | '>' | '>=';

/** `field <= 400`. */
export function kqlCompare(field: string, op: KqlComparison, value: number): string {
  return `${kqlField(field)} ${op} ${value}`;
}

/** Clauses that must all hold; each is a single comparison, so no parentheses are needed. */
export function kqlAnd(...clauses: readonly string[]): string {
  return clauses.join(' and ');
}
