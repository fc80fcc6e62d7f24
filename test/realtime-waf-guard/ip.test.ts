import { CidrSet, parseCidr, parseCidrList, parseIp } from '../../src/realtime-waf-guard/runtime/ip';

describe('parseIp', () => {
  test.each([
    ['192.0.2.1', 4, '192.0.2.1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', 6, '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['::', 6, '::'],
    ['::ffff:192.0.2.1', 4, '192.0.2.1'],
    ['fe80::1:0:0:0', 6, 'fe80::1:0:0:0'],
    ['fe80:0:0:1:0:0:0:0', 6, 'fe80:0:0:1::'],
  ])('%s is IPv%s %s', (input, family, text) => {
    expect(parseIp(input)).toMatchObject({ family, text });
  });

  test.each(['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '2001:db8::1::2', 'fe80::1%eth0', 'gggg::1', '', '-', '1:2:3:4:5:6:7:8:9'])('%p is refused', (input) => {
    expect(parseIp(input)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  test('bare addresses become host ranges and host bits are masked', () => {
    expect(parseCidr('192.0.2.7')).toMatchObject({ text: '192.0.2.7/32' });
    expect(parseCidr('192.0.2.7/24')).toMatchObject({ text: '192.0.2.0/24' });
    expect(parseCidr('2001:db8::1')).toMatchObject({ text: '2001:db8::1/128' });
    expect(parseCidr('2001:db8:1:2::/32')).toMatchObject({ text: '2001:db8::/32' });
  });

  test('refuses /0, bad prefixes and garbage with a message naming the entry', () => {
    expect(parseCidr('0.0.0.0/0')).toMatch(/covers every address/);
    expect(parseCidr('::/0')).toMatch(/covers every address/);
    expect(parseCidr('10.0.0.0/33')).toMatch(/invalid prefix length/);
    expect(parseCidr('10.0.0.0/')).toMatch(/invalid prefix length/);
    expect(parseCidr('example.com')).toMatch(/"example.com" is not an IPv4 or IPv6 address/);
    expect(() => parseCidrList(['10.0.0.0/8', 'nope', '::/0'], 'allowList')).toThrow(/allowList: "nope" .*; "::\/0"/);
  });
});

describe('CidrSet', () => {
  const set = new CidrSet(parseCidrList(['10.0.0.0/8', '192.0.2.5', '2001:db8::/32'], 'test'));
  test.each([
    ['10.255.0.1', true], ['11.0.0.1', false], ['192.0.2.5', true], ['192.0.2.6', false],
    ['2001:db8:ffff::1', true], ['2001:db9::1', false],
  ])('%s -> %s', (ip, inside) => {
    expect(set.contains(parseIp(ip)!)).toBe(inside);
  });
});
