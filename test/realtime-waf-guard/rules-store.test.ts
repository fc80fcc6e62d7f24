import { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { parseStoredRule, RULE_LIMITS, StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { parseRuleRow, parseRuleRows } from '../../src/realtime-waf-guard/runtime/rules-store';

/** A rule row as DynamoDB returns it for a rule written by the seeder or a careful operator. */
function rowOf(rule: StoredRule): Record<string, AttributeValue> {
  return {
    ruleId: { S: rule.ruleId },
    host: { S: rule.host },
    ...(rule.pathPrefix === undefined ? {} : { pathPrefix: { S: rule.pathPrefix } }),
    threshold: { N: String(rule.threshold) },
    windowSeconds: { N: String(rule.windowSeconds) },
    blockSeconds: { N: String(rule.blockSeconds) },
    action: { S: rule.action },
    enabled: { BOOL: rule.enabled },
  };
}

const controlText = fc.string({ unit: fc.constantFrom('\u0000', '\u001b', '\u0007', '\u009b', '\u202e', '\n', '\r', 'a', '[', '3', '1', 'm', '.', '/') });
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), controlText, fc.constantFrom('BLOCK', 'COUNT', 'true', 'false', '100', ' 60 ', 'api.example.com', '/login'));
/** `N` strings: huge, tiny, exponents, signs, and text DynamoDB would never send but a fake or a bug could. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.constantFrom('9007199254740993', '100000000000000000000', '1E+30', '1e400', '-1e400', '1e-400', 'NaN', 'Infinity', '-0', '0.5', '60.0',
    '100.0000000000000000001', '1.', '.5', '0x64', '', ' 100', '1_000'),
  fc.double().map(String),
  fc.string(),
);
const attribute: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyText.map((S) => ({ S })),
    numberText.map((N) => ({ N })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.constant({ NULL: true }),
    fc.uint8Array({ maxLength: 8 }).map((B) => ({ B })),
    fc.array(anyText, { maxLength: 3 }).map((SS) => ({ SS })),
    fc.array(numberText, { maxLength: 3 }).map((NS) => ({ NS })),
    fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 2 }).map((BS) => ({ BS })),
    fc.array(tie('value'), { maxLength: 3 }).map((L) => ({ L })),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }).map((M) => ({ M })),
    // Shapes the SDK's type does not allow, as a broken fake or a future attribute type could hand over.
    fc.constantFrom({} as AttributeValue, { $unknown: ['X', 1] } as unknown as AttributeValue, null as unknown as AttributeValue),
  ),
})).value;

const COLUMNS = ['ruleId', 'host', 'pathPrefix', 'threshold', 'windowSeconds', 'blockSeconds', 'action', 'enabled', 'managedBy'];
/** A row whose every column may be anything; at least the key is usually a string, as DynamoDB's schema requires. */
const hostileRow = fc.record(Object.fromEntries(COLUMNS.map((c) => [c, attribute])), { requiredKeys: [] })
  .chain((row) => fc.option(anyText, { nil: undefined }).map((id) => (id === undefined ? row : { ...row, ruleId: { S: id } })));

const validRule: fc.Arbitrary<StoredRule> = fc.record({
  ruleId: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  host: fc.constantFrom('api.example.com', '*.example.com', 'www.example.org'),
  pathPrefix: fc.option(fc.constantFrom('/login', '/api/'), { nil: undefined }),
  threshold: fc.integer({ min: 10, max: RULE_LIMITS.maxThreshold }),
  windowSeconds: fc.integer({ min: RULE_LIMITS.minWindowSeconds, max: RULE_LIMITS.maxWindowSeconds }),
  blockSeconds: fc.integer({ min: RULE_LIMITS.minBlockSeconds, max: RULE_LIMITS.maxBlockSeconds }),
  action: fc.constantFrom('BLOCK' as const, 'COUNT' as const),
  enabled: fc.boolean(),
}).map((r) => (r.pathPrefix === undefined ? (({ pathPrefix: _, ...rest }) => rest)(r) : r) as StoredRule);

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** What a parse result promises: a rule the parser itself accepts unchanged, or a reason naming the row. */
function expectRuleOrReason(result: StoredRule | string): void {
  if (typeof result === 'string') {
    expect(result).toMatch(/^rule .+: .+/);
    // Refusals go to logs and terminals: no raw control characters, and short whatever the row holds.
    expect(result).not.toMatch(CONTROL);
    expect(result.length).toBeLessThan(700);
  } else {
    expect(parseStoredRule({ ...result })).toEqual(result);
    expect(Number.isSafeInteger(result.threshold) && result.threshold >= 1 && result.threshold <= RULE_LIMITS.maxThreshold).toBe(true);
    expect(result.ruleId).not.toMatch(CONTROL);
  }
}

