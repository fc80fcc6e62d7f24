import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { METRIC } from '../../src/realtime-waf-guard/handler-env';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { loadRules } from '../../src/realtime-waf-guard/runtime/rules-store';
import { StreamRecord } from '../../src/realtime-waf-guard/runtime/stream-record';
import { createGuardTables, logProcessorFor, useLocalDynamo } from '../support/guard-setup';
import { logLine } from '../support/log-lines';
import { Recorder } from '../support/recorders';

const fields = deliveredFieldOrder(['sc-status']);
const T0 = 1_700_000_000_000;
const dynamo = useLocalDynamo();


const good = { ruleId: { S: 'login' }, host: { S: 'api.example.com' }, threshold: { N: '20' }, windowSeconds: { N: '60' }, blockSeconds: { N: '300' }, action: { S: 'BLOCK' } };
/** Rows an operator (or an attacker with write access to the rules table) can store, written with the plain client. */
const HOSTILE = [
  { ...good, ruleId: { S: 'huge' }, threshold: { N: '9007199254740993' } },
  { ...good, ruleId: { S: 'exponent' }, threshold: { N: '1E+30' } },
  { ...good, ruleId: { S: 'listed' }, threshold: { L: [{ N: '20' }] } },
  { ...good, ruleId: { S: 'numbers' }, windowSeconds: { NS: ['60', '99999999999999999999999'] } },
  { ...good, ruleId: { S: 'nested' }, enabled: { M: { value: { BOOL: true } } } },
  { ...good, ruleId: { S: 'binary' }, host: { B: new Uint8Array([0x1b, 0x5b]) } },
  { ...good, ruleId: { S: 'evil\u001b]0;owned\u0007' } },
];

test('hostile rows in the rules table are refused one by one, and the good rule still blocks', async () => {
  const tables = await createGuardTables(dynamo());
  for (const item of [good, ...HOSTILE]) await dynamo().client.send(new PutItemCommand({ TableName: tables.rules, Item: item }));

  // Through the document client the handlers use (its own conversion of the page is what threw).
  const loaded = await loadRules(dynamo().doc, tables.rules, { samplingRate: 100, minLoggedRequests: 10 });
  expect(loaded.rules.map((r) => r.ruleId)).toEqual(['login']);
  expect(loaded.invalid).toHaveLength(HOSTILE.length);
  expect(loaded.invalid.join('\n')).toContain('rule "huge": threshold must be a whole number of requests from 1 to 100000000 (got 9007199254740993)');
  expect(loaded.invalid.join('\n')).toContain('rule "evil\\u001b]0;owned\\u0007": ruleId must not hold control characters');

  const recorder = new Recorder();
  const processor = logProcessorFor(dynamo(), tables, fields, recorder, () => T0 + 5_000);
  const records: StreamRecord[] = Array.from({ length: 25 }, (_, i) => ({
    eventID: `shardId-000:${i}`,
    kinesis: {
      data: Buffer.from(`${logLine(fields, {
        'timestamp': ((T0 + i * 100) / 1000).toFixed(3), 'c-ip': '198.51.100.7', 'sc-status': 200, 'cs-host': 'api.example.com', 'cs-uri-stem': '/login',
      })}\n`).toString('base64'),
      sequenceNumber: String(1000 + i),
      approximateArrivalTimestamp: (T0 + i * 100) / 1000,
    },
  }));
  const result = await processor.process(records);
  expect(result.batchItemFailures).toEqual([]);
  const blocks = ((await dynamo().doc.send(new ScanCommand({ TableName: tables.blocks }))).Items ?? []) as BlockRow[];
  expect(blocks.filter((b) => b.ruleId === 'login').map((b) => [b.ip, b.action, b.observed])).toEqual([['198.51.100.7', 'BLOCK', 25]]);
  // Refused rows are measured every batch (the InvalidRuleRows alarm) and each logged once.
  expect(recorder.metrics.get(METRIC.INVALID_RULE_ROWS)).toBe(HOSTILE.length);
  const logged = recorder.logs.filter((l) => l.message === 'skipping invalid rule row').map((l) => String(l.extra?.problem));
  expect(logged.sort()).toEqual([...loaded.invalid].sort());
});
