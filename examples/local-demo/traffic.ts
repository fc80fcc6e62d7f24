/**
 * Synthetic CloudFront real-time log traffic with known attackers, shared by the local demo, its test and the
 * benchmarks. Deterministic for a seed: a heavy-tailed (Zipf-Mandelbrot) population of browsers over several hosts,
 * attackers that start at known moments at a known multiple of their rule's threshold, one steady client just below
 * a threshold, and a trickle of malformed lines. The generator keeps the ground truth (every real request, before
 * sampling) so the outcome can be judged independently of the code under test.
 */
import { deliveredFieldOrder, ORIGINAL_40_FIELDS } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { logLine } from '../../test/support/log-lines';

/** The demo's log configuration: the 40 fields real-time logs had at launch, in delivered order. */
export const DEMO_FIELDS: readonly string[] = deliveredFieldOrder(ORIGINAL_40_FIELDS);

/** The demo's rules, in the shape of the construct's HostRule props (and of a replay rules file). */
export const DEMO_RULES_JSON = [
  { id: 'login', host: 'www.example.com', pathPrefix: '/login', threshold: 100, window: '10s', blockFor: '1m' },
  { id: 'api', host: 'api.example.com', threshold: 300, window: '10s', blockFor: '1m' },
];

export interface AttackerSpec {
  readonly ip: string;
  readonly ruleId: string;
  /** When the attack starts, as a fraction of the traffic phase. */
  readonly startFraction: number;
  /** Requests per window as a multiple of the rule's threshold. */
  readonly thresholdMultiple: number;
  /** When the attack stops, as a fraction of the traffic phase. @default 1 */
  readonly endFraction?: number;
}

export const DEMO_ATTACKERS: readonly AttackerSpec[] = [
  { ip: '198.51.100.23', ruleId: 'login', startFraction: 0.15, thresholdMultiple: 3 },
  { ip: '2001:db8:4::17', ruleId: 'api', startFraction: 0.25, thresholdMultiple: 2.5 },
  { ip: '2001:db8:9:1::abc', ruleId: 'login', startFraction: 0.3, thresholdMultiple: 2 },
  { ip: '203.0.113.99', ruleId: 'api', startFraction: 0.4, thresholdMultiple: 4 },
];

/** A client that keeps just under the login threshold for the whole run: it must never be blocked. */
export const NEAR_MISS = { ip: '192.0.2.77', ruleId: 'login' } as const;

interface PathMix { readonly weight: number; readonly path: (r: Random) => string; readonly method?: string }
interface HostMix { readonly host: string; readonly weight: number; readonly paths: readonly PathMix[] }

const HOSTS: readonly HostMix[] = [
  {
    host: 'www.example.com',
    weight: 0.5,
    paths: [
      { weight: 0.3, path: () => '/' },
      { weight: 0.4, path: (r) => `/products/${r.int(5000)}` },
      { weight: 0.16, path: (r) => `/search?q=item${r.int(300)}` },
      { weight: 0.1, path: (r) => `/static/app.${r.int(8)}.js` },
      { weight: 0.04, path: () => '/login', method: 'POST' },
    ],
  },
  {
    host: 'api.example.com',
    weight: 0.3,
    paths: [
      { weight: 0.7, path: (r) => `/v1/items?page=${r.int(50)}` },
      { weight: 0.3, path: (r) => `/v1/cart/${r.int(100000)}`, method: 'POST' },
    ],
  },
  { host: 'static.example.net', weight: 0.2, paths: [{ weight: 1, path: (r) => `/img/${r.int(20000)}.jpg` }] },
];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
].map(encodeURIComponent);
const ATTACK_AGENT = encodeURIComponent('python-requests/2.32.3');

/** mulberry32: small, fast and good enough for traffic shapes; seeded so a run can be repeated. */
/* eslint-disable no-bitwise */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  public next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /* eslint-enable no-bitwise */
  public int(n: number): number {
    return Math.floor(this.next() * n);
  }
  public pick<T extends { readonly weight: number }>(items: readonly T[]): T {
    let x = this.next();
    for (const item of items) {
      x -= item.weight;
      if (x < 0) return item;
    }
    return items[items.length - 1];
  }
  /** Exponential inter-arrival time of a Poisson process at `rate` per ms. */
  public gap(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }
}