describe('rule rows with any DynamoDB attribute values', () => {
  test('a row is a valid rule or a refusal with a reason, never an exception', () => {
    fc.assert(fc.property(hostileRow, (row) => {
      expectRuleOrReason(parseRuleRow(row as Record<string, AttributeValue>));
    }), { numRuns: 3000 });
  });

  test('valid rows are read the same whatever bad neighbours share the table', () => {
    fc.assert(fc.property(
      fc.uniqueArray(validRule, { selector: (r) => r.ruleId, maxLength: 6 }),
      fc.array(hostileRow, { maxLength: 6 }),
      fc.integer(),
      (valid, hostile, seed) => {
        const alone = parseRuleRows(valid.map(rowOf));
        expect(alone.invalid).toEqual([]);
        // Distinct keys, as in a table: hostile rows get ids of their own.
        const others = hostile.map((h, i) => ({ ...h, ruleId: h.ruleId?.S !== undefined && valid.some((v) => v.ruleId === h.ruleId?.S) ? { S: `x${i}` } : h.ruleId }));
        const mixed = [...valid.map(rowOf), ...others].sort(() => (seed = (seed * 16807) % 2147483647) % 3 - 1);
        const loaded = parseRuleRows(mixed as Array<Record<string, AttributeValue>>);
        for (const rule of alone.rules) expect(loaded.rules).toContainEqual(rule);
        expect(loaded.rules.length + loaded.invalid.length).toBe(mixed.length);
      },
    ), { numRuns: 500 });
  });

  test('the threshold from the issue (a number beyond 2^53) is refused, quoted exactly, and its neighbour kept', () => {
    const good: StoredRule = { ruleId: 'login', host: 'api.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true };
    const loaded = parseRuleRows([
      { ...rowOf(good), ruleId: { S: 'huge' }, threshold: { N: '9007199254740993' } },
      { ...rowOf(good), ruleId: { S: 'exponent' }, windowSeconds: { N: '1E+30' } },
      rowOf(good),
    ]);
    expect(loaded.rules).toEqual([good]);
    expect(loaded.invalid).toEqual([
      `rule "huge": threshold must be a whole number of requests from 1 to ${RULE_LIMITS.maxThreshold} (got 9007199254740993)`,
      'rule "exponent": window must be whole seconds from 10 s to 1 hour (got 1e+30 s)',
    ]);
  });

  test('a rule id starting with "#" (the guard\'s own rows, such as #manual) is refused with the reason', () => {
    const good = rowOf({ ruleId: 'x', host: 'api.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true });
    const loaded = parseRuleRows([{ ...good, ruleId: { S: '#manual' } }, { ...good, ruleId: { S: '#other' } }, good]);
    expect(loaded.rules.map((r) => r.ruleId)).toEqual(['x']);
    expect(loaded.invalid).toEqual([
      'rule "#manual": ruleId must not start with "#" (reserved for the guard\'s own rows, such as #manual for manual blocks); rename the rule',
      'rule "#other": ruleId must not start with "#" (reserved for the guard\'s own rows, such as #manual for manual blocks); rename the rule',
    ]);
  });

  test('a rule id with terminal control characters is refused, escaped in the reason', () => {
    expect(parseRuleRow({ ...rowOf({ ruleId: 'x', host: 'api.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true }), ruleId: { S: 'evil\u001b[2J' } }))
      .toBe('rule "evil\\u001b[2J": ruleId must not hold control characters');
  });
});

describe('rule rows as plain values (the CLI, the seeder and the construct read rules this way)', () => {
  const anything = fc.anything({
    withBigInt: true,
    withSet: true,
    withMap: true,
    withTypedArray: true,
    withNullPrototype: true,
    withBoxedValues: true,
    withDate: true,
    withSparseArray: true,
    withObjectString: true,
    withUnicodeString: true,
  });
  const plainRow = fc.record(
    Object.fromEntries(COLUMNS.map((c) => [c, fc.oneof(anything, anyText, fc.bigInt(), fc.double())])),
    { requiredKeys: [] },
  );

  test('parseStoredRule never throws: a valid rule or a refusal with a reason', () => {
    fc.assert(fc.property(plainRow, (row) => {
      expectRuleOrReason(parseStoredRule(row));
    }), { numRuns: 3000 });
  });

  test('a BigInt threshold is refused with the number, not "Do not know how to serialize a BigInt"', () => {
    expect(parseStoredRule({ ruleId: 'r', host: 'api.example.com', threshold: 2n ** 64n, windowSeconds: 60 }))
      .toBe(`rule "r": threshold must be a whole number of requests from 1 to ${RULE_LIMITS.maxThreshold} (got 18446744073709551616)`);
  });
});
