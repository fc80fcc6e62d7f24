import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CollectorFunction } from './collector-function';
import { limitLength } from '../shared/cfn-text';
import { allowVpcNetworking, handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';
import { COLLECTOR_CONFIG_ENV, CollectorConfig } from './runtime/config';

export interface MonitorCollectorProps {
  readonly config: CollectorConfig;
  /** The only secret the collector may read; none when it signs its requests with its role. */
  readonly secret?: secretsmanager.ISecret;
  /** Lets the role reach the search engine, for engines that authenticate the role itself. */
  readonly grantSearch?: (scope: Construct, role: iam.IRole) => void;
  readonly interval: Duration;
  /** Lambda timeout: the Elasticsearch request time limit plus the run's own overhead. */
  readonly timeout: Duration;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The scheduled collector: its function, role, log group and schedule. */
export class MonitorCollector extends Construct {
  public readonly function: lambda.IFunction;
  public readonly role: iam.IRole;
  public readonly logGroup: logs.ILogGroup;
  public readonly schedule: events.IRule;
  /** Empty outside a VPC. */
  public readonly securityGroups: ec2.ISecurityGroup[];

  constructor(scope: Construct, id: string, props: MonitorCollectorProps) {
    super(scope, id);
    const { config } = props;
    // The ids `LogGroup` and `Role` under the collector.
    const defaults = handlerDefaults(this, '', {
      description: `Collects WAF health of ${config.clusterName} from ${config.engine?.kind === 'elasticsearch' || !config.engine ? 'Elasticsearch' : 'OpenSearch'} into CloudWatch metrics`,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: props.timeout,
      memorySize: 256,
      environment: { [COLLECTOR_CONFIG_ENV]: JSON.stringify(config) },
    });
    if (props.vpc) allowVpcNetworking(defaults.role);
    const fn = new CollectorFunction(this, 'Function', {
      ...defaults.functionOptions,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups,
      // A failed run is not retried: the next scheduled run is the retry, and retries pile onto a struggling cluster.
      retryAttempts: 0,
    });
    props.secret?.grantRead(defaults.role);
    props.grantSearch?.(this, defaults.role);
    suppressNag(fn, [pinnedRuntime()]);
    this.function = fn;
    this.role = defaults.role;
    this.logGroup = defaults.logGroup;
    this.securityGroups = props.vpc ? fn.connections.securityGroups : [];

    this.schedule = new events.Rule(this, 'Schedule', {
      description: limitLength(`Runs the WAF health collector of ${config.clusterName}`, 512),
      schedule: events.Schedule.rate(props.interval),
      targets: [new targets.LambdaFunction(fn, {
        retryAttempts: 0,
        maxEventAge: Duration.seconds(Math.max(60, props.interval.toSeconds())),
      })],
    });
  }
}
