import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { allowTableActions, pinnedRuntime } from './guard-iam';
import { GuardSettings } from './guard-settings';
import { guardTable } from './guard-table';
import { RulesSeederFunction } from './rules-seeder-function';
import { BLOCKS_TABLE, COUNTERS_TABLE, HISTORY_TABLE, RULES_TABLE } from './table-schemas';
import { handlerDefaults } from '../shared/handler-defaults';
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
