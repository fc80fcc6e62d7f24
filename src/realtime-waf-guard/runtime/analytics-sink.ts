import { _Record, RejectedRecord, TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { AnalyticsRecordMapper, AnalyticsRecordOptions, RECORD_TOO_LARGE } from './analytics-records';
import { mapLimit } from './concurrency';
import type { StreamRecord } from './stream-record';
import { Log, MetricsSink } from '../../shared/runtime/telemetry';
import { METRIC } from '../handler-env';

/** WriteRecords takes at most 100 records per call. */
export const MAX_RECORDS_PER_WRITE = 100;

export interface AnalyticsSinkConfig extends AnalyticsRecordOptions {
  readonly database: string;
  readonly table: string;
  /**
   * Most WriteRecords calls of one batch in flight: a 10,000-record batch is 100 calls, which must neither run one by
   * one (the batch would take seconds) nor all at once (a burst Timestream throttles).
   * @default 8
   */
  readonly maxConcurrentWrites?: number;
}

export interface AnalyticsWriteResult {
  /** Records Timestream accepted. */
  readonly written: number;
  /** Records Timestream refused (RejectedRecords): logged with their reasons, never sent again. */
  readonly rejected: number;
  /** Records of calls that failed as a whole (after the client's own bounded retries). */
  readonly failed: number;
  /** Lines that could not be parsed into a record. */
  readonly skipped: number;
  /** Lines whose client, host and request id alone exceed a record's 2 KB: never sent, so query detection misses them. */
  readonly tooLarge: number;
}

/** Where the log processor sends every line besides detection. Never rejects: analytics must not stop detection. */
export interface AnalyticsSink {
  write(records: readonly StreamRecord[]): Promise<AnalyticsWriteResult>;
}

const SAMPLES = 5;

interface CallOutcome {
  readonly written: number;
  readonly rejected: Array<{ record: _Record; reason: string }>;
  readonly failed: number;
  readonly error?: string;
}

/**
 * Writes log lines to a Timestream table as multi-measure records, 100 per call, a bounded number of calls at a time.
 * Records Timestream rejects are logged with their reasons and counted; they are not retried (the same record would
 * be rejected again). A call that fails as a whole is logged and counted after the SDK's bounded retries. Nothing here
 * throws, so a Timestream outage costs the analytics, never detection or blocking.
 */
export class TimestreamSink implements AnalyticsSink {
  private readonly mapper: AnalyticsRecordMapper;

  constructor(
    private readonly config: AnalyticsSinkConfig,
    private readonly deps: { readonly client: TimestreamWriteClient; readonly log: Log; readonly metrics: MetricsSink },
  ) {
    this.mapper = new AnalyticsRecordMapper(config);
  }

  public async write(records: readonly StreamRecord[]): Promise<AnalyticsWriteResult> {
    const { deps } = this;
    try {
      const mapped: _Record[] = [];
      let skipped = 0;
      let tooLarge = 0;
      for (const r of records) {
        let line: string;
        try {
          line = atob(r.kinesis.data);
        } catch {
          line = '';
        }
        const record = this.mapper.map(line);
        if (typeof record === 'number') skipped++;
        else if (record === RECORD_TOO_LARGE) tooLarge++;
        else mapped.push(record);
      }
      const calls: _Record[][] = [];
      for (let i = 0; i < mapped.length; i += MAX_RECORDS_PER_WRITE) calls.push(mapped.slice(i, i + MAX_RECORDS_PER_WRITE));
      const outcomes = await mapLimit(calls, this.config.maxConcurrentWrites ?? 8, (batch) => this.send(batch));
      const result = {
        written: sum(outcomes, (o) => o.written),
        rejected: sum(outcomes, (o) => o.rejected.length),
        failed: sum(outcomes, (o) => o.failed),
        skipped,
        tooLarge,
      };
      this.report(result, outcomes);
      return result;
    } catch (e) {
      // Mapping is pure and send() catches its own errors: this is a bug, and still must not fail detection.
      deps.log.error('analytics records not written', { error: (e as Error).message, records: records.length });
      deps.metrics.add(METRIC.ANALYTICS_FAILED, records.length, 'Count');
      return { written: 0, rejected: 0, failed: records.length, skipped: 0, tooLarge: 0 };
    }
  }

  private async send(batch: _Record[]): Promise<CallOutcome> {
    try {
      const out = await this.deps.client.send(new WriteRecordsCommand({
        DatabaseName: this.config.database,
        TableName: this.config.table,
        Records: batch,
      }));
      return { written: out.RecordsIngested?.Total ?? batch.length, rejected: [], failed: 0 };
    } catch (e) {
      const rejectedRecords = (e as { RejectedRecords?: RejectedRecord[] }).RejectedRecords;
      if ((e as Error).name === 'RejectedRecordsException' && Array.isArray(rejectedRecords)) {
        // The other records of the call were written: only the listed ones are refused.
        const rejected = rejectedRecords.map((r) => ({ record: batch[r.RecordIndex ?? -1], reason: r.Reason ?? 'no reason given' }));
        return { written: batch.length - rejected.length, rejected, failed: 0 };
      }
      return { written: 0, rejected: [], failed: batch.length, error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  }

  private report(result: AnalyticsWriteResult, outcomes: readonly CallOutcome[]): void {
    const { deps } = this;
    deps.metrics.add(METRIC.ANALYTICS_WRITTEN, result.written, 'Count');
    if (result.tooLarge > 0) {
      deps.metrics.add(METRIC.ANALYTICS_TOO_LARGE, result.tooLarge, 'Count');
      deps.log.warn('analytics records too large to write', {
        count: result.tooLarge,
        reason: 'client, route, host and request id alone exceed the 2 KB a Timestream record may hold',
      });
    }
    if (result.rejected > 0) {
      deps.metrics.add(METRIC.ANALYTICS_REJECTED, result.rejected, 'Count');
      const all = outcomes.flatMap((o) => o.rejected);
      const reasons: Record<string, number> = {};
      for (const r of all) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
      deps.log.warn('Timestream rejected analytics records', {
        count: result.rejected,
        reasons,
        samples: all.slice(0, SAMPLES).map((r) => ({ reason: r.reason, time: r.record?.Time, dimensions: r.record?.Dimensions })),
      });
    }
    if (result.failed > 0) {
      deps.metrics.add(METRIC.ANALYTICS_FAILED, result.failed, 'Count');
      deps.log.error('Timestream writes failed: analytics records lost', {
        count: result.failed,
        errors: [...new Set(outcomes.flatMap((o) => (o.error ? [o.error] : [])))].slice(0, SAMPLES),
      });
    }
  }
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}

/**
 * The log processor with query detection: the stream feeds only Timestream, which detection then reads. A call that
 * failed as a whole fails the batch, so Lambda retries it (bounded by the event source's retries and record age, then
 * the dead-letter queue); rewriting records Timestream already holds is harmless, since identical records are accepted
 * again as the same records. Rejected records are not retried: they would be rejected again.
 */
export async function writeForQueryDetection(
  sink: AnalyticsSink, records: readonly StreamRecord[], metrics: MetricsSink,
): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
  if (records.length === 0) return { batchItemFailures: [] };
  const result = await sink.write(records);
  metrics.add(METRIC.RECORDS, records.length, 'Count');
  metrics.add(METRIC.MALFORMED, result.skipped, 'Count');
  return { batchItemFailures: result.failed > 0 ? [{ itemIdentifier: records[0].kinesis.sequenceNumber }] : [] };
}