/** Distinct client addresses (85% IPv4, 15% IPv6) outside `reserved` and the documentation ranges attackers use. */
function clientAddresses(random: Random, count: number, reserved: ReadonlySet<string>): string[] {
  const ips = new Set<string>();
  while (ips.size < count) {
    const ip = random.next() < 0.85
      ? `${[23, 31, 45, 62, 81, 92, 104, 151, 176, 185][random.int(10)]}.${random.int(256)}.${random.int(256)}.${1 + random.int(254)}`
      : `2a0${1 + random.int(8)}:${(random.int(0xffff) + 1).toString(16)}:${random.int(0xffff).toString(16)}::${(random.int(0xfffe) + 1).toString(16)}`;
    if (!reserved.has(ip)) ips.add(ip);
  }
  return [...ips];
}

/** Zipf-Mandelbrot weights 1/(k+q)^s: a heavy tail without one client dominating (the top one sends ~0.7%). */
export class ZipfClients {
  public readonly ips: string[];
  private readonly cdf: Float64Array;

  constructor(random: Random, count: number, reserved: ReadonlySet<string>, s = 1.2, q = 50) {
    this.ips = clientAddresses(random, count, reserved);
    this.cdf = new Float64Array(count);
    let sum = 0;
    for (let k = 0; k < count; k++) this.cdf[k] = sum += (k + 1 + q) ** -s;
    for (let k = 0; k < count; k++) this.cdf[k] /= sum;
  }

  public pick(random: Random): string {
    const x = random.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return this.ips[lo];
  }
}

export interface Request {
  readonly timestampMs: number;
  readonly ip: string;
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly agent: string;
}

/** A browser's request over the demo's hosts and paths; `ip` is asked for between the picks, as the Zipf mix always did. */
function browse(random: Random, timestampMs: number, ip: () => string): Request {
  const host = random.pick(HOSTS);
  const p = random.pick(host.paths);
  return {
    timestampMs: Math.floor(timestampMs),
    ip: ip(),
    host: host.host,
    path: p.path(random),
    method: p.method ?? 'GET',
    agent: USER_AGENTS[random.int(USER_AGENTS.length)],
  };
}

/** One Kinesis record's worth: a log line, or a malformed line standing for no request. */
export interface GeneratedRecord {
  readonly line: string;
  readonly timestampMs: number;
  /** The client, for requests; undefined for malformed lines. */
  readonly ip?: string;
}

/** What every generated mix shares: the run, the rules, the attackers and sampling. */
export interface MixOptions {
  readonly seed: number;
  readonly samplingRate: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly rules: readonly StoredRule[];
  /** Malformed lines per record. */
  readonly malformedRate?: number;
  /** With attackers, the near-miss client (NEAR_MISS) comes too. */
  readonly attackers?: readonly AttackerSpec[];
  /** Keep every rule-matching request for the ground truth (off for bulk benchmark lines). */
  readonly groundTruth?: boolean;
}

export interface TrafficOptions extends MixOptions {
  /** Background requests per second (real, before sampling); attackers come on top. */
  readonly rate: number;
  readonly clients?: number;
}

/** Timestamp of every real request per rule and client: what the guard should have seen without sampling. */
export type GroundTruth = Map<string, Map<string, number[]>>;

interface Stream { readonly ip: string; readonly ruleId: string; readonly intervalMs: number; readonly toMs: number; nextMs: number }

/**
 * The near-miss client's rate as a fraction of the threshold: as close as sampling lets the guard tell it apart.
 * Sampled counts are binomial; the client stays five standard deviations below the threshold in sampled requests.
 */
