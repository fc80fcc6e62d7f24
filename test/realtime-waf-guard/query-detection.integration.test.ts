import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { METRIC } from '../../src/realtime-waf-guard/handler-env';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { DEFAULT_ANALYTICS_FIELDS } from '../../src/realtime-waf-guard/runtime/analytics-records';
import { TimestreamSink } from '../../src/realtime-waf-guard/runtime/analytics-sink';
import { BlockRow, BlockStore } from '../../src/realtime-waf-guard/runtime/block-store';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { IpSetSync } from '../../src/realtime-waf-guard/runtime/ip-set-sync';
import { StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { loadShields, OperatorActions } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { QueryDetector } from '../../src/realtime-waf-guard/runtime/query-detector';
import { loadRules, RulesCache } from '../../src/realtime-waf-guard/runtime/rules-store';
import { FakeTimestream } from '../support/fake-timestream';
import { FakeWaf } from '../support/fake-waf';
import { createGuardTables, ipSetSyncDeps, useLocalDynamo } from '../support/guard-setup';
import { logLine, streamRecord } from '../support/log-lines';
import { Recorder, recordSnsPublishes } from '../support/recorders';

const fields = deliveredFieldOrder([...DEFAULT_ANALYTICS_FIELDS, 'x-edge-request-id', 'cs-user-agent']);
const T0 = 1_700_000_000_000;
const cidrs = (list: string[]) => new CidrSet(parseCidrList(list, 'test'));
const dynamo = useLocalDynamo();
recordSnsPublishes();


interface Setup {
  rules: StoredRule[];
  samplingRate?: number;
  trustedProxies?: string[];
  allowList?: string[];
  analyticsFields?: string[];
}

async function setup(options: Setup) {
  const { rules: rulesTable, counters: countersTable, blocks: blocksTable, history: historyTable } = await createGuardTables(dynamo(), options.rules);
  let now = T0;
  const samplingRate = options.samplingRate ?? 100;
  const timestream = new FakeTimestream('guard-db', 'requests', { now: () => now, memoryRetentionMs: 24 * 3_600_000 });
  const tsMocks = timestream.install();
  const waf = new FakeWaf();
  const wafMock = waf.install();
  const ipv4 = waf.createSet('guard-v4', 'IPV4');
  const ipv6 = waf.createSet('guard-v6', 'IPV6');
  const forwardedIpv4 = waf.createSet('guard-fwd-v4', 'IPV4');
  const forwardedIpv6 = waf.createSet('guard-fwd-v6', 'IPV6');
  const recorder = new Recorder();
  const sink = new TimestreamSink(
    {
      database: 'guard-db',
      table: 'requests',
      fields,
      analyticsFields: options.analyticsFields ?? DEFAULT_ANALYTICS_FIELDS,
      allowList: cidrs(options.allowList ?? []),
      trustedProxies: cidrs(options.trustedProxies ?? []),
    },
    { client: new TimestreamWriteClient({ region: 'us-east-1' }), log: recorder, metrics: recorder },
  );
  const detector = new QueryDetector(
    { database: 'guard-db', table: 'requests', samplingRate, intervalMs: 60_000 },
    {
      rules: new RulesCache(() => loadRules(dynamo().doc, rulesTable, { samplingRate, minLoggedRequests: 10 }), 0),
      query: new TimestreamQueryClient({ region: 'us-east-1' }),
      blocks: new BlockStore(dynamo().doc, blocksTable, countersTable, 50),
      shields: { get: (nowMs: number) => loadShields(dynamo().doc, blocksTable, nowMs) },
      metrics: recorder,
      log: recorder,
      now: () => now,
    },
  );
  const sync = new IpSetSync(
    {
      guardName: 'test-guard',
      scope: 'CLOUDFRONT',
      ipv4,
      ipv6,
      forwardedIpv4,
      forwardedIpv6,
      allowList: cidrs(options.allowList ?? []),
      maxSetSize: 10_000,
      historyRetentionDays: 30,
      blocksTable,
      historyTable,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
    },
    ipSetSyncDeps(dynamo(), recorder, () => now),
  );
  const blocks = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: blocksTable }))).Items ?? []) as BlockRow[];
  const restore = () => { tsMocks.restore(); wafMock.restore(); };
  const actions = new OperatorActions(dynamo().doc, blocksTable, () => now);
  const setNow = (ms: number) => { now = ms; };
  return { timestream, waf, ipv4, ipv6, forwardedIpv4, sink, detector, sync, blocks, recorder, actions, restore, setNow };
}

