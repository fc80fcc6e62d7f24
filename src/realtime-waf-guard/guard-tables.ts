import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { allowTableActions } from './guard-iam';
import { GuardSettings } from './guard-settings';
import { guardTable } from './guard-table';
import { ENV } from './handler-env';
import { RulesSeederFunction } from './rules-seeder-function';
import { BLOCKS_TABLE, COUNTERS_TABLE, HISTORY_TABLE, RULES_TABLE } from './table-schemas';
import { handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

/**
 * The guard's state in DynamoDB: rules (seeded from the props, edited by operators), request counters, active blocks
 * (the source of truth of the IP sets) and history.
 */
export class GuardTables extends Construct {
  public readonly rules: dynamodb.Table;
  public readonly counters: dynamodb.Table;
  public readonly blocks: dynamodb.Table;
  public readonly history: dynamodb.Table;
  /** Backs the custom resource that seeds the rules table. */
  public readonly rulesSeeder: lambda.IFunction;

  constructor(scope: Construct, id: string, settings: GuardSettings) {
    super(scope, id);
    const { removalPolicy } = settings;
    this.rules = guardTable(this, 'RulesTable', RULES_TABLE, { pointInTimeRecovery: true, removalPolicy });
    this.counters = guardTable(this, 'CountersTable', COUNTERS_TABLE, { pointInTimeRecovery: false, removalPolicy: RemovalPolicy.DESTROY });
    suppressNag(this.counters, [{
      id: 'AwsSolutions-DDB3',
      reason: 'Short-lived counters: every item expires within the longest rule window; a restore would bring back stale counts.',
    }]);
    this.blocks = guardTable(this, 'BlocksTable', BLOCKS_TABLE, { pointInTimeRecovery: true, removalPolicy: RemovalPolicy.DESTROY });
    this.history = guardTable(this, 'HistoryTable', HISTORY_TABLE, { pointInTimeRecovery: true, removalPolicy });
    this.rulesSeeder = this.seedRules(settings);
  }

  /** A custom resource backed directly by the seeder function: no provider framework to maintain. */
  private seedRules(settings: GuardSettings): lambda.IFunction {
    const seeder = handlerDefaults(this, 'RulesSeeder', {
      description: 'Seeds the guard rules table from the stack rules, leaving operator rows alone',
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
      timeout: Duration.minutes(1),
    });
    const fn = new RulesSeederFunction(this, 'RulesSeeder', seeder.functionOptions);
    suppressNag(fn, [pinnedRuntime()]);
    allowTableActions(seeder.role, this.rules, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    const resource = new CustomResource(this, 'Rules', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::WafGuardRules',
      properties: { TableName: this.rules.tableName, RulesJson: JSON.stringify(settings.rules) },
    });
    // The role's policy must exist before CloudFormation invokes the seeder.
    resource.node.addDependency(seeder.role);
    return fn;
  }
}

/** The tables and settings a handler that records blocks reads (the log processor, query detection). */
export function blockRecorderEnvironment(settings: GuardSettings, tables: GuardTables): Record<string, string> {
  return {
    [ENV.RULES_TABLE]: tables.rules.tableName,
    [ENV.COUNTERS_TABLE]: tables.counters.tableName,
    [ENV.BLOCKS_TABLE]: tables.blocks.tableName,
    [ENV.HISTORY_TABLE]: tables.history.tableName,
    [ENV.HISTORY_RETENTION_DAYS]: String(settings.historyDays),
    [ENV.SAMPLING_RATE]: String(settings.samplingRate),
    [ENV.MAX_NEW_BLOCKS_PER_MINUTE]: String(settings.maxNewBlocksPerMinute),
  };
}

/**
 * Table access of a handler that records blocks: it reads the rules, counts (`counterActions`: the new-block budget
 * rows live in the counters table too) and writes blocks and history.
 */
export function allowRecordingBlocks(role: iam.IRole, tables: GuardTables, ...counterActions: string[]): void {
  allowTableActions(role, tables.rules, 'dynamodb:Scan');
  allowTableActions(role, tables.counters, ...counterActions);
  // Query: the run-time allow-list and unblocks' shields, one partition of the blocks table (operator-actions.ts).
  // GetItem: a block a write found in force, or one cached a minute, is read for its end and any unblock (block-store.ts).
  allowTableActions(role, tables.blocks, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:GetItem');
  // Stale offences (a backlog older than its block period) are history, not blocks. Writing them here keeps them out
  // of the blocks table, where a marker row would clobber an ended block awaiting release. PutItem only: a recorder
  // can add events, never read or delete the record.
  allowTableActions(role, tables.history, 'dynamodb:PutItem');
}
