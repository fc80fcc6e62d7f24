import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { MAX_ROWS_PER_SECTION, renderDigest } from '../../src/realtime-waf-guard/runtime/digest';
describe('renderDigest', () => {
  const block = (n: number): BlockRow => ({
    ip: `198.51.${Math.floor(n / 256)}.${n % 256}`,
    ruleId: 'api',
    family: 4 as const,
    host: 'api.example.com',
    action: 'BLOCK' as const,
    observed: 40,
    threshold: 20,
    windowSeconds: 60,
    severity: 2,
    firstSeenAt: 0,
    crossedAt: 0,
    blockedAt: 0,
    blockedUntil: 1_700_000_000_000,
    expiresAt: 0,
  });

  test('a burst stays within SNS limits: lines are capped, counts stay exact, programs get JSON', () => {
    const blocked = Array.from({ length: 2500 }, (_, i) => block(i));
    const digest = renderDigest({ guardName: 'g', blocked, wouldBlock: [], released: [], overCap: [] });
    expect(digest!.subject).toBe('[g] 2500 blocked');
    expect(digest!.body).toContain(`... and ${2500 - MAX_ROWS_PER_SECTION} more`);
    expect(Buffer.byteLength(digest!.body) + Buffer.byteLength(digest!.attributes.changes.StringValue)).toBeLessThan(256 * 1024);
    expect(digest!.attributes.blocked.StringValue).toBe('2500');
    const changes = JSON.parse(digest!.attributes.changes.StringValue);
    expect(changes).toHaveLength(MAX_ROWS_PER_SECTION);
    expect(changes[0]).toEqual({ event: 'blocked', ip: '198.51.0.0', ruleId: 'api', host: 'api.example.com', until: '2023-11-14T22:13:20Z' });
  });

  test('renewals say so; nothing to say gives no message', () => {
    const digest = renderDigest({ guardName: 'g', blocked: [{ ...block(1), renewedFrom: 1 }], wouldBlock: [], released: [], overCap: [] });
    expect(digest!.body).toContain('(renewed: still over the threshold when the last block ended)');
    expect(renderDigest({ guardName: 'g', blocked: [], wouldBlock: [], released: [], overCap: [] })).toBeUndefined();
  });
});

test('rule ids and hosts at their longest still fit in one SNS message', () => {
  const long = (n: number): BlockRow => ({
    ip: `2001:db8:ffff:ffff:ffff:ffff:${(n % 65536).toString(16)}:1`,
    ruleId: 'r'.repeat(256),
    family: 6,
    host: `${'h'.repeat(60)}.${'x'.repeat(60)}.example.com`,
    action: 'BLOCK',
    observed: 123456,
    threshold: 100000,
    windowSeconds: 3600,
    severity: 1.2,
    firstSeenAt: 0,
    crossedAt: 0,
    blockedAt: 0,
    blockedUntil: 1_700_000_000_000,
    expiresAt: 0,
  });
  const rows = Array.from({ length: 500 }, (_, i) => long(i));
  const digest = renderDigest({ guardName: 'g'.repeat(64), blocked: rows, wouldBlock: rows, released: rows, overCap: rows })!;
  const attributes = Object.entries(digest.attributes).reduce((n, [k, v]) => n + k.length + v.DataType.length + v.StringValue.length, 0);
  expect(Buffer.byteLength(digest.body) + attributes).toBeLessThan(256 * 1024);
  expect(digest.body).toMatch(/\.\.\. and \d+ more/);
});
