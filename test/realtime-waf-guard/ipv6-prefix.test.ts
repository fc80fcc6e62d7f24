import { cidrs, fields, line, none, rule } from './client-fixtures';
import { TrafficCounter } from '../../src/realtime-waf-guard/runtime/detector';
import { renderDigest } from '../../src/realtime-waf-guard/runtime/digest';
import { clientOf, parseCidr, parseIp } from '../../src/realtime-waf-guard/runtime/ip';
import { planIpSets } from '../../src/realtime-waf-guard/runtime/ip-set-planner';
import { blockRow } from '../support/block-rows';

/** The n-th address of 2001:db8:1:2::/64, spread over the whole interface identifier. */
const rotating = (n: number) => `2001:db8:1:2:${(n * 7919 % 65536).toString(16)}:${n.toString(16)}:${(n * 31 % 65536).toString(16)}:${(n * 17 + 1).toString(16)}`;
const totals = (c: TrafficCounter) =>
  Object.fromEntries(c.entries().map((e) => [e.ip.text, [...e.buckets.values()].reduce((a, b) => a + b, 0)]));

describe('addresses', () => {
  test('an IPv4-mapped IPv6 address is the IPv4 address, as an address and as a range', () => {
    expect(parseIp('::ffff:198.51.100.23')).toEqual({ family: 4, text: '198.51.100.23', value: parseIp('198.51.100.23')!.value });
    expect(parseIp('::FFFF:c633:6417')).toMatchObject({ family: 4, text: '198.51.100.23' });
    expect(parseCidr('::ffff:198.51.100.0/120')).toMatchObject({ family: 4, text: '198.51.100.0/24' });
    expect(parseCidr('::ffff:198.51.100.23')).toMatchObject({ family: 4, text: '198.51.100.23/32' });
    expect(parseCidr('::ffff:0:0/80')).toMatch(/beyond the IPv4-mapped range/);
    // not mapped: the IPv4-compatible and NAT64 forms stay IPv6
    expect(parseIp('64:ff9b::c633:6417')).toMatchObject({ family: 6 });
  });

  test('an IPv6 client is its prefix; IPv4 stays a single address', () => {
    expect(clientOf(parseIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd')!, 64).text).toBe('2001:db8:1:2::/64');
    expect(clientOf(parseIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd')!, 48).text).toBe('2001:db8:1::/48');
    expect(clientOf(parseIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd')!, 128).text).toBe('2001:db8:1:2:aaaa:bbbb:cccc:dddd/128');
    expect(clientOf(parseIp('198.51.100.7')!, 64).text).toBe('198.51.100.7');
  });

  test('CidrSet tells a network held whole from one that merely holds an allow-listed address', () => {
    const set = cidrs('2001:db8:1:2::17', '2001:db8:9::/48', '192.0.2.0/25');
    const net = (s: string) => parseCidr(s) as Exclude<ReturnType<typeof parseCidr>, string>;
    expect([set.containsCidr(net('2001:db8:1:2::/64')), set.intersects(net('2001:db8:1:2::/64'))]).toEqual([false, true]);
    expect([set.containsCidr(net('2001:db8:1:3::/64')), set.intersects(net('2001:db8:1:3::/64'))]).toEqual([false, false]);
    expect([set.containsCidr(net('2001:db8:9:5::/64')), set.intersects(net('2001:db8:9:5::/64'))]).toEqual([true, true]);
    expect([set.containsCidr(net('192.0.2.7/32')), set.intersects(net('192.0.2.200/32'))]).toEqual([true, false]);
  });
});

describe('counting IPv6 per prefix', () => {
  test('an attacker rotating through 1,000 addresses of one /64 counts as that /64', () => {
    const c = new TrafficCounter({ fields, rules: [rule], allowList: none, trustedProxies: none });
    const addresses = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      addresses.add(parseIp(rotating(i))!.text);
      c.add(line(rotating(i)), i);
    }
    expect(addresses.size).toBe(1000);
    expect(totals(c)).toEqual({ '2001:db8:1:2::/64': 1000 });
    expect(c.entries()[0].ip.family).toBe(6);
  });

  test('neighbouring /64s stay separate; a configured /56 joins them; /128 counts addresses', () => {
    const lines = [line('2001:db8:1:2::1'), line('2001:db8:1:2::2'), line('2001:db8:1:3::1')];
    const count = (ipv6PrefixLength?: number) => {
      const c = new TrafficCounter({ fields, rules: [rule], allowList: none, trustedProxies: none, ipv6PrefixLength });
      lines.forEach((l, i) => c.add(l, i));
      return totals(c);
    };
    expect(count()).toEqual({ '2001:db8:1:2::/64': 2, '2001:db8:1:3::/64': 1 });
    expect(count(56)).toEqual({ '2001:db8:1::/56': 3 });
    expect(count(128)).toEqual({ '2001:db8:1:2::1/128': 1, '2001:db8:1:2::2/128': 1, '2001:db8:1:3::1/128': 1 });
  });

  test('an allow-listed address is not counted; the rest of its prefix is', () => {
    const c = new TrafficCounter({ fields, rules: [rule], allowList: cidrs('2001:db8:1:2::17'), trustedProxies: none });
    c.add(line('2001:db8:1:2::17'), 0);
    c.add(line('2001:db8:1:2::18'), 1);
    expect(totals(c)).toEqual({ '2001:db8:1:2::/64': 1 });
    expect(c.stats.allowListed).toBe(1);
  });

  test('IPv4-mapped clients count, are allow-listed and are trusted as their IPv4 address', () => {
    const c = new TrafficCounter({ fields, rules: [rule], allowList: cidrs('192.0.2.0/24'), trustedProxies: cidrs('10.0.0.0/8') });
    c.add(line('::ffff:198.51.100.23'), 0);
    c.add(line('198.51.100.23'), 1);
    c.add(line('::ffff:192.0.2.5'), 2);
    // a proxy reporting itself and its client as mapped addresses
    c.add(line('::ffff:10.1.2.3', '::ffff:203.0.113.9'), 3);
    expect(totals(c)).toEqual({ '198.51.100.23': 2, '203.0.113.9': 1 });
    expect(c.stats.allowListed).toBe(1);
  });
});

describe('IP sets per prefix', () => {
  const T0 = 1_700_000_000_000;
  test('the sets hold the prefix, neighbouring /64s are never merged, mapped rows go to the IPv4 set', () => {
    const plan = planIpSets([
      blockRow('2001:db8:1:2::/64', T0), blockRow('2001:db8:1:3::/64', T0), blockRow('::ffff:198.51.100.23', T0), blockRow('2001:db8::7', T0),
    ], T0 + 1000, none);
    expect(plan.ipv6).toEqual(['2001:db8:1:2::/64', '2001:db8:1:3::/64', '2001:db8::7/128']);
    expect(plan.ipv4).toEqual(['198.51.100.23/32']);
  });

  test('an allow-listed address inside a prefix keeps the whole prefix out of the sets, and the digest says so', () => {
    const shieldedRow = blockRow('2001:db8:1:2::/64', T0);
    const plan = planIpSets([shieldedRow, blockRow('2001:db8:1:3::/64', T0)], T0 + 1000, cidrs('2001:db8:1:2::17'));
    expect(plan.ipv6).toEqual(['2001:db8:1:3::/64']);
    expect(plan.shielded).toEqual([shieldedRow]);
    expect(plan.allowListed).toEqual([]);
    const digest = renderDigest({ guardName: 'g', blocked: [], wouldBlock: [], released: [], overCap: [], shielded: plan.shielded })!;
    expect(digest.subject).toBe('[g] 1 not blocked (allow-list)');
    expect(digest.body).toMatch(/NOT blocked: the prefix holds an allow-listed address, so the whole prefix stays out of the IP sets:\n {2}2001:db8:1:2::\/64 {2}rule api/);
    expect(JSON.parse(digest.attributes.changes.StringValue)[0]).toMatchObject({ event: 'notBlockedAllowListed', ip: '2001:db8:1:2::/64' });
  });
});
