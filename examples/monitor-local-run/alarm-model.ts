/**
 * A model of CloudWatch alarm evaluation, read from a synthesized template, for running the monitor's alarms locally
 * against the metrics the collector writes as EMF. It follows the documented rules: each period's datapoint is the
 * alarm's statistic over the values in it; the alarm is in ALARM when at least `DatapointsToAlarm` of the
 * `EvaluationPeriods` datapoints it judges breach, missing ones handled as `evaluateAlarm` describes. Metric math alarms are
 * evaluated with the subset of the expression language the library uses (arithmetic, comparisons, DIFF, FILL, IF, MAX,
 * MIN, ABS).
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly periodSeconds: number;
}

export interface AlarmSpec {
  readonly logicalId: string;
  readonly description: string;
  readonly comparison: string;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: string;
  readonly periodSeconds: number;
  /** A plain metric alarm. */
  readonly metric?: MetricRef;
  /** A metric math alarm: the expression and the metrics it names. */
  readonly math?: { readonly expression: string; readonly metrics: Readonly<Record<string, MetricRef>> };
}

type Json = Record<string, any>;

/** Every alarm of a template whose dimensions are plain strings (a deploy-time value cannot be matched locally). */
export function alarmsFromTemplate(template: Json): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  for (const [logicalId, resource] of Object.entries<Json>(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = resource.Properties;
    const base = {
      logicalId,
      description: typeof p.AlarmDescription === 'string' ? p.AlarmDescription : '',
      comparison: p.ComparisonOperator,
      threshold: Number(p.Threshold),
      evaluationPeriods: Number(p.EvaluationPeriods),
      datapointsToAlarm: Number(p.DatapointsToAlarm ?? p.EvaluationPeriods),
      treatMissingData: p.TreatMissingData ?? 'missing',
    };
    if (p.MetricName) {
      const metric = metricRef(p.Namespace, p.MetricName, p.Dimensions, p.Statistic ?? p.ExtendedStatistic, p.Period);
      if (metric) specs.push({ ...base, periodSeconds: metric.periodSeconds, metric });
      continue;
    }
    const queries: Json[] = p.Metrics ?? [];
    const result = queries.find((q) => q.ReturnData !== false && q.Expression);
    if (!result) continue;
    const metrics: Record<string, MetricRef> = {};
    let usable = true;
    for (const q of queries) {
      if (!q.MetricStat) continue;
      const ms = q.MetricStat;
      const ref = metricRef(ms.Metric.Namespace, ms.Metric.MetricName, ms.Metric.Dimensions, ms.Stat, ms.Period);
      if (ref) metrics[q.Id] = ref; else usable = false;
    }
    if (!usable) continue;
    const periodSeconds = Math.max(...Object.values(metrics).map((m) => m.periodSeconds));
    specs.push({ ...base, periodSeconds, math: { expression: result.Expression, metrics } });
  }
  return specs;
}

function metricRef(
  namespace: unknown, metricName: unknown, dimensions: Json[] | undefined, statistic: unknown, period: unknown,
): MetricRef | undefined {
  if (typeof namespace !== 'string' || typeof metricName !== 'string' || typeof statistic !== 'string') return undefined;
  const dims: Record<string, string> = {};
  for (const d of dimensions ?? []) {
    if (typeof d.Value !== 'string') return undefined;
    dims[d.Name] = d.Value;
  }
  return { namespace, metricName, dimensions: dims, statistic, periodSeconds: Number(period) };
}

/** Datapoints by metric (namespace, name and exact dimension set), as CloudWatch Logs extracts them from EMF lines. */
export class MetricStore {
  private readonly points = new Map<string, Array<{ readonly time: number; readonly value: number; readonly arrivedAt: number }>>();

  /**
   * One EMF log line, written at `arrivedAt` (ms; default: its own timestamp). A datapoint stamped before it was
   * written (the collector stamps the window's start) is not there for evaluations in between.
   */
  addEmfLine(line: string, arrivedAt?: number): void {
    const doc = JSON.parse(line) as Json;
    const time = Number(doc._aws.Timestamp);
    for (const directive of doc._aws.CloudWatchMetrics as Json[]) {
      for (const names of directive.Dimensions as string[][]) {
        const dimensions = Object.fromEntries(names.map((n) => [n, String(doc[n])]));
        for (const m of directive.Metrics as Json[]) {
          const value = doc[m.Name];
          if (typeof value !== 'number') continue;
          this.add({ namespace: directive.Namespace, metricName: m.Name, dimensions }, time, value, arrivedAt ?? time);
        }
      }
    }
  }

