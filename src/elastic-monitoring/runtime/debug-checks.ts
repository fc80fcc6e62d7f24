/**
 * The debugging checks: is the WAF, the customer's upstream or DNS at fault, and can an upstream be reached around the
 * WAF? Only targets from the configuration are ever contacted: a request names a customer and a check, never a host.
 */
import * as dns from 'dns';
import * as http from 'http';
import * as https from 'https';
import { LookupFunction } from 'net';
import { promisify } from 'util';
import { addressRefusal, hostRefusal, judgeAddress } from './address-policy';

/** Environment variable holding the JSON-encoded {@link DebugConfig}. */
export const DEBUG_CONFIG_ENV = 'DEBUG_CHECKS_CONFIG';
/** Environment variable naming where a checker runs: `inside` or `outside` the WAF's VPC. */
export const CHECKER_LOCATION_ENV = 'CHECKER_LOCATION';
/** Environment variables of the widget with the ARNs of the two checkers. */
export const CHECKER_ARNS_ENV = { inside: 'CHECKER_INSIDE_ARN', outside: 'CHECKER_OUTSIDE_ARN' } as const;
/** Hosts one check contacts at most; with the concurrency and timeout this bounds a run (the function timeout). */
export const MAX_HOSTS_PER_RUN = 64;

export type CheckName = 'waf' | 'upstream' | 'dns';
export const CHECK_NAMES: readonly CheckName[] = ['waf', 'upstream', 'dns'];

/** Where a checker runs: in the WAF's VPC, or outside it (the internet's view). */
export type CheckerLocation = 'inside' | 'outside';

export interface WebApp {
  readonly hostnames: readonly string[];
  /** IP address or DNS name of the upstream the WAF forwards to. */
  readonly upstreamAddress: string;
  readonly upstreamPort: number;
  readonly upstreamProtocol: 'http' | 'https';
}

export interface Customer {
  readonly name: string;
  readonly apps: readonly WebApp[];
}

export interface FrontDoor {
  /** DNS names of the WAF's entry (load balancer, Global Accelerator); the WAF checks connect to the first one. */
  readonly dnsNames: readonly string[];
  /** Static entry addresses (Global Accelerator); DNS answers may be these too. */
  readonly ipAddresses: readonly string[];
  /** Addresses the WAF reaches upstreams from: the only ones an upstream should accept. */
  readonly egressIpAddresses: readonly string[];
  /** Port and protocol of the front door. */
  readonly port: number;
  readonly protocol: 'http' | 'https';
}

export interface DebugConfig {
  readonly customers: readonly Customer[];
  /** DynamoDB table with more customers (item: `customer`, `apps`), read at run time. */
  readonly customersTableName?: string;
  readonly frontDoor: FrontDoor;
  readonly requestTimeoutMs: number;
  readonly concurrency: number;
}

/** What a checker is asked: one customer, one check. Anything else is refused. */
export interface CheckRequest {
  readonly customer: string;
  readonly check: CheckName;
}

/** One row of the result table: one host, one check, from one place. */
export interface CheckResult {
  readonly customer: string;
  readonly host: string;
  readonly check: CheckName;
  readonly location: CheckerLocation;
  /** What was contacted: the front door, the upstream, or the resolver. */
  readonly target: string;
  readonly reachable: boolean;
  readonly status?: number;
  readonly latencyMs: number;
  /** Empty when all is well; otherwise what is wrong and what to do. */
  readonly finding: string;
  readonly error?: string;
  /** A 3xx answer's Location header (cut to {@link MAX_LOCATION_CHARS}); redirects are reported, never followed. */
  readonly redirectTo?: string;
  /** Why the target was not contacted (an address this checker never contacts); empty findings then mean "nothing to check". */
  readonly notContacted?: string;
}

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

/**
 * Validates a payload from the dashboard. Only `customer` and `check` are accepted, and the customer must be configured:
 * a payload naming a host, URL or address is refused, so the checker cannot be aimed anywhere else (no SSRF).
 */
