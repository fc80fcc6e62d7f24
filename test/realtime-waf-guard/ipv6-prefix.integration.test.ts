import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { ipSetSyncConfigFromEnv, logProcessorConfigFromEnv } from '../../src/realtime-waf-guard/runtime/config';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { FakeWaf } from '../support/fake-waf';
import { createGuardTables, ipSetSyncDeps } from '../support/guard-setup';
import { KinesisPoller } from '../support/kinesis-poller';
import { LocalDynamo, LocalKinesis } from '../support/local-aws';
import { logLine } from '../support/log-lines';
import { Recorder } from '../support/recorders';

// The LogProcessor and the IpSetSync as their handlers build them (configuration from the environment the construct
// sets), over local DynamoDB and Kinesis and the WAF fake.
const T0 = 1_700_000_000_000;
let dynamo: LocalDynamo;
let kinesis: LocalKinesis;
const published: PublishCommandInput[] = [];
const sns = mockClient(SNSClient);

beforeAll(async () => {
  [dynamo, kinesis] = await Promise.all([LocalDynamo.start(), LocalKinesis.start()]);
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    published.push(input);
    return { MessageId: `m${published.length}` };
  });
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), kinesis.stop()]);
  sns.restore();
  mockClient(WAFV2Client).restore();
});

const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK', enabled: true };
const FIELDS = 'timestamp,c-ip,cs-host,cs-uri-stem,x-forwarded-for';

/** `count` requests over 30 s, the n-th from `address(n)`. */
function requests(address: (n: number) => string, count: number): string[] {
  return Array.from({ length: count }, (_, n) => logLine(FIELDS.split(','), {
    'timestamp': ((T0 + Math.floor((n * 30_000) / count)) / 1000).toFixed(3),
    'c-ip': address(n),
    'cs-host': 'api.example.com',
    'cs-uri-stem': '/v1/items',
  }));
}
const hex = (n: number) => (n % 65536).toString(16);

test('an attacker rotating through 1,000 addresses of one /64 is blocked, alerted, recorded and released as that /64', async () => {
  const tables = await createGuardTables(dynamo, [rule]);
  const waf = new FakeWaf();
  waf.install();
  const v4 = waf.createSet('guard-v4', 'IPV4');
  const v6 = waf.createSet('guard-v6', 'IPV6');
  const env = {
    [ENV.FIELDS]: FIELDS,
    [ENV.SAMPLING_RATE]: '100',
    [ENV.ALLOW_LIST]: '2001:db8:7:7::17',
    [ENV.TRUSTED_PROXIES]: '',
    [ENV.IPV6_PREFIX_LENGTH]: '64',
    [ENV.RULES_TABLE]: tables.rules,
    [ENV.COUNTERS_TABLE]: tables.counters,
    [ENV.BLOCKS_TABLE]: tables.blocks,
    [ENV.HISTORY_TABLE]: tables.history,
    [ENV.IPV4_SET_NAME]: v4.name,
    [ENV.IPV4_SET_ID]: v4.id,
    [ENV.IPV6_SET_NAME]: v6.name,
    [ENV.IPV6_SET_ID]: v6.id,
    [ENV.TOPIC_ARN]: 'arn:aws:sns:us-east-1:123456789012:alerts',
    [ENV.SERVICE_NAME]: 'v6-guard',
  };
  let now = T0 + 31_000;
  const recorder = new Recorder();
  const config = logProcessorConfigFromEnv(env);
  const processor = new LogProcessor(config, {
    rules: new RulesCache(() => loadRules(dynamo.doc, tables.rules), 0),
    counters: new CounterStore(dynamo.client, tables.counters, config.counterRetentionSeconds),
    blocks: new BlockStore(dynamo.doc, tables.blocks, tables.counters, config.maxNewBlocksPerMinute),
    metrics: recorder,
    log: recorder,
    now: () => now,
  });
  const sync = new IpSetSync(ipSetSyncConfigFromEnv(env), ipSetSyncDeps(dynamo, recorder, () => now));

  const lines = [
    // 1,000 distinct addresses of 2001:db8:1:2::/64, one request each
    ...requests((n) => `2001:db8:1:2:${hex(n * 7919)}:${hex(n)}:${hex(n * 31)}:${hex(n * 17 + 1)}`, 1000),
    // its neighbour /64 stays under the threshold: it must not be merged into a /63
    ...requests((n) => `2001:db8:1:3::${hex(n + 1)}`, 60),
    // a /64 over the threshold that holds an allow-listed host (whose own requests do not count)
    ...requests((n) => `2001:db8:7:7::${hex(n + 1)}`, 150),
  ];
  const stream = await kinesis.createStream('logs');
  const poller = new KinesisPoller(kinesis.client, stream);
  await poller.init();
  for (let i = 0; i < lines.length; i += 500) {
    await kinesis.client.send(new PutRecordsCommand({
      StreamName: stream,
      Records: lines.slice(i, i + 500).map((l, j) => ({ Data: Buffer.from(`${l}\n`), PartitionKey: `p${i + j}` })),
    }));
  }
  const records = (await poller.poll(lines.length)).flat();
  expect(records).toHaveLength(lines.length);
  expect((await processor.process(records)).batchItemFailures).toEqual([]);

  const rows = ((await dynamo.doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
  expect(rows.map((r) => [r.ip, r.family, r.observed]).sort()).toEqual([['2001:db8:1:2::/64', 6, 1000], ['2001:db8:7:7::/64', 6, 149]]);

  await sync.run();
  expect(waf.addresses(v6.id)).toEqual(['2001:db8:1:2::/64']);
  expect(waf.addresses(v4.id)).toEqual([]);
  expect(published).toHaveLength(1);
  expect(published[0].Message).toMatch(/Blocked in WAF:\n {2}2001:db8:1:2::\/64 {2}rule api .*1000 requests in 60 s/);
  expect(published[0].Message).toMatch(/NOT blocked: the prefix holds an allow-listed address.*\n {2}2001:db8:7:7::\/64 {2}rule api/);
  const events = async (ip: string) => ((await dynamo.doc.send(new QueryCommand({
    TableName: tables.history, KeyConditionExpression: 'ip = :ip', ExpressionAttributeValues: { ':ip': ip },
  }))).Items ?? []).map((i) => i.event);
  expect(await events('2001:db8:1:2::/64')).toEqual(['BLOCKED']);
  expect(await events('2001:db8:7:7::/64')).toEqual(['NOT_APPLIED_ALLOW_LISTED']);

  now = T0 + 31_000 + 300_000;
  await sync.run();
  expect(waf.addresses(v6.id)).toEqual([]);
  expect(published).toHaveLength(2);
  expect(published[1].Message).toMatch(/Released:\n {2}2001:db8:1:2::\/64 {2}rule api/);
  expect(published[1].Message).not.toContain('2001:db8:7:7::/64');
  expect((await events('2001:db8:1:2::/64')).sort()).toEqual(['BLOCKED', 'RELEASED']);
  expect((await events('2001:db8:7:7::/64')).sort()).toEqual(['ENDED_NOT_APPLIED', 'NOT_APPLIED_ALLOW_LISTED']);
});
