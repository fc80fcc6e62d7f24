import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Reads and writes of one table, as DynamoDB IAM actions. */
export interface TableAccess {
  readonly read: readonly string[];
  readonly write: readonly string[];
}

/**
 * What operators do to each table, and nothing more: the calls of `cdk-waf-guard blocks` (runtime/operator-actions.ts)
 * and `cdk-waf-guard rules`. None reads an index, and DeleteItem is left out: operators end rows, the sync deletes them.
 */
export const OPERATOR_TABLE_ACCESS: { readonly rules: TableAccess; readonly blocks: TableAccess; readonly history: TableAccess } = {
  // `rules list` reads every row through the handler's parser (Scan); set, enable and disable read one row (GetItem) and
  // put it back whole under a condition (PutItem), so no UpdateItem.
  rules: { read: ['dynamodb:Scan', 'dynamodb:GetItem'], write: ['dynamodb:PutItem'] },
  // list scans; block and allow put a row, unblock puts the shield row; unblock, extend and unallow update rows they scanned.
  blocks: { read: ['dynamodb:Scan'], write: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  // history queries the client's partition of the table itself; only the sync writes history.
  history: { read: ['dynamodb:Query'], write: [] },
};

/** What an operator grant reaches: the guard's tables, its log processor, and its console when it has one. */
export interface GuardAccessTargets {
  readonly rulesTable: dynamodb.ITable;
  readonly blocksTable: dynamodb.ITable;
  readonly historyTable: dynamodb.ITable;
  readonly logProcessor: lambda.IFunction;
  readonly consoleFunction?: lambda.IFunction;
  readonly dashboard?: cloudwatch.Dashboard;
}

/**
 * Grants the CLI's and the console's calls on the guard: reads for everyone; with `write`, the table writes and the
 * console widget's invoke (the widget acts on the blocks table for whoever may invoke it, so read-only access cannot
 * include it). The tables use the AWS managed key, so no KMS permission is needed.
 */
export function grantGuardAccess(scope: Construct, grantee: iam.IGrantable, targets: GuardAccessTargets, write: boolean): iam.Grant {
  const grants: iam.Grant[] = [];
  const allow = (actions: readonly string[], resourceArns: string[]) => {
    if (actions.length > 0) grants.push(iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns, scope }));
  };
  const tables = [
    [targets.rulesTable, OPERATOR_TABLE_ACCESS.rules],
    [targets.blocksTable, OPERATOR_TABLE_ACCESS.blocks],
    [targets.historyTable, OPERATOR_TABLE_ACCESS.history],
  ] as const;
  for (const [table, access] of tables) allow([...access.read, ...(write ? access.write : [])], [table.tableArn]);

  // `--stack` finds the tables and the functions among the stack's resources.
  const stack = Stack.of(scope);
  allow(['cloudformation:DescribeStackResources'], [stack.stackId]);
  // `rules` judges a row at the guard's sampling rate, which only the log processor's environment holds.
  allow(['lambda:GetFunctionConfiguration'], [targets.logProcessor.functionArn]);
  if (targets.consoleFunction) {
    // The CLI reads the guard's settings (ipv6PrefixLength, allow-list width) from the console function's environment.
    allow(['lambda:GetFunctionConfiguration'], [targets.consoleFunction.functionArn]);
    // CloudWatch calls a custom widget's function with the viewer's credentials.
    if (write) allow(['lambda:InvokeFunction'], [targets.consoleFunction.functionArn]);
  }
  if (targets.dashboard) {
    // Not dashboard.dashboardArn: it is built from the name given in the props, so an unnamed dashboard's reads "dashboard/".
    allow(['cloudwatch:GetDashboard'], [stack.formatArn({
      service: 'cloudwatch', resource: 'dashboard', region: '', resourceName: targets.dashboard.dashboardName,
    })]);
  }
  return grants.reduce((all, grant) => all.combine(grant));
}
