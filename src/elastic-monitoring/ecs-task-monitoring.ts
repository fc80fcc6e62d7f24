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
      // ECS stop codes are words like TaskFailedToStart or EssentialContainerExited: a regex (JSON filter patterns take
      // one between % signs, with "|" but without parentheses, at most two per pattern) matches any that names an
      // error, a failure or an exit, deployments (ServiceSchedulerInitiated) and manual stops (UserInitiated) excluded.
      this.taskCrashesMetric = new logs.MetricFilter(this, 'TaskCrashes', {
        logGroup,
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.detail.lastStatus', '=', 'STOPPED'),
          logs.FilterPattern.regexValue('$.detail.stopCode', '=', 'Error|Failed|Exited'),
        ),
        metricNamespace: props.namespace,
        metricName: ECS_METRIC.taskCrashes,
        metricValue: '1',
        dimensions: { [ECS_GROUP_DIMENSION]: '$.detail.group' },
      });
      this.taskEventsLogGroup = logGroup;
      this.taskStateRule = rule;
    }
  }
}

