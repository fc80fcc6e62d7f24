import { inflateRawSync } from 'zlib';

/**
 * Reads an xlsx file the way a spreadsheet program does, without exceljs: unzips it (a minimal reader of the central
 * directory, stored and deflated entries) and takes each cell's type, formula and value from the sheet XML, so a test
 * checks what was written, not what the writing library reports back.
 */

export interface XlsxCell {
  /** The `t` attribute: `s` (shared string), `inlineStr`, `str` (formula text), `n`/undefined (number), `b`... */
  readonly type?: string;
  readonly formula?: string;
  /** The cached or literal value: the text for string cells, the number as written for numbers. */
  readonly value?: string;
}

export type XlsxSheet = Map<string, XlsxCell>;

export function unzip(file: Buffer): Map<string, Buffer> {
  let end = file.length - 22;
  while (end >= 0 && file.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error('not a zip file');
  const count = file.readUInt16LE(end + 10);
  let at = file.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (file.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    const method = file.readUInt16LE(at + 10);
    const size = file.readUInt32LE(at + 20);
    const nameLength = file.readUInt16LE(at + 28);
    const extraLength = file.readUInt16LE(at + 30);
    const commentLength = file.readUInt16LE(at + 32);
    const local = file.readUInt32LE(at + 42);
    const name = file.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataStart = local + 30 + file.readUInt16LE(local + 26) + file.readUInt16LE(local + 28);
    const data = file.subarray(dataStart, dataStart + size);
    entries.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function decodeXml(text: string): string {
  return text
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/&(#x[0-9A-Fa-f]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
      if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
      if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
      return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e];
    });
}

/** The text of an `<si>` or `<is>`: its `<t>` runs joined. */
const textOf = (xml: string) => [...xml.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>|<t(?:\s[^>]*)?\/>/g)].map((m) => decodeXml(m[1] ?? '')).join('');

/** Every sheet of the workbook by name, cells by address (`C12`). */
export function readXlsx(file: Buffer): Map<string, XlsxSheet> {
  const entries = unzip(file);
  const xml = (name: string) => entries.get(name)?.toString('utf8') ?? '';
  const shared = [...xml('xl/sharedStrings.xml').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) => textOf(m[1]));
  const targets = new Map([...xml('xl/_rels/workbook.xml.rels').matchAll(/<Relationship\b[^>]*>/g)].map((m) => [
    /\bId="([^"]+)"/.exec(m[0])![1], /\bTarget="([^"]+)"/.exec(m[0])![1].replace(/^\/?(xl\/)?/, 'xl/'),
  ]));
  const sheets = new Map<string, XlsxSheet>();
  for (const m of xml('xl/workbook.xml').matchAll(/<sheet\b[^>]*>/g)) {
    const name = decodeXml(/\bname="([^"]*)"/.exec(m[0])![1]);
    const target = targets.get(/\br:id="([^"]+)"/.exec(m[0])![1])!;
    const cells: XlsxSheet = new Map();
    for (const c of xml(target).matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const address = /\br="([A-Z]+\d+)"/.exec(c[1])![1];
      const type = /\bt="([^"]+)"/.exec(c[1])?.[1];
      const body = c[2] ?? '';
      const formula = /<f(?:\s[^>]*)?>([\s\S]*?)<\/f>/.exec(body)?.[1];
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      const value = type === 's' ? shared[Number(v)] : type === 'inlineStr' ? textOf(/<is>([\s\S]*?)<\/is>/.exec(body)?.[1] ?? '') : v === undefined ? undefined : decodeXml(v);
      cells.set(address, { type, formula: formula === undefined ? undefined : decodeXml(formula), value });
    }
    sheets.set(name, cells);
  }
  return sheets;
}

const column = (letters: string) => [...letters].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
const split = (address: string) => {
  const [, letters, row] = /^([A-Z]+)(\d+)$/.exec(address)!;
  return { col: column(letters), row: Number(row) };
};

/**
 * Evaluates the formulas the cost workbooks use (`SUM(C2:C9)`, `C4+C6`, `B12+C12`, a constant) over the cells as
 * written, following formulas in referenced cells, as a spreadsheet recalculating on open would.
 */
export function evaluate(sheet: XlsxSheet, address: string): number {
  const cell = sheet.get(address);
  if (!cell) return 0;
  if (cell.formula === undefined) return cell.type === undefined || cell.type === 'n' ? Number(cell.value ?? 0) : 0;
  return cell.formula.split('+').reduce((sum, term) => {
    const range = /^SUM\(([A-Z]+\d+):([A-Z]+\d+)\)$/.exec(term.trim());
    if (range) {
      const from = split(range[1]);
      const to = split(range[2]);
      let s = 0;
      for (const [a] of sheet) {
        const { col, row } = split(a);
        if (col >= from.col && col <= to.col && row >= from.row && row <= to.row) s += evaluate(sheet, a);
      }
      return sum + s;
    }
    if (/^[A-Z]+\d+$/.test(term.trim())) return sum + evaluate(sheet, term.trim());
    if (/^-?\d+(\.\d+)?$/.test(term.trim())) return sum + Number(term);
    throw new Error(`formula not understood: ${cell.formula}`);
  }, 0);
}

/** The value a viewer that does not recalculate shows: the cached result of a formula, or the literal number. */
export function cached(sheet: XlsxSheet, address: string): number | undefined {
  const v = sheet.get(address)?.value;
  return v === undefined || v === '' ? undefined : Number(v);
}
