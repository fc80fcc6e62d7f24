import { ReportClients, reportSources } from './aws-adapters';
import { DAILY_RUNS_METRIC, MONTHLY_RUNS_METRIC, REPORT_CONFIG_ENV, REPORT_FAILURES_METRIC, ReportConfig, parseReportConfig } from './config';
import { ReportOutputs, ReportResult, runReport } from './report-run';
import { ReportRequest, isScheduledRequest, requestedPeriod } from './request';
import { Log, MetricsSink } from '../../shared/runtime/telemetry';

export interface ReportHandlerDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly clients: ReportClients;
  readonly outputs: (config: ReportConfig) => ReportOutputs;
  readonly log: Log;
  readonly metrics: MetricsSink;
  /** Publishes the metrics of the invocation (Powertools' EMF flush in Lambda). */
  readonly flush?: () => void;
  readonly now?: () => Date;
}

/** What the handler reads of Lambda's context: how long the function may still run. */
export interface RunContext {
  getRemainingTimeInMillis?(): number;
}

export interface ReportSummary {
  readonly period?: string;
  readonly kind?: string;
  readonly files: string[];
  readonly problems: Array<{ source: string; message: string }>;
  readonly messageId?: string;
}

const summary = (r: ReportResult): ReportSummary => ({
  period: r.period, kind: r.kind, files: r.files, problems: r.problems, messageId: r.messageId,
});

/**
 * The handler around its dependencies. It never throws for a problem of a source or an output (they are counted and
 * reported); a bad payload or configuration is counted too, so the alarm sees every failed run.
 */
export function createReportHandler(deps: ReportHandlerDeps): (event: ReportRequest, context?: RunContext) => Promise<ReportSummary> {
  return async (event, context) => {
    // Taken first: parsing and the period take time too.
    const deadline = context?.getRemainingTimeInMillis ? new Date(Date.now() + context.getRemainingTimeInMillis()) : undefined;
    try {
      const config = parseReportConfig(deps.env[REPORT_CONFIG_ENV]);
      const now = deps.now?.() ?? new Date();
      const period = requestedPeriod(event, now, config.timeZone);
      const result = await runReport({
        config,
        period,
        now,
        sources: reportSources(config, deps.clients),
        outputs: deps.outputs(config),
        log: deps.log,
        metrics: deps.metrics,
        deadline,
      });
      // On-demand runs of a named period do not count: they must not hide a scheduled run that never came.
      if (isScheduledRequest(event)) deps.metrics.add(period.kind === 'daily' ? DAILY_RUNS_METRIC : MONTHLY_RUNS_METRIC, 1, 'Count');
      return summary(result);
    } catch (e) {
      const problem = `${(e as Error).name}: ${(e as Error).message}`;
      deps.log.error('report failed', { event: 'report-problem', source: 'request', problem });
      deps.metrics.add(REPORT_FAILURES_METRIC, 1, 'Count');
      return { files: [], problems: [{ source: 'request', message: problem }] };
    } finally {
      deps.flush?.();
    }
  };
}
