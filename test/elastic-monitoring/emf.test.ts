import { dimensionValue, renderEmf } from '../../src/elastic-monitoring/runtime/emf';
import { runMetrics } from '../../src/elastic-monitoring/runtime/metrics';

const timestamp = new Date('2026-11-21T12:00:00Z');

describe('renderEmf', () => {
  test('renders one CloudWatch EMF document with the given timestamp, dimensions and units', () => {
    const [line] = renderEmf({
      namespace: 'WafGuard/Elastic',
      timestamp,
      dimensions: { Cluster: 'prod' },
      metrics: [
        { name: 'LatencyAverage', unit: 'Milliseconds', value: 12.5 },
        { name: 'RequestCount', unit: 'Count', value: 0 },
      ],
    });
    expect(JSON.parse(line)).toEqual({
      _aws: {
        Timestamp: timestamp.getTime(),
        CloudWatchMetrics: [{
          Namespace: 'WafGuard/Elastic',
          Dimensions: [['Cluster']],
          Metrics: [{ Name: 'LatencyAverage', Unit: 'Milliseconds' }, { Name: 'RequestCount', Unit: 'Count' }],
        }],
      },
      Cluster: 'prod',
      LatencyAverage: 12.5,
      RequestCount: 0,
    });
  });

  test('leaves out undefined and non-finite values (zero stays), and renders nothing without values', () => {
    const lines = renderEmf({
      namespace: 'N',
      timestamp,
      dimensions: { Cluster: 'c' },
      metrics: [
        { name: 'A', unit: 'None', value: undefined },
        { name: 'B', unit: 'None', value: Number.NaN },
        { name: 'C', unit: 'None', value: 0 },
      ],
    });
    const doc = JSON.parse(lines[0]);
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'C', Unit: 'None' }]);
    expect(doc).not.toHaveProperty('A');
    expect(renderEmf({ namespace: 'N', timestamp, dimensions: {}, metrics: [{ name: 'A', unit: 'None', value: undefined }] })).toEqual([]);
  });

  test('splits more than 100 metrics over several lines, as CloudWatch requires', () => {
    const metrics = Array.from({ length: 150 }, (_, i) => ({ name: `M${i}`, unit: 'Count' as const, value: i }));
    const lines = renderEmf({ namespace: 'N', timestamp, dimensions: { Cluster: 'c' }, metrics }).map((l) => JSON.parse(l));
    expect(lines.map((l) => l._aws.CloudWatchMetrics[0].Metrics.length)).toEqual([100, 50]);
    expect(lines[1].M149).toBe(149);
  });

  test('a metric named like a dimension is a programming error', () => {
    expect(() => renderEmf({ namespace: 'N', timestamp, dimensions: { Node: 'x' }, metrics: [{ name: 'Node', unit: 'None', value: 1 }] })).toThrow(/collides/);
  });

  test('dimension values are made acceptable to CloudWatch', () => {
    expect(dimensionValue('  es-hot-1 ')).toBe('es-hot-1');
    expect(dimensionValue('nœud-1')).toBe('n?ud-1');
    expect(dimensionValue('')).toBe('unknown');
    expect(dimensionValue('x'.repeat(400))).toHaveLength(250);
  });
});

describe('runMetrics', () => {
  const target = { namespace: 'WafGuard/Elastic', clusterName: 'prod' };

  test('a run with only an error still reports CollectorErrors', () => {
    const docs = runMetrics(target, timestamp, { errorCount: 1 });
    expect(docs).toHaveLength(1);
    expect(docs[0].metrics).toEqual([{ name: 'CollectorErrors', unit: 'Count', value: 1 }]);
  });

  test('worst-node metrics pick the highest CPU and heap and the lowest disk free, ignoring nodes without the figure', () => {
    const [cluster] = runMetrics(target, timestamp, {
      errorCount: 0,
      nodes: [
        { id: 'a', name: 'n1', cpuPercent: 10, heapUsedPercent: 80, diskFreePercent: 40 },
        { id: 'b', name: 'n2', cpuPercent: 95, heapUsedPercent: undefined, diskFreePercent: 12 },
        { id: 'c', name: 'n3', cpuPercent: undefined, heapUsedPercent: 30, diskFreePercent: undefined },
      ],
    });
    const byName = Object.fromEntries(cluster.metrics.map((m) => [m.name, m.value]));
    expect(byName).toEqual({ CollectorErrors: 0, NodeCpuPercentMax: 95, NodeHeapUsedPercentMax: 80, NodeDiskFreePercentMin: 12 });
  });
});
