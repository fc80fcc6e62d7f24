import { createServer, Server } from 'http';
import { AddressInfo, Socket } from 'net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createCheckerHandler } from '../../src/elastic-monitoring/debug-checker.lambda';
import {
  CHECKER_LOCATION_ENV, DEBUG_CONFIG_ENV, DebugConfig, Lookup, pinTarget, runCheck, systemLookup,
} from '../../src/elastic-monitoring/runtime/debug-checks';

/** A listener counting every TCP connection it accepts (and answering HTTP 200 to whatever arrives). */
async function listener(host: string, port = 0): Promise<{ port: number; connections: () => number; close: () => Promise<void> } | undefined> {
  let count = 0;
  const sockets: Socket[] = [];
  const s: Server = createServer((_req, res) => { res.writeHead(200); res.end(); });
  s.on('connection', (socket) => { count++; sockets.push(socket); });
  try {
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, host, resolve); });
  } catch {
    return undefined; // e.g. no IPv6 loopback on this machine
  }
  return {
    port: (s.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise((r) => { sockets.forEach((k) => k.destroy()); s.close(() => r()); }),
  };
}

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

const config = (port: number, door: string[] = ['waf.example.com']): DebugConfig => ({
  customers: [],
  customersTableName: 'customers',
  frontDoor: { dnsNames: door, ipAddresses: [], egressIpAddresses: [], port, protocol: 'http' },
  requestTimeoutMs: 1000,
  concurrency: 4,
});

describe('a loopback listener receives no connection, whatever the spelling in a table row', () => {
  const spellings = ['127.0.0.1', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '::ffff:127.0.0.1', '::1', 'localhost', 'LOCALHOST.', '0', '0.0.0.0', '::'];
  let v4: Awaited<ReturnType<typeof listener>>;
  let v6: Awaited<ReturnType<typeof listener>>;
  beforeAll(async () => {
    v4 = await listener('127.0.0.1');
    v6 = await listener('::1', v4!.port);
  });
  afterAll(async () => {
    await v4?.close();
    await v6?.close();
  });

  test.each(['inside', 'outside'])('upstream check from %s, with the system resolver', async (where) => {
    const port = v4!.port;
    ddb.on(ScanCommand).resolves({
      Items: spellings.map((upstreamAddress, i) => ({ customer: `c${i}`, apps: [{ hostnames: [`h${i}.example.com`], upstreamAddress, upstreamPort: port, upstreamProtocol: 'http' }] })),
    });
    const handler = createCheckerHandler({
      env: { [DEBUG_CONFIG_ENV]: JSON.stringify(config(port)), [CHECKER_LOCATION_ENV]: where },
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      resolver: { resolve4: async () => [], resolve6: async () => [] },
      lookup: systemLookup,
      logger,
    });
    for (const [i, spelled] of spellings.entries()) {
      const out = await handler({ customer: `c${i}`, check: 'upstream' });
      expect(out.results).toHaveLength(1);
      const [r] = out.results!;
      expect([spelled, r.reachable, r.notContacted]).toEqual([spelled, false, expect.stringMatching(/is an? (loopback|unspecified) (address|name)/)]);
      expect(r.finding).toMatch(/was not contacted: .*the checkers never contact it/);
    }
    expect(v4!.connections()).toBe(0);
    expect(v6?.connections() ?? 0).toBe(0);
  });

  test.each(spellings)('upstream %s from props (deployed before synth refused it, or given as a token)', async (upstreamAddress) => {
    const c: DebugConfig = {
      ...config(v4!.port),
      customersTableName: undefined,
      customers: [{ name: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress, upstreamPort: v4!.port, upstreamProtocol: 'http' }] }],
    };
    const handler = createCheckerHandler({
      env: { [DEBUG_CONFIG_ENV]: JSON.stringify(c), [CHECKER_LOCATION_ENV]: 'inside' },
      resolver: { resolve4: async () => [], resolve6: async () => [] },
      lookup: systemLookup,
      logger,
    });
    const [r] = (await handler({ customer: 'acme', check: 'upstream' })).results!;
    expect(r.finding).toMatch(/was not contacted: .*; set the upstream address to its routable address or DNS name$/);
    expect(v4!.connections()).toBe(0);
    expect(v6?.connections() ?? 0).toBe(0);
  });

  test.each(spellings)('front door %s from props (WAF check)', async (door) => {
    ddb.on(ScanCommand).resolves({ Items: [{ customer: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: '203.0.113.7' }] }] });
    const handler = createCheckerHandler({
      env: { [DEBUG_CONFIG_ENV]: JSON.stringify(config(v4!.port, [door])), [CHECKER_LOCATION_ENV]: 'inside' },
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      resolver: { resolve4: async () => [], resolve6: async () => [] },
      lookup: systemLookup,
      logger,
    });
    const [r] = (await handler({ customer: 'acme', check: 'waf' })).results!;
    expect(r.finding).toMatch(/^the WAF was not contacted: /);
    expect(v4!.connections()).toBe(0);
    expect(v6?.connections() ?? 0).toBe(0);
  });
});

