import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ApdexDefinition } from './apdex-definition';
import { EcsServiceMetricSet } from './ecs-service-metrics';
import { ElasticWafMetrics } from './elastic-waf-metrics';
import { escapeMarkdown, logGroupLink } from './markdown';
import { TOP_HOST_APPROXIMATE_FIELD, TOP_HOST_EVENT } from './runtime/metric-names';

export interface MonitorDashboardInput {
  readonly dashboardName?: string;
  readonly metrics: ElasticWafMetrics;
  readonly clusterName: string;
  readonly indexPattern: string;
  readonly interval: Duration;
  readonly window: Duration;
  readonly apdexTMs: number;
  readonly apdexDefinition: ApdexDefinition;
  readonly timeoutThreshold: Duration;
  readonly topN: number;
  readonly latencyThresholdMs?: number;
  readonly apdexThreshold?: number;
  readonly timeoutPercentThreshold?: number;
  readonly serverErrorPercentThreshold?: number;
  readonly freshnessThresholdSeconds?: number;
  readonly trafficFloor?: number;
  readonly jvmMemoryPressureThreshold?: number;
  /** The cluster answers node stats and cluster health (not Serverless). */
  readonly nodeFigures: boolean;
  readonly alarms: cloudwatch.IAlarm[];
  readonly collectorLogGroup: logs.ILogGroup;
  readonly ecsLogGroup?: logs.ILogGroup;
  readonly ecsTaskEventsLogGroup?: logs.ILogGroup;
  readonly ecsMetrics: cloudwatch.IMetric[];
  readonly debug?: MonitorDashboardDebug;
  readonly ecsService?: {
    readonly metrics: EcsServiceMetricSet;
    readonly cpuThreshold?: number;
    readonly memoryThreshold?: number;
  };
}

export interface MonitorDashboardDebug {
  readonly widget: cloudwatch.IWidget;
  readonly logGroups: ReadonlyArray<{ readonly label: string; readonly logGroup: logs.ILogGroup }>;
}

/** An alarm status widget shows at most 100 alarms. */
const ALARMS_PER_WIDGET = 100;

/** Column of the top-N table: how many of a host's lines came from an approximate ranking. */
export const APPROXIMATE_RUNS_COLUMN = 'approximateRuns';

/**
 * The Logs Insights query behind the top-N table: the collector's top-host log lines over the dashboard's range. A line
 * of an approximate ranking carries `approximate: true` (and only then), so `count(approximate)` counts those lines.
 */
export function topHostsQueryLines(topN: number): string[] {
  return [
    `filter event = "${TOP_HOST_EVENT}"`,
    'stats max(avgLatencyMs) as worstAvgLatencyMs, avg(avgLatencyMs) as meanAvgLatencyMs, sum(requests) as requests, '
      + 'sum(timeouts) as timeouts, sum(serverErrors) as serverErrors, latest(customer) as customer, '
      + `count(*) as runs, count(${TOP_HOST_APPROXIMATE_FIELD}) as ${APPROXIMATE_RUNS_COLUMN} by host`,
    'sort worstAvgLatencyMs desc',
    `limit ${topN}`,
  ];
}

