import { INDEX, wafDoc } from './es-fixtures';
import { MockCluster, collectOver } from './mock-cluster';
import { AlarmState, evaluateAlarm, MetricStore } from '../../examples/monitor-local-run/alarm-model';
import { synthesizedMonitor } from '../../examples/monitor-local-run/scenario';
import { Doc, EvaluatedCluster } from '../support/elasticsearch-evaluator';

/**
 * The monitor's cluster health alarms, read from the synthesized template, evaluated over the EMF lines the collector
 * writes while the fake cluster goes red, yellow and rejects requests: each goes to ALARM and back to OK.
 */
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

const synthesize = () => synthesizedMonitor('prod');

test('red pages at once, a lasting yellow pages, rejections page in their period; each goes back to OK', async () => {
  const { alarms, config } = synthesize();
  const P = config.intervalMs;
  const docs = Array.from({ length: 20 }, (_, i) => wafDoc(new Date(T0 + i * 60_000), 20, 'allowed', 'h.example.com')) as unknown as Doc[];
  const cluster = new EvaluatedCluster([{ name: INDEX, docs, shards: 2, replicas: 1 }], [
    { id: 'n1', name: 'es-1', rejected: { search: 500 } },
    { id: 'n2', name: 'es-2' },
  ]);
  const mock = new MockCluster().serve(cluster);
  const store = new MetricStore();
  const find = (text: string) => {
    const found = alarms.filter((a) => a.description.includes(text));
    expect(found).toHaveLength(1);
    return found[0];
  };
  const watched = {
    red: find('is red'),
    yellow: find('has not been green'),
    unassigned: find('stay unassigned'),
    search: find('search request(s) in a period'),
  };
  const states: Record<keyof typeof watched, AlarmState[]> = { red: [], yellow: [], unassigned: [], search: [] };
  const previous: Record<string, AlarmState> = {};
  const scenario: Array<(c: EvaluatedCluster) => void> = [
    () => undefined,
    () => undefined,
    (c) => c.setFailedShards(INDEX, [1]), // 2: a shard without any copy
    (c) => c.setFailedShards(INDEX, []), // 3: recovered
    (c) => c.removeNode('n2'), // 4-6: the replicas have no node
    () => undefined,
    () => undefined,
    (c) => c.addNode({ id: 'n2', name: 'es-2' }), // 7: back
    (c) => c.reject('n1', 'search', 40), // 8: a full search queue
    (c) => c.restartNode('n1'), // 9: a restart, no rejection
    () => undefined, // 10
  ];
  for (const [k, change] of scenario.entries()) {
    change(cluster);
    const silent = () => undefined;
    await collectOver(mock, {
      config,
      now: new Date(T0 + (k + 1) * P + 90_000),
      logger: { info: silent, warn: silent, error: silent },
      writeEmf: (line) => store.addEmfLine(line),
    });
    for (const [name, spec] of Object.entries(watched) as Array<[keyof typeof watched, (typeof watched)['red']]>) {
      const state = evaluateAlarm(spec, store, T0 + (k + 1) * P, previous[name] ?? 'OK');
      previous[name] = state;
      states[name].push(state);
    }
  }
  const A = 'ALARM';
  expect(states.red).toEqual(['OK', 'OK', A, 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
  // red in period 2 counts as not green too, but one period is not a lasting yellow
  expect(states.yellow).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK', A, 'OK', 'OK', 'OK', 'OK']);
  // unassigned for 3 of the 6 periods it needs: a rolling restart's gap does not page
  expect(states.unassigned).toEqual(Array(11).fill('OK'));
  // 40 rejections in period 8 (1 of 2 periods: still in the window in period 9); the restart in 9 pages nobody
  expect(states.search).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', A, A, 'OK']);
});
