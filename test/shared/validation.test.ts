import { emailAddressErrors, isEmailAddress } from '../../src/shared/validation';

describe('email addresses', () => {
  test('one address each; names, ARNs and lists are not', () => {
    for (const ok of ['oncall@example.com', 'waf-team+alerts@sub.example.co.uk', 'a.b@c.io']) expect(isEmailAddress(ok)).toBe(true);
    for (const bad of [
      'oncall',
      'oncall@example',
      '@example.com',
      'arn:aws:sns:eu-west-1:111111111111:ops',
      'ops@example.com,dev@example.com',
      'ops@example.com;dev',
      'ops@example.com dev@example.com',
      'ops@@example.com',
      '',
    ]) {
      expect(isEmailAddress(bad)).toBe(false);
    }
  });

  test('messages name the prop and index of every bad entry; skipped values are not checked', () => {
    expect(emailAddressErrors('alertEmails', ['ops@example.com', 'oncall', 'x;y@example.com'])).toEqual([
      'alertEmails[1] "oncall" does not look like an email address (name@example.com)',
      'alertEmails[2] "x;y@example.com" does not look like an email address (name@example.com)',
    ]);
    expect(emailAddressErrors('alertEmails', undefined)).toEqual([]);
    expect(emailAddressErrors('alertEmails', ['${Token[TOKEN.1]}'], (v) => v.startsWith('${Token'))).toEqual([]);
  });
});
