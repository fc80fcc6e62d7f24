import * as fc from 'fast-check';
import { credentialsInHeaders, redactCredentials } from '../../src/elastic-monitoring/runtime/redact-credentials';
import { importFailureMessage, parseImportResponse } from '../../src/elastic-monitoring/runtime/saved-objects-import';

const BASIC_TOKEN = Buffer.from('elastic:changeme-42').toString('base64');
const SIGV4 = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260310/eu-west-1/es/aws4_request, SignedHeaders=host;x-amz-date, '
  + 'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';

describe('redactCredentials', () => {
  test.each([
    [`missing auth: Authorization: Basic ${BASIC_TOKEN}`, 'missing auth: Authorization: Basic [redacted]'],
    ['{"headers":{"authorization":"ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWky=="}}', '{"headers":{"authorization":"ApiKey [redacted]"}}'],
    ['token rejected: bearer eyJhbGciOiJIUzI1NiJ9.e30.abc; retry', 'token rejected: bearer [redacted]; retry'],
    [`<pre>authorization: ${SIGV4}</pre>`, '<pre>authorization: AWS4-HMAC-SHA256 [redacted]</pre>'],
    ['X-Amz-Security-Token: IQoJb3JpZ2luX2VjEHMaCWV1LXdlc3Qt\nnext', 'X-Amz-Security-Token: [redacted]\nnext'],
  ])('%j', (text, expected) => {
    expect(redactCredentials(text)).toBe(expected);
  });

  test('the secret\'s own values are replaced wherever they occur, the longest first', () => {
    expect(redactCredentials('user elastic, password changeme-42 (elastic:changeme-42)', ['changeme-42', 'elastic:changeme-42']))
      .toBe('user elastic, password [redacted] ([redacted])');
  });

  test('the values a request\'s headers carry, also decoded', () => {
    expect(credentialsInHeaders({ 'authorization': `Basic ${BASIC_TOKEN}`, 'kbn-xsrf': 'true' }))
      .toEqual([BASIC_TOKEN, 'elastic:changeme-42', 'changeme-42']);
    expect(credentialsInHeaders({ 'Authorization': SIGV4, 'X-Amz-Security-Token': 'IQoJb3JpZ2lu' })).toContain('IQoJb3JpZ2lu');
  });

  test('no value of any credential survives, wherever a server puts it', () => {
    fc.assert(fc.property(
      fc.constantFrom('Basic', 'ApiKey', 'Bearer', 'basic'), fc.base64String({ minLength: 8, maxLength: 60 }).filter((t) => /[A-Za-z0-9]{8}/.test(t)),
      fc.string({ maxLength: 20 }), fc.constantFrom(' ', '"', '\n', ', ', '<'),
      (scheme, token, before, after) => {
        const out = redactCredentials(`${before} Authorization: ${scheme} ${token}${after}tail`);
        expect(out).not.toContain(token);
      },
    ));
  });

  test('linear in the text: a megabyte of scheme names and tokens takes well under a second', () => {
    const text = 'Basic '.repeat(100_000) + 'AWS4-HMAC-SHA256 '.repeat(30_000) + 'x-amz-security-token:'.repeat(20_000);
    const start = Date.now();
    redactCredentials(text, ['abcd', 'efgh']);
    expect(Date.now() - start).toBeLessThan(1_000);
  });
});

describe('the import client redacts what the server sends back', () => {
  test('a refusal echoing the Authorization header and the password', () => {
    const secrets = credentialsInHeaders({ authorization: `Basic ${BASIC_TOKEN}` });
    const body = JSON.stringify({ message: `no user for Authorization: Basic ${BASIC_TOKEN} (password changeme-42)` });
    const message = importFailureMessage(401, body, 'kibana', false, 'import', secrets);
    expect(message).toContain('Kibana refused the import (401: no user for Authorization: Basic [redacted] (password [redacted]))');
    expect(message).not.toMatch(/changeme|ZWxh/);
  });

  test('a proxy page is redacted before it is cut: no credential is left half-readable', () => {
    const page = `${'x'.repeat(480)} Authorization: Basic ${BASIC_TOKEN}`;
    expect(importFailureMessage(502, page, 'kibana', false, 'import', [])).not.toContain(BASIC_TOKEN.slice(0, 8));
  });

  test('per-object errors and titles from the server', () => {
    const result = parseImportResponse({
      success: false,
      errors: [{ id: 'a', type: 'dashboard', title: 't Bearer abcdefgh1234', error: { type: 'unknown', message: 'proxy saw Bearer abcdefgh1234', statusCode: 400 } }],
    }, 'kibana', [], []);
    expect(JSON.stringify(result)).not.toContain('abcdefgh1234');
    expect(result.objects[0].error?.message).toBe('proxy saw Bearer [redacted] (400)');
  });
});
