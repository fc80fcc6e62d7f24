import { _Record, TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import fc from 'fast-check';
import { METRIC } from '../../src/realtime-waf-guard/handler-env';
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { AnalyticsRecordMapper, DEFAULT_ANALYTICS_FIELDS, RECORD_BUDGET_BYTES, RECORD_TOO_LARGE } from '../../src/realtime-waf-guard/runtime/analytics-records';
import { TimestreamSink, writeForQueryDetection } from '../../src/realtime-waf-guard/runtime/analytics-sink';
import { normaliseHost, pathReadings } from '../../src/realtime-waf-guard/runtime/detector';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { Malformed } from '../../src/realtime-waf-guard/runtime/log-parser';
import { LogProcessor, StreamRecord } from '../../src/realtime-waf-guard/runtime/log-processor';
import { FakeTimestream, MAX_RECORD_BYTES, recordSize } from '../support/fake-timestream';
import { logLine, recordData } from '../support/log-lines';
import { Recorder } from '../support/recorders';

const fields = deliveredFieldOrder([...DEFAULT_ANALYTICS_FIELDS, 'x-edge-request-id', 'c-ip', 'cs-user-agent']);
const T0 = 1_700_000_000_000;
const cidrs = (list: string[]) => new CidrSet(parseCidrList(list, 'test'));

function mapper(options: { trustedProxies?: string[]; allowList?: string[]; analyticsFields?: string[]; ipv6PrefixLength?: number } = {}) {
  return new AnalyticsRecordMapper({
    fields,
    analyticsFields: options.analyticsFields ?? [...DEFAULT_ANALYTICS_FIELDS, 'cs-user-agent'],
    allowList: cidrs(options.allowList ?? []),
    trustedProxies: cidrs(options.trustedProxies ?? []),
    ipv6PrefixLength: options.ipv6PrefixLength,
  });
}

const full = {
  'timestamp': '1700000000.123',
  'c-ip': '198.51.100.7',
  'time-to-first-byte': '0.012',
  'sc-status': '200',
  'sc-bytes': '5120',
  'cs-method': 'GET',
  'cs-host': 'API.Example.com.:443',
  'cs-uri-stem': '/a//./%6Cogin?next=/x',
  'x-edge-location': 'FRA56-P1',
  'x-edge-request-id': 'abc123==',
  'time-taken': '0.105',
  'c-ip-version': 'IPv4',
  'cs-user-agent': 'curl/8.0',
  'c-country': 'DE',
  'origin-fbl': '0.090',
  'origin-lbl': '0.101',
};

const dims = (r: _Record) => Object.fromEntries((r.Dimensions ?? []).map((d) => [d.Name, d.Value]));
const measures = (r: _Record) => Object.fromEntries((r.MeasureValues ?? []).map((m) => [m.Name, `${m.Type}:${m.Value}`]));

describe('record mapping', () => {
  test('dimensions, typed measures and the log time in milliseconds', () => {
    const record = mapper().map(logLine(fields, full)) as _Record;
    expect(record.Time).toBe('1700000000123');
    expect(record.TimeUnit).toBe('MILLISECONDS');
    expect(record.MeasureName).toBe('request');
    expect(record.MeasureValueType).toBe('MULTI');
    expect(dims(record)).toEqual({
      client: '198.51.100.7',
      route: 'DIRECT',
      // as rules match them: lower case without port or trailing dot; decoded once, dot segments resolved, no query
      host: 'api.example.com',
      path: '/a/login',
      request_id: 'abc123==',
      status: '200',
      method: 'GET',
      edge_location: 'FRA56-P1',
      ip_version: 'IPv4',
      country: 'DE',
      cs_user_agent: 'curl/8.0',
    });
    expect(measures(record)).toEqual({
      requests: 'BIGINT:1',
      sc_bytes: 'BIGINT:5120',
      time_taken: 'DOUBLE:0.105',
      time_to_first_byte: 'DOUBLE:0.012',
      origin_fbl: 'DOUBLE:0.090',
      origin_lbl: 'DOUBLE:0.101',
    });
  });

  test('"-" values leave their dimension or measure out; a value that is not a number is no measure', () => {
    const record = mapper().map(logLine(fields, { ...full, 'c-country': '-', 'origin-fbl': '-', 'origin-lbl': '-', 'sc-bytes': 'lots', 'x-edge-request-id': '-' })) as _Record;
    expect(dims(record)).not.toHaveProperty('country');
    expect(dims(record)).not.toHaveProperty('request_id');
    expect(measures(record)).toEqual({ requests: 'BIGINT:1', time_taken: 'DOUBLE:0.105', time_to_first_byte: 'DOUBLE:0.012' });
    // Only the `requests` measure is left when every numeric field is empty: a record needs one.
    const bare = mapper().map(logLine(fields, { 'timestamp': '1700000000.5', 'c-ip': '192.0.2.1' })) as _Record;
    expect(measures(bare)).toEqual({ requests: 'BIGINT:1' });
    expect(dims(bare)).toEqual({ client: '192.0.2.1', route: 'DIRECT' });
    expect(bare.Time).toBe('1700000000500');
  });

  test('clients are resolved as detection resolves them: prefixes, trusted proxies, allow-list', () => {
    const m = mapper({ trustedProxies: ['203.0.113.0/24'], allowList: ['192.0.2.99'], ipv6PrefixLength: 56 });
    const dimsOf = (values: Record<string, string>) => dims(m.map(logLine(fields, { ...full, ...values })) as _Record);
    expect(dimsOf({ 'c-ip': '2001:db8:1:2ff::9' })).toMatchObject({ client: '2001:db8:1:200::/56', route: 'DIRECT' });
    expect(dimsOf({ 'c-ip': '203.0.113.5', 'x-forwarded-for': '10.0.0.1,%20198.51.100.20' })).toMatchObject({ client: '198.51.100.20', route: 'PROXY' });
    expect(dimsOf({ 'c-ip': '203.0.113.5' })).toMatchObject({ client: '203.0.113.5', route: 'NO_CLIENT' });
    expect(dimsOf({ 'c-ip': '192.0.2.99' })).toMatchObject({ client: '192.0.2.99', route: 'ALLOW_LISTED' });
    // a client's forged header is ignored when it is not a trusted proxy
    expect(dimsOf({ 'c-ip': '198.51.100.7', 'x-forwarded-for': '192.0.2.1' })).toMatchObject({ client: '198.51.100.7', route: 'DIRECT' });
  });

  test('chosen c-ip adds the peer as logged; long paths are cut to fit a record; bad lines are skipped with their reason', () => {
    const m = mapper({ analyticsFields: ['c-ip'] });
    const record = m.map(logLine(fields, { ...full, 'cs-uri-stem': `/${'x'.repeat(3000)}` })) as _Record;
    expect(dims(record).c_ip).toBe('198.51.100.7');
    expect(dims(record).path).toBe(`/${'x'.repeat(511)}`);
    expect(m.map('')).toBe(Malformed.EMPTY);
    expect(m.map(logLine(fields, { ...full, timestamp: 'yesterday' }))).toBe(Malformed.TIMESTAMP);
    expect(m.map(logLine(fields, { ...full, 'c-ip': 'nobody' }))).toBe(Malformed.CLIENT_IP);
  });
});

/** A line as `atob` yields it from a record CloudFront wrote in UTF-8. */
const utf8Line = (values: Record<string, string>, fieldSet: readonly string[]) => Buffer.from(logLine(fieldSet, values), 'utf8').toString('latin1');
const fromLatin1 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');
/** A string that is valid UTF-16 (no lone surrogate), so it is sent as the UTF-8 it says. */
const wellFormed = (value: string) => Buffer.from(value, 'utf8').toString('utf8') === value;

describe('records fit in 2 KB', () => {
  const longFields = deliveredFieldOrder([...DEFAULT_ANALYTICS_FIELDS, 'x-edge-request-id', 'cs-user-agent', 'cs-referer', 'cs-uri-query', 'cs-accept']);
  const stringFields = ['cs-method', 'x-edge-location', 'c-country', 'c-ip-version', 'sc-status', 'cs-user-agent', 'cs-referer', 'cs-uri-query', 'cs-accept'];
  const columns: Record<string, string> = {
    'cs-method': 'method',
    'x-edge-location': 'edge_location',
    'c-country': 'country',
    'c-ip-version': 'ip_version',
    'sc-status': 'status',
    'cs-user-agent': 'cs_user_agent',
    'cs-referer': 'cs_referer',
    'cs-uri-query': 'cs_uri_query',
    'cs-accept': 'cs_accept',
  };
  const longMapper = () => new AnalyticsRecordMapper({
    fields: longFields,
    analyticsFields: [...DEFAULT_ANALYTICS_FIELDS, 'cs-user-agent', 'cs-referer', 'cs-uri-query', 'cs-accept'],
    allowList: cidrs([]),
    trustedProxies: cidrs([]),
  });
  const host253 = `${Array.from({ length: 3 }, (_, i) => `${'abcdefghij'[i]}${'x'.repeat(62)}`).join('.')}.${'y'.repeat(57)}.com`;

  test('a long multi-byte path, a 253-character host and a user agent make one record Timestream accepts', async () => {
    expect(host253).toHaveLength(253);
    const now = T0 + 60_000;
    const fake = new FakeTimestream('guard-db', 'requests', { now: () => now, memoryRetentionMs: 3_600_000 });
    const { restore } = fake.install();
    try {
      const recorder = new Recorder();
      const s = new TimestreamSink(
        { database: 'guard-db', table: 'requests', fields: longFields, analyticsFields: ['cs-user-agent', 'cs-referer'], allowList: cidrs([]), trustedProxies: cidrs([]) },
        { client: new TimestreamWriteClient({ region: 'us-east-1' }), log: recorder, metrics: recorder },
      );
      const line = utf8Line({
        ...full,
        'timestamp': (T0 / 1000).toFixed(3),
        'cs-host': host253.toUpperCase(),
        'cs-uri-stem': `/login/${'пароль-日本語-'.repeat(60)}`,
        'cs-user-agent': `Mozilla/5.0 ${'ü'.repeat(400)}`,
        'cs-referer': `https://${host253}/${'é'.repeat(300)}`,
      }, longFields);
      const result = await s.write([{ eventID: 'shardId-000:1', kinesis: { data: recordData(line), sequenceNumber: '1', approximateArrivalTimestamp: T0 / 1000 } }]);
      expect(result).toMatchObject({ written: 1, rejected: 0 });
      expect(recordSize(fake.writeCalls[0].Records![0])).toBeLessThanOrEqual(MAX_RECORD_BYTES);
      // What query detection reads is there, whole: client, route, host; the path still starts with the rule's prefix.
      const row = fake.rows[0].dimensions;
      expect(row).toMatchObject({ client: '198.51.100.7', route: 'DIRECT', host: host253, request_id: 'abc123==' });
      expect(row.path.startsWith('/login/пароль-日本語-')).toBe(true);
      expect(`/login/${'пароль-日本語-'.repeat(60)}`.startsWith(row.path)).toBe(true);
    } finally {
      restore();
    }
  });

  test('property: any values make a record under 2 KB, cut at character boundaries, with client, route and host whole, or a refusal', () => {
    const text = fc.string({ unit: 'binary', maxLength: 1200 }).map((v) => v.replace(/[\t\r\n]/g, ' '));
    const hostArb = fc.oneof(
      fc.constant(host253),
      fc.stringMatching(/^[a-z0-9.-]{1,253}$/),
      text.filter((v) => v.trim().length > 0),
      fc.string({ unit: 'binary', minLength: 1500, maxLength: 2500 }).map((v) => v.replace(/[\t\r\n]/g, ' ')),
    );
    const valuesArb = fc.record({
      host: hostArb,
      path: text.map((v) => `/${v}`),
      requestId: fc.stringMatching(/^[A-Za-z0-9_=]{1,56}$/),
      strings: fc.array(text, { minLength: stringFields.length, maxLength: stringFields.length }),
      ipv6: fc.boolean(),
    });
    const m = longMapper();
    fc.assert(fc.property(valuesArb, (v) => {
      const values: Record<string, string> = {
        'timestamp': '1700000000.123',
        'c-ip': v.ipv6 ? '2001:db8:1234:5678:9abc:def0:1234:5678' : '198.51.100.7',
        'cs-host': v.host,
        'cs-uri-stem': v.path,
        'x-edge-request-id': v.requestId,
        'sc-bytes': '123456',
        'time-taken': '0.105',
        'time-to-first-byte': '0.012',
        'origin-fbl': '0.090',
        'origin-lbl': '0.101',
      };
      stringFields.forEach((f, i) => { values[f] = v.strings[i]; });
      const line = utf8Line(values, longFields);
      const record = m.map(line);
      const latin1 = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
      // CloudFront's `-` is no value.
      const host = v.host === '-' ? '' : fromLatin1(normaliseHost(latin1(v.host)));
      const client = v.ipv6 ? '2001:db8:1234:5678::/64' : '198.51.100.7';
      const required = 8 + 7 + [['requests', 8], ['sc_bytes', 8], ['time_taken', 8], ['time_to_first_byte', 8], ['origin_fbl', 8], ['origin_lbl', 8]]
        .reduce((n, [name, size]) => n + String(name).length + Number(size), 0)
        + 'client'.length + client.length + 'route'.length + 'DIRECT'.length + 'request_id'.length + v.requestId.length
        + (host.length > 0 ? 'host'.length + Buffer.byteLength(host) : 0);
      if (record === RECORD_TOO_LARGE) {
        // Refused only when what detection needs cannot fit.
        expect(required).toBeGreaterThan(RECORD_BUDGET_BYTES);
        return;
      }
      expect(typeof record).toBe('object');
      const r = record as _Record;
      expect(recordSize(r)).toBeLessThanOrEqual(RECORD_BUDGET_BYTES);
      expect(recordSize(r)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
      const d = dims(r) as Record<string, string>;
      for (const value of Object.values(d)) {
        expect(value.length).toBeGreaterThan(0);
        expect(wellFormed(value)).toBe(true);
      }
      expect(d.client).toBe(client);
      expect(d.route).toBe('DIRECT');
      expect(d.request_id).toBe(v.requestId);
      if (host.length > 0) expect(d.host).toBe(host);
      // Cut values are starts of the whole value.
      const q = latin1(v.path).indexOf('?');
      const wholePath = fromLatin1(pathReadings(q < 0 ? latin1(v.path) : latin1(v.path).slice(0, q))[0]);
      if (d.path !== undefined) expect(wholePath.startsWith(d.path)).toBe(true);
      stringFields.forEach((f, i) => {
        const column = d[columns[f]];
        if (column !== undefined) expect(v.strings[i].startsWith(column)).toBe(true);
      });
    }), { seed: 1710, numRuns: 300 });
  });
});

describe('TimestreamSink', () => {
  let fake: FakeTimestream;
  let restore: () => void;
  let now = T0;
  beforeEach(() => {
    now = T0 + 60_000;
    fake = new FakeTimestream('guard-db', 'requests', { now: () => now, memoryRetentionMs: 3_600_000 });
    restore = fake.install().restore;
  });
  afterEach(() => restore());

  const records = (n: number, timeMs = T0): StreamRecord[] => Array.from({ length: n }, (_, i) => ({
    eventID: `shardId-000:${i}`,
    kinesis: {
      data: recordData(logLine(fields, { ...full, 'timestamp': ((timeMs + i) / 1000).toFixed(3), 'x-edge-request-id': `req-${i}` })),
      sequenceNumber: String(1000 + i),
      approximateArrivalTimestamp: timeMs / 1000,
    },
  }));

  async function sink(maxConcurrentWrites?: number) {
    const recorder = new Recorder();
    const s = new TimestreamSink(
      { database: 'guard-db', table: 'requests', fields, analyticsFields: DEFAULT_ANALYTICS_FIELDS, allowList: cidrs([]), trustedProxies: cidrs([]), maxConcurrentWrites },
      { client: new TimestreamWriteClient({ region: 'us-east-1' }), log: recorder, metrics: recorder },
    );
    return { s, recorder };
  }

  test('writes in calls of at most 100 records, every record once', async () => {
    const { s, recorder } = await sink();
    const result = await s.write(records(250));
    expect(fake.writeCalls.map((c) => c.Records!.length)).toEqual([100, 100, 50]);
    expect(fake.writeCalls.every((c) => c.DatabaseName === 'guard-db' && c.TableName === 'requests')).toBe(true);
    expect(fake.rows).toHaveLength(250);
    expect(result).toEqual({ written: 250, rejected: 0, failed: 0, skipped: 0, tooLarge: 0 });
    expect(recorder.metrics.get(METRIC.ANALYTICS_WRITTEN)).toBe(250);
  });

  test('keeps at most the configured number of calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const client = new TimestreamWriteClient({ region: 'us-east-1' });
    const send = client.send.bind(client);
    (client as any).send = async (command: any) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      try {
        return await send(command);
      } finally {
        inFlight--;
      }
    };
    const recorder = new Recorder();
    const s = new TimestreamSink(
      { database: 'guard-db', table: 'requests', fields, analyticsFields: [], allowList: cidrs([]), trustedProxies: cidrs([]), maxConcurrentWrites: 3 },
      { client, log: recorder, metrics: recorder },
    );
    await s.write(records(1000));
    expect(fake.writeCalls).toHaveLength(10);
    expect(most).toBe(3);
  });

  test('rejected records are logged with their reasons and counted; the rest of the call is written; no retry', async () => {
    const { s, recorder } = await sink();
    // 30 records older than the memory store holds, among 120 fresh ones, spread over two calls.
    const batch = [...records(80), ...records(30, T0 - 2 * 3_600_000), ...records(40, T0 + 1000)];
    batch.forEach((r, i) => { (r.kinesis as any).sequenceNumber = String(i); });
    const result = await s.write(batch);
    expect(result).toEqual({ written: 120, rejected: 30, failed: 0, skipped: 0, tooLarge: 0 });
    expect(fake.writeCalls).toHaveLength(2);
    expect(fake.rows).toHaveLength(120);
    expect(recorder.metrics.get(METRIC.ANALYTICS_REJECTED)).toBe(30);
    expect(recorder.metrics.get(METRIC.ANALYTICS_WRITTEN)).toBe(120);
    const warning = recorder.logs.find((l) => l.message === 'Timestream rejected analytics records')!;
    expect(warning.level).toBe('warn');
    expect(warning.extra!.count).toBe(30);
    const reasons = warning.extra!.reasons as Record<string, number>;
    expect(Object.values(reasons)).toEqual([30]);
    expect(Object.keys(reasons)[0]).toMatch(/outside the time range/);
    expect((warning.extra!.samples as any[])[0].time).toBe(String(T0 - 2 * 3_600_000));
  });

  test('a call that fails as a whole is logged and counted, the other calls are written, nothing throws', async () => {
    const { s, recorder } = await sink(1);
    fake.throttleCalls = 1;
    const result = await s.write(records(150));
    expect(result).toEqual({ written: 50, rejected: 0, failed: 100, skipped: 0, tooLarge: 0 });
    expect(recorder.metrics.get(METRIC.ANALYTICS_FAILED)).toBe(100);
    expect(recorder.logs.find((l) => l.level === 'error')!.extra!.errors).toEqual(['ThrottlingException: Rate exceeded']);
  });

  test('a record whose host alone exceeds 2 KB is refused before sending, counted and logged; the others are written', async () => {
    const { s, recorder } = await sink();
    const batch = records(3);
    batch.push({
      eventID: 'shardId-000:9',
      kinesis: { data: recordData(logLine(fields, { ...full, 'timestamp': (T0 / 1000).toFixed(3), 'cs-host': `${'h'.repeat(2100)}.example.com` })), sequenceNumber: '9', approximateArrivalTimestamp: T0 / 1000 },
    });
    expect(await s.write(batch)).toEqual({ written: 3, rejected: 0, failed: 0, skipped: 0, tooLarge: 1 });
    expect(fake.writeCalls.flatMap((c) => c.Records!)).toHaveLength(3);
    expect(recorder.metrics.get(METRIC.ANALYTICS_TOO_LARGE)).toBe(1);
    expect(recorder.logs.find((l) => l.message === 'analytics records too large to write')!.extra!.count).toBe(1);
  });

  test('malformed lines are skipped, not sent', async () => {
    const { s } = await sink();
    const batch = [...records(3), { eventID: 'shardId-000:9', kinesis: { data: recordData('garbage'), sequenceNumber: '9', approximateArrivalTimestamp: T0 / 1000 } }];
    expect(await s.write(batch)).toEqual({ written: 3, rejected: 0, failed: 0, skipped: 1, tooLarge: 0 });
  });

  test('with query detection a failed call fails the batch for a bounded retry; rejected records do not', async () => {
    const { s, recorder } = await sink();
    fake.throttleCalls = 1;
    expect((await writeForQueryDetection(s, records(10), recorder)).batchItemFailures).toEqual([{ itemIdentifier: '1000' }]);
    expect((await writeForQueryDetection(s, records(10, T0 - 2 * 3_600_000), recorder)).batchItemFailures).toEqual([]);
    expect((await writeForQueryDetection(s, records(10), recorder)).batchItemFailures).toEqual([]);
    expect(fake.rows).toHaveLength(10);
  });

  test('the log processor detects and blocks whatever Timestream does', async () => {
    const { s } = await sink();
    fake.throttleCalls = 100;
    const recorded: unknown[] = [];
    const recorder = new Recorder();
    const rule = { ruleId: 'api', host: 'api.example.com', threshold: 5, windowSeconds: 60, blockSeconds: 300, action: 'BLOCK' as const, enabled: true };
    const processor = new LogProcessor(
      { fields, samplingRate: 100, allowList: cidrs([]), trustedProxies: cidrs([]) },
      {
        rules: { get: async () => ({ rules: [rule], invalid: [], version: '1' }) } as any,
        counters: {
          apply: async (entries: any[]) => entries.map((entry: any) => (
            { entry, rule, sampledInWindow: 10, firstSeenMs: T0, crossedAtMs: entry.lastTimestampMs })),
        } as any,
        blocks: {
          record: async (candidates: unknown[]) => {
            recorded.push(...candidates);
            return { created: [], overBudget: [], alreadyActive: 0, stale: [] };
          },
        } as any,
        analytics: s,
        metrics: recorder,
        log: recorder,
        now: () => now,
      },
    );
    const result = await processor.process(records(5));
    expect(result.batchItemFailures).toEqual([]);
    expect(recorded).toHaveLength(1);
    expect(fake.writeCalls).toHaveLength(1);
    expect(fake.rows).toHaveLength(0);
  });
});
