import { StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';

/** Builds CloudFront real-time log lines: values by field name, `-` for the rest, fields in the given (delivered) order. */
export function logLine(fields: readonly string[], values: Record<string, string | number>): string {
  return fields.map((f) => (values[f] === undefined ? '-' : String(values[f]))).join('\t');
}

/** A line as a Kinesis record's base64 data, with the trailing newline CloudFront may send. */
export function recordData(line: string): string {
  return Buffer.from(`${line}\n`, 'latin1').toString('base64');
}

/** One log line as the Kinesis event source delivers it to the handler. */
export function streamRecord(line: string, sequenceNumber: string, arrivalMs: number, shard = 'shardId-000000000000'): StreamRecord {
  return { eventID: `${shard}:${sequenceNumber}`, kinesis: { data: recordData(line), sequenceNumber, approximateArrivalTimestamp: arrivalMs / 1000 } };
}