export function parseCheckRequest(payload: unknown, customers: readonly Customer[]): CheckRequest {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new RequestError('the request must be an object');
  const p = payload as Record<string, unknown>;
  const extra = Object.keys(p).filter((k) => k !== 'customer' && k !== 'check');
  if (extra.length > 0) throw new RequestError(`unexpected fields: ${extra.slice(0, 5).join(', ')}; only customer and check are accepted`);
  if (typeof p.check !== 'string' || !CHECK_NAMES.includes(p.check as CheckName)) {
    throw new RequestError(`check must be one of ${CHECK_NAMES.join(', ')}`);
  }
  if (typeof p.customer !== 'string' || !NAME.test(p.customer)) throw new RequestError('customer must be a configured customer name');
  if (!customers.some((c) => c.name === p.customer)) throw new RequestError('customer is not configured');
  return { customer: p.customer, check: p.check as CheckName };
}

/** Validates customers from the table like those from props: a bad row is skipped, never contacted. */
export function parseCustomerItem(item: Record<string, unknown>): Customer | undefined {
  const name = item.customer;
  if (typeof name !== 'string' || !NAME.test(name) || !Array.isArray(item.apps)) return undefined;
  const apps: WebApp[] = [];
  for (const raw of item.apps as unknown[]) {
    const a = raw as Record<string, unknown>;
    const hostnames = Array.isArray(a?.hostnames) ? (a.hostnames as unknown[]).filter((h): h is string => typeof h === 'string' && HOSTNAME.test(h)) : [];
    const port = typeof a?.upstreamPort === 'number' ? a.upstreamPort : 443;
    const protocol = a?.upstreamProtocol === 'http' ? 'http' : 'https';
    if (hostnames.length === 0 || typeof a.upstreamAddress !== 'string' || !HOSTNAME.test(a.upstreamAddress)) continue;
    if (!(Number.isInteger(port) && port > 0 && port < 65536)) continue;
    apps.push({ hostnames, upstreamAddress: a.upstreamAddress, upstreamPort: port, upstreamProtocol: protocol });
  }
  return apps.length > 0 ? { name, apps } : undefined;
}

/** A DNS name or an IPv4/IPv6 address. */
export const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$|^[0-9a-fA-F:.]{2,45}$/;

export interface HeadTarget {
  readonly protocol: 'http' | 'https';
  /** Where to connect: an IP address that was checked; the socket goes there and nowhere else. */
  readonly address: string;
  readonly port: number;
  /** Host header and TLS SNI name: the customer's hostname, whatever address is connected to. */
  readonly hostname: string;
}

/** Longest Location header kept: enough to see where a redirect goes, not a way to fill the dashboard. */
export const MAX_LOCATION_CHARS = 300;

export interface HeadOutcome {
  readonly reachable: boolean;
  readonly status?: number;
  /** The Location header of a 3xx answer ('' when it has none); the redirect is not followed. */
  readonly redirectTo?: string;
  readonly latencyMs: number;
  readonly error?: string;
}

/** Trusted CAs besides Node's (tests); production uses the default trust store. */
export interface HeadOptions {
  readonly timeoutMs: number;
  readonly ca?: string | Buffer;
}

/**
 * One HEAD request to `address:port` for `hostname`: the Host header and the TLS server name are the hostname, so the
 * WAF or upstream answers as it would for the site, and the certificate is checked against the hostname.
 */
export function headRequest(target: HeadTarget, options: HeadOptions): Promise<HeadOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Omit<HeadOutcome, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, latencyMs: Date.now() - started });
    };
    const common = {
      host: target.address,
      // The address is a literal, so Node does not resolve it; should it ever try, it gets the checked address back.
      lookup: pinnedLookup(target.address),
      port: target.port,
      method: 'HEAD',
      path: '/',
      headers: { 'host': target.hostname, 'user-agent': 'cdk-waf-guard-debug-check' },
      timeout: options.timeoutMs,
      agent: false as const,
    };
    const req = target.protocol === 'https'
      ? https.request({ ...common, servername: isIp(target.hostname) ? undefined : target.hostname, ca: options.ca })
      : http.request(common);
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode;
      const redirect = status !== undefined && status >= 300 && status < 400;
      const location = String(res.headers.location ?? '').slice(0, MAX_LOCATION_CHARS);
      done({ reachable: true, status, ...(redirect ? { redirectTo: location } : {}) });
      req.destroy();
    });
    req.on('timeout', () => {
      done({ reachable: false, error: `no answer within ${options.timeoutMs} ms` });
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A certificate problem means the server was reached, but TLS for this hostname is wrong.
      const tls = /CERT|SSL|TLS|SELF_SIGNED|ALTNAME/.test(e.code ?? '');
      done({ reachable: tls, error: `${e.code ?? 'error'}: ${e.message}` });
    });
    req.end();
  });
}

