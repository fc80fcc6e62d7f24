import { errors } from '@elastic/elasticsearch';
import { testConfig } from './es-fixtures';
import {
  COLLECTOR_CONFIG_ENV,
  endpointErrors,
  parseCollectorConfig,
  redactUrlCredentials,
  validateCollectorConfig,
} from '../../src/elastic-monitoring/runtime/config';
import { classifyError } from '../../src/shared/runtime/elastic/problems';

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
      'endpoint must be an https URL such as https://my-cluster.example.com:9243, got "es:9200"',
      'fields.host must be a non-empty string',
      'credentials.kind must be "basic" or "apiKey"',
    ]);
    expect(validateCollectorConfig(null)).toEqual(['configuration must be a JSON object']);
    expect(validateCollectorConfig({})).toEqual(expect.arrayContaining([
      'endpoint must be a non-empty string',
      'fields must be an object',
      'credentials must be given for engine elasticsearch; only the Amazon OpenSearch engines sign requests with the function\'s role instead',
    ]));
  });

  test('engines: credentials optional only where requests are signed, Serverless without them, no API key for OpenSearch', () => {
    const { credentials, ...unsigned } = testConfig();
    expect(validateCollectorConfig({ ...unsigned, engine: { kind: 'amazon-opensearch-service', region: 'eu-west-1' } })).toEqual([]);
    expect(validateCollectorConfig({ ...unsigned, engine: { kind: 'amazon-opensearch-serverless' } })).toEqual([]);
    expect(validateCollectorConfig({ ...unsigned, engine: { kind: 'opensearch' } })).toEqual([
      'credentials must be given for engine opensearch; only the Amazon OpenSearch engines sign requests with the function\'s role instead',
    ]);
    expect(validateCollectorConfig({ ...testConfig(), engine: { kind: 'amazon-opensearch-serverless' } })).toEqual([
      'credentials must be left out for amazon-opensearch-serverless, which accepts only SigV4-signed requests',
    ]);
    expect(validateCollectorConfig({ ...testConfig(), engine: { kind: 'opensearch' }, credentials: { ...credentials, kind: 'apiKey' } })).toEqual([
      'credentials.kind apiKey is an Elasticsearch API key, which opensearch does not accept: use basic auth',
    ]);
    expect(validateCollectorConfig({ ...testConfig(), engine: { kind: 'solr' } })).toEqual([
      'engine.kind must be one of elasticsearch, opensearch, amazon-opensearch-service, amazon-opensearch-serverless',
    ]);
    expect(validateCollectorConfig({ ...unsigned, engine: { kind: 'amazon-opensearch-service', region: 'Ireland' } })).toEqual([
      'engine.region must be an AWS region such as eu-west-1, got "Ireland"',
    ]);
    expect(validateCollectorConfig({ ...testConfig(), maxResponseBytes: 10 })).toEqual(['maxResponseBytes must be a whole number of bytes, at least 1024']);
  });
});

describe('endpoint rules (shared by synth and run time)', () => {
  test('https only, unless http is explicitly allowed', () => {
    expect(endpointErrors('https://es.example.com:9243', false)).toEqual([]);
    expect(endpointErrors('http://es.internal:9200', false)).toEqual([
      'endpoint http://es.internal:9200 uses http://, which sends the credentials unencrypted: use https://, or set allowInsecureHttp: true if the cluster is reachable only inside your VPC',
    ]);
    expect(endpointErrors('http://es.internal:9200', true)).toEqual([]);
    expect(endpointErrors('ftp://es.example.com', true)).toEqual([expect.stringMatching(/endpoint must be an https URL/)]);
    expect(endpointErrors(' https://es.example.com', false)).toEqual([expect.stringMatching(/endpoint must be an https URL/)]);
  });

  test('user info is refused, with or without http, and never repeated in the message', () => {
    for (const endpoint of ['https://waf:s3cret@es.example.com', 'https://:s3cret@es.example.com', 'https://waf@es.example.com', 'http://waf:s3cret@es.internal:9200', 'waf:s3cret@es.example.com']) {
      for (const allowInsecureHttp of [false, true]) {
        const found = endpointErrors(endpoint, allowInsecureHttp);
        expect(found.length).toBeGreaterThan(0);
        expect(found.join('\n')).not.toContain('s3cret');
      }
    }
    expect(endpointErrors('https://waf:s3cret@es.example.com', false)).toEqual([
      'endpoint must not contain user info (user:password@): remove it from the URL and keep the credentials in the Secrets Manager secret given as credentials',
    ]);
  });

  test('the run-time parser applies them, with allowInsecureHttp from the configuration', () => {
    expect(() => parseCollectorConfig(JSON.stringify(testConfig({ endpoint: 'https://waf:s3cret@es.example.com' })))).toThrow(/must not contain user info/);
    expect(() => parseCollectorConfig(JSON.stringify(testConfig({ endpoint: 'http://es.internal:9200' })))).toThrow(/allowInsecureHttp: true/);
    expect(parseCollectorConfig(JSON.stringify(testConfig({ endpoint: 'http://es.internal:9200', allowInsecureHttp: true }))).endpoint).toBe('http://es.internal:9200');
    expect(validateCollectorConfig({ ...testConfig(), allowInsecureHttp: 'yes' })).toEqual(['allowInsecureHttp must be true or false']);
  });

  test('a cluster name the EMF writer would trim is refused, so emitted and queried dimensions cannot differ', () => {
    expect(validateCollectorConfig(testConfig({ clusterName: 'prod ' }))).toEqual([
      'clusterName "prod " must not start or end with whitespace, or the metrics the collector emits would not match the alarms and dashboard; remove the surrounding spaces',
    ]);
    expect(validateCollectorConfig(testConfig({ clusterName: 'prod eu-west-1' }))).toEqual([]);
  });

  test('redaction removes user info from every URL in a text, "@" in the password included', () => {
    expect(redactUrlCredentials('connect ECONNREFUSED https://waf:p@ss@es.example.com:9243/_msearch and http://a:b@c/')).toBe(
      'connect ECONNREFUSED https://***@es.example.com:9243/_msearch and http://***@c/',
    );
    expect(redactUrlCredentials('mail oncall@example.com about https://es.example.com')).toBe('mail oncall@example.com about https://es.example.com');
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

  test('never prints URL user info, from the endpoint or from the error', () => {
    const leaky = new errors.ConnectionError('getaddrinfo ENOTFOUND for https://waf:s3cret@es.example.com:9243/_msearch');
    const p = classifyError(leaky, '_msearch', 'https://waf:s3cret@es.example.com:9243');
    expect(p.kind).toBe('unreachable');
    expect(p.message).not.toContain('s3cret');
    expect(p.message).toContain('https://***@es.example.com:9243');
  });

  test('a server that is not Elasticsearch, and unknown errors', () => {
    expect(classifyError(new errors.ProductNotSupportedError('Elasticsearch', {} as any), '_msearch', endpoint).message).toContain('did not answer as Elasticsearch');
    expect(classifyError(new TypeError('x is undefined'), 'collector', endpoint)).toEqual({ kind: 'response', source: 'collector', message: 'collector failed: TypeError: x is undefined' });
    expect(classifyError('boom', 'collector', endpoint).message).toContain('boom');
  });
});
