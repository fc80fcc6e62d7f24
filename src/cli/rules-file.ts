import { UserError } from './errors';
import { defaultRuleId, parseStoredRule, RULE_LIMITS, shown, StoredRule } from '../realtime-waf-guard/rule-model';
import { samplingProblem } from '../realtime-waf-guard/runtime/sampling-bound';
import { escapeControls } from '../shared/runtime/text';

/**
 * Rules in the shape of the construct's `HostRule` props, as a user writes them in JSON: durations are seconds
 * (numbers) or strings such as "90s", "5m", "1h". Validation is the handlers' own (`parseStoredRule`), so a rules file
 * that passes here is one the deployed guard accepts.
 */

const KEYS = ['id', 'host', 'pathPrefix', 'pathCaseSensitive', 'threshold', 'window', 'blockFor', 'action'];
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 };

/** Seconds of a duration given as a number of seconds or "<n>s|m|min|h|d"; an error message when it is neither. */
export function parseDurationSeconds(value: unknown, what: string): number | string {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$/.exec(value);
    if (m) return Number(m[1]) * UNIT_SECONDS[m[2] ?? 's'];
  }
  return `${what} must be seconds (a number) or a string like "60s", "5m", "1h" (got ${shown(value)})`;
}

/** Converts one HostRule-shaped object; returns the stored rule or a message naming the field to fix. */
export function parseHostRule(raw: unknown, index: number): StoredRule | string {
  const where = `rules[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${where} must be an object like {"host": "api.example.com", "threshold": 300, "window": "1m"}`;
  const rule = raw as Record<string, unknown>;
  const unknown = Object.keys(rule).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) return `${where}: unknown key(s) ${unknown.map(escapeControls).join(', ')}; a rule has ${KEYS.join(', ')}`;
  if (typeof rule.host !== 'string') return `${where}: host is required (the Host header clients send, e.g. "api.example.com")`;
  if (rule.id !== undefined && typeof rule.id !== 'string') return `${where}: id must be a string`;
  if (rule.window === undefined) return `${where}: window is required (e.g. "1m")`;
  const windowSeconds = parseDurationSeconds(rule.window, 'window');
  if (typeof windowSeconds === 'string') return `${where}: ${windowSeconds}`;
  const blockSeconds = rule.blockFor === undefined ? RULE_LIMITS.defaultBlockSeconds : parseDurationSeconds(rule.blockFor, 'blockFor');
  if (typeof blockSeconds === 'string') return `${where}: ${blockSeconds}`;
  const pathPrefix = rule.pathPrefix as string | undefined;
  const parsed = parseStoredRule({
    ruleId: rule.id ?? defaultRuleId(rule.host, typeof pathPrefix === 'string' ? pathPrefix : undefined),
    host: rule.host,
    pathPrefix,
    pathCaseSensitive: rule.pathCaseSensitive,
    threshold: rule.threshold,
    windowSeconds,
    blockSeconds,
    action: rule.action,
  });
  return typeof parsed === 'string' ? `${where}: ${parsed}` : parsed;
}

/** Parses a rules file's text: a JSON array of HostRule-shaped objects with distinct ids. Throws a user-facing message. */
export function parseRulesJson(text: string, source: string): StoredRule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(json)) throw new UserError(`${source} must hold a JSON array of rules, e.g. [{"host": "api.example.com", "threshold": 300, "window": "1m"}]`);
  if (json.length === 0) throw new UserError(`${source} holds no rules`);
  const rules: StoredRule[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  json.forEach((raw, i) => {
    const rule = parseHostRule(raw, i);
    if (typeof rule === 'string') {
      problems.push(rule);
    } else if (seen.has(rule.ruleId)) {
      problems.push(`rules[${i}]: rule id "${rule.ruleId}" is used twice; give one of the rules a distinct "id"`);
    } else {
      seen.add(rule.ruleId);
      rules.push(rule);
    }
  });
  if (problems.length > 0) throw new UserError(`${source} has invalid rules:\n  ${problems.join('\n  ')}`);
  return rules;
}

/**
 * Rules the deployed guard would refuse at this sampling rate (too few logged requests per window for a sound
 * decision). The replay still runs them, to show what they would do, but says why they cannot be deployed as they are.
 */
export function samplingWarnings(rules: readonly StoredRule[], samplingRate: number): string[] {
  return rules.flatMap((rule) => {
    const problem = samplingProblem(rule.threshold, samplingRate, rule.windowSeconds, '--sampling');
    return problem ? [`rule "${rule.ruleId}": ${problem}. The guard refuses such a rule.`] : [];
  });
}
