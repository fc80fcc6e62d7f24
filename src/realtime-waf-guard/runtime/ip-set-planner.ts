import { BlockRow } from './block-store';
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
 * the forwarded-address set for clients found behind a trusted proxy, both for clients seen both ways.
 */
export function setsOf(row: BlockRow, family: 4 | 6): IpSetName[] {
  const route = row.route ?? 'DIRECT';
  return [
    ...(route !== 'PROXY' ? [family === 4 ? 'ipv4' as const : 'ipv6' as const] : []),
    ...(route !== 'DIRECT' ? [family === 4 ? 'forwardedIpv4' as const : 'forwardedIpv6' as const] : []),
  ];
}

/** How the allow-list covers a row's network: not at all, in part (an allow-listed address inside a prefix), or whole. */
export function allowListCover(row: BlockRow, allowList: CidrSet): 'none' | 'partial' | 'whole' {
  return cidrCover(rowCidr(row), allowList);
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
export function planIpSets(rows: readonly BlockRow[], nowMs: number, allowList: CidrSet, maxPerSet: number = WAF_IP_SET_LIMIT): IpSetPlan {
  const expired: BlockRow[] = [];
  const unnotified: BlockRow[] = [];
  const allowListed: BlockRow[] = [];
  const shielded: BlockRow[] = [];
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
