import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { toStoredRules } from '../../src/realtime-waf-guard/host-rule';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { RuleMatcher } from '../../src/realtime-waf-guard/runtime/detector';
import { applySeed, planSeed } from '../../src/realtime-waf-guard/runtime/rules-seeder';
import { loadRules } from '../../src/realtime-waf-guard/runtime/rules-store';
import { RULES_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { LocalDynamo } from '../support/local-aws';

const rule = (ruleId: string, threshold = 100): StoredRule => ({
  ruleId, host: 'api.example.com', threshold, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true, managedBy: 'stack/guard',
});
const props = (rules: StoredRule[]) => ({ TableName: 't', RulesJson: JSON.stringify(rules) });

describe('planSeed', () => {
  test('create puts every rule', () => {
    expect(planSeed({ RequestType: 'Create', ResourceProperties: props([rule('a'), rule('b')]) }).put.map((r) => r.ruleId)).toEqual(['a', 'b']);
  });

  test('update puts only changed or new rules and removes dropped ones', () => {
    const plan = planSeed({ RequestType: 'Update', ResourceProperties: props([rule('a'), rule('b', 50), rule('c')]), OldResourceProperties: props([rule('a'), rule('b'), rule('d')]) });
    expect(plan.put.map((r) => r.ruleId)).toEqual(['b', 'c']);
    expect(plan.remove.map((r) => r.ruleId)).toEqual(['d']);
  });

  test('delete removes the stack\'s rules; an invalid rule fails the deployment with its message', () => {
    expect(planSeed({ RequestType: 'Delete', ResourceProperties: props([rule('a')]) }).remove.map((r) => r.ruleId)).toEqual(['a']);
    expect(() => planSeed({ RequestType: 'Create', ResourceProperties: props([{ ...rule('a'), threshold: 0 }]) })).toThrow(/rule "a": threshold/);
  });
});

describe('applySeed against DynamoDB', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => { dynamo = await LocalDynamo.start(); });
  afterAll(async () => { await dynamo.stop(); });

  test('operator edits of unchanged rules and operator-owned rows survive a deploy', async () => {
    const table = await dynamo.createTable('rules', RULES_TABLE);
    await applySeed(dynamo.doc, table, planSeed({ RequestType: 'Create', ResourceProperties: props([rule('a'), rule('b')]) }));
    // at run time an operator raises rule a's threshold and adds a rule of their own
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...rule('a'), threshold: 999 } }));
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...rule('ops'), managedBy: undefined } }));
    // a deploy changes rule b and drops... nothing of a
    await applySeed(dynamo.doc, table, planSeed({ RequestType: 'Update', ResourceProperties: props([rule('a'), rule('b', 7)]), OldResourceProperties: props([rule('a'), rule('b')]) }));
    const get = async (ruleId: string) => (await dynamo.doc.send(new GetCommand({ TableName: table, Key: { ruleId } }))).Item;
    expect((await get('a'))!.threshold).toBe(999);
    expect((await get('b'))!.threshold).toBe(7);
    // deleting the stack removes its rows only
    await applySeed(dynamo.doc, table, planSeed({ RequestType: 'Delete', ResourceProperties: props([rule('a'), rule('b', 7)]) }));
    const left = (await dynamo.doc.send(new ScanCommand({ TableName: table }))).Items!.map((i) => i.ruleId);
    expect(left).toEqual(['ops']);
  });

  test('what a deploy does to rows an operator edited: a changed rule is rewritten whole, a dropped one deleted unless detached', async () => {
    const table = await dynamo.createTable('rules-redeploy', RULES_TABLE);
    const v1 = [rule('changed'), rule('kept'), rule('dropped'), rule('detached'), rule('deleted')];
    await applySeed(dynamo.doc, table, planSeed({ RequestType: 'Create', ResourceProperties: props(v1) }));
    const put = (item: Record<string, unknown>) => dynamo.doc.send(new PutCommand({ TableName: table, Item: item }));
    // at run time an operator edits every row (as `cdk-waf-guard rules set/disable` does: other attributes stay) ...
    await put({ ...rule('changed'), threshold: 999, enabled: false, note: 'sale' });
    await put({ ...rule('kept'), threshold: 999, enabled: false });
    await put({ ...rule('dropped'), threshold: 999 });
    // ... takes one row over by removing the stack's marker, and deletes another
    await put({ ...rule('detached'), threshold: 999, managedBy: undefined });
    await dynamo.doc.send(new DeleteCommand({ TableName: table, Key: { ruleId: 'deleted' } }));
    // the next deploy changes one rule's threshold, drops two, and leaves the others as they were in the stack
    const v2 = [rule('changed', 50), rule('kept'), rule('deleted')];
    await applySeed(dynamo.doc, table, planSeed({ RequestType: 'Update', ResourceProperties: props(v2), OldResourceProperties: props(v1) }));
    const rows = Object.fromEntries(((await dynamo.doc.send(new ScanCommand({ TableName: table }))).Items ?? []).map((i) => [i.ruleId, i]));
    // the rule the stack changed is the stack's definition again: the operator's threshold, disable and note are gone
    expect(rows.changed).toEqual(rule('changed', 50));
    // a rule the stack did not change keeps the operator's edit
    expect(rows.kept).toEqual({ ...rule('kept'), threshold: 999, enabled: false });
    // a dropped rule's row goes while it carries the stack's marker, edited or not; a detached row stays
    expect(rows.dropped).toBeUndefined();
    expect(rows.detached).toEqual({ ...rule('detached'), threshold: 999, managedBy: undefined });
    // a row the operator deleted is not put back by a deploy that leaves its rule unchanged
    expect(rows.deleted).toBeUndefined();
  });

  test('pathCaseSensitive goes from the props through the seeder and the rules table to matching', async () => {
    const table = await dynamo.createTable('rules-case', RULES_TABLE);
    const seeded = toStoredRules([
      { id: 'exact', host: 'api.example.com', pathPrefix: '/Admin', pathCaseSensitive: true, threshold: 10, window: Duration.minutes(1) },
      { id: 'folded', host: 'api.example.com', pathPrefix: '/login', threshold: 10, window: Duration.minutes(1) },
    ], 'stack/guard');
    await applySeed(dynamo.doc, table, planSeed({ RequestType: 'Create', ResourceProperties: props(seeded) }));
    // an operator's row sets it as a string
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...rule('ops'), pathPrefix: '/API', pathCaseSensitive: 'TRUE', managedBy: undefined } }));
    const loaded = await loadRules(dynamo.doc, table);
    expect(loaded.invalid).toEqual([]);
    expect(Object.fromEntries(loaded.rules.map((r) => [r.ruleId, r.pathCaseSensitive ?? false]))).toEqual({ exact: true, folded: false, ops: true });
    const m = new RuleMatcher(loaded.rules);
    const ids = (path: string) => m.match('api.example.com', { path }).map((i) => m.rules[i].ruleId);
    expect(ids('/LOGIN')).toEqual(['folded']);
    expect(ids('/ADMIN')).toEqual([]);
    expect(ids('/Admin')).toEqual(['exact']);
    expect(ids('/api')).toEqual([]);
    expect(ids('/API/x')).toEqual(['ops']);
  });
});
