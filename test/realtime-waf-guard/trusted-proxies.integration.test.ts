import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { synthGuard } from './construct-fixtures';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { ipSetSyncConfigFromEnv, logProcessorConfigFromEnv } from '../../src/realtime-waf-guard/runtime/config';
import { CounterStore } from '../../src/realtime-waf-guard/runtime/counter-store';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { LogProcessor } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { createGuardTables, ipSetSyncDeps, synthesizedGuard } from '../support/guard-setup';
import { KinesisPoller } from '../support/kinesis-poller';
import { LocalDynamo, LocalKinesis } from '../support/local-aws';
import { logLine } from '../support/log-lines';
import { Recorder, recordSnsPublishes } from '../support/recorders';
import { evaluateWebAcl, WafRequest } from '../support/waf-evaluator';

// The guard as synthesized (WebACL, IP sets, handler environments), its handlers run over local DynamoDB and Kinesis
// and the WAF fake, and the WebACL's rules evaluated over the IP sets the sync wrote.
const T0 = 1_700_000_000_000;
let dynamo: LocalDynamo;
let kinesis: LocalKinesis;
recordSnsPublishes();

beforeAll(async () => {
  [dynamo, kinesis] = await Promise.all([LocalDynamo.start(), LocalKinesis.start()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), kinesis.stop()]);
  mockClient(WAFV2Client).restore();
});

const PROXY = '10.1.2.3';
const ATTACKER = '203.0.113.77';
const DIRECT_ATTACKER = '192.0.2.44';
const VICTIM = '198.51.100.50';
const BYSTANDER = '198.51.100.60';
const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 20, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK', enabled: true };

