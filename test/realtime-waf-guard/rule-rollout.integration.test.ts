import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { FakeWaf } from '../support/fake-waf';
import { createGuardTables, ipSetSyncConfig, ipSetSyncDeps, logProcessorFor, useLocalDynamo } from '../support/guard-setup';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder, recordSnsPublishes } from '../support/recorders';

/**
 * The documented rollout, through the log processor and the IP set sync against dynalite and the WAF fake: a rule
 * runs in COUNT, then an operator switches its row to BLOCK.
 */
const fields = deliveredFieldOrder([]);
const T0 = 1_700_000_000_000;
const dynamo = useLocalDynamo();
const published = recordSnsPublishes();

afterAll(() => {
  mockClient(WAFV2Client).restore();
});

const login: StoredRule = {
  ruleId: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 20, windowSeconds: 60, blockSeconds: 600, action: 'COUNT', enabled: true,
};

async function guard() {
  const tables = await createGuardTables(dynamo(), [login]);
  const waf = new FakeWaf();
  waf.install();
  const ipv4 = waf.createSet('guard-v4', 'IPV4');
  const ipv6 = waf.createSet('guard-v6', 'IPV6');
  const recorder = new Recorder();
  let now = T0;
  const processor = logProcessorFor(dynamo(), tables, fields, recorder, () => now);
  const sync = new IpSetSync(
    ipSetSyncConfig('shop', { ipv4, ipv6 }, { blocksTable: tables.blocks, historyTable: tables.history }),
    ipSetSyncDeps(dynamo(), recorder, () => now),
  );
  let sequence = 0;
  /** `count` login requests from `ip` over `seconds` from `startMs`, as one event source batch. */
  const attack = (ip: string, count: number, startMs: number, seconds: number): StreamRecord[] =>
    Array.from({ length: count }, (_, i) => {
      const line = logLine(fields, {
        'timestamp': ((startMs + Math.floor((i * seconds * 1000) / count)) / 1000).toFixed(3),
        'c-ip': ip,
        'cs-host': 'www.example.com',
        'cs-uri-stem': '/login',
      });
      return streamRecord(line, String(++sequence).padStart(20, '0'), startMs + seconds * 1000);
    });
  const setAction = (action: 'BLOCK' | 'COUNT') => dynamo().doc.send(new UpdateCommand({
    TableName: tables.rules, Key: { ruleId: 'login' }, UpdateExpression: 'SET #a = :a', ExpressionAttributeNames: { '#a': 'action' }, ExpressionAttributeValues: { ':a': action },
  }));
  const blockRows = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
  const history = async (ip: string) => ((await dynamo().doc.send(new QueryCommand({
    TableName: tables.history, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []).map((i) => i.event);
  return { processor, sync, waf, ipv4, attack, setAction, blockRows, history, setNow: (ms: number) => { now = ms; } };
}

test('switching a rule from COUNT to BLOCK blocks the client the dry run already caught, at once', async () => {
  const g = await guard();
  // the dry run catches an attacker: "would block" for 10 minutes
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack('198.51.100.200', 25, T0, 10));
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  expect(published.map((p) => p.Subject)).toEqual(['[shop] 1 would be blocked']);

  // the operator switches the row to BLOCK; the attacker goes on
  await g.setAction('BLOCK');
  g.setNow(T0 + 41_000);
  const r = await g.processor.process(g.attack('198.51.100.200', 25, T0 + 30_000, 10));
  expect(r.summary.created.map((b) => [b.ip, b.action, b.renewedFrom])).toEqual([['198.51.100.200', 'BLOCK', undefined]]);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.200/32']);
  expect(published.map((p) => p.Subject)).toEqual(['[shop] 1 would be blocked', '[shop] 1 blocked']);
  expect(await g.history('198.51.100.200')).toEqual(['WOULD_BLOCK', 'BLOCKED']);
  const [row] = await g.blockRows();
  expect(row).toMatchObject({ action: 'BLOCK', blockedUntil: T0 + 30_000 + 9600 + 600_000 });
});

test('switching back to COUNT never lifts a block: a dry run does not replace a block in force', async () => {
  const g = await guard();
  await g.setAction('BLOCK');
  g.setNow(T0 + 11_000);
  await g.processor.process(g.attack('198.51.100.201', 25, T0, 10));
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.201/32']);

  await g.setAction('COUNT');
  g.setNow(T0 + 41_000);
  const r = await g.processor.process(g.attack('198.51.100.201', 25, T0 + 30_000, 10));
  expect(r.summary.created).toEqual([]);
  await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual(['198.51.100.201/32']);
  expect((await g.blockRows()).map((b) => b.action)).toEqual(['BLOCK']);
});

test('a backlog offence reaches history through the processor, never WAF, and the sync leaves it be', async () => {
  const g = await guard();
  await g.setAction('BLOCK');
  // the batch is processed 50 minutes after the burst: its 10-minute block would long be over
  g.setNow(T0 + 50 * 60_000);
  const r = await g.processor.process(g.attack('198.51.100.202', 25, T0, 10));
  expect(r.summary.stale.map((b) => b.ip)).toEqual(['198.51.100.202']);
  const result = await g.sync.run();
  expect(g.waf.addresses(g.ipv4.id)).toEqual([]);
  expect(result.digest).toBeUndefined();
  expect(await g.history('198.51.100.202')).toEqual(['STALE_OFFENCE']);
});
