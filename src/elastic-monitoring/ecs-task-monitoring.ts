import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EcsTaskMonitoringProps {
  readonly namespace: string;
  readonly service?: ecs.IBaseService;
  readonly serviceLogGroup?: logs.ILogGroup;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** Metric names of the ECS metric filters. */
export const ECS_METRIC = {
  logWarningsErrors: 'EcsLogWarningsErrors',
  taskCrashes: 'EcsTaskCrashes',
} as const;

/**
 * Why a stopped task counts as a crash. Deliberate stops do not: UserInitiated (StopTask, the console), a deployment's
 * or a scale-in's ServiceSchedulerInitiated without a health-check reason, SpotInterruption (Fargate Spot takes capacity
 * back, as the user chose; a replacement that does not come up shows in the running-tasks alarm) and TerminationNotice
 * (AWS retires the task for maintenance and the service replaces it). Exit code 137 alone is not a crash either: a
 * container that ignores SIGTERM during a deployment is killed with it too; out of memory is told by the container's
 * reason.
 */
export interface EcsCrashCause {
  /** Suffix of construct ids. */
  readonly id: string;
  readonly metricName: string;
  /** Dashboard label. */
  readonly label: string;
  readonly pattern: logs.JsonPattern;
}

/** Task definitions have at most 10 containers; filter patterns have no array wildcard, so each index is named. */
const MAX_CONTAINERS = 10;

/**
 * The crash causes, matched on events of stopped tasks. A task may have two (an essential container killed out of
 * memory also exits), so the cause metrics overlap and only the crash metric counts tasks.
 */
export const ECS_CRASH_CAUSES: EcsCrashCause[] = [
  {
    id: 'FailedToStart',
    metricName: 'EcsTaskCrashesFailedToStart',
    label: 'failed to start',
    // image pull, secrets, ENI or capacity errors before the containers ran
    pattern: logs.FilterPattern.stringValue('$.detail.stopCode', '=', 'TaskFailedToStart'),
  },
  {
    id: 'ContainerExited',
    metricName: 'EcsTaskCrashesContainerExited',
    label: 'essential container exited',
    pattern: logs.FilterPattern.stringValue('$.detail.stopCode', '=', 'EssentialContainerExited'),
  },
  {
    id: 'HealthChecks',
    metricName: 'EcsTaskCrashesHealthChecks',
    label: 'failed health checks',
    // The scheduler replaces them with stop code ServiceSchedulerInitiated, like a deployment: only the reason tells.
    pattern: logs.FilterPattern.any(
      logs.FilterPattern.stringValue('$.detail.stoppedReason', '=', 'Task failed ELB health checks*'),
      logs.FilterPattern.stringValue('$.detail.stoppedReason', '=', 'Task failed container health checks*'),
    ),
  },
  {
    id: 'OutOfMemory',
    metricName: 'EcsTaskCrashesOutOfMemory',
    label: 'out of memory',
    // A task's events keep a stopped container's reason, so a sidecar killed earlier is counted when its task stops.
    pattern: logs.FilterPattern.any(
      ...Array.from({ length: MAX_CONTAINERS }, (_, i) =>
        logs.FilterPattern.stringValue(`$.detail.containers[${i}].reason`, '=', 'OutOfMemoryError*')),
    ),
  },
];

/** Only the event of the stopped task: earlier events of a stopping task carry the stop code too. */
const STOPPED = logs.FilterPattern.stringValue('$.detail.lastStatus', '=', 'STOPPED');

/** Dimension of the crash metric, filled from the event's `detail.group` (`service:<name>`). */
export const ECS_GROUP_DIMENSION = 'ServiceGroup';

/**
 * Watches the WAF's ECS service from its own logs and from ECS's task events: WARNING/ERROR lines are counted by a
 * metric filter, and every task state change of the service is kept in a log group whose metric filter counts crashed
 * tasks. The events are logged rather than alarmed on directly so the stop reasons stay readable for debugging.
 */
export class EcsTaskMonitoring extends Construct {
  public readonly logWarningsErrorsMetric?: logs.MetricFilter;
  public readonly taskEventsLogGroup?: logs.ILogGroup;
  public readonly taskStateRule?: events.IRule;
  public readonly taskCrashesMetric?: logs.MetricFilter;
  /** One filter per crash cause, in the order of `ECS_CRASH_CAUSES`. */
  public readonly taskCrashCauseMetrics: Array<{ cause: EcsCrashCause; filter: logs.MetricFilter }> = [];
  public readonly serviceGroup?: string;

  constructor(scope: Construct, id: string, props: EcsTaskMonitoringProps) {
    super(scope, id);

    if (props.serviceLogGroup) {
      this.logWarningsErrorsMetric = new logs.MetricFilter(this, 'WarningErrorLines', {
        logGroup: props.serviceLogGroup,
        // Terms are case-sensitive: the levels as WAF containers print them.
        filterPattern: logs.FilterPattern.anyTerm('WARNING', 'ERROR'),
        metricNamespace: props.namespace,
        metricName: ECS_METRIC.logWarningsErrors,
        metricValue: '1',
      });
    }

    if (props.service) {
      const service = props.service;
      const stack = Stack.of(this);
      // EventBridge delivers to CloudWatch Logs only under /aws/events/.
      const logGroup = new logs.LogGroup(this, 'TaskEvents', {
        logGroupName: `/aws/events/ecs-task-state/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });
      this.serviceGroup = `service:${service.serviceName}`;
      const rule = new events.Rule(this, 'TaskStateChange', {
        description: `Task state changes of ECS service ${service.serviceName}, kept for crash alarms and debugging`,
        eventPattern: {
          source: ['aws.ecs'],
          detailType: ['ECS Task State Change'],
          detail: { clusterArn: [service.cluster.clusterArn], group: [this.serviceGroup] },
        },
      });
      // A native resource policy instead of events-targets' CloudWatchLogGroup, which installs a custom-resource
      // Lambda to write the same policy.
      logGroup.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
          conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
        }),
      );
      rule.addTarget({
        bind: () => ({
          id: '',
          arn: stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            resourceName: logGroup.logGroupName,
          }),
        }),
      });
      // One filter counts every crash for the alarm (a task counts once whatever its causes); one filter per cause
      // names it on the dashboard. None uses a regex, which CloudWatch Logs allows in only 5 filters per log group.
      const crashFilter = (filterId: string, metricName: string, pattern: logs.JsonPattern) =>
        new logs.MetricFilter(this, filterId, {
          logGroup,
          filterPattern: logs.FilterPattern.all(STOPPED, pattern),
          metricNamespace: props.namespace,
          metricName,
          metricValue: '1',
          dimensions: { [ECS_GROUP_DIMENSION]: '$.detail.group' },
        });
      this.taskCrashesMetric = crashFilter('TaskCrashes', ECS_METRIC.taskCrashes,
        logs.FilterPattern.any(...ECS_CRASH_CAUSES.map((c) => c.pattern)));
      this.taskCrashCauseMetrics = ECS_CRASH_CAUSES.map((c) => ({
        cause: c,
        filter: crashFilter(`TaskCrashes${c.id}`, c.metricName, c.pattern),
      }));
      this.taskEventsLogGroup = logGroup;
      this.taskStateRule = rule;
    }
  }
}

