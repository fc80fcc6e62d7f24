/**
 * A small CloudWatch metric math evaluator for tests: evaluates an expression string (as synthesized into an alarm or
 * a dashboard) over series of one value per period, so tests check what CloudWatch would compute from the collector's
 * datapoints rather than re-stating the formula.
 *
 * Covered: numbers, metric ids, `+ - * /`, comparisons `== != < <= > >=` (1 or 0), `AND`/`&&`, `OR`/`||`, `NOT`/`!`,
 * `IF(condition, a[, b])`, `DIFF(s)` (difference to the preceding datapoint; none for the first), `FILL(s, value)`.
 * A period without a datapoint is `undefined`; arithmetic with it gives `undefined`, as CloudWatch leaves the point out.
 */

export type Series = ReadonlyArray<number | undefined>;

type Value = Series | number;

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/<>(),!]))/y;
  let pos = 0;
  while (pos < expression.length) {
    if (/^\s*$/.test(expression.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(expression);
    if (!m) throw new Error(`cannot read "${expression.slice(pos)}"`);
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'id', value: m[2] });
    else tokens.push({ kind: 'op', value: m[3] });
  }
  return tokens;
}

function pointwise(args: Value[], length: number, f: (...xs: number[]) => number | undefined): Series {
  return Array.from({ length }, (_, i) => {
    const xs = args.map((a) => (typeof a === 'number' ? a : a[i]));
    return xs.some((x) => x === undefined) ? undefined : f(...(xs as number[]));
  });
}

/** Evaluates `expression` over `metrics` (each the same number of periods). */
export function evaluateMetricMath(expression: string, metrics: Record<string, Series>): Series {
  const length = Math.max(0, ...Object.values(metrics).map((s) => s.length));
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (op?: string) => {
    const t = tokens[i++];
    if (op !== undefined && (t?.kind !== 'op' || t.value !== op)) throw new Error(`expected ${op} in ${expression}`);
    return t;
  };
  const isOp = (...ops: string[]) => {
    const t = peek();
    return t !== undefined && ((t.kind === 'op' && ops.includes(t.value)) || (t.kind === 'id' && ops.includes(t.value)));
  };
  const binary = (next: () => Value, ops: string[], f: (op: string, a: number, b: number) => number): (() => Value) => () => {
    let left = next();
    while (isOp(...ops)) {
      const op = take().value as string;
      const right = next();
      left = pointwise([left, right], length, (a, b) => f(op, a, b));
    }
    return left;
  };
  const primary = (): Value => {
    const t = take();
    if (t === undefined) throw new Error(`unexpected end of ${expression}`);
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op' && t.value === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.kind === 'op' && (t.value === '-' || t.value === '!')) {
      const v = primary();
      return pointwise([v], length, (x) => (t.value === '-' ? -x : x === 0 ? 1 : 0));
    }
    if (t.kind === 'id' && t.value === 'NOT') return pointwise([primary()], length, (x) => (x === 0 ? 1 : 0));
    if (t.kind === 'id' && peek()?.kind === 'op' && peek()!.value === '(') {
      take('(');
      const args: Value[] = [or()];
      while (isOp(',')) {
        take(',');
        args.push(or());
      }
      take(')');
      return call(t.value, args);
    }
    if (t.kind === 'id') {
      const s = metrics[t.value];
      if (!s) throw new Error(`unknown metric id ${t.value} in ${expression}`);
      return s;
    }
    throw new Error(`unexpected ${t.value} in ${expression}`);
  };
  const call = (name: string, args: Value[]): Value => {
    switch (name) {
      case 'DIFF': {
        const s = args[0] as Series;
        let previous: number | undefined;
        return s.map((x) => {
          if (x === undefined) return undefined;
          const d = previous === undefined ? undefined : x - previous;
          previous = x;
          return d;
        });
      }
      case 'IF':
        return pointwise([args[0], args[1], args[2] ?? 0], length, (c, a, b) => (c !== 0 ? a : b));
      case 'FILL':
        return Array.from({ length }, (_, k) => (args[0] as Series)[k] ?? (args[1] as number));
      default:
        throw new Error(`function ${name} is not modelled`);
    }
  };
  const product = binary(primary, ['*', '/'], (op, a, b) => (op === '*' ? a * b : a / b));
  const sum = binary(product, ['+', '-'], (op, a, b) => (op === '+' ? a + b : a - b));
  const comparison = binary(sum, ['==', '!=', '<', '<=', '>', '>='], (op, a, b) => {
    const r = { '==': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b }[op];
    return r ? 1 : 0;
  });
  const and = binary(comparison, ['AND', '&&'], (_, a, b) => (a !== 0 && b !== 0 ? 1 : 0));
  const or = binary(and, ['OR', '||'], (_, a, b) => (a !== 0 || b !== 0 ? 1 : 0));
  const result = or();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i].value} in ${expression}`);
  return typeof result === 'number' ? Array(length).fill(result) : result;
}
