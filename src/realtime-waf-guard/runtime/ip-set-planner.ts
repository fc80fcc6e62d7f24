// A type only: the replay CLI reaches this module and must not load the AWS SDK through the block store.
import type { BlockRow } from './block-store';
import { Cidr, CidrSet, parseCidr, parseIp } from './ip';

/** The most addresses a WAF IP set holds. */
export const WAF_IP_SET_LIMIT = 10_000;

export interface IpSetPlan {
  /** Desired contents, canonical CIDRs, sorted: clients that connected to CloudFront themselves (source address). */
  readonly ipv4: string[];
  readonly ipv6: string[];
  /**
   * Clients found in X-Forwarded-For behind a trusted proxy: WAF matches these on the forwarded address, and only for
   * requests whose source is a trusted proxy. A source-address set would compare them with the proxy's address.
   */
  readonly forwardedIpv4: string[];
  readonly forwardedIpv6: string[];
  /** BLOCK rows in force but left out because a set is full (least severe first out). */
  readonly overCap: BlockRow[];
  /** Rows whose period has ended: released once the sets no longer hold them. */
  readonly expired: BlockRow[];
  /** Rows in force, BLOCK and COUNT, not yet alerted. */
  readonly unnotified: BlockRow[];
  /** BLOCK rows in force for allow-listed clients (the allow-list grew after the block): never applied. */
  readonly allowListed: BlockRow[];
  /**
   * BLOCK rows in force for IPv6 prefixes that hold an allow-listed address: the whole prefix stays out of the sets
   * (blocking it would block the allow-listed host), and the digest says so.
   */
  readonly shielded: BlockRow[];
  /**
   * BLOCK rows in force whose network holds a trusted proxy (an IPv6 neighbour of the proxy, a wide manual block):
   * kept out of every set, as a prefix holding an allow-listed address is, since they would block everyone behind the
   * proxy; the digest says so.
   */
  readonly holdsProxy: BlockRow[];
}

/** What the planner knows of the guard besides the rows. */
export interface PlanOptions {
  /** Networks no block may cover, the trusted proxies: a row holding one stays out of the sets (`holdsProxy`). */
  readonly trustedProxies?: CidrSet;
  /**
   * Whether the guard has forwarded-address sets. Then every block also goes into them, once the blocks on the route
   * they were found on have room: a client blocked as a direct client is blocked through a trusted proxy at once.
   * @default false
   */
  readonly forwardedSets?: boolean;
}

/** The network a row blocks: an IPv4 address (/32) or an IPv6 prefix; undefined for a row that names neither. */
export function rowCidr(row: BlockRow): Cidr | undefined {
  const cidr = parseCidr(row.ip);
  return typeof cidr === 'string' ? undefined : cidr;
}

/** The IP sets of a plan. */
export type IpSetName = 'ipv4' | 'ipv6' | 'forwardedIpv4' | 'forwardedIpv6';

/**
 * The sets a row's network goes into: the source-address set of its family for clients that connected themselves,
 * the forwarded-address set for clients found behind a trusted proxy, both for clients seen both ways; with
 * `forwardedSets` (trusted proxies configured), every block is in the forwarded set too (see planIpSets).
 */
export function setsOf(row: BlockRow, family: 4 | 6, forwardedSets = false): IpSetName[] {
  const route = row.route ?? 'DIRECT';
  return [
    ...(route !== 'PROXY' ? [family === 4 ? 'ipv4' as const : 'ipv6' as const] : []),
    ...(route !== 'DIRECT' || forwardedSets ? [family === 4 ? 'forwardedIpv4' as const : 'forwardedIpv6' as const] : []),
  ];
}

/** How the allow-list (or the trusted proxies) covers a row's network: not at all, in part (an allow-listed address inside a prefix), or whole. */
export function allowListCover(row: BlockRow, allowList: CidrSet): 'none' | 'partial' | 'whole' {
  return cidrCover(rowCidr(row), allowList);
}

/**
 * Why the guard would keep a block of `network` out of the IP sets, whatever its route: it holds (or lies in) an
 * allow-listed network, or it holds a trusted proxy; undefined when it would be applied.
 */
export function heldBackBy(network: string, allowList: CidrSet, trustedProxies: CidrSet): 'ALLOW_LISTED' | 'TRUSTED_PROXY' | undefined {
  const cidr = parseCidr(network);
  if (typeof cidr === 'string') return undefined;
  if (cidrCover(cidr, allowList) !== 'none') return 'ALLOW_LISTED';
  return cidrCover(cidr, trustedProxies) !== 'none' ? 'TRUSTED_PROXY' : undefined;
}

