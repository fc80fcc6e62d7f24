import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ApdexDefinition } from './apdex-definition';
import { CollectorFunction } from './collector-function';
import { credentialsConfig, resolveFieldNames } from './connection-config';
import { DebugChecks, debugChecksErrors } from './debug-checks';
import { DebugChecksOptions } from './debug-checks-options';
import { ElasticDocumentFields, WafStatusValues } from './document-fields';
import {
  CONTAINER_INSIGHTS_WARNING_ID,
  containerInsightsProblem,
  EcsServiceMetricSet,
  ecsServiceMetrics,
  MISSING_TASKS_EXPRESSION,
} from './ecs-service-metrics';
import { ECS_CRASH_CAUSES, ECS_GROUP_DIMENSION, ECS_METRIC, EcsTaskMonitoring } from './ecs-task-monitoring';
import { ElasticCredentials } from './elastic-credentials';
import { ElasticWafMetrics } from './elastic-waf-metrics';
import { ElasticWafMonitorAlarms, MonitorAlarmOptions } from './monitor-alarm-options';
import { AlarmDefinition, alarmDefinitionErrors, alarmThreshold, createMonitorAlarm, periodErrors } from './monitor-alarms';
import { createMonitorDashboard } from './monitor-dashboard';
import { encryptedAlarmTopic } from '../shared/alarm-topic';
import { limitLength } from '../shared/cfn-text';
import { allowVpcNetworking, handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';
import { dashboardNameError, emailAddressErrors, metricNamespaceError } from '../shared/validation';
import {
  COLLECTOR_CONFIG_ENV,
  clusterNameErrors,
  CollectorConfig,
  DEFAULT_STATUS_VALUES,
  endpointErrors,
  LIMITS,
} from './runtime/config';

/** Properties of {@link ElasticWafMonitor}. */
export interface ElasticWafMonitorProps {
  /**
   * URL of the Elasticsearch cluster, e.g. `https://waf-logs.es.eu-west-1.aws.elastic-cloud.com:443`. Must be
   * `https://` (see `allowInsecureHttp`) and must not contain user info (`user:password@`): credentials come only from
   * `credentials`.
   */
  readonly endpoint: string;
  /**
   * Accept an `http://` endpoint. The credentials then travel unencrypted, so only set this for a cluster reachable
   * solely inside your VPC (with `vpc`), never across the internet.
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
  /** The secret the collector authenticates with; only this secret is readable by the collector. */
  readonly credentials: ElasticCredentials;
  /** Index pattern of the WAF's request documents, e.g. `waf-logs-*`. */
  readonly indexPattern: string;
  /**
   * Field names of the request documents.
   * @default - the defaults listed on ElasticDocumentFields
   */
  readonly fields?: ElasticDocumentFields;
  /**
   * Values of the status field.
   * @default - allowed, blocked, alerted
   */
  readonly statusValues?: WafStatusValues;
  /**
   * VPC to run the collector in, for a cluster reachable only from inside it. The subnets then need a route to
   * Secrets Manager (NAT or an interface endpoint).
   * @default - the collector runs outside any VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the collector.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the collector in `vpc`.
   * @default - a new group allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * How often the collector runs, in whole minutes.
   * @default Duration.minutes(5)
   */
  readonly collectionInterval?: Duration;
  /**
   * Length of the window each run measures; at least the interval, so no request falls between windows.
   * @default - the collection interval
   */
  readonly window?: Duration;
  /**
   * How long before the run the window ends, so documents still being indexed are not missed.
   * @default Duration.minutes(1)
   */
  readonly ingestDelay?: Duration;
  /**
   * Requests slower than this count as timeouts.
   * @default Duration.seconds(240)
   */
  readonly timeoutThreshold?: Duration;
  /**
   * Apdex target T: requests up to T satisfy, up to 4T are tolerated, slower ones frustrate.
   * @default Duration.millis(30)
   */
  readonly apdexThreshold?: Duration;
  /**
   * Which requests Apdex counts: all requests with `<= T` satisfied and `(T, 4T]` tolerating, or allowed requests only
   * with `< T` satisfied and `[T, 4T)` tolerating.
   * @default ApdexDefinition.ALL_REQUESTS
   */
  readonly apdexDefinition?: ApdexDefinition;
  /**
   * How many of the slowest hosts each run logs for the dashboard's table (1..100).
   * @default 15
   */
  readonly topHostCount?: number;
  /**
   * `shard_size` of the slowest-hosts ranking (100..20,000). The ranking orders hosts by average latency, which
   * Elasticsearch computes exactly only when no shard cuts its list of hosts: it is exact while no shard holds more
   * distinct hosts in one window than this. Each run counts the window's distinct hosts and logs a
   * `TopHostsApproximate` warning above it. Larger values cost cluster memory per run.
   * @default 5000
   */
  readonly topHostsShardSize?: number;
  /**
   * Time limit of each Elasticsearch request. The collector's own timeout is this plus 30 s, and must fit the
   * collection interval so runs never overlap.
   * @default Duration.seconds(30)
   */
  readonly requestTimeout?: Duration;
  /**
   * CloudWatch namespace of the metrics.
   * @default 'WafGuard/Elastic'
   */
  readonly metricNamespace?: string;
  /**
   * Value of the `Cluster` dimension on every metric, telling monitors in one namespace apart.
   * @default - the construct's id
   */
  readonly clusterName?: string;
  /**
   * Alarm thresholds and periods.
   * @default - every alarm with its documented defaults
   */
  readonly alarms?: ElasticWafMonitorAlarms;
  /**
   * Email addresses subscribed to the topic the monitor creates. Not together with `alarmTopic`: subscribe the
   * addresses to your own topic instead.
   * @default - no subscription; subscribe to `alarmTopic` yourself
   */
  readonly alertEmails?: string[];
  /**
   * Topic the alarms notify, instead of one the monitor creates; its subscriptions are yours to manage.
   * @default - a new topic encrypted with a new KMS key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * ECS service running the WAF: its task state changes are logged and crashed tasks raise an alarm.
   * @default - no ECS monitoring
   */
  readonly ecsService?: ecs.IBaseService;
  /**
   * Other alarms of the team (the WAF's load balancer, the upstreams...) to list in the dashboard's alarm status widget
   * beside the monitor's own. They are only shown: the monitor adds no actions to them.
   * @default - only the monitor's alarms
   */
  readonly additionalAlarms?: cloudwatch.IAlarm[];
  /**
   * Log group of the WAF's containers: WARNING and ERROR lines are counted and alarmed on.
   * @default - no log line monitoring
   */
  readonly ecsLogGroup?: logs.ILogGroup;
  /**
   * One-click debugging on the dashboard: per customer, buttons that check the WAF, the upstream (from inside and
   * outside the WAF's VPC) and DNS, with the results in a popup and a log group.
   * @default - no debugging checks
   */
  readonly debugChecks?: DebugChecksOptions;
  /**
   * Name of the dashboard.
   * @default - generated by CloudFormation
   */
  readonly dashboardName?: string;
  /**
   * Retention of the log groups the monitor creates.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups and the topic key when the monitor is removed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const DEFAULTS = {
  interval: Duration.minutes(5),
  ingestDelay: Duration.minutes(1),
  timeoutThreshold: Duration.seconds(240),
  apdexThreshold: Duration.millis(30),
  topN: 15,
  requestTimeout: Duration.seconds(30),
  namespace: 'WafGuard/Elastic',
};

/** Time the collector needs besides its Elasticsearch requests: reading the secret, writing logs. */
const COLLECTOR_OVERHEAD = Duration.seconds(30);

/**
 * WAF health from the request documents in Elasticsearch: a scheduled collector turns each window into CloudWatch
 * metrics (latency, slowest 5%, status split, latency against earlier windows, Apdex, node CPU/heap/disk) and logs the
 * slowest hosts; a dashboard shows them, and alarms notify an SNS topic.
 */
export class ElasticWafMonitor extends Construct {
  /** The scheduled collector function. */
  public readonly collector: lambda.IFunction;
  /** The collector's log group: its errors, the top-N host events and the EMF metric lines. */
  public readonly collectorLogGroup: logs.ILogGroup;
  /** The collector's role: its own log group and the credentials secret, nothing else. */
  public readonly collectorRole: iam.IRole;
  /** The rule that runs the collector. */
  public readonly schedule: events.IRule;
  /** The collector's security groups when it runs in a VPC (empty otherwise); allow them into the cluster's. */
  public readonly collectorSecurityGroups: ec2.ISecurityGroup[];
  /** The topic every alarm notifies. */
  public readonly alarmTopic: sns.ITopic;
  /** The key of the alarm topic, when the monitor created the topic. */
  public readonly alarmTopicKey?: kms.IKey;
  /** The metrics the collector emits. */
  public readonly metrics: ElasticWafMetrics;
  /** The WAF health dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm created. */
  public readonly alarms: cloudwatch.IAlarm[];
  /** Alarm on average WAF latency too high; undefined when that alarm is disabled. */
  public readonly latencyAlarm?: cloudwatch.IAlarm;
  /** Alarm on Apdex too low; undefined when that alarm is disabled. */
  public readonly apdexAlarm?: cloudwatch.IAlarm;
  /** Alarm on share of blocked requests too high; undefined when that alarm is disabled. */
  public readonly blockedPercentAlarm?: cloudwatch.IAlarm;
  /** Alarm on busiest node CPU too high; undefined when that alarm is disabled. */
  public readonly nodeCpuAlarm?: cloudwatch.IAlarm;
  /** Alarm on fullest node JVM heap too high; undefined when that alarm is disabled. */
  public readonly nodeHeapAlarm?: cloudwatch.IAlarm;
  /** Alarm on node with the least free disk too low; undefined when that alarm is disabled. */
  public readonly nodeDiskFreeAlarm?: cloudwatch.IAlarm;
  /** Alarm on collector runs failing; undefined when that alarm is disabled. */
  public readonly collectorErrorsAlarm?: cloudwatch.IAlarm;
  /** Alarm on WARNING/ERROR lines of the ECS service, with `ecsLogGroup`. */
  public readonly ecsLogErrorsAlarm?: cloudwatch.IAlarm;
  /** Alarm on crashed ECS tasks, with `ecsService`. */
  public readonly ecsTaskCrashesAlarm?: cloudwatch.IAlarm;
  /** Alarm on the ECS service's average CPU, with `ecsService`. */
  public readonly ecsCpuAlarm?: cloudwatch.IAlarm;
  /** Alarm on the ECS service's average memory, with `ecsService`. */
  public readonly ecsMemoryAlarm?: cloudwatch.IAlarm;
  /** Alarm on fewer running tasks than desired (needs Container Insights), with `ecsService`. */
  public readonly ecsRunningTasksAlarm?: cloudwatch.IAlarm;
  /** Debugging checker in the WAF's VPC, with `debugChecks`. */
  public readonly debugCheckerInside?: lambda.IFunction;
  /** Debugging checker outside the VPC, with `debugChecks`. */
  public readonly debugCheckerOutside?: lambda.IFunction;
  /** Function behind the debugging custom widget, with `debugChecks`; it may invoke only the two checkers. */
  public readonly debugWidgetFunction?: lambda.IFunction;
  /** Log groups of the debugging checks (one event per host and check) and of the widget, with `debugChecks`. */
  public readonly debugLogGroups: logs.ILogGroup[];
  /** Log group of the ECS service's task state changes, with `ecsService`. */
  public readonly ecsTaskEventsLogGroup?: logs.ILogGroup;
  /** Rule sending the ECS service's task state changes to `ecsTaskEventsLogGroup`, with `ecsService`. */
  public readonly ecsTaskStateRule?: events.IRule;

  constructor(scope: Construct, id: string, props: ElasticWafMonitorProps) {
    super(scope, id);

    const interval = props.collectionInterval ?? DEFAULTS.interval;
    const window = props.window ?? interval;
    const ingestDelay = props.ingestDelay ?? DEFAULTS.ingestDelay;
    const timeoutThreshold = props.timeoutThreshold ?? DEFAULTS.timeoutThreshold;
    const apdexT = props.apdexThreshold ?? DEFAULTS.apdexThreshold;
    const requestTimeout = props.requestTimeout ?? DEFAULTS.requestTimeout;
    const namespace = props.metricNamespace ?? DEFAULTS.namespace;
    const clusterName = props.clusterName ?? id;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const credentials = props.credentials;

    const config: CollectorConfig = {
      endpoint: props.endpoint,
      ...(props.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
      indexPattern: props.indexPattern,
      fields: resolveFieldNames(props.fields),
      statusValues: {
        allowed: props.statusValues?.allowed ?? DEFAULT_STATUS_VALUES.allowed,
        blocked: props.statusValues?.blocked ?? DEFAULT_STATUS_VALUES.blocked,
        alerted: props.statusValues?.alerted ?? DEFAULT_STATUS_VALUES.alerted,
      },
      intervalMs: interval.toMilliseconds(),
      windowMs: window.toMilliseconds(),
      ingestDelayMs: ingestDelay.toMilliseconds(),
      timeoutThresholdMs: timeoutThreshold.toMilliseconds(),
      apdexTMs: apdexT.toMilliseconds(),
      ...(props.apdexDefinition === ApdexDefinition.ALLOWED_REQUESTS ? { apdexDefinition: 'allowedRequests' as const } : {}),
      topN: props.topHostCount ?? DEFAULTS.topN,
      ...(props.topHostsShardSize === undefined ? {} : { hostShardSize: props.topHostsShardSize }),
      namespace,
      clusterName,
      requestTimeoutMs: requestTimeout.toMilliseconds(),
      credentials: credentialsConfig(credentials),
    };

    // Before any metric is built: CloudWatch's own checks would fail first, with messages naming no prop.
    this.failOn([
      ...validateProps(props, { interval, window, ingestDelay, requestTimeout, clusterName, namespace }),
      ...periodErrors('alarms.period', props.alarms?.period),
      ...debugChecksErrors(props.debugChecks),
    ]);

    this.metrics = new ElasticWafMetrics({ namespace, clusterName, period: interval });
    const alarmPeriod = props.alarms?.period ?? interval;
    const m = this.metrics;
    const alarmOptions = props.alarms ?? {};
    const definitions: Record<string, AlarmDefinition> = {
      latency: {
        id: 'LatencyAlarm',
        metric: m.latencyAverage(),
        options: alarmOptions.latency,
        defaultThreshold: 4 * config.apdexTMs,
        defaultEvaluationPeriods: 3,
        thresholdRange: { min: 0, max: Number.MAX_SAFE_INTEGER, unit: 'ms' },
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        describe: (t) => `Average WAF latency of ${clusterName} above ${t} ms. Check the dashboard's slowest hosts and the WAF service.`,
      },
      apdex: {
        id: 'ApdexAlarm',
        metric: m.apdex(),
        options: alarmOptions.apdex,
        defaultThreshold: 0.85,
        defaultEvaluationPeriods: 3,
        thresholdRange: { min: 0, max: 1, unit: '(Apdex score)' },
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        describe: (t) => `Apdex (T = ${config.apdexTMs} ms) of ${clusterName} below ${t}: many requests are slower than ${config.apdexTMs} ms.`,
      },
      blockedPercent: {
        id: 'BlockedPercentAlarm',
        metric: m.blockedPercent(),
        options: alarmOptions.blockedPercent,
        defaultThreshold: 25,
        defaultEvaluationPeriods: 2,
        thresholdRange: { min: 0, max: 100, unit: 'percent' },
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        describe: (t) => `More than ${t}% of the requests to ${clusterName} are blocked: an attack, or a rule blocking legitimate traffic.`,
      },
      nodeCpu: utilisationAlarm('NodeCpuAlarm', m.nodeCpuPercentMax(), alarmOptions.nodeCpu, 90,
        (t) => `An Elasticsearch node of ${clusterName} uses more than ${t}% CPU. The dashboard's node graph shows which.`),
      nodeHeap: utilisationAlarm('NodeHeapAlarm', m.nodeHeapUsedPercentMax(), alarmOptions.nodeHeap, 85,
        (t) => `An Elasticsearch node of ${clusterName} uses more than ${t}% of its JVM heap.`),
      nodeDiskFree: {
        id: 'NodeDiskFreeAlarm',
        metric: m.nodeDiskFreePercentMin(),
        options: alarmOptions.nodeDiskFree,
        defaultThreshold: 15,
        defaultEvaluationPeriods: 1,
        thresholdRange: { min: 0, max: 100, unit: 'percent' },
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        describe: (t) => `An Elasticsearch node of ${clusterName} has less than ${t}% disk free; at 5% indices become read-only.`,
      },
      collectorErrors: {
        id: 'CollectorErrorsAlarm',
        metric: m.collectorErrors(),
        options: alarmOptions.collectorErrors,
        defaultThreshold: 1,
        defaultEvaluationPeriods: 2,
        thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'errors' },
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // Every run reports the metric, 0 included: no data means the collector is not running.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        describe: () => `The WAF health collector of ${clusterName} fails or does not run. Its log lines with event "collector-error" say why.`,
      },
    };

    const ecsMonitoring =
      props.ecsService || props.ecsLogGroup
        ? new EcsTaskMonitoring(this, 'Ecs', {
          namespace,
          service: props.ecsService,
          serviceLogGroup: props.ecsLogGroup,
          logRetention,
          removalPolicy,
        })
        : undefined;
    const ecsMetrics: cloudwatch.Metric[] = [];
    if (ecsMonitoring?.logWarningsErrorsMetric) {
      const metric = ecsMonitoring.logWarningsErrorsMetric.metric({ statistic: 'Sum', label: 'WARNING/ERROR lines' });
      ecsMetrics.push(metric);
      definitions.ecsLogErrors = {
        id: 'EcsLogErrorsAlarm',
        metric,
        options: alarmOptions.ecsLogErrors,
        defaultThreshold: 10,
        defaultEvaluationPeriods: 1,
        thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'lines' },
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        describe: (t) => `The WAF service logged at least ${t} WARNING/ERROR lines in a period.`,
      };
    }
    if (ecsMonitoring?.taskCrashesMetric && ecsMonitoring.serviceGroup) {
      const metric = new cloudwatch.Metric({
        namespace,
        metricName: ECS_METRIC.taskCrashes,
        dimensionsMap: { [ECS_GROUP_DIMENSION]: ecsMonitoring.serviceGroup },
        statistic: 'Sum',
        label: 'Crashed tasks',
      });
      ecsMetrics.push(metric, ...ecsMonitoring.taskCrashCauseMetrics.map(({ cause }) => new cloudwatch.Metric({
        namespace,
        metricName: cause.metricName,
        dimensionsMap: { [ECS_GROUP_DIMENSION]: ecsMonitoring.serviceGroup! },
        statistic: 'Sum',
        label: `Crashed: ${cause.label}`,
      })));
      definitions.ecsTaskCrashes = {
        id: 'EcsTaskCrashesAlarm',
        metric,
        options: alarmOptions.ecsTaskCrashes,
        defaultThreshold: 1,
        defaultEvaluationPeriods: 1,
        thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'tasks' },
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        describe: () => `A task of the WAF service crashed: ${ECS_CRASH_CAUSES.map((c) => c.label).join(', ')}. ` +
          'The dashboard graph shows which; the task state log group has the reason. Deliberate stops are not counted.',
      };
    }

    const ecsService = props.ecsService ? ecsServiceMetrics(props.ecsService, interval) : undefined;
    if (ecsService && props.ecsService) {
      Object.assign(definitions, ecsServiceAlarmDefinitions(ecsService, props.ecsService.serviceName, alarmOptions));
      const insights = containerInsightsProblem(props.ecsService);
      if (insights) Annotations.of(this).addWarningV2(CONTAINER_INSIGHTS_WARNING_ID, insights);
    }

    this.failOn(Object.entries(definitions).flatMap(([name, d]) => alarmDefinitionErrors(name, d)));

    const defaults = handlerDefaults(this, 'Collector', {
      description: `Collects WAF health of ${clusterName} from Elasticsearch into CloudWatch metrics`,
      logRetention,
      removalPolicy,
      timeout: requestTimeout.plus(COLLECTOR_OVERHEAD),
      memorySize: 256,
      environment: { [COLLECTOR_CONFIG_ENV]: JSON.stringify(config) },
    });
    if (props.vpc) allowVpcNetworking(defaults.role);
    const fn = new CollectorFunction(this, 'Collector', {
      ...defaults.functionOptions,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups,
      // A failed run is not retried: the next scheduled run is the retry, and retries pile onto a struggling cluster.
      retryAttempts: 0,
    });
    credentials.secret.grantRead(defaults.role);
    suppressNag(fn, [pinnedRuntime()]);
    this.collector = fn;
    this.collectorRole = defaults.role;
    this.collectorLogGroup = defaults.logGroup;
    this.collectorSecurityGroups = props.vpc ? fn.connections.securityGroups : [];

    this.schedule = new events.Rule(this, 'Schedule', {
      description: limitLength(`Runs the WAF health collector of ${clusterName}`, 512),
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.seconds(Math.max(60, interval.toSeconds())) })],
    });

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      const { topic, key } = encryptedAlarmTopic(this, {
        keyDescription: `Encrypts the WAF health alarm topic of ${clusterName}`,
        displayName: `WAF health alarms: ${clusterName}`,
        removalPolicy,
      });
      this.alarmTopic = topic;
      this.alarmTopicKey = key;
    }
    for (const email of props.alertEmails ?? []) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    const created: Record<string, cloudwatch.IAlarm | undefined> = {};
    for (const [name, definition] of Object.entries(definitions)) {
      created[name] = createMonitorAlarm(this, definition, alarmPeriod, this.alarmTopic);
    }
    this.latencyAlarm = created.latency;
    this.apdexAlarm = created.apdex;
    this.blockedPercentAlarm = created.blockedPercent;
    this.nodeCpuAlarm = created.nodeCpu;
    this.nodeHeapAlarm = created.nodeHeap;
    this.nodeDiskFreeAlarm = created.nodeDiskFree;
    this.collectorErrorsAlarm = created.collectorErrors;
    this.ecsLogErrorsAlarm = created.ecsLogErrors;
    this.ecsTaskCrashesAlarm = created.ecsTaskCrashes;
    this.ecsCpuAlarm = created.ecsCpu;
    this.ecsMemoryAlarm = created.ecsMemory;
    this.ecsRunningTasksAlarm = created.ecsRunningTasks;
    this.alarms = Object.values(created).filter((a): a is cloudwatch.IAlarm => a !== undefined);
    this.ecsTaskEventsLogGroup = ecsMonitoring?.taskEventsLogGroup;
    this.ecsTaskStateRule = ecsMonitoring?.taskStateRule;

    const debug = props.debugChecks
      ? new DebugChecks(this, 'Debug', { ...props.debugChecks, logRetention, removalPolicy })
      : undefined;
    this.debugCheckerInside = debug?.insideChecker;
    this.debugCheckerOutside = debug?.outsideChecker;
    this.debugWidgetFunction = debug?.widgetFunction;
    this.debugLogGroups = (debug?.logGroups ?? []).map((l) => l.logGroup);

    this.dashboard = createMonitorDashboard(this, 'Dashboard', {
      debug: debug ? { widget: debug.widget, logGroups: debug.logGroups } : undefined,
      dashboardName: props.dashboardName,
      metrics: this.metrics,
      clusterName,
      indexPattern: props.indexPattern,
      interval,
      window,
      apdexTMs: config.apdexTMs,
      apdexDefinition: props.apdexDefinition ?? ApdexDefinition.ALL_REQUESTS,
      timeoutThreshold,
      topN: config.topN,
      latencyThresholdMs: alarmThreshold(definitions.latency),
      apdexThreshold: alarmThreshold(definitions.apdex),
      alarms: [...this.alarms, ...(props.additionalAlarms ?? [])],
      ecsService: ecsService
        ? {
          metrics: ecsService,
          cpuThreshold: alarmThreshold(definitions.ecsCpu),
          memoryThreshold: alarmThreshold(definitions.ecsMemory),
        }
        : undefined,
      collectorLogGroup: this.collectorLogGroup,
      ecsLogGroup: props.ecsLogGroup,
      ecsTaskEventsLogGroup: this.ecsTaskEventsLogGroup,
      ecsMetrics,
    });
  }

  private failOn(errors: string[]): void {
    if (errors.length > 0) {
      throw new Error(`ElasticWafMonitor ${this.node.path}: invalid props:\n- ${[...new Set(errors)].join('\n- ')}`);
    }
  }
}

