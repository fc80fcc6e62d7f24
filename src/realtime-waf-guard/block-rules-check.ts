import { Annotations, CfnResource, IAspect } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { IConstruct } from 'constructs';
import { renderedProperties, renderedValue } from '../shared/rendered-properties';

export interface BlockRulesCheckProps {
  /** Where a warning is shown: a construct below the guard, so that acknowledging it on the guard works. */
  readonly warnOn: IConstruct;
  /** The stage (or app) whose WebACLs and rule groups may hold the guard's rules. */
  readonly scope: IConstruct;
  /** The IP sets the guard writes, each with a name for messages; a WebACL must read every one. */
  readonly writtenSets: ReadonlyArray<{ readonly name: string; readonly set: wafv2.CfnIPSet }>;
  /** The rules `blockRules()` returns, as it names them. */
  readonly ruleNames: readonly string[];
  /** Whether the guard has a WebACL of its own (which reads every set). */
  readonly ownWebAcl: boolean;
}

interface RenderedRule {
  readonly Name?: unknown;
  readonly Priority?: unknown;
}

const HOLDER_TYPES = ['AWS::WAFv2::WebACL', 'AWS::WAFv2::RuleGroup'];

/**
 * Checks, once the app is complete, where the guard's block rules ended up: the two setups that synthesize and then
 * do nothing or fail only at deploy.
 *
 * - With `createWebAcl: false`, IP sets that no WebACL or rule group of the app reads: the guard detects and fills
 *   them, and nobody is blocked. A warning, since the WebACL may live outside this app (acknowledge it then).
 * - A WebACL or rule group holding the guard's rules where one of them shares a priority with another rule: WAF
 *   refuses it at deploy. An error naming both rules.
 *
 * Both read the rendered properties (property overrides included), resolved in the holder's stack, so a set's ARN
 * is found whether it came from `blockRules()` or was written by hand.
 */
export class BlockRulesCheck implements IAspect {
  constructor(private readonly props: BlockRulesCheckProps) {}

  public visit(node: IConstruct): void {
    // Once, at the scope the check was added to: aspects visit it first, when every construct exists.
    if (node !== this.props.scope) return;
    const holders = node.node.findAll().filter((c): c is CfnResource =>
      CfnResource.isCfnResource(c) && HOLDER_TYPES.includes(c.cfnResourceType));
    const unread = new Set(this.props.writtenSets);
    for (const holder of holders) {
      const properties = renderedProperties(holder);
      const text = JSON.stringify(properties);
      const reads = this.props.writtenSets.filter((s) => text.includes(renderedValue(holder, s.set.attrArn)));
      reads.forEach((s) => unread.delete(s));
      const rules: RenderedRule[] = Array.isArray(properties.Rules) ? properties.Rules : [];
      if (reads.length > 0 || rules.some((r) => this.isGuardRule(r))) this.checkPriorities(holder, rules);
    }
    if (!this.props.ownWebAcl && unread.size > 0) this.warnUnread([...unread].map((s) => s.name));
  }

  private isGuardRule(rule: RenderedRule): boolean {
    return typeof rule.Name === 'string' && this.props.ruleNames.includes(rule.Name);
  }

  private checkPriorities(holder: CfnResource, rules: RenderedRule[]): void {
    const guardRules = rules.filter((r) => this.isGuardRule(r));
    for (const [i, rule] of rules.entries()) {
      for (const other of rules.slice(i + 1)) {
        if (rule.Priority !== other.Priority || typeof rule.Priority !== 'number') continue;
        if (!this.isGuardRule(rule) && !this.isGuardRule(other)) continue;
        throw new Error(this.clashMessage(holder, rules, guardRules, rule, other));
      }
    }
  }

  private clashMessage(holder: CfnResource, rules: RenderedRule[], guardRules: RenderedRule[], a: RenderedRule, b: RenderedRule): string {
    const kind = holder.cfnResourceType === 'AWS::WAFv2::WebACL' ? 'WebACL' : 'Rule group';
    const priorities = guardRules.map((r) => r.Priority as number);
    const first = Math.min(...priorities);
    const last = Math.max(...priorities);
    const others = rules.filter((r) => !this.isGuardRule(r)).map((r) => r.Priority).filter((p): p is number => typeof p === 'number');
    const after = others.length > 0 ? Math.max(...others) + 1 : 0;
    const count = this.props.ruleNames.length;
    return `${kind} ${holder.node.path}: rules "${String(a.Name)}" and "${String(b.Name)}" both have priority ${String(a.Priority)}, ` +
      `and WAF refuses a ${kind === 'WebACL' ? 'WebACL' : 'rule group'} whose rules share a priority (at deploy). ` +
      `guard.blockRules(firstPriority) takes ${count} consecutive priorities, here ${first} to ${last}: ` +
      `pass a firstPriority whose ${count} priorities no other rule uses (e.g. ${after}, after your rules), ` +
      'or move your rule to a priority outside them.';
  }

  private warnUnread(names: string[]): void {
    Annotations.of(this.props.warnOn).addWarningV2('cdk-waf-guard:ipSetsInNoWebAcl',
      `createWebAcl is false and no WebACL or rule group of this app reads the guard's ${names.join(', ')}: the guard ` +
      'detects clients and fills those IP sets, but no request is blocked. Add guard.blockRules(priority) to the rules ' +
      'of the WebACL on your distributions (CfnWebACL rules: [...yourRules, ...guard.blockRules(100)]), or acknowledge ' +
      'this warning if that WebACL is defined outside this app and reads the sets by ARN.');
  }
}
