import { createHash } from 'crypto';
import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** What the guard's stack outputs name. */
export interface GuardOutputsProps {
  readonly rulesTable: dynamodb.ITable;
  readonly blocksTable: dynamodb.ITable;
  readonly historyTable: dynamodb.ITable;
  readonly logProcessor: lambda.IFunction;
  readonly ipSetSync: lambda.IFunction;
  readonly consoleFunction?: lambda.IFunction;
  readonly queryDetector?: lambda.IFunction;
}

/** The output names after the guard's id, in the order the README lists them. */
export const OUTPUT_NAMES = [
  'RulesTableName', 'BlocksTableName', 'HistoryTableName', 'LogProcessorFunctionName', 'IpSetSyncFunctionName',
  'ConsoleFunctionName', 'QueryDetectorFunctionName',
] as const;

/**
 * Stack outputs naming the guard's tables and functions, for operators (`aws cloudformation describe-stacks`, the
 * `cdk deploy` summary) who change rules or read logs without the CDK app at hand. Their logical ids are
 * `outputPrefix(guard)` followed by the output name, so scripts can rely on them; nothing is exported, so no other
 * stack comes to depend on them and the guard stays free to be replaced.
 */
export function addGuardOutputs(guard: Construct, props: GuardOutputsProps): void {
  const prefix = outputPrefix(guard);
  const add = (name: typeof OUTPUT_NAMES[number], value: string, description: string) => {
    const output = new CfnOutput(guard, name, { value, description: `${guard.node.path}: ${description}` });
    output.overrideLogicalId(`${prefix}${name}`);
  };
  add('RulesTableName', props.rulesTable.tableName, 'rules table (cdk-waf-guard rules --rules-table)');
  add('BlocksTableName', props.blocksTable.tableName, 'blocks table (cdk-waf-guard blocks --blocks-table)');
  add('HistoryTableName', props.historyTable.tableName, 'history table (cdk-waf-guard blocks --history-table)');
  add('LogProcessorFunctionName', props.logProcessor.functionName, 'log processor function (detection)');
  add('IpSetSyncFunctionName', props.ipSetSync.functionName, 'IP set sync function (WAF IP sets, digests)');
  if (props.consoleFunction) add('ConsoleFunctionName', props.consoleFunction.functionName, 'operator console widget function');
  if (props.queryDetector) add('QueryDetectorFunctionName', props.queryDetector.functionName, 'Timestream query detector function');
}

/** The prefixes taken per stack, so that a second guard whose path reads the same gets its own. */
const takenPrefixes = new WeakMap<Stack, Set<string>>();

/**
 * The letters and digits of the guard's path below its stack (`Guard` for a guard made on the stack, `ShopGuard` for
 * one under a construct `Shop`): readable, stable, and without a hash when no other guard of the stack reads the same.
 * Paths that differ only by other characters (`Guard-1`, `Guard1`) would give the same ids, which CloudFormation
 * refuses; the guard made second gets a hash of its path appended.
 */
export function outputPrefix(guard: Construct): string {
  const stack = Stack.of(guard);
  const below = guard.node.scopes.slice(stack.node.scopes.length).map((scope) => scope.node.id);
  let prefix = below.join('').replace(/[^A-Za-z0-9]/g, '');
  const taken = takenPrefixes.get(stack) ?? new Set<string>();
  takenPrefixes.set(stack, taken);
  if (taken.has(prefix)) {
    prefix += createHash('sha256').update(below.join('/')).digest('hex').slice(0, 8).toUpperCase();
  }
  taken.add(prefix);
  return prefix;
}
