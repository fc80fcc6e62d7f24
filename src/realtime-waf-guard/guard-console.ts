import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConsoleWidgetFunction } from './console-widget-function';
import { allowTableActions } from './guard-iam';
import { commonEnvironment, GuardSettings } from './guard-settings';
import { ENV, METRIC } from './handler-env';
import { handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

export interface GuardConsoleProps {
  readonly settings: GuardSettings;
  readonly blocksTable: dynamodb.ITable;
  readonly historyTable: dynamodb.ITable;
  /** Where the log processor logs its decisions and the sync its releases. */
  readonly logProcessorLogGroup: logs.ILogGroup;
  readonly ipSetSyncLogGroup: logs.ILogGroup;
  readonly alarms: cloudwatch.IAlarm[];
  /** The guard's metric factory (namespace, `service` dimension, region). */
  readonly metric: (name: string, props?: cloudwatch.MetricOptions) => cloudwatch.Metric;
}

/** Where the DynamoDB console shows a table's items. */
export function tableConsoleUrl(region: string, tableName: string): string {
  return `https://${region}.console.aws.amazon.com/dynamodbv2/home?region=${region}#item-explorer?table=${tableName}`;
}

/** Log lines the log processor writes per decision (see runtime/log-processor.ts). */
const DECISIONS = '"client blocked", "client would be blocked (COUNT rule)"';

/**
 * The operator console: a dashboard of the guard's health and decisions, with a custom widget that lists blocks and
 * dry-run catches and acts on them (unblock, extend, block, allow-list) through the blocks table. Only principals allowed
 * to invoke the widget function can act; the function can touch nothing but the blocks table.
 */
export class GuardConsole extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly widgetFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: GuardConsoleProps) {
    super(scope, id);
    const { settings, metric } = props;
    const region = Stack.of(this).region;
    const historyUrl = tableConsoleUrl(region, props.historyTable.tableName);

    const widget = handlerDefaults(this, 'ConsoleWidget', {
      description: `Lists and changes the blocks of ${settings.guardName} for its dashboard`,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
      timeout: Duration.seconds(30),
      environment: {
        ...commonEnvironment(settings),
        [ENV.BLOCKS_TABLE]: props.blocksTable.tableName,
        [ENV.HISTORY_URL]: historyUrl,
        // What the operator's actions follow (the CLI reads them from this function's configuration too).
        [ENV.IPV6_PREFIX_LENGTH]: String(settings.ipv6PrefixLength),
        [ENV.ALLOW_WIDEST_PREFIX_IPV4]: String(settings.allowListWidestPrefixIpv4),
        [ENV.ALLOW_WIDEST_PREFIX_IPV6]: String(settings.allowListWidestPrefixIpv6),
      },
    });
    const fn = new ConsoleWidgetFunction(this, 'ConsoleWidget', widget.functionOptions);
    suppressNag(fn, [pinnedRuntime()]);
    // Rows only: the sync applies, announces and records every action, so the widget needs no WAF, SNS or history access.
    allowTableActions(widget.role, props.blocksTable, 'dynamodb:Scan', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    this.widgetFunction = fn;

    const processorLogs = props.logProcessorLogGroup.logGroupName;
    const syncLogs = props.ipSetSyncLogGroup.logGroupName;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const sum = (name: string, label: string) => metric(name, { label });
    const max = (name: string, label: string) => metric(name, { label, statistic: cloudwatch.Stats.MAXIMUM });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
    const perRule = (title: string, logGroup: string, messages: string) => new cloudwatch.LogQueryWidget({
      title,
      logGroupNames: [logGroup],
      view: cloudwatch.LogQueryVisualizationType.BAR,
      queryLines: [`filter message in [${messages}]`, 'stats count(*) as count by bin(1m), ruleId'],
      width: 8,
      height: 6,
    });

    dashboard.addWidgets(new cloudwatch.TextWidget({
      markdown: [
        `# WAF guard ${settings.guardName}`,
        'Blocks and dry-run catches below; every action asks for your name and a reason, is applied by the next sync run, ' +
        'recorded in history and announced in the next digest.',
        `[History table](${historyUrl}) · [Blocks table](${tableConsoleUrl(region, props.blocksTable.tableName)})`,
      ].join('\n\n'),
      width: 24,
      height: 3,
    }));
    dashboard.addWidgets(new cloudwatch.CustomWidget({
      title: 'Blocks and dry-run catches',
      functionArn: fn.functionArn,
      width: 24,
      height: 12,
      updateOnRefresh: true,
      updateOnResize: false,
      updateOnTimeRangeChange: false,
    }));
    dashboard.addWidgets(
      graph('Requests processed (logged lines)', [sum(METRIC.RECORDS, 'lines')]),
      graph('Blocks, would-blocks and releases per minute', [
        sum(METRIC.NEW_BLOCKS, 'blocked'), sum(METRIC.WOULD_BLOCK, 'would block'), sum(METRIC.RELEASES, 'released'),
      ]),
      graph('New-block budget use per minute', [sum(METRIC.NEW_BLOCKS, 'new blocks'), sum(METRIC.BLOCK_BUDGET_EXCEEDED, 'refused: budget spent')], {
        leftAnnotations: [{ value: settings.maxNewBlocksPerMinute, label: 'maxNewBlocksPerMinute', color: '#d13212' }],
      }),
    );
    dashboard.addWidgets(
      perRule('Blocks and would-blocks per rule per minute', processorLogs, DECISIONS),
      perRule('Releases per rule per minute', syncLogs, '"block released"'),
      graph('Active blocks', [
        max(METRIC.ACTIVE_BLOCKS_IPV4, 'IPv4'), max(METRIC.ACTIVE_BLOCKS_IPV6, 'IPv6'), max(METRIC.ACTIVE_BLOCKS_PROXIED, 'forwarded (behind trusted proxies)'),
      ]),
    );
    dashboard.addWidgets(
      graph('Malformed log lines', [sum(METRIC.MALFORMED, 'malformed')]),
      graph('Processing lag (ms)', [max(METRIC.LAG, 'lag')]),
      graph('Sync errors', [sum(METRIC.SYNC_ERRORS, 'errors')]),
    );
    if (settings.counting.slackPercent !== undefined) {
      // What Counting.LOCAL_FIRST keeps out of DynamoDB, and its failures, which no longer show as Lambda errors.
      dashboard.addWidgets(
        graph('Clients held in memory (largest environment)', [max(METRIC.HELD_PAIRS, '(rule, client) pairs')]),
        graph('Counter writes failed, and counts dropped', [
          sum(METRIC.COUNTER_WRITE_ERRORS, 'failed writes (kept in memory)'), sum(METRIC.HELD_COUNTS_DROPPED, 'requests dropped'),
        ]),
        graph('Records delivered again, skipped', [sum(METRIC.RECORDS_ALREADY_COUNTED, 'records')]),
      );
    }
    if (props.alarms.length > 0) {
      dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Operational alarms', alarms: props.alarms, width: 24, height: 3 }));
    }
    dashboard.addWidgets(new cloudwatch.LogQueryWidget({
      title: 'Decisions of the last day (use a 1-day range)',
      logGroupNames: [processorLogs],
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      queryLines: [
        `filter message in [${DECISIONS}]`,
        'fields @timestamp, ip, ruleId, host, action, route, observed, threshold, windowSeconds, fromMillis(blockedUntil) as until',
        'sort @timestamp desc',
        'limit 1000',
      ],
      width: 24,
      height: 8,
    }));
    this.dashboard = dashboard;
  }
}
