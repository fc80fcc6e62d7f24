import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { iamDescription, limitLength } from './cfn-text';
import { NagSuppression, suppressNag } from './nag';

/** Options every handler of the library is created with. */
export interface HandlerDefaultsOptions {
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /** Retention of the function's own log group. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly environment?: { [key: string]: string };
}

/** A role and log group made for one handler, and the function options that use them. */
export interface HandlerDefaults {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly functionOptions: lambda.FunctionOptions;
}

/**
 * An explicit role and log group per handler: the role starts with write access to that log group only (instead of the
 * account-wide AWSLambdaBasicExecutionRole), and retention is the user's choice instead of "never expire".
 */
export function handlerDefaults(scope: Construct, id: string, options: HandlerDefaultsOptions): HandlerDefaults {
  const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
    retention: options.logRetention,
    removalPolicy: options.removalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: iamDescription(options.description),
  });
  logGroup.grantWrite(role);
  return {
    role,
    logGroup,
    functionOptions: {
      description: limitLength(options.description, 256),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      architecture: lambda.Architecture.ARM_64,
      timeout: options.timeout ?? Duration.seconds(30),
      memorySize: options.memorySize ?? 256,
      environment: options.environment,
    },
  };
}

/** The suppression every handler needs: the runtime is pinned on purpose, not left to drift to the newest. */
export const PINNED_RUNTIME_REASON =
  'Node.js 22 is pinned deliberately: handlers are bundled and tested for it; upgrades are a reviewed change.';

/** The acknowledgement of cdk-nag's newest-runtime rule that every handler function carries. */
export function pinnedRuntime(): NagSuppression {
  return { id: 'AwsSolutions-L1', reason: PINNED_RUNTIME_REASON };
}

/**
 * The actions Lambda needs on the execution role to create and remove a function's network interfaces in a VPC, as the
 * Lambda developer guide lists them. `AWSLambdaVPCAccessExecutionRole` holds the same plus logs:CreateLogGroup,
 * CreateLogStream and PutLogEvents on every log group; with metrics written as EMF log lines, that would let the role
 * forge any custom metric of the account, so the library grants only these.
 */
export const VPC_NETWORKING_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/**
 * Lets a handler's role manage its function's network interfaces in a VPC. Lambda checks for these permissions when the
 * function is created; the policy is a child of the role, so the function (which depends on its role) is created after it.
 */
export function allowVpcNetworking(role: iam.Role): void {
  const policy = new iam.Policy(role, 'VpcNetworking', {
    roles: [role],
    statements: [new iam.PolicyStatement({ actions: VPC_NETWORKING_ACTIONS, resources: ['*'] })],
  });
  suppressNag(policy, [{
    id: 'AwsSolutions-IAM5',
    reason: 'Lambda creates and deletes the function\'s network interfaces before their ids exist, and ec2:DescribeNetworkInterfaces ' +
      'and ec2:DescribeSubnets accept only "*"; the policy holds only the ENI actions Lambda requires for VPC access, no logs or data access.',
    appliesTo: ['Resource::*'],
  }]);
}
