import { SNSClient } from '@aws-sdk/client-sns';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { FakeWaf } from './fake-waf';
import { LocalDynamo } from './local-aws';
import { Recorder } from './recorders';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { HistoryStore } from '../../src/realtime-waf-guard/runtime/history-store';
import { CidrSet } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetRef, IpSetSyncConfig, IpSetSyncDeps } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { BLOCKS_TABLE, COUNTERS_TABLE, HISTORY_TABLE, RULES_TABLE } from '../../src/realtime-waf-guard/table-schemas';

export interface GuardTables {
  readonly rules: string;
  readonly counters: string;
  readonly blocks: string;
  readonly history: string;
}

/** A guard's four tables, new in dynalite, with `rules` stored as they are (rows as an operator may type them). */
export async function createGuardTables(dynamo: LocalDynamo, rules: ReadonlyArray<StoredRule | Record<string, unknown>> = []): Promise<GuardTables> {
  const tables = {
    rules: await dynamo.createTable('rules', RULES_TABLE),
    counters: await dynamo.createTable('counters', COUNTERS_TABLE),
    blocks: await dynamo.createTable('blocks', BLOCKS_TABLE),
    history: await dynamo.createTable('history', HISTORY_TABLE),
  };
  for (const rule of rules) await dynamo.doc.send(new PutCommand({ TableName: tables.rules, Item: rule }));
  return tables;
}

/**
 * The IP set sync's clients and telemetry: dynalite, and WAF and SNS clients whose calls the test's fakes answer
 * (FakeWaf.install, recordSnsPublishes); retries do not wait.
 */
export function ipSetSyncDeps(dynamo: LocalDynamo, recorder: Recorder, now: () => number): IpSetSyncDeps {
  return {
    doc: dynamo.doc,
    waf: new WAFV2Client({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    log: recorder,
    metrics: recorder,
    now,
    sleep: async () => {},
  };
}

/** A sync's settings for the test's sets and tables: no allow-list, WAF's set size, an alert topic. */
export function ipSetSyncConfig(
  guardName: string,
  sets: { ipv4: IpSetRef; ipv6: IpSetRef },
  tables: { blocksTable: string; historyTable: string },
): IpSetSyncConfig {
  return {
    guardName,
    scope: 'CLOUDFRONT',
    ...sets,
    allowList: new CidrSet([]),
    maxSetSize: 10_000,
    historyRetentionDays: 30,
    ...tables,
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
  };
}

/**
 * dynalite for the whole test file: started before its first test and stopped after its last. Returns the running
 * instance's getter (there is none until `beforeAll` has run).
 */
export function useLocalDynamo(): () => LocalDynamo {
  let dynamo: LocalDynamo | undefined;
  beforeAll(async () => {
    dynamo = await LocalDynamo.start();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  return () => {
    if (!dynamo) throw new Error('useLocalDynamo: dynalite is not running (used outside a test?)');
    return dynamo;
  };
}

/**
 * A log processor over the guard's tables in dynalite: every request logged (sampling 100%), no allow-list or trusted
 * proxies, rules re-read on every batch, `recorder` for metrics and logs.
 */
export function logProcessorFor(
  dynamo: LocalDynamo,
  tables: GuardTables,
  fields: ConstructorParameters<typeof LogProcessor>[0]['fields'],
  recorder: Recorder,
  now: () => number,
): LogProcessor {
  return new LogProcessor(
    { fields, samplingRate: 100, allowList: new CidrSet([]), trustedProxies: new CidrSet([]) },
    {
      rules: new RulesCache(() => loadRules(dynamo.doc, tables.rules, { samplingRate: 100, minLoggedRequests: 10 }), 0),
      counters: new CounterStore(dynamo.client, tables.counters),
      blocks: new BlockStore(dynamo.doc, tables.blocks, tables.counters, 50),
      history: new HistoryStore(dynamo.doc, tables.history, 30),
      metrics: recorder,
      log: recorder,
      now,
    },
  );
}

/**
 * A synthesized guard's parts for the runtime: the log processor's and the sync's environments, the WebACL, its IP sets,
 * and every one of them created in a (newly installed) WAF fake under its logical id.
 */
export function synthesizedGuard(template: Template) {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment?.Variables ?? {});
  const processorEnv = functions.find((v) => v[ENV.COUNTERS_TABLE] !== undefined)!;
  const syncEnv = functions.find((v) => v[ENV.HISTORY_TABLE] !== undefined && v[ENV.IPV4_SET_ID] !== undefined)!;
  const [webAcl] = Object.values(template.findResources('AWS::WAFv2::WebACL'));
  const ipSets = template.findResources('AWS::WAFv2::IPSet');
  const waf = new FakeWaf();
  waf.install();
  for (const [id, set] of Object.entries(ipSets)) waf.createSet(id, set.Properties.IPAddressVersion);
  return { processorEnv, syncEnv, webAcl, ipSets, waf };
}
