import * as fc from 'fast-check';
import { dailyModel } from './email-models';
import { escapeHtml, visible } from '../../src/reporting/runtime/format';
import { renderEmail, ReportModel } from '../../src/reporting/runtime/render';

/**
 * Customers, host names, rule ids and client IPs come from traffic: whatever they hold, neither part of the email gets a
 * control or bidi-control character from them (a CR or tab that breaks the text part's columns, a U+202E that reverses
 * what follows), and the HTML keeps its markup.
 */

/** Every character the email must not carry raw; `\n` is the text part's own line break and allowed outside values. */
const FORBIDDEN = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** The daily model with `value` as a customer, a host, a rule id, a client IP, the top offender and a problem. */
function modelWith(value: string): ReportModel {
  const model = dailyModel();
  const elastic = model.elastic!;
  const guard = model.guard!;
  const [first, ...customers] = elastic.customers!;
  const [host, ...hosts] = first.hosts;
  const [rule, ...rules] = guard.byRule;
  const [offender, ...offenders] = guard.topOffenders;
  const [ip, ...ips] = elastic.clientIps!;
  return {
    ...model,
    elastic: {
      ...elastic,
      customers: [{ ...first, customer: value, hosts: [{ ...host, host: value }, ...hosts] }, ...customers],
      clientIps: [{ ...ip, ip: value }, ...ips],
    },
    guard: { ...guard, byRule: [{ ...rule, ruleId: value, host: value }, ...rules], topOffenders: [{ ...offender, ip: value }, ...offenders] },
    problems: [{ source: `elastic:${value}`, message: `failed for ${value}` }],
    files: [`reports/daily/2026-11-30/customers/${value}.csv`],
  };
}

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom('\r', '\n', '\t', '\u202E', '\u2066', '\u200F', '\u0085', '\u2028', '\u0000', '\u001B[31m', '<b>', '&amp;', '"', 'x'), { maxLength: 12 }).map((a) => a.join('')),
);

describe('hostile text from traffic', () => {
  const baseline = renderEmail(modelWith('x'));

  test('property: no control or bidi character survives into either part, lines and markup stay as with a plain name', () => {
    fc.assert(fc.property(hostile, (value) => {
      const email = renderEmail(modelWith(value));
      expect(email.text).not.toMatch(FORBIDDEN);
      expect(email.html).not.toMatch(FORBIDDEN);
      expect(email.subject).not.toMatch(FORBIDDEN);
      // No line added or removed, no tag or entity opened: the value changed only the cells it is in.
      expect(email.text.split('\n')).toHaveLength(baseline.text.split('\n').length);
      expect(email.html.split('<')).toHaveLength(baseline.html.split('<').length);
      expect(email.html).toContain(escapeHtml(visible(value)));
    }), { numRuns: 150 });
  });

  test('a bidi override, CR and tab are shown as \\u202E, \\u000D and \\u0009 in both parts', () => {
    const email = renderEmail(modelWith('evil\u202Efdp.exe\r\tcols'));
    for (const part of [email.text, email.html]) expect(part).toContain('evil\\u202Efdp.exe\\u000D\\u0009cols');
    // The rule table's columns still line up: the header's "Host" starts where the hostile row's host does.
    const lines = email.text.split('\n');
    const header = lines.find((l) => /^ {2}Rule +Host +Blocked/.test(l))!;
    const row = lines.find((l) => l.startsWith('  evil\\u202E'))!;
    expect(row.indexOf('evil', 4)).toBe(header.indexOf('Host'));
  });
});
