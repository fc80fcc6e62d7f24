/**
 * Judges a demo run against the generator's ground truth (every real request, before sampling), never against the
 * guard's own counts: who crossed a threshold and when, who was blocked, released, or blocked without cause.
 */
import { DecisionEvent, IpSetUpdateEvent, ReleaseEvent } from './pipeline';
import { TruthRow } from './traffic';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { clientOf, DEFAULT_IPV6_PREFIX_LENGTH, parseCidr, parseIp } from '../../src/realtime-waf-guard/runtime/ip';
import { detectionDelayMs } from '../../src/realtime-waf-guard/runtime/sampling-bound';

/** The client the guard counts an address as: the address (IPv4) or its /64 (IPv6), as block rows name it. */
export function demoClient(ip: string): string {
  return clientOf(parseIp(ip)!, DEFAULT_IPV6_PREFIX_LENGTH).text;
}

export interface AttackerResult {
  readonly ip: string;
  readonly ruleId: string;
  /** Log time at which the client's real requests first reached the threshold within a window. */
  readonly crossedAtMs?: number;
  /** Clock time of the first block decision. */
  readonly blockedAtMs?: number;
  /** Real milliseconds from the crossing record reaching the stream to the block decision. */
  readonly decisionLatencyMs?: number;
  /** Real milliseconds from the crossing record reaching the stream to the IP set update that added the client. */
  readonly ipSetLatencyMs?: number;
  readonly blockedUntilMs?: number;
  readonly releasedAtMs?: number;
  readonly maxInWindow: number;
}

export interface BlockJudgement {
  /** Blocks of clients whose real requests never reached the threshold in any window. */
  readonly falseBlocks: Array<{ ip: string; ruleId: string; maxInWindow: number; threshold: number }>;
  /** Clients well over a threshold (beyond the bucket slack) that were not blocked. */
  readonly missed: Array<{ ip: string; ruleId: string; maxInWindow: number; threshold: number }>;
}

export interface Judgement extends BlockJudgement {
  readonly attackers: AttackerResult[];
  /** Blocks not released by the first sync run after their end (or released early). */
  readonly lateReleases: Array<{ ip: string; ruleId: string; delayMs?: number }>;
  readonly problems: string[];
}

export interface JudgeInput {
  readonly rules: readonly StoredRule[];
  readonly truth: readonly TruthRow[];
  readonly attackers: ReadonlyArray<{ ip: string; ruleId: string }>;
  readonly decisions: readonly DecisionEvent[];
  readonly updates: readonly IpSetUpdateEvent[];
  readonly releases: readonly ReleaseEvent[];
  /** Real time each attacker record was put on the stream, by client: [log time, put time]. */
  readonly putTimes: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>>;
  /** Clock start and end of every sync run: a block must be released by the first run that starts after it ends. */
  readonly syncRuns: ReadonlyArray<{ startedAt: number; endedAt: number }>;
  readonly ipSetsAtEnd: { ipv4: string[]; ipv6: string[] };
  /** Clients an operator unblocked by hand: their release comes before the block's end, on purpose. */
  readonly manualUnblocks?: ReadonlySet<string>;
  /** Below 100% sampling: a client is due to be blocked only within the sampling bound's documented delay. */
  readonly sampling?: SamplingWindow;
}

/** The sampling rate of a run and the log time its traffic ended. */
export interface SamplingWindow {
  readonly samplingRate: number;
  readonly trafficEndMs: number;
}

/**
 * Whether the guard promises to have blocked a client over its threshold by the end of the traffic. At 100% it does
 * (beyond the bucket slack, MISS_FACTOR). Below, the README's sampling bound promises a block within the documented
 * delay at the client's rate (99%): a client at twice a threshold of 10 logged requests per window may take minutes.
 */
function blockDue(rule: StoredRule, row: TruthRow, sampling: SamplingWindow | undefined): boolean {
  if (row.maxInWindow < rule.threshold * MISS_FACTOR) return false;
  if (sampling === undefined || sampling.samplingRate >= 100) return true;
  if (row.crossedAtMs === undefined) return false;
  const delayMs = detectionDelayMs(rule.threshold, sampling.samplingRate, rule.windowSeconds, row.maxInWindow / rule.threshold);
  return delayMs <= sampling.trafficEndMs - row.crossedAtMs;
}

/**
 * A client must be caught once it exceeds the threshold by more than the bucket slack: windows are whole buckets
 * (a sixth of the window), so a steady client is counted over at least five sixths of a window.
 */
const MISS_FACTOR = 1.25;

/** Who was blocked, against who should have been: `blocked` names clients as block rows do. */
export function judgeBlocks(
  rules: readonly StoredRule[],
  truthRows: readonly TruthRow[],
  blocked: ReadonlyArray<{ readonly ruleId: string; readonly ip: string }>,
  sampling?: SamplingWindow,
): BlockJudgement {
  const byId = new Map(rules.map((r) => [r.ruleId, r]));
  const truth = new Map(truthRows.map((t) => [`${t.ruleId}|${demoClient(t.ip)}`, t]));
  const decided = new Set(blocked.map((b) => `${b.ruleId}|${b.ip}`));
  const falseBlocks: BlockJudgement['falseBlocks'] = [];
  for (const key of decided) {
    const [ruleId, ip] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
    const maxInWindow = truth.get(key)?.maxInWindow ?? 0;
    const threshold = byId.get(ruleId)!.threshold;
    if (maxInWindow < threshold) falseBlocks.push({ ip, ruleId, maxInWindow, threshold });
  }
  const missed: BlockJudgement['missed'] = [];
  for (const t of truthRows) {
    const rule = byId.get(t.ruleId)!;
    if (blockDue(rule, t, sampling) && !decided.has(`${t.ruleId}|${demoClient(t.ip)}`)) {
      missed.push({ ip: t.ip, ruleId: t.ruleId, maxInWindow: t.maxInWindow, threshold: rule.threshold });
    }
  }
  return { falseBlocks, missed };
}

