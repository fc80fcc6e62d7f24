import { errors } from '@elastic/elasticsearch';
import { testConfig } from './es-fixtures';
import { COLLECTOR_CONFIG_ENV, parseCollectorConfig, validateCollectorConfig } from '../../src/elastic-monitoring/runtime/config';
import { classifyError } from '../../src/elastic-monitoring/runtime/problems';

describe('parseCollectorConfig', () => {
  test('round-trips the configuration the construct writes', () => {
    expect(parseCollectorConfig(JSON.stringify(testConfig()))).toEqual(testConfig());
  });

  test('says what is wrong, all at once', () => {
    expect(() => parseCollectorConfig(undefined)).toThrow(`environment variable ${COLLECTOR_CONFIG_ENV} is not set`);
    expect(() => parseCollectorConfig('{')).toThrow(/not valid JSON/);
    const broken = { ...testConfig(), endpoint: 'es:9200', windowMs: 60_000, fields: { ...testConfig().fields, host: '' }, credentials: { kind: 'token', secretArn: 'x' } };
    expect(validateCollectorConfig(broken)).toEqual([
      'windowMs must be at least intervalMs, or requests between windows are never counted',
      'endpoint must be an http(s) URL',
      'fields.host must be a non-empty string',
      'credentials.kind must be "basic" or "apiKey"',
    ]);
    expect(validateCollectorConfig(null)).toEqual(['configuration must be a JSON object']);
    expect(validateCollectorConfig({})).toEqual(expect.arrayContaining(['endpoint must be a non-empty string', 'fields must be an object', 'credentials must be an object']));
  });
});

describe('classifyError', () => {
  const endpoint = 'https://es:9243';
  const response = (statusCode: number, body: unknown) =>
    new errors.ResponseError({ body, statusCode, headers: {}, warnings: null, meta: {} as any });

  test('403 is an authorization problem naming the privileges to check', () => {
    const body = { error: { root_cause: [{ type: 'security_exception', reason: 'action [cluster:monitor/nodes/stats] is unauthorized for user [waf]' }], type: 'security_exception', reason: 'action [cluster:monitor/nodes/stats] is unauthorized for user [waf]' }, status: 403 };
    const p = classifyError(response(403, body), '_nodes/stats', endpoint);
    expect(p.kind).toBe('auth');
    expect(p.message).toContain('HTTP 403');
    expect(p.message).toContain('is unauthorized for user [waf]');
    expect(p.message).toContain('monitor on the cluster');
  });

  test('other HTTP errors keep the status and Elasticsearch reason', () => {
    const body = { error: { root_cause: [{ type: 'index_not_found_exception', reason: 'no such index [waf]' }], type: 'index_not_found_exception', reason: 'no such index [waf]' }, status: 404 };
    expect(classifyError(response(404, body), '_msearch', endpoint)).toEqual({
      kind: 'response', source: '_msearch', message: '_msearch failed with HTTP 404: index_not_found_exception: no such index [waf]',
    });
  });

  test('a server that is not Elasticsearch, and unknown errors', () => {
    expect(classifyError(new errors.ProductNotSupportedError('Elasticsearch', {} as any), '_msearch', endpoint).message).toContain('did not answer as Elasticsearch');
    expect(classifyError(new TypeError('x is undefined'), 'collector', endpoint)).toEqual({ kind: 'response', source: 'collector', message: 'collector failed: TypeError: x is undefined' });
    expect(classifyError('boom', 'collector', endpoint).message).toContain('boom');
  });
});