export function nearMissFraction(threshold: number, samplingRate: number): number {
  const p = samplingRate / 100;
  const m = (threshold * p);
  const c = 5 * Math.sqrt(1 - p);
  const mu = ((-c + Math.sqrt(c * c + 4 * m)) / 2) ** 2;
  return Math.min(0.9, mu / m);
}

/**
 * A generated mix: background requests from the subclass, attackers and the near-miss client as steady streams, then
 * sampling, rendering and malformed lines, keeping the ground truth.
 */
export abstract class GeneratedMix {
  public readonly truth: GroundTruth = new Map();
  /** Real requests generated so far, before sampling. */
  public requests = 0;
  public readonly distinctClients = new Set<string>();
  protected readonly random: Random;
  /** Addresses background clients must not take. */
  protected readonly reserved: ReadonlySet<string>;
  private readonly streams: Stream[] = [];
  private readonly rulesById: Map<string, StoredRule>;
  private cursorMs: number;

  constructor(private readonly options: MixOptions) {
    this.random = new Random(options.seed);
    this.rulesById = new Map(options.rules.map((r) => [r.ruleId, r]));
    const attackers = options.attackers ?? [];
    this.reserved = new Set([...attackers.map((a) => a.ip), NEAR_MISS.ip]);
    for (const a of attackers) {
      const rule = this.rule(a.ruleId);
      const fromMs = options.startMs + Math.round(a.startFraction * options.durationMs);
      const toMs = options.startMs + Math.round((a.endFraction ?? 1) * options.durationMs);
      const intervalMs = (rule.windowSeconds * 1000) / (rule.threshold * a.thresholdMultiple);
      this.streams.push({ ip: a.ip, ruleId: a.ruleId, intervalMs, toMs, nextMs: fromMs });
    }
    if (attackers.length > 0 && this.rulesById.has(NEAR_MISS.ruleId)) {
      const rule = this.rule(NEAR_MISS.ruleId);
      const perWindow = rule.threshold * nearMissFraction(rule.threshold, options.samplingRate);
      const intervalMs = (rule.windowSeconds * 1000) / perWindow;
      this.streams.push({ ip: NEAR_MISS.ip, ruleId: NEAR_MISS.ruleId, intervalMs, toMs: this.endMs, nextMs: options.startMs });
    }
    this.cursorMs = options.startMs;
  }

  public get endMs(): number {
    return this.options.startMs + this.options.durationMs;
  }

  /** The records of every request from the last call up to `untilMs` (capped at the end of the run), in time order. */
  public until(untilMs: number): GeneratedRecord[] {
    const end = Math.min(untilMs, this.endMs);
    const requests = this.background(end);
    for (const s of this.streams) {
      const rule = this.rule(s.ruleId);
      for (; s.nextMs < Math.min(end, s.toMs); s.nextMs += s.intervalMs) {
        const attacker = s.ip !== NEAR_MISS.ip;
        requests.push({
          timestampMs: Math.floor(s.nextMs),
          ip: s.ip,
          host: rule.host,
          path: rule.pathPrefix ?? '/v1/items?page=1',
          method: rule.pathPrefix ? 'POST' : 'GET',
          agent: attacker ? ATTACK_AGENT : USER_AGENTS[0],
        });
      }
    }
    requests.sort((a, b) => a.timestampMs - b.timestampMs);
    this.cursorMs = end;
    const { random } = this;
    const records: GeneratedRecord[] = [];
    const keep = this.options.samplingRate / 100;
    const malformedRate = this.options.malformedRate ?? 0.002;
    this.requests += requests.length;
    for (const request of requests) {
      if (this.options.groundTruth) {
        this.distinctClients.add(request.ip);
        this.remember(request);
      }
      if (keep < 1 && random.next() >= keep) continue;
      records.push({ line: renderLine(request, random), timestampMs: request.timestampMs, ip: request.ip });
      if (random.next() < malformedRate) records.push({ line: malformedLine(request, random), timestampMs: request.timestampMs });
    }
    return records;
  }

  public get done(): boolean {
    return this.cursorMs >= this.endMs;
  }

  /** Background requests before `endMs` not returned before, in any order. */
  protected abstract background(endMs: number): Request[];

