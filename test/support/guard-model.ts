/**
 * A reference model of RealtimeWafGuard's promises, written from the README and not from the code: it imports
 * nothing from src/. It answers what the guard must do for a scenario (who must be blocked, who must not, on which
 * route) from exact request times; guard-model.integration.test.ts drives the real handlers' runtime with the same
 * scenario and compares.
 *
 * Promises modelled (100% sampling):
 * - A client is an IPv4 address or an IPv6 /64; its requests count together whatever route they take.
 * - Never blocked while every window-long interval [t, t + W) holds fewer than `threshold` of its requests.
 * - Always blocked, by the batch that holds it, once `threshold` of its requests fall within 11/12 of the window
 *   (the documented slack of one bucket; windows divisible by 12 s make it exact); under LOCAL_FIRST counting once
 *   `threshold` plus the slack do, and, after an execution environment ended with counts in memory, within one more
 *   window.
 * - Behind a trusted proxy the client is the right-most X-Forwarded-For address; the proxy is never blamed, and WAF
 *   blocks a proxied client only through the forwarded-address sets (position LAST) on requests from a proxy.
 * - Allow-listed addresses are never blocked, and neither is a /64 holding one.
 * - An unblock ends the block and shields the client from automatic blocks for the shield period.
 * - A manual block blocks the network on every route for its period.
 */
import { BlockList, isIP } from 'net';

export type Route = 'DIRECT' | 'PROXY';

/** One request as the client sends it: its own address, and the proxy it goes through, if any. */
export interface ModelRequest {
  readonly atMs: number;
  readonly address: string;
  readonly route: Route;
  /** The trusted proxy it goes through (route PROXY). */
  readonly proxy?: string;
  /** Whether CloudFront logged it (sampling); the guard sees only logged requests, the promises are about all. */
  readonly logged?: boolean;
}

/** A request as WAF sees it. */
export interface WafView {
  readonly sourceIp: string;
  readonly xff?: string;
}

/** The eight 16-bit groups of an IPv6 address (no zone, no embedded IPv4). */
function groups(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':').map((g) => parseInt(g, 16)) : [];
  const t = tail ? tail.split(':').map((g) => parseInt(g, 16)) : [];
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array(zeros).fill(0), ...t];
}