/** A percentage that alarms above its threshold for 3 of 3 periods (no data: not breaching). */
function utilisationAlarm(
  id: string, metric: cloudwatch.Metric, options: MonitorAlarmOptions | undefined, defaultThreshold: number,
  describe: (threshold: number) => string,
): AlarmDefinition {
  return {
    id,
    metric,
    options,
    defaultThreshold,
    defaultEvaluationPeriods: 3,
    thresholdRange: { min: 0, max: 100, unit: 'percent' },
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    describe,
  };
}

/** CPU, memory and running-task alarms of the WAF's ECS service. */
function ecsServiceAlarmDefinitions(
  metrics: EcsServiceMetricSet,
  serviceName: string,
  options: ElasticWafMonitorAlarms,
): Record<string, AlarmDefinition> {
  return {
    ecsCpu: utilisationAlarm('EcsCpuAlarm', metrics.cpuAverage, options.ecsCpu, 85,
      (t) => `The WAF service ${serviceName} uses more than ${t}% CPU on average: scale it out or look for a traffic surge.`),
    ecsMemory: utilisationAlarm('EcsMemoryAlarm', metrics.memoryAverage, options.ecsMemory, 85,
      (t) => `The WAF service ${serviceName} uses more than ${t}% of its memory on average; tasks near 100% are killed.`),
    ecsRunningTasks: {
      id: 'EcsRunningTasksAlarm',
      metric: metrics.runningTasks,
      math: { expression: MISSING_TASKS_EXPRESSION, usingMetrics: { desired: metrics.desiredTasks, running: metrics.runningTasks } },
      options: options.ecsRunningTasks,
      defaultThreshold: 1,
      defaultEvaluationPeriods: 3,
      thresholdRange: { min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'tasks' },
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Without Container Insights there is no data: the alarm stays OK rather than paging for a missing feature.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      describe: (t) => `At least ${t} task(s) of the WAF service ${serviceName} fewer running than desired. The task state log group says why tasks stopped.`,
    },
  };
}

