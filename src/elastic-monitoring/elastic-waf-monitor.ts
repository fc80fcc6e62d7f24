import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { clusterHealthAlarmDefinitions } from './cluster-health-alarm-definitions';
import { DebugChecks, debugChecksErrors } from './debug-checks';
import { ecsAlarmDefinitions } from './ecs-alarm-definitions';
import { CONTAINER_INSIGHTS_WARNING_ID, containerInsightsProblem, ecsServiceMetrics, serviceWithCluster } from './ecs-service-metrics';
import { EcsTaskMonitoring } from './ecs-task-monitoring';
import { ElasticWafMetrics } from './elastic-waf-metrics';
import { ElasticWafMonitorProps } from './elastic-waf-monitor-props';
import { KibanaDashboards, kibanaDashboardsErrors } from './kibana-dashboards';
import { collectorAlarmDefinitions } from './monitor-alarm-definitions';
import { MonitorAlarmSet } from './monitor-alarm-set';
import { AlarmDefinition, alarmDefinitionErrors, alarmThreshold, arrivalLagErrors, periodErrors } from './monitor-alarms';
import { MonitorCollector } from './monitor-collector';
import { createMonitorDashboard } from './monitor-dashboard';
import { COLLECTOR_OVERHEAD, MonitorSettings, monitorPropsErrors, monitorSettings } from './monitor-settings';
import { SearchEngine } from './search-engine';
import { grantDashboardsAccess, grantSearchAccess } from './search-engine-access';
import { encryptedAlarmTopic } from '../shared/alarm-topic';
import { hasNodeStats } from './runtime/config';

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
  /** The function behind the custom resource that imports the WAF dashboard into Kibana, with `kibanaDashboards`. */
  public readonly kibanaDashboardsFunction?: lambda.IFunction;
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
  /** Alarm on 95th percentile WAF latency too high (the average before); undefined when that alarm is disabled. */
  public readonly latencyAlarm?: cloudwatch.IAlarm;
  /** Alarm on the share of timeouts too high; undefined when that alarm is disabled. */
  public readonly timeoutPercentAlarm?: cloudwatch.IAlarm;
  /** Alarm on the share of HTTP 5xx answers too high; undefined when that alarm is disabled. */
  public readonly serverErrorPercentAlarm?: cloudwatch.IAlarm;
  /** Alarm on the newest document too old or missing (a dead log pipeline); undefined when that alarm is disabled. */
  public readonly freshnessAlarm?: cloudwatch.IAlarm;
  /** Alarm on too few requests per period (missing data breaching); undefined when that alarm is disabled. */
  public readonly trafficFloorAlarm?: cloudwatch.IAlarm;
  /** Anomaly-band alarm on requests, with `alarms.trafficAnomaly.enabled`. */
  public readonly trafficAnomalyAlarm?: cloudwatch.IAlarm;
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
  /** Alarm on the cluster status red; undefined when that alarm is disabled. */
  public readonly clusterRedAlarm?: cloudwatch.IAlarm;
  /** Alarm on the cluster status not green for a while; undefined when that alarm is disabled. */
  public readonly clusterYellowAlarm?: cloudwatch.IAlarm;
  /** Alarm on shards staying unassigned; undefined when that alarm is disabled. */
  public readonly unassignedShardsAlarm?: cloudwatch.IAlarm;
  /** Alarm on rejected search requests; undefined when that alarm is disabled. */
  public readonly searchRejectionsAlarm?: cloudwatch.IAlarm;
  /** Alarm on rejected write requests; undefined when that alarm is disabled. */
  public readonly writeRejectionsAlarm?: cloudwatch.IAlarm;
  /** Alarm on JVM memory pressure of the fullest node; undefined when that alarm is disabled. */
  public readonly jvmMemoryPressureAlarm?: cloudwatch.IAlarm;
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
    const settings = monitorSettings(this, props, id);
    const { interval, clusterName, namespace, logRetention, removalPolicy, config } = settings;
    // Before any metric is built: CloudWatch's own checks would fail first, with messages naming no prop.
    this.failOn([
      ...monitorPropsErrors(props, settings),
      ...periodErrors('alarms.period', props.alarms?.period, interval),
      ...debugChecksErrors(props.debugChecks),
      ...kibanaDashboardsErrors(props.kibanaDashboards, props.engine ?? SearchEngine.elasticsearch(), props.allowInsecureHttp === true),
    ]);

    this.metrics = new ElasticWafMetrics({ namespace, clusterName, period: interval });
    const alarmOptions = props.alarms ?? {};
    const service = props.ecsService ? serviceWithCluster(this, props.ecsService) : undefined;
    const ecsMonitoring = service || props.ecsLogGroup
      ? new EcsTaskMonitoring(this, 'Ecs', { namespace, service, serviceLogGroup: props.ecsLogGroup, logRetention, removalPolicy })
      : undefined;
    const ecsService = service
      ? { metrics: ecsServiceMetrics(service, interval), serviceName: service.serviceName }
      : undefined;
    const ecs = ecsAlarmDefinitions(namespace, alarmOptions, ecsMonitoring, ecsService);
    const insights = service ? containerInsightsProblem(service) : undefined;
    if (insights) Annotations.of(this).addWarningV2(CONTAINER_INSIGHTS_WARNING_ID, insights);
    const nodeFigures = hasNodeStats(config.engine);
    const ignored = nodeFigures ? [] : NODE_ALARMS.filter((name) => (alarmOptions as Record<string, unknown>)[name] !== undefined);
    if (ignored.length > 0) {
      Annotations.of(this).addWarningV2(SERVERLESS_NODE_ALARMS_WARNING_ID, `alarms.${ignored.join(', alarms.')} ignored: ` +
        'a Serverless collection reports no node or cluster-health figures, so these alarms are never created; remove the options ' +
        `(acknowledge this warning with the id ${SERVERLESS_NODE_ALARMS_WARNING_ID})`);
    }
    const definitions = withoutNodeAlarms(!nodeFigures, {
      ...collectorAlarmDefinitions(this.metrics, alarmOptions, {
        clusterName,
        apdexTMs: config.apdexTMs,
        intervalMs: config.intervalMs,
        windowMs: config.windowMs,
        ingestDelayMs: config.ingestDelayMs,
        timeoutThresholdMs: config.timeoutThresholdMs,
      }),
      ...clusterHealthAlarmDefinitions(this.metrics, alarmOptions, clusterName),
      ...ecs.definitions,
    });
    // ECS and Container Insights metrics arrive every minute; the collector's once per interval.
    const everyMinute = new Set(Object.keys(ecs.definitions));
    this.failOn(Object.entries(definitions).flatMap(([name, d]) =>
      alarmDefinitionErrors(name, d, everyMinute.has(name) ? Duration.minutes(1) : interval)));
    const timing = { interval, ingestDelay: settings.ingestDelay, defaultPeriod: props.alarms?.period ?? interval };
    this.failOn(Object.entries(definitions).filter(([name]) => !everyMinute.has(name)).flatMap(([name, d]) => arrivalLagErrors(name, d, timing)));

    const collector = new MonitorCollector(this, 'Collector', {
      config,
      secret: props.credentials?.secret,
      grantSearch: (collectorScope, role) => grantSearchAccess(collectorScope, props.engine ?? SearchEngine.elasticsearch(), props.credentials, role),
      interval,
      timeout: settings.requestTimeout.plus(COLLECTOR_OVERHEAD),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logRetention,
      removalPolicy,
    });
    this.collector = collector.function;
    this.collectorRole = collector.role;
    this.collectorLogGroup = collector.logGroup;
    this.collectorSecurityGroups = collector.securityGroups;
    this.schedule = collector.schedule;
    this.kibanaDashboardsFunction = props.kibanaDashboards ? this.importKibanaDashboards(props, settings, collector) : undefined;

    // Kept at the monitor's own path: a replaced topic would drop the team's confirmed subscriptions.
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

    const alarms = new MonitorAlarmSet(this, 'Alarms', {
      definitions,
      period: props.alarms?.period ?? interval,
      topic: this.alarmTopic,
    });
    const created = alarms.byName;
    this.alarms = alarms.all;
    this.latencyAlarm = created.latency;
    this.timeoutPercentAlarm = created.timeoutPercent;
    this.serverErrorPercentAlarm = created.serverErrorPercent;
    this.freshnessAlarm = created.freshness;
    this.trafficFloorAlarm = created.trafficFloor;
    this.trafficAnomalyAlarm = created.trafficAnomaly;
    this.apdexAlarm = created.apdex;
    this.blockedPercentAlarm = created.blockedPercent;
    this.nodeCpuAlarm = created.nodeCpu;
    this.nodeHeapAlarm = created.nodeHeap;
    this.nodeDiskFreeAlarm = created.nodeDiskFree;
    this.collectorErrorsAlarm = created.collectorErrors;
    this.clusterRedAlarm = created.clusterRed;
    this.clusterYellowAlarm = created.clusterYellow;
    this.unassignedShardsAlarm = created.unassignedShards;
    this.searchRejectionsAlarm = created.searchRejections;
    this.writeRejectionsAlarm = created.writeRejections;
    this.jvmMemoryPressureAlarm = created.jvmMemoryPressure;
    this.ecsLogErrorsAlarm = created.ecsLogErrors;
    this.ecsTaskCrashesAlarm = created.ecsTaskCrashes;
    this.ecsCpuAlarm = created.ecsCpu;
    this.ecsMemoryAlarm = created.ecsMemory;
    this.ecsRunningTasksAlarm = created.ecsRunningTasks;
    this.ecsTaskEventsLogGroup = ecsMonitoring?.taskEventsLogGroup;
    this.ecsTaskStateRule = ecsMonitoring?.taskStateRule;

    const debug = props.debugChecks
      ? new DebugChecks(this, 'Debug', { ...props.debugChecks, logRetention, removalPolicy })
      : undefined;
    this.debugCheckerInside = debug?.insideChecker;
    this.debugCheckerOutside = debug?.outsideChecker;
    this.debugWidgetFunction = debug?.widgetFunction;
    this.debugLogGroups = (debug?.logGroups ?? []).map((l) => l.logGroup);

    // At the monitor's own path: a named dashboard cannot be replaced by CloudFormation.
    this.dashboard = createMonitorDashboard(this, 'Dashboard', {
      debug: debug ? { widget: debug.widget, logGroups: debug.logGroups } : undefined,
      dashboardName: props.dashboardName,
      metrics: this.metrics,
      clusterName,
      indexPattern: props.indexPattern,
      interval,
      window: settings.window,
      apdexTMs: config.apdexTMs,
      apdexDefinition: settings.apdexDefinition,
      timeoutThreshold: settings.timeoutThreshold,
      topN: config.topN,
      latencyThresholdMs: alarmThreshold(definitions.latency),
      apdexThreshold: alarmThreshold(definitions.apdex),
      timeoutPercentThreshold: alarmThreshold(definitions.timeoutPercent),
      serverErrorPercentThreshold: alarmThreshold(definitions.serverErrorPercent),
      freshnessThresholdSeconds: alarmThreshold(definitions.freshness),
      trafficFloor: alarmThreshold(definitions.trafficFloor),
      jvmMemoryPressureThreshold: definitions.jvmMemoryPressure ? alarmThreshold(definitions.jvmMemoryPressure) : undefined,
      nodeFigures,
      alarms: [...this.alarms, ...(props.additionalAlarms ?? [])],
      ecsService: ecsService
        ? {
          metrics: ecsService.metrics,
          cpuThreshold: alarmThreshold(definitions.ecsCpu),
          memoryThreshold: alarmThreshold(definitions.ecsMemory),
        }
        : undefined,
      collectorLogGroup: this.collectorLogGroup,
      ecsLogGroup: props.ecsLogGroup,
      ecsTaskEventsLogGroup: this.ecsTaskEventsLogGroup,
      ecsMetrics: ecs.logMetrics,
    });
  }

  /** The saved objects, imported with the collector's credentials, from its network. */
  private importKibanaDashboards(props: ElasticWafMonitorProps, settings: MonitorSettings, collector: MonitorCollector): lambda.IFunction {
    const engine = props.engine ?? SearchEngine.elasticsearch();
    const removeOnDelete = props.kibanaDashboards!.removeOnDelete === true;
    return new KibanaDashboards(this, 'KibanaDashboards', {
      options: props.kibanaDashboards!,
      config: settings.config,
      engine,
      secret: props.credentials?.secret,
      grantAccess: (scope, role) => grantDashboardsAccess(scope, engine, props.credentials, role, removeOnDelete),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: collector.securityGroups,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    }).function;
  }

  private failOn(errors: string[]): void {
    if (errors.length > 0) {
      throw new Error(`ElasticWafMonitor ${this.node.path}: invalid props:\n- ${[...new Set(errors)].join('\n- ')}`);
    }
  }
}

/** Id of the synth warning for node or cluster-health alarm options given with a Serverless engine. */
const SERVERLESS_NODE_ALARMS_WARNING_ID = 'cdk-waf-guard:serverlessNodeAlarms';

/** Alarms on figures a Serverless collection never reports: each would sit in OK and mean nothing. */
const NODE_ALARMS = ['nodeCpu', 'nodeHeap', 'nodeDiskFree', 'clusterRed', 'clusterYellow', 'unassignedShards',
  'searchRejections', 'writeRejections', 'jvmMemoryPressure'];

function withoutNodeAlarms(drop: boolean, definitions: Record<string, AlarmDefinition>): Record<string, AlarmDefinition> {
  if (!drop) return definitions;
  return Object.fromEntries(Object.entries(definitions).filter(([name]) => !NODE_ALARMS.includes(name)));
}
