/**
 * A small RFC 4180 reader, independent of csv-stringify, for reading the report's CSVs back the way a spreadsheet
 * splits them. `delimiter` lets a test read a file as a spreadsheet with another list separator (`;` in much of Europe)
 * would. Text after a closing quote is kept in the field, as spreadsheets do. `anyLineBreak` ends a record at a CR or LF
 * alone too (outside quotes), as Excel does.
 */
export function readCsv(text: string, delimiter = ',', anyLineBreak = false): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let fieldStart = true;
  const endField = () => {
    record.push(field);
    field = '';
    fieldStart = true;
  };
  while (i < text.length) {
    const c = text[i];
    if (fieldStart && c === '"') {
      fieldStart = false;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      continue;
    }
    fieldStart = false;
    if (c === delimiter) {
      endField();
      i++;
    } else if ((c === '\r' && text[i + 1] === '\n') || (anyLineBreak && (c === '\r' || c === '\n'))) {
      endField();
      records.push(record);
      record = [];
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (!fieldStart || record.length > 0) {
    endField();
    records.push(record);
  }
  return records;
}
