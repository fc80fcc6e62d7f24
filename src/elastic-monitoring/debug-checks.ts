import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DebugCheckerFunction } from './debug-checker-function';
import { DebugChecksOptions, WebProtocol } from './debug-checks-options';
import { DebugWidgetFunction } from './debug-widget-function';
import { hostRefusal } from './runtime/address-policy';
import { CHECKER_ARNS_ENV, CHECKER_LOCATION_ENV, DEBUG_CONFIG_ENV, DebugConfig, HOSTNAME, MAX_HOSTS_PER_RUN } from './runtime/debug-checks';
import { allowVpcNetworking, handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

export interface DebugChecksProps extends DebugChecksOptions {
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Two checkers (inside and outside the WAF's VPC) and the custom widget that runs them. The widget's role may invoke
 * only the two checkers; the checkers contact only configured targets.
 */
export class DebugChecks extends Construct {
  public readonly insideChecker: lambda.IFunction;
  public readonly outsideChecker: lambda.IFunction;
  public readonly widgetFunction: lambda.IFunction;
  public readonly logGroups: Array<{ label: string; logGroup: logs.ILogGroup }>;
  public readonly widget: cloudwatch.IWidget;

  constructor(scope: Construct, id: string, props: DebugChecksProps) {
    super(scope, id);
    const door = props.frontDoor;
    const protocol = (p?: WebProtocol) => (p === WebProtocol.HTTP ? 'http' as const : 'https' as const);
    const config: DebugConfig = {
      customers: (props.customers ?? []).map((c) => ({
        name: c.name,
        apps: c.apps.map((a) => ({
          hostnames: a.hostnames,
          upstreamAddress: a.upstreamAddress,
          upstreamPort: a.upstreamPort ?? 443,
          upstreamProtocol: protocol(a.upstreamProtocol),
        })),
      })),
      customersTableName: props.customersTable?.tableName,
      frontDoor: {
        dnsNames: door.dnsNames ?? [],
        ipAddresses: door.ipAddresses ?? [],
        egressIpAddresses: door.egressIpAddresses ?? [],
        port: door.port ?? 443,
        protocol: protocol(door.protocol),
      },
      requestTimeoutMs: (props.requestTimeout ?? Duration.seconds(5)).toMilliseconds(),
      concurrency: props.concurrency ?? 8,
    };
    // Every request waits at most the timeout; the hosts of a customer run in waves of `concurrency`.
    const runTime = Duration.millis(config.requestTimeoutMs * Math.ceil(MAX_HOSTS_PER_RUN / config.concurrency) + 10_000);

    const checker = (where: 'inside' | 'outside') => {
      const defaults = handlerDefaults(this, where === 'inside' ? 'InsideChecker' : 'OutsideChecker', {
        description: `WAF debugging checks from ${where} the WAF's VPC`,
        logRetention: props.logRetention,
        removalPolicy: props.removalPolicy,
        timeout: runTime,
        environment: { [DEBUG_CONFIG_ENV]: Stack.of(this).toJsonString(config), [CHECKER_LOCATION_ENV]: where },
      });
      if (where === 'inside') allowVpcNetworking(defaults.role);
      const fn = new DebugCheckerFunction(this, where === 'inside' ? 'InsideChecker' : 'OutsideChecker', {
        ...defaults.functionOptions,
        ...(where === 'inside' ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups } : {}),
        retryAttempts: 0,
      });
      this.grantTableRead(defaults.role, props.customersTable);
      suppressNag(fn, [pinnedRuntime()]);
      return { fn, logGroup: defaults.logGroup };
    };
    const inside = checker('inside');
    const outside = checker('outside');

    const widgetDefaults = handlerDefaults(this, 'Widget', {
      description: 'Dashboard widget that runs the WAF debugging checks',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: runTime.plus(Duration.seconds(10)),
      environment: {
        [DEBUG_CONFIG_ENV]: Stack.of(this).toJsonString(config),
        [CHECKER_ARNS_ENV.inside]: inside.fn.functionArn,
        [CHECKER_ARNS_ENV.outside]: outside.fn.functionArn,
      },
    });
    // Exactly the two checkers, unqualified: no version or alias wildcard.
    widgetDefaults.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [inside.fn.functionArn, outside.fn.functionArn],
    }));
    this.grantTableRead(widgetDefaults.role, props.customersTable);
    const widgetFn = new DebugWidgetFunction(this, 'Widget', { ...widgetDefaults.functionOptions, retryAttempts: 0 });
    suppressNag(widgetFn, [pinnedRuntime()]);

    this.insideChecker = inside.fn;
    this.outsideChecker = outside.fn;
    this.widgetFunction = widgetFn;
    this.logGroups = [
      { label: 'Debug checks from inside the VPC (one event per host)', logGroup: inside.logGroup },
      { label: 'Debug checks from outside the VPC (one event per host)', logGroup: outside.logGroup },
      { label: 'Debug widget', logGroup: widgetDefaults.logGroup },
    ];
    this.widget = new cloudwatch.CustomWidget({
      functionArn: widgetFn.functionArn,
      title: 'Debugging checks per customer',
      width: 24,
      height: 8,
      updateOnRefresh: false,
      updateOnResize: false,
      updateOnTimeRangeChange: false,
    });
  }

  private grantTableRead(role: iam.IRole, table?: dynamodb.ITable): void {
    if (!table) return;
    // Scan of the table itself only (no index wildcard); the key, if any, decrypts it.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: [table.tableArn] }));
    table.encryptionKey?.grantDecrypt(role);
  }
}