let counter = 0;
/** `count` requests of one client, spread over `seconds` from `startMs`, as Kinesis records. */
function requests(ip: string, count: number, startMs: number, seconds: number, extra: Record<string, string> = {}): StreamRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const n = ++counter;
    const line = logLine(fields, {
      'timestamp': ((startMs + Math.floor((i * seconds * 1000) / count)) / 1000).toFixed(3),
      'c-ip': ip,
      'cs-host': 'api.example.com',
      'cs-uri-stem': `/v1/items/${i}`,
      'sc-status': 200,
      'x-edge-request-id': `req-${n}`,
      ...extra,
    });
    return streamRecord(line, String(n), startMs, 'shardId-000');
  });
}

const apiRule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 50, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true };

afterEach(() => {
  mockClient(WAFV2Client).restore();
});

test('offenders written through the sink reach the block table and, through the real sync, the IP sets', async () => {
  const s = await setup({ rules: [apiRule, { ...apiRule, ruleId: 'login', pathPrefix: '/login', threshold: 20 }] });
  try {
    await s.sink.write([
      // over the threshold across many paths: counted per host, not per path
      ...requests('198.51.100.7', 60, T0, 30),
      ...requests('2001:db8:aa:1::1', 30, T0, 30),
      ...requests('2001:db8:aa:1::2', 30, T0, 30),
      // under the threshold
      ...requests('192.0.2.10', 45, T0, 30),
      // over it only on another host
      ...requests('192.0.2.11', 80, T0, 30, { 'cs-host': 'www.example.com' }),
      // over the login rule only
      ...requests('203.0.113.9', 25, T0, 20, { 'cs-uri-stem': '/login' }),
    ]);
    s.setNow(T0 + 45_000);
    const summary = await s.detector.run();
    expect(summary.failedRules).toEqual([]);
    const rows = await s.blocks();
    expect(rows.map((r) => `${r.ruleId} ${r.ip}`).sort()).toEqual([
      'api 198.51.100.7', 'api 2001:db8:aa:1::/64', 'login 203.0.113.9',
    ]);
    const ipv4Row = rows.find((r) => r.ip === '198.51.100.7')!;
    expect(ipv4Row.observed).toBe(60);
    expect(ipv4Row.blockedUntil).toBe(ipv4Row.crossedAt + 600_000);
    expect(s.recorder.metrics.get(METRIC.NEW_BLOCKS)).toBe(3);
    // answers came over several pages, the first empty
    expect(s.timestream.queries).toHaveLength(2);

    await s.sync.run();
    expect(s.waf.addresses(s.ipv4.id).sort()).toEqual(['198.51.100.7/32', '203.0.113.9/32']);
    expect(s.waf.addresses(s.ipv6.id)).toEqual(['2001:db8:aa:1::/64']);

    // The next run sees the same clients: already blocked, nothing new.
    s.setNow(T0 + 105_000);
    const again = await s.detector.run();
    expect(again.created).toBe(0);
    expect((await s.blocks())).toHaveLength(3);
  } finally {
    s.restore();
  }
});

test('sampled counts are judged by the sampling bound; clients behind trusted proxies go to the forwarded sets; allow-listed ones are never counted', async () => {
  const s = await setup({ rules: [apiRule], samplingRate: 20, trustedProxies: ['203.0.113.0/24'], allowList: ['192.0.2.99'] });
  try {
    await s.sink.write([
      // at 20% a threshold of 50 per minute blocks at 22 logged requests in a window (sampling-bound.ts), like streaming
      ...requests('198.51.100.7', 22, T0, 30),
      // 21 estimate 105 real requests, but a client at 70% of the threshold would show that by chance
      ...requests('198.51.100.8', 21, T0, 30),
      // through a trusted proxy: the forwarded client counts, the proxy never
      ...requests('203.0.113.5', 24, T0, 30, { 'x-forwarded-for': '192.0.2.44' }),
      ...requests('192.0.2.99', 40, T0, 30),
    ]);
    s.setNow(T0 + 40_000);
    await s.detector.run();
    const rows = await s.blocks();
    expect(rows.map((r) => [r.ip, r.observed, r.route]).sort()).toEqual([
      ['192.0.2.44', 120, 'PROXY'], ['198.51.100.7', 110, 'DIRECT'],
    ]);
    await s.sync.run();
    expect(s.waf.addresses(s.ipv4.id)).toEqual(['198.51.100.7/32']);
    // the direct client is in the forwarded set too (blocked should it come through a proxy); the proxied one is not
    // in the source-address set, only a proxy having named it
    expect(s.waf.addresses(s.forwardedIpv4.id)).toEqual(['192.0.2.44/32', '198.51.100.7/32']);
  } finally {
    s.restore();
  }
});