/** The client a request counts against: the IPv4 address, or the IPv6 /64 as `g:g:g:g::/64` (lower-case hex). */
export function clientKey(address: string): string {
  if (isIP(address) === 4) return address;
  return `${groups(address).slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** Whether `address` lies in `network` (an address, or `address/prefix`). */
export function covers(network: string, address: string): boolean {
  const [first, bits] = network.split('/');
  const family = isIP(first) === 4 ? 'ipv4' : 'ipv6';
  if ((isIP(address) === 4 ? 'ipv4' : 'ipv6') !== family) return false;
  const list = new BlockList();
  if (bits === undefined) list.addAddress(first, family);
  else list.addSubnet(first, Number(bits), family);
  return list.check(address, family);
}

/** Whether two networks (addresses, or `address/prefix`) are the same, however each is spelled. */
export function sameNetwork(a: string, b: string): boolean {
  return prefixOf(a) === prefixOf(b) && covers(withPrefix(a), base(b));
}

function base(network: string): string {
  return network.split('/')[0];
}

function prefixOf(network: string): number {
  const [address, bits] = network.split('/');
  return bits !== undefined ? Number(bits) : isIP(address) === 4 ? 32 : 128;
}

function withPrefix(network: string): string {
  return network.includes('/') ? network : `${network}/${prefixOf(network)}`;
}

/** Most of `times` (sorted) within any interval [t, t + lengthMs). */
export function mostWithin(times: readonly number[], lengthMs: number): number {
  let best = 0;
  let tail = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i] - times[tail] >= lengthMs) tail++;
    best = Math.max(best, i - tail + 1);
  }
  return best;
}

export interface ModelRule {
  readonly threshold: number;
  /**
   * Requests within 11/12 of the window that must be caught: the threshold under exact counting, the threshold plus
   * its slack under LOCAL_FIRST counting (the shared count trails the requests by less than the slack).
   */
  readonly catchAt: number;
  /** Requests within a window from which a block is allowed: the threshold, or less under sampling (see the test). */
  readonly mayBlockFrom: number;
  readonly windowMs: number;
  readonly blockMs: number;
}

/**
 * What the guard has been told so far: the requests of every batch it processed, and the operators' actions.
 * Answers the questions of the invariants for one client key.
 */
export class GuardModel {
  private readonly times = new Map<string, number[]>();
  private readonly shieldedUntil = new Map<string, number>();
  private readonly manual = new Map<string, { from: number; until: number }>();

  constructor(
    public readonly rule: ModelRule,
    public readonly allowList: readonly string[],
    public readonly shieldMs: number,
    /** Trusted proxy addresses: a block whose network holds one stays out of WAF, like one holding an allow-listed address. */
    public readonly trustedProxies: readonly string[] = [],
  ) {}

  /** Requests the guard processed (a batch that succeeded). */
  public deliver(requests: readonly ModelRequest[]): void {
    for (const r of requests) {
      const key = clientKey(r.address);
      const list = this.times.get(key) ?? [];
      list.push(r.atMs);
      list.sort((a, b) => a - b);
      this.times.set(key, list);
    }
  }

  /**
   * An unblock of a client: its automatic blocks end and are refused for the shield period; its manual blocks end, and
   * so do manual blocks of networks inside it, but not a wider manual block that holds it (the operator named the
   * client, not the network).
   */
  public unblocked(key: string, atMs: number): void {
    this.shieldedUntil.set(key, atMs + this.shieldMs);
    for (const network of [...this.manual.keys()]) {
      if (network === key || (key.includes('/') && covers(key, base(network)) && prefixOf(network) >= prefixOf(key))) this.manual.delete(network);
    }
  }

  /** A manual block of a client key, or of a wider network (`a.b.c.0/24`, `x:y:z::/48`). */
  public manuallyBlocked(network: string, atMs: number, periodMs: number): void {
    this.manual.set(network, { from: atMs, until: atMs + periodMs });
  }

  /** Allow-listed: the address itself, or any allow-listed address inside the client's /64. */
  public allowListed(key: string): boolean {
    return this.allowList.some((a) => (key.includes('/') ? covers(key, a) : covers(a, key)));
  }

  /** Kept out of WAF whatever it sends: allow-listed, or its network holds a trusted proxy. */
  public heldBack(key: string): boolean {
    return this.allowListed(key) || (key.includes('/') && this.trustedProxies.some((p) => covers(key, p)));
  }

  public shielded(key: string, nowMs: number): boolean {
    return (this.shieldedUntil.get(key) ?? -Infinity) > nowMs;
  }

  public wasShielded(key: string): boolean {
    return this.shieldedUntil.has(key);
  }

  /** Manual blocks in force and applied: a network holding an allow-listed address or a trusted proxy stays out of WAF. */
  public activeManual(nowMs: number): string[] {
    return [...this.manual.entries()]
      .filter(([network, m]) => m.from <= nowMs && nowMs < m.until
        && ![...this.allowList, ...this.trustedProxies].some((a) => covers(withPrefix(network), a)))
      .map(([network]) => network);
  }

  /** Whether a manual block in force holds the client. */
  public manualBlockAt(key: string, nowMs: number): boolean {
    return this.activeManual(nowMs).some((network) => network === key || covers(withPrefix(network), base(key)));
  }

  /** Whether the guard may ever have blocked this client by a rule: a full window held `threshold` requests. */
  public mayBlock(key: string): boolean {
    return mostWithin(this.times.get(key) ?? [], this.rule.windowMs) >= this.rule.mayBlockFrom;
  }

  /**
   * Whether the requests delivered up to and including `uptoMs` put the client over the threshold within 11/12 of the
   * window at a request later than `afterMs`: then the batch that delivered that request must have blocked it.
   */
  public mustBlockBetween(key: string, afterMs: number, uptoMs: number): boolean {
    const times = (this.times.get(key) ?? []).filter((t) => t <= uptoMs);
    // The README's guarantee: requests within 11 × b ms of each other, first to last, b = ⌊window in ms / 12⌋.
    const length = 11 * Math.floor(this.rule.windowMs / 12);
    let tail = 0;
    for (let i = 0; i < times.length; i++) {
      while (times[i] - times[tail] > length) tail++;
      if (i - tail + 1 >= this.rule.catchAt && times[i] > afterMs) return true;
    }
    return false;
  }

  public keys(): string[] {
    return [...this.times.keys()];
  }
}

/** IP sets as WAF holds them: direct (source address) and forwarded (X-Forwarded-For, from trusted proxies). */
export interface WafSets {
  readonly direct: readonly string[];
  readonly forwarded: readonly string[];
}

/**
 * How WAF treats a request, given the sets: blocked when its source is in a direct set, or when it comes from a
 * trusted proxy and the right-most X-Forwarded-For address is in a forwarded set.
 */
export function wafBlocks(sets: WafSets, trustedProxies: readonly string[], request: WafView): boolean {
  if (sets.direct.some((n) => covers(n, request.sourceIp))) return true;
  if (request.xff === undefined || !trustedProxies.some((p) => covers(p, request.sourceIp))) return false;
  const last = request.xff.split(',').pop()!.trim();
  return isIP(last) !== 0 && sets.forwarded.some((n) => covers(n, last));
}

/** The request WAF sees when `address` sends on `route` (through `proxy`). */
export function wafView(address: string, route: Route, proxy: string): WafView {
  return route === 'DIRECT' ? { sourceIp: address } : { sourceIp: proxy, xff: address };
}

/**
 * The README's sampling bound, computed here from its wording alone: the fewest logged requests in a window, never
 * below ⌈threshold × s⌉, that a client sending ⌈0.7 × threshold⌉ requests a window reaches in one judgement with
 * probability under 1 in 1,000 divided by the judgements of a day (one per bucket of ⌊window in ms / 12⌋ ms).
 */
export function modelLoggedThreshold(threshold: number, samplingRate: number, windowSeconds: number): number {
  if (samplingRate >= 100) return threshold;
  const p = samplingRate / 100;
  const n = Math.ceil(threshold * 0.7);
  const perJudgement = 0.001 / (86_400_000 / Math.floor((windowSeconds * 1000) / 12));
  // P(X = j) for j = 0..n, by the recurrence from P(X = 0); n is small here (thresholds of a few hundred at most).
  const pmf: number[] = [Math.pow(1 - p, n)];
  for (let j = 1; j <= n; j++) pmf.push(pmf[j - 1] * ((n - j + 1) / j) * (p / (1 - p)));
  let k = Math.ceil(threshold * p - 1e-9);
  const tail = (from: number) => pmf.slice(Math.max(0, from)).reduce((a, b) => a + b, 0);
  while (tail(k) >= perJudgement) k++;
  return k;
}
