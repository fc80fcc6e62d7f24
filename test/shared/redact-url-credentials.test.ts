import * as fc from 'fast-check';
import { redactUrlCredentials } from '../../src/shared/runtime/elastic/connection';

/** The specification: the regular expression the redaction used to be, fine on short texts, quadratic on long runs. */
const model = (text: string) => text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, '$1***@');

/** Texts made of the pieces that matter to the redaction, so schemes, user info and their ends meet often. */
const pieces = fc.constantFrom('a', 'Z', '9', '+', '.', '-', ':', '//', '://', '@', '/', '?', '#', ' ', '\n', '\u00a0', '\u2028', 'é', 'ſ', 'K', 'https://', 'u:p@', 'h.example.com');
const texts = fc.oneof(
  fc.array(pieces, { maxLength: 40 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

describe('redactUrlCredentials', () => {
  test('does what the regular expression did, on texts built from schemes, user info and their delimiters', () => {
    fc.assert(fc.property(texts, (text) => {
      expect(redactUrlCredentials(text)).toBe(model(text));
    }), { numRuns: 3_000 });
  });

  test('and with long runs of scheme characters, user info and "@"s inside such texts', () => {
    const run = fc.tuple(fc.constantFrom('a', '1', '+', 'x.y-', '@', 'u:p'), fc.integer({ min: 1, max: 300 })).map(([c, n]) => c.repeat(n));
    fc.assert(fc.property(fc.array(fc.oneof(run, pieces), { maxLength: 12 }), (parts) => {
      const text = parts.join('');
      expect(redactUrlCredentials(text)).toBe(model(text));
    }), { numRuns: 500 });
  });

  // The regular expression needed minutes to hours on these (64k scheme characters: 29 s, growing with the square).
  test('1 MB hostile texts: long runs of scheme characters, of "://", of "@", and an Elasticsearch reason of "a"s', () => {
    const MB = 1024 * 1024;
    const schemeRun = 'a'.repeat(MB);
    expect(redactUrlCredentials(schemeRun)).toBe(schemeRun);
    const mixedRun = 'a1+.-'.repeat(MB / 5);
    expect(redactUrlCredentials(mixedRun)).toBe(mixedRun);
    const schemes = 'x://'.repeat(MB / 4);
    expect(redactUrlCredentials(schemes)).toBe(schemes);
    const userInfo = `https://${'u:p@'.repeat(MB / 4)}es.example.com/`;
    expect(redactUrlCredentials(userInfo)).toBe('https://***@es.example.com/');
    const reason = `_msearch failed with HTTP 500: x: ${'a'.repeat(MB)} see https://waf:secret@es.example.com:9243/`;
    expect(redactUrlCredentials(reason)).toBe(`_msearch failed with HTTP 500: x: ${'a'.repeat(MB)} see https://***@es.example.com:9243/`);
    const many = 'see https://w:s@h/ '.repeat(MB / 19);
    expect(redactUrlCredentials(many)).toBe('see https://***@h/ '.repeat(MB / 19));
  });
});
