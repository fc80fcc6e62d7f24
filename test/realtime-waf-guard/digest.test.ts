import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { MAX_ROWS_PER_SECTION, renderDigest } from '../../src/realtime-waf-guard/runtime/digest';
import { blockRow } from '../support/block-rows';
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

  // Announced late after an outage, every line and change says so, and it all still fits.
  const late = rows.map((r) => ({ ...r, appliedAt: 1_699_999_000_000 }));
  const after = renderDigest({ guardName: 'g'.repeat(64), at: 1_700_000_060_000, blocked: late, wouldBlock: late, released: late, overCap: late })!;
  const lateAttributes = Object.entries(after.attributes).reduce((n, [k, v]) => n + k.length + v.DataType.length + v.StringValue.length, 0);
  expect(Buffer.byteLength(after.body) + lateAttributes).toBeLessThan(256 * 1024);
  expect(after.body).toContain('(announced late: in WAF since 2023-11-14T21:56:40Z at the latest)');
});

test('a start announced after the block reached WAF or ended is marked late; releases and manual actions are not', () => {
  const row = (ip: string, over: Partial<BlockRow>): BlockRow => blockRow(ip, 0, { blockedUntil: 200_000, firstSeenAt: 0, crossedAt: 0, ...over });
  const at = 100_000;
  const onTime = row('192.0.2.1', { appliedAt: at });
  const afterOutage = row('192.0.2.2', { appliedAt: 40_000 });
  const endedDry = row('192.0.2.3', { action: 'COUNT', blockedUntil: 90_000 });
  const digest = renderDigest({
    guardName: 'g',
    at,
    blocked: [onTime, afterOutage],
    wouldBlock: [endedDry],
    released: [afterOutage],
    overCap: [],
    manual: { blocked: [], extended: [afterOutage], unblocked: [row('192.0.2.4', { blockedUntil: at, manualAction: 'UNBLOCK' })], allowed: [], allowEnded: [] },
  })!;
  const changes = JSON.parse(digest.attributes.changes.StringValue) as Array<{ event: string; ip: string; late?: boolean }>;
  expect(changes.map((c) => `${c.event} ${c.ip}${c.late ? ' late' : ''}`)).toEqual([
    'blocked 192.0.2.1', 'blocked 192.0.2.2 late', 'wouldBlock 192.0.2.3 late', 'released 192.0.2.2', 'unblocked 192.0.2.4', 'extended 192.0.2.2',
  ]);
  expect(digest.body).toContain('192.0.2.2  rule api (host api.example.com): 40 requests in 60 s, threshold 20, until 1970-01-01T00:03:20Z (announced late: in WAF since 1970-01-01T00:00:40Z at the latest)');
  expect(digest.body).toContain('192.0.2.3  rule api (host api.example.com): 40 requests in 60 s, threshold 20, until 1970-01-01T00:01:30Z (announced late: ended 1970-01-01T00:01:30Z)');
  expect(digest.body).not.toMatch(/192\.0\.2\.1 .*late/);
});

test('every section full at once, with the longest names and multi-byte reasons, still fits one SNS message', () => {
  const row = (n: number): BlockRow => blockRow(`2001:db8:ffff:ffff:ffff:ffff:${(n % 65536).toString(16)}:1`, 0, {
    ruleId: 'régle-'.repeat(40),
    host: `${'h'.repeat(60)}.${'x'.repeat(60)}.example.com`,
    observed: 123456,
    threshold: 100000,
    windowSeconds: 3600,
    manualBy: 'arn:aws:sts::123456789012:assumed-role/' + 'Ω'.repeat(100),
    manualReason: '攻撃'.repeat(250),
    manualVia: 'cli',
    shieldUntil: 1_700_000_000_000,
    appliedAt: 1,
  });
  const rows = Array.from({ length: 500 }, (_, i) => row(i));
  const digest = renderDigest({
    guardName: 'g'.repeat(64),
    at: 1_700_000_000_000,
    blocked: rows,
    wouldBlock: rows,
    released: rows,
    overCap: rows,
    shielded: rows,
    manual: { blocked: rows, extended: rows, unblocked: rows, allowed: rows, allowEnded: rows },
  })!;
  const attributes = Object.entries(digest.attributes)
    .reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v.DataType) + Buffer.byteLength(v.StringValue), 0);
  // SNS's limit counts the message and its attributes together, in bytes.
  expect(Buffer.byteLength(digest.body) + Buffer.byteLength(digest.subject) + attributes).toBeLessThan(256 * 1024);
  // Every section still shows, and the counts stay exact.
  for (const title of ['Blocked by hand:', 'Blocked in WAF:', 'Released:', 'NOT blocked: the prefix holds']) expect(digest.body).toContain(title);
  expect(digest.attributes.blocked.StringValue).toBe('500');
  expect(digest.body).toMatch(/\.\.\. and \d+ more/);
});
