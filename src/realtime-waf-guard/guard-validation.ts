import { Duration, Names, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { parseCidr } from './runtime/ip';
import { emailAddressErrors } from '../shared/validation';

/**
 * Synth-time checks of RealtimeWafGuard props. Each throws an error that names the prop and says what to change,
 * because a bad value found at deploy time (or worse, at run time in a handler) costs a rollback.
 */

/** A whole number within bounds, or the default when absent. */
export function integerInRange(prop: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (Token.isUnresolved(value)) throw new Error(`${prop} must be a concrete number, not a token: it is checked at synth time`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${prop} must be a whole number from ${min} to ${max} (got ${value})`);
  }
  return value;
}

/** A duration in whole seconds within bounds, or the default when absent; returns seconds. */
export function secondsInRange(prop: string, value: Duration | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = value.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) throw new Error(`${prop} must be a concrete duration, not a token`);
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new Error(`${prop} must be whole seconds from ${min} s to ${max} s (got ${seconds} s)`);
  }
  return seconds;
}

/**
 * Canonical CIDRs (bare addresses become /32 or /128), parsed by the same code the handlers use on the environment
 * variable, so what synthesizes also loads. Rejects /0, which would mean "everyone": an allow-list of /0 disables
 * blocking, and trusting /0 as proxies lets any client choose its address.
 */
export function normalizeCidrs(prop: string, cidrs: readonly string[] | undefined): string[] {
  return (cidrs ?? []).map((raw, index) => {
    if (Token.isUnresolved(raw)) throw new Error(`${prop}[${index}] must be a concrete CIDR, not a token`);
    const cidr = parseCidr(raw);
    if (typeof cidr === 'string') throw new Error(`${prop}[${index}]: ${cidr} (e.g. "203.0.113.0/24", "2001:db8::/32")`);
    return cidr.text;
  });
}

export function validateEmails(prop: string, emails: readonly string[] | undefined): string[] {
  const [first] = emailAddressErrors(prop, emails, (email) => Token.isUnresolved(email));
  if (first !== undefined) throw new Error(first);
  return [...(emails ?? [])];
}

// WAF rule and metric names allow word characters and "-"; the guard name is part of both.
const GUARD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The guard's name: the metrics `service` dimension and the prefix of its WAF rule names, so several guards in one
 * account keep their metrics and rules apart. Derived from the stack name and construct path unless given.
 */
export function resolveGuardName(explicit: string | undefined, scope: IConstruct): string {
  if (explicit !== undefined) {
    if (Token.isUnresolved(explicit) || !GUARD_NAME.test(explicit)) {
      throw new Error(`guardName "${explicit}" must be 1 to 64 letters, digits, "_" or "-"`);
    }
    return explicit;
  }
  const derived = stableId(scope).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  // Long paths keep their readable tail plus a hash of the whole path, which stays unique.
  return GUARD_NAME.test(derived) ? derived : Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' });
}

/** Stack name and the construct path within the stack: stable across deployments while the code does not move. */
export function stableId(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const relative = scope.node.path.slice(stack.node.path.length).replace(/^\//, '');
  return `${stack.stackName}/${relative}`;
}
