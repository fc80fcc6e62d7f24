import { deliveredFieldOrder, ORIGINAL_40_FIELDS } from '../../src/realtime-waf-guard/log-fields';
import { LogLineParser, Malformed, percentDecode } from '../../src/realtime-waf-guard/runtime/log-parser';
import { logLine } from '../support/log-lines';

const minimal = deliveredFieldOrder([]);

describe('deliveredFieldOrder', () => {
  test('sorts any configured order into CloudFront canonical order and always includes detection fields', () => {
    expect(deliveredFieldOrder(['cs-user-agent', 'sc-status'])).toEqual([
      'timestamp', 'c-ip', 'sc-status', 'cs-host', 'cs-uri-stem', 'cs-user-agent', 'x-forwarded-for',
    ]);
  });

  test('rejects unknown names and says which', () => {
    expect(() => deliveredFieldOrder(['cs-hots'])).toThrow(/Unknown CloudFront real-time log field\(s\): cs-hots/);
  });
});

describe('LogLineParser', () => {
  test('reads timestamp, IPv4 client, host and path from the minimal field set', () => {
    const p = new LogLineParser(minimal);
    const r = p.parse(logLine(minimal, { 'timestamp': '1600299221.087', 'c-ip': '192.0.2.10', 'cs-host': 'api.example.com', 'cs-uri-stem': '/login' }) + '\n');
    expect(r).toBe(Malformed.NONE);
    expect(p.timestampMs).toBe(1600299221087);
    expect(p.clientIp).toBe('192.0.2.10');
    expect(p.host).toBe('api.example.com');
    expect(p.path).toBe('/login');
    expect(p.forwardedFor).toBeUndefined();
  });

  test('reads an IPv6 client and treats "-" as absent', () => {
    const p = new LogLineParser(minimal);
    expect(p.parse(logLine(minimal, { 'timestamp': '1600299221.5', 'c-ip': '2001:db8::7', 'cs-uri-stem': '/' }))).toBe(Malformed.NONE);
    expect(p.clientIp).toBe('2001:db8::7');
    expect(p.timestampMs).toBe(1600299221500);
    expect(p.host).toBeUndefined();
  });

  test('positions shift when optional fields are configured: the same values are found in a 40-field line', () => {
    const fields = deliveredFieldOrder(ORIGINAL_40_FIELDS);
    expect(fields.length).toBe(40);
    const p = new LogLineParser(fields);
    const line = logLine(fields, {
      'timestamp': '1700000000.001',
      'c-ip': '198.51.100.4',
      's-ip': '13.32.1.1',
      'sc-status': 200,
      'cs-host': 'www.example.com',
      'cs-uri-stem': '/a%20b',
      'x-forwarded-for': '203.0.113.9',
      'cs-user-agent': 'Mozilla/5.0%20(X11)',
    });
    expect(p.parse(line)).toBe(Malformed.NONE);
    expect([p.clientIp, p.host, p.path, p.forwardedFor]).toEqual(['198.51.100.4', 'www.example.com', '/a%20b', '203.0.113.9']);
    // the minimal parser reading the same 40-field line must refuse it rather than read the wrong columns
    expect(new LogLineParser(minimal).parse(line)).toBe(Malformed.FIELD_COUNT);
  });

  test('lines with missing or extra fields are malformed', () => {
    const p = new LogLineParser(minimal);
    const good = logLine(minimal, { 'timestamp': '1600299221.087', 'c-ip': '192.0.2.10' });
    expect(p.parse(good.split('\t').slice(0, 3).join('\t'))).toBe(Malformed.FIELD_COUNT);
    expect(p.parse(`${good}\textra`)).toBe(Malformed.FIELD_COUNT);
    expect(p.parse('')).toBe(Malformed.EMPTY);
    expect(p.parse('\n')).toBe(Malformed.EMPTY);
  });

  test('bad timestamps and client addresses are malformed', () => {
    const p = new LogLineParser(minimal);
    expect(p.parse(logLine(minimal, { 'timestamp': 'yesterday', 'c-ip': '192.0.2.10' }))).toBe(Malformed.TIMESTAMP);
    expect(p.parse(logLine(minimal, { 'timestamp': '-', 'c-ip': '192.0.2.10' }))).toBe(Malformed.TIMESTAMP);
    expect(p.parse(logLine(minimal, { timestamp: '1600299221.087' }))).toBe(Malformed.CLIENT_IP);
  });

  test('refuses a field set without timestamp or c-ip', () => {
    expect(() => new LogLineParser(['cs-host'])).toThrow(/timestamp and c-ip/);
  });
});

describe('percentDecode', () => {
  test('decodes once and leaves invalid escapes alone', () => {
    expect(percentDecode('/%6Cogin')).toBe('/login');
    expect(percentDecode('%2541')).toBe('%41');
    expect(percentDecode('/bad%zz')).toBe('/bad%zz');
    expect(percentDecode('/plain')).toBe('/plain');
  });
});