  private remember(request: Request): void {
    for (const rule of this.options.rules) {
      if (!requestMatches(rule, request)) continue;
      let perRule = this.truth.get(rule.ruleId);
      if (!perRule) this.truth.set(rule.ruleId, (perRule = new Map()));
      let times = perRule.get(request.ip);
      if (!times) perRule.set(request.ip, (times = []));
      times.push(request.timestampMs);
    }
  }

  private rule(ruleId: string): StoredRule {
    const rule = this.rulesById.get(ruleId);
    if (!rule) throw new Error(`no rule ${ruleId}`);
    return rule;
  }
}

/** The demo's mix: a Poisson stream of requests at `rate` from Zipf-distributed clients. */
export class TrafficGenerator extends GeneratedMix {
  private readonly clients: ZipfClients;
  private nextBackgroundMs: number;

  constructor(private readonly traffic: TrafficOptions) {
    super(traffic);
    this.clients = new ZipfClients(this.random, traffic.clients ?? 5000, this.reserved);
    this.nextBackgroundMs = traffic.startMs + this.random.gap(traffic.rate / 1000);
  }

  protected background(endMs: number): Request[] {
    const requests: Request[] = [];
    const { random } = this;
    while (this.nextBackgroundMs < endMs) {
      requests.push(browse(random, this.nextBackgroundMs, () => this.clients.pick(random)));
      this.nextBackgroundMs += random.gap(this.traffic.rate / 1000);
    }
    return requests;
  }
}

export interface LightClientsOptions extends MixOptions {
  /** @default 20,000 */
  readonly clients?: number;
  /** Each client sends 1 to this many requests (uniformly), each at a uniformly random time of the run. @default 10 */
  readonly maxRequests?: number;
}

/**
 * Many light clients: each sends a few requests over the whole run, the case where nearly every logged request is
 * its client's only one in a batch.
 */
export class LightClientsGenerator extends GeneratedMix {
  private readonly pending: Request[] = [];
  private next = 0;

  constructor(options: LightClientsOptions) {
    super(options);
    const { random } = this;
    for (const ip of clientAddresses(random, options.clients ?? 20_000, this.reserved)) {
      const n = 1 + random.int(options.maxRequests ?? 10);
      for (let i = 0; i < n; i++) this.pending.push(browse(random, options.startMs + random.next() * options.durationMs, () => ip));
    }
    this.pending.sort((a, b) => a.timestampMs - b.timestampMs);
  }

  protected background(endMs: number): Request[] {
    const from = this.next;
    while (this.next < this.pending.length && this.pending[this.next].timestampMs < endMs) this.next++;
    return this.pending.slice(from, this.next);
  }
}

/** Rule matching written independently of the guard's RuleMatcher, for the ground truth. */
function requestMatches(rule: StoredRule, request: Request): boolean {
  const hostOk = rule.host.startsWith('*.') ? request.host.endsWith(rule.host.slice(1)) : request.host === rule.host;
  return hostOk && (rule.pathPrefix === undefined || request.path.startsWith(rule.pathPrefix));
}

const EDGES = ['IAD89-P1', 'FRA56-P4', 'NRT57-P2', 'GRU3-C1'];

function requestId(random: Random): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  let id = '';
  for (let i = 0; i < 56; i++) id += alphabet[random.int(64)];
  return `${id}==`;
}

