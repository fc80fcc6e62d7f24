/* eslint-disable no-bitwise */ // address prefixes are bit masks
/**
 * Which addresses a debugging checker may contact. The checkers are aimed by props and by rows of the customers table,
 * so a row must not turn them into a probe of the checker's own host (loopback), the cloud's metadata service or other
 * link-local services. An address is judged in every spelling the WHATWG URL parser or the OS resolver (inet_aton)
 * accepts: `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `::ffff:127.0.0.1`, `::ffff:7f00:1`, `[::1]`,
 * `fe80::1%eth0`, and IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that
 * address. Pure: no I/O; the checker resolves names and judges every answer with {@link judgeAddress}.
 */

/** What an address is for; only `public` (and `private` for the checker inside the VPC) may be contacted. */
export type AddressKind = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'multicast' | 'broadcast' | 'metadata' | 'reserved';

export interface IpAddress {
  readonly family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6 (lower case, no brackets or zone). */
  readonly text: string;
}

export interface AddressJudgement {
  readonly address: IpAddress;
  readonly kind: AddressKind;
  /** The range that decided, e.g. `127.0.0.0/8` or `cloud metadata 169.254.169.254`. */
  readonly range: string;
  /** Set when an IPv6 address was judged by the IPv4 address it carries. */
  readonly embedded?: IpAddress;
}

/** Names that are the checker itself or a metadata service whatever DNS says. */
const FORBIDDEN_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/^localhost$|\.localhost$/, 'loopback'],
  [/^localhost\.localdomain$/, 'loopback'],
  [/^metadata\.google\.internal$|^metadata\.goog$/, 'metadata'],
];

// ---- IPv4 ----

/** One IPv4 part as the WHATWG URL parser and inet_aton read it: 0x hex, leading-zero octal, or decimal. */
function ipv4Number(part: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return parseInt(part, 10);
  return undefined;
}

/**
 * Parses every IPv4 spelling: 1 to 4 parts, the last filling the remaining bytes (`127.1`, `2130706433`), each part
 * decimal, octal or hex, and one trailing dot. Returns the 32-bit value.
 */
export function parseIpv4(text: string): number | undefined {
  let parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts = parts.slice(0, -1);
  if (parts.length < 1 || parts.length > 4) return undefined;
  const numbers = parts.map(ipv4Number);
  if (numbers.some((n) => n === undefined || !Number.isFinite(n))) return undefined;
  const ns = numbers as number[];
  const last = ns[ns.length - 1];
  if (ns.slice(0, -1).some((n) => n > 255)) return undefined;
  if (last >= 256 ** (5 - ns.length)) return undefined;
  let value = last;
  ns.slice(0, -1).forEach((n, i) => { value += n * 256 ** (3 - i); });
  return value;
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join('.');
}

// ---- IPv6 ----