export function judge(input: JudgeInput): Judgement {
  const truth = new Map(input.truth.map((t) => [`${t.ruleId}|${demoClient(t.ip)}`, t]));
  const problems: string[] = [];
  const decided = new Map<string, DecisionEvent[]>();
  for (const d of input.decisions) {
    const key = `${d.row.ruleId}|${d.row.ip}`;
    decided.set(key, [...(decided.get(key) ?? []), d]);
  }
  const { falseBlocks, missed } = judgeBlocks(input.rules, input.truth, input.decisions.map((d) => d.row), input.sampling);
  const rulesById = new Map(input.rules.map((r) => [r.ruleId, r]));

  const attackers = input.attackers.map((a): AttackerResult => {
    const client = demoClient(a.ip);
    const t = truth.get(`${a.ruleId}|${client}`);
    const first = decided.get(`${a.ruleId}|${client}`)?.[0];
    const base = { ip: a.ip, ruleId: a.ruleId, crossedAtMs: t?.crossedAtMs, maxInWindow: t?.maxInWindow ?? 0 };
    if (!first) return base;
    // The first record at or after the crossing that reached the stream (with sampling, the crossing request itself
    // may not have been logged).
    const put = t?.crossedAtMs === undefined ? undefined : input.putTimes.get(a.ip)?.find(([ts]) => ts >= t.crossedAtMs!)?.[1];
    const cidr = (parseCidr(client) as { text: string }).text;
    const update = input.updates.find((u) => u.atReal >= first.decidedAtReal && u.addresses.includes(cidr));
    const release = input.releases.find((r) => r.row.ruleId === a.ruleId && r.row.ip === client && r.row.blockedAt === first.row.blockedAt);
    return {
      ...base,
      blockedAtMs: first.row.blockedAt,
      blockedUntilMs: first.row.blockedUntil,
      decisionLatencyMs: put === undefined ? undefined : first.decidedAtReal - put,
      ipSetLatencyMs: put === undefined || !update ? undefined : update.atReal - put,
      releasedAtMs: release?.atClock,
    };
  });
  for (const a of attackers) {
    // Below 100% an attacker whose block the sampling bound does not promise by the end of the traffic may go unblocked.
    const row = truth.get(`${a.ruleId}|${demoClient(a.ip)}`);
    const sampled = input.sampling !== undefined && input.sampling.samplingRate < 100;
    if (a.blockedAtMs === undefined && sampled && row !== undefined && !blockDue(rulesById.get(a.ruleId)!, row, input.sampling)) continue;
    if (a.blockedAtMs === undefined) problems.push(`attacker ${a.ip} (rule ${a.ruleId}, ${a.maxInWindow} requests in a window) was not blocked`);
    else if (a.ipSetLatencyMs === undefined) problems.push(`attacker ${a.ip} was blocked but never reached the WAF IP set`);
  }

  const lateReleases: Judgement['lateReleases'] = [];
  for (const d of input.decisions) {
    if (d.row.action !== 'BLOCK') continue;
    const release = input.releases.find((r) => r.row.ruleId === d.row.ruleId && r.row.ip === d.row.ip && r.row.blockedAt === d.row.blockedAt);
    const delayMs = release ? release.atClock - d.row.blockedUntil : undefined;
    // Any run that starts once the block has ended sees it expired: that run must be the one that releases it.
    const due = input.syncRuns.find((r) => r.startedAt >= d.row.blockedUntil);
    // A block an operator lifted by hand ends early on purpose.
    const early = release !== undefined && release.atClock < d.row.blockedUntil && !input.manualUnblocks?.has(d.row.ip);
    const missedRun = release !== undefined && due !== undefined && release.runStartedAt > due.startedAt;
    if (release === undefined || early || missedRun) lateReleases.push({ ip: d.row.ip, ruleId: d.row.ruleId, delayMs });
  }
  for (const f of falseBlocks) problems.push(`${f.ip} was blocked by rule ${f.ruleId} with at most ${f.maxInWindow} real requests in a window (threshold ${f.threshold})`);
  for (const m of missed) problems.push(`${m.ip} sent ${m.maxInWindow} requests in a window (threshold ${m.threshold} of rule ${m.ruleId}) and was not blocked`);
  for (const l of lateReleases) {
    if (l.delayMs === undefined) problems.push(`${l.ip} (rule ${l.ruleId}) was never released`);
    else if (l.delayMs < 0) problems.push(`${l.ip} (rule ${l.ruleId}) was released ${(-l.delayMs / 1000).toFixed(1)} s before its block ended`);
    else problems.push(`${l.ip} (rule ${l.ruleId}) was released ${(l.delayMs / 1000).toFixed(1)} s after its block ended, not by the first sync run after it`);
  }
  const left = [...input.ipSetsAtEnd.ipv4, ...input.ipSetsAtEnd.ipv6];
  if (left.length > 0) problems.push(`the WAF IP sets still hold ${left.join(', ')} at the end`);
  return { attackers, falseBlocks, missed, lateReleases, problems };
}
