/* eslint-disable no-bitwise -- addresses are 32- and 128-bit numbers: masks and shifts are the natural operations */
import { createServer, Server } from 'http';
import { AddressInfo, Socket } from 'net';
import * as fc from 'fast-check';
import { createCheckerHandler } from '../../src/elastic-monitoring/debug-checker.lambda';
import { checkAddress, parseIpv4, parseIpv6 } from '../../src/elastic-monitoring/runtime/address-policy';
import {
  CHECKER_LOCATION_ENV, DEBUG_CONFIG_ENV, DebugConfig, Lookup, headRequest, pinTarget, runCheck, systemLookup,
} from '../../src/elastic-monitoring/runtime/debug-checks';

/** Every way of writing a v4 address that inet_aton and the WHATWG URL parser accept. */
function spellingsV4(a: number): fc.Arbitrary<string> {
  const o = [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255];
  const part = (n: number) => fc.constantFrom(String(n), `0x${n.toString(16)}`, `0X${n.toString(16).toUpperCase()}`, n === 0 ? '0' : `0${n.toString(8)}`);
  const dotted = fc.tuple(part(o[0]), part(o[1]), part(o[2]), part(o[3])).map((p) => p.join('.'));
  const three = fc.tuple(part(o[0]), part(o[1]), part(((o[2] << 8) | o[3]) >>> 0)).map((p) => p.join('.'));
  const two = fc.tuple(part(o[0]), part(a & 0xffffff)).map((p) => p.join('.'));
  const one = part(a);
  const hex = (x: number) => x.toString(16);
  const v6 = fc.constantFrom(
    `::ffff:${o.join('.')}`, `[::ffff:${o.join('.')}]`, `::ffff:${hex(a >>> 16)}:${hex(a & 0xffff)}`, `0:0:0:0:0:ffff:${o.join('.')}`,
    `64:ff9b::${o.join('.')}`, `[64:ff9b::${hex(a >>> 16)}:${hex(a & 0xffff)}]`, `::ffff:0:${o.join('.')}`,
  );
  return fc.oneof(dotted, three, two, one, v6, dotted.map((d) => `${d}.`));
}

const v4In = (base: string, bits: number) => {
  const b = parseIpv4(base)!;
  return fc.integer({ min: 0, max: 2 ** (32 - bits) - 1 }).map((n) => (b + n) >>> 0);
};

const forbiddenV4 = fc.oneof(
  v4In('127.0.0.0', 8), v4In('169.254.0.0', 16), v4In('0.0.0.0', 8), v4In('224.0.0.0', 4), fc.constant(0xffffffff),
  fc.constant(parseIpv4('169.254.169.254')!), fc.constant(parseIpv4('169.254.170.2')!), fc.constant(parseIpv4('100.100.100.200')!),
);
const privateV4 = fc.oneof(v4In('10.0.0.0', 8), v4In('172.16.0.0', 12), v4In('192.168.0.0', 16), v4In('100.64.0.0', 10))
  .filter((a) => a !== parseIpv4('100.100.100.200'));

function spellingsV6(groups: readonly number[]): fc.Arbitrary<string> {
  const full = groups.map((g) => g.toString(16)).join(':');
  const padded = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
  // Compress the longest run of zero groups, as inet_ntop would.
  let best = [-1, 0]; let i = 0;
  while (i < 8) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i; while (j < 8 && groups[j] === 0) j++;
    if (j - i > best[1]) best = [i, j - i];
    i = j;
  }
  const short = best[0] < 0 ? full : `${groups.slice(0, best[0]).map((g) => g.toString(16)).join(':')}::${groups.slice(best[0] + best[1]).map((g) => g.toString(16)).join(':')}`;
  return fc.constantFrom(full, padded, short, `[${short}]`, `${short}%eth0`, `[${short}%25lo]`, short.toUpperCase());
}
const v6Prefix = (first: number, mask: number) => fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
  .map((g) => [((first & mask) | (g[0] & ~mask & 0xffff)) >>> 0, ...g.slice(1)]);
const forbiddenV6 = fc.oneof(
  fc.constant([0, 0, 0, 0, 0, 0, 0, 1]), fc.constant([0, 0, 0, 0, 0, 0, 0, 0]), fc.constant([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]),
  v6Prefix(0xfe80, 0xffc0), v6Prefix(0xff00, 0xff00),
);

