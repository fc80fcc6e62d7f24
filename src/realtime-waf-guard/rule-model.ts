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
  if (host !== host.toLowerCase()) return `host "${host}" must be lower case`;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  const labels = bare.split('.');
  if (bare.length === 0 || bare.length > 253 || labels.some((l) => !HOST_LABEL.test(l))) {
    return `host "${host}" must be a DNS name like "api.example.com" or a wildcard like "*.example.com" (no scheme, port or path)`;
  }
  return undefined;
}

/** The rule id used when none is given: host and path prefix, readable in alerts. */
export function defaultRuleId(host: string, pathPrefix?: string): string {
  return `${host}${pathPrefix ?? ''}`;
}

/**
 * Validates one rule row. Returns the rule, or a message that names the field and what to change.
 * Accepts numbers stored as strings, since operators edit rows by hand.
 */
export function parseStoredRule(raw: Record<string, unknown>): StoredRule | string {
  const ruleId = raw.ruleId;
  if (typeof ruleId !== 'string' || ruleId.length === 0 || ruleId.length > 256) {
    return 'ruleId must be a non-empty string of at most 256 characters';
  }
  const where = `rule "${ruleId}"`;
  const host = raw.host;
  if (typeof host !== 'string') return `${where}: host is required`;
  const hostError = hostPatternError(host);
  if (hostError) return `${where}: ${hostError}`;
  const pathPrefix = raw.pathPrefix;
  if (pathPrefix !== undefined && pathPrefix !== null && (typeof pathPrefix !== 'string' || !pathPrefix.startsWith('/'))) {
    return `${where}: pathPrefix must start with "/" (got ${JSON.stringify(pathPrefix)})`;
  }
  const threshold = Number(raw.threshold);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > RULE_LIMITS.maxThreshold) {
    return `${where}: threshold must be a whole number of requests from 1 to ${RULE_LIMITS.maxThreshold} (got ${String(raw.threshold)})`;
  }
  const windowSeconds = Number(raw.windowSeconds);
  if (!Number.isInteger(windowSeconds) || windowSeconds < RULE_LIMITS.minWindowSeconds || windowSeconds > RULE_LIMITS.maxWindowSeconds) {
    return `${where}: window must be whole seconds from ${RULE_LIMITS.minWindowSeconds} s to 1 hour (got ${String(raw.windowSeconds)} s)`;
  }
  const blockSeconds = raw.blockSeconds === undefined ? RULE_LIMITS.defaultBlockSeconds : Number(raw.blockSeconds);
  if (!Number.isInteger(blockSeconds) || blockSeconds < RULE_LIMITS.minBlockSeconds || blockSeconds > RULE_LIMITS.maxBlockSeconds) {
    return `${where}: block period must be whole seconds from 1 minute to 30 days (got ${String(raw.blockSeconds)} s)`;
  }
  const action = raw.action ?? 'BLOCK';
  if (action !== 'BLOCK' && action !== 'COUNT') return `${where}: action must be BLOCK or COUNT (got ${String(action)})`;
  const enabled = raw.enabled === undefined ? true : raw.enabled === true || raw.enabled === 'true';
  return {
    ruleId,
    host,
    ...(typeof pathPrefix === 'string' ? { pathPrefix } : {}),
    threshold,
    windowSeconds,
    blockSeconds,
    action,
    enabled,
    ...(typeof raw.managedBy === 'string' ? { managedBy: raw.managedBy } : {}),
  };
}
