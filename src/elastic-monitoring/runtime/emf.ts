/**
 * CloudWatch Embedded Metric Format: a JSON log line that CloudWatch Logs turns into metrics, so the collector needs
 * no PutMetricData permission and no extra API call. Written here rather than with Powertools Metrics because one run
 * emits several dimension sets (cluster, per node, per offset) with the window's timestamp, not the run's.
 */

export type MetricUnit = 'Milliseconds' | 'Seconds' | 'Count' | 'Percent' | 'None';

export interface MetricDatum {
  readonly name: string;
  readonly unit: MetricUnit;
  /** Undefined values are left out: an absent datapoint, not a misleading zero. */
  readonly value: number | undefined;
}

export interface EmfDocument {
  readonly namespace: string;
  readonly timestamp: Date;
  /** Dimension name to value; all of them form the one dimension set of the document. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: readonly MetricDatum[];
}

/** CloudWatch accepts at most 100 metrics per EMF directive. */
const MAX_METRICS_PER_LINE = 100;

/** CloudWatch rejects empty, non-ASCII or over-long dimension values; keep what a node name usually is. */
export function dimensionValue(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const ascii = raw.replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 250);
  return ascii === '' ? 'unknown' : ascii;
}

/** One EMF log line per 100 metrics; nothing when no metric has a value. */
export function renderEmf(doc: EmfDocument): string[] {
  const present = doc.metrics.filter((m) => m.value !== undefined && Number.isFinite(m.value));
  const dimensionNames = Object.keys(doc.dimensions);
  const reserved = new Set(['_aws', ...dimensionNames]);
  for (const m of present) {
    if (reserved.has(m.name)) throw new Error(`metric name ${m.name} collides with a dimension or _aws`);
  }
  const lines: string[] = [];
  for (let i = 0; i < present.length; i += MAX_METRICS_PER_LINE) {
    const chunk = present.slice(i, i + MAX_METRICS_PER_LINE);
    const line: Record<string, unknown> = {
      _aws: {
        Timestamp: doc.timestamp.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: doc.namespace,
            Dimensions: [dimensionNames],
            Metrics: chunk.map((m) => ({ Name: m.name, Unit: m.unit })),
          },
        ],
      },
    };
    for (const name of dimensionNames) line[name] = dimensionValue(doc.dimensions[name]);
    for (const m of chunk) line[m.name] = m.value;
    lines.push(JSON.stringify(line));
  }
  return lines;
}
