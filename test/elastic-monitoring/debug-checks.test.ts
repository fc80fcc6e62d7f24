import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { createServer as createHttpServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from 'http';
import { createServer as createHttpsServer } from 'https';
import { AddressInfo, Socket } from 'net';
import * as os from 'os';
import * as path from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createCheckerHandler } from '../../src/elastic-monitoring/debug-checker.lambda';
import {
  CHECKER_LOCATION_ENV, Customer, DEBUG_CONFIG_ENV, DebugConfig, Lookup, Resolver, headRequest, mapLimit, parseCheckRequest, parseCustomerItem,
  pinnedLookup, runCheck,
} from '../../src/elastic-monitoring/runtime/debug-checks';

interface Seen { host?: string; method?: string; servername?: string }

/** A loopback server answering HEAD with `status`, recording the Host header (and the TLS name for HTTPS). */
async function server(status: number, tls?: { key: Buffer; cert: Buffer }): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ host: req.headers.host, method: req.method, servername: (req.socket as any).servername });
    res.writeHead(status);
    res.end();
  };
  const s: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, seen, close: () => new Promise((r) => s.close(() => r())) };
}

/** A server that accepts connections and never answers. */
async function silentServer() {
  const sockets: Socket[] = [];
  const s = createHttpServer();
  s.on('connection', (socket) => sockets.push(socket));
  s.removeAllListeners('request');
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const close = () => new Promise<void>((r) => {
    sockets.forEach((k) => k.destroy());
    s.close(() => r());
  });
  return { port: (s.address() as AddressInfo).port, close };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createHttpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A lookup answering from a table, like dns.lookup with all: true; unknown names fail with ENOTFOUND. */
const lookupOf = (table: Record<string, string[]>): Lookup => async (host) => {
  if (!(host in table)) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return table[host].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
/** Documentation addresses (TEST-NET, public to the policy) stand for servers; their sockets go to the local listeners. */
const toLoopback = (address: string) => (/^(192\.0\.2|198\.51\.100|203\.0\.113)\./.test(address) ? '127.0.0.1' : address);
const testNet = { lookup: lookupOf({ 'waf.test': ['198.51.100.20'] }), route: toLoopback };

let tls: { key: Buffer; cert: Buffer };
beforeAll(() => {
  // A self-signed certificate for shop.test only, made with the system's openssl.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'debug-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.pem`, '-days', '2',
    '-subj', '/CN=shop.test', '-addext', 'subjectAltName=DNS:shop.test'], { stdio: 'ignore' });
  tls = { key: fs.readFileSync(`${dir}/k.pem`), cert: fs.readFileSync(`${dir}/c.pem`) };
});

