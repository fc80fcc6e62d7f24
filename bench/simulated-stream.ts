import { StreamRecord } from '../src/realtime-waf-guard/runtime/log-processor';
import { recordData } from '../test/support/log-lines';

/**
 * Kinesis event records built in memory, numbered per shard as Kinesis numbers them, so the LogProcessor can be
 * driven in simulated time (no stream, no waiting): its idempotence marks and claims see real shard ids and
 * increasing sequence numbers.
 */
export class SimulatedShards {
  private readonly sequences: number[];

  constructor(public readonly count: number) {
    this.sequences = new Array(count).fill(0);
  }

  /** The next batch of `shard`: records arrive at their log time (CloudFront's delivery delay left out). */
  public batch(shard: number, records: ReadonlyArray<{ readonly line: string; readonly timestampMs: number }>): StreamRecord[] {
    return records.map((r) => {
      const sequenceNumber = String(49_000_000_000 + ++this.sequences[shard]);
      return {
        eventID: `shardId-${String(shard).padStart(12, '0')}:${sequenceNumber}`,
        kinesis: { data: recordData(r.line), sequenceNumber, approximateArrivalTimestamp: r.timestampMs / 1000 },
      };
    });
  }
}
