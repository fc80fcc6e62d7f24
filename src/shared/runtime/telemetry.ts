import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Structured logging as the runtime code needs it; Powertools' Logger in Lambda, a recorder in tests. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type MetricUnitName = 'Count' | 'Milliseconds';

/** Metric emission; Powertools' EMF Metrics in Lambda (no PutMetricData permission needed). */
export interface MetricsSink {
  add(name: string, value: number, unit: MetricUnitName): void;
}

/** {@link Log} over a Powertools Logger, for handlers that need logging but not Powertools Metrics. */
export function powertoolsLog(logger: Logger = new Logger()): Log {
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}

/** Powertools Logger and Metrics configured from the POWERTOOLS_* environment the constructs set. */
export function powertools(): { log: Log; metrics: MetricsSink; logger: Logger; emf: Metrics } {
  const logger = new Logger();
  const emf = new Metrics();
  return {
    logger,
    emf,
    log: powertoolsLog(logger),
    metrics: {
      add: (name, value, unit) => emf.addMetric(name, unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, value),
    },
  };
}
