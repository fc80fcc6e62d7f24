/* eslint-disable no-bitwise */ // address prefixes are bit masks
import * as fc from 'fast-check';
import { hostRefusal, judgeAddress } from '../../src/elastic-monitoring/runtime/address-policy';

describe('every spelling of a forbidden address is refused', () => {
  test.each([
    // IPv4 loopback as the WHATWG URL parser and inet_aton read it
    ['2130706433', 'loopback'], ['0x7f000001', 'loopback'], ['0X7F000001', 'loopback'], ['0177.0.0.1', 'loopback'], ['127.1', 'loopback'],
    ['127.0.1', 'loopback'], ['0x7f.1', 'loopback'], ['0x7f.0.0.0x1', 'loopback'], ['127.0.0.1.', 'loopback'], ['017700000001', 'loopback'],
    ['127.255.255.254', 'loopback'],
    // IPv6 loopback and IPv6 forms carrying IPv4 loopback
    ['::1', 'loopback'], ['[::1]', 'loopback'], ['0:0:0:0:0:0:0:1', 'loopback'], ['0000:0000::0001', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], ['::FFFF:7F00:1', 'loopback'], ['[::ffff:127.0.0.1]', 'loopback'], ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::127.0.0.1', 'loopback'], ['64:ff9b::127.0.0.1', 'loopback'], ['64:ff9b::7f00:1', 'loopback'], ['2002:7f00:1::', 'loopback'],
    // names
    ['localhost', 'loopback'], ['LOCALHOST', 'loopback'], ['localhost.', 'loopback'], ['app.localhost', 'loopback'],
    // metadata services
    ['169.254.169.254', 'metadata'], ['2852039166', 'metadata'], ['0xa9fea9fe', 'metadata'], ['0251.0376.0251.0376', 'metadata'], ['169.254.43518', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'], ['::ffff:a9fe:a9fe', 'metadata'], ['64:ff9b::169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'], ['[FD00:EC2:0:0:0:0:0:254]', 'metadata'], ['169.254.170.2', 'metadata'], ['100.100.100.200', 'metadata'],
    ['metadata.google.internal', 'metadata'], ['metadata.google.internal.', 'metadata'],
    // link-local, unspecified, multicast, broadcast
    ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['[fe80::1%25eth0]', 'link-local'], ['febf::1', 'link-local'],
    ['0.0.0.0', 'unspecified'], ['0', 'unspecified'], ['0x0', 'unspecified'], ['::', 'unspecified'], ['[::]', 'unspecified'], ['::ffff:0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'], ['255.255.255.255', 'broadcast'], ['4294967295', 'broadcast'],
  ])('%s (%s)', (host, kind) => {
    expect(hostRefusal(host, true)).toMatch(new RegExp(`is an? ${kind} (address|name)`));
    expect(hostRefusal(host, false)).toMatch(new RegExp(`is an? ${kind} (address|name)`));
  });

  test('the reason names the spelling, the address it stands for and what to change', () => {
    expect(hostRefusal('0x7f000001', true)).toBe(
      '0x7f000001 (127.0.0.1) is a loopback address (127.0.0.0/8): the checkers never contact it');
    expect(hostRefusal('::ffff:169.254.169.254', true)).toContain('(IPv4-mapped form of 169.254.169.254 (cloud metadata 169.254.169.254))');
  });

  test.each(['10.0.5.5', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', 'fd12:3456::1', 'fc00::1', '::ffff:10.0.0.1', '012.0.0.1'])(
    'private %s: only for the checker inside the VPC', (host) => {
      expect(hostRefusal(host, true)).toBeUndefined();
      expect(hostRefusal(host, false)).toMatch(/is a private address .*: only the checker inside the VPC contacts private addresses/);
    });

  test.each(['8.8.8.8', '134744072', '52.94.1.1', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', 'shop.example.com', 'localhost.example.com'])(
    'public %s is allowed from anywhere', (host) => {
      expect(hostRefusal(host, false)).toBeUndefined();
    });

  test('not an IP literal: names and invalid text are left to the resolver', () => {
    for (const h of ['shop.test', '1.2.3.256', '1:2:3:4:5:6:7:8:9', '::ffff:127.1', 'fe80::1::2']) expect(judgeAddress(h)).toBeUndefined();
  });
});

// ---- property tests: random addresses of a range, rendered in random spellings ----

type Part = 'dec' | 'oct' | 'hex';
const partText = (n: number, how: Part, upper: boolean) => (how === 'dec' ? String(n)
  : how === 'oct' ? `0${n.toString(8)}` : `${upper ? '0X' : '0x'}${upper ? n.toString(16).toUpperCase() : n.toString(16)}`);

/** Every IPv4 spelling inet_aton and the WHATWG URL parser accept: 1-4 parts, each decimal, octal or hex, trailing dot. */
const v4Spelling = (value: number) => fc.record({
  parts: fc.integer({ min: 1, max: 4 }),
  bases: fc.array(fc.constantFrom<Part>('dec', 'oct', 'hex'), { minLength: 4, maxLength: 4 }),
  upper: fc.boolean(),
  dot: fc.boolean(),
}).map(({ parts, bases, upper, dot }) => {
  const bytes = [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256);
  const lead = bytes.slice(0, parts - 1);
  const rest = bytes.slice(parts - 1).reduce((acc, b) => acc * 256 + b, 0);
  return [...lead, rest].map((n, i) => partText(n, bases[i], upper)).join('.') + (dot ? '.' : '');
});

const hex4 = (n: number, pad: boolean, upper: boolean) => {
  const t = pad ? n.toString(16).padStart(4, '0') : n.toString(16);
  return upper ? t.toUpperCase() : t;
};

/** IPv6 text of eight groups: full or with one zero run compressed, padded or not, any case, bracketed or not. */
const v6Spelling = (groups: readonly number[], zone: boolean) => fc.record({
  compress: fc.boolean(), pad: fc.boolean(), upper: fc.boolean(), bracket: fc.boolean(), dottedTail: fc.boolean(),
}).map(({ compress, pad, upper, bracket, dottedTail }) => {
  let parts = groups.map((g) => hex4(g, pad, upper));
  if (dottedTail) parts = [...parts.slice(0, 6), `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`];
  let text = parts.join(':');
  if (compress) {
    const zeroRun = /(^|:)(0+:)+0+(:|$)/;
    text = text.replace(zeroRun, '::');
  }
  if (zone) text += '%eth0';
  return bracket ? `[${text}]` : text;
});

/** IPv6 forms that carry an IPv4 address. */
const carrying = (value: number) => fc.constantFrom(
  [0, 0, 0, 0, 0, 0xffff, value >>> 16, value & 0xffff],
  [0, 0, 0, 0, 0, 0, value >>> 16, value & 0xffff],
  [0x64, 0xff9b, 0, 0, 0, 0, value >>> 16, value & 0xffff],
  [0x2002, value >>> 16, value & 0xffff, 0, 0, 0, 0, 1],
);

const inV4 = (base: number, prefix: number) => fc.integer({ min: 0, max: 2 ** (32 - prefix) - 1 }).map((o) => base + o);
const ip = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
const FORBIDDEN_V4 = fc.oneof(
  inV4(ip(127, 0, 0, 0), 8), inV4(ip(169, 254, 0, 0), 16), inV4(0, 8), inV4(ip(224, 0, 0, 0), 4), inV4(ip(240, 0, 0, 0), 4),
  fc.constant(ip(169, 254, 169, 254)), fc.constant(ip(169, 254, 170, 2)), fc.constant(ip(100, 100, 100, 200)),
);
const PRIVATE_V4 = fc.oneof(inV4(ip(10, 0, 0, 0), 8), inV4(ip(172, 16, 0, 0), 12), inV4(ip(192, 168, 0, 0), 16), inV4(ip(100, 64, 0, 0), 10));
/** Blocks of public unicast space (cloud providers, public resolvers). */
const PUBLIC_V4 = fc.oneof(...[1, 3, 8, 13, 34, 52, 54, 77, 91, 142, 185, 216].map((a) => inV4(ip(a, 0, 0, 0), 8)));
const group = fc.integer({ min: 0, max: 0xffff });
const groupsWith = (first: number[], mask?: number) => fc.array(group, { minLength: 8 - first.length, maxLength: 8 - first.length })
  .map((rest) => [...first, ...rest]).map((g) => (mask === undefined ? g : [(g[0] & mask) | first[0], ...g.slice(1)]));
const FORBIDDEN_V6 = fc.oneof(
  fc.constant([0, 0, 0, 0, 0, 0, 0, 1]), fc.constant([0, 0, 0, 0, 0, 0, 0, 0]), fc.constant([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]),
  fc.array(group, { minLength: 7, maxLength: 7 }).chain((r) => fc.integer({ min: 0, max: 0x3f }).map((low) => [0xfe80 | low, ...r])),
  fc.array(group, { minLength: 7, maxLength: 7 }).chain((r) => fc.integer({ min: 0, max: 0xff }).map((low) => [0xff00 | low, ...r])),
);
const PUBLIC_V6 = fc.oneof(groupsWith([0x2001, 0x4860]), groupsWith([0x2600, 0x1f00]), groupsWith([0x2a00, 0x1450]), groupsWith([0x2406, 0xda00]));

describe('properties', () => {
  test('an address in a forbidden IPv4 range is refused in every spelling, alone and inside IPv6', () => {
    fc.assert(fc.property(FORBIDDEN_V4.chain((v) => fc.oneof(v4Spelling(v), carrying(v).chain((g) => v6Spelling(g, false)))), (spelled) => {
      expect(hostRefusal(spelled, true)).toMatch(/the checkers never contact it/);
    }), { numRuns: 2000 });
  });

  test('an address in a forbidden IPv6 range is refused in every spelling, with or without a zone id', () => {
    fc.assert(fc.property(FORBIDDEN_V6.chain((g) => fc.boolean().chain((zone) => v6Spelling(g, zone))), (spelled) => {
      expect(hostRefusal(spelled, true)).toMatch(/the checkers never contact it/);
    }), { numRuns: 2000 });
  });

  test('a private address in any spelling: allowed inside the VPC only', () => {
    fc.assert(fc.property(PRIVATE_V4.chain((v) => fc.oneof(v4Spelling(v), v6Spelling([0, 0, 0, 0, 0, 0xffff, v >>> 16, v & 0xffff], false)))
      , (spelled) => {
        expect(hostRefusal(spelled, true)).toBeUndefined();
        expect(hostRefusal(spelled, false)).toMatch(/is a private address/);
      }), { numRuns: 1000 });
  });

  test('a public address in any spelling is allowed and read as the same address', () => {
    fc.assert(fc.property(PUBLIC_V4.chain((v) => v4Spelling(v).map((s) => [s, v] as const)), ([spelled, v]) => {
      expect(hostRefusal(spelled, false)).toBeUndefined();
      expect(judgeAddress(spelled)!.address.text).toBe([24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.'));
    }), { numRuns: 1000 });
    fc.assert(fc.property(PUBLIC_V6.chain((g) => v6Spelling(g, false).map((s) => [s, g] as const)), ([spelled, g]) => {
      expect(hostRefusal(spelled, false)).toBeUndefined();
      expect(judgeAddress(spelled)!.address.text).toBe(new URL(`http://[${g.map((x) => x.toString(16)).join(':')}]/`).hostname.slice(1, -1));
    }), { numRuns: 1000 });
  });

  test('IPv4 spellings are read as the WHATWG URL parser reads them', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }).chain((v) => v4Spelling(v)), (spelled) => {
      expect(judgeAddress(spelled)!.address.text).toBe(new URL(`http://${spelled}/`).hostname);
    }), { numRuns: 1000 });
  });
});
