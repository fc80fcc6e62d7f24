import { bucketMs, bucketsPerWindow } from './buckets';
import { CidrSet, clientOf, DEFAULT_IPV6_PREFIX_LENGTH, IpAddress, ipv4Text, parseIp, parseIpv4 } from './ip';
import { LogLineParser, Malformed, percentDecode } from './log-parser';
import { StoredRule } from '../rule-model';

export { BUCKETS_PER_WINDOW, bucketMs, bucketOf, bucketsPerWindow, caughtWithinMs } from './buckets';

/** Sampled counts stand for `100 / samplingRate` real requests each. */
export function scaleToRealRequests(sampledCount: number, samplingRate: number): number {
  return (sampledCount * 100) / samplingRate;
}

/** Sum of the buckets that make up the window ending in `currentBucket`. */
export function windowTotal(buckets: ReadonlyMap<number, number>, windowSeconds: number, currentBucket: number): number {
  const first = currentBucket - bucketsPerWindow(windowSeconds) + 1;
  let total = 0;
  for (const [bucket, count] of buckets) {
    if (bucket >= first && bucket <= currentBucket) total += count;
  }
  return total;
}

/** The buckets within the window ending in `currentBucket`; older ones can never count again. */
export function bucketsInWindow(buckets: ReadonlyMap<number, number>, windowSeconds: number, currentBucket: number): Map<number, number> {
  const first = currentBucket - bucketsPerWindow(windowSeconds) + 1;
  return new Map([...buckets].filter(([bucket]) => bucket >= first && bucket <= currentBucket));
}

export interface BusiestWindow {
  /** Requests in the window. */
  readonly total: number;
  /** Its oldest bucket with requests. */
  readonly firstBucket: number;
  /** Its newest bucket with requests: where the window reached its total. */
  readonly lastBucket: number;
}

/**
 * The busiest window among those holding any bucket of `from..to`. A batch must look at every window its buckets fall
 * in, not only the one ending at its latest request: a backlog can hold a burst that window no longer sees, and a
 * shard behind the others adds requests to windows that end after its own latest one.
 */
export function busiestWindow(
  buckets: ReadonlyMap<number, number>,
  windowSeconds: number,
  from = -Infinity,
  to = Infinity,
): BusiestWindow {
  const perWindow = bucketsPerWindow(windowSeconds);
  const sorted = [...buckets].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  let best: BusiestWindow = { total: 0, firstBucket: NaN, lastBucket: NaN };
  let sum = 0;
  let tail = 0;
  // A window's total only changes at a bucket with requests, so the windows ending at those buckets are enough.
  for (const [bucket, count] of sorted) {
    sum += count;
    while (sorted[tail][0] <= bucket - perWindow) sum -= sorted[tail++][1];
    if (bucket >= from && bucket - perWindow < to && sum > best.total) {
      best = { total: sum, firstBucket: sorted[tail][0], lastBucket: bucket };
    }
  }
  return best;
}

/** The largest window total among the buckets, wherever it lies. */
export function maxWindowTotal(buckets: ReadonlyMap<number, number>, windowSeconds: number): number {
  return busiestWindow(buckets, windowSeconds).total;
}

/** Host and path matching, with the answer per host cached since a batch repeats few hosts many times. */
export class RuleMatcher {
  public readonly rules: readonly StoredRule[];
  /** Per Host header seen: the rules for any path, and those with a path prefix to check. */
  private readonly byHost = new Map<string, { readonly anyPath: readonly number[]; readonly withPrefix: readonly number[] }>();

  /**
   * Path prefixes in the form decoded paths take (UTF-8 bytes as Latin-1 characters, like percentDecode yields),
   * folded (see foldCase) for the rules that ignore case.
   */
  private readonly prefixes: ReadonlyArray<string | undefined>;
  private readonly ignoreCase: readonly boolean[];

