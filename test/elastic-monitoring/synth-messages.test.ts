import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ElasticCredentials, ElasticWafMonitor, ElasticWafMonitorAlarms, ElasticWafMonitorProps, SearchEngine } from '../../src';

const COLLECTION_ARN = 'arn:aws:aoss:eu-central-1:111111111111:collection/k1b2c3d4e5f6g7h8';

function build(props: (stack: Stack) => Partial<ElasticWafMonitorProps>) {
  const app = new App();
  const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://es.example.com:9243',
    indexPattern: 'waf-*',
    credentials: ElasticCredentials.basicAuth(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'waf/es')),
    ...props(stack),
  });
  return stack;
}

/** The synth error, asserting it is the monitor's own list of prop errors (not a raw CDK or JavaScript error). */
function propError(props: (stack: Stack) => Partial<ElasticWafMonitorProps>): string {
  try {
    build(props);
  } catch (e) {
    const message = (e as Error).message;
    expect(message).toMatch(/^ElasticWafMonitor Monitoring\/WafHealth: invalid props:/);
    return message;
  }
  throw new Error('expected a synth error');
}

describe('synth messages say what to change', () => {
  test('a window that is not whole minutes', () => {
    expect(propError(() => ({ window: Duration.seconds(450) }))).toMatch(/window must be a whole number of minutes, got 7 minutes 30 seconds: give e.g. Duration.minutes\(8\)/);
  });

  test('a timeout threshold that is not whole seconds', () => {
    expect(propError(() => ({ timeoutThreshold: Duration.millis(10) }))).toMatch(/timeoutThreshold must be a whole number of seconds, got 10 millis: give e.g. Duration.seconds\(1\)/);
    expect(propError(() => ({ timeoutThreshold: Duration.millis(2500) }))).toMatch(/got 2.5 seconds|got 2 seconds 500 millis/);
  });

  test('an ECS service imported from its ARN alone: the long ARN form names the cluster and is used; the old form or a token is a clear error', () => {
    // TypeScript refuses it (IFargateService has no cluster); JavaScript and casts pass it.
    const imported = (stack: Stack, arn: string) => ecs.FargateService.fromFargateServiceArn(stack, 'Svc', arn) as unknown as ecs.IBaseService;
    const stack = build((s) => ({ ecsService: imported(s, 'arn:aws:ecs:eu-west-1:111111111111:service/waf-cluster/waf-proxy') }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { clusterArn: ['arn:aws:ecs:eu-west-1:111111111111:cluster/waf-cluster'], group: ['service:waf-proxy'] } }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ECS',
      Dimensions: Match.arrayWith([{ Name: 'ClusterName', Value: 'waf-cluster' }, { Name: 'ServiceName', Value: 'waf-proxy' }]),
    });
    const refused = /ecsService has no cluster and its ARN does not name one \(a token, or the old form without the cluster\): import it with FargateService.fromFargateServiceAttributes/;
    expect(propError((s) => ({ ecsService: imported(s, 'arn:aws:ecs:eu-west-1:111111111111:service/waf-proxy') }))).toMatch(refused);
    expect(propError((s) => ({ ecsService: imported(s, new CfnParameter(s, 'ServiceArn').valueAsString) }))).toMatch(refused);
  });

  test.each([
    ['a query', 'https://es.example.com/prefix?x=1'],
    ['a fragment', 'https://es.example.com/prefix#frag'],
    ['both', 'https://es.example.com/prefix?x=1#frag'],
    ['an empty query', 'https://es.example.com/prefix?'],
  ])('an endpoint with %s is refused, not silently cut', (_, endpoint) => {
    expect(propError(() => ({ endpoint }))).toMatch(/endpoint must not contain a query \(\?\.\.\.\) or fragment \(#\.\.\.\), which would be ignored/);
  });

  test('an endpoint with a path prefix only is accepted', () => {
    expect(() => build(() => ({ endpoint: 'https://es.example.com:9243/prefix' }))).not.toThrow();
  });

  test('unknown alarms keys (from JavaScript) are refused, listing the valid ones', () => {
    const alarms = { lattency: { threshold: 500 }, latency: { threshold: 800 } } as ElasticWafMonitorAlarms;
    const message = propError(() => ({ alarms }));
    expect(message).toMatch(/alarms has unknown key\(s\) "lattency": valid keys are period, latency, timeoutPercent,/);
    expect(message).not.toMatch(/"latency"/);
  });

  test('the Container Insights warning names the service by its construct path, never a token', () => {
    const app = new App();
    const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    task.addContainer('proxy', { image: ecs.ContainerImage.fromRegistry('nginx') });
    const service = new ecs.FargateService(stack, 'Proxy', { cluster, taskDefinition: task });
    new ElasticWafMonitor(stack, 'WafHealth', {
      endpoint: 'https://10.0.9.9:9200',
      indexPattern: 'waf-*',
      credentials: ElasticCredentials.basicAuth(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'waf/es')),
      vpc,
      ecsService: service,
    });
    const found = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Container Insights')).map((w) => String(w.entry.data));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('of the ECS service Monitoring/Proxy need Container Insights');
    expect(found[0]).not.toMatch(/\$\{Token|Token\[/);
  });

  test('Serverless: node and cluster-health alarm options given explicitly are named in a warning, not dropped silently', () => {
    const warningsFor = (alarms: ElasticWafMonitorAlarms) => {
      const app = new App();
      const stack = new Stack(app, 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
      new ElasticWafMonitor(stack, 'WafHealth', {
        endpoint: 'https://k1b2c3d4e5f6g7h8.eu-central-1.aoss.amazonaws.com',
        indexPattern: 'waf-*',
        engine: SearchEngine.amazonOpenSearchServerless({ collectionArn: COLLECTION_ARN }),
        alarms,
      });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Serverless')).map((w) => String(w.entry.data));
    };
    const found = warningsFor({ clusterRed: { threshold: 1 }, nodeCpu: { enabled: false }, latency: { threshold: 900 } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^alarms.nodeCpu, alarms.clusterRed ignored: a Serverless collection reports no node or cluster-health figures.*\[ack: cdk-waf-guard:serverlessNodeAlarms\]/);
    expect(found[0]).not.toContain('latency');
    expect(warningsFor({ latency: { threshold: 900 } })).toEqual([]);
  });
});
