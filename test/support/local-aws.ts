import { AddressInfo } from 'net';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createTableInput } from '../../src/realtime-waf-guard/runtime/table-setup';
import { TableSchema } from '../../src/realtime-waf-guard/table-schemas';

// dynalite and kinesalite ship no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require('kinesalite');

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

interface Listening {
  listen(port: number, cb: () => void): void;
  address(): AddressInfo;
  close(cb?: () => void): void;
}

function start(server: Listening): Promise<number> {
  return new Promise((resolve) => server.listen(0, () => resolve(server.address().port)));
}

/** dynalite started in-process, with clients pointed at it. */
export class LocalDynamo {
  public static async start(): Promise<LocalDynamo> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Listening;
    const port = await start(server);
    return new LocalDynamo(server, port);
  }

  public readonly client: DynamoDBClient;
  public readonly doc: DynamoDBDocumentClient;
  private tableCount = 0;

  private constructor(private readonly server: Listening, public readonly port: number) {
    ({ client: this.client, doc: this.doc } = this.connect());
  }

  /** Clients of their own, for middleware that must see one caller's requests only (a capacity meter). */
  public connect(): { client: DynamoDBClient; doc: DynamoDBDocumentClient } {
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${this.port}`, region: 'us-east-1', credentials });
    return { client, doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }) };
  }

  /** Creates a table from the construct's schema under a fresh name. */
  public async createTable(prefix: string, schema: TableSchema): Promise<string> {
    const name = `${prefix}-${++this.tableCount}`;
    await this.client.send(new CreateTableCommand(createTableInput(name, schema)));
    if (schema.timeToLiveAttribute) {
      try {
        await this.client.send(new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: schema.timeToLiveAttribute, Enabled: true },
        }));
      } catch (e) {
        // dynalite does not implement UpdateTimeToLive; the guard never depends on TTL timing anyway.
        if (!/UnknownOperation|not supported|Unknown operation/i.test(`${(e as Error).name} ${(e as Error).message}`)) throw e;
      }
    }
    return name;
  }

  public async stop(): Promise<void> {
    this.client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** kinesalite started in-process; Kinesis clients need HTTP/1.1 to talk to it. */
export class LocalKinesis {
  public static async start(): Promise<LocalKinesis> {
    const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }) as Listening;
    const port = await start(server);
    return new LocalKinesis(server, port);
  }

  public readonly client: KinesisClient;
  private streamCount = 0;

  private constructor(private readonly server: Listening, public readonly port: number) {
    this.client = new KinesisClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials,
      requestHandler: new NodeHttpHandler(),
    });
  }

  public async createStream(prefix: string, shards = 1): Promise<string> {
    const name = `${prefix}-${++this.streamCount}`;
    await this.client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    for (;;) {
      const d = await this.client.send(new DescribeStreamCommand({ StreamName: name }));
      if (d.StreamDescription?.StreamStatus === 'ACTIVE') return name;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  public async stop(): Promise<void> {
    this.client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