  constructor(rules: readonly StoredRule[]) {
    this.rules = rules.filter((r) => r.enabled);
    this.ignoreCase = this.rules.map((r) => r.pathCaseSensitive !== true);
    this.prefixes = this.rules.map((r, i) => (r.pathPrefix === undefined ? undefined : prefixReading(r.pathPrefix, this.ignoreCase[i])));
  }

  /** Indexes into `rules` of the rules for this request; the path is read only when a candidate rule has a prefix. */
  public match(host: string, request: { readonly path: string | undefined }): readonly number[] {
    let forHost = this.byHost.get(host);
    if (forHost === undefined) {
      const h = normaliseHost(host);
      const all = this.rules.flatMap((r, i) => (hostMatches(r.host, h) ? [i] : []));
      forHost = { anyPath: all.filter((i) => this.prefixes[i] === undefined), withPrefix: all.filter((i) => this.prefixes[i] !== undefined) };
      if (this.byHost.size > 10_000) this.byHost.clear();
      this.byHost.set(host, forHost);
    }
    if (forHost.withPrefix.length === 0) return forHost.anyPath;
    const path = request.path;
    if (path === undefined) return forHost.anyPath;
    // The query string starts at the first literal `?`; an escaped one (`%3F`) is part of the path.
    const q = path.indexOf('?');
    const raw = q < 0 ? path : path.slice(0, q);
    // The common case, a plain path, is compared as it is (case folded on the fly): no readings, no allocation.
    const plain = isPlainPath(raw);
    let readings: string[] | undefined;
    let folded: string[] | undefined;
    let matched: number[] | undefined;
    for (const i of forHost.withPrefix) {
      const prefix = this.prefixes[i]!;
      let hit: boolean;
      if (!this.ignoreCase[i]) {
        hit = plain ? raw.startsWith(prefix) : (readings ??= pathReadings(raw)).some((r) => r.startsWith(prefix));
      } else {
        hit = (plain ? startsWithAsciiFolded(raw, prefix) : undefined)
          ?? (folded ??= (readings ??= plain ? [raw] : pathReadings(raw)).map(foldCase)).some((r) => r.startsWith(prefix));
      }
      if (hit) (matched ??= [...forHost.anyPath]).push(i);
    }
    return matched ? matched.sort((a, b) => a - b) : forHost.anyPath;
  }
}

/** A rule's path prefix as the readings of a path are compared with it. */
export function prefixReading(pathPrefix: string, ignoreCase: boolean): string {
  const reading = normalisePath(percentDecode(Buffer.from(pathPrefix, 'utf8').toString('latin1')));
  return ignoreCase ? foldCase(reading) : reading;
}

/**
 * A reading (UTF-8 bytes as Latin-1 characters) in lower case: ASCII letters directly, anything else folded per code
 * point of the text the bytes encode as Java's equalsIgnoreCase compares (Tomcat, Spring): the lower case of the upper
 * case, so `ı`, `İ` and `ſ` (whose upper cases are `I`, `İ`, `S`) fold to `i`, `i`, `s`, which toLowerCase alone misses.
 */
export function foldCase(reading: string): string {
  for (let i = 0; i < reading.length; i++) {
    if (reading.charCodeAt(i) >= 0x80) return Buffer.from(foldText(Buffer.from(reading, 'latin1').toString('utf8')), 'utf8').toString('latin1');
  }
  return reading.toLowerCase();
}

function foldText(text: string): string {
  let out = '';
  for (const c of text) out += lowerOf(upperOf(c));
  return out;
}

/**
 * Java's Character case mappings take one code point to one: where JavaScript's full mapping gives more (`ß` to `SS`,
 * `İ` to `i̇`) Java keeps the character, except `İ`, whose simple lower case is `i`.
 */
function upperOf(c: string): string {
  const u = c.toUpperCase();
  return u.length === c.length ? u : c;
}