/** Every problem with the debugging options, for the monitor's synth-time message. */
export function debugChecksErrors(options: DebugChecksOptions | undefined): string[] {
  if (!options) return [];
  const errors: string[] = [];
  const door = options.frontDoor;
  if ((door.dnsNames ?? []).length + (door.ipAddresses ?? []).length === 0) {
    errors.push('debugChecks.frontDoor needs at least one of dnsNames or ipAddresses');
  }
  for (const a of [...(door.dnsNames ?? []), ...(door.ipAddresses ?? []), ...(door.egressIpAddresses ?? [])]) {
    if (!Token.isUnresolved(a) && !HOSTNAME.test(a)) errors.push(`debugChecks.frontDoor: "${a}" is not a DNS name or IP address`);
  }
  // The checkers refuse these at run time too (table rows alike); a literal in props is a mistake to fix now.
  for (const a of [...(door.dnsNames ?? []), ...(door.ipAddresses ?? [])]) {
    const refusal = Token.isUnresolved(a) ? undefined : hostRefusal(a, true);
    if (refusal) errors.push(`debugChecks.frontDoor: ${refusal}; give the WAF entry's DNS name or address`);
  }
  const names = new Set<string>();
  for (const c of options.customers ?? []) {
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(c.name)) errors.push(`debugChecks.customers: name "${c.name}" must be 1-100 of letters, digits, space . _ - (starting with a letter or digit)`);
    if (names.has(c.name)) errors.push(`debugChecks.customers: "${c.name}" appears twice`);
    names.add(c.name);
    for (const app of c.apps) {
      for (const h of [...app.hostnames, app.upstreamAddress]) {
        if (!Token.isUnresolved(h) && !HOSTNAME.test(h)) errors.push(`debugChecks.customers["${c.name}"]: "${h}" is not a DNS name or IP address`);
      }
      const refusal = Token.isUnresolved(app.upstreamAddress) ? undefined : hostRefusal(app.upstreamAddress, true);
      if (refusal) errors.push(`debugChecks.customers["${c.name}"]: upstreamAddress ${refusal}; give the upstream's routable address or DNS name`);
      if (app.hostnames.length === 0) errors.push(`debugChecks.customers["${c.name}"]: an app needs at least one hostname`);
      const port = app.upstreamPort;
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) errors.push(`debugChecks.customers["${c.name}"]: upstreamPort must be 1-65535, got ${port}`);
    }
  }
  const timeout = options.requestTimeout?.toMilliseconds();
  if (timeout !== undefined && !(timeout >= 1000 && timeout <= 10_000)) errors.push('debugChecks.requestTimeout must be from 1 to 10 seconds');
  const c = options.concurrency;
  if (c !== undefined && !(Number.isInteger(c) && c >= 1 && c <= 32)) errors.push(`debugChecks.concurrency must be a whole number from 1 to 32, got ${c}`);
  return errors;
}
