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

describe('counting the route', () => {
  test('a client found behind a trusted proxy is counted as proxied; one seen both ways as both', () => {
    const c = new TrafficCounter({ fields, rules: [rule], allowList: none, trustedProxies: cidrs('10.0.0.0/8') });
    c.add(line('10.1.1.1', '203.0.113.9'), 0);
    c.add(line('198.51.100.1'), 1);
    c.add(line('10.1.1.1', '198.51.100.1'), 2);
    expect(Object.fromEntries(c.entries().map((e) => [e.ip.text, routeName(e.route)]))).toEqual({ '203.0.113.9': 'PROXY', '198.51.100.1': 'BOTH' });
  });
});
