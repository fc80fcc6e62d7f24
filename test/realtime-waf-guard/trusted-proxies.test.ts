import fc from 'fast-check';
import { cidrs, fields, line, none, rule } from './client-fixtures';
import { ClientRoute } from '../../src/realtime-waf-guard/runtime/block-store';
import { routeName, TrafficCounter } from '../../src/realtime-waf-guard/runtime/detector';
import { CidrSet, parseCidr, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { planIpSets } from '../../src/realtime-waf-guard/runtime/ip-set-planner';
import { blockRow } from '../support/block-rows';


describe('IP sets per route', () => {
  const T0 = 1_700_000_000_000;
  test('clients found behind a trusted proxy go to the forwarded sets, direct ones to the source sets, both to both', () => {
    const plan = planIpSets([
      blockRow('198.51.100.1', T0), blockRow('198.51.100.2', T0, { route: 'PROXY' }), blockRow('198.51.100.3', T0, { route: 'BOTH' }),
      blockRow('2001:db8:1:2::/64', T0, { route: 'PROXY' }), blockRow('2001:db8:1:3::/64', T0, { route: 'DIRECT' }),
    ], T0 + 1000, none);
    expect([plan.ipv4, plan.forwardedIpv4]).toEqual([['198.51.100.1/32', '198.51.100.3/32'], ['198.51.100.2/32', '198.51.100.3/32']]);
    expect([plan.ipv6, plan.forwardedIpv6]).toEqual([['2001:db8:1:3::/64'], ['2001:db8:1:2::/64']]);
  });

  test('each set has its own cap; a row left out of any of its sets is reported', () => {
    const plan = planIpSets([
      blockRow('198.51.100.1', T0, { severity: 3 }), blockRow('198.51.100.2', T0, { route: 'PROXY', severity: 2 }),
      blockRow('198.51.100.3', T0, { route: 'BOTH', severity: 1 }),
    ], T0 + 1000, none, 1);
    expect([plan.ipv4, plan.forwardedIpv4]).toEqual([['198.51.100.1/32'], ['198.51.100.2/32']]);
    expect(plan.overCap.map((r) => r.ip)).toEqual(['198.51.100.3']);
  });

  test('with forwarded sets, a direct client is in them too, after the clients found behind a proxy, never crowding one out', () => {
    const rows = [
      blockRow('198.51.100.1', T0, { severity: 3 }), blockRow('198.51.100.2', T0, { route: 'PROXY', severity: 1 }),
      blockRow('2001:db8:1:3::/64', T0),
    ];
    const plan = planIpSets(rows, T0 + 1000, none, 10_000, { forwardedSets: true });
    expect([plan.ipv4, plan.forwardedIpv4]).toEqual([['198.51.100.1/32'], ['198.51.100.1/32', '198.51.100.2/32']]);
    expect([plan.ipv6, plan.forwardedIpv6]).toEqual([['2001:db8:1:3::/64'], ['2001:db8:1:3::/64']]);
    // a full forwarded set keeps the proxied client, though less severe, and reports nobody: the direct one is blocked
    const full = planIpSets(rows, T0 + 1000, none, 1, { forwardedSets: true });
    expect([full.ipv4, full.forwardedIpv4, full.overCap]).toEqual([['198.51.100.1/32'], ['198.51.100.2/32'], []]);
  });

  test('model: every block in force is in the forwarded sets; a source-address set holds only clients seen connecting themselves', () => {
    const route = fc.constantFrom<ClientRoute | undefined>('DIRECT', 'PROXY', 'BOTH', undefined);
    const row = fc.record({ host: fc.integer({ min: 1, max: 40 }), v6: fc.boolean(), route, ends: fc.integer({ min: -5, max: 5 }) });
    fc.assert(fc.property(fc.array(row, { maxLength: 30 }), (specs) => {
      const rows = specs.map((r, i) => blockRow(r.v6 ? `2001:db8:0:${r.host}::/64` : `198.51.100.${r.host}`, T0 + i,
        { route: r.route, blockedUntil: T0 + r.ends * 60_000 }));
      const plan = planIpSets(rows, T0, none, 10_000, { forwardedSets: true });
      const inForce = rows.filter((r) => r.blockedUntil > T0);
      const cidr = (ip: string) => (parseCidr(ip) as { text: string }).text;
      const expected = (pick: (r: typeof rows[number]) => boolean) => [...new Set(inForce.filter(pick).map((r) => cidr(r.ip)))].sort();
      expect([...plan.ipv4, ...plan.ipv6].sort()).toEqual(expected((r) => r.route !== 'PROXY'));
      expect([...plan.forwardedIpv4, ...plan.forwardedIpv6].sort()).toEqual(expected(() => true));
    }), { seed: 17, numRuns: 200 });
  });
});

describe('no block covers a trusted proxy', () => {
  const T0 = 1_700_000_000_000;
  test('model: no entry of any set shares an address with a trusted proxy; every other block in force is applied', () => {
    // small networks so that rows, proxies and proxy ranges often overlap
    const v4 = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 32 }))
      .map(([b, c, p]) => parseCidr(`10.${b}.${c}.7/${p}`) as { text: string });
    const v6 = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 48, max: 128 }))
      .map(([b, h, p]) => parseCidr(`2001:db8:aaaa:${b}::${h.toString(16)}/${p}`) as { text: string });
    const network = fc.oneof(v4, v6).map((c) => c.text);
    const route = fc.constantFrom<ClientRoute>('DIRECT', 'PROXY', 'BOTH');
    const scenario = [fc.array(fc.tuple(network, route), { maxLength: 20 }), fc.array(network, { minLength: 1, maxLength: 4 })] as const;
    fc.assert(fc.property(...scenario, (rows, proxyList) => {
      const proxies = new CidrSet(parseCidrList(proxyList, 'proxies'));
      const blockRows = rows.map(([ip, r], i) => blockRow(ip, T0 + i, { route: r }));
      const plan = planIpSets(blockRows, T0 + 100, none, 10_000, { trustedProxies: proxies, forwardedSets: true });
      for (const entry of [...plan.ipv4, ...plan.ipv6, ...plan.forwardedIpv4, ...plan.forwardedIpv6]) {
        expect(proxies.intersects(parseCidr(entry) as never)).toBe(false);
      }
      const kept = new Set(plan.holdsProxy);
      for (const row of blockRows) {
        const covers = proxies.intersects(parseCidr(row.ip) as never);
        expect(kept.has(row)).toBe(covers);
        if (!covers) expect([...plan.forwardedIpv4, ...plan.forwardedIpv6]).toContain((parseCidr(row.ip) as { text: string }).text);
      }
    }), { seed: 17, numRuns: 300 });
  });

  test('the IPv6 neighbour of a proxy: its /64 is kept out, a /64 beside it is not', () => {
    const plan = planIpSets([blockRow('2001:db8:aaaa:1::/64', T0), blockRow('2001:db8:aaaa:2::/64', T0)], T0 + 1000, none, 10_000,
      { trustedProxies: cidrs('2001:db8:aaaa:1::5') });
    expect([plan.ipv6, plan.holdsProxy.map((r) => r.ip)]).toEqual([['2001:db8:aaaa:2::/64'], ['2001:db8:aaaa:1::/64']]);
  });
});

describe('counting the route', () => {
  test('a client found behind a trusted proxy is counted as proxied; one seen both ways as both', () => {
    const c = new TrafficCounter({ fields, rules: [rule], allowList: none, trustedProxies: cidrs('10.0.0.0/8') });
    c.add(line('10.1.1.1', '203.0.113.9'), 0);
    c.add(line('198.51.100.1'), 1);
    c.add(line('10.1.1.1', '198.51.100.1'), 2);
    expect(Object.fromEntries(c.entries().map((e) => [e.ip.text, routeName(e.route)]))).toEqual({ '203.0.113.9': 'PROXY', '198.51.100.1': 'BOTH' });
  });
});