/** A full 40-field line as CloudFront writes it: `-` for empty values, user agent and headers %-encoded once. */
export function renderLine(request: Request, random: Random): string {
  const v6 = request.ip.includes(':');
  const status = request.method === 'POST' ? (random.next() < 0.9 ? 401 : 200) : random.next() < 0.93 ? 200 : random.next() < 0.7 ? 304 : 404;
  const bytes = 400 + random.int(40000);
  const hit = random.next() < 0.6 ? 'Hit' : 'Miss';
  const [stem, query] = request.path.split('?');
  const headers = `host:${request.host}%0Auser-agent:${request.agent}%0Aaccept:text/html,application/xhtml+xml%0Aaccept-encoding:gzip,%20deflate,%20br%0Aaccept-language:en-US,en;q=0.9`;
  return logLine(DEMO_FIELDS, {
    'timestamp': (request.timestampMs / 1000).toFixed(3),
    'c-ip': request.ip,
    's-ip': '18.160.0.' + (1 + random.int(200)),
    'time-to-first-byte': (0.001 + random.next() * 0.2).toFixed(3),
    'sc-status': status,
    'sc-bytes': bytes,
    'cs-method': request.method,
    'cs-protocol': 'https',
    'cs-host': request.host,
    'cs-uri-stem': request.path,
    'cs-bytes': 80 + random.int(900),
    'x-edge-location': EDGES[random.int(EDGES.length)],
    'x-edge-request-id': requestId(random),
    'x-host-header': 'd111111abcdef8.cloudfront.net',
    'time-taken': (0.002 + random.next() * 0.3).toFixed(3),
    'cs-protocol-version': 'HTTP/2.0',
    'c-ip-version': v6 ? 'IPv6' : 'IPv4',
    'cs-user-agent': request.agent,
    'cs-referer': random.next() < 0.5 ? `https://${request.host}/` : '-',
    'cs-uri-query': query ?? '-',
    'x-edge-response-result-type': hit,
    'ssl-protocol': 'TLSv1.3',
    'ssl-cipher': 'TLS_AES_128_GCM_SHA256',
    'x-edge-result-type': hit,
    'sc-content-type': stem.endsWith('.js') ? 'application/javascript' : stem.endsWith('.jpg') ? 'image/jpeg' : 'text/html',
    'sc-content-len': bytes - 300,
    'c-port': 1024 + random.int(64000),
    'x-edge-detailed-result-type': hit,
    'c-country': ['US', 'DE', 'JP', 'BR', 'FR'][random.int(5)],
    'cs-accept-encoding': 'gzip,%20deflate,%20br',
    'cs-accept': 'text/html,application/xhtml+xml',
    'cache-behavior-path-pattern': stem.startsWith('/static') ? '/static/*' : '*',
    'cs-headers': headers,
    'cs-header-names': 'host%0Auser-agent%0Aaccept%0Aaccept-encoding%0Aaccept-language',
  });
}

/** The ways lines go bad in practice: cut short, a field set changed under the reader, a bad timestamp or address. */
function malformedLine(request: Request, random: Random): string {
  const line = renderLine(request, random);
  switch (random.int(4)) {
    case 0: return line.slice(0, Math.floor(line.length / 2));
    case 1: return `${line}\textra-field`;
    case 2: return line.replace(/^[^\t]+/, 'not-a-time');
    default: return line.replace(/^([^\t]+)\t[^\t]+/, '$1\tunknown');
  }
}

/** Per rule and client: the most real requests within any window, and when the count first reached the threshold. */
export interface TruthRow {
  readonly ruleId: string;
  readonly ip: string;
  readonly maxInWindow: number;
  /** Log time of the request that brought a window to the threshold; undefined when none did. */
  readonly crossedAtMs?: number;
}

export function judgeTruth(truth: GroundTruth, rules: readonly StoredRule[]): TruthRow[] {
  const rows: TruthRow[] = [];
  for (const rule of rules) {
    const windowMs = rule.windowSeconds * 1000;
    for (const [ip, times] of truth.get(rule.ruleId) ?? []) {
      let max = 0;
      let crossedAtMs: number | undefined;
      for (let lo = 0, hi = 0; hi < times.length; hi++) {
        // A window (t - W, t]: the guard's buckets never cover more than that.
        while (times[lo] <= times[hi] - windowMs) lo++;
        const n = hi - lo + 1;
        if (n > max) max = n;
        if (crossedAtMs === undefined && n >= rule.threshold) crossedAtMs = times[hi];
      }
      rows.push({ ruleId: rule.ruleId, ip, maxInWindow: max, crossedAtMs });
    }
  }
  return rows;
}
