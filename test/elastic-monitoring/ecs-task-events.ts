/**
 * ECS "Task State Change" events as EventBridge writes them to a CloudWatch Logs group (one JSON object per log event),
 * shaped after the examples in the ECS developer guide ("Amazon ECS task state change events"), for a Fargate service
 * `waf-proxy` on the cluster `waf-cluster` with the WAF container and a log router beside it.
 */

export const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:111111111111:cluster/waf-cluster';
const TASK_ARN = 'arn:aws:ecs:eu-west-1:111111111111:task/waf-cluster/3a4b8e2c5f9d4e0a9b1c2d3e4f5a6b7c';
const TARGET_GROUP = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/waf-proxy/0123456789abcdef';

export interface ContainerState {
  readonly name?: string;
  readonly lastStatus?: string;
  readonly exitCode?: number;
  readonly reason?: string;
}

export interface TaskEventOptions {
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly group?: string;
  readonly containers?: ContainerState[];
}

export function taskStateChange(options: TaskEventOptions = {}): Record<string, unknown> {
  const lastStatus = options.lastStatus ?? 'STOPPED';
  const containers = options.containers ?? [{ name: 'waf', exitCode: 0 }, { name: 'log-router', exitCode: 0 }];
  const detail: Record<string, unknown> = {
    attachments: [{ id: '1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8', type: 'eni', status: lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED' }],
    availabilityZone: 'eu-west-1a',
    clusterArn: CLUSTER_ARN,
    containers: containers.map((c, i) => ({
      containerArn: `arn:aws:ecs:eu-west-1:111111111111:container/waf-cluster/3a4b8e2c/${i}`,
      lastStatus: c.lastStatus ?? (lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING'),
      name: c.name ?? `container-${i}`,
      image: `111111111111.dkr.ecr.eu-west-1.amazonaws.com/${c.name ?? 'app'}:1.4.2`,
      taskArn: TASK_ARN,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
      networkInterfaces: [{ attachmentId: '1789bcae', privateIpv4Address: '10.0.1.17' }],
      cpu: '0',
    })),
    cpu: '512',
    memory: '1024',
    createdAt: '2026-12-07T11:50:02.106Z',
    desiredStatus: options.desiredStatus ?? 'STOPPED',
    group: options.group ?? 'service:waf-proxy',
    launchType: 'FARGATE',
    lastStatus,
    overrides: { containerOverrides: [{ name: 'waf' }, { name: 'log-router' }] },
    platformVersion: '1.4.0',
    startedAt: '2026-12-07T11:50:40.101Z',
    startedBy: 'ecs-svc/1234567890123456789',
    taskArn: TASK_ARN,
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111111111111:task-definition/waf-proxy:42',
    updatedAt: '2026-12-07T12:07:13.503Z',
    version: 6,
  };
  if (options.stopCode !== undefined) detail.stopCode = options.stopCode;
  if (options.stoppedReason !== undefined) detail.stoppedReason = options.stoppedReason;
  if (lastStatus === 'STOPPED') {
    detail.stoppingAt = '2026-12-07T12:06:41.503Z';
    detail.executionStoppedAt = '2026-12-07T12:06:58.822Z';
    detail.stoppedAt = '2026-12-07T12:07:13.503Z';
  }
  return {
    'version': '0',
    'id': '9bcdac79-b31f-4d3d-9410-fbd727c29fab',
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': '111111111111',
    'time': '2026-12-07T12:07:13Z',
    'region': 'eu-west-1',
    'resources': [TASK_ARN],
    detail,
  };
}

/** The stops of a WAF service, each with the causes the crash metrics must name (none: not a crash). */
export const TASK_STOPS: Array<{ name: string; event: Record<string, unknown>; causes: string[] }> = [
  {
    name: 'image pull failure (TaskFailedToStart)',
    event: taskStateChange({
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111111111111.dkr.ecr.eu-west-1.amazonaws.com/waf:1.4.2: not found',
      containers: [{ name: 'waf' }, { name: 'log-router' }],
    }),
    causes: ['FailedToStart'],
  },
  {
    name: 'the WAF process exits (EssentialContainerExited, exit code 1)',
    event: taskStateChange({
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'waf', exitCode: 1 }, { name: 'log-router', exitCode: 0 }],
    }),
    causes: ['ContainerExited'],
  },
  {
    name: 'the WAF container killed out of memory (EssentialContainerExited, exit code 137)',
    event: taskStateChange({
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [
        { name: 'waf', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
        { name: 'log-router', exitCode: 0 },
      ],
    }),
    causes: ['ContainerExited', 'OutOfMemory'],
  },
  {
    name: 'a non-essential sidecar killed out of memory, the task stopped afterwards',
    event: taskStateChange({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)',
      containers: [
        { name: 'waf', exitCode: 0 },
        { name: 'log-router', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
      ],
    }),
    causes: ['OutOfMemory'],
  },
  {
    name: 'replaced after failed ELB health checks',
    event: taskStateChange({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: `Task failed ELB health checks in (target-group ${TARGET_GROUP})`,
      containers: [{ name: 'waf', exitCode: 143 }, { name: 'log-router', exitCode: 0 }],
    }),
    causes: ['HealthChecks'],
  },
  {
    name: 'replaced after failed container health checks',
    event: taskStateChange({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Task failed container health checks',
      containers: [{ name: 'waf', exitCode: 143 }, { name: 'log-router', exitCode: 0 }],
    }),
    causes: ['HealthChecks'],
  },
  {
    name: 'stopped by a user (UserInitiated)',
    event: taskStateChange({ stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user', containers: [{ name: 'waf', exitCode: 143 }] }),
    causes: [],
  },
  {
    name: 'replaced by a deployment (ServiceSchedulerInitiated); the container ignored SIGTERM and was killed (137)',
    event: taskStateChange({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)',
      containers: [{ name: 'waf', exitCode: 137 }, { name: 'log-router', exitCode: 0 }],
    }),
    causes: [],
  },
  {
    name: 'scaled in (ServiceSchedulerInitiated)',
    event: taskStateChange({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity initiated by (service waf-proxy)',
    }),
    causes: [],
  },
  {
    name: 'Fargate Spot capacity taken back (SpotInterruption)',
    event: taskStateChange({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' }),
    causes: [],
  },
  {
    name: 'retired for maintenance (TerminationNotice)',
    event: taskStateChange({ stopCode: 'TerminationNotice', stoppedReason: 'Task stopped due to a scheduled retirement' }),
    causes: [],
  },
  {
    name: 'an essential container exited, event while the task is still stopping (DEPROVISIONING)',
    event: taskStateChange({
      lastStatus: 'DEPROVISIONING',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'waf', lastStatus: 'STOPPED', exitCode: 1 }, { name: 'log-router', lastStatus: 'STOPPED', exitCode: 0 }],
    }),
    causes: [],
  },
  {
    name: 'a task starting',
    event: taskStateChange({ lastStatus: 'PENDING', desiredStatus: 'RUNNING', containers: [{ name: 'waf', lastStatus: 'PENDING' }] }),
    causes: [],
  },
];