function lowerOf(c: string): string {
  if (c === '\u0130') return 'i';
  const l = c.toLowerCase();
  return l.length === c.length ? l : c;
}

/**
 * Whether `path` starts with a folded prefix, ASCII letters compared without case, without allocating; undefined when
 * a non-ASCII character leaves it to foldCase.
 */
function startsWithAsciiFolded(path: string, folded: string): boolean | undefined {
  for (let i = 0; i < folded.length; i++) {
    if (i >= path.length) return false;
    let c = path.charCodeAt(i);
    if (c >= 0x80) return undefined;
    if (c >= 65 && c <= 90) c += 32;
    // An ASCII character folds to ASCII, so a non-ASCII prefix character cannot match it.
    if (c !== folded.charCodeAt(i)) return false;
  }
  return true;
}

/** A path without escapes, `;`, backslashes, `#`, `//` or `/.` reads the same to every origin. */
function isPlainPath(path: string): boolean {
  return path.indexOf('%') < 0 && path.indexOf('/.') < 0 && path.indexOf('//') < 0 && path.indexOf(';') < 0
    && path.indexOf('\\') < 0 && path.indexOf('#') < 0;
}

const DOT = /^(?:\.|%2e)$/i;
const DOT_DOT = /^(?:\.|%2e){2}$/i;

/**
 * The paths origins may resolve a request path (without its query string) to; a path rule counts the request when any
 * of them starts with its prefix, so no origin serves a path under the prefix to a request the rule did not count:
 * - nginx (ngx_http_parse_complex_uri, merge_slashes on): a literal `#` ends the path; each `%XX` is decoded once and
 *   then read like the character itself (`%2F` separates, `%2E%2E` is `..`), except that a decoded `?`, `#` or `%` is a
 *   plain character; runs of `/` are merged; `.` and `..` segments are resolved. `/%3F/../login` is `/login`. A `;`
 *   is a plain character to nginx.
 * - the same with `\` as a separator too (nginx on Windows, IIS), and the same without ending at `#` (servers that
 *   take the request target as the path, such as Go's net/http, which then cleans it).
 * - WHATWG URL parsing: `#` ends the path, `\` separates, `%2e` is a dot in `.` and `..` segments, but `%2F` does not
 *   separate and empty segments stay; the result decoded once.
 * - the path decoded once and nothing resolved, as origins that map it straight to a key or a file name see it.
 * - Tomcat (CoyoteAdapter: path parameters, `;` up to the next `/`, are removed from every segment of the undecoded
 *   path, then it is decoded once and normalised, `//` merged), and so Spring and Jetty behind or like it:
 *   `/x/..;/login`, `/.;/login` and `/;x/login` are `/login`.
 * - the path decoded twice (a proxy that decodes before an origin that decodes again): `/%256Cogin` is `/login`;
 *   the first decoding alone or resolved as nginx resolves it (`/%256Cogin/%252e%252e/..` through nginx is
 *   `/%6Cogin`, which the next origin decodes to `/login`), the second by Tomcat's rules too.
 * A browser resolves dot segments before sending, so these readings only differ for crafted requests.
 */
export function pathReadings(path: string): string[] {
  const hash = path.indexOf('#');
  const beforeHash = hash < 0 ? path : path.slice(0, hash);
  const decoded = percentDecode(beforeHash);
  const readings = [normalisePath(decoded)];
  const add = (reading: string) => {
    if (!readings.includes(reading)) readings.push(reading);
  };
  add(percentDecode(path));
  if (decoded.indexOf('\\') >= 0) add(normalisePath(decoded.replace(/\\/g, '/')));
  if (hash >= 0) add(normalisePath(percentDecode(path)));
  add(whatwgPath(beforeHash));
  if (beforeHash.indexOf(';') >= 0) add(normalisePath(percentDecode(withoutPathParameters(beforeHash))));
  // The first decoding as a proxy does it: alone, or resolved as nginx resolves before passing the path on.
  for (const once of decoded.indexOf('%') >= 0 || decoded.indexOf(';') >= 0 ? [decoded, readings[0]] : []) {
    const twice = percentDecode(once);
    add(normalisePath(twice));
    // The second decoder may be IIS, which separates at `\` as the first reading above does.
    if (twice.indexOf('\\') >= 0) add(normalisePath(twice.replace(/\\/g, '/')));
    if (once.indexOf(';') >= 0) add(normalisePath(percentDecode(withoutPathParameters(once))));
  }
  return readings;
}

