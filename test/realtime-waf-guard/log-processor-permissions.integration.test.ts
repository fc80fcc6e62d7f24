import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { synthGuard } from './construct-fixtures';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet } from '../../src/realtime-waf-guard/runtime/ip';
import { LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadShields, OperatorActions, ShieldCache } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { createGuardTables } from '../support/guard-setup';
import { LocalDynamo } from '../support/local-aws';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder } from '../support/recorders';

/**
 * Every DynamoDB call the log processor's runtime makes, on dynalite, through the paths of a block's life (new block,
 * block in force on another container, recheck after a minute, unblock, stale backlog, both counting modes), must be
 * allowed by the log processor's synthesized policy on that table: a call it lacks fails in AWS, often silently.
 */
const fields = deliveredFieldOrder([]);
const T0 = 1_700_000_000_000;
const login: StoredRule = {
  ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 20, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true,
};
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await LocalDynamo.start();
});
afterAll(async () => {
  await dynamo.stop();
});

/** `GetCommand` and `GetItemCommand` are both `dynamodb:GetItem`; `QueryCommand` is `dynamodb:Query`. */
function iamAction(commandName: string): string {
  const name = commandName.replace(/Command$/, '');
  return `dynamodb:${['Get', 'Put', 'Update', 'Delete'].includes(name) ? `${name}Item` : name}`;
}

function recording<T extends { send: (command: any) => Promise<any> }>(client: T, calls: Set<string>): T {
  return new Proxy(client, {
    get: (target, prop) => (prop === 'send'
      ? (command: any) => {
        calls.add(`${iamAction(command.constructor.name)} ${command.input.TableName}`);
        return target.send(command);
      }
      : Reflect.get(target, prop)),
  });
}

test('every DynamoDB call of the log processor runtime is in its synthesized policy, on its table', async () => {
  const tables = await createGuardTables(dynamo, [login]);
  const calls = new Set<string>();
  const doc = recording(dynamo.doc as DynamoDBDocumentClient, calls);
  const client = recording(dynamo.client as DynamoDBClient, calls);
  let now = T0;
  const processor = (localFirstSlackPercent?: number) => new LogProcessor(
    { fields, samplingRate: 100, allowList: new CidrSet([]), trustedProxies: new CidrSet([]), localFirstSlackPercent },
    {
      rules: new RulesCache(() => loadRules(doc, tables.rules, { samplingRate: 100, minLoggedRequests: 10 }), 0),
      counters: new CounterStore(client, tables.counters),
      blocks: new BlockStore(doc, tables.blocks, tables.counters, 50),
      history: new HistoryStore(doc, tables.history, 30),
      shields: new ShieldCache((ms) => loadShields(doc, tables.blocks, ms), 0),
      metrics: new Recorder(),
      log: new Recorder(),
      now: () => now,
    },
  );
  let sequence = 0;
  const attack = (ip: string, startMs: number): StreamRecord[] => Array.from({ length: 30 }, (_, i) => streamRecord(
    logLine(fields, { 'timestamp': ((startMs + i * 300) / 1000).toFixed(3), 'c-ip': ip, 'cs-host': 'www.example.com', 'cs-uri-stem': '/login' }),
    String(++sequence).padStart(20, '0'), startMs + 10_000));
  const exact = processor();
  now = T0 + 11_000;
  await exact.process(attack('198.51.100.1', T0));
  // another container finds the block in force; the first rechecks it a minute later
  now = T0 + 41_000;
  await processor().process(attack('198.51.100.1', T0 + 30_000));
  now = T0 + 80_000;
  await exact.process(attack('198.51.100.1', T0 + 70_000));
  // an unblocked client attacks again, and a backlog older than a block period arrives
  await new OperatorActions(dynamo.doc, tables.blocks, () => now).unblock({
    target: '198.51.100.1', reason: 'test', operator: { name: 'ops', via: 'cli' },
  });
  now = T0 + 100_000;
  await exact.process(attack('198.51.100.1', T0 + 90_000));
  now = T0 + 2_000_000;
  await exact.process(attack('198.51.100.2', T0 + 1_000_000));
  const localFirst = processor(10);
  for (let i = 0; i < 3; i++) {
    now = T0 + 2_100_000 + i * 20_000;
    await localFirst.process(attack('198.51.100.3', now - 15_000));
  }

  const template = synthGuard().template;
  const json = template.toJSON();
  const tableIds = Object.entries(tables).map(([kind, name]) => [name, Object.keys(json.Resources).find((id) =>
    json.Resources[id].Type === 'AWS::DynamoDB::Table' && id.toLowerCase().includes(`${kind}table`))!] as const);
  const allowed = new Set(statementsOf(template, 'LogProcessorRole').flatMap((s) => [s.Action].flat().map((action: string) =>
    `${action} ${tableIds.find(([, id]) => JSON.stringify(s.Resource).includes(`"${id}"`))?.[0]}`)));
  const made = [...calls].sort();
  // the paths this test means to cover were taken
  expect(made).toEqual(expect.arrayContaining([`dynamodb:GetItem ${tables.blocks}`, `dynamodb:Query ${tables.blocks}`, `dynamodb:PutItem ${tables.history}`]));
  expect(made.filter((call) => !allowed.has(call))).toEqual([]);
});

function statementsOf(template: Template, roleFragment: string): any[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.includes(roleFragment));
  expect(policies).toHaveLength(1);
  return policies[0][1].Properties.PolicyDocument.Statement;
}
