import { BlockRow } from './block-store';

export interface DigestInput {
  readonly guardName: string;
  /** When the digest is sent: rows that reached WAF before, or ended before, are marked as announced late. */
  readonly at?: number;
  readonly blocked: readonly BlockRow[];
  readonly wouldBlock: readonly BlockRow[];
  readonly released: readonly BlockRow[];
  readonly overCap: readonly BlockRow[];
  /** Over the threshold, but their IPv6 prefix holds an allow-listed address: kept out of the IP sets. */
  readonly shielded?: readonly BlockRow[];
  /** Over the threshold (or blocked by hand), but their network holds a trusted proxy: kept out of the IP sets. */
  readonly holdsProxy?: readonly BlockRow[];
  /** What operators did by hand since the last digest. */
  readonly manual?: ManualDigest;
}

export interface ManualDigest {
  readonly blocked: readonly BlockRow[];
  readonly extended: readonly BlockRow[];
  readonly unblocked: readonly BlockRow[];
  readonly allowed: readonly BlockRow[];
  readonly allowEnded: readonly BlockRow[];
}

const NO_MANUAL: ManualDigest = { blocked: [], extended: [], unblocked: [], allowed: [], allowEnded: [] };

export interface DigestMessage {
  readonly subject: string;
  readonly body: string;
  /** SNS message attributes, so subscribers can filter and programs can act without parsing the text. */
  readonly attributes: Record<string, { DataType: 'String' | 'Number'; StringValue: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Rows listed per section. A large burst must still fit SNS's 256 KB message limit (about 150 B a line); the counts
 * in the subject and attributes stay exact.
 */
export const MAX_ROWS_PER_SECTION = 100;

/** Bytes of listed rows per section, so that one long section leaves room for the others. */
const MAX_SECTION_BYTES = 40_000;

/**
 * Bytes of listed rows in the whole body, and of the `changes` attribute: with the subject, the other attributes and
 * the sections' titles they stay under SNS's 256 KB (262,144 bytes) whatever the rows hold. A digest over it would
 * be refused by every run, and with it every alert and release behind it.
 */
const MAX_BODY_BYTES = 160_000;
const MAX_CHANGES_BYTES = 80_000;

/** What is left of a byte budget. */
interface Budget { left: number }

function section(title: string, rows: readonly BlockRow[], line: (row: BlockRow) => string, body: Budget): string[] {
  if (rows.length === 0) return [];
  const lines: string[] = [];
  const cap = Math.min(MAX_SECTION_BYTES, body.left);
  let bytes = 0;
  for (const row of rows.slice(0, MAX_ROWS_PER_SECTION)) {
    const text = line(row);
    const size = Buffer.byteLength(text) + 1;
    if (bytes + size > cap) break;
    lines.push(text);
    bytes += size;
  }
  body.left -= bytes;
  const more = rows.length - lines.length;
  return [title, ...lines, ...(more > 0 ? [`  ... and ${more} more`] : []), ''];
}

/**
 * Why an announcement comes late, or '' when it does not: alerts failed (or the run that claimed them stopped) after
 * the block reached WAF, or until it ended.
 */
function lateness(row: BlockRow, at: number | undefined): string {
  if (at === undefined) return '';
  if (row.appliedAt !== undefined && row.appliedAt < at) return `in WAF since ${iso(row.appliedAt)} at the latest`;
  return row.blockedUntil <= at ? `ended ${iso(row.blockedUntil)}` : '';
}

function describer(at: number | undefined): (row: BlockRow) => string {
  return (row) => {
    const renewed = row.renewedFrom ? ' (renewed: still over the threshold when the last block ended)' : '';
    const proxied = row.route === 'PROXY' || row.route === 'BOTH' ? ' (behind a trusted proxy)' : '';
    const late = lateness(row, at);
    return `  ${row.ip}  rule ${row.ruleId} (host ${row.host}): ${row.observed} requests in ${row.windowSeconds} s, threshold ${row.threshold}, until ${iso(row.blockedUntil)}${proxied}${renewed}${late ? ` (announced late: ${late})` : ''}`;
  };
}

/** Who did it, through what, and why: the digest names the operator of every manual action. */
function byWhom(row: BlockRow): string {
  return `by ${row.manualBy ?? 'unknown'} (${row.manualVia ?? 'unknown'}): ${row.manualReason ?? ''}`;
}

function manualLine(row: BlockRow, what: string): string {
  const rule = row.ruleId === '#manual' || row.cidr !== undefined ? '' : ` rule ${row.ruleId} (host ${row.host})`;
  return `  ${row.cidr ?? row.ip}${rule}: ${what} ${byWhom(row)}`;
}

/** A block kept out of the IP sets: a manual one by who blocked it, an automatic one by its counts. */
function notAppliedLine(describe: (row: BlockRow) => string): (row: BlockRow) => string {
  return (row) => (row.manualAction === 'BLOCK' ? manualLine(row, `blocked by hand until ${iso(row.blockedUntil)}`) : describe(row));
}

/** One message per sync run listing what changed; undefined when nothing did. */
export function renderDigest(input: DigestInput): DigestMessage | undefined {
  const { blocked, wouldBlock, released, overCap } = input;
  const describe = describer(input.at);
  const body: Budget = { left: MAX_BODY_BYTES };
  const listed = (title: string, rows: readonly BlockRow[], line: (row: BlockRow) => string) => section(title, rows, line, body);
  const shielded = input.shielded ?? [];
  const holdsProxy = input.holdsProxy ?? [];
  const manual = input.manual ?? NO_MANUAL;
  const manualCount = manual.blocked.length + manual.extended.length + manual.unblocked.length + manual.allowed.length + manual.allowEnded.length;
  const notApplied = shielded.length + holdsProxy.length;
  if (blocked.length + wouldBlock.length + released.length + overCap.length + notApplied + manualCount === 0) return undefined;
  const parts: string[] = [];
  if (manual.blocked.length) parts.push(`${manual.blocked.length} blocked by hand`);
  if (manual.unblocked.length) parts.push(`${manual.unblocked.length} unblocked by hand`);
  if (manual.extended.length) parts.push(`${manual.extended.length} extended`);
  if (manual.allowed.length + manual.allowEnded.length) parts.push('allow-list changed');
  if (blocked.length) parts.push(`${blocked.length} blocked`);
  if (wouldBlock.length) parts.push(`${wouldBlock.length} would be blocked`);
  if (released.length) parts.push(`${released.length} released`);
  if (overCap.length) parts.push(`${overCap.length} over the IP set limit`);
  if (shielded.length) parts.push(`${shielded.length} not blocked (allow-list)`);
  if (holdsProxy.length) parts.push(`${holdsProxy.length} not blocked (trusted proxy)`);
  // SNS subjects: at most 100 ASCII characters, no line breaks.
  const subject = `[${input.guardName}] ${parts.join(', ')}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  const lines: string[] = [
    ...listed('Blocked by hand:', manual.blocked, (r) => manualLine(r, `until ${iso(r.blockedUntil)}`)),
    ...listed('Unblocked by hand (released now):', manual.unblocked, (r) => manualLine(r,
      r.shieldUntil ? `automatic blocks refused until ${iso(r.shieldUntil)}` : 'no shield')),
    ...listed('Extended by hand:', manual.extended, (r) => manualLine(r, `now until ${iso(r.blockedUntil)}`)),
    ...listed('Allow-listed by hand:', manual.allowed, (r) => manualLine(r,
      r.blockedUntil >= 253_402_300_799_000 ? 'no end' : `until ${iso(r.blockedUntil)}`)),
    ...listed('Allow-list entries ended:', manual.allowEnded, (r) => (r.manualAction === 'UNALLOW'
      ? manualLine(r, 'removed') : `  ${r.cidr ?? r.ip}: ended ${iso(r.blockedUntil)}`)),
    ...listed('Blocked in WAF:', blocked, describe),
    ...listed('Would be blocked (COUNT rules; WAF unchanged):', wouldBlock, describe),
    ...listed('Released:', released, (r) => `  ${r.ip}  rule ${r.ruleId} (host ${r.host}): block ended ${iso(r.blockedUntil)}`),
    ...listed(
      'NOT blocked: the WAF IP set is full (10,000 addresses); the most severe offenders were kept. Consider a shorter\nblock period or a stricter rule. Left out:',
      overCap, describe),
    ...listed(
      'NOT blocked: the prefix holds an allow-listed address, so the whole prefix stays out of the IP sets:',
      shielded, notAppliedLine(describe)),
    ...listed(
      'NOT blocked: the network holds a trusted proxy, so blocking it would block every client behind that proxy; it stays\nout of the IP sets. Block the offender by a narrower network (a longer prefix) if it must be stopped:',
      holdsProxy, notAppliedLine(describe)),
  ];
  lines.push(`Sent by ${input.guardName} (cdk-waf-guard).`);
  return {
    subject,
    body: lines.join('\n'),
    attributes: {
      guard: { DataType: 'String', StringValue: input.guardName },
      blocked: { DataType: 'Number', StringValue: String(blocked.length) },
      wouldBlock: { DataType: 'Number', StringValue: String(wouldBlock.length) },
      released: { DataType: 'Number', StringValue: String(released.length) },
      overCap: { DataType: 'Number', StringValue: String(overCap.length) },
      notBlockedAllowListed: { DataType: 'Number', StringValue: String(shielded.length) },
      notBlockedTrustedProxy: { DataType: 'Number', StringValue: String(holdsProxy.length) },
      manualActions: { DataType: 'Number', StringValue: String(manualCount) },
      // For programs: the changes as JSON, capped like the text.
      changes: { DataType: 'String', StringValue: JSON.stringify(changes(input)) },
    },
  };
}

/** The events that announce a block's start, which can come late. */
const LATE_EVENTS = new Set(['blocked', 'wouldBlock', 'manualBlocked']);

/** An entry of the `changes` attribute. */
interface DigestChange { event: string; ip: string; ruleId: string; host: string; until: string; late?: boolean }

function changes(input: DigestInput): DigestChange[] {
  // Rule ids and hosts are cut so that the attribute stays small whatever operators named their rules; entries stop
  // at the attribute's budget.
  const budget: Budget = { left: MAX_CHANGES_BYTES };
  const entries = (event: string, rows: readonly BlockRow[]) => {
    const out: DigestChange[] = [];
    for (const r of rows.slice(0, MAX_ROWS_PER_SECTION)) {
      const entry = {
        event,
        ip: r.ip,
        ruleId: r.ruleId.slice(0, 64),
        host: r.host.slice(0, 64),
        until: iso(r.blockedUntil),
        ...(LATE_EVENTS.has(event) && lateness(r, input.at) ? { late: true } : {}),
      };
      const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
      if (size > budget.left) break;
      budget.left -= size;
      out.push(entry);
    }
    return out;
  };
  return [
    ...entries('blocked', input.blocked),
    ...entries('wouldBlock', input.wouldBlock),
    ...entries('released', input.released),
    ...entries('overCap', input.overCap),
    ...entries('notBlockedAllowListed', input.shielded ?? []),
    ...entries('notBlockedTrustedProxy', input.holdsProxy ?? []),
    ...entries('manualBlocked', input.manual?.blocked ?? []),
    ...entries('unblocked', input.manual?.unblocked ?? []),
    ...entries('extended', input.manual?.extended ?? []),
  ];
}