describe('address policy', () => {
  test.each([
    '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '::ffff:127.0.0.1', '::1', 'localhost', '169.254.169.254', 'fd00:ec2::254',
    '[::1]', 'LOCALHOST.', 'api.localhost', 'metadata.google.internal', 'metadata.google.internal.', '0', '0.0.0.0', '::', '[::ffff:7f00:1]',
    '64:ff9b::169.254.169.254', '::127.0.0.1', 'fe80::1%eth0', '169.254.170.2', '100.100.100.200', '255.255.255.255', '224.0.0.1',
  ])('%s is refused inside and outside', (spelling) => {
    expect(checkAddress(spelling, 'inside')).toEqual(expect.objectContaining({ allowed: false, reason: expect.stringMatching(/./) }));
    expect(checkAddress(spelling, 'outside').allowed).toBe(false);
  });

  test('forbidden v4 addresses are refused in every spelling, from both checkers', () => {
    fc.assert(fc.property(forbiddenV4.chain((a) => spellingsV4(a)), fc.constantFrom('inside' as const, 'outside' as const), (s, loc) => {
      expect(checkAddress(s, loc).allowed).toBe(false);
    }), { numRuns: 2000 });
  });

  test('forbidden v6 addresses are refused in every spelling', () => {
    fc.assert(fc.property(forbiddenV6.chain(spellingsV6), fc.constantFrom('inside' as const, 'outside' as const), (s, loc) => {
      expect(checkAddress(s, loc).allowed).toBe(false);
    }), { numRuns: 1000 });
  });

  test('private ranges: allowed inside, refused outside, in every spelling', () => {
    fc.assert(fc.property(privateV4.chain(spellingsV4), (s) => {
      expect(checkAddress(s, 'inside').allowed).toBe(true);
      expect(checkAddress(s, 'outside')).toEqual(expect.objectContaining({ allowed: false, reason: expect.stringContaining('only the checker inside the VPC contacts private addresses') }));
    }), { numRuns: 1000 });
    fc.assert(fc.property(v6Prefix(0xfc00, 0xfe00).filter((g) => !(g[0] === 0xfd00 && g[1] === 0xec2)).chain(spellingsV6), (s) => {
      expect(checkAddress(s, 'inside').allowed).toBe(true);
      expect(checkAddress(s, 'outside').allowed).toBe(false);
    }), { numRuns: 500 });
  });

  test('public addresses are accepted in every spelling and canonicalised', () => {
    const publicV4 = fc.integer({ min: 0, max: 0xffffffff }).filter((a) => {
      const o = a >>> 24;
      return o !== 0 && o !== 10 && o !== 127 && o < 224 && !(o === 169 && ((a >>> 16) & 255) === 254) && !(o === 172 && ((a >>> 20) & 15) === 1)
        && !(o === 192 && ((a >>> 16) & 255) === 168) && !(o === 100 && ((a >>> 22) & 3) === 1)
        // IETF protocol assignments (192.0.0.0/24, incl. Oracle's metadata) and benchmarking (198.18.0.0/15) are not public either
        && !(o === 192 && ((a >>> 8) & 0xffff) === 0) && !(o === 198 && ((a >>> 17) & 127) === 9);
    });
    fc.assert(fc.property(publicV4, fc.context(), (a, ctx) => fc.assert(fc.property(spellingsV4(a), (s) => {
      ctx.log(s);
      const v = checkAddress(s, 'outside');
      expect(v.allowed).toBe(true);
    }), { numRuns: 5 })), { numRuns: 300 });
    expect(checkAddress('2130706433', 'inside').address).toBe('127.0.0.1');
    expect(checkAddress('2606:4700::1111', 'outside').allowed).toBe(true);
    expect(checkAddress('shop.example.com.', 'outside').allowed).toBe(true);
  });

  test('parsers reject what is not an address', () => {
    expect(parseIpv4('256.1.1.1')).toBeUndefined();
    expect(parseIpv4('1.2.3.4.5')).toBeUndefined();
    expect(parseIpv4('08.1.1.1')).toBeUndefined();
    expect(parseIpv4('example.com')).toBeUndefined();
    expect(parseIpv6('1::2::3')).toBeUndefined();
    expect(parseIpv6('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
  });
});

/** A real listener on 127.0.0.1 counting every accepted connection. */
async function countingListener(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets: Socket[] = [];
  const s: Server = createServer((_req, res) => {
    res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }); res.end();
  });
  s.on('connection', (k) => { accepted++; sockets.push(k); });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise((r) => { sockets.forEach((k) => k.destroy()); s.close(() => r()); }),
  };
}

/** A customer with one app whose upstream is `address`, and a check context around it. */
const app = (address: string, port: number) => ({
  name: 'c', apps: [{ hostnames: ['shop.test'], upstreamAddress: address, upstreamPort: port, upstreamProtocol: 'http' as const }],
});
const ctx = (port: number, requestTimeoutMs = 1000) => ({
  config: {
    customers: [], frontDoor: { dnsNames: ['door.test'], ipAddresses: [], egressIpAddresses: [], port, protocol: 'http' as const }, requestTimeoutMs, concurrency: 1,
  } as DebugConfig,
  resolver: { resolve4: async () => [], resolve6: async () => [] },
});

