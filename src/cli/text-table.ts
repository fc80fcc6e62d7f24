import { escapeControls } from '../shared/runtime/text';

/**
 * Text for a terminal: every control character escaped (`\u001b`), line breaks kept. Values in the CLI's output come
 * from tables and files other people write (a rule id, a reason, a host); printed raw, an escape sequence in one of them
 * would act on the operator's terminal (rewrite the screen, set the title, hide lines).
 */
export function printable(text: string): string {
  return text.split('\n').map(escapeControls).join('\n');
}

/** Rows as aligned columns, every cell escaped first so the widths are those shown. */
export function formatTable(rows: ReadonlyArray<readonly unknown[]>, indent = ''): string {
  const cells = rows.map((r) => r.map((c) => escapeControls(String(c ?? ''))));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => indent + r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/**
 * JSON for a terminal, still valid JSON of the same values: JSON escapes C0 controls in strings itself; C1 controls and
 * bidirectional overrides are escaped too. Line breaks left are the layout's.
 */
export function printableJson(value: unknown): string {
  return printable(JSON.stringify(value, null, 2));
}