// Printable ASCII (a CloudWatch dimension value) without quotes or backslashes, so the name can sit inside the
// dashboard's SEARCH expressions unescaped.
const CLUSTER_NAME_PATTERN = /^[\x20-\x21\x23-\x26\x28-\x5b\x5d-\x7e]{1,200}$/;

function validateProps(
  props: ElasticWafMonitorProps,
  resolved: {
    interval: Duration;
    window: Duration;
    ingestDelay: Duration;
    requestTimeout: Duration;
    clusterName: string;
    namespace: string;
  },
): string[] {
  const errors: string[] = [];
  // An endpoint known only at deployment is checked by the collector with the same rules.
  if (!Token.isUnresolved(props.endpoint)) {
    errors.push(...endpointErrors(props.endpoint, props.allowInsecureHttp === true));
  }
  if (!Token.isUnresolved(props.indexPattern) && props.indexPattern.trim() === '') {
    errors.push('indexPattern must not be empty');
  }
  const seconds = (d: Duration) => d.toSeconds({ integral: false });
  const { interval, window, ingestDelay, requestTimeout } = resolved;
  if (!(seconds(interval) >= 60 && seconds(interval) % 60 === 0)) {
    errors.push(`collectionInterval must be a whole number of minutes (>= 1), got ${interval.toHumanString()}`);
  }
  if (seconds(window) < seconds(interval)) {
    errors.push(`window (${window.toHumanString()}) must be at least collectionInterval (${interval.toHumanString()}), or requests between windows are never counted`);
  }
  if (window.toMilliseconds() > LIMITS.windowMaxMs) {
    errors.push(`window must be at most 1 day, got ${window.toHumanString()}`);
  }
  if (seconds(ingestDelay) > 3600) {
    errors.push(`ingestDelay must be at most 1 hour, got ${ingestDelay.toHumanString()}`);
  }
  if (seconds(requestTimeout) < 1) {
    errors.push(`requestTimeout must be at least 1 second, got ${requestTimeout.toHumanString()}`);
  }
  if (seconds(requestTimeout) + seconds(COLLECTOR_OVERHEAD) > seconds(interval)) {
    errors.push(`requestTimeout (${requestTimeout.toHumanString()}) plus ${COLLECTOR_OVERHEAD.toHumanString()} must fit in collectionInterval (${interval.toHumanString()}) so runs never overlap; lower requestTimeout or raise collectionInterval`);
  }
  const topN = props.topHostCount;
  if (topN !== undefined && !(Number.isInteger(topN) && topN >= LIMITS.topNMin && topN <= LIMITS.topNMax)) {
    errors.push(`topHostCount must be a whole number from ${LIMITS.topNMin} to ${LIMITS.topNMax}, got ${topN}`);
  }
  const shardSize = props.topHostsShardSize;
  if (shardSize !== undefined && !(Number.isInteger(shardSize) && shardSize >= LIMITS.hostShardSizeMin && shardSize <= LIMITS.hostShardSizeMax)) {
    errors.push(`topHostsShardSize must be a whole number from ${LIMITS.hostShardSizeMin} to ${LIMITS.hostShardSizeMax}, got ${shardSize}`);
  } else if (shardSize !== undefined && shardSize < (topN ?? DEFAULTS.topN)) {
    errors.push(`topHostsShardSize (${shardSize}) must be at least topHostCount`);
  }
  if (props.apdexThreshold !== undefined && !(props.apdexThreshold.toMilliseconds() > 0)) {
    errors.push('apdexThreshold must be greater than 0 ms');
  }
  if (props.timeoutThreshold !== undefined && !(props.timeoutThreshold.toMilliseconds() > 0)) {
    errors.push('timeoutThreshold must be greater than 0 s');
  }
  if (!Token.isUnresolved(resolved.namespace)) {
    const namespaceError = metricNamespaceError('metricNamespace', resolved.namespace);
    if (namespaceError) errors.push(namespaceError);
  }
  if (props.dashboardName !== undefined && !Token.isUnresolved(props.dashboardName)) {
    const nameError = dashboardNameError('dashboardName', props.dashboardName);
    if (nameError) errors.push(nameError);
  }
  const serviceName = props.ecsService?.serviceName;
  // The crash metric's dimension is the task group `service:<name>`, and aws-cdk-lib allows dimension values of 255.
  if (serviceName !== undefined && !Token.isUnresolved(serviceName) && `service:${serviceName}`.length > 255) {
    errors.push(`ecsService: a service name of ${serviceName.length} characters is too long for the crash alarm's ` +
      'ServiceGroup dimension ("service:<name>", at most 255): monitor a service whose name has at most 247 characters');
  }
  if (!Token.isUnresolved(resolved.clusterName)) {
    if (!CLUSTER_NAME_PATTERN.test(resolved.clusterName)) {
      errors.push(`clusterName must be 1-200 of A-Z a-z 0-9 space . _ : / # @ + = -, got "${resolved.clusterName}"`);
    }
    const defaulted = props.clusterName === undefined ? ' (it defaults to the construct id: give clusterName)' : '';
    errors.push(...clusterNameErrors(resolved.clusterName).map((e) => `${e}${defaulted}`));
  }
  errors.push(...emailAddressErrors('alertEmails', props.alertEmails, (email) => Token.isUnresolved(email)));
  // Subscribing addresses to a topic the monitor does not own would change someone else's notifications.
  if (props.alarmTopic && (props.alertEmails ?? []).length > 0) {
    errors.push('Give either alarmTopic or alertEmails, not both: subscribe the addresses to your own topic instead');
  }
  if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
    errors.push('vpcSubnets and securityGroups need vpc; give vpc too, or leave them out');
  }
  const fields = { ...(props.fields ?? {}) } as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value.trim() === '') errors.push(`fields.${name} must not be empty; leave it out to use the default`);
  }
  const statusValues = [
    props.statusValues?.allowed ?? DEFAULT_STATUS_VALUES.allowed,
    props.statusValues?.blocked ?? DEFAULT_STATUS_VALUES.blocked,
    props.statusValues?.alerted ?? DEFAULT_STATUS_VALUES.alerted,
  ];
  if (statusValues.some((v) => v.trim() === '')) {
    errors.push('statusValues must not be empty strings; leave a value out to use its default');
  } else if (new Set(statusValues).size !== statusValues.length) {
    errors.push(`statusValues must be three different values, got ${statusValues.join(', ')}`);
  }
  return errors;
}
