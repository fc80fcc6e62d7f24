import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';

/**
 * Reads a stream shard by shard and hands records over in batches shaped like the Lambda event source mapping's
 * Kinesis events (base64 data, `shardId:sequence` event ids, arrival time in epoch seconds).
 */
export class KinesisPoller {
  private iterators = new Map<string, string>();

  constructor(private readonly client: KinesisClient, private readonly streamName: string) {}

  public async init(position: 'TRIM_HORIZON' | 'LATEST' = 'TRIM_HORIZON'): Promise<void> {
    const shards = await this.client.send(new ListShardsCommand({ StreamName: this.streamName }));
    for (const shard of shards.Shards ?? []) {
      const it = await this.client.send(
        new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shard.ShardId!, ShardIteratorType: position }),
      );
      this.iterators.set(shard.ShardId!, it.ShardIterator!);
    }
  }

  /** Up to `batchSize` records per shard that has any, as event source batches. */
  public async poll(batchSize: number): Promise<StreamRecord[][]> {
    const batches: StreamRecord[][] = [];
    for (const [shardId, iterator] of this.iterators) {
      const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
      this.iterators.set(shardId, out.NextShardIterator!);
      const records = (out.Records ?? []).map((r) => ({
        eventID: `${shardId}:${r.SequenceNumber}`,
        kinesis: {
          data: Buffer.from(r.Data!).toString('base64'),
          sequenceNumber: r.SequenceNumber!,
          approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
        },
      }));
      if (records.length > 0) batches.push(records);
    }
    return batches;
  }
}