test('a failing rule query is logged and counted; the other rules still block', async () => {
  const s = await setup({ rules: [apiRule, { ...apiRule, ruleId: 'broken', host: 'other.example.com' }] });
  try {
    await s.sink.write(requests('198.51.100.7', 60, T0, 30));
    const query = s.timestream.query.bind(s.timestream);
    s.timestream.query = (input) => {
      if (input.QueryString?.includes('other.example.com')) throw Object.assign(new Error('Query exceeded the maximum TCUs'), { name: 'ThrottlingException' });
      return query(input);
    };
    s.setNow(T0 + 40_000);
    const summary = await s.detector.run();
    expect(summary.failedRules).toEqual(['broken']);
    expect(s.recorder.metrics.get(METRIC.DETECTION_QUERY_ERRORS)).toBe(1);
    expect(s.recorder.logs.find((l) => l.message === 'detection query failed')!.extra).toMatchObject({ ruleId: 'broken' });
    expect((await s.blocks()).map((r) => r.ip)).toEqual(['198.51.100.7']);
  } finally {
    s.restore();
  }
});

test('query detection spares a network an operator allow-listed at run time, like streaming detection', async () => {
  const s = await setup({ rules: [apiRule] });
  try {
    await s.actions.allow({ target: '198.51.100.0/24', reason: 'partner load test', operator: { name: 'ops', via: 'cli' } });
    await s.sink.write([...requests('198.51.100.7', 60, T0, 30), ...requests('203.0.113.50', 60, T0, 30)]);
    s.setNow(T0 + 45_000);
    const summary = await s.detector.run();
    expect(summary.failedRules).toEqual([]);
    const rows = (await s.blocks()).filter((r) => !r.ip.startsWith('#'));
    expect(rows.map((r) => r.ip)).toEqual(['203.0.113.50']);
    expect(s.recorder.logs.some((l) => l.message.startsWith('clients over a threshold spared'))).toBe(true);
  } finally {
    s.restore();
  }
});

test('a rule that ignores case counts /LOGIN and /Login in SQL too; a case-sensitive rule does not', async () => {
  const s = await setup({
    rules: [
      { ...apiRule, ruleId: 'login', pathPrefix: '/login', threshold: 20 },
      { ...apiRule, ruleId: 'admin', pathPrefix: '/admin', pathCaseSensitive: true, threshold: 20 },
    ],
  });
  try {
    await s.sink.write([
      ...requests('203.0.113.9', 12, T0, 20, { 'cs-uri-stem': '/LOGIN' }),
      ...requests('203.0.113.9', 13, T0, 20, { 'cs-uri-stem': '/Login/x' }),
      ...requests('203.0.113.10', 25, T0, 20, { 'cs-uri-stem': '/ADMIN' }),
    ]);
    s.setNow(T0 + 45_000);
    expect((await s.detector.run()).failedRules).toEqual([]);
    expect((await s.blocks()).map((r) => `${r.ruleId} ${r.ip}`)).toEqual(['login 203.0.113.9']);
    expect(s.timestream.queries.find((q) => q.includes("'/login'"))).toContain('substr(lower("path"), 1, 6) = \'/login\'');
    expect(s.timestream.queries.find((q) => q.includes("'/admin'"))).toContain('substr("path", 1, 6) = \'/admin\'');
  } finally {
    s.restore();
  }
});

test('requests with a 253-character host, a long multi-byte path and a user agent are written and counted by query detection', async () => {
  const host = `${['a', 'b', 'c'].map((c) => `${c}${'x'.repeat(62)}`).join('.')}.${'y'.repeat(49)}.example.com`;
  expect(host).toHaveLength(253);
  const s = await setup({
    rules: [{ ...apiRule, ruleId: 'login', host: '*.example.com', pathPrefix: '/login', threshold: 20 }],
    analyticsFields: [...DEFAULT_ANALYTICS_FIELDS, 'cs-user-agent'],
  });
  try {
    const result = await s.sink.write(requests('203.0.113.9', 25, T0, 20, {
      'cs-host': host, 'cs-uri-stem': `/login/${'日本語'.repeat(200)}`, 'cs-user-agent': `Mozilla/5.0 (${'Ä'.repeat(300)})`,
    }));
    expect(result).toMatchObject({ written: 25, rejected: 0 });
    s.setNow(T0 + 45_000);
    expect((await s.detector.run()).failedRules).toEqual([]);
    expect((await s.blocks()).map((r) => `${r.ruleId} ${r.ip}`)).toEqual(['login 203.0.113.9']);
  } finally {
    s.restore();
  }
});