describe('names are resolved once and every answer is judged', () => {
  const lookupOf = (table: Record<string, string[]>): Lookup => async (host) => (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  test.each([
    ['meta.example.com', ['169.254.169.254'], /meta\.example\.com resolves to 169\.254\.169\.254 is a metadata address/],
    ['meta6.example.com', ['fd00:ec2::254'], /resolves to fd00:ec2::254 is a metadata address/],
    ['mapped.example.com', ['::ffff:169.254.169.254'], /IPv4-mapped form of 169\.254\.169\.254/],
    ['mixed.example.com', ['203.0.113.7', '127.0.0.1'], /resolves to 127\.0\.0\.1 is a loopback address/],
    ['ecs.example.com', ['169.254.170.2'], /ECS task metadata/],
    ['gone.example.com', [], /does not resolve/],
  ])('%s -> %j is not contacted', async (name, answers, reason) => {
    const routed: string[] = [];
    const c: DebugConfig = {
      customers: [{ name: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: name, upstreamPort: 80, upstreamProtocol: 'http' }] }],
      frontDoor: { dnsNames: ['waf.example.com'], ipAddresses: [], egressIpAddresses: [], port: 80, protocol: 'http' },
      requestTimeoutMs: 1000,
      concurrency: 1,
    };
    const [r] = await runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], {
      config: c,
      location: 'inside',
      resolver: { resolve4: async () => [], resolve6: async () => [] },
      lookup: lookupOf({ [name]: answers }),
      route: (a) => { routed.push(a); return a; },
    });
    expect(r.notContacted).toMatch(reason);
    expect(r.finding).toMatch(/^upstream .* was not contacted: /);
    expect(routed).toEqual([]);
  });

  test('DNS rebinding: the connection goes to the address that was checked, not to a second answer', async () => {
    // The attacker's name answers a public address first and loopback afterwards.
    let asked = 0;
    const rebinding: Lookup = async () => [{ address: asked++ === 0 ? '203.0.113.9' : '127.0.0.1', family: 4 }];
    const victim = (await listener('127.0.0.1'))!;
    // The checked public address stands for a server: its socket goes to a listener on 127.0.0.2, same port.
    const server = (await listener('127.0.0.2', victim.port))!;
    try {
      const pinned = await pinTarget('rebind.example.com', false, rebinding);
      expect(pinned).toEqual({ address: '203.0.113.9' });
      asked = 0;
      const c: DebugConfig = {
        customers: [{ name: 'acme', apps: [{ hostnames: ['a.example.com', 'b.example.com', 'c.example.com'], upstreamAddress: 'rebind.example.com', upstreamPort: victim.port, upstreamProtocol: 'http' }] }],
        frontDoor: { dnsNames: ['waf.example.com'], ipAddresses: [], egressIpAddresses: [], port: 80, protocol: 'http' },
        requestTimeoutMs: 1000,
        concurrency: 1,
      };
      const results = await runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], {
        config: c,
        location: 'inside',
        resolver: { resolve4: async () => [], resolve6: async () => [] },
        lookup: rebinding,
        route: (a) => (a === '203.0.113.9' ? '127.0.0.2' : a),
      });
      // Resolved once for the run: every host goes to the checked address; the later loopback answer is never asked for.
      expect(results.map((r) => [r.host, r.reachable, r.status, r.target])).toEqual(['a', 'b', 'c'].map((h) => [
        `${h}.example.com`, true, 200, `rebind.example.com (203.0.113.9):${victim.port}`,
      ]));
      expect(asked).toBe(1);
      expect(server.connections()).toBe(3);
      expect(victim.connections()).toBe(0);
    } finally {
      await victim.close();
      await server.close();
    }
  });
});

