/* eslint-disable no-bitwise -- IPv6 addresses are 128-bit numbers: masks and shifts are the natural operations */
/**
 * IP address and CIDR handling for detection and WAF IP sets. Addresses are canonicalised (IPv4 dotted decimal,
 * IPv6 RFC 5952) so one client never appears under two spellings.
 */
export interface IpAddress {
  readonly family: 4 | 6;
  /** Canonical text; for a client (see clientOf), an IPv6 prefix in CIDR form. */
  readonly text: string;
  /** IPv4 as an unsigned 32-bit number; IPv6 as a 128-bit bigint. */
  readonly value: number | bigint;
}

/** Parses dotted-decimal IPv4; returns the unsigned value or -1. Leading zeros are refused (octal ambiguity). */
export function parseIpv4(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** Dotted-decimal text of an unsigned IPv4 value. */
export function ipv4Text(v: number): string {
  return `${Math.floor(v / 16777216) % 256}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
}

/** Parses IPv6 (with `::` and an embedded IPv4 tail); returns undefined when invalid. */
export function parseIpv6(s: string): bigint | undefined {
  if (s.length < 2 || s.length > 45 || s.indexOf('%') >= 0) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.indexOf('.') >= 0) {
        const v4 = parseIpv4(item);
        if (v4 < 0) return undefined;
        groups.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
        groups.push(parseInt(item, 16));
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const g of [...head, ...new Array<number>(missing).fill(0), ...tail]) value = (value << 16n) | BigInt(g);
  return value;
}

export function ipv6Text(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const MAPPED_IPV4_HIGH = 0xffffn;

/**
 * Parses and canonicalises an IPv4 or IPv6 address; undefined when it is neither. An IPv4-mapped IPv6 address
 * (`::ffff:198.51.100.23`, what a dual-stack socket reports for an IPv4 peer) is that IPv4 address: one host must not
 * be counted, allow-listed or blocked under two names.
 */
export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseIpv4(s);
  if (v4 >= 0) return { family: 4, text: ipv4Text(v4), value: v4 };
  const v6 = parseIpv6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === MAPPED_IPV4_HIGH) {
    const mapped = Number(v6 & 0xffffffffn);
    return { family: 4, text: ipv4Text(mapped), value: mapped };
  }
  return { family: 6, text: ipv6Text(v6), value: v6 };
}

/** The IPv6 prefix length a client is counted and blocked by: a host owns at least a /64. */
export const DEFAULT_IPV6_PREFIX_LENGTH = 64;
/** Shortest allowed: a /48 is a whole site; anything shorter would lump unrelated customers of a provider together. */
export const MIN_IPV6_PREFIX_LENGTH = 48;
export const MAX_IPV6_PREFIX_LENGTH = 128;

/**
 * Widest network an operator may block by hand, and by default allow-list: a few wider entries would block or spare
 * whole swathes of the internet (`0.0.0.0/1` and `128.0.0.0/1` together are everyone).
 */
export const WIDEST_PREFIX = { ipv4: 16, ipv6: 32 } as const;

/**
 * The client an address counts as: an IPv4 address itself; for IPv6, the network of `ipv6PrefixLength` bits that
 * holds it, written as CIDR (`2001:db8:1:2::/64`), since one host can rotate through every address of its /64.
 */
export function clientOf(ip: IpAddress, ipv6PrefixLength: number): IpAddress {
  if (ip.family === 4) return ip;
  const shift = BigInt(128 - ipv6PrefixLength);
  const network = ((ip.value as bigint) >> shift) << shift;
  return { family: 6, text: `${ipv6Text(network)}/${ipv6PrefixLength}`, value: network };
}

/** A network: address family, prefix length and the masked network address. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly prefix: number;
  readonly network: number | bigint;
  /** Canonical `address/prefix`, the form WAF IP sets take. */
  readonly text: string;
}

/** Parses `address[/prefix]`; a bare address is a single host. Returns an error message when invalid. */
export function parseCidr(s: string): Cidr | string {
  const slash = s.indexOf('/');
  const addressText = slash < 0 ? s : s.slice(0, slash);
  const ip = parseIp(addressText.trim());
  if (!ip) return `"${s}" is not an IPv4 or IPv6 address or CIDR range`;
  // An IPv4-mapped range (`::ffff:198.51.100.0/120`) is the IPv4 range it maps (/24).
  const mapped = ip.family === 4 && addressText.includes(':');
  const max = ip.family === 4 && !mapped ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : s.slice(slash + 1).trim();
  let prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${s}" has an invalid prefix length (IPv${mapped ? 6 : ip.family}: 1 to ${max})`;
  if (mapped) {
    if (prefix < 96) return `"${s}" reaches beyond the IPv4-mapped range ::ffff:0:0/96; give the IPv4 range instead`;
    prefix -= 96;
  }
  if (prefix === 0) return `"${s}" covers every address; WAF refuses /0 and allow-listing or blocking all clients is never intended`;
  if (ip.family === 4) {
    const size = 2 ** (32 - prefix);
    const network = Math.floor((ip.value as number) / size) * size;
    return { family: 4, prefix, network, text: `${ipv4Text(network)}/${prefix}` };
  }
  const shift = BigInt(128 - prefix);
  const network = ((ip.value as bigint) >> shift) << shift;
  return { family: 6, prefix, network, text: `${ipv6Text(network)}/${prefix}` };
}

/** Parses a list of CIDRs, throwing one message naming every bad entry. */
export function parseCidrList(entries: readonly string[], what: string): Cidr[] {
  const errors: string[] = [];
  const cidrs: Cidr[] = [];
  for (const entry of entries) {
    const c = parseCidr(entry);
    if (typeof c === 'string') errors.push(c);
    else cidrs.push(c);
  }
  if (errors.length > 0) throw new Error(`${what}: ${errors.join('; ')}`);
  return cidrs;
}

/** Membership test over a list of networks. */
export class CidrSet {
  private readonly v4: Array<{ network: number; size: number }>;
  private readonly v6: Array<{ network: bigint; shift: bigint }>;

  constructor(private readonly cidrs: readonly Cidr[]) {
    this.v4 = cidrs.filter((c) => c.family === 4).map((c) => ({ network: c.network as number, size: 2 ** (32 - c.prefix) }));
    this.v6 = cidrs.filter((c) => c.family === 6).map((c) => ({ network: c.network as bigint, shift: BigInt(128 - c.prefix) }));
  }

  public get size(): number {
    return this.v4.length + this.v6.length;
  }

  /** This set and more networks (run-time allow-list entries besides the configured ones). */
  public with(more: readonly Cidr[]): CidrSet {
    return more.length === 0 ? this : new CidrSet([...this.cidrs, ...more]);
  }

  /** Whether one network of the set holds the whole of `cidr`. */
  public containsCidr(cidr: Cidr): boolean {
    if (cidr.family === 4) {
      const end = (cidr.network as number) + 2 ** (32 - cidr.prefix);
      return this.v4.some((c) => cidr.network >= c.network && end <= c.network + c.size);
    }
    const shift = BigInt(128 - cidr.prefix);
    const n = cidr.network as bigint;
    return this.v6.some((c) => c.shift >= shift && (n >> c.shift) << c.shift === c.network);
  }

  /** Whether any network of the set shares an address with `cidr` (holds it, or lies inside it). */
  public intersects(cidr: Cidr): boolean {
    if (cidr.family === 4) {
      const start = cidr.network as number;
      const end = start + 2 ** (32 - cidr.prefix);
      return this.v4.some((c) => c.network < end && start < c.network + c.size);
    }
    const n = cidr.network as bigint;
    const shift = BigInt(128 - cidr.prefix);
    // Two networks overlap exactly when the shorter one holds the other's network address.
    return this.v6.some((c) => (c.shift >= shift ? (n >> c.shift) << c.shift === c.network : (c.network >> shift) << shift === n));
  }

  public contains(ip: IpAddress): boolean {
    if (ip.family === 4) return this.containsIpv4(ip.value as number);
    const v = ip.value as bigint;
    return this.v6.some((c) => (v >> c.shift) << c.shift === c.network);
  }

  /** Membership of an IPv4 address given as its unsigned value (see parseIpv4). */
  public containsIpv4(v: number): boolean {
    return this.v4.some((c) => v >= c.network && v < c.network + c.size);
  }
}