  add(metric: Pick<MetricRef, 'namespace' | 'metricName' | 'dimensions'>, time: number, value: number, arrivedAt = time): void {
    const key = metricKey(metric);
    const list = this.points.get(key) ?? [];
    list.push({ time, value, arrivedAt });
    this.points.set(key, list);
  }

  /**
   * The statistic over the period starting at `start` (ms) of the values arrived by `asOf`; undefined when the period
   * has none.
   */
  datapoint(metric: MetricRef, start: number, asOf = Number.POSITIVE_INFINITY): number | undefined {
    const end = start + metric.periodSeconds * 1000;
    const values = (this.points.get(metricKey(metric)) ?? [])
      .filter((p) => p.time >= start && p.time < end && p.arrivedAt <= asOf).map((p) => p.value);
    if (values.length === 0) return undefined;
    switch (metric.statistic) {
      case 'Sum': return values.reduce((a, b) => a + b, 0);
      case 'Average': return values.reduce((a, b) => a + b, 0) / values.length;
      case 'Maximum': return Math.max(...values);
      case 'Minimum': return Math.min(...values);
      case 'SampleCount': return values.length;
      default: throw new Error(`statistic ${metric.statistic} is not modelled`);
    }
  }
}

function metricKey(m: Pick<MetricRef, 'namespace' | 'metricName' | 'dimensions'>): string {
  const dims = Object.keys(m.dimensions).sort().map((k) => `${k}=${m.dimensions[k]}`).join(',');
  return `${m.namespace}|${m.metricName}|${dims}`;
}

/** The alarm's value for the period starting at `start`: the metric's datapoint or the expression's result. */
export function alarmValue(spec: AlarmSpec, store: MetricStore, start: number, asOf?: number): number | undefined {
  if (spec.metric) return store.datapoint(spec.metric, start, asOf);
  const math = spec.math!;
  const period = spec.periodSeconds * 1000;
  const series = (id: string, at: number) => {
    const ref = math.metrics[id];
    if (!ref) throw new Error(`${spec.logicalId}: expression names unknown metric ${id}`);
    return store.datapoint(ref, at, asOf);
  };
  return evaluateExpression(math.expression, series, start, period);
}

function breaches(spec: AlarmSpec, value: number): boolean {
  switch (spec.comparison) {
    case 'GreaterThanThreshold': return value > spec.threshold;
    case 'GreaterThanOrEqualToThreshold': return value >= spec.threshold;
    case 'LessThanThreshold': return value < spec.threshold;
    case 'LessThanOrEqualToThreshold': return value <= spec.threshold;
    default: throw new Error(`comparison ${spec.comparison} is not modelled`);
  }
}

/**
 * Periods CloudWatch retrieves per evaluation beyond `EvaluationPeriods` (its "evaluation range"). The documentation
 * gives 5 for 3 evaluation periods and says the exact number depends on the period; 2 more is the documented example.
 */
export const EXTRA_PERIODS_RETRIEVED = 2;

/**
 * The state after evaluating at `now` (ms), given the state before, by CloudWatch's documented rules ("How alarm state
 * is evaluated when data is missing"): it retrieves the evaluation range (the last `EvaluationPeriods` + 2 whole
 * periods, with the datapoints arrived by `now`); with at least `EvaluationPeriods` existing datapoints it judges the
 * most recent of those and ignores the missing ones, so a datapoint that is merely late never counts as missing;
 * otherwise it fills as few missing datapoints as needed the way `TreatMissingData` says.
 */
export function evaluateAlarm(spec: AlarmSpec, store: MetricStore, now: number, previous: AlarmState): AlarmState {
  const period = spec.periodSeconds * 1000;
  const end = Math.floor(now / period) * period;
  const n = spec.evaluationPeriods;
  const range: Array<number | undefined> = [];
  for (let i = n + EXTRA_PERIODS_RETRIEVED; i >= 1; i--) range.push(alarmValue(spec, store, end - i * period, now));
  const existing = range.filter((v): v is number => v !== undefined);
  const breachingOf = (values: number[]) => values.filter((v) => breaches(spec, v)).length;
  if (existing.length >= n) return breachingOf(existing.slice(-n)) >= spec.datapointsToAlarm ? 'ALARM' : 'OK';
  const fills = n - existing.length;
  switch (spec.treatMissingData) {
    case 'breaching': return breachingOf(existing) + fills >= spec.datapointsToAlarm ? 'ALARM' : 'OK';
    case 'notBreaching': return breachingOf(existing) >= spec.datapointsToAlarm ? 'ALARM' : 'OK';
    default: {
      // `missing` and `ignore`: a non-breaching datapoint decides OK; none at all, or only breaching ones, follow the
      // documented table rows (ALARM only when the oldest datapoint of the range breaches, for `missing`).
      if (existing.length > 0 && breachingOf(existing) < existing.length) return breachingOf(existing) >= spec.datapointsToAlarm ? 'ALARM' : 'OK';
      if (spec.treatMissingData === 'ignore') return previous;
      return existing.length > 0 && range[0] !== undefined ? 'ALARM' : 'INSUFFICIENT_DATA';
    }
  }
}

