import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { Log, MetricsSink } from '../../src/shared/runtime/telemetry';

/** Collects what the runtime logs and measures, for assertions. */
export class Recorder implements Log, MetricsSink {
  public readonly logs: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  public readonly metrics = new Map<string, number>();

  public info(message: string, extra?: Record<string, unknown>): void { this.logs.push({ level: 'info', message, extra }); }
  public warn(message: string, extra?: Record<string, unknown>): void { this.logs.push({ level: 'warn', message, extra }); }
  public error(message: string, extra?: Record<string, unknown>): void { this.logs.push({ level: 'error', message, extra }); }
  public add(name: string, value: number): void { this.metrics.set(name, (this.metrics.get(name) ?? 0) + value); }
}

/**
 * Every SNS Publish of the test file, answered as SNS would (a message id), and cleared before each test. SNS has no
 * local server, so it is the one service these integration tests mock.
 */
export function recordSnsPublishes(): PublishCommandInput[] {
  const published: PublishCommandInput[] = [];
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    published.length = 0;
    sns.reset();
    sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
      published.push(input);
      return { MessageId: `m${published.length}` };
    });
  });
  afterAll(() => sns.restore());
  return published;
}
