import { parseDurationSeconds, parseRulesJson, samplingWarnings } from '../../src/cli/rules-file';

describe('rules file', () => {
  test('durations are seconds or strings with s, m, min, h or d', () => {
    expect(['45', 45, '30s', '5m', '2min', '1h', '1d', '1.5m'].map((d) => parseDurationSeconds(d, 'window'))).toEqual([45, 45, 30, 300, 120, 3600, 86_400, 90]);
    expect(parseDurationSeconds('5 minutes', 'window')).toMatch(/window must be seconds .* \(got "5 minutes"\)/);
    expect(parseDurationSeconds(null, 'blockFor')).toMatch(/^blockFor must be/);
  });

  test('HostRule-shaped rules become the rows the handlers read, with the construct\'s defaults', () => {
    const rules = parseRulesJson(JSON.stringify([
      { host: 'www.example.com', pathPrefix: '/login', threshold: 100, window: '1m' },
      { id: 'api', host: '*.example.org', threshold: '500', window: 300, blockFor: '1h', action: 'COUNT' },
    ]), 'rules.json');
    expect(rules).toEqual([
      { ruleId: 'www.example.com/login', host: 'www.example.com', pathPrefix: '/login', threshold: 100, windowSeconds: 60, blockSeconds: 900, action: 'BLOCK', enabled: true },
      { ruleId: 'api', host: '*.example.org', threshold: 500, windowSeconds: 300, blockSeconds: 3600, action: 'COUNT', enabled: true },
    ]);
  });

  test('pathCaseSensitive is read like the construct\'s prop and checked by the handlers\' parser', () => {
    const rules = parseRulesJson(JSON.stringify([
      { id: 'exact', host: 'www.example.com', pathPrefix: '/Admin', pathCaseSensitive: true, threshold: 100, window: '1m' },
      { id: 'folded', host: 'www.example.com', pathPrefix: '/login', pathCaseSensitive: false, threshold: 100, window: '1m' },
    ]), 'rules.json');
    expect(rules.map((r) => [r.ruleId, r.pathCaseSensitive])).toEqual([['exact', true], ['folded', undefined]]);
    expect(() => parseRulesJson(JSON.stringify([{ host: 'www.example.com', pathPrefix: '/a', pathCaseSensitive: 'yes', threshold: 100, window: '1m' }]), 'rules.json'))
      .toThrow('rules[0]: rule "www.example.com/a": pathCaseSensitive must be true or false (got "yes")');
  });

  test('every invalid rule is reported at once, by index', () => {
    const text = JSON.stringify([
      { host: 'a.example.com', treshold: 1, window: '1m' },
      { host: 'B.example.com', threshold: 1, window: '1m' },
      { host: 'c.example.com', threshold: 1, window: '1m', blockFor: '10s' },
      { host: 'd.example.com', threshold: 1 },
      { id: 'x', host: 'e.example.com', threshold: 1, window: '1m' },
      { id: 'x', host: 'f.example.com', threshold: 1, window: '1m' },
      'g.example.com',
    ]);
    let message = '';
    try {
      parseRulesJson(text, 'rules.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'rules.json has invalid rules:',
      '  rules[0]: unknown key(s) treshold; a rule has id, host, pathPrefix, pathCaseSensitive, threshold, window, blockFor, action',
      '  rules[1]: rule "B.example.com": host "B.example.com" must be lower case',
      '  rules[2]: rule "c.example.com": block period must be whole seconds from 1 minute to 30 days (got 10 s)',
      '  rules[3]: window is required (e.g. "1m")',
      '  rules[5]: rule id "x" is used twice; give one of the rules a distinct "id"',
      '  rules[6] must be an object like {"host": "api.example.com", "threshold": 300, "window": "1m"}',
    ]);
  });

  test('the reserved rule id #manual is refused', () => {
    expect(() => parseRulesJson(JSON.stringify([{ id: '#manual', host: 'a.example.com', threshold: 100, window: '1m' }]), 'rules.json'))
      .toThrow('rules[0]: rule "#manual": ruleId must not start with "#"');
  });

  test('the file must hold a non-empty array', () => {
    expect(() => parseRulesJson('{"host": "a.example.com"}', 'r.json')).toThrow('r.json must hold a JSON array of rules');
    expect(() => parseRulesJson('[]', 'r.json')).toThrow('r.json holds no rules');
  });

  test('values typed wrongly are refused by the handlers\' own parser, not coerced', () => {
    const text = JSON.stringify([
      { host: 'a.example.com', threshold: true, window: '1m' },
      { host: 'b.example.com', threshold: [100], window: '1m' },
      { host: 'c.example.com', threshold: '0x64', window: '1m' },
      { host: 'd.example.com', threshold: '100', window: '1m' },
    ]);
    expect(() => parseRulesJson(text, 'rules.json')).toThrow([
      'rules.json has invalid rules:',
      '  rules[0]: rule "a.example.com": threshold must be a whole number of requests from 1 to 100000000 (got true)',
      '  rules[1]: rule "b.example.com": threshold must be a whole number of requests from 1 to 100000000 (got [100])',
      '  rules[2]: rule "c.example.com": threshold must be a whole number of requests from 1 to 100000000 (got "0x64")',
    ].join('\n'));
  });

  test('rules the guard would refuse at this sampling rate are named with the fix', () => {
    const rules = parseRulesJson(JSON.stringify([
      { id: 'low', host: 'a.example.com', threshold: 50, window: '1m' },
      { id: 'ok', host: 'b.example.com', threshold: 1000, window: '1m' },
    ]), 'rules.json');
    expect(samplingWarnings(rules, 1)).toEqual([expect.stringMatching(
      /^rule "low": threshold 50 at --sampling 1% is 0.5 logged requests .* at least 249 or --sampling to at least 5\. The guard refuses/)]);
    expect(samplingWarnings(rules, 100)).toEqual([]);
  });
});