// The metric math subset: numbers, metric ids, + - * /, comparisons, and a few functions.
type Series = (id: string, start: number) => number | undefined;

export function evaluateExpression(expression: string, series: Series, start: number, period: number): number | undefined {
  const tokens = expression.match(/\s*([A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|>=|<=|==|!=|[-+*/(),<>\[\]])/g)?.map((t) => t.trim()) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '')) throw new Error(`cannot parse metric math "${expression}"`);
  let pos = 0;
  type Node = (at: number) => number | undefined;
  const peek = () => tokens[pos];
  const take = (expected?: string) => {
    const t = tokens[pos++];
    if (expected !== undefined && t !== expected) throw new Error(`metric math "${expression}": expected ${expected}, got ${t}`);
    return t;
  };
  const binary = (l: Node, r: Node, op: (a: number, b: number) => number): Node => (at) => {
    const a = l(at); const b = r(at);
    return a === undefined || b === undefined ? undefined : op(a, b);
  };
  const comparison = (): Node => {
    let left = additive();
    while (['>', '<', '>=', '<=', '==', '!='].includes(peek())) {
      const op = take();
      const right = additive();
      const f = {
        '>': (a: number, b: number) => a > b,
        '<': (a: number, b: number) => a < b,
        '>=': (a: number, b: number) => a >= b,
        '<=': (a: number, b: number) => a <= b,
        '==': (a: number, b: number) => a === b,
        '!=': (a: number, b: number) => a !== b,
      }[op]!;
      left = binary(left, right, (a, b) => (f(a, b) ? 1 : 0));
    }
    return left;
  };
  const additive = (): Node => {
    let left = term();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      left = binary(left, term(), op === '+' ? (a, b) => a + b : (a, b) => a - b);
    }
    return left;
  };
  const term = (): Node => {
    let left = unary();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      left = binary(left, unary(), op === '*' ? (a, b) => a * b : (a, b) => (b === 0 ? Number.NaN : a / b));
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') { take(); const inner = unary(); return (at) => { const v = inner(at); return v === undefined ? undefined : -v; }; }
    return primary();
  };
  const args = (): Node[] => {
    take('(');
    const list: Node[] = [];
    if (peek() === '[') {
      take('[');
      while (peek() !== ']') { list.push(comparison()); if (peek() === ',') take(','); }
      take(']');
    } else {
      while (peek() !== ')') { list.push(comparison()); if (peek() === ',') take(','); }
    }
    take(')');
    return list;
  };
  const primary = (): Node => {
    const t = take();
    if (t === '(') { const inner = comparison(); take(')'); return inner; }
    if (/^\d/.test(t)) { const n = Number(t); return () => n; }
    if (peek() === '(') {
      const a = args();
      switch (t) {
        case 'DIFF': return (at) => { const now = a[0](at); const before = a[0](at - period); return now === undefined || before === undefined ? undefined : now - before; };
        case 'FILL': return (at) => a[0](at) ?? a[1](at);
        case 'ABS': return (at) => { const v = a[0](at); return v === undefined ? undefined : Math.abs(v); };
        case 'IF': return (at) => { const c = a[0](at); if (c === undefined) return undefined; return c !== 0 ? a[1](at) : (a[2] ? a[2](at) : undefined); };
        case 'MAX': case 'MIN': return (at) => {
          const vs = a.map((n) => n(at)).filter((v): v is number => v !== undefined);
          return vs.length === 0 ? undefined : (t === 'MAX' ? Math.max(...vs) : Math.min(...vs));
        };
        default: throw new Error(`metric math function ${t} is not modelled`);
      }
    }
    return (at) => series(t, at);
  };
  const root = comparison();
  if (pos !== tokens.length) throw new Error(`metric math "${expression}": unexpected ${tokens[pos]}`);
  const value = root(start);
  return value === undefined || Number.isNaN(value) ? undefined : value;
}
