import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow, ManualAction } from './block-store';
import { Cidr, CidrSet, DEFAULT_IPV6_PREFIX_LENGTH, parseCidr, WIDEST_PREFIX } from './ip';
import { isConditionFailure, scanAll } from '../../shared/runtime/dynamo';

/**
 * Operators' actions on the blocks table, shared by the dashboard's custom widget and the CLI. The table stays the
 * single source of truth: an action only writes rows, and the IP-set sync applies, announces and records it through the
 * same claims as an automatic block, so a manual action is alerted and in history exactly like one.
 */

/** Rule id of blocks made by hand: never a rule's, so a manual block and an automatic one of a client are separate rows. */
export const MANUAL_RULE_ID = '#manual';
/** Partition of the run-time allow-list and shield rows (sort key `ALLOW#<cidr>` or `SHIELD#<cidr>`). */
export const CONTROL_PARTITION = '#allow';
/** `blockedUntil` of an allow-list entry without an end (9999-12-31). */
export const NO_END_MS = 253_402_300_799_000;

/** Manual blocks outrank automatic ones when an IP set is full: an operator's decision is never the one left out. */
export const MANUAL_SEVERITY = 1_000_000;

export const LIMITS = {
  /** Widest network blocked by hand; wider is a WAF rule's job, not a block list's. */
  minBlockPrefixV4: WIDEST_PREFIX.ipv4,
  minBlockPrefixV6: WIDEST_PREFIX.ipv6,
  maxPeriodMs: 90 * 86_400_000,
  minPeriodMs: 60_000,
  maxShieldMs: 30 * 86_400_000,
  maxReason: 256,
  maxOperator: 128,
} as const;

/** Who acts, and through what: an IAM ARN from the CLI, a name typed in the dashboard. */
export interface Operator {
  readonly name: string;
  readonly via: 'cli' | 'dashboard';
}

/** What an operator may do next when an action could not do all that was asked: the widget shows buttons, the CLI commands. */
export interface ActionChoice {
  readonly action: 'unblock' | 'allow';
  readonly target: string;
  /** What the choice does, for the operator. */
  readonly label: string;
}

/** A mistake in an action's input: shown to the operator as it is, with what they may do instead. */
export class ActionError extends Error {
  public readonly name = 'ActionError';
  constructor(message: string, public readonly choices: readonly ActionChoice[] = []) {
    super(message);
  }
}

/** The guard's settings the actions follow; the widget gets them from its environment, the CLI from the guard's stack. */
export interface OperatorSettings {
  /**
   * IPv6 clients are blocked per prefix of this length, so an IPv6 address an operator names stands for its client's prefix.
   * @default 64
   */
  readonly ipv6PrefixLength?: number;
  /**
   * Widest run-time allow-list entry, as IPv4 and IPv6 prefix lengths: a handful of wide entries would switch the guard off.
   * @default the widest manual block: /16 and /32
   */
  readonly allowListWidestPrefixIpv4?: number;
  readonly allowListWidestPrefixIpv6?: number;
}

/** Why a network is too wide for an action, or undefined. `/0` never gets this far: parseCidr refuses it. */
export function widthProblem(cidr: Cidr, minV4: number, minV6: number, what: string): string | undefined {
  const min = cidr.family === 4 ? minV4 : minV6;
  return cidr.prefix < min ? `${cidr.text} is wider than /${min}: ${what}` : undefined;
}

/** A row of the run-time allow-list (`ALLOW`) or an unblock's shield (`SHIELD`). */
export function isControlRow(row: { readonly ip: string }): boolean {
  return row.ip === CONTROL_PARTITION;
}

export function controlKind(row: BlockRow): 'ALLOW' | 'SHIELD' | undefined {
  if (!isControlRow(row)) return undefined;
  return row.ruleId.startsWith('SHIELD#') ? 'SHIELD' : 'ALLOW';
}

/** The network a block row covers, or undefined. */
export function rowNetwork(row: BlockRow): Cidr | undefined {
  const c = parseCidr(row.cidr ?? row.ip);
  return typeof c === 'string' ? undefined : c;
}