/** A `lookup` for http/https/net/tls that answers every name with one address, so a socket cannot go elsewhere. */
export function pinnedLookup(address: string): LookupFunction {
  const family = address.includes(':') ? 6 : 4;
  return (_host, options, callback) => {
    type AllCallback = (e: null, a: Array<{ address: string; family: number }>) => void;
    if ((options as { all?: boolean }).all) (callback as unknown as AllCallback)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Every address of a name (`dns.lookup` with `all: true` in production: what a connection would use). */
export type Lookup = (host: string) => Promise<ReadonlyArray<{ readonly address: string; readonly family: number }>>;

/** The system resolver as a connection would use it: every address, in the resolver's order. */
export const systemLookup: Lookup = (host) => promisify(dns.lookup)(host, { all: true, verbatim: true });

/** Where a check may connect, or why it must not. */
export type Pinned = { readonly address: string; readonly refused?: undefined } | { readonly refused: string; readonly private: boolean };

/**
 * Resolves `host` once and judges it and every answer: the name, an IP literal in any spelling, and each resolved
 * address must be allowed. The result is the one address to connect to, so a second DNS answer (rebinding) cannot
 * redirect the connection.
 */
export async function pinTarget(host: string, allowPrivate: boolean, lookup: Lookup): Promise<Pinned> {
  const literal = judgeAddress(host);
  if (literal) {
    const refused = addressRefusal(literal, allowPrivate, host);
    return refused ? { refused, private: literal.kind === 'private' } : { address: literal.address.text };
  }
  const refusal = hostRefusal(host, allowPrivate);
  if (refusal) return { refused: refusal, private: false };
  let resolved;
  try {
    resolved = await lookup(host);
  } catch (e) {
    return { refused: `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, private: false };
  }
  if (resolved.length === 0) return { refused: `${host} does not resolve (no address)`, private: false };
  const judged = resolved.map((a) => judgeAddress(a.address));
  const bad = judged.map((j, i) => (j ? addressRefusal(j, allowPrivate) : `${resolved[i].address} is not an IP address`)).filter((r): r is string => !!r);
  if (bad.length > 0) {
    return { refused: `${host} resolves to ${bad.join('; ')}`, private: judged.every((j) => j && (j.kind === 'public' || j.kind === 'private')) };
  }
  return { address: judged[0]!.address.text };
}

function isIp(value: string): boolean {
  return /^[0-9.]+$/.test(value) || value.includes(':');
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The resolver the DNS check uses; `dns.promises` in production. */
export interface Resolver {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

async function answers(resolver: Resolver, host: string): Promise<{ addresses: string[]; error?: string }> {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  const failed = [v4, v6].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return { addresses, error: addresses.length === 0 && failed ? String((failed.reason as Error)?.message ?? failed.reason) : undefined };
}

export interface CheckContext {
  readonly config: DebugConfig;
  readonly location: CheckerLocation;
  /** Answers the DNS check (which records a hostname has). */
  readonly resolver: Resolver;
  /** Resolves the front door and upstreams before they are contacted. */
  readonly lookup: Lookup;
  readonly ca?: string | Buffer;
  /**
   * Where a socket for a checked address goes: the address itself in production. Tests route documentation addresses
   * (TEST-NET) to local listeners; it is applied after the check, so it cannot widen what is allowed.
   */
  readonly route?: (address: string) => string;
}

function statusFinding(status: number | undefined, what: string, redirectTo?: string): string {
  if (status === undefined) return '';
  if (redirectTo !== undefined) {
    return `${what} answered HTTP ${status}, a redirect ${redirectTo ? `to ${redirectTo}` : 'without a Location header'} (not followed): `
      + 'the site itself was not checked; check that the redirect is meant to be there';
  }
  if (status >= 500) return `${what} answered HTTP ${status}: a server error`;
  if (status >= 400) return `${what} answered HTTP ${status}: the request was refused`;
  return '';
}

/** Runs one check for every hostname of one customer, from this checker's location. */
export async function runCheck(request: CheckRequest, customer: Customer, ctx: CheckContext): Promise<CheckResult[]> {
  const { config, location } = ctx;
  const hosts = customer.apps.flatMap((app) => app.hostnames.map((host) => ({ host, app }))).slice(0, MAX_HOSTS_PER_RUN);
  const base = (host: string, target: string) => ({ customer: customer.name, host, check: request.check, location, target });
  if (request.check === 'dns') {
    const frontDoor = new Set(config.frontDoor.ipAddresses);
    for (const name of config.frontDoor.dnsNames) (await answers(ctx.resolver, name)).addresses.forEach((a) => frontDoor.add(a));
    return mapLimit(hosts, config.concurrency, async ({ host }) => {
      const started = Date.now();
      const { addresses, error } = await answers(ctx.resolver, host);
      const foreign = addresses.filter((a) => !frontDoor.has(a));
      const finding = addresses.length === 0
        ? `${host} does not resolve (${error ?? 'no answer'}): check the DNS records`
        : foreign.length > 0
          ? `${host} resolves to ${foreign.join(', ')}, not a WAF front-door address: traffic to it bypasses the WAF; point the record at the WAF`
          : '';
      return { ...base(host, 'resolver'), reachable: addresses.length > 0, latencyMs: Date.now() - started, finding, ...(error ? { error } : {}) };
    });
  }
  const door = config.frontDoor;
  // One resolution per target and run: every host of the run connects to the address that was judged.
  const pins = new Map<string, Promise<Pinned>>();
  const pin = (address: string) => {
    if (!pins.has(address)) pins.set(address, pinTarget(address, location === 'inside', ctx.lookup));
    return pins.get(address)!;
  };
  return mapLimit(hosts, config.concurrency, async ({ host, app }) => {
    const aim = request.check === 'waf'
      ? { protocol: door.protocol, address: door.dnsNames[0] ?? door.ipAddresses[0], port: door.port }
      : { protocol: app.upstreamProtocol, address: app.upstreamAddress, port: app.upstreamPort };
    const what = request.check === 'waf' ? 'the WAF' : `upstream ${aim.address}:${aim.port}`;
    const started = Date.now();
    const pinned = await pin(aim.address);
    if (pinned.refused !== undefined) {
      // A private address from outside the VPC is simply out of reach; anything else is a configuration to fix.
      const expected = pinned.private && location === 'outside';
      return {
        ...base(host, `${aim.address}:${aim.port}`),
        reachable: false,
        latencyMs: Date.now() - started,
        finding: expected ? '' : `${what} was not contacted: ${pinned.refused}; ${request.check === 'waf'
          ? 'set debugChecks.frontDoor to the WAF entry\'s DNS name or address'
          : 'set the upstream address to its routable address or DNS name'}`,
        notContacted: pinned.refused,
      };
    }
    const target: HeadTarget = { ...aim, address: ctx.route ? ctx.route(pinned.address) : pinned.address, hostname: host };
    const outcome = await headRequest(target, { timeoutMs: config.requestTimeoutMs, ca: ctx.ca });
    const shown = pinned.address === aim.address ? `${aim.address}:${aim.port}` : `${aim.address} (${pinned.address}):${aim.port}`;
    let finding: string;
    if (request.check === 'upstream' && location === 'outside') {
      finding = outcome.reachable
        ? `upstream ${aim.address}:${aim.port} answers from outside the WAF: anyone can bypass the WAF; allow only the WAF's egress addresses (${door.egressIpAddresses.join(', ') || 'see egressIpAddresses'})`
        : '';
    } else {
      finding = !outcome.reachable
        ? `${what} cannot be reached${outcome.error ? ` (${outcome.error})` : ''}`
        : outcome.error
          ? `${what} presents a TLS certificate that is not valid for ${host} (${outcome.error})`
          : statusFinding(outcome.status, what, outcome.redirectTo);
    }
    return { ...base(host, shown), ...outcome, finding };
  });
}
