import { BlockRow } from './block-store';
import { CidrSet, hostCidr, parseIp } from './ip';

/** The most addresses a WAF IP set holds. */
export const WAF_IP_SET_LIMIT = 10_000;

export interface IpSetPlan {
  /** Desired contents, canonical CIDRs, sorted. */
  readonly ipv4: string[];
  readonly ipv6: string[];
  /** BLOCK rows in force but left out because a set is full (least severe first out). */
  readonly overCap: BlockRow[];
  /** Rows whose period has ended: released once the sets no longer hold them. */
  readonly expired: BlockRow[];
  /** Rows in force, BLOCK and COUNT, not yet alerted. */
  readonly unnotified: BlockRow[];
  /** BLOCK rows in force for allow-listed clients (the allow-list grew after the block): never applied. */
  readonly allowListed: BlockRow[];
}

/**
 * The IP sets as the blocks table says they should be: every BLOCK row in force, minus allow-listed clients, one entry
 * per address, the most severe first when more than `maxPerSet` compete for a set.
 */
export function planIpSets(rows: readonly BlockRow[], nowMs: number, allowList: CidrSet, maxPerSet: number = WAF_IP_SET_LIMIT): IpSetPlan {
  const expired: BlockRow[] = [];
  const unnotified: BlockRow[] = [];
  const allowListed: BlockRow[] = [];
  const active: BlockRow[] = [];
  for (const row of rows) {
    if (row.blockedUntil <= nowMs) {
      expired.push(row);
      continue;
    }
    if (row.notifiedAt === undefined) unnotified.push(row);
    if (row.action !== 'BLOCK') continue;
    const ip = parseIp(row.ip);
    if (!ip) continue;
    if (allowList.contains(ip)) allowListed.push(row);
    else active.push(row);
  }
  // Most severe first; ties go to the block that ends last, then to the address, so the plan is deterministic.
  active.sort((a, b) => b.severity - a.severity || b.blockedUntil - a.blockedUntil || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  const sets = { 4: new Set<string>(), 6: new Set<string>() };
  const overCap: BlockRow[] = [];
  for (const row of active) {
    const set = sets[row.family];
    const cidr = hostCidr(parseIp(row.ip)!);
    if (set.has(cidr)) continue;
    if (set.size >= maxPerSet) overCap.push(row);
    else set.add(cidr);
  }
  return { ipv4: [...sets[4]].sort(), ipv6: [...sets[6]].sort(), overCap, expired, unnotified, allowListed };
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
