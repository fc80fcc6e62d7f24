import { cidrs, fields, line, none, rule } from './client-fixtures';
import { routeName, TrafficCounter } from '../../src/realtime-waf-guard/runtime/detector';
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