/** The networks of allow-list rows in force; with `shields`, those of unblocks' shields too. */
export function activeControlCidrs(rows: readonly BlockRow[], nowMs: number, shields: boolean): Cidr[] {
  return rows
    .filter((r) => isControlRow(r) && r.blockedUntil > nowMs && (shields || controlKind(r) === 'ALLOW'))
    .flatMap((r) => rowNetwork(r) ?? []);
}

/** Parses an address or prefix an operator typed. */
export function parseTarget(text: unknown): Cidr {
  if (typeof text !== 'string' || text.trim() === '') throw new ActionError('give an IPv4 or IPv6 address or prefix, e.g. 203.0.113.7 or 2001:db8::/64');
  const cidr = parseCidr(text.trim());
  if (typeof cidr === 'string') throw new ActionError(cidr);
  return cidr;
}

/** The key a network's block row has: a bare IPv4 address for a single host (as the detector writes it), else CIDR. */
export function blockKey(cidr: Cidr): string {
  return cidr.family === 4 && cidr.prefix === 32 ? cidr.text.slice(0, -3) : cidr.text;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds of "90s", "15m", "2h", "1d", "1w" (or a number of seconds). */
export function parsePeriod(value: unknown, what: string, min: number, max: number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$/.exec(String(value ?? ''));
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']) : NaN;
  if (!(ms >= min && ms <= max)) {
    throw new ActionError(`${what} must be a duration like "30m", "2h" or "1d", from ${shortDuration(min)} to ${shortDuration(max)} (got ${JSON.stringify(value)})`);
  }
  return ms;
}

export function shortDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** Text an operator typed, made safe to store and show: control characters gone, trimmed, length checked. */
export function cleanText(value: unknown, what: string, max: number): string {
  const text = String(value ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (text === '') throw new ActionError(`${what} is required`);
  if (text.length > max) throw new ActionError(`${what} is longer than ${max} characters`);
  return text;
}

export interface BlockRequest {
  readonly target: string;
  /** e.g. "2h" */
  readonly period: string;
  readonly reason: string;
  readonly operator: Operator;
}

export interface UnblockRequest {
  readonly target: string;
  readonly reason: string;
  readonly operator: Operator;
  /**
   * How long automatic blocks of the client are refused afterwards, e.g. "1h"; "0" for none.
   * @default "1h"
   */
  readonly shield?: string;
}

export interface ExtendRequest {
  readonly target: string;
  /** e.g. "1h" */
  readonly by: string;
  readonly reason: string;
  readonly operator: Operator;
}

export interface AllowRequest {
  readonly target: string;
  /** e.g. "7d"; undefined for no end. */
  readonly period?: string;
  readonly reason: string;
  readonly operator: Operator;
}

export const DEFAULT_SHIELD = '1h';

/** What an action changed, for the operator. */
export interface ActionResult {
  readonly message: string;
  readonly rows: BlockRow[];
  /** What the operator may do about what the action left alone (a wider block holding the client). */
  readonly choices?: readonly ActionChoice[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function who(operator: Operator): { name: string; via: string } {
  return { name: cleanText(operator.name, 'operator name', LIMITS.maxOperator), via: operator.via };
}

/** The rows of the blocks table (blocks, dry-run catches, allow-list and shield rows), read and written. */
export class OperatorActions {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly blocksTable: string,
    private readonly now: () => number = Date.now,
    private readonly settings: OperatorSettings = {},
  ) {}

  /**
   * The network a target names. A bare IPv6 address is its client, the prefix of the guard's ipv6PrefixLength (automatic
   * blocks are per client prefix); a CIDR names exactly that network, so a manual /128 never reaches its neighbours.
   */
  public clientTarget(text: unknown): Cidr {
    const cidr = parseTarget(text);
    const length = this.settings.ipv6PrefixLength ?? DEFAULT_IPV6_PREFIX_LENGTH;
    const bare = !String(text).includes('/');
    return bare && cidr.family === 6 && cidr.prefix > length ? parseTarget(`${cidr.text.split('/')[0]}/${length}`) : cidr;
  }

  /** Every row of the blocks table. */
  public async rows(): Promise<BlockRow[]> {
    return (await scanAll(this.doc, this.blocksTable)) as unknown as BlockRow[];
  }

  /**
   * Blocks an address or prefix by hand. Spends none of the new-block budget (which guards against bad rules, not
   * operators), and its row is released only when its period ends.
   */
  public async block(req: BlockRequest): Promise<ActionResult> {
    const cidr = parseTarget(req.target);
    const tooWide = widthProblem(cidr, LIMITS.minBlockPrefixV4, LIMITS.minBlockPrefixV6, 'block a smaller network, or use a WAF rule for whole ranges');
    if (tooWide) throw new ActionError(tooWide);
    const periodMs = parsePeriod(req.period, 'the block period', LIMITS.minPeriodMs, LIMITS.maxPeriodMs);
    const reason = cleanText(req.reason, 'a reason', LIMITS.maxReason);
    const op = who(req.operator);
    const now = this.now();
    const row: BlockRow = {
      ip: blockKey(cidr),
      ruleId: MANUAL_RULE_ID,
      family: cidr.family,
      // Blocked in the forwarded-address sets too (when the guard has them): a client named by hand is blocked however it comes.
      route: 'BOTH',
      host: '*',
      action: 'BLOCK',
      observed: 0,
      threshold: 0,
      windowSeconds: 0,
      severity: MANUAL_SEVERITY,
      firstSeenAt: now,
      crossedAt: now,
      blockedAt: now,
      blockedUntil: now + periodMs,
      expiresAt: Math.floor((now + periodMs) / 1000) + 86_400,
      manualAction: 'BLOCK',
      manualAt: now,
      manualBy: op.name,
      manualReason: reason,
      manualVia: op.via,
    };
    try {
      await this.doc.send(new PutCommand({
        TableName: this.blocksTable,
        Item: row,
        ConditionExpression: 'attribute_not_exists(ip) OR blockedUntil < :now',
        ExpressionAttributeValues: { ':now': now },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      throw new ActionError(`${row.ip} is already blocked by hand: extend that block instead`);
    }
    return { message: `${row.ip} blocked until ${iso(row.blockedUntil)}; WAF follows on the next sync run`, rows: [row] };
  }

  /**
   * Ends the blocks and dry-run records of the address or prefix now, and of networks inside it (the sync releases them
   * on its next run) and, by default, shields them from automatic blocks for a while, so a false positive does not come
   * straight back. A wider block that holds the target is left alone: ending it would release (and shield) every
   * address in it. The operator is told, with the choices: end the wider block by name, or allow-list the target.
   */
  public async unblock(req: UnblockRequest): Promise<ActionResult> {
    const cidr = this.clientTarget(req.target);
    const reason = cleanText(req.reason, 'a reason', LIMITS.maxReason);
    const shieldMs = String(req.shield ?? DEFAULT_SHIELD).trim() === '0' ? 0 : parsePeriod(req.shield ?? DEFAULT_SHIELD, 'the shield period', LIMITS.minPeriodMs, LIMITS.maxShieldMs);
    const op = who(req.operator);
    const now = this.now();
    const { inside, holding } = this.inScope(await this.rows(), cidr, now);
    const wider = widerBlocks(cidr, holding);
    if (inside.length === 0) {
      if (wider) throw new ActionError(wider.message, wider.choices);
      throw new ActionError(`no block or dry-run record in force for ${cidr.text}`);
    }
    const shieldUntil = shieldMs > 0 ? now + shieldMs : undefined;
    const done: BlockRow[] = [];
    for (const row of inside) {
      const changed = await this.update(row, {
        set: { blockedUntil: now, ...manual('UNBLOCK', now, op, reason), ...(shieldUntil ? { shieldUntil } : {}) },
      });
      if (changed) done.push(changed);
    }
    if (shieldUntil) {
      for (const network of new Set(done.map((r) => r.ip))) {
        await this.putControl('SHIELD', parseTarget(network), now, shieldUntil, op, reason, 'UNBLOCK');
      }
    }
    if (done.length === 0) throw new ActionError(`the records of ${cidr.text} changed meanwhile; list them and try again`);
    const shield = shieldUntil ? `; automatic blocks refused until ${iso(shieldUntil)}` : '';
    return {
      message: `${done.map(label).join(', ')} unblocked; WAF follows on the next sync run${shield}${wider ? `. ${wider.message}` : ''}`,
      rows: done,
      ...(wider ? { choices: wider.choices } : {}),
    };
  }

  /** Makes the blocks of the address or prefix longer; the sync announces and records the new end. */
  public async extend(req: ExtendRequest): Promise<ActionResult> {
    const cidr = this.clientTarget(req.target);
    const byMs = parsePeriod(req.by, 'the extension', LIMITS.minPeriodMs, LIMITS.maxPeriodMs);
    const reason = cleanText(req.reason, 'a reason', LIMITS.maxReason);
    const op = who(req.operator);
    const now = this.now();
    const blocks = (await this.rows()).filter((r) => r.action === 'BLOCK');
    const { inside: matching, holding } = this.inScope(blocks, cidr, now);
    if (matching.length === 0) {
      // Like unblock: a wider block is changed only when named, since the change reaches every address in it.
      if (holding.length > 0) {
        throw new ActionError(`${blockKey(cidr)} lies inside ${holding.map(label).join(', ')}: to make that block longer, extend it by its name ` +
          `(${[...new Set(holding.map((r) => r.cidr ?? r.ip))].join(', ')})`);
      }
      throw new ActionError(`no block in force for ${cidr.text} (dry-run records cannot be extended: block the client instead)`);
    }
    const done: BlockRow[] = [];
    for (const row of matching) {
      const until = Math.min(row.blockedUntil + byMs, now + LIMITS.maxPeriodMs);
      const changed = await this.update(row, {
        set: { blockedUntil: until, expiresAt: Math.floor(until / 1000) + 86_400, ...manual('EXTEND', now, op, reason) },
        // Announced again, so the digest and history show the new end.
        remove: ['notifiedAt', 'notifyLeaseUntil'],
      });
      if (changed) done.push(changed);
    }
    if (done.length === 0) throw new ActionError(`the blocks of ${cidr.text} changed meanwhile; list them and try again`);
    return { message: `${done.map((r) => `${label(r)} until ${iso(r.blockedUntil)}`).join(', ')}`, rows: done };
  }

  /** Adds a network to the run-time allow-list: never blocked automatically, kept out of the IP sets like `allowList`. */
  public async allow(req: AllowRequest): Promise<ActionResult> {
    const cidr = parseTarget(req.target);
    const { allowListWidestPrefixIpv4: v4 = LIMITS.minBlockPrefixV4, allowListWidestPrefixIpv6: v6 = LIMITS.minBlockPrefixV6 } = this.settings;
    const tooWide = widthProblem(cidr, v4, v6,
      'a few wide allow-list entries would switch the guard off; allow smaller networks (the guard\'s allowListWidestPrefixIpv4/Ipv6 props widen the limit)');
    if (tooWide) throw new ActionError(tooWide);
    const reason = cleanText(req.reason, 'a reason', LIMITS.maxReason);
    const op = who(req.operator);
    const now = this.now();
    const until = req.period === undefined || req.period === '' ? NO_END_MS : now + parsePeriod(req.period, 'the allow period', LIMITS.minPeriodMs, 10 * 365 * 86_400_000);
    const row = await this.putControl('ALLOW', cidr, now, until, op, reason, 'ALLOW');
    return { message: `${cidr.text} allow-listed${until === NO_END_MS ? '' : ` until ${iso(until)}`}`, rows: [row] };
  }

  /** Takes a network off the run-time allow-list (the sync records it and deletes the row). */
  public async unallow(req: { target: string; reason: string; operator: Operator }): Promise<ActionResult> {
    const cidr = parseTarget(req.target);
    const reason = cleanText(req.reason, 'a reason', LIMITS.maxReason);
    const op = who(req.operator);
    const now = this.now();
    const row = (await this.rows()).find((r) => r.ip === CONTROL_PARTITION && r.ruleId === `ALLOW#${blockKey(cidr)}` && r.blockedUntil > now);
    if (!row) throw new ActionError(`${cidr.text} is not on the run-time allow-list (the allowList prop is changed by a deployment)`);
    const changed = await this.update(row, { set: { blockedUntil: now, ...manual('UNALLOW', now, op, reason) } });
    if (!changed) throw new ActionError(`the allow-list entry of ${cidr.text} changed meanwhile; try again`);
    return { message: `${cidr.text} taken off the allow-list`, rows: [changed] };
  }

  /** The history of a network, newest first (the history table is keyed by the block row's key). */
  public async history(historyTable: string, target: string, sinceMs?: number): Promise<Array<Record<string, unknown>>> {
    // An IPv6 client is blocked per prefix of the guard's ipv6PrefixLength: an address's history is its prefix's too.
    const keys = [...new Set([blockKey(parseTarget(target)), blockKey(this.clientTarget(target))])];
    const all = await Promise.all(keys.map((k) => this.historyOf(historyTable, k, sinceMs)));
    return all.flat().sort((a, b) => String(b.at).localeCompare(String(a.at)));
  }

  private async historyOf(historyTable: string, key: string, sinceMs?: number): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: historyTable,
        KeyConditionExpression: sinceMs === undefined ? 'ip = :ip' : 'ip = :ip AND #at >= :since',
        ExpressionAttributeValues: { ':ip': key, ...(sinceMs === undefined ? {} : { ':since': new Date(sinceMs).toISOString() }) },
        ...(sinceMs === undefined ? {} : { ExpressionAttributeNames: { '#at': 'at' } }),
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Deletes an allow-list or shield row outright (tests and cleanup; operators use unallow). */
  public async deleteControl(row: BlockRow): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.blocksTable, Key: { ip: row.ip, ruleId: row.ruleId } }));
  }

  /**
   * Rows in force that an action on the target reaches (their network lies inside it), and those that hold the target
   * (wider): networks nest, so a row that shares an address with the target is one or the other.
   */
  private inScope(rows: readonly BlockRow[], cidr: Cidr, now: number): { inside: BlockRow[]; holding: BlockRow[] } {
    const target = new CidrSet([cidr]);
    const touching = this.inForce(rows, cidr, now);
    const inside = touching.filter((r) => target.containsCidr(rowNetwork(r)!));
    return { inside, holding: touching.filter((r) => !inside.includes(r)) };
  }

  /** Block and dry-run rows in force whose network lies in, or holds, the target. */
  private inForce(rows: readonly BlockRow[], cidr: Cidr, now: number): BlockRow[] {
    const target = new CidrSet([cidr]);
    return rows.filter((r) => {
      if (isControlRow(r) || r.blockedUntil <= now || r.releasedAt !== undefined) return false;
      const network = rowNetwork(r);
      return network !== undefined && target.intersects(network);
    });
  }

  private async putControl(
    kind: 'ALLOW' | 'SHIELD', cidr: Cidr, now: number, until: number, op: { name: string; via: string }, reason: string, action: ManualAction,
  ): Promise<BlockRow> {
    const row: BlockRow = {
      ip: CONTROL_PARTITION,
      ruleId: `${kind}#${blockKey(cidr)}`,
      cidr: blockKey(cidr),
      family: cidr.family,
      host: '*',
      action: 'ALLOW',
      observed: 0,
      threshold: 0,
      windowSeconds: 0,
      severity: 0,
      firstSeenAt: now,
      crossedAt: now,
      blockedAt: now,
      blockedUntil: until,
      ...(until === NO_END_MS ? {} : { expiresAt: Math.floor(until / 1000) + 86_400 }),
      ...manual(action, now, op, reason),
      // Shields are not announced on their own: the unblock that made them is.
      ...(kind === 'SHIELD' ? { notifiedAt: now } : {}),
    } as BlockRow;
    await this.doc.send(new PutCommand({ TableName: this.blocksTable, Item: row }));
    return row;
  }

  /** Changes a row only if it is still the one read (same block, not being released); returns the new row. */
  private async update(row: BlockRow, change: { set: Record<string, unknown>; remove?: string[] }): Promise<BlockRow | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':blockedAt': row.blockedAt, ':until': row.blockedUntil };
    const sets = Object.entries(change.set).map(([k, v], i) => {
      names[`#s${i}`] = k;
      values[`:s${i}`] = v;
      return `#s${i} = :s${i}`;
    });
    const removes = (change.remove ?? []).map((k, i) => {
      names[`#r${i}`] = k;
      return `#r${i}`;
    });
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.blocksTable,
        Key: { ip: row.ip, ruleId: row.ruleId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'blockedAt = :blockedAt AND blockedUntil = :until AND attribute_not_exists(releasedAt)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes as BlockRow;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }
}

function manual(action: ManualAction, now: number, op: { name: string; via: string }, reason: string): Partial<BlockRow> {
  return { manualAction: action, manualAt: now, manualBy: op.name, manualReason: reason, manualVia: op.via };
}

/** What to tell the operator about blocks wider than the target that hold it, or undefined when there are none. */
function widerBlocks(cidr: Cidr, rows: readonly BlockRow[]): { message: string; choices: ActionChoice[] } | undefined {
  if (rows.length === 0) return undefined;
  const networks = [...new Set(rows.map((r) => r.cidr ?? r.ip))];
  const key = blockKey(cidr);
  return {
    message: `${key} lies inside ${rows.map(label).join(', ')}, left in force: unblocking that ends it for every address ` +
      `in it. To let ${key} through, end the wider block (unblock ${networks.join(', ')}), or allow-list ${key} (allow ${key}; ` +
      'while the entry lasts, a block that holds an allow-listed address is kept out of WAF)',
    choices: [
      ...networks.map((n) => ({ action: 'unblock' as const, target: n, label: `End the block of ${n}` })),
      { action: 'allow' as const, target: key, label: `Allow-list ${key}` },
    ],
  };
}

function label(r: BlockRow): string {
  return `${r.ip} (${r.ruleId === MANUAL_RULE_ID ? 'manual block' : `rule ${r.ruleId}`})`;
}

/** The networks automatic blocks must spare: run-time allow-list entries and unblocks' shields in force. */
export async function loadShields(doc: DynamoDBDocumentClient, blocksTable: string, nowMs: number): Promise<CidrSet> {
  const rows: BlockRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({
      TableName: blocksTable,
      KeyConditionExpression: 'ip = :p',
      ExpressionAttributeValues: { ':p': CONTROL_PARTITION },
      ExclusiveStartKey: startKey,
    }));
    rows.push(...((page.Items ?? []) as BlockRow[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return new CidrSet(activeControlCidrs(rows, nowMs, true));
}

/**
 * Shields as the log processor sees them: read only when a batch has clients over a threshold (rare), and then at most
 * every `maxAgeMs`, so an unblock's shield holds within seconds without a read per batch.
 */
export class ShieldCache {
  private cached?: { set: CidrSet; at: number };

  constructor(private readonly load: (nowMs: number) => Promise<CidrSet>, private readonly maxAgeMs = 5000) {}

  public async get(nowMs: number): Promise<CidrSet> {
    if (this.cached && nowMs - this.cached.at < this.maxAgeMs) return this.cached.set;
    try {
      this.cached = { set: await this.load(nowMs), at: nowMs };
    } catch (e) {
      // Keep blocking on the last good shields rather than failing the batch; none known yet fails it (retried).
      if (!this.cached) throw e;
    }
    return this.cached.set;
  }
}