const LOOPBACK_SPELLINGS = ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '::ffff:127.0.0.1', '::1', 'localhost', '127.0.0.1', '[::ffff:7f00:1]', 'localhost.'];

describe('checkers never reach a loopback listener', () => {
  test.each(LOOPBACK_SPELLINGS.flatMap((a) => [['inside', a], ['outside', a]]) as Array<['inside' | 'outside', string]>)(
    'upstream check from %s to %s: refused, 0 connections accepted', async (location, address) => {
      const l = await countingListener();
      try {
        const [out] = await runCheck({ customer: 'c', check: 'upstream' }, app(address, l.port), { ...ctx(l.port), location, lookup: systemLookup });
        expect(out).toEqual(expect.objectContaining({ reachable: false, notContacted: expect.stringMatching(/is an? loopback (address|name)/) }));
        expect(out.finding).toContain('was not contacted');
        expect(l.accepted()).toBe(0);
      } finally {
        await l.close();
      }
    });

  test('DNS rebinding: a name answering a public address then 127.0.0.1 is refused, and a checked answer is pinned', async () => {
    const l = await countingListener();
    try {
      // Answers from the request: a public address first, the loopback second (a rebinding resolver's trick).
      const rebinding: Lookup = async (name) => (name === 'rebind.test' ? [{ address: '203.0.113.7', family: 4 }, { address: '127.0.0.1', family: 4 }] : []);
      const out = await pinTarget('rebind.test', true, rebinding);
      expect(out.refused).toContain('rebind.test resolves to 127.0.0.1 is a loopback address');
      // A resolver that answers public on the check and loopback afterwards: the connection goes to the checked address.
      let calls = 0;
      const flipping: Lookup = async () => (calls++ === 0 ? [{ address: '192.0.2.1', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
      const [pinned] = await runCheck({ customer: 'c', check: 'upstream' }, app('flip.test', l.port), { ...ctx(l.port, 300), location: 'inside', lookup: flipping });
      expect(pinned.reachable).toBe(false);
      expect(pinned.target).toBe(`flip.test (192.0.2.1):${l.port}`);
      expect(calls).toBe(1);
      expect(l.accepted()).toBe(0);
    } finally {
      await l.close();
    }
  });

  test('customers table rows aimed at loopback or metadata are not contacted; a redirect is reported with its Location', async () => {
    const l = await countingListener();
    try {
      const rows = [...LOOPBACK_SPELLINGS, '169.254.169.254', 'fd00:ec2::254', 'meta.test'];
      const config: DebugConfig = {
        customers: [{ name: 'props', apps: [{ hostnames: ['p.test'], upstreamAddress: '0x7f000001', upstreamPort: l.port, upstreamProtocol: 'http' }] }],
        customersTableName: 'customers',
        frontDoor: { dnsNames: ['door.test'], ipAddresses: [], egressIpAddresses: [], port: l.port, protocol: 'http' },
        requestTimeoutMs: 500,
        concurrency: 2,
      };
      const lookups: string[] = [];
      const handler = createCheckerHandler({
        env: { [DEBUG_CONFIG_ENV]: JSON.stringify(config), [CHECKER_LOCATION_ENV]: 'inside' },
        ddb: { send: async () => ({ Items: [{ customer: 'evil', apps: rows.map((r, i) => ({ hostnames: [`h${i}.test`], upstreamAddress: r, upstreamPort: l.port, upstreamProtocol: 'http' })) }] }) } as any,
        resolver: { resolve4: async () => [], resolve6: async () => [] },
        lookup: async (name) => {
          lookups.push(name);
          return name === 'meta.test' ? [{ address: '169.254.169.254', family: 4 }] : [{ address: '::1', family: 6 }];
        },
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as any,
      });
      for (const customer of ['evil', 'props']) {
        const out = await handler({ customer, check: 'upstream' });
        for (const r of out.results!) {
          expect(r.reachable).toBe(false);
          expect(r.finding).toContain('was not contacted');
        }
      }
      const waf = await handler({ customer: 'props', check: 'waf' });
      expect(waf.results![0].finding).toContain('not contacted');
      expect(l.accepted()).toBe(0);
      expect(lookups).toEqual(expect.arrayContaining(['meta.test', 'door.test']));
    } finally {
      await l.close();
    }
  });

  test('a 3xx answer is reported with its status and Location, not as OK, and not followed', async () => {
    const l = await countingListener();
    try {
      // headRequest is the raw request (the address policy is applied before it, in runCheck).
      const out = await headRequest({ protocol: 'http', address: '127.0.0.1', port: l.port, hostname: 'shop.test' }, { timeoutMs: 1000 });
      expect(out).toEqual(expect.objectContaining({ reachable: true, status: 301, redirectTo: 'http://169.254.169.254/latest/meta-data/' }));
      expect(l.accepted()).toBe(1);
    } finally {
      await l.close();
    }
  });
});