/** Parses IPv6 text (optionally bracketed, with a zone id, with a dotted IPv4 tail) into eight 16-bit groups. */
export function parseIpv6(input: string): number[] | undefined {
  let text = input;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const lastColon = text.lastIndexOf(':');
  const quad = text.slice(lastColon + 1);
  if (quad.includes('.')) {
    // Only the strict dotted quad is allowed in IPv6 text, as in every IPv6 parser; it stands for the last two groups.
    if (!/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(quad)) return undefined;
    const v = parseIpv4(quad)!;
    text = `${text.slice(0, lastColon + 1)}${Math.floor(v / 65536).toString(16)}:${(v % 65536).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const explicit = head.length + rest.length;
  if (halves.length === 1 && explicit !== 8) return undefined;
  if (halves.length === 2 && explicit > 7) return undefined;
  const fill = new Array(8 - explicit).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...(halves.length === 2 ? fill : []), ...rest.map((g) => parseInt(g, 16))];
}

/** RFC 5952 text: lower case, the longest run (2+) of zero groups as `::`. */
function ipv6Text(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** An IP literal in any accepted spelling, or undefined for a name. */
export function parseIpLiteral(host: string): IpAddress | undefined {
  const v6 = parseIpv6(host);
  if (v6) return { family: 6, text: ipv6Text(v6) };
  const v4 = parseIpv4(host);
  if (v4 !== undefined) return { family: 4, text: ipv4Text(v4) };
  return undefined;
}

// ---- classification ----

type V4Range = readonly [string, AddressKind, number, number]; // label, kind, base, prefix length

const v4 = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;

/** Most specific first: the first range containing the address decides. */
const V4_RANGES: readonly V4Range[] = [
  ['cloud metadata 169.254.169.254', 'metadata', v4(169, 254, 169, 254), 32],
  ['ECS task metadata 169.254.170.2', 'metadata', v4(169, 254, 170, 2), 32],
  ['Alibaba Cloud metadata 100.100.100.200', 'metadata', v4(100, 100, 100, 200), 32],
  ['Oracle Cloud metadata 192.0.0.192', 'metadata', v4(192, 0, 0, 192), 32],
  ['255.255.255.255', 'broadcast', v4(255, 255, 255, 255), 32],
  ['0.0.0.0/8', 'unspecified', 0, 8],
  ['127.0.0.0/8', 'loopback', v4(127, 0, 0, 0), 8],
  ['169.254.0.0/16', 'link-local', v4(169, 254, 0, 0), 16],
  ['224.0.0.0/4', 'multicast', v4(224, 0, 0, 0), 4],
  ['240.0.0.0/4', 'reserved', v4(240, 0, 0, 0), 4],
  ['192.0.0.0/24', 'reserved', v4(192, 0, 0, 0), 24],
  ['10.0.0.0/8', 'private', v4(10, 0, 0, 0), 8],
  ['172.16.0.0/12', 'private', v4(172, 16, 0, 0), 12],
  ['192.168.0.0/16', 'private', v4(192, 168, 0, 0), 16],
  ['100.64.0.0/10', 'private', v4(100, 64, 0, 0), 10],
  ['198.18.0.0/15', 'private', v4(198, 18, 0, 0), 15],
];

function judgeV4(value: number): { kind: AddressKind; range: string } {
  for (const [label, kind, base, prefix] of V4_RANGES) {
    const size = 2 ** (32 - prefix);
    if (value >= base && value < base + size) return { kind, range: label };
  }
  return { kind: 'public', range: 'public' };
}

/** Where an IPv6 prefix carries an IPv4 address in its last 32 bits (or bits 16-47 for 6to4). */
function embeddedV4(g: readonly number[]): { value: number; form: string } | undefined {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const last32 = g[6] * 65536 + g[7];
  if (zeros(0, 5) && g[5] === 0xffff) return { value: last32, form: 'IPv4-mapped' };
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return { value: last32, form: 'IPv4-translated' };
  if (zeros(0, 6) && last32 > 1) return { value: last32, form: 'IPv4-compatible' };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { value: last32, form: 'NAT64' };
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return { value: last32, form: 'local NAT64' };
  if (g[0] === 0x2002) return { value: g[1] * 65536 + g[2], form: '6to4' };
  return undefined;
}

function judgeV6(g: readonly number[]): { kind: AddressKind; range: string } {
  const text = ipv6Text(g);
  if (text === '::') return { kind: 'unspecified', range: '::' };
  if (text === '::1') return { kind: 'loopback', range: '::1' };
  if (text === 'fd00:ec2::254') return { kind: 'metadata', range: 'cloud metadata fd00:ec2::254' };
  if (text === 'fd00:ec2::23') return { kind: 'metadata', range: 'EC2 time sync fd00:ec2::23' };
  if ((g[0] & 0xffc0) === 0xfe80) return { kind: 'link-local', range: 'fe80::/10' };
  if ((g[0] & 0xff00) === 0xff00) return { kind: 'multicast', range: 'ff00::/8' };
  if ((g[0] & 0xfe00) === 0xfc00) return { kind: 'private', range: 'fc00::/7' };
  if ((g[0] & 0xffc0) === 0xfec0) return { kind: 'private', range: 'fec0::/10 (site-local)' };
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return { kind: 'reserved', range: '100::/64 (discard)' };
  if (g[0] === 0x2001 && g[1] === 0) return { kind: 'reserved', range: '2001::/32 (Teredo)' };
  if (g.slice(0, 6).every((x) => x === 0)) return { kind: 'reserved', range: '::/96' };
  return { kind: 'public', range: 'public' };
}

/** Judges an IP literal in any spelling; undefined when `host` is not an IP literal. */
export function judgeAddress(host: string): AddressJudgement | undefined {
  const address = parseIpLiteral(host);
  if (!address) return undefined;
  if (address.family === 4) return { address, ...judgeV4(parseIpv4(address.text)!) };
  const groups = parseIpv6(address.text)!;
  const carried = embeddedV4(groups);
  if (carried) {
    const inner = judgeV4(carried.value);
    const embedded: IpAddress = { family: 4, text: ipv4Text(carried.value) };
    return { address, kind: inner.kind, range: `${carried.form} form of ${embedded.text} (${inner.range})`, embedded };
  }
  return { address, ...judgeV6(groups) };
}

/** Whether a checker may contact an address of this kind; private ranges only from inside the VPC. */
export function kindAllowed(kind: AddressKind, allowPrivate: boolean): boolean {
  return kind === 'public' || (allowPrivate && kind === 'private');
}

/** A host name as the resolver sees it: lower case, without the trailing dot. */
export function normalizeName(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * Why `host` (a name or an IP literal in any spelling) must not be contacted, or undefined when it may be (a name may
 * still resolve to a refused address: judge every answer too). The reason says what to change.
 */
export function hostRefusal(host: string, allowPrivate: boolean): string | undefined {
  const judged = judgeAddress(host);
  if (judged) return addressRefusal(judged, allowPrivate, host);
  const name = normalizeName(host);
  for (const [pattern, kind] of FORBIDDEN_NAMES) {
    if (pattern.test(name)) return `${host} is ${article(kind)} name: the checkers never contact it`;
  }
  return undefined;
}

/** Why a judged address must not be contacted, or undefined when it may be. */
export function addressRefusal(judged: AddressJudgement, allowPrivate: boolean, spelled?: string): string | undefined {
  if (kindAllowed(judged.kind, allowPrivate)) return undefined;
  const shown = spelled && spelled !== judged.address.text ? `${spelled} (${judged.address.text})` : judged.address.text;
  if (judged.kind === 'private') {
    return `${shown} is a private address (${judged.range}): only the checker inside the VPC contacts private addresses`;
  }
  return `${shown} is ${article(judged.kind)} address (${judged.range}): the checkers never contact it`;
}

function article(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

export interface AddressVerdict {
  readonly allowed: boolean;
  /** Why it is refused; empty when allowed. */
  readonly reason: string;
  /** The address in canonical form, when the input was an address. */
  readonly address?: string;
}

/** {@link hostRefusal} for a checker: private addresses only from `inside` the VPC. */
export function checkAddress(input: string, location: 'inside' | 'outside'): AddressVerdict {
  const reason = hostRefusal(input, location === 'inside') ?? '';
  const address = judgeAddress(input)?.address.text;
  return { allowed: reason === '', reason, ...(address ? { address } : {}) };
}
