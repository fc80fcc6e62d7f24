/* eslint-disable no-bitwise -- addresses are 32- and 128-bit numbers: masks and shifts are the natural operations */
/**
 * Which addresses a debug checker may contact. Pure: parses every spelling the OS resolver and the WHATWG URL parser
 * accept (decimal, hex, octal and shortened IPv4, IPv6 with embedded IPv4, brackets, zone ids, trailing dots) before
 * classifying, so a forbidden address cannot slip through in an unusual spelling.
 */
import { CheckerLocation } from './debug-checks';

/** Names that mean this machine or a cloud metadata service whatever a resolver answers. */
const FORBIDDEN_NAMES = [/^localhost$/, /\.localhost$/, /^metadata\.google\.internal$/, /^metadata$/, /^instance-data(\..*)?$/];

/** Parses an IPv4 literal the way WHATWG URL / inet_aton do; undefined when it is not one. */
export function parseIpv4(input: string): number | undefined {
  const parts = input.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(p)) n = parseInt(p, 10);
    else return undefined;
    if (!Number.isFinite(n)) return undefined;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return undefined;
  return nums.reduce((acc, n, i) => acc + n * 256 ** (3 - i), 0) + last;
}

/** Parses an IPv6 literal (brackets and zone id allowed) to 8 16-bit groups; undefined when it is not one. */
export function parseIpv6(input: string): number[] | undefined {
  let s = input.replace(/^\[(.*)\]$/, '$1');
  s = s.replace(/%.*$/, '');
  if (!s.includes(':')) return undefined;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const parts = v4[2].split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    tail = [parts[0] * 256 + parts[1], parts[2] * 256 + parts[3]];
    s = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = new Array(8 - known).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16)), ...tail];
}

export interface AddressVerdict {
  readonly allowed: boolean;
  /** Why it is refused; empty when allowed. */
  readonly reason: string;
  /** The address in canonical form, when the input was an address. */
  readonly address?: string;
}

const inV4 = (a: number, base: string, bits: number) => {
  const b = parseIpv4(base)!;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
};

function v4Text(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

function classifyV4(a: number, location: CheckerLocation): string {
  if (a === parseIpv4('169.254.169.254') || a === parseIpv4('169.254.170.2') || a === parseIpv4('100.100.100.200')) return 'a cloud metadata address';
  if (inV4(a, '127.0.0.0', 8)) return 'a loopback address';
  if (inV4(a, '169.254.0.0', 16)) return 'a link-local address';
  if (inV4(a, '0.0.0.0', 8)) return 'an unspecified address';
  if (inV4(a, '224.0.0.0', 4)) return 'a multicast address';
  if (inV4(a, '240.0.0.0', 4)) return a === 0xffffffff ? 'the broadcast address' : 'a reserved address';
  const privateRange = inV4(a, '10.0.0.0', 8) || inV4(a, '172.16.0.0', 12) || inV4(a, '192.168.0.0', 16) || inV4(a, '100.64.0.0', 10);
  if (privateRange && location === 'outside') return 'a private address (allowed for the inside checker only)';
  return '';
}

function classifyV6(g: number[], location: CheckerLocation): { reason: string; address: string } {
  const text = g.map((x) => x.toString(16)).join(':');
  const embedded = g[6] * 65536 + g[7];
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and SIIT (::ffff:0:a.b.c.d) reach the v4 address.
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  const mapped = (zeroUpTo(5) && g[5] === 0xffff) || (zeroUpTo(6) && embedded > 1) || nat64 || (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0);
  if (mapped) return { reason: classifyV4(embedded, location), address: text };
  if (g.every((x, i) => x === (i === 7 ? 1 : 0))) return { reason: 'a loopback address', address: text };
  if (g.every((x) => x === 0)) return { reason: 'an unspecified address', address: text };
  if (g[0] === 0xfd00 && g[1] === 0xec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return { reason: 'a cloud metadata address', address: text };
  if ((g[0] & 0xffc0) === 0xfe80) return { reason: 'a link-local address', address: text };
  if ((g[0] & 0xffc0) === 0xfec0) return { reason: 'a site-local address', address: text };
  if ((g[0] & 0xff00) === 0xff00) return { reason: 'a multicast address', address: text };
  if ((g[0] & 0xfe00) === 0xfc00 && location === 'outside') return { reason: 'a private address (allowed for the inside checker only)', address: text };
  return { reason: '', address: text };
}

/**
 * Classifies a literal address or a name. A name that is not forbidden as such is allowed here; its resolved addresses
 * must each be checked with this function again before connecting.
 */
export function checkAddress(input: string, location: CheckerLocation): AddressVerdict {
  const host = input.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const v6 = parseIpv6(host);
  if (v6) {
    const { reason, address } = classifyV6(v6, location);
    return { allowed: !reason, reason: reason ? `${input} is ${reason}` : '', address };
  }
  const v4 = parseIpv4(host);
  if (v4 !== undefined) {
    const reason = classifyV4(v4, location);
    return { allowed: !reason, reason: reason ? `${input} is ${reason}` : '', address: v4Text(v4) };
  }
  const name = host.replace(/\.+$/, '');
  if (name === '' || FORBIDDEN_NAMES.some((re) => re.test(name))) return { allowed: false, reason: `${input} names this machine or a metadata service` };
  return { allowed: true, reason: '' };
}