describe('headRequest', () => {
  test('reachable: HEAD with the site\'s Host header to the given address, status and latency', async () => {
    const s = await server(204);
    try {
      const out = await headRequest({ protocol: 'http', address: '127.0.0.1', port: s.port, hostname: 'shop.test' }, { timeoutMs: 2000 });
      expect(out).toEqual(expect.objectContaining({ reachable: true, status: 204 }));
      expect(out.latencyMs).toBeGreaterThanOrEqual(0);
      expect(s.seen).toEqual([expect.objectContaining({ host: 'shop.test', method: 'HEAD' })]);
    } finally {
      await s.close();
    }
  });

  test('a redirect is reported with its Location and not followed', async () => {
    const paths: string[] = [];
    const s = createHttpServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(302, { location: `/next${'x'.repeat(400)}` });
      res.end();
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const out = await headRequest({ protocol: 'http', address: '127.0.0.1', port: (s.address() as AddressInfo).port, hostname: 'shop.test' }, { timeoutMs: 2000 });
      expect(out).toEqual(expect.objectContaining({ reachable: true, status: 302, redirectTo: `/next${'x'.repeat(295)}` }));
      expect(paths).toEqual(['/']);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test('a name is connected to the pinned address only, whatever Node asks the lookup', async () => {
    const s = await server(204);
    try {
      // `pinnedLookup` answers both forms Node uses (one address, or all: true with autoSelectFamily).
      const viaNode = await new Promise<number | undefined>((resolve, reject) => {
        const req = httpRequest({ host: 'anything.invalid', port: s.port, method: 'HEAD', lookup: pinnedLookup('127.0.0.1'), agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      });
      expect(viaNode).toBe(204);
      const all = await new Promise<unknown>((r) => pinnedLookup('::1')('x.invalid', { all: true }, ((_e: unknown, a: unknown) => r(a)) as any));
      expect(all).toEqual([{ address: '::1', family: 6 }]);
    } finally {
      await s.close();
    }
  });

  test('refused: not reachable, with the error code', async () => {
    const out = await headRequest({ protocol: 'http', address: '127.0.0.1', port: await closedPort(), hostname: 'shop.test' }, { timeoutMs: 2000 });
    expect(out.reachable).toBe(false);
    expect(out.error).toMatch(/^ECONNREFUSED/);
  });

  test('a server that never answers is cut at the timeout', async () => {
    const s = await silentServer();
    try {
      const out = await headRequest({ protocol: 'http', address: '127.0.0.1', port: s.port, hostname: 'shop.test' }, { timeoutMs: 300 });
      expect(out).toEqual(expect.objectContaining({ reachable: false, error: 'no answer within 300 ms' }));
      expect(out.latencyMs).toBeLessThan(2000);
    } finally {
      await s.close();
    }
  });

  test('HTTPS: the TLS server name is the hostname, and the certificate must be valid for it', async () => {
    const s = await server(200, tls);
    try {
      const good = await headRequest({ protocol: 'https', address: '127.0.0.1', port: s.port, hostname: 'shop.test' }, { timeoutMs: 2000, ca: tls.cert });
      expect(good).toEqual(expect.objectContaining({ reachable: true, status: 200 }));
      expect(good.error).toBeUndefined();
      expect(s.seen[0]).toEqual({ host: 'shop.test', method: 'HEAD', servername: 'shop.test' });
      const wrong = await headRequest({ protocol: 'https', address: '127.0.0.1', port: s.port, hostname: 'blog.test' }, { timeoutMs: 2000, ca: tls.cert });
      expect(wrong.reachable).toBe(true);
      expect(wrong.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      const untrusted = await headRequest({ protocol: 'https', address: '127.0.0.1', port: s.port, hostname: 'shop.test' }, { timeoutMs: 2000 });
      expect(untrusted.error).toMatch(/SELF_SIGNED|self.signed/i);
    } finally {
      await s.close();
    }
  });
});

test('mapLimit runs at most `limit` at once and keeps the order', async () => {
  let running = 0;
  let most = 0;
  const out = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5 + (i % 4)));
    running--;
    return i * 2;
  });
  expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  expect(most).toBe(3);
});

describe('payload validation: only a configured customer and a known check', () => {
  const customers: Customer[] = [{ name: 'acme', apps: [{ hostnames: ['shop.test'], upstreamAddress: '10.0.0.5', upstreamPort: 443, upstreamProtocol: 'https' }] }];
  test.each([
    [{ customer: 'acme', check: 'waf' }, undefined],
    [{ customer: 'acme', check: 'dns' }, undefined],
    [{ customer: 'acme', check: 'waf', url: 'http://169.254.169.254/' }, /unexpected fields: url/],
    [{ customer: 'acme', check: 'waf', host: 'internal.example' }, /unexpected fields: host/],
    [{ customer: 'evil', check: 'waf' }, /customer is not configured/],
    [{ customer: 'acme', check: 'portscan' }, /check must be one of waf, upstream, dns/],
    [{ customer: ['acme'], check: 'waf' }, /customer must be/],
    ['acme', /must be an object/],
    [null, /must be an object/],
  ])('%j', (payload, error) => {
    if (error) expect(() => parseCheckRequest(payload, customers)).toThrow(error);
    else expect(parseCheckRequest(payload, customers)).toEqual(payload);
  });

  test('table items are validated like props: bad apps and rows are dropped', () => {
    expect(parseCustomerItem({ customer: 'globex', apps: [{ hostnames: ['a.test', 'bad host'], upstreamAddress: '10.0.0.9' }] }))
      .toEqual({ name: 'globex', apps: [{ hostnames: ['a.test'], upstreamAddress: '10.0.0.9', upstreamPort: 443, upstreamProtocol: 'https' }] });
    expect(parseCustomerItem({ customer: 'x', apps: [{ hostnames: ['a.test'], upstreamAddress: 'http://evil/' }] })).toBeUndefined();
    expect(parseCustomerItem({ customer: '<b>', apps: [] })).toBeUndefined();
    expect(parseCustomerItem({ customer: 'y', apps: [{ hostnames: ['a.test'], upstreamAddress: '10.0.0.1', upstreamPort: 70000 }] })).toBeUndefined();
  });
});

describe('runCheck', () => {
  const resolverOf = (table: Record<string, string[]>): Resolver => ({
    resolve4: async (h) => {
      if (!(h in table)) throw Object.assign(new Error(`queryA ENOTFOUND ${h}`), { code: 'ENOTFOUND' });
      return table[h].filter((a) => !a.includes(':'));
    },
    resolve6: async (h) => (table[h] ?? []).filter((a) => a.includes(':')),
  });
  const config = (doorPort: number, upstreamPort: number, hosts = ['shop.test', 'www.shop.test']): DebugConfig => ({
    customers: [{ name: 'acme', apps: [{ hostnames: hosts, upstreamAddress: '203.0.113.7', upstreamPort, upstreamProtocol: 'http' }] }],
    frontDoor: { dnsNames: ['waf.test'], ipAddresses: ['192.0.2.10'], egressIpAddresses: ['198.51.100.1'], port: doorPort, protocol: 'http' },
    requestTimeoutMs: 1000,
    concurrency: 2,
  });

  test('through the WAF: one row per hostname, sent to the front door with each Host', async () => {
    const door = await server(200);
    try {
      const c = config(door.port, 1);
      const results = await runCheck({ customer: 'acme', check: 'waf' }, c.customers[0], { config: c, location: 'inside', resolver: resolverOf({}), ...testNet });
      expect(results.map((r) => [r.host, r.target, r.reachable, r.status, r.finding])).toEqual([
        ['shop.test', `waf.test (198.51.100.20):${door.port}`, true, 200, ''],
        ['www.shop.test', `waf.test (198.51.100.20):${door.port}`, true, 200, ''],
      ]);
      expect(door.seen.map((s) => s.host).sort()).toEqual(['shop.test', 'www.shop.test']);
    } finally {
      await door.close();
    }
  });

  test('a WAF answering 503 is a finding naming the status', async () => {
    const door = await server(503);
    try {
      const c = config(door.port, 1, ['shop.test']);
      const [r] = await runCheck({ customer: 'acme', check: 'waf' }, c.customers[0], { config: c, location: 'outside', resolver: resolverOf({}), ...testNet });
      expect(r.finding).toBe('the WAF answered HTTP 503: a server error');
    } finally {
      await door.close();
    }
  });

  test('direct to the upstream: must answer from inside, must not from outside', async () => {
    const upstream = await server(200);
    try {
      const c = config(1, upstream.port, ['shop.test']);
      const [inside] = await runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], { config: c, location: 'inside', resolver: resolverOf({}), ...testNet });
      expect(inside).toEqual(expect.objectContaining({ reachable: true, finding: '' }));
      const [outside] = await runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], { config: c, location: 'outside', resolver: resolverOf({}), ...testNet });
      expect(outside.finding).toContain('answers from outside the WAF: anyone can bypass the WAF; allow only the WAF\'s egress addresses (198.51.100.1)');
      expect(upstream.seen[0].host).toBe('shop.test');
    } finally {
      await upstream.close();
    }
    const c = config(1, await closedPort(), ['shop.test']);
    const [closed] = await runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], { config: c, location: 'outside', resolver: resolverOf({}), ...testNet });
    expect(closed).toEqual(expect.objectContaining({ reachable: false, finding: '' }));
    const [down] = await runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], { config: c, location: 'inside', resolver: resolverOf({}), ...testNet });
    expect(down.finding).toMatch(/^upstream 203\.0\.113\.7:\d+ cannot be reached \(ECONNREFUSED/);
  });

  test('DNS: every answer must be a front-door address (static, or what the front-door names resolve to)', async () => {
    const c = config(1, 1, ['shop.test', 'www.shop.test', 'old.shop.test', 'gone.shop.test']);
    const resolver = resolverOf({
      'waf.test': ['198.51.100.20'],
      'shop.test': ['192.0.2.10'],
      'www.shop.test': ['198.51.100.20', '2001:db8::1'],
      'old.shop.test': ['203.0.113.50'],
    });
    const rows = await runCheck({ customer: 'acme', check: 'dns' }, c.customers[0], { config: c, location: 'outside', resolver, ...testNet });
    expect(rows.map((r) => [r.host, r.finding])).toEqual([
      ['shop.test', ''],
      ['www.shop.test', 'www.shop.test resolves to 2001:db8::1, not a WAF front-door address: traffic to it bypasses the WAF; point the record at the WAF'],
      ['old.shop.test', 'old.shop.test resolves to 203.0.113.50, not a WAF front-door address: traffic to it bypasses the WAF; point the record at the WAF'],
      ['gone.shop.test', 'gone.shop.test does not resolve (queryA ENOTFOUND gone.shop.test): check the DNS records'],
    ]);
  });
});

