import { Annotations, Arn, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { commonEnvironment, GuardSettings } from './guard-settings';
import { allowRecordingBlocks, blockRecorderEnvironment, GuardTables } from './guard-tables';
import { ENV } from './handler-env';
import { QueryDetectorFunction } from './query-detector-function';
import { Detection, TimestreamSettings } from './timestream-options';
import { limitLength } from '../shared/cfn-text';
import { handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

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