function cidrCover(cidr: Cidr | undefined, allowList: CidrSet): 'none' | 'partial' | 'whole' {
  if (!cidr || allowList.size === 0) return 'none';
  if (allowList.containsCidr(cidr)) return 'whole';
  return allowList.intersects(cidr) ? 'partial' : 'none';
}

/**
 * The IP sets as the blocks table says they should be: every BLOCK row in force, minus allow-listed clients, one entry
 * per address, the most severe first when more than `maxPerSet` compete for a set.
 */
export function planIpSets(
  rows: readonly BlockRow[],
  nowMs: number,
  allowList: CidrSet,
  maxPerSet: number = WAF_IP_SET_LIMIT,
  options: PlanOptions = {},
): IpSetPlan {
  const expired: BlockRow[] = [];
  const unnotified: BlockRow[] = [];
  const allowListed: BlockRow[] = [];
  const shielded: BlockRow[] = [];
  const holdsProxy: BlockRow[] = [];
  const proxies = options.trustedProxies;
  // Each row's network is parsed once, here, and kept with the row for the sets below.
  const active: Array<{ row: BlockRow; cidr: Cidr }> = [];
  for (const row of rows) {
    if (row.blockedUntil <= nowMs) {
      expired.push(row);
      continue;
    }
    if (row.notifiedAt === undefined) unnotified.push(row);
    if (row.action !== 'BLOCK') continue;
    const cidr = rowCidr(row);
    if (!cidr) continue;
    const cover = cidrCover(cidr, allowList);
    if (cover === 'whole') allowListed.push(row);
    else if (cover === 'partial') shielded.push(row);
    else if (proxies && cidrCover(cidr, proxies) !== 'none') holdsProxy.push(row);
    else active.push({ row, cidr });
  }
  // Most severe first; ties go to the block that ends last, then to the address, so the plan is deterministic.
  active.sort(({ row: a }, { row: b }) => b.severity - a.severity || b.blockedUntil - a.blockedUntil || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  const sets: Record<IpSetName, Set<string>> = { ipv4: new Set(), ipv6: new Set(), forwardedIpv4: new Set(), forwardedIpv6: new Set() };
  const overCap: BlockRow[] = [];
  for (const { row, cidr: { family, text: cidr } } of active) {
    // Each row is its own entry: neighbouring prefixes are never merged into a shorter one, which would block
    // networks that never offended.
    let left = false;
    for (const set of setsOf(row, family).map((name) => sets[name])) {
      if (set.has(cidr)) continue;
      if (set.size >= maxPerSet) left = true;
      else set.add(cidr);
    }
    if (left) overCap.push(row);
  }
  // The forwarded sets are matched only for requests whose source is a trusted proxy, on the address that proxy
  // appended: blocking a direct client there too blocks that same client when it moves behind a proxy, and nobody
  // else. The converse is not done: an address only a proxy named goes into the source-address sets once the client is
  // counted connecting from it itself (BlockStore.addRoute), so no proxy, however configured, can block an address for
  // everyone. These entries come after those of the route each row was found on, so they never crowd one out.
  if (options.forwardedSets) {
    for (const { row, cidr: { family, text: cidr } } of active) {
      if ((row.route ?? 'DIRECT') !== 'DIRECT') continue;
      const set = family === 4 ? sets.forwardedIpv4 : sets.forwardedIpv6;
      if (set.size < maxPerSet) set.add(cidr);
    }
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    ipv4: sorted(sets.ipv4),
    ipv6: sorted(sets.ipv6),
    forwardedIpv4: sorted(sets.forwardedIpv4),
    forwardedIpv6: sorted(sets.forwardedIpv6),
    overCap,
    expired,
    unnotified,
    allowListed,
    shielded,
    holdsProxy,
  };
}

/** Canonical, sorted form of addresses as WAF returns them, for comparison with a plan. */
export function normaliseAddresses(addresses: readonly string[]): string[] {
  return addresses.map((a) => {
    const [ip, prefix] = a.split('/');
    const parsed = parseIp(ip);
    return parsed ? `${parsed.text}/${prefix ?? (parsed.family === 4 ? 32 : 128)}` : a;
  }).sort();
}

export function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
