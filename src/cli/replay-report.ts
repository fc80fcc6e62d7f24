import { MAX_LINE_BYTES } from './log-input';
import { malformedCode, malformedMessage, ReplayReport, RuleReport, timestampHint } from './replay';
import { formatTable } from './text-table';
import { Malformed } from '../realtime-waf-guard/runtime/log-parser';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const num = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Why the guard would keep a block out of the IP sets, as the report says it. */
const NOT_APPLIED: Record<string, string> = {
  '': '',
  'ALLOW_LISTED': ', NOT applied: holds an allow-listed address',
  'TRUSTED_PROXY': ', NOT applied: holds a trusted proxy',
};

function ruleSection(r: RuleReport, samplingRate: number): string[] {
  const { rule } = r;
  const perWindow = `per ${duration(rule.windowSeconds)}`;
  const out = [
    `Rule ${rule.ruleId}: host ${rule.host}${rule.pathPrefix ? `, path ${rule.pathPrefix}*` : ''}, threshold ${num(rule.threshold)} ${perWindow}, `
      + `block ${duration(rule.blockSeconds)}, ${rule.action === 'BLOCK' ? 'BLOCK' : 'COUNT (dry run)'}`,
    `  lines matched ${num(r.matched)} from ${r.clientsExact ? '' : 'about '}${num(r.clients)} client(s)`,
  ];
  if (samplingRate < 100) {
    out.push(`  blocks at ${num(r.loggedThreshold)} logged requests ${perWindow} (false blocks under 1 in 1,000 client-days at 70% of the threshold)`);
  }
  if (r.blocks.length === 0) {
    out.push('  nobody would be blocked');
  } else {
    const ips = new Set(r.blocks.map((b) => b.ip));
    out.push(`  ${rule.action === 'BLOCK' ? 'would block' : 'would record (COUNT)'} ${ips.size} client(s), ${r.blocks.length} block(s):`);
    // The peak is what the guard compares with the threshold: requests within one window, not an average rate.
    // The route column only when a proxy or a held-back block makes it say something beyond "directly, applied".
    const routes = r.blocks.some((b) => b.route !== 'DIRECT' || b.notApplied !== undefined);
    const header = ['client', 'blocked at', 'until', `at decision (${perWindow})`, `peak (${perWindow})`, ...(routes ? ['route'] : [])];
    const rows = r.blocks.map((b) => [b.ip, iso(b.blockedAt), iso(b.blockedUntil), num(b.observed), num(b.peak),
      ...(routes ? [b.route + NOT_APPLIED[b.notApplied ?? '']] : [])]);
    out.push(formatTable([header, ...rows], '    '));
  }
  if (r.nearMisses.length > 0) {
    out.push(`  closest not blocked (peak ${perWindow}): ${r.nearMisses.map((m) => `${m.ip} ${num(m.peak)}`).join(', ')}`);
  }
  return out;
}

/** The replay as a person reads it. */
export function formatReplay(report: ReplayReport): string {
  const lines = [
    `Replayed ${num(report.lines)} line(s) at sampling ${report.samplingRate}% (counts scaled by ${100 / report.samplingRate}), `
      + `fields: ${report.fields.join(',')}`,
  ];
  if (report.firstTimestampMs !== undefined && report.lastTimestampMs !== undefined) {
    lines.push(`  log time   ${iso(report.firstTimestampMs)} .. ${iso(report.lastTimestampMs)}`);
  }
  lines.push(`  matched    ${num(report.matched)} (at least one rule)`);
  lines.push(`  skipped    ${num(report.skipped)} (no rule, allow-listed, or no client behind a trusted proxy)`);
  lines.push(`  malformed  ${num(report.malformed)}`);
  for (const [code, n] of Object.entries(report.malformedByReason)) {
    lines.push(`    ${num(n)}  ${malformedMessage(code)} (${code})`);
    if (code === malformedCode(Malformed.TIMESTAMP) && report.firstBadTimestamp !== undefined) lines.push(`      ${timestampHint(report.firstBadTimestamp)}`);
  }
  if (report.firstMalformed.length > 0) {
    lines.push(`    first at ${report.firstMalformed.map((m) => `${m.source}:${m.lineNumber}`).join(', ')}`);
  }
  lines.push('');
  for (const r of report.rules) lines.push(...ruleSection(r, report.samplingRate), '');
  lines.push('Times are log times: the live guard decides about one to two seconds later (batching window plus processing).');
  return lines.join('\n');
}

/** Version of the `--json` output; raised when a field changes meaning or goes away (new fields do not raise it). */
export const REPLAY_JSON_VERSION = 1;

type Timed<T, K extends string> = T & { [P in K as `${P}Iso`]: string };

/** The `--json` output: the report, with each log time (epoch ms) beside its ISO 8601 form. */
export interface ReplayJson extends Omit<ReplayReport, 'rules'> {
  readonly formatVersion: number;
  /** Lines longer than this are malformed (`line-too-long`). */
  readonly maxLineBytes: number;
  readonly firstTimestampIso?: string;
  readonly lastTimestampIso?: string;
  /** What each malformed code means. */
  readonly malformedMessages: Record<string, string>;
  readonly rules: Array<Omit<RuleReport, 'blocks'> & { blocks: Array<Timed<RuleReport['blocks'][number], 'blockedAt' | 'blockedUntil'>> }>;
}

const isoMs = (ms: number) => new Date(ms).toISOString();

export function replayJson(report: ReplayReport): ReplayJson {
  const { firstTimestampMs: first, lastTimestampMs: last } = report;
  return {
    formatVersion: REPLAY_JSON_VERSION,
    ...report,
    ...(first === undefined ? {} : { firstTimestampIso: isoMs(first) }),
    ...(last === undefined ? {} : { lastTimestampIso: isoMs(last) }),
    maxLineBytes: MAX_LINE_BYTES,
    malformedMessages: Object.fromEntries(Object.keys(report.malformedByReason).map((code) => [code, malformedMessage(code)])),
    rules: report.rules.map((r) => ({
      ...r,
      blocks: r.blocks.map((b) => ({ ...b, blockedAtIso: isoMs(b.blockedAt), blockedUntilIso: isoMs(b.blockedUntil) })),
    })),
  };
}
