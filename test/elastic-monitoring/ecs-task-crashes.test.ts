import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as fc from 'fast-check';
import { TASK_STOPS, taskStateChange } from './ecs-task-events';
import { ElasticCredentials, ElasticWafMonitor } from '../../src';
import { applyMetricFilter, matchesFilterPattern } from '../support/cloudwatch-filter-pattern';

/** The crash metric filters of a monitor watching the Fargate service `waf-proxy`, as synthesized. */
function crashFilters(): Array<{ FilterPattern: string; MetricTransformations: any[] }> {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'waf-cluster', vpc });
  new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://10.0.9.9:9200',
    indexPattern: 'waf-*',
    credentials: ElasticCredentials.basicAuth(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'waf/es')),
    vpc,
    ecsService: ecs.FargateService.fromFargateServiceAttributes(stack, 'Service', { cluster, serviceName: 'waf-proxy' }),
  });
  const filters = Object.values(Template.fromStack(stack).findResources('AWS::Logs::MetricFilter'))
    .map((r) => r.Properties)
    .filter((p) => p.MetricTransformations[0].MetricName.startsWith('EcsTaskCrashes'));
  expect(filters.length).toBeGreaterThan(0);
  return filters;
}

/** Every metric data point the filters publish for one log event. */
function published(filters: ReturnType<typeof crashFilters>, event: object) {
  return filters.flatMap((f) => applyMetricFilter(f, JSON.stringify(event)) ?? []);
}

describe('ECS crash metric filters, evaluated on task state change events', () => {
  const filters = crashFilters();

  test.each(TASK_STOPS)('$name', ({ event, causes }) => {
    const points = published(filters, event);
    const crashes = points.filter((p) => p.name === 'EcsTaskCrashes');
    // a task counts once for the alarm, whatever its causes
    expect(crashes).toEqual(causes.length > 0
      ? [{ namespace: 'WafGuard/Elastic', name: 'EcsTaskCrashes', value: 1, dimensions: { ServiceGroup: 'service:waf-proxy' } }]
      : []);
    // and each cause is named by a metric of its own, per service
    const named = points.filter((p) => p.name !== 'EcsTaskCrashes');
    expect(named.map((p) => p.name).sort()).toEqual(causes.map((c) => `EcsTaskCrashes${c}`).sort());
    expect(named.every((p) => p.value === 1 && p.dimensions.ServiceGroup === 'service:waf-proxy')).toBe(true);
  });

  test('an out-of-memory kill is found in any of the 10 containers a task definition may have', () => {
    for (let i = 0; i < 10; i++) {
      const containers = Array.from({ length: 10 }, (_, j) => (j === i
        ? { name: `c${j}`, exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }
        : { name: `c${j}`, exitCode: 0 }));
      const event = taskStateChange({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (service waf-proxy)', containers });
      expect(published(filters, event).map((p) => p.name).sort()).toEqual(['EcsTaskCrashes', 'EcsTaskCrashesOutOfMemory']);
    }
  });

  test('property: a stopped task counts as one crash exactly when a failure stop code, a health-check reason or an OOM kill is in its event', () => {
    const stopCodes = ['TaskFailedToStart', 'EssentialContainerExited', 'UserInitiated', 'ServiceSchedulerInitiated', 'SpotInterruption', 'TerminationNotice'];
    const reasons = [
      'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/waf/1)',
      'Task failed container health checks',
      'Scaling activity initiated by (deployment ecs-svc/1)',
      'Task stopped by user',
      'Essential container in task exited',
      'Your Spot Task was interrupted.',
      'CannotPullContainerError: not found',
    ];
    const containerReasons = [undefined, 'OutOfMemoryError: Container killed due to memory usage', 'OutOfMemoryError: container killed due to memory usage', 'DockerTimeoutError: Could not transition to stopped'];
    fc.assert(fc.property(
      fc.constantFrom('STOPPED', 'RUNNING', 'DEPROVISIONING', 'STOPPING'),
      fc.option(fc.constantFrom(...stopCodes), { nil: undefined }),
      fc.option(fc.constantFrom(...reasons), { nil: undefined }),
      fc.array(
        fc.record({ exitCode: fc.constantFrom(0, 1, 137, 143), reason: fc.constantFrom(...containerReasons) }),
        { minLength: 1, maxLength: 10 },
      ),
      (lastStatus, stopCode, stoppedReason, containers) => {
        const event = taskStateChange({ lastStatus, stopCode, stoppedReason, containers: containers.map((c, i) => ({ name: `c${i}`, ...c })) });
        const model = {
          FailedToStart: stopCode === 'TaskFailedToStart',
          ContainerExited: stopCode === 'EssentialContainerExited',
          HealthChecks: /^Task failed (ELB|container) health checks/.test(stoppedReason ?? ''),
          OutOfMemory: containers.some((c) => c.reason?.startsWith('OutOfMemoryError') === true),
        };
        const causes = lastStatus === 'STOPPED' ? Object.entries(model).filter(([, on]) => on).map(([c]) => `EcsTaskCrashes${c}`) : [];
        const names = published(filters, event).map((p) => p.name);
        expect(names.filter((n) => n === 'EcsTaskCrashes')).toHaveLength(causes.length > 0 ? 1 : 0);
        expect(names.filter((n) => n !== 'EcsTaskCrashes').sort()).toEqual(causes.sort());
      },
    ), { numRuns: 300 });
  });

  test('events of other services or other sources are not counted', () => {
    const other = taskStateChange({ stopCode: 'TaskFailedToStart', group: 'service:other' });
    // the rule keeps only this service's events; if one slipped in, its dimension would name its own service
    const points = published(filters, other).filter((p) => p.name === 'EcsTaskCrashes');
    expect(points.map((p) => p.dimensions.ServiceGroup)).toEqual(['service:other']);
    expect(published(filters, { message: 'not a task event' })).toEqual([]);
  });
});

describe('the filter pattern evaluator follows the documented syntax', () => {
  const event = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '123.123.123.123',
    arrayKey: ['value', 'another value'],
    objectList: [{ name: 'a', id: 1 }, { name: 'b', id: 2 }],
    SomeObject: null,
    ThisFlag: true,
    latency: 250,
  });

  test.each([
    ['{ $.eventType = "UpdateTrail" }', true],
    ['{ $.eventType = "Update*" }', true],
    ['{ $.eventType = "*Trail" }', true],
    ['{ $.eventType = "Update" }', false],
    ['{ $.sourceIPAddress != "123.123.*" }', false],
    ['{ $.arrayKey[1] = "another value" }', true],
    ['{ $.objectList[1].id = 2 }', true],
    ['{ $.objectList[5].id = 2 }', false],
    ['{ $.SomeObject IS NULL }', true],
    ['{ $.SomeOtherObject NOT EXISTS }', true],
    ['{ $.ThisFlag IS TRUE }', true],
    ['{ $.latency > 200 && $.latency <= 250 }', true],
    ['{ ($.eventType = "Other") || ($.latency = 250) && ($.ThisFlag IS FALSE) }', false],
    ['{ $.eventType = %Trail$% }', true],
    ['{ $.missing = "x" }', false],
  ])('%s -> %s', (pattern, expected) => {
    expect(matchesFilterPattern(pattern, event)).toBe(expected);
  });

  test('refuses what CloudWatch Logs refuses or does not document', () => {
    expect(() => matchesFilterPattern('{ $.eventType = %(Update)Trail% }', event)).toThrow(/refuses/);
    expect(() => matchesFilterPattern('{ $.a = %a% || $.b = %b% || $.c = %c% }', event)).toThrow(/at most 2/);
    expect(() => matchesFilterPattern('{ $.eventType = "Up*Trail" }', event)).toThrow(/wildcard/);
    expect(() => matchesFilterPattern('{ $.missing != "x" }', event)).toThrow(/not documented/);
    expect(() => matchesFilterPattern(`{ ${Array(60).fill('$.eventType = "UpdateTrail"').join(' || ')} }`, event)).toThrow(/at most 1024/);
  });
});

