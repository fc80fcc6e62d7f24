/** Builds CloudFront real-time log lines: values by field name, `-` for the rest, fields in the given (delivered) order. */
export function logLine(fields: readonly string[], values: Record<string, string | number>): string {
  return fields.map((f) => (values[f] === undefined ? '-' : String(values[f]))).join('\t');
}

/** A line as a Kinesis record's base64 data, with the trailing newline CloudFront may send. */
export function recordData(line: string): string {
  return Buffer.from(`${line}\n`, 'latin1').toString('base64');
}