describe('checker handler', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  beforeEach(() => ddb.reset());
  const logged: Array<{ level: string; attributes: Record<string, any> }> = [];
  const logger = {
    info: (_m: string, a?: Record<string, unknown>) => logged.push({ level: 'info', attributes: a ?? {} }),
    warn: (_m: string, a?: Record<string, unknown>) => logged.push({ level: 'warn', attributes: a ?? {} }),
    error: (_m: string, a?: Record<string, unknown>) => logged.push({ level: 'error', attributes: a ?? {} }),
  };

  test('customers from the table are checked; one log event per host; a payload naming a host is refused before any request', async () => {
    const door = await server(200);
    try {
      const config: DebugConfig = {
        customers: [],
        customersTableName: 'customers',
        frontDoor: { dnsNames: ['waf.test'], ipAddresses: [], egressIpAddresses: [], port: door.port, protocol: 'http' },
        requestTimeoutMs: 1000,
        concurrency: 4,
      };
      ddb.on(ScanCommand).resolves({ Items: [{ customer: 'globex', apps: [{ hostnames: ['a.test', 'b.test'], upstreamAddress: '10.9.9.9' }] }] });
      const handler = createCheckerHandler({
        env: { [DEBUG_CONFIG_ENV]: JSON.stringify(config), [CHECKER_LOCATION_ENV]: 'inside' },
        ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
        resolver: { resolve4: async () => [], resolve6: async () => [] },
        ...testNet,
        logger,
      });
      logged.length = 0;
      const out = await handler({ customer: 'globex', check: 'waf' });
      expect(out.results!.map((r) => [r.host, r.location, r.status])).toEqual([['a.test', 'inside', 200], ['b.test', 'inside', 200]]);
      expect(logged.filter((l) => l.attributes.event === 'debug-check').map((l) => l.attributes.host)).toEqual(['a.test', 'b.test']);
      expect(ddb.commandCalls(ScanCommand)[0].args[0].input.TableName).toBe('customers');
      const refused = await handler({ customer: 'globex', check: 'waf', upstreamAddress: '169.254.169.254' });
      expect(refused).toEqual({ error: 'unexpected fields: upstreamAddress; only customer and check are accepted' });
      expect(door.seen).toHaveLength(2);
    } finally {
      await door.close();
    }
  });
});
