/**
 * Just enough of IAM policy evaluation to judge a synthesized identity policy against the calls a program made:
 * Allow and Deny statements with Action and Resource patterns (`*` and `?`), explicit Deny first, nothing allowed
 * by default. A statement with a part this evaluator does not model (NotAction, NotResource, Condition) fails the
 * test rather than being guessed at.
 */

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly [other: string]: unknown;
}

/** One AWS API call as IAM authorizes it. */
export interface AwsCall {
  readonly action: string;
  readonly resource: string;
}

/** Calls IAM authorizes for every caller (sts:GetCallerIdentity needs no permission). */
const ALWAYS_ALLOWED = new Set(['sts:GetCallerIdentity']);

function patternRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

function matches(statement: PolicyStatement, call: AwsCall): boolean {
  const unknown = Object.keys(statement).filter((k) => !['Effect', 'Action', 'Resource', 'Sid'].includes(k));
  if (unknown.length > 0) throw new Error(`the evaluator does not model ${unknown.join(', ')} (statement ${JSON.stringify(statement)})`);
  const resources = list(statement.Resource);
  for (const r of resources) {
    if (typeof r !== 'string') throw new Error(`unresolved resource ${JSON.stringify(r)}`);
  }
  return list(statement.Action).some((a) => patternRegExp(a, true).test(call.action))
    && resources.some((r) => patternRegExp(r, false).test(call.resource));
}

/** Whether the statements allow the call. */
export function isAllowed(statements: readonly PolicyStatement[], call: AwsCall): boolean {
  if (ALWAYS_ALLOWED.has(call.action)) return true;
  if (statements.some((s) => s.Effect === 'Deny' && matches(s, call))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s, call));
}

/** Physical ids and attributes a deployment gives the template's resources, by logical id. */
export interface Deployment {
  readonly pseudo: Readonly<Record<string, string>>;
  readonly refs: Readonly<Record<string, string>>;
  /** `<logicalId>.<attribute>` */
  readonly attributes: Readonly<Record<string, string>>;
}

/** A template value with its intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split) evaluated. */
export function resolveIntrinsics(value: unknown, deployment: Deployment): any {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, deployment));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0];
    const known = (found: string | undefined, what: string) => {
      if (found === undefined) throw new Error(`the deployment has no ${what}`);
      return found;
    };
    switch (fn) {
      case 'Ref': return known((arg as string).startsWith('AWS::') ? deployment.pseudo[arg as string] : deployment.refs[arg as string], `Ref ${arg}`);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return known(deployment.attributes[`${id}.${attribute}`], `attribute ${id}.${attribute}`);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (resolveIntrinsics(parts, deployment) as unknown[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = arg as [unknown, unknown];
        return (resolveIntrinsics(items, deployment) as unknown[])[Number(resolveIntrinsics(index, deployment))];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(resolveIntrinsics(source, deployment)).split(separator);
      }
      default:
        if (fn.startsWith('Fn::')) throw new Error(`the evaluator does not resolve ${fn}`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, deployment)]));
}
