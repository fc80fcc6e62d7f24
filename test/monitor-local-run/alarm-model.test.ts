import { AlarmSpec, alarmsFromTemplate, evaluateAlarm, evaluateExpression, MetricStore } from '../../examples/monitor-local-run/alarm-model';

const NS = 'Test';
const P = 300_000;
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

function alarmTemplate(props: Record<string, unknown>) {
  return {
    Resources: {
      A: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 10,
          EvaluationPeriods: 3,
          Namespace: NS,
          MetricName: 'M',
          Dimensions: [{ Name: 'Cluster', Value: 'c' }],
          Statistic: 'Maximum',
          Period: 300,
          ...props,
        },
      },
      Other: { Type: 'AWS::SNS::Topic', Properties: {} },
    },
  };
}

function storeWith(values: Array<number | undefined>, metricName = 'M'): MetricStore {
  const store = new MetricStore();
  values.forEach((v, i) => {
    if (v !== undefined) store.add({ namespace: NS, metricName, dimensions: { Cluster: 'c' } }, T0 + i * P + 1000, v);
  });
  return store;
}

function stateAfter(spec: AlarmSpec, values: Array<number | undefined>): string {
  return evaluateAlarm(spec, storeWith(values), T0 + values.length * P, 'OK');
}

describe('alarm model', () => {
  test('reads plain and math alarms from a template and skips other resources', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({}));
    expect(spec).toMatchObject({ logicalId: 'A', threshold: 10, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'missing', periodSeconds: 300 });
    const math = alarmsFromTemplate(alarmTemplate({
      MetricName: undefined,
      Namespace: undefined,
      Dimensions: undefined,
      Statistic: undefined,
      Period: undefined,
      Metrics: [
        { Id: 'expr', Expression: 'DIFF(m)', ReturnData: true },
        { Id: 'm', ReturnData: false, MetricStat: { Metric: { Namespace: NS, MetricName: 'M', Dimensions: [{ Name: 'Cluster', Value: 'c' }] }, Stat: 'Maximum', Period: 300 } },
      ],
    }));
    expect(math[0].math?.expression).toBe('DIFF(m)');
  });

  test('N of N breaching periods alarm; one good period among them keeps OK', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({}));
    expect(stateAfter(spec, [11, 12, 13])).toBe('ALARM');
    expect(stateAfter(spec, [11, 5, 13])).toBe('OK');
  });

  test('M of N: two breaching of three alarm with DatapointsToAlarm 2', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({ DatapointsToAlarm: 2 }));
    expect(stateAfter(spec, [11, 5, 13])).toBe('ALARM');
    expect(stateAfter(spec, [1, 5, 13])).toBe('OK');
  });

  // The two tables of CloudWatch's "How alarm state is evaluated when data is missing" (5 datapoints retrieved for 3
  // evaluation periods; oldest first; 0 not breaching, X breaching, - missing).
  const table = (datapointsToAlarm: number, rows: Array<[string, string, string, string, string]>) => {
    for (const [points, missing, ignore, breaching, notBreaching] of rows) {
      const values = points.split(' ').map((p) => (p === '-' ? undefined : p === 'X' ? 20 : 0));
      for (const [mode, expected] of [['missing', missing], ['ignore', ignore], ['breaching', breaching], ['notBreaching', notBreaching]]) {
        const [spec] = alarmsFromTemplate(alarmTemplate({ DatapointsToAlarm: datapointsToAlarm, TreatMissingData: mode }));
        const state = evaluateAlarm(spec, storeWith(values), T0 + values.length * P, 'OK');
        expect(`${points} ${mode}: ${expected === 'retain' ? 'OK' : expected}`).toBe(`${points} ${mode}: ${state}`);
      }
    }
  };

  test('missing data: the documented table for 3 of 3', () => {
    table(3, [
      ['0 - X - X', 'OK', 'OK', 'OK', 'OK'],
      ['0 - - - -', 'OK', 'OK', 'OK', 'OK'],
      ['- - - - -', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
      ['0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
      ['- - - - X', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
      ['X - - - -', 'ALARM', 'retain', 'ALARM', 'OK'],
    ]);
  });

  test('missing data: the documented table for 2 of 3', () => {
    table(2, [
      ['0 - X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
      ['0 0 X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
      ['0 - X - -', 'OK', 'OK', 'ALARM', 'OK'],
      ['- - - - 0', 'OK', 'OK', 'ALARM', 'OK'],
      ['- - - - X', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
    ]);
  });

  test('ignore keeps the state it had', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({ TreatMissingData: 'ignore' }));
    expect(evaluateAlarm(spec, storeWith([undefined, undefined, undefined, undefined, undefined]), T0 + 5 * P, 'ALARM')).toBe('ALARM');
  });

  test('the period statistic is taken over every value in the period', () => {
    const store = new MetricStore();
    const metric = { namespace: NS, metricName: 'M', dimensions: { Cluster: 'c' } };
    for (const v of [1, 5, 3]) store.add(metric, T0 + 10_000 * v, v);
    store.add(metric, T0 + P, 100);
    const ref = { ...metric, periodSeconds: 300 };
    expect(store.datapoint({ ...ref, statistic: 'Sum' }, T0)).toBe(9);
    expect(store.datapoint({ ...ref, statistic: 'Average' }, T0)).toBe(3);
    expect(store.datapoint({ ...ref, statistic: 'Maximum' }, T0)).toBe(5);
    expect(store.datapoint({ ...ref, statistic: 'Minimum' }, T0)).toBe(1);
    expect(store.datapoint({ ...ref, statistic: 'SampleCount' }, T0 + P)).toBe(1);
  });

  test('EMF lines become datapoints under their exact dimension set', () => {
    const store = new MetricStore();
    store.addEmfLine(JSON.stringify({ _aws: { Timestamp: T0, CloudWatchMetrics: [{ Namespace: NS, Dimensions: [['Cluster']], Metrics: [{ Name: 'M', Unit: 'Count' }] }] }, Cluster: 'c', M: 7 }));
    store.addEmfLine(JSON.stringify({ _aws: { Timestamp: T0, CloudWatchMetrics: [{ Namespace: NS, Dimensions: [['Cluster', 'Node']], Metrics: [{ Name: 'M', Unit: 'Count' }] }] }, Cluster: 'c', Node: 'n', M: 99 }));
    expect(store.datapoint({ namespace: NS, metricName: 'M', dimensions: { Cluster: 'c' }, statistic: 'Maximum', periodSeconds: 300 }, T0)).toBe(7);
  });

  test('metric math: arithmetic, DIFF against the previous period, FILL, MAX, IF and comparisons', () => {
    const values: Record<string, Array<number | undefined>> = { a: [3, 10, undefined], b: [1, 4, 2] };
    const series = (id: string, at: number) => values[id][(at - T0) / P];
    const at = (i: number) => T0 + i * P;
    expect(evaluateExpression('a - b', series, at(1), P)).toBe(6);
    expect(evaluateExpression('(a + b) * 2 / 4', series, at(0), P)).toBe(2);
    expect(evaluateExpression('DIFF(a)', series, at(1), P)).toBe(7);
    expect(evaluateExpression('a - b', series, at(2), P)).toBeUndefined();
    expect(evaluateExpression('FILL(a, 0)', series, at(2), P)).toBe(0);
    expect(evaluateExpression('MAX([DIFF(b), 0])', series, at(2), P)).toBe(0);
    expect(evaluateExpression('IF(a > 5, 1, 0)', series, at(1), P)).toBe(1);
    expect(() => evaluateExpression('ANOMALY_DETECTION_BAND(a)', series, at(1), P)).toThrow(/not modelled/);
  });
});

describe('alarm model: late datapoints', () => {
  test('a datapoint written after its period does not exist for evaluations before it arrives', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({ EvaluationPeriods: 1, TreatMissingData: 'breaching' }));
    const store = new MetricStore();
    // Stamped at the period's start, written 7.5 minutes later, as the collector does.
    store.add({ namespace: NS, metricName: 'M', dimensions: { Cluster: 'c' } }, T0, 1, T0 + 450_000);
    expect(evaluateAlarm(spec, store, T0 + P + 60_000, 'OK')).toBe('ALARM');
    expect(evaluateAlarm(spec, store, T0 + P + 450_000, 'OK')).toBe('OK');
  });

  test('late datapoints are skipped, not filled, while the evaluation range holds enough earlier ones', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({ EvaluationPeriods: 2, TreatMissingData: 'breaching' }));
    // Good datapoints up to the period before last; the last one has not arrived.
    expect(evaluateAlarm(spec, storeWith([1, 1, 1, undefined]), T0 + 4 * P, 'OK')).toBe('OK');
    // A collector that stopped: one good datapoint left in the range still outvotes a single fill; then none is left.
    expect(evaluateAlarm(spec, storeWith([1, undefined, undefined, undefined]), T0 + 4 * P, 'OK')).toBe('OK');
    expect(evaluateAlarm(spec, storeWith([1, undefined, undefined, undefined, undefined]), T0 + 5 * P, 'OK')).toBe('ALARM');
  });

  test('evaluation looks at whole periods before the evaluation time', () => {
    const [spec] = alarmsFromTemplate(alarmTemplate({ EvaluationPeriods: 1 }));
    const store = storeWith([20, 1]);
    expect(evaluateAlarm(spec, store, T0 + P + 299_000, 'OK')).toBe('ALARM');
    expect(evaluateAlarm(spec, store, T0 + 2 * P, 'OK')).toBe('OK');
  });
});
