import { Duration } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { integerInRange } from './guard-validation';

/**
 * WAF's own rate-based rule, kept as a coarse backstop: it reacts in about 30 s, blocks only while a client stays over
 * the limit and sends no alerts, but it needs no log pipeline, so it still works if the guard's pipeline stalls.
 */
export interface RateBasedBackstop {
  /** Requests per client IP within the evaluation window above which WAF blocks; at least 10. */
  readonly limit: number;
  /**
   * The window WAF counts over: 1, 2, 5 or 10 minutes.
   * @default Duration.minutes(5)
   */
  readonly evaluationWindow?: Duration;
}

/** An AWS WAF managed rule group added to the guard's WebACL, after the guard's own rules. */
export interface ManagedRuleGroup {
  /** The group's name, e.g. `AWSManagedRulesCommonRuleSet`. */
  readonly name: string;
  /**
   * The group's vendor.
   * @default 'AWS'
   */
  readonly vendorName?: string;
  /**
   * Rules of the group that only count instead of acting (WAF's rule action override to COUNT), e.g. rules that
   * misfire on your traffic.
   * @default - every rule acts as the group defines
   */
  readonly excludedRules?: string[];
}

const BACKSTOP_WINDOWS = [60, 120, 300, 600];
// WAF's documented maximum rate limit.
const MAX_RATE_LIMIT = 2_000_000_000;

/** Validates a backstop; returns the WAF rate-based statement. */
export function rateBasedStatement(backstop: RateBasedBackstop): wafv2.CfnWebACL.RateBasedStatementProperty {
  const limit = integerInRange('rateBasedBackstop.limit', backstop.limit, 10, MAX_RATE_LIMIT, 0);
  const window = backstop.evaluationWindow?.toSeconds({ integral: false }) ?? 300;
  if (!BACKSTOP_WINDOWS.includes(window)) {
    throw new Error(`rateBasedBackstop.evaluationWindow must be 60, 120, 300 or 600 seconds, as WAF allows (got ${window} s)`);
  }
  return { limit, aggregateKeyType: 'IP', evaluationWindowSec: window };
}

/** Validates managed groups up front: WAF would reject them only at deploy time. */
export function validateManagedRuleGroups(groups: readonly ManagedRuleGroup[]): void {
  const seen = new Set<string>();
  groups.forEach((group, index) => {
    if (!/^[\w-]{1,128}$/.test(group.name)) {
      throw new Error(`managedRuleGroups[${index}].name "${group.name}" must be a WAF rule group name such as "AWSManagedRulesCommonRuleSet"`);
    }
    const vendor = group.vendorName ?? 'AWS';
    // WAF's VendorName is free text (e.g. "Cyber Security Cloud Inc."), only blank is refused.
    if (vendor.trim() === '' || vendor.length > 128) {
      throw new Error(`managedRuleGroups[${index}].vendorName must be the vendor as WAF lists it, 1 to 128 characters (got "${vendor}")`);
    }
    (group.excludedRules ?? []).forEach((rule, r) => {
      if (!/^[\w-]{1,128}$/.test(rule)) {
        throw new Error(`managedRuleGroups[${index}].excludedRules[${r}] "${rule}" must be a rule name of the group such as "NoUserAgent_HEADER" ` +
          '(letters, digits, "_" and "-")');
      }
    });
    const key = `${vendor}-${group.name}`;
    if (seen.has(key)) throw new Error(`managedRuleGroups[${index}]: ${key} is listed twice`);
    seen.add(key);
  });
}

/**
 * Requests whose Host is a CloudFront default domain (`d111111abcdef8.cloudfront.net`), spelled in any case, with a
 * trailing dot or a port. WAF sees an HTTP/2 `:authority` as the Host header, so both protocols are covered.
 */
export function cloudFrontDomainStatement(): wafv2.CfnWebACL.StatementProperty {
  return {
    regexMatchStatement: {
      fieldToMatch: { singleHeader: { Name: 'host' } },
      regexString: '\\.cloudfront\\.net\\.?(:[0-9]+)?$',
      textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
    },
  };
}

/** Visibility for one rule or WebACL: metrics and sampled requests on, named after the guard. */
export function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/** A managed rule group as a WebACL rule; the group decides the action (override none). */
export function managedGroupRule(group: ManagedRuleGroup, priority: number): wafv2.CfnWebACL.RuleProperty {
  const excluded = group.excludedRules ?? [];
  const vendorName = group.vendorName ?? 'AWS';
  // The vendor is free text, a rule name is not: other characters become "-".
  const name = `${vendorName}-${group.name}`.replace(/[^\w-]/g, '-').slice(0, 128);
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName,
        name: group.name,
        ruleActionOverrides: excluded.length > 0 ? excluded.map((ruleName) => ({ name: ruleName, actionToUse: { count: {} } })) : undefined,
      },
    },
    visibilityConfig: visibility(name),
  };
}
