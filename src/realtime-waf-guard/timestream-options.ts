import { Duration, Token } from 'aws-cdk-lib';
import { secondsInRange } from './guard-validation';
import { deliveredFieldOrder } from './log-fields';
import { analyticsFieldsProblem, DEFAULT_ANALYTICS_FIELDS } from './runtime/analytics-records';

/** How the guard finds offenders. */
export enum Detection {
  /** The log processor counts every batch in DynamoDB and blocks within seconds. */
  STREAMING = 'STREAMING',
  /**
   * A scheduled function queries the Timestream table (`timestream` is required) per rule; blocks follow within the
   * query interval. Billed in Timestream compute units for every run: see the cost table in the README first.
   */
  TIMESTREAM_QUERY = 'TIMESTREAM_QUERY',
}

/** Where and how the guard writes every log record to Amazon Timestream for LiveAnalytics. */
export interface TimestreamOptions {
  /**
   * Name of an existing database to write to.
   * @default - a new database
   */
  readonly database?: string;
  /**
   * Name of an existing table in `database`, instead of a new one. Needs `database`; its retention is its own, so give
   * no `memoryRetention` or `magneticRetention` with it.
   * @default - a new table in the database
   */
  readonly table?: string;
  /**
   * How long records stay in the memory store of a new table, in whole hours (1 hour to 8,766 hours, a year). Must cover
   * `maxRecordAge`: Timestream rejects records older than the memory store holds.
   * @default Duration.hours(24)
   */
  readonly memoryRetention?: Duration;
  /**
   * How long records stay in the magnetic store of a new table afterwards, in whole days (1 to 73,000).
   * @default Duration.days(90)
   */
  readonly magneticRetention?: Duration;
  /**
   * CloudFront log fields to write besides those every record has (time, `client`, `route`, `host`, `path`,
   * `request_id`): numbers become measures, the others dimensions. They are added to the delivered log fields.
   * `cs-cookie` and `cs-headers` are refused: they carry credentials.
   * @default - status, edge location, country, IP version, method, bytes sent, time taken, time to first byte and
   * origin latencies
   */
  readonly fields?: string[];
  /**
   * How often query detection runs, in whole minutes (1 minute to 1 day); only with `detection:
   * Detection.TIMESTREAM_QUERY`. Every run is billed at least 30 s of 4 compute units per query: under 5 minutes the
   * units are busy most of the day, and synth warns.
   * @default Duration.minutes(1)
   */
  readonly queryInterval?: Duration;
}

/** The Timestream options, checked and with their defaults. */
export interface TimestreamSettings {
  readonly database?: string;
  readonly table?: string;
  readonly memoryHours: number;
  readonly magneticDays: number;
  readonly fields: string[];
  /** Seconds between query detection runs; undefined with streaming detection. */
  readonly queryIntervalSeconds?: number;
}

const NAME = /^[a-zA-Z0-9_.-]{3,256}$/;

/** Validates the Timestream props; undefined when the guard has no `timestream`. */
export function resolveTimestreamSettings(
  options: TimestreamOptions | undefined, detection: Detection | undefined, maxRecordAgeSeconds: number,
): TimestreamSettings | undefined {
  const queryDetection = (detection ?? Detection.STREAMING) === Detection.TIMESTREAM_QUERY;
  if (!options) {
    if (queryDetection) throw new Error('detection: Detection.TIMESTREAM_QUERY needs timestream: { ... }, the table it queries');
    return undefined;
  }
  for (const [prop, name] of [['timestream.database', options.database], ['timestream.table', options.table]] as const) {
    if (name !== undefined && !Token.isUnresolved(name) && !NAME.test(name)) {
      throw new Error(`${prop} "${name}" must be 3 to 256 letters, digits, "_", "." or "-"`);
    }
  }
  if (options.table !== undefined && options.database === undefined) {
    throw new Error('timestream.table names an existing table: give its database as timestream.database too');
  }
  if (options.table !== undefined && (options.memoryRetention || options.magneticRetention)) {
    throw new Error('timestream.memoryRetention and magneticRetention apply to a table the guard creates: leave them out with timestream.table');
  }
  if (options.queryInterval && !queryDetection) {
    throw new Error('timestream.queryInterval only applies with detection: Detection.TIMESTREAM_QUERY: leave it out');
  }
  const fields = [...(options.fields ?? DEFAULT_ANALYTICS_FIELDS)];
  const problem = analyticsFieldsProblem(fields);
  if (problem) throw new Error(`timestream.fields: ${problem}`);
  deliveredFieldOrder(fields);
  const memoryHours = secondsInRange('timestream.memoryRetention', options.memoryRetention, 3600, 8766 * 3600, 24 * 3600) / 3600;
  if (!Number.isInteger(memoryHours)) throw new Error(`timestream.memoryRetention must be whole hours (got ${memoryHours} h)`);
  if (options.table === undefined && memoryHours * 3600 < maxRecordAgeSeconds) {
    throw new Error(
      `timestream.memoryRetention (${memoryHours} h) must cover maxRecordAge (${maxRecordAgeSeconds} s): Timestream rejects ` +
      'records older than its memory store holds. Raise memoryRetention or lower maxRecordAge.');
  }
  const magneticDays = secondsInRange('timestream.magneticRetention', options.magneticRetention, 86_400, 73_000 * 86_400, 90 * 86_400) / 86_400;
  if (!Number.isInteger(magneticDays)) throw new Error(`timestream.magneticRetention must be whole days (got ${magneticDays} days)`);
  const interval = queryDetection ? secondsInRange('timestream.queryInterval', options.queryInterval, 60, 86_400, 60) : undefined;
  if (interval !== undefined && interval % 60 !== 0) throw new Error(`timestream.queryInterval must be whole minutes (got ${interval} s)`);
  return {
    database: options.database,
    table: options.table,
    memoryHours,
    magneticDays,
    fields,
    queryIntervalSeconds: interval,
  };
}