describe('Container Insights warning for the running-tasks graph and alarm', () => {
  function warnings(clusterProps?: ecs.ClusterProps, imported = false): string[] {
    const app = new App();
    const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const cluster = imported
      ? ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'waf-cluster', vpc })
      : new ecs.Cluster(stack, 'Cluster', { vpc, ...clusterProps });
    new ElasticWafMonitor(stack, 'WafHealth', {
      endpoint: 'https://10.0.9.9:9200',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.basicAuth(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'waf/es')),
      vpc,
      ecsService: ecs.FargateService.fromFargateServiceAttributes(stack, 'Service', { cluster, serviceName: 'waf-proxy' }),
    });
    return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Container Insights'))
      .map((w) => String(w.entry.data));
  }

  test('a cluster with Container Insights off gets a warning that says how to fix it', () => {
    for (const props of [{ containerInsightsV2: ecs.ContainerInsights.DISABLED }, { containerInsights: false }]) {
      const found = warnings(props);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/which the cluster turns off.*containerInsightsV2: ContainerInsights.ENABLED.*alarms.ecsRunningTasks.enabled = false.*\[ack: cdk-waf-guard:ecsContainerInsights\]/);
    }
  });

  test('a cluster that does not set it gets advice naming the account setting', () => {
    const found = warnings({});
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/does not turn on: unless the account setting containerInsights is enabled/);
  });

  test('no warning with Container Insights on (enabled or enhanced), nor for an imported cluster, which cannot be checked', () => {
    expect(warnings({ containerInsightsV2: ecs.ContainerInsights.ENABLED })).toEqual([]);
    expect(warnings({ containerInsightsV2: ecs.ContainerInsights.ENHANCED })).toEqual([]);
    expect(warnings({ containerInsights: true })).toEqual([]);
    expect(warnings(undefined, true)).toEqual([]);
  });
});
