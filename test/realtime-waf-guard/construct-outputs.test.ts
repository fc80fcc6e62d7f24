import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { newStack, synthGuard } from './construct-fixtures';
import { Detection, RealtimeWafGuard } from '../../src';

type Outputs = Record<string, { Value: unknown; Description: string; Export?: unknown }>;

/** The logical id of the one resource of the type whose id holds the fragment. */
function resourceId(template: Template, type: string, fragment: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.includes(fragment));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('stack outputs', () => {
  test('name the tables and functions under the guard\'s id, without a hash, and export nothing', () => {
    const { template } = synthGuard();
    const outputs = template.toJSON().Outputs as Outputs;
    const table = (part: string) => ({ Ref: resourceId(template, 'AWS::DynamoDB::Table', part) });
    const fn = (part: string) => ({ Ref: resourceId(template, 'AWS::Lambda::Function', part) });
    expect(Object.fromEntries(Object.entries(outputs).map(([id, o]) => [id, o.Value]))).toEqual({
      GuardRulesTableName: table('RulesTable'),
      GuardBlocksTableName: table('BlocksTable'),
      GuardHistoryTableName: table('HistoryTable'),
      GuardLogProcessorFunctionName: fn('LogProcessor'),
      GuardIpSetSyncFunctionName: fn('IpSetSync'),
      GuardConsoleFunctionName: fn('ConsoleWidget'),
    });
    expect(Object.values(outputs).filter((o) => o.Export !== undefined)).toEqual([]);
    expect(outputs.GuardRulesTableName.Description).toBe('GuardStack/Guard: rules table (cdk-waf-guard rules --rules-table)');
  });

  test('without the dashboard there is no console output; two guards in a stack keep theirs apart', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Shop', { dashboard: false });
    new RealtimeWafGuard(stack, 'Api-Guard', { dashboard: false, guardName: 'api' });
    const ids = Object.keys(Template.fromStack(stack).toJSON().Outputs);
    expect(ids.filter((id) => id.startsWith('Shop'))).toEqual([
      'ShopRulesTableName', 'ShopBlocksTableName', 'ShopHistoryTableName', 'ShopLogProcessorFunctionName', 'ShopIpSetSyncFunctionName',
    ]);
    expect(ids.filter((id) => id.startsWith('ApiGuard'))).toHaveLength(5);
    expect(ids).toHaveLength(10);
  });

  test('two guards with the id Guard under different parents are named by their paths below the stack', () => {
    const stack = newStack();
    new RealtimeWafGuard(new Construct(stack, 'Shop'), 'Guard', { dashboard: false });
    new RealtimeWafGuard(new Construct(stack, 'Blog'), 'Guard', { dashboard: false, guardName: 'blog' });
    const outputs = Template.fromStack(stack).toJSON().Outputs as Outputs;
    expect(Object.keys(outputs).filter((id) => id.endsWith('RulesTableName')).sort()).toEqual(['BlogGuardRulesTableName', 'ShopGuardRulesTableName']);
    expect(outputs.ShopGuardRulesTableName.Description).toBe('GuardStack/Shop/Guard: rules table (cdk-waf-guard rules --rules-table)');
  });

  test('ids that read the same once punctuation is dropped (Guard-1, Guard1) stay apart: the second gets a hash', () => {
    const stack = newStack();
    new RealtimeWafGuard(stack, 'Guard-1', { dashboard: false });
    new RealtimeWafGuard(stack, 'Guard1', { dashboard: false, guardName: 'other' });
    const outputs = Template.fromStack(stack).toJSON().Outputs as Outputs;
    const rules = Object.keys(outputs).filter((id) => id.endsWith('RulesTableName'));
    expect(rules).toHaveLength(2);
    expect(rules).toContain('Guard1RulesTableName');
    expect(rules.find((id) => id !== 'Guard1RulesTableName')).toMatch(/^Guard1[0-9A-F]{8}RulesTableName$/);
    expect(outputs.Guard1RulesTableName.Description).toMatch(/^GuardStack\/Guard-1: /);
    expect(Object.keys(outputs)).toHaveLength(10);
  });

  test('query detection adds its function', () => {
    const rules = [{ host: 'api.example.com', threshold: 100, window: Duration.minutes(1) }];
    const { template } = synthGuard({ rules, timestream: {}, detection: Detection.TIMESTREAM_QUERY });
    expect((template.toJSON().Outputs as Outputs).GuardQueryDetectorFunctionName.Value)
      .toEqual({ Ref: resourceId(template, 'AWS::Lambda::Function', 'QueryDetector') });
  });
});
