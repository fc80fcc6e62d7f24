import { Duration, Token } from 'aws-cdk-lib';
import { defaultRuleId, parseStoredRule, RULE_LIMITS, StoredRule } from './rule-model';

/** What a rule does to a client over its threshold. */
export enum RuleAction {
  /** Add the client to the WAF IP set for the block period, and alert. */
  BLOCK = 'BLOCK',
  /** Dry run: record and alert "would block", never touch WAF. */
  COUNT = 'COUNT',
}

/**
 * A per-host rate rule: a client that sends `threshold` requests to `host` (and `pathPrefix`) within `window`
 * is blocked for `blockFor`.
 */
export interface HostRule {
  /**
   * Stable id of the rule's row in the rules table; appears in alerts and history.
   * @default - the host followed by the path prefix, e.g. `api.example.com/login`
   */
  readonly id?: string;
  /** The Host header the viewer sent (`cs-host`): an exact name or a wildcard such as `*.example.com`. */
  readonly host: string;
  /**
   * Only requests whose path starts with this prefix count.
   * @default - every path of the host
   */
  readonly pathPrefix?: string;
  /**
   * Match `pathPrefix` in the same case only. By default case is ignored, so a `/login` rule also counts `/LOGIN` and
   * `/Login`, which case-insensitive origins (IIS, ASP.NET, Express by default) serve as `/login`; set this only when
   * every origin behind the host tells case apart.
   * @default false
   */
  readonly pathCaseSensitive?: boolean;
  /** Real requests (after scaling sampled counts by the sampling rate) per window that trigger a block. */
  readonly threshold: number;
  /** The counting window, from 10 seconds to 1 hour. */
  readonly window: Duration;
  /**
   * How long an offender stays blocked, from 1 minute to 30 days.
   * @default Duration.minutes(15)
   */
  readonly blockFor?: Duration;
  /**
   * BLOCK, or COUNT for a dry run that only records and alerts.
   * @default RuleAction.BLOCK
   */
  readonly action?: RuleAction;
}

/** Converts and validates rule props; throws a synth-time error naming the rule and what to change. */
export function toStoredRules(rules: HostRule[], managedBy: string): StoredRule[] {
  const seen = new Set<string>();
  return rules.map((rule, index) => {
    for (const [name, value] of [['threshold', rule.threshold], ['window', rule.window], ['blockFor', rule.blockFor]] as const) {
      if (value !== undefined && Token.isUnresolved(value instanceof Duration ? value.toSeconds({ integral: false }) : value)) {
        throw new Error(`rules[${index}].${name} must be a concrete value, not a token: rules are checked at synth time`);
      }
    }
    const ruleId = rule.id ?? defaultRuleId(rule.host, rule.pathPrefix);
    const parsed = parseStoredRule({
      ruleId,
      host: rule.host,
      pathPrefix: rule.pathPrefix,
      pathCaseSensitive: rule.pathCaseSensitive,
      threshold: rule.threshold,
      windowSeconds: rule.window.toSeconds({ integral: false }),
      blockSeconds: (rule.blockFor ?? Duration.seconds(RULE_LIMITS.defaultBlockSeconds)).toSeconds({ integral: false }),
      action: rule.action ?? RuleAction.BLOCK,
      managedBy,
    });
    if (typeof parsed === 'string') throw new Error(`rules[${index}]: ${parsed}`);
    if (seen.has(parsed.ruleId)) {
      throw new Error(`rules[${index}]: rule id "${parsed.ruleId}" is used twice; give one of the rules a distinct \`id\``);
    }
    seen.add(parsed.ruleId);
    return parsed;
  });
}
