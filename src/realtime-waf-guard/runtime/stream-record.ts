/** The parts of a Kinesis event record the processor reads. */
export interface StreamRecord {
  readonly eventID: string;
  readonly kinesis: {
    readonly data: string;
    readonly sequenceNumber: string;
    readonly approximateArrivalTimestamp: number;
  };
}