/** The logical id a CloudFormation value (Ref, GetAtt, or a function of them) refers to. */
const logicalId = (value: unknown): string => JSON.stringify(value).match(/"(?:Ref":"|Fn::GetAtt":\[")([A-Za-z0-9]+)"/)![1];

test('a proxied attacker is blocked through the proxy; a forged X-Forwarded-For from elsewhere neither blocks nor shields', async () => {
  const { template } = synthGuard({ trustedProxies: ['10.0.0.0/8'], guardName: 'proxy-guard' });
  const { processorEnv, syncEnv, webAcl, ipSets, waf } = synthesizedGuard(template);
  const guardTables = await createGuardTables(dynamo, [rule]);
  const tables: Record<string, string> = {
    [ENV.RULES_TABLE]: guardTables.rules,
    [ENV.COUNTERS_TABLE]: guardTables.counters,
    [ENV.BLOCKS_TABLE]: guardTables.blocks,
    [ENV.HISTORY_TABLE]: guardTables.history,
  };
  // The environment as deployed: set names resolve to the set's name, ids to its id.
  const resolve = (env: Record<string, unknown>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k,
    typeof v === 'string' ? v : tables[k] ?? (k.endsWith('_SET_ID') ? `${logicalId(v)}-id` : k.endsWith('_SET_NAME') ? logicalId(v) : 'arn:aws:sns:us-east-1:1:t')]));
  const now = T0 + 31_000;
  const recorder = new Recorder();
  const config = logProcessorConfigFromEnv(resolve(processorEnv));
  const processor = new LogProcessor(config, {
    rules: new RulesCache(() => loadRules(dynamo.doc, tables[ENV.RULES_TABLE]), 0),
    counters: new CounterStore(dynamo.client, tables[ENV.COUNTERS_TABLE], config.counterRetentionSeconds),
    blocks: new BlockStore(dynamo.doc, tables[ENV.BLOCKS_TABLE], tables[ENV.COUNTERS_TABLE], 50),
    metrics: recorder,
    log: recorder,
    now: () => now,
  });
  const sync = new IpSetSync(ipSetSyncConfigFromEnv(resolve(syncEnv)), ipSetSyncDeps(dynamo, recorder, () => now));

  const lines = (cIp: string, xff: string | undefined, count: number) => Array.from({ length: count }, (_, i) => logLine(config.fields, {
    'timestamp': ((T0 + i * 1000) / 1000).toFixed(3), 'c-ip': cIp, 'cs-host': 'api.example.com', 'cs-uri-stem': '/v1', 'x-forwarded-for': xff ?? '-',
  }));
  const traffic = [
    // the attacker comes through the trusted proxy, naming the victim in the header it writes
    ...lines(PROXY, `${VICTIM},%20${ATTACKER}`, 30),
    // another attacker connects directly, naming the victim too
    ...lines(DIRECT_ATTACKER, VICTIM, 30),
    // the victim, directly and through the proxy, well under the threshold
    ...lines(VICTIM, undefined, 3), ...lines(PROXY, VICTIM, 3),
  ];
  const stream = await kinesis.createStream('logs');
  const poller = new KinesisPoller(kinesis.client, stream);
  await poller.init();
  await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records: traffic.map((l, i) => ({ Data: Buffer.from(l), PartitionKey: `p${i}` })) }));
  expect((await processor.process((await poller.poll(1000)).flat())).batchItemFailures).toEqual([]);

  const rows = ((await dynamo.doc.send(new ScanCommand({ TableName: tables[ENV.BLOCKS_TABLE] }))).Items ?? []) as BlockRow[];
  expect(rows.map((r) => [r.ip, r.route]).sort()).toEqual([[DIRECT_ATTACKER, 'DIRECT'], [ATTACKER, 'PROXY']]);
  await sync.run();
  const setOf = (envName: string) => waf.addresses(resolve(syncEnv)[envName]);
  // The direct attacker is in the forwarded set too: should it go on through the proxy, it is the same client. The
  // proxied one stays out of the source-address set: only a proxy has named its address.
  expect(setOf(ENV.FORWARDED_IPV4_SET_ID)).toEqual([`${DIRECT_ATTACKER}/32`, `${ATTACKER}/32`]);
  expect(setOf(ENV.IPV4_SET_ID)).toEqual([`${DIRECT_ATTACKER}/32`]);
  expect([setOf(ENV.IPV6_SET_ID), setOf(ENV.FORWARDED_IPV6_SET_ID)]).toEqual([[], []]);

  // WAF's view: the template's rules over the sets as the sync left them (trusted proxies: as the template defines).
  const lookup = (arn: unknown) => {
    const id = logicalId(arn);
    const set = ipSets[id].Properties;
    return { version: set.IPAddressVersion, addresses: set.Addresses.length > 0 ? set.Addresses : waf.addresses(`${id}-id`) };
  };
  const verdict = (request: WafRequest) => evaluateWebAcl(webAcl.Properties.Rules, lookup, request).action;
  // the attacker through the proxy, whatever it writes on the left of the header
  expect(verdict({ sourceIp: PROXY, xff: `${VICTIM}, ${ATTACKER}` })).toBe('BLOCK');
  expect(verdict({ sourceIp: PROXY, xff: ATTACKER })).toBe('BLOCK');
  expect(verdict({ sourceIp: PROXY, xff: `garbage, 10.9.9.9, ${ATTACKER}` })).toBe('BLOCK');
  // a direct request with a forged header naming the attacker blocks nobody; naming the victim shields nobody
  expect(verdict({ sourceIp: BYSTANDER, xff: ATTACKER })).toBe('ALLOW');
  expect(verdict({ sourceIp: DIRECT_ATTACKER, xff: VICTIM })).toBe('BLOCK');
  // someone behind the proxy who writes the attacker's address into the header is not blocked for it
  expect(verdict({ sourceIp: PROXY, xff: `${ATTACKER}, ${BYSTANDER}` })).toBe('ALLOW');
  // the victim's own requests, direct and through the proxy
  expect(verdict({ sourceIp: VICTIM })).toBe('ALLOW');
  expect(verdict({ sourceIp: VICTIM, xff: ATTACKER })).toBe('ALLOW');
  expect(verdict({ sourceIp: PROXY, xff: VICTIM })).toBe('ALLOW');
  // the proxy's own requests without a header are not blamed
  expect(verdict({ sourceIp: PROXY })).toBe('ALLOW');
});
