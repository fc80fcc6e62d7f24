/**
 * The few KQL (Kibana Query Language) expressions the views need, which both products accept in a `filters` bucket.
 * Field names come from the monitor's settings and may hold characters KQL treats as syntax, so they are escaped.
 */

/**
 * A field name as KQL reads it (Kibana's kuery.peg, which OpenSearch Dashboards shares). An unquoted field may escape
 * only its special characters `\():<>"*{}`, the keywords and \t \r \n: a backslash before a space is a syntax
 * error, and an unescaped `*` is a wildcard. A quoted string is also a field name and is matched literally, so names
 * holding whitespace, or that are a keyword (`and`, `or`, `not` in any case), are quoted.
 */
export function kqlField(name: string): string {
  if (/\s/.test(name) || /^(?:and|or|not)$/i.test(name)) return quoted(name);
  return name.replace(/[\\():<>"*{}]/g, (c) => `\\${c}`);
}

/** A quoted KQL string: the quote and the backslash are escaped, and \t \r \n as Kibana's own escaping does. */
function quoted(value: string): string {
  const escaped = value.replace(/[\\"\t\r\n]/g, (c) => ({ '\t': '\\t', '\r': '\\r', '\n': '\\n' } as Record<string, string>)[c] ?? `\\${c}`);
  return `"${escaped}"`;
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
