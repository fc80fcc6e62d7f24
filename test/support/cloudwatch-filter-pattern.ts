/**
 * An evaluator of CloudWatch Logs JSON filter patterns (`{ ... }`), to test synthesized metric filters against log
 * events instead of against their own text. It follows the documented syntax
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):
 * - selectors `$.a.b`, `$.list[2].c`; a selector that names nothing makes its comparison false;
 * - `=` and `!=` against a quoted string, with `*` as a wildcard only at its start or end; `=` against `%regex%`
 *   (unanchored search; only the documented characters, no parentheses, at most 2 per pattern); numbers with
 *   `= != < <= > >=`; `IS NULL`, `NOT EXISTS`, `IS TRUE`, `IS FALSE`;
 * - `&&` binding tighter than `||`, parentheses.
 * Anything else throws, so a pattern this file cannot read fails its test rather than passing it.
 * `!=` on a missing field is not documented: it throws rather than guess.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'compare'; selector: string; op: string; value: Value }
  | { kind: 'postfix'; selector: string; check: 'IS NULL' | 'NOT EXISTS' | 'IS TRUE' | 'IS FALSE' };

type Value = { type: 'string'; text: string } | { type: 'regex'; source: string } | { type: 'number'; value: number };

/** Documented regex characters: alphanumerics, `: _ # = @ / ; , -` and the operators `^ $ ? [ ] { } | \ * + .`. */
const REGEX_CHARACTERS = /^[A-Za-z0-9:_#=@/;,\-^$?[\]{}|\\*+.]+$/;

export const FILTER_PATTERN_MAX_LENGTH = 1024;

export function matchesFilterPattern(pattern: string, message: string): boolean {
  const tree = parseFilterPattern(pattern);
  let event: Json;
  try {
    event = JSON.parse(message);
  } catch {
    return false; // a JSON pattern never matches a line that is not JSON
  }
  return evaluate(tree, event);
}

/** What a metric filter (its CloudFormation properties) publishes for one log event, or undefined if it does not match. */
export function applyMetricFilter(
  properties: { FilterPattern: string; MetricTransformations: any[] },
  message: string,
): Array<{ namespace: string; name: string; value: number; dimensions: Record<string, string> }> | undefined {
  if (!matchesFilterPattern(properties.FilterPattern, message)) return undefined;
  const event = JSON.parse(message);
  return properties.MetricTransformations.map((t) => {
    const dimensions: Record<string, string> = {};
    for (const d of t.Dimensions ?? []) {
      const v = select(event, d.Value);
      // A dimension whose field is missing is left out of the published metric.
      if (typeof v === 'string' || typeof v === 'number') dimensions[d.Key] = String(v);
    }
    const raw = String(t.MetricValue);
    const value = raw.startsWith('$.') ? Number(select(event, raw)) : Number(raw);
    return { namespace: t.MetricNamespace, name: t.MetricName, value, dimensions };
  });
}

export function parseFilterPattern(pattern: string): Node {
  if (pattern.length > FILTER_PATTERN_MAX_LENGTH) {
    throw new Error(`filter pattern of ${pattern.length} characters; CloudWatch Logs takes at most ${FILTER_PATTERN_MAX_LENGTH}`);
  }
  const trimmed = pattern.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const tokens = tokenize(trimmed.slice(1, -1));
  const regexes = tokens.filter((t) => t.type === 'regex').length;
  if (regexes > 2) throw new Error(`${regexes} regular expressions in one pattern; CloudWatch Logs takes at most 2`);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (!t) throw new Error(`pattern ends early: ${pattern}`);
    return t;
  };
  const parseOr = (): Node => {
    let left = parseAnd();
    while (peek()?.type === 'op' && peek()!.text === '||') {
      next();
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Node => {
    let left = parseTerm();
    while (peek()?.type === 'op' && peek()!.text === '&&') {
      next();
      left = { kind: 'and', left, right: parseTerm() };
    }
    return left;
  };
  const parseTerm = (): Node => {
    const t = next();
    if (t.type === 'open') {
      const inner = parseOr();
      if (next().type !== 'close') throw new Error(`unbalanced parentheses: ${pattern}`);
      return inner;
    }
    if (t.type !== 'selector') throw new Error(`expected a $. selector, got ${t.text}: ${pattern}`);
    const op = next();
    if (op.type === 'word') {
      const words = [op.text, next().text].join(' ');
      if (words !== 'IS NULL' && words !== 'NOT EXISTS' && words !== 'IS TRUE' && words !== 'IS FALSE') {
        throw new Error(`unknown check ${words}: ${pattern}`);
      }
      return { kind: 'postfix', selector: t.text, check: words };
    }
    if (op.type !== 'compare') throw new Error(`expected a comparison after ${t.text}: ${pattern}`);
    const v = next();
    let value: Value;
    if (v.type === 'string') {
      const inner = v.text.replace(/^\*/, '').replace(/\*$/, '');
      if (inner.includes('*')) throw new Error(`"*" is a wildcard only at the start or end of a value: ${v.text}`);
      value = { type: 'string', text: v.text };
    } else if (v.type === 'regex') {
      if (!REGEX_CHARACTERS.test(v.text)) throw new Error(`regex %${v.text}% has characters CloudWatch Logs refuses`);
      if (op.text !== '=' && op.text !== '!=') throw new Error(`regex needs = or !=: ${pattern}`);
      value = { type: 'regex', source: v.text };
    } else if (v.type === 'number') {
      value = { type: 'number', value: Number(v.text) };
    } else {
      throw new Error(`unsupported value ${v.text}: ${pattern}`);
    }
    if (value.type !== 'number' && op.text !== '=' && op.text !== '!=') throw new Error(`${op.text} compares numbers only`);
    return { kind: 'compare', selector: t.text, op: op.text, value };
  };
  const tree = parseOr();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i].text}: ${pattern}`);
  return tree;
}

type Token = { type: 'open' | 'close' | 'op' | 'compare' | 'selector' | 'string' | 'regex' | 'number' | 'word'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c === '(' ? 'open' : 'close', text: c });
      i++;
    } else if (source.startsWith('&&', i) || source.startsWith('||', i)) {
      tokens.push({ type: 'op', text: source.slice(i, i + 2) });
      i += 2;
    } else if (/[=!<>]/.test(c)) {
      const m = /^(!=|<=|>=|=|<|>)/.exec(source.slice(i))!;
      tokens.push({ type: 'compare', text: m[1] });
      i += m[1].length;
    } else if (c === '$') {
      const m = /^\$(\.[A-Za-z0-9_-]+|\[\d+\])+/.exec(source.slice(i));
      if (!m) throw new Error(`bad selector at ${source.slice(i)}`);
      tokens.push({ type: 'selector', text: m[0] });
      i += m[0].length;
    } else if (c === '"') {
      let text = '';
      i++;
      while (source[i] !== '"') {
        if (i >= source.length) throw new Error('unterminated string');
        if (source[i] === '\\') i++;
        text += source[i++];
      }
      i++;
      tokens.push({ type: 'string', text });
    } else if (c === '%') {
      const end = source.indexOf('%', i + 1);
      if (end < 0) throw new Error('unterminated regex');
      tokens.push({ type: 'regex', text: source.slice(i + 1, end) });
      i = end + 1;
    } else if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(source.slice(i))!;
      tokens.push({ type: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Z]/.test(c)) {
      const m = /^[A-Z]+/.exec(source.slice(i))!;
      tokens.push({ type: 'word', text: m[0] });
      i += m[0].length;
    } else {
      throw new Error(`unexpected character ${c} in ${source}`);
    }
  }
  return tokens;
}

const MISSING = Symbol('missing');

function select(event: Json, selector: string): Json | typeof MISSING {
  let current: Json | typeof MISSING = event;
  for (const step of selector.slice(1).match(/\.[A-Za-z0-9_-]+|\[\d+\]/g) ?? []) {
    if (current === MISSING || current === null || typeof current !== 'object') return MISSING;
    if (step.startsWith('[')) {
      if (!Array.isArray(current)) return MISSING;
      const index = Number(step.slice(1, -1));
      current = index < current.length ? current[index] : MISSING;
    } else {
      if (Array.isArray(current)) return MISSING;
      const key = step.slice(1);
      current = Object.prototype.hasOwnProperty.call(current, key) ? current[key] : MISSING;
    }
  }
  return current;
}

function evaluate(node: Node, event: Json): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, event) && evaluate(node.right, event);
    case 'or':
      return evaluate(node.left, event) || evaluate(node.right, event);
    case 'postfix': {
      const v = select(event, node.selector);
      if (node.check === 'NOT EXISTS') return v === MISSING;
      if (node.check === 'IS NULL') return v === null;
      return v === (node.check === 'IS TRUE');
    }
    case 'compare': {
      const v = select(event, node.selector);
      if (v === MISSING) {
        if (node.op === '!=') throw new Error(`!= on the missing field ${node.selector} is not documented`);
        return false;
      }
      const { value } = node;
      if (value.type === 'number') {
        if (typeof v !== 'number') return false;
        return compareNumbers(v, node.op, value.value);
      }
      if (typeof v !== 'string') return false;
      const hit = value.type === 'regex' ? new RegExp(value.source).test(v) : wildcardEquals(v, value.text);
      return node.op === '=' ? hit : !hit;
    }
  }
}

function wildcardEquals(actual: string, expected: string): boolean {
  if (expected === '*') return true;
  const start = expected.startsWith('*');
  const end = expected.endsWith('*');
  const core = expected.slice(start ? 1 : 0, end ? -1 : undefined);
  if (start && end) return actual.includes(core);
  if (start) return actual.endsWith(core);
  if (end) return actual.startsWith(core);
  return actual === core;
}

function compareNumbers(a: number, op: string, b: number): boolean {
  switch (op) {
    case '=': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    default: throw new Error(`unknown operator ${op}`);
  }
}
