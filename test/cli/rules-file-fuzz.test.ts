import fc from 'fast-check';
import { parseHostRule } from '../../src/cli/rules-file';
import { parseStoredRule, StoredRule } from '../../src/realtime-waf-guard/rule-model';

/** The CLI reads rules files with the guard's own strict parser: any JSON gives a rule or a reason, never an exception. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const KEYS = ['id', 'host', 'pathPrefix', 'threshold', 'window', 'blockFor', 'action'];
const text = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('login\u001b[2J', '5m\u009b', '1h', 'api.example.com', '/login', 'BLOCK'));
const value = fc.oneof(fc.jsonValue(), text, fc.integer(), fc.double());
const ruleLike = fc.oneof(
  fc.record(Object.fromEntries(KEYS.map((k) => [k, value])), { requiredKeys: [] }),
  fc.dictionary(text, value, { maxKeys: 4 }),
  fc.jsonValue(),
);

test('any JSON rule is a valid rule or a refusal naming the entry, printable as it is', () => {
  fc.assert(fc.property(ruleLike, fc.nat(99), (raw, index) => {
    const parsed = parseHostRule(raw, index);
    if (typeof parsed === 'string') {
      expect(parsed.startsWith(`rules[${index}]`)).toBe(true);
      expect(parsed).not.toMatch(CONTROL);
    } else {
      expect(parseStoredRule({ ...parsed })).toEqual(parsed as StoredRule);
      expect(parsed.ruleId).not.toMatch(CONTROL);
    }
  }), { numRuns: 3000 });
});
