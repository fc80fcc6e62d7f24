import { Log, MetricsSink } from '../../src/shared/runtime/telemetry';

/** Collects what the runtime logs and measures, for assertions. */
export class Recorder implements Log, MetricsSink {
  public readonly logs: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  public readonly metrics = new Map<string, number>();

  public info(message: string, extra?: Record<string, unknown>): void { this.logs.push({ level: 'info', message, extra }); }
  public warn(message: string, extra?: Record<string, unknown>): void { this.logs.push({ level: 'warn', message, extra }); }
  public error(message: string, extra?: Record<string, unknown>): void { this.logs.push({ level: 'error', message, extra }); }
  public add(name: string, value: number): void { this.metrics.set(name, (this.metrics.get(name) ?? 0) + value); }
}
