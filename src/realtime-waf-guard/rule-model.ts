import { escapeControls, hasControls } from '../shared/runtime/text';

/**
 * A detection rule as stored in the rules table and read by the handlers and the replay CLI.
 * Pure: no CDK or AWS imports, so handler bundles stay small.
 */
export interface StoredRule {
  readonly ruleId: string;
  /** Exact host (`api.example.com`) or wildcard (`*.example.com`: every subdomain, not the apex), lower case. */
  readonly host: string;
  /** Only requests whose path starts with this count; all paths when absent. */
  readonly pathPrefix?: string;
  /**
   * Set (true) when the prefix must match in the same case; absent when case is ignored (the default), as
   * case-insensitive origins (IIS, ASP.NET, Express by default) serve `/LOGIN` as `/login`.
   */
  readonly pathCaseSensitive?: boolean;
  /** Real (unsampled) requests per window at which a client is blocked. */
  readonly threshold: number;
  readonly windowSeconds: number;
  readonly blockSeconds: number;
  readonly action: 'BLOCK' | 'COUNT';
  /** Disabled rules stay in the table but are not evaluated. */
  readonly enabled: boolean;
  /** Set on rows the stack seeded; rows without it belong to operators. */
  readonly managedBy?: string;
}

export const RULE_LIMITS = {
  minWindowSeconds: 10,
  maxWindowSeconds: 3600,
  minBlockSeconds: 60,
  maxBlockSeconds: 30 * 24 * 3600,
  defaultBlockSeconds: 900,
  maxThreshold: 100_000_000,
} as const;

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Why a host pattern is invalid, or undefined when it is valid. */
export function hostPatternError(host: string): string | undefined {
  if (host !== host.toLowerCase()) return `host ${shown(host)} must be lower case`;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  const labels = bare.split('.');
  if (bare.length === 0 || bare.length > 253 || labels.some((l) => !HOST_LABEL.test(l))) {
    return `host ${shown(host)} must be a DNS name like "api.example.com" or a wildcard like "*.example.com" (no scheme, port or path)`;
  }
  return undefined;
}

/** The rule id used when none is given: host and path prefix, readable in alerts. */
export function defaultRuleId(host: string, pathPrefix?: string): string {
  return `${host}${pathPrefix ?? ''}`;
}

/**
 * A whole number as typed by hand: a JSON/DynamoDB number, or a string of decimal digits. Anything else (`true`,
 * `[100]`, `"0x64"`, `"1e3"`, `""`) is refused rather than coerced, so a typo cannot become a threshold of 1.
 */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A boolean, or "true"/"false" in any case and spacing (`"TRUE "` too); undefined for anything else (`"yes"`, `1`, `"on"`). */
function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  return undefined;
}

const MAX_SHOWN = 80;

/**
 * A value as a refusal message quotes it: JSON (a string in quotes, control characters escaped), cut short. Total, so
 * any value a table row can hold is described, never thrown on: BigInt, sets, binary, NaN, objects without a prototype.
 */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'number' || typeof value === 'bigint' ? String(value)
      : JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v)) ? String(v)
        : v instanceof Set ? [...v] : ArrayBuffer.isView(v) ? `<${v.byteLength} bytes>` : v)) ?? String(value);
  } catch {
    text = `<${typeof value}>`;
  }
  return escapeControls(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}


/**
 * Validates one rule row. Returns the rule, or a message that names the row, the field and what to change.
 * Operators edit rows by hand, so whole numbers may be decimal digit strings and `enabled` may be "true"/"false" in
 * any case; every other type is refused, never coerced.
 */
export function parseStoredRule(raw: Record<string, unknown>): StoredRule | string {
  const ruleId = raw.ruleId;
  if (typeof ruleId !== 'string' || ruleId.length === 0 || ruleId.length > 256) {
    return `rule ${shown(ruleId)}: ruleId must be a non-empty string of at most 256 characters`;
  }
  // A rule id is shown in terminals, alerts and consoles, where a control character would act.
  if (hasControls(ruleId)) return `rule ${shown(ruleId)}: ruleId must not hold control characters`;
  // The guard's own rows share the blocks table's (ip, ruleId) key: a rule named `#manual` would overwrite manual blocks.
  if (ruleId.startsWith('#')) return `rule ${shown(ruleId)}: ruleId must not start with "#" (reserved for the guard's own rows, such as #manual for manual blocks); rename the rule`;
  const where = `rule "${ruleId}"`;
  const host = raw.host;
  if (typeof host !== 'string') return `${where}: host is required (got ${shown(host)})`;
  const hostError = hostPatternError(host);
  if (hostError) return `${where}: ${hostError}`;
  const pathPrefix = raw.pathPrefix;
  if (pathPrefix !== undefined && pathPrefix !== null && (typeof pathPrefix !== 'string' || !pathPrefix.startsWith('/'))) {
    return `${where}: pathPrefix must start with "/" (got ${shown(pathPrefix)})`;
  }
  const pathCaseSensitive = raw.pathCaseSensitive === undefined || raw.pathCaseSensitive === null ? false : flag(raw.pathCaseSensitive);
  if (pathCaseSensitive === undefined) {
    return `${where}: pathCaseSensitive must be true or false (got ${shown(raw.pathCaseSensitive)})`;
  }
  const threshold = wholeNumber(raw.threshold);
  if (threshold === undefined || threshold < 1 || threshold > RULE_LIMITS.maxThreshold) {
    return `${where}: threshold must be a whole number of requests from 1 to ${RULE_LIMITS.maxThreshold} (got ${shown(raw.threshold)})`;
  }
  const windowSeconds = wholeNumber(raw.windowSeconds);
  if (windowSeconds === undefined || windowSeconds < RULE_LIMITS.minWindowSeconds || windowSeconds > RULE_LIMITS.maxWindowSeconds) {
    return `${where}: window must be whole seconds from ${RULE_LIMITS.minWindowSeconds} s to 1 hour (got ${shown(raw.windowSeconds)} s)`;
  }
  const blockSeconds = raw.blockSeconds === undefined ? RULE_LIMITS.defaultBlockSeconds : wholeNumber(raw.blockSeconds);
  if (blockSeconds === undefined || blockSeconds < RULE_LIMITS.minBlockSeconds || blockSeconds > RULE_LIMITS.maxBlockSeconds) {
    return `${where}: block period must be whole seconds from 1 minute to 30 days (got ${shown(raw.blockSeconds)} s)`;
  }
  const action = raw.action ?? 'BLOCK';
  if (action !== 'BLOCK' && action !== 'COUNT') return `${where}: action must be BLOCK or COUNT (got ${shown(action)})`;
  const enabled = raw.enabled === undefined ? true : flag(raw.enabled);
  if (enabled === undefined) return `${where}: enabled must be true or false (got ${shown(raw.enabled)})`;
  return {
    ruleId,
    host,
    ...(typeof pathPrefix === 'string' ? { pathPrefix } : {}),
    // Stored only when set, so rows and seeds written before the option existed read the same.
    ...(pathCaseSensitive ? { pathCaseSensitive } : {}),
    threshold,
    windowSeconds,
    blockSeconds,
    action,
    enabled,
    ...(typeof raw.managedBy === 'string' ? { managedBy: raw.managedBy } : {}),
  };
}
