import { mkdtempSync, rmSync } from 'fs';
import { Server } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';

// Neither server ships type declarations that fit in-process use.
/* eslint-disable @typescript-eslint/no-require-imports */
const sesLocal = require('aws-ses-v2-local');
const S3rver = require('s3rver');
/* eslint-enable @typescript-eslint/no-require-imports */

/** s3rver in-process on a free port with one bucket; path-style client with s3rver's fixed credentials. */
export class LocalS3 {
  public static async start(bucket: string): Promise<LocalS3> {
    const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
    const { port } = (await server.run()) as AddressInfo;
    return new LocalS3(server, directory, port);
  }

  public readonly client: S3Client;

  private constructor(private readonly server: { close(): Promise<void> }, private readonly directory: string, public readonly port: number) {
    this.client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  }

  public async stop(): Promise<void> {
    this.client.destroy();
    await this.server.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

export interface ReceivedEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: { readonly to: string[] };
  readonly subject: string;
  readonly body: { readonly html?: string; readonly text?: string };
}

/** aws-ses-v2-local in-process: SES v2 SendEmail, and its `/store` endpoint to read what arrived. */
export class LocalSes {
  public static async start(): Promise<LocalSes> {
    const server = (await sesLocal.default({ host: '127.0.0.1', port: 0 })) as Server;
    return new LocalSes(server, (server.address() as AddressInfo).port);
  }

  public readonly client: SESv2Client;

  private constructor(private readonly server: Server, public readonly port: number) {
    this.client = new SESv2Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  public async received(): Promise<ReceivedEmail[]> {
    const response = await fetch(`http://127.0.0.1:${this.port}/store`);
    return ((await response.json()) as { emails: ReceivedEmail[] }).emails;
  }

  public async clear(): Promise<void> {
    await fetch(`http://127.0.0.1:${this.port}/clear-store`, { method: 'POST' });
  }

  public async stop(): Promise<void> {
    this.client.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
