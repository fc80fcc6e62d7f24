import { Annotations, Arn, Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { commonEnvironment, GuardSettings } from './guard-settings';
import { allowRecordingBlocks, blockRecorderEnvironment, GuardTables } from './guard-tables';
import { secondsInRange } from './guard-validation';
import { ENV } from './handler-env';
import { deliveredFieldOrder } from './log-fields';
import { QueryDetectorFunction } from './query-detector-function';
import { analyticsFieldsProblem, DEFAULT_ANALYTICS_FIELDS } from './runtime/analytics-records';
import { limitLength } from '../shared/cfn-text';
import { handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

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

export interface TimestreamAnalyticsProps {
  readonly settings: GuardSettings;
  readonly timestream: TimestreamSettings;
  readonly tables: GuardTables;
  /** Writes the records (and, with query detection, only that). */
  readonly logProcessor: lambda.Function;
  /** Path of the guard, for descriptions. */
  readonly guardPath: string;
  /** Encrypts a new database, like the stream that carries the same client addresses and paths. */
  readonly encryptionKey?: kms.IKey;
}

/** Below this, query detection keeps Timestream compute units busy most of the day (see the README cost table). */
export const QUERY_INTERVAL_WARNING_SECONDS = 300;

/**
 * The optional Timestream for LiveAnalytics side of the guard: the database and table (new or existing), the log
 * processor's permission to write them, and with query detection the scheduled function that queries them.
 */
export class TimestreamAnalytics extends Construct {
  public readonly databaseName: string;
  public readonly tableName: string;
  /** Query detection's function; undefined with streaming detection. */
  public readonly queryDetector?: lambda.IFunction;
  private readonly tableArn: string;

  constructor(scope: Construct, id: string, props: TimestreamAnalyticsProps) {
    super(scope, id);
    const { settings, timestream: ts } = props;
    let database = ts.database;
    if (database === undefined) {
      const created = new timestream.CfnDatabase(this, 'Database', { kmsKeyId: props.encryptionKey?.keyArn });
      created.applyRemovalPolicy(settings.removalPolicy);
      if (!props.encryptionKey) {
        suppressNag(created, [{
          id: 'AwsSolutions-TS3',
          reason: 'The guard has no key of its own here (existingStream and alertTopic given, no encryptionKey): the ' +
            'database is encrypted with the AWS managed key. Pass encryptionKey to use a customer managed key.',
        }]);
      }
      database = created.ref;
    }
    if (ts.table === undefined) {
      const table = new timestream.CfnTable(this, 'Table', {
        databaseName: database,
        retentionProperties: {
          MemoryStoreRetentionPeriodInHours: String(ts.memoryHours),
          MagneticStoreRetentionPeriodInDays: String(ts.magneticDays),
        },
      });
      table.applyRemovalPolicy(settings.removalPolicy);
      this.tableName = table.attrName;
      this.tableArn = table.attrArn;
    } else {
      this.tableName = ts.table;
      this.tableArn = Arn.format({ service: 'timestream', resource: 'database', resourceName: `${database}/table/${ts.table}` }, Stack.of(this));
    }
    this.databaseName = database;

    const env = {
      [ENV.TIMESTREAM_DATABASE]: this.databaseName,
      [ENV.TIMESTREAM_TABLE]: this.tableName,
      [ENV.ANALYTICS_FIELDS]: ts.fields.join(','),
      [ENV.DETECTION]: ts.queryIntervalSeconds === undefined ? Detection.STREAMING : Detection.TIMESTREAM_QUERY,
    };
    for (const [name, value] of Object.entries(env)) props.logProcessor.addEnvironment(name, value);
    this.allowTimestream(props.logProcessor.role!, 'timestream:WriteRecords');

    if (ts.queryIntervalSeconds !== undefined) this.queryDetector = this.createQueryDetector(props, ts.queryIntervalSeconds);
  }

  private createQueryDetector(props: TimestreamAnalyticsProps, intervalSeconds: number): lambda.IFunction {
    const { settings, tables } = props;
    if (intervalSeconds < QUERY_INTERVAL_WARNING_SECONDS) {
      Annotations.of(this).addWarningV2('cdk-waf-guard:frequentTimestreamQueries',
        `Query detection runs every ${intervalSeconds / 60} minute(s): each run bills at least 30 s of 4 Timestream compute ` +
        'units per rule query, so the units stay busy most of the day (see the README cost table). Set ' +
        'timestream.queryInterval to 5 minutes or more, or use streaming detection.');
    }
    const detector = handlerDefaults(this, 'QueryDetector', {
      description: 'Queries the guard Timestream table per rule for clients over the threshold and records their blocks',
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
      // A run must end before the next one starts.
      timeout: Duration.seconds(Math.min(intervalSeconds, 300)),
      environment: {
        ...commonEnvironment(settings),
        ...blockRecorderEnvironment(settings, tables),
        [ENV.TIMESTREAM_DATABASE]: this.databaseName,
        [ENV.TIMESTREAM_TABLE]: this.tableName,
        [ENV.QUERY_INTERVAL_SECONDS]: String(intervalSeconds),
      },
    });
    const fn = new QueryDetectorFunction(this, 'QueryDetector', detector.functionOptions);
    suppressNag(fn, [pinnedRuntime()]);
    this.allowTimestream(detector.role, 'timestream:Select');
    allowRecordingBlocks(detector.role, tables, 'dynamodb:UpdateItem');
    new events.Rule(this, 'Schedule', {
      description: limitLength(`Runs query detection of ${props.guardPath}`, 512),
      schedule: events.Schedule.rate(Duration.seconds(intervalSeconds)),
      // No retry: the next run examines the same windows again anyway.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
    return fn;
  }

  /** The action on exactly the table, and endpoint discovery, which Timestream offers on no narrower resource. */
  private allowTimestream(role: iam.IRole, action: string): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [action], resources: [this.tableArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] }));
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      suppressNag(policy, [{
        id: 'AwsSolutions-IAM5',
        reason: 'timestream:DescribeEndpoints (endpoint discovery, required before any Timestream call) supports no ' +
          'resource-level permissions; every other Timestream action is on the guard table only.',
        appliesTo: ['Resource::*'],
      }]);
    }
  }
}
