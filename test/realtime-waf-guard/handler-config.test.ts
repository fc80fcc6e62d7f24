import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { ipSetSyncConfigFromEnv, logProcessorConfigFromEnv } from '../../src/realtime-waf-guard/runtime/config';
import { parseIp } from '../../src/realtime-waf-guard/runtime/ip';

const processorEnv = {
  [ENV.FIELDS]: 'c-ip,timestamp,cs-host,cs-uri-stem,x-forwarded-for',
  [ENV.SAMPLING_RATE]: '25',
  [ENV.ALLOW_LIST]: '192.0.2.0/24, 2001:db8::/32',
  [ENV.TRUSTED_PROXIES]: '',
  [ENV.RULES_TABLE]: 'rules',
  [ENV.COUNTERS_TABLE]: 'counters',
  [ENV.BLOCKS_TABLE]: 'blocks',
  [ENV.HISTORY_TABLE]: 'history',
};

test('the processor reads its environment into a typed config, fields in delivered order', () => {
  const c = logProcessorConfigFromEnv(processorEnv);
  expect(c.fields.slice(0, 2)).toEqual(['timestamp', 'c-ip']);
  expect(c.samplingRate).toBe(25);
  expect(c.allowList.contains(parseIp('2001:db8::1')!)).toBe(true);
  expect(c.trustedProxies.size).toBe(0);
  expect([c.maxNewBlocksPerMinute, c.rulesCacheMs]).toEqual([50, 30_000]);
  expect(c.ipv6PrefixLength).toBe(64);
  expect(logProcessorConfigFromEnv({ ...processorEnv, [ENV.IPV6_PREFIX_LENGTH]: '56' }).ipv6PrefixLength).toBe(56);
});

test('configuration mistakes fail at init with the variable named', () => {
  expect(() => logProcessorConfigFromEnv({ ...processorEnv, [ENV.SAMPLING_RATE]: '0' })).toThrow(/SAMPLING_RATE must be a whole number from 1 to 100/);
  expect(() => logProcessorConfigFromEnv({ ...processorEnv, [ENV.ALLOW_LIST]: '0.0.0.0/0' })).toThrow(/ALLOW_LIST: .*covers every address/);
  expect(() => logProcessorConfigFromEnv({ ...processorEnv, [ENV.RULES_TABLE]: undefined })).toThrow(/RULES_TABLE_NAME is not set/);
  expect(() => logProcessorConfigFromEnv({ ...processorEnv, [ENV.IPV6_PREFIX_LENGTH]: '32' })).toThrow(/IPV6_PREFIX_LENGTH must be a whole number from 48 to 128/);
  expect(() => ipSetSyncConfigFromEnv({ [ENV.WAF_SCOPE]: 'GLOBAL' })).toThrow(/WAF_SCOPE must be CLOUDFRONT or REGIONAL/);
});