/** The monitor's dashboard: one place that says whether the WAF is healthy and where to look when it is not. */
export function createMonitorDashboard(scope: Construct, id: string, input: MonitorDashboardInput): cloudwatch.Dashboard {
  const m = input.metrics;
  const dashboard = new cloudwatch.Dashboard(scope, id, {
    dashboardName: input.dashboardName,
    defaultInterval: Duration.hours(6),
  });

  const links = [logGroupLink(scope, 'Collector: errors and top hosts', input.collectorLogGroup.logGroupName)];
  if (input.ecsLogGroup) links.push(logGroupLink(scope, 'WAF service logs', input.ecsLogGroup.logGroupName));
  if (input.ecsTaskEventsLogGroup) {
    links.push(logGroupLink(scope, 'ECS task state changes', input.ecsTaskEventsLogGroup.logGroupName));
  }
  for (const l of input.debug?.logGroups ?? []) links.push(logGroupLink(scope, l.label, l.logGroup.logGroupName));
  const summary = [
    `# WAF health: ${escapeMarkdown(input.clusterName)}`,
    `Index pattern ${escapeMarkdown(input.indexPattern)}, a ${input.window.toMinutes()} minute window every `
      + `${input.interval.toMinutes()} minutes. ${apdexText(input)}; requests slower than `
      + `${input.timeoutThreshold.toSeconds()} s count as timeouts. A run with PartialRun 1 had failed or timed-out `
      + 'shards: its figures cover part of the documents. In the slowest-hosts table, approximateRuns > 0 means that many '
      + 'of the host\'s runs ranked more distinct hosts than topHostsShardSize: the rank and figures of those runs may be '
      + 'off (see the TopHostsApproximate warning).',
    '',
    '**Debugging log groups**',
    '',
    ...links,
  ].join('\n');

  const latencyAnnotations: cloudwatch.HorizontalAnnotation[] =
    input.latencyThresholdMs === undefined ? [] : [{ value: input.latencyThresholdMs, label: 'Latency alarm (p95)' }];
  const apdexAnnotations: cloudwatch.HorizontalAnnotation[] =
    input.apdexThreshold === undefined ? [] : [{ value: input.apdexThreshold, label: 'Apdex alarm' }];
  const annotation = (value: number | undefined, label: string): cloudwatch.HorizontalAnnotation[] =>
    value === undefined ? [] : [{ value, label }];

  dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: summary, width: 24, height: 6 + Math.ceil((input.debug?.logGroups.length ?? 0) / 2) }));
  if (input.debug) dashboard.addWidgets(input.debug.widget);
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'WAF latency (ms)',
      left: [
        m.latencyP95(), m.latencyP99(), m.latencyAverage(), m.latencyAverageWithoutTimeouts(), m.slowest5PctAverage(),
        m.slowest5PctAverageWithoutTimeouts(),
      ],
      leftYAxis: { min: 0, label: 'ms', showUnits: false },
      leftAnnotations: latencyAnnotations,
      width: 12,
      height: 7,
    }),
    new cloudwatch.GraphWidget({
      title: 'Requests by status',
      left: [m.allowedCount(), m.blockedCount(), m.alertedCount()],
      right: [m.timeoutCount()],
      stacked: true,
      leftYAxis: { min: 0 },
      rightYAxis: { min: 0 },
      width: 12,
      height: 7,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Requests per window',
      left: [m.requestCount()],
      leftYAxis: { min: 0 },
      leftAnnotations: annotation(input.trafficFloor, 'Traffic floor alarm'),
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Status split (%)',
      left: [m.allowedPercent(), m.blockedPercent(), m.alertedPercent()],
      leftYAxis: { min: 0, max: 100, showUnits: false },
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Collector: errors and partial runs',
      left: [m.collectorErrors()],
      right: [m.partialRun()],
      leftYAxis: { min: 0 },
      rightYAxis: { min: 0, max: 1 },
      width: 8,
      height: 6,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Log pipeline: age of the newest document (s)',
      left: [m.newestDocumentAgeSeconds()],
      leftYAxis: { min: 0, showUnits: false },
      leftAnnotations: annotation(input.freshnessThresholdSeconds, 'Freshness alarm (no data also alarms)'),
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Timeouts and HTTP 5xx (% of requests)',
      left: [m.timeoutPercent(), m.serverErrorPercent()],
      leftYAxis: { min: 0, showUnits: false },
      leftAnnotations: [
        ...annotation(input.timeoutPercentThreshold, 'Timeout alarm'),
        ...annotation(input.serverErrorPercentThreshold, '5xx alarm'),
      ],
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Documents without latency or status (not errors)',
      left: [m.documentsWithoutLatency(), m.documentsWithoutStatus()],
      leftYAxis: { min: 0 },
      width: 8,
      height: 6,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Average latency vs earlier windows (ms)',
      left: ElasticWafMetrics.comparisonOffsets().map((o) => m.latencyAverageByOffset(o)),
      leftYAxis: { min: 0, showUnits: false },
      width: 12,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: input.apdexDefinition === ApdexDefinition.ALLOWED_REQUESTS
        ? `Apdex of allowed requests (T = ${input.apdexTMs} ms)`
        : `Apdex (T = ${input.apdexTMs} ms)`,
      left: [m.apdex()],
      leftYAxis: { min: 0, max: 1, showUnits: false },
      leftAnnotations: apdexAnnotations,
      width: 12,
      height: 6,
    }),
  );
  const percentPerNode = (title: string, metric: cloudwatch.IMetric) =>
    new cloudwatch.GraphWidget({ title, left: [metric], leftYAxis: { min: 0, max: 100, showUnits: false }, width: 8, height: 6 });
  // Serverless has no nodes to report: graphs that could only stay empty are left out.
  if (input.nodeFigures) {
    dashboard.addWidgets(
      percentPerNode('Node CPU (%)', m.nodeCpuPercentPerNode()),
      percentPerNode('Node JVM heap used (%)', m.nodeHeapUsedPercentPerNode()),
      new cloudwatch.GaugeWidget({
        title: 'Node disk free (%)',
        metrics: [m.nodeDiskFreePercentPerNode()],
        leftYAxis: { min: 0, max: 100 },
        width: 8,
        height: 6,
      }),
    );
    dashboard.addWidgets(...clusterHealthWidgets(m, input.jvmMemoryPressureThreshold));
  }
  if (input.ecsService) dashboard.addWidgets(...ecsServiceWidgets(input.ecsService));
  for (let i = 0; i < input.alarms.length; i += ALARMS_PER_WIDGET) {
    const part = input.alarms.length > ALARMS_PER_WIDGET ? ` (${i / ALARMS_PER_WIDGET + 1})` : '';
    const alarms = input.alarms.slice(i, i + ALARMS_PER_WIDGET);
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: `Alarms${part}`, alarms, width: 24, height: 3 + Math.floor(alarms.length / 8) }),
    );
  }
  const bottom: cloudwatch.IWidget[] = [
    new cloudwatch.LogQueryWidget({
      title: `Top ${input.topN} slowest hosts (approximateRuns > 0: ranked approximately in that many runs)`,
      logGroupNames: [input.collectorLogGroup.logGroupName],
      queryLines: topHostsQueryLines(input.topN),
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      width: input.ecsMetrics.length > 0 ? 16 : 24,
      height: 8,
    }),
  ];
  if (input.ecsMetrics.length > 0) {
    bottom.push(
      new cloudwatch.GraphWidget({
        title: 'WAF service: warnings/errors and crashed tasks',
        left: input.ecsMetrics,
        leftYAxis: { min: 0 },
        width: 8,
        height: 8,
      }),
    );
  }
  dashboard.addWidgets(...bottom);
  return dashboard;
}