/** The path without the parameters of its segments (`/a;x=1/b;y` is `/a/b`), as Tomcat removes them before decoding. */
export function withoutPathParameters(path: string): string {
  return path.replace(/;[^/]*/g, '');
}

/** WHATWG's path state for special URLs, applied to a path without query or fragment, then decoded once. */
function whatwgPath(path: string): string {
  const segments = path.replace(/\\/g, '/').split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (DOT_DOT.test(seg)) {
      out.pop();
      if (last) out.push('');
    } else if (DOT.test(seg)) {
      if (last) out.push('');
    } else {
      out.push(seg);
    }
  }
  return percentDecode(`/${out.join('/')}`);
}

/**
 * A decoded path as nginx resolves it: runs of `/` merged and `.` and `..` segments removed (RFC 3986 5.2.4), a
 * trailing `.` or `..` leaving a trailing `/`. Paths without `//` or `/.` are returned as they are, cheaply.
 */
export function normalisePath(path: string): string {
  if (path.indexOf('//') < 0 && path.indexOf('/.') < 0) return path;
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else if (seg === '.') {
      if (last) out.push('');
    } else if (seg !== '' || last) {
      out.push(seg);
    }
  }
  return `/${out.join('/')}`;
}

/**
 * The Host header as a name: lower case, without a port or the trailing dot of a fully qualified name, since
 * `API.example.com.:443` reaches the same site as `api.example.com` and must not dodge its rule.
 */
