import { Token } from 'aws-cdk-lib';
import { iamDescription, limitLength, wafDescription } from '../../src/shared/cfn-text';

// The patterns as the CloudFormation resource schemas state them.
const WAF_DESCRIPTION = /^[a-zA-Z0-9=:#@/\-,.][a-zA-Z0-9+=:#@/\-,.\s]+[a-zA-Z0-9+=:#@/\-,.]{1,256}$/;
const IAM_DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

describe('text fitted to CloudFormation schemas', () => {
  test.each([
    'Blocks clients detected by My_Stack/Edge_Guard',
    'Clients blocked by cdk-waf-guard; written by the sync function only',
    '  (leading) and [trailing]  ',
    'Überwachung für Zürich ✓ 日本',
    `Blocks clients detected by ${'Deep/'.repeat(80)}Guard_`,
    '_',
  ])('a WAF description of %j matches the WAFv2 pattern and keeps what it can', (text) => {
    const fitted = wafDescription(text);
    expect(fitted).toMatch(WAF_DESCRIPTION);
    expect(fitted.length).toBeLessThanOrEqual(256);
  });

  test('allowed characters are kept as they are', () => {
    expect(wafDescription('Blocks clients detected by Stack/Guard-1, v2.0 @edge #1 a=b')).toBe('Blocks clients detected by Stack/Guard-1, v2.0 @edge #1 a=b');
    expect(wafDescription('Guard_a;b')).toBe('Guard-a-b');
  });

  test('IAM descriptions lose characters outside printable Latin-1 and stay within 1,000', () => {
    const fitted = iamDescription(`Collects WAF health of Zürich ✓ 日本 ${'x'.repeat(2000)}`);
    expect(fitted).toMatch(IAM_DESCRIPTION);
    expect(fitted.startsWith('Collects WAF health of Zürich ? ??')).toBe(true);
    expect(fitted).toHaveLength(1000);
  });

  test('lengths are cut with a visible mark, tokens pass untouched', () => {
    expect(limitLength('abcdef', 6)).toBe('abcdef');
    expect(limitLength('abcdefg', 6)).toBe('abc...');
    const token = Token.asString({ resolve: () => 'x'.repeat(900) });
    expect(limitLength(token, 10)).toBe(token);
  });
});