function apdexText(input: MonitorDashboardInput): string {
  return input.apdexDefinition === ApdexDefinition.ALLOWED_REQUESTS
    ? `Apdex of allowed requests only, T ${input.apdexTMs} ms (satisfied under T, tolerating from T to under 4T)`
    : `Apdex of all requests, T ${input.apdexTMs} ms (satisfied up to T, tolerating above T up to 4T)`;
}

/** Status and unassigned shards, thread-pool rejections per period, and JVM memory pressure per node. */
function clusterHealthWidgets(m: ElasticWafMetrics, pressureThreshold: number | undefined): cloudwatch.IWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'Cluster status (0 green, 1 yellow, 2 red) and unassigned shards',
      left: [m.clusterStatus()],
      right: [m.unassignedShards()],
      leftYAxis: { min: 0, max: 2, showUnits: false },
      rightYAxis: { min: 0, showUnits: false },
      leftAnnotations: [
        { value: 1, label: 'yellow', color: '#ff9900' },
        { value: 2, label: 'red', color: '#d13212' },
      ],
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Rejected requests per period (full thread-pool queues)',
      left: [m.searchRejections(), m.writeRejections()],
      leftYAxis: { min: 0, showUnits: false },
      width: 8,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Node JVM memory pressure (old generation %)',
      left: [m.jvmMemoryPressurePerNode()],
      leftYAxis: { min: 0, max: 100, showUnits: false },
      leftAnnotations: pressureThreshold === undefined ? [] : [{ value: pressureThreshold, label: 'Memory pressure alarm' }],
      width: 8,
      height: 6,
    }),
  ];
}

/** CPU and memory of the WAF's ECS service (`AWS/ECS`), and its running against desired tasks (Container Insights). */
function ecsServiceWidgets(ecs: NonNullable<MonitorDashboardInput['ecsService']>): cloudwatch.IWidget[] {
  const utilisation = (title: string, metrics: cloudwatch.IMetric[], threshold: number | undefined, label: string): cloudwatch.IWidget =>
    new cloudwatch.GraphWidget({
      title,
      left: metrics,
      leftYAxis: { min: 0, max: 100, showUnits: false },
      leftAnnotations: threshold === undefined ? [] : [{ value: threshold, label }],
      width: 8,
      height: 6,
    });
  const m = ecs.metrics;
  return [
    utilisation('WAF service CPU (%)', [m.cpuAverage, m.cpuMaximum], ecs.cpuThreshold, 'CPU alarm'),
    utilisation('WAF service memory (%)', [m.memoryAverage, m.memoryMaximum], ecs.memoryThreshold, 'Memory alarm'),
    new cloudwatch.GraphWidget({
      title: 'WAF service tasks (Container Insights)',
      left: [m.runningTasks, m.desiredTasks],
      leftYAxis: { min: 0 },
      width: 8,
      height: 6,
    }),
  ];
}
