import { CidrSet, parseCidrList, parseIp } from '../../src/realtime-waf-guard/runtime/ip';

/** A request as WAF sees it: the address that connected, and the X-Forwarded-For header if any. */
export interface WafRequest {
  readonly sourceIp: string;
  readonly xff?: string;
}

/** An IP set's contents, looked up by the (unresolved, template) ARN a statement references. */
export type IpSetLookup = (arn: unknown) => { readonly version: 'IPV4' | 'IPV6'; readonly addresses: readonly string[] };

type Json = Record<string, any>;

/**
 * A small model of how WAF evaluates the statements the guard generates (CloudFormation form, as synthesized):
 * IP set references with and without IPSetForwardedIPConfig, AND, OR and NOT; other statements never match. Rules run
 * by priority; the first matching rule with a Block or Allow action decides; the default is Allow.
 * Forwarded IP semantics as documented: a missing header means the statement does not match; FIRST/LAST take one end
 * of the comma-separated list, ANY the last 10; an address that is not valid takes the fallback behaviour.
 */
export function evaluateWebAcl(rules: readonly Json[], lookup: IpSetLookup, request: WafRequest): { action: 'BLOCK' | 'ALLOW'; rule?: string } {
  for (const rule of [...rules].sort((a, b) => a.Priority - b.Priority)) {
    if (!matches(rule.Statement, lookup, request)) continue;
    if (rule.Action?.Block) return { action: 'BLOCK', rule: rule.Name };
    if (rule.Action?.Allow) return { action: 'ALLOW', rule: rule.Name };
  }
  return { action: 'ALLOW' };
}

function matches(statement: Json, lookup: IpSetLookup, request: WafRequest): boolean {
  if (statement.AndStatement) return statement.AndStatement.Statements.every((s: Json) => matches(s, lookup, request));
  if (statement.OrStatement) return statement.OrStatement.Statements.some((s: Json) => matches(s, lookup, request));
  if (statement.NotStatement) return !matches(statement.NotStatement.Statement, lookup, request);
  const ref = statement.IPSetReferenceStatement;
  if (!ref) return false;
  const set = lookup(ref.Arn);
  const inSet = (address: string): boolean => {
    const ip = parseIp(address);
    if (!ip || (ip.family === 4) !== (set.version === 'IPV4')) return false;
    return new CidrSet(parseCidrList([...set.addresses], 'set')).contains(ip);
  };
  const forwarded = ref.IPSetForwardedIPConfig;
  if (!forwarded) return inSet(request.sourceIp);
  if (String(forwarded.HeaderName).toLowerCase() !== 'x-forwarded-for' || request.xff === undefined) return false;
  const entries = request.xff.split(',').map((s) => s.trim());
  const fallback = forwarded.FallbackBehavior === 'MATCH';
  const one = (address: string | undefined) => (address !== undefined && parseIp(address) ? inSet(address) : fallback);
  switch (forwarded.Position) {
    case 'FIRST': return one(entries[0]);
    case 'LAST': return one(entries[entries.length - 1]);
    case 'ANY': {
      const valid = entries.slice(-10).filter((e) => parseIp(e));
      return valid.length === 0 ? fallback : valid.some(inSet);
    }
    default: throw new Error(`unknown position ${forwarded.Position}`);
  }
}
