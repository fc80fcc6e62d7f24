import { CredentialsConfig } from '../../src/elastic-monitoring/runtime/config';
import { CachedValue, parseCredentials } from '../../src/shared/runtime/elastic/credentials';

const basic: CredentialsConfig = { kind: 'basic', secretArn: 'arn:secret', usernameKey: 'username', passwordKey: 'password' };
const apiKey: CredentialsConfig = { kind: 'apiKey', secretArn: 'arn:secret', apiKeyKey: 'apiKey' };

describe('parseCredentials', () => {
  test('basic auth from the configured JSON keys', () => {
    expect(parseCredentials('{"username":"waf","password":"p4ss"}', basic)).toEqual({ username: 'waf', password: 'p4ss' });
    expect(parseCredentials('{"user":"waf","pw":"p4ss"}', { ...basic, usernameKey: 'user', passwordKey: 'pw' })).toEqual({ username: 'waf', password: 'p4ss' });
  });

  test('an API key from JSON or as the bare secret value', () => {
    expect(parseCredentials('{"apiKey":"VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="}', apiKey)).toEqual({ apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' });
    expect(parseCredentials('  VnVhQ2ZHY0JD  \n', apiKey)).toEqual({ apiKey: 'VnVhQ2ZHY0JD' });
  });

  test('errors name the missing key but never a secret value', () => {
    let message = '';
    try {
      parseCredentials('{"username":"waf","passwd":"hunter2"}', basic);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('"password"');
    expect(message).toContain('arn:secret');
    expect(message).not.toContain('hunter2');
    expect(() => parseCredentials('not json', basic)).toThrow(/"username"/);
    expect(() => parseCredentials(undefined, basic)).toThrow(/no string value/);
  });
});

describe('CachedValue', () => {
  test('fetches once within the TTL, again after it, and at once after invalidate()', async () => {
    let clock = 0;
    let fetches = 0;
    const cached = new CachedValue(async () => `v${++fetches}`, 1000, () => clock);
    expect(await cached.get()).toBe('v1');
    clock = 999;
    expect(await cached.get()).toBe('v1');
    clock = 1000;
    expect(await cached.get()).toBe('v2');
    cached.invalidate();
    expect(await cached.get()).toBe('v3');
    expect(fetches).toBe(3);
  });

  test('a failed fetch is not cached', async () => {
    let calls = 0;
    const cached = new CachedValue(async () => {
      calls++;
      if (calls === 1) throw new Error('throttled');
      return 'ok';
    }, 1000);
    await expect(cached.get()).rejects.toThrow('throttled');
    expect(await cached.get()).toBe('ok');
  });
});