test('a private upstream: contacted from inside the VPC, shown as not contacted from outside (no finding)', async () => {
  const up = (await listener('127.0.0.1'))!;
  try {
    const c: DebugConfig = {
      customers: [{ name: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: '10.0.5.5', upstreamPort: up.port, upstreamProtocol: 'http' }] }],
      frontDoor: { dnsNames: ['waf.example.com'], ipAddresses: [], egressIpAddresses: [], port: 80, protocol: 'http' },
      requestTimeoutMs: 1000,
      concurrency: 1,
    };
    // 10.0.5.5 stands for the upstream inside the VPC; its socket goes to the local listener.
    const run = (location: 'inside' | 'outside') => runCheck({ customer: 'acme', check: 'upstream' }, c.customers[0], {
      config: c,
      location,
      resolver: { resolve4: async () => [], resolve6: async () => [] },
      lookup: async () => [],
      route: (a) => (a === '10.0.5.5' ? '127.0.0.1' : a),
    });
    const [inside] = await run('inside');
    expect([inside.reachable, inside.status, inside.finding, inside.notContacted]).toEqual([true, 200, '', undefined]);
    const [outside] = await run('outside');
    expect([outside.reachable, outside.finding]).toEqual([false, '']);
    expect(outside.notContacted).toBe('10.0.5.5 is a private address (10.0.0.0/8): only the checker inside the VPC contacts private addresses');
    expect(up.connections()).toBe(1);
  } finally {
    await up.close();
  }
});

describe('a redirect is reported, never followed, never OK', () => {
  test.each([
    [301, 'elsewhere', /^the WAF answered HTTP 301, a redirect to http:\/\/127\.0\.0\.1:\d+\/admin<x> \(not followed\): the site itself was not checked/],
    [302, undefined, /^upstream 203\.0\.113\.7:\d+ answered HTTP 302, a redirect without a Location header \(not followed\)/],
    [308, '/login', /answered HTTP 308, a redirect to \/login \(not followed\)/],
  ])('HTTP %s to %s', async (status, where, finding) => {
    const paths: string[] = [];
    const other = (await listener('127.0.0.1'))!;
    const s = createServer((req, res) => {
      paths.push(req.url ?? '');
      const location = where === 'elsewhere' ? `http://127.0.0.1:${other.port}/admin<x>` : where;
      res.writeHead(status, location ? { location } : {});
      res.end();
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    try {
      const check = where === 'elsewhere' ? 'waf' as const : 'upstream' as const;
      const c: DebugConfig = {
        customers: [{ name: 'acme', apps: [{ hostnames: ['shop.example.com'], upstreamAddress: '203.0.113.7', upstreamPort: port, upstreamProtocol: 'http' }] }],
        frontDoor: { dnsNames: [], ipAddresses: ['198.51.100.20'], egressIpAddresses: [], port, protocol: 'http' },
        requestTimeoutMs: 1000,
        concurrency: 1,
      };
      const [r] = await runCheck({ customer: 'acme', check }, c.customers[0], {
        config: c,
        location: 'inside',
        resolver: { resolve4: async () => [], resolve6: async () => [] },
        lookup: async () => [],
        route: () => '127.0.0.1',
      });
      expect(r.status).toBe(status);
      expect(r.finding).toMatch(finding);
      expect(r.redirectTo).toBe(where === 'elsewhere' ? `http://127.0.0.1:${other.port}/admin<x>` : where ?? '');
      expect(paths).toEqual(['/']);
      expect(other.connections()).toBe(0);
    } finally {
      await other.close();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
