import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { buildMonitorExampleStack } from '../../examples/elastic-waf-monitor/app';
import { nagFindings } from '../realtime-waf-guard/construct-fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJson = require('../../examples/elastic-waf-monitor/cdk.json');

/** The app as `cdk synth` runs it from the example's folder: with the context of its cdk.json. */
function exampleApp() {
  return new App({ context: cdkJson.context });
}

describe('elastic-waf-monitor example app', () => {
  test('cdk.json has the feature flags that cdk init writes today', () => {
    expect(cdkJson.context).toEqual(expect.objectContaining({ ...cxapi.NEW_PROJECT_DEFAULT_CONTEXT, ...cxapi.CURRENTLY_RECOMMENDED_FLAGS }));
  });

  test.each([
    ['with the flags of its cdk.json', exampleApp],
    ['without feature flags', () => new App()],
  ])('has no unsuppressed cdk-nag AwsSolutions finding %s', (_, makeApp) => {
    expect(nagFindings(buildMonitorExampleStack(makeApp()))).toEqual([]);
  });

  test('monitors the ECS service: crash causes, running tasks from Container Insights without a warning, and the log group', () => {
    const stack = buildMonitorExampleStack(exampleApp());
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Container Insights'))).toEqual([]);
    const metricNames = Object.values(template.findResources('AWS::Logs::MetricFilter'))
      .map((f) => f.Properties.MetricTransformations[0].MetricName).sort();
    expect(metricNames).toEqual(['EcsLogWarningsErrors', 'EcsTaskCrashes', 'EcsTaskCrashesContainerExited',
      'EcsTaskCrashesFailedToStart', 'EcsTaskCrashesHealthChecks', 'EcsTaskCrashesOutOfMemory']);
    const [wafLogs] = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30, LogGroupName: Match.absent() } }));
    template.hasResourceProperties('AWS::Logs::MetricFilter', { LogGroupName: { Ref: wafLogs }, FilterPattern: '?"WARNING" ?"ERROR"' });
    const running = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Metrics: Match.anyValue() } }))
      .flatMap((a) => a.Properties.Metrics).find((m: any) => m.MetricStat?.Metric.MetricName === 'RunningTaskCount');
    expect(running.MetricStat.Metric.Dimensions).toEqual(expect.arrayContaining([
      { Name: 'ServiceName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^WafService/), 'Name'] } },
    ]));
  });

  test('the collector reads the secret, runs in the VPC, and alarms mail the on-call address', () => {
    const template = Template.fromStack(buildMonitorExampleStack(exampleApp()));
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const collectors = Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Collects WAF health of waf-logs') },
    }));
    expect(collectors).toHaveLength(1);
    expect(collectors[0].Properties.VpcConfig.SubnetIds.length).toBe(2);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('secretsmanager:GetSecretValue');
    expect(policies).toMatch(/secret:waf\/elasticsearch-monitor-\?\?\?\?\?\?/);
    // every alarm, the ECS ones included, notifies the topic the address is subscribed to
    const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(11);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
  });
});
