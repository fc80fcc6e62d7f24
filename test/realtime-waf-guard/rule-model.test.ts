import { parseStoredRule, StoredRule } from '../../src/realtime-waf-guard/rule-model';

const row = { ruleId: 'login', host: 'www.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK' };

describe('rule rows typed by hand', () => {
  test.each([
    ['threshold', true],
    ['threshold', [100]],
    ['threshold', '0x64'],
    ['threshold', '1e2'],
    ['threshold', '100.0'],
    ['threshold', ''],
    ['threshold', null],
    ['threshold', 12.5],
    ['windowSeconds', false],
    ['windowSeconds', ['60']],
    ['windowSeconds', '0x3c'],
    ['blockSeconds', true],
    ['blockSeconds', '6e2'],
  ])('%s %j is refused, naming the row and the field', (field, value) => {
    const parsed = parseStoredRule({ ...row, [field]: value });
    expect(typeof parsed).toBe('string');
    const name = field === 'windowSeconds' ? 'window' : field === 'blockSeconds' ? 'block period' : field;
    expect(parsed).toMatch(new RegExp(`^rule "login": ${name} must be .*\\(got ${escape(JSON.stringify(value))}`));
  });

  test.each([
    [undefined, undefined], [null, undefined], [false, undefined], ['FALSE', undefined], [true, true], [' true ', true],
  ])('pathCaseSensitive %j is stored as %j: absent means case is ignored', (value, expected) => {
    const parsed = parseStoredRule({ ...row, pathPrefix: '/login', pathCaseSensitive: value }) as StoredRule;
    expect(parsed.pathCaseSensitive).toBe(expected);
    expect('pathCaseSensitive' in parsed).toBe(expected !== undefined);
  });

  test.each([['yes'], [1], [[true]], [{}]])('pathCaseSensitive %j is refused, naming the row and the field', (value) => {
    expect(parseStoredRule({ ...row, pathPrefix: '/login', pathCaseSensitive: value }))
      .toBe(`rule "login": pathCaseSensitive must be true or false (got ${JSON.stringify(value)})`);
  });

  test.each([
    [100, 100], ['100', 100], [' 100 ', 100], ['0100', 100],
  ])('threshold %j is %d', (value, expected) => {
    expect((parseStoredRule({ ...row, threshold: value }) as StoredRule).threshold).toBe(expected);
  });

  test('durations take decimal digit strings too', () => {
    expect(parseStoredRule({ ...row, windowSeconds: '30', blockSeconds: '900' })).toMatchObject({ windowSeconds: 30, blockSeconds: 900 });
  });

  test.each([
    [true, true], [false, false], ['true', true], ['TRUE', true], ['True', true], ['false', false], ['FALSE', false], [undefined, true],
  ])('enabled %j is %p', (value, expected) => {
    expect((parseStoredRule({ ...row, enabled: value }) as StoredRule).enabled).toBe(expected);
  });

  test.each(['yes', 'off', 1, 0, '', null, ['true']])('enabled %j is refused rather than read as false', (value) => {
    expect(parseStoredRule({ ...row, enabled: value })).toMatch(/^rule "login": enabled must be true or false \(got /);
  });

  test('a row without a usable id is named by what it holds', () => {
    expect(parseStoredRule({ ...row, ruleId: 42 })).toBe('rule 42: ruleId must be a non-empty string of at most 256 characters');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