export function normaliseHost(host: string): string {
  let h = host.toLowerCase();
  const colon = h.lastIndexOf(':');
  if (colon > 0 && h.indexOf(']') < 0 && /^\d+$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** `*.example.com` matches any subdomain of example.com at any depth, not example.com itself. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
  return pattern === host;
}

/**
 * The client a request counts against. `c-ip` is the peer CloudFront saw and cannot be spoofed. X-Forwarded-For is
 * written by the client, so it is only read when `c-ip` is a declared trusted proxy; then its right-most address, the
 * one that proxy appended, is the client. That is exactly the address WAF's forwarded-IP match (position LAST) sees, so
 * what the guard blocks is what WAF enforces. Returns undefined when no usable client remains (a proxy is never blamed
 * for its clients), including when the right-most address is itself a trusted proxy (proxies in a chain): the
 * client's address is then further left, where WAF cannot be told which entry to trust, so no block could be enforced.
 */
export function resolveClient(
  cIp: IpAddress,
  request: { readonly forwardedFor: string | undefined },
  trustedProxies: CidrSet,
): IpAddress | undefined {
  if (trustedProxies.size === 0 || !trustedProxies.contains(cIp)) return cIp;
  const forwardedFor = request.forwardedFor;
  if (forwardedFor === undefined) return undefined;
  const decoded = percentDecode(forwardedFor);
  const hop = parseIp(decoded.slice(decoded.lastIndexOf(',') + 1).trim());
  return hop && !trustedProxies.contains(hop) ? hop : undefined;
}

/** How a client reached CloudFront, as bits: it may do both within one batch. */
export const ROUTE_DIRECT = 1;
/** Through a trusted proxy: blocked by the forwarded-address IP sets. */
export const ROUTE_PROXY = 2;
export const ROUTE_BOTH = 3;

/** A route as block rows record it. */
export function routeName(route: number): 'DIRECT' | 'PROXY' | 'BOTH' {
  return route === ROUTE_BOTH ? 'BOTH' : route === ROUTE_PROXY ? 'PROXY' : 'DIRECT';
}

const NO_RULES: readonly number[] = [];

/** Counts of one (rule, client) pair within a batch. */
export interface KeyCounts {
  readonly ruleIndex: number;
  /** The client: an IPv4 address or an IPv6 prefix (see clientOf). */
  readonly ip: IpAddress;
  /** bucket index -> sampled requests */
  readonly buckets: Map<number, number>;
  /** ROUTE_DIRECT and/or ROUTE_PROXY: which IP sets can block this client. */
  route: number;
  /** Position of the first and last record of the batch that counted here. */
  firstRecord: number;
  lastRecord: number;
  lastTimestampMs: number;
}

export interface CountStats {
  lines: number;
  matched: number;
  unmatched: number;
  allowListed: number;
  /** Requests from a trusted proxy without a usable X-Forwarded-For client. */
  unattributed: number;
  malformed: number;
  malformedByReason: Map<Malformed, number>;
}

export interface TrafficCounterOptions {
  /** Configured fields in delivered order. */
  readonly fields: readonly string[];
  readonly rules: readonly StoredRule[];
  readonly allowList: CidrSet;
  readonly trustedProxies: CidrSet;
  /**
   * IPv6 clients are counted per network of this many bits.
   * @default 64
   */
  readonly ipv6PrefixLength?: number;
}

/**
 * Parse and count: the pure core shared by the LogProcessor Lambda, the replay CLI and the benchmark.
 * Feed it record bytes; it keeps per (rule, client) bucket counts and statistics.
 */
export class TrafficCounter {
  public readonly parser: LogLineParser;
  public readonly matcher: RuleMatcher;
  public stats: CountStats = newStats();
  private readonly counts: Array<Map<string, KeyCounts>>;
  private readonly options: TrafficCounterOptions;
  private readonly bucketMs: number[];
  private readonly ipv6Cache = new Map<string, IpAddress | null>();
  /** IPv6 address text -> its prefix client. */
  private readonly prefixCache = new Map<string, IpAddress>();
  private readonly ipv6PrefixLength: number;

  constructor(options: TrafficCounterOptions) {
    this.options = options;
    this.parser = new LogLineParser(options.fields);
    this.matcher = new RuleMatcher(options.rules);
    this.counts = this.matcher.rules.map(() => new Map());
    this.bucketMs = this.matcher.rules.map((r) => bucketMs(r.windowSeconds));
    this.ipv6PrefixLength = options.ipv6PrefixLength ?? DEFAULT_IPV6_PREFIX_LENGTH;
  }

  /** The IPv6 prefix an address counts against, cached like the addresses themselves. */
  private prefixOf(ip: IpAddress): IpAddress {
    let client = this.prefixCache.get(ip.text);
    if (client === undefined) {
      client = clientOf(ip, this.ipv6PrefixLength);
      if (this.prefixCache.size >= 50_000) this.prefixCache.clear();
      this.prefixCache.set(ip.text, client);
    }
    return client;
  }

  /** A canonical IPv6 address, cached: the same clients come back batch after batch. */
  private ipv6(text: string): IpAddress | undefined {
    let ip = this.ipv6Cache.get(text);
    if (ip === undefined) {
      ip = parseIp(text) ?? null;
      if (this.ipv6Cache.size >= 50_000) this.ipv6Cache.clear();
      // The key must not be a slice of the line (it would keep the line alive): the canonical text when equal, else a copy.
      this.ipv6Cache.set(ip?.text === text ? ip.text : Buffer.from(text, 'latin1').toString('latin1'), ip);
    }
    return ip ?? undefined;
  }

  /** Counts one base64 record as Kinesis delivers it. */
  public addBase64(data: string, recordIndex: number): Malformed {
    let line: string;
    try {
      line = atob(data);
    } catch {
      line = '';
    }
    return this.add(line, recordIndex);
  }

  /** Counts one line (Latin-1 text); returns why it was skipped, or Malformed.NONE. */
  public add(line: string, recordIndex: number): Malformed {
    const stats = this.stats;
    stats.lines++;
    const parser = this.parser;
    let reason = parser.parse(line);
    // IPv4 (almost all traffic) is validated without allocating or hashing anything; an address object is built only
    // for a new (rule, client) pair. CloudFront writes IPv4 canonically (parseIpv4 refuses other spellings), so the
    // text is the key as it is; IPv6 is canonicalised, with a cache.
    let v4 = -1;
    let v6: IpAddress | undefined;
    if (reason === Malformed.NONE) {
      v4 = parseIpv4(parser.clientIp);
      if (v4 < 0) {
        v6 = this.ipv6(parser.clientIp);
        if (!v6) reason = Malformed.CLIENT_IP;
      }
    }
    if (reason !== Malformed.NONE) {
      stats.malformed++;
      stats.malformedByReason.set(reason, (stats.malformedByReason.get(reason) ?? 0) + 1);
      return reason;
    }
    const host = parser.host;
    const ruleIndexes = host === undefined ? NO_RULES : this.matcher.match(host, parser);
    if (ruleIndexes.length === 0) {
      stats.unmatched++;
      return Malformed.NONE;
    }
    const { allowList, trustedProxies } = this.options;
    let client: IpAddress | undefined = v6;
    let route = ROUTE_DIRECT;
    if (trustedProxies.size > 0) {
      const peer = v6 ?? { family: 4 as const, text: parser.clientIp, value: v4 };
      client = resolveClient(peer, parser, trustedProxies);
      if (client !== peer) route = ROUTE_PROXY;
      if (!client) {
        stats.unattributed++;
        return Malformed.NONE;
      }
    }
    // The allow-list is checked on the address itself: its neighbours in the same prefix still count (and the sync keeps
    // a prefix holding an allow-listed address out of the IP sets).
    if (allowList.size > 0 && (client ? allowList.contains(client) : allowList.containsIpv4(v4))) {
      stats.allowListed++;
      return Malformed.NONE;
    }
    if (client?.family === 6) client = this.prefixOf(client);
    const key = client ? client.text : parser.clientIp;
    stats.matched++;
    const timestampMs = parser.timestampMs;
    for (const ruleIndex of ruleIndexes) {
      const bucket = Math.floor(timestampMs / this.bucketMs[ruleIndex]);
      const perRule = this.counts[ruleIndex];
      let entry = perRule.get(key);
      if (entry === undefined) {
        // A fresh string, not a slice of the line: a stored slice would keep the whole line alive until the batch ends.
        const ip = client ?? { family: 4 as const, text: ipv4Text(v4), value: v4 };
        entry = { ruleIndex, ip, route, buckets: new Map(), firstRecord: recordIndex, lastRecord: recordIndex, lastTimestampMs: timestampMs };
        perRule.set(ip.text, entry);
      }
      entry.buckets.set(bucket, (entry.buckets.get(bucket) ?? 0) + 1);
      if (entry.route !== route) entry.route = ROUTE_BOTH;
      entry.lastRecord = recordIndex;
      if (timestampMs > entry.lastTimestampMs) entry.lastTimestampMs = timestampMs;
    }
    return Malformed.NONE;
  }

  /** The counted (rule, client) pairs since the last reset. */
  public entries(): KeyCounts[] {
    return this.counts.flatMap((m) => [...m.values()]);
  }

  public reset(): void {
    for (const m of this.counts) m.clear();
    this.stats = newStats();
  }
}

function newStats(): CountStats {
  return { lines: 0, matched: 0, unmatched: 0, allowListed: 0, unattributed: 0, malformed: 0, malformedByReason: new Map() };
}
