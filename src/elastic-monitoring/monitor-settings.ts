import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ApdexDefinition } from './apdex-definition';
import { credentialsConfig, resolveFieldNames } from './connection-config';
import { clusterArnOfService, hasCluster } from './ecs-service-metrics';
import { ElasticWafMonitorProps } from './elastic-waf-monitor-props';
import { ElasticWafMonitorAlarms } from './monitor-alarm-options';
import { SearchEngine, SearchEngineKind } from './search-engine';
import { engineConfig, engineErrors } from './search-engine-access';
import { dashboardNameError, emailAddressErrors, metricNamespaceError } from '../shared/validation';
import { clusterNameErrors, CollectorConfig, DEFAULT_STATUS_VALUES, endpointErrors, LIMITS } from './runtime/config';

const DEFAULTS = {
  interval: Duration.minutes(5),
  ingestDelay: Duration.minutes(1),
  timeoutThreshold: Duration.seconds(240),
  apdexThreshold: Duration.millis(30),
  topN: 15,
  requestTimeout: Duration.seconds(30),
  namespace: 'WafGuard/Elastic',
};

/** Time the collector needs besides its Elasticsearch requests: reading the secret, writing logs. */
export const COLLECTOR_OVERHEAD = Duration.seconds(30);

/** The monitor's props with every default applied, and the collector's configuration built from them. */
export interface MonitorSettings {
  readonly interval: Duration;
  readonly window: Duration;
  readonly ingestDelay: Duration;
  readonly timeoutThreshold: Duration;
  readonly requestTimeout: Duration;
  readonly namespace: string;
  readonly clusterName: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly apdexDefinition: ApdexDefinition;
  readonly config: CollectorConfig;
}

/** Defaults applied once, so the collector, the alarms and the dashboard read the same values. */
export function monitorSettings(scope: Construct, props: ElasticWafMonitorProps, id: string): MonitorSettings {
  const interval = props.collectionInterval ?? DEFAULTS.interval;
  const window = props.window ?? interval;
  const ingestDelay = props.ingestDelay ?? DEFAULTS.ingestDelay;
  const timeoutThreshold = props.timeoutThreshold ?? DEFAULTS.timeoutThreshold;
  const apdexT = props.apdexThreshold ?? DEFAULTS.apdexThreshold;
  const requestTimeout = props.requestTimeout ?? DEFAULTS.requestTimeout;
  const namespace = props.metricNamespace ?? DEFAULTS.namespace;
  const clusterName = props.clusterName ?? id;
  const config: CollectorConfig = {
    endpoint: props.endpoint,
    ...(props.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
    indexPattern: props.indexPattern,
    fields: resolveFieldNames(props.fields),
    statusValues: {
      allowed: props.statusValues?.allowed ?? DEFAULT_STATUS_VALUES.allowed,
      blocked: props.statusValues?.blocked ?? DEFAULT_STATUS_VALUES.blocked,
      alerted: props.statusValues?.alerted ?? DEFAULT_STATUS_VALUES.alerted,
    },
    intervalMs: interval.toMilliseconds(),
    windowMs: window.toMilliseconds(),
    ingestDelayMs: ingestDelay.toMilliseconds(),
    timeoutThresholdMs: timeoutThreshold.toMilliseconds(),
    apdexTMs: apdexT.toMilliseconds(),
    ...(props.apdexDefinition === ApdexDefinition.ALLOWED_REQUESTS ? { apdexDefinition: 'allowedRequests' as const } : {}),
    topN: props.topHostCount ?? DEFAULTS.topN,
    ...(props.topHostsShardSize === undefined ? {} : { hostShardSize: props.topHostsShardSize }),
    namespace,
    clusterName,
    requestTimeoutMs: requestTimeout.toMilliseconds(),
    // Left out for the default, so the configuration of an Elasticsearch monitor reads as before.
    ...(props.engine && props.engine.kind !== SearchEngineKind.ELASTICSEARCH ? { engine: engineConfig(scope, props.engine, props.endpoint) } : {}),
    ...(props.credentials ? { credentials: credentialsConfig(props.credentials) } : {}),
  };
  return {
    interval,
    window,
    ingestDelay,
    timeoutThreshold,
    requestTimeout,
    namespace,
    clusterName,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    apdexDefinition: props.apdexDefinition ?? ApdexDefinition.ALL_REQUESTS,
    config,
  };
}

// Printable ASCII (a CloudWatch dimension value) without quotes or backslashes, so the name can sit inside the
// dashboard's SEARCH expressions unescaped.
const CLUSTER_NAME_PATTERN = /^[\x20-\x21\x23-\x26\x28-\x5b\x5d-\x7e]{1,200}$/;

/** Every prop error at once, each naming the prop and what to change. */
export function monitorPropsErrors(props: ElasticWafMonitorProps, resolved: MonitorSettings): string[] {
  const errors: string[] = [...engineErrors(props.engine ?? SearchEngine.elasticsearch(), props.credentials)];
  // An endpoint known only at deployment is checked by the collector with the same rules.
  if (!Token.isUnresolved(props.endpoint)) {
    errors.push(...endpointErrors(props.endpoint, props.allowInsecureHttp === true));
  }
  if (!Token.isUnresolved(props.indexPattern) && props.indexPattern.trim() === '') {
    errors.push('indexPattern must not be empty');
  }
  const seconds = (d: Duration) => d.toSeconds({ integral: false });
  const { interval, window, ingestDelay, requestTimeout } = resolved;
  if (!(seconds(interval) >= 60 && seconds(interval) % 60 === 0)) {
    errors.push(`collectionInterval must be a whole number of minutes (>= 1), got ${interval.toHumanString()}`);
  }
  if (!Number.isInteger(seconds(window) / 60)) {
    errors.push(`window must be a whole number of minutes, got ${window.toHumanString()}: give e.g. Duration.minutes(${Math.max(1, Math.round(seconds(window) / 60))})`);
  }
  if (seconds(window) < seconds(interval)) {
    errors.push(`window (${window.toHumanString()}) must be at least collectionInterval (${interval.toHumanString()}), or requests between windows are never counted`);
  }
  if (window.toMilliseconds() > LIMITS.windowMaxMs) {
    errors.push(`window must be at most 1 day, got ${window.toHumanString()}`);
  }
  if (seconds(ingestDelay) > 3600) {
    errors.push(`ingestDelay must be at most 1 hour, got ${ingestDelay.toHumanString()}`);
  }
  if (seconds(requestTimeout) < 1) {
    errors.push(`requestTimeout must be at least 1 second, got ${requestTimeout.toHumanString()}`);
  }
  if (seconds(requestTimeout) + seconds(COLLECTOR_OVERHEAD) > seconds(interval)) {
    errors.push(`requestTimeout (${requestTimeout.toHumanString()}) plus ${COLLECTOR_OVERHEAD.toHumanString()} must fit in collectionInterval (${interval.toHumanString()}) so runs never overlap; lower requestTimeout or raise collectionInterval`);
  }
  const topN = props.topHostCount;
  if (topN !== undefined && !(Number.isInteger(topN) && topN >= LIMITS.topNMin && topN <= LIMITS.topNMax)) {
    errors.push(`topHostCount must be a whole number from ${LIMITS.topNMin} to ${LIMITS.topNMax}, got ${topN}`);
  }
  const shardSize = props.topHostsShardSize;
  if (shardSize !== undefined && !(Number.isInteger(shardSize) && shardSize >= LIMITS.hostShardSizeMin && shardSize <= LIMITS.hostShardSizeMax)) {
    errors.push(`topHostsShardSize must be a whole number from ${LIMITS.hostShardSizeMin} to ${LIMITS.hostShardSizeMax}, got ${shardSize}`);
  } else if (shardSize !== undefined && shardSize < (topN ?? DEFAULTS.topN)) {
    errors.push(`topHostsShardSize (${shardSize}) must be at least topHostCount`);
  }
  if (props.apdexThreshold !== undefined && !(props.apdexThreshold.toMilliseconds() > 0)) {
    errors.push('apdexThreshold must be greater than 0 ms');
  }
  if (props.timeoutThreshold !== undefined && !(props.timeoutThreshold.toMilliseconds() > 0)) {
    errors.push('timeoutThreshold must be greater than 0 s');
  } else if (props.timeoutThreshold !== undefined && !Number.isInteger(seconds(props.timeoutThreshold))) {
    errors.push(`timeoutThreshold must be a whole number of seconds, got ${props.timeoutThreshold.toHumanString()}: ` +
      `give e.g. Duration.seconds(${Math.max(1, Math.round(seconds(props.timeoutThreshold)))})`);
  }
  errors.push(...alarmKeyErrors(props.alarms));
  if (!Token.isUnresolved(resolved.namespace)) {
    const namespaceError = metricNamespaceError('metricNamespace', resolved.namespace);
    if (namespaceError) errors.push(namespaceError);
  }
  if (props.dashboardName !== undefined && !Token.isUnresolved(props.dashboardName)) {
    const nameError = dashboardNameError('dashboardName', props.dashboardName);
    if (nameError) errors.push(nameError);
  }
  // FargateService.fromFargateServiceArn() gives a service without its cluster, which the metrics' ClusterName dimension
  // and the task state rule need; the long ARN form names it, a token or the old form does not.
  if (props.ecsService && !hasCluster(props.ecsService) && clusterArnOfService(props.ecsService) === undefined) {
    errors.push('ecsService has no cluster and its ARN does not name one (a token, or the old form without the cluster): ' +
      'import it with FargateService.fromFargateServiceAttributes(scope, id, { cluster, serviceArn }) (or Ec2Service.fromEc2ServiceAttributes), ' +
      'the cluster from Cluster.fromClusterAttributes() or Cluster.fromClusterArn(), or give the ARN arn:aws:ecs:<region>:<account>:service/<cluster>/<service>');
  }
  const serviceName = props.ecsService?.serviceName;
  // The crash metric's dimension is the task group `service:<name>`, and aws-cdk-lib allows dimension values of 255.
  if (serviceName !== undefined && !Token.isUnresolved(serviceName) && `service:${serviceName}`.length > 255) {
    errors.push(`ecsService: a service name of ${serviceName.length} characters is too long for the crash alarm's ` +
      'ServiceGroup dimension ("service:<name>", at most 255): monitor a service whose name has at most 247 characters');
  }
  if (!Token.isUnresolved(resolved.clusterName)) {
    if (!CLUSTER_NAME_PATTERN.test(resolved.clusterName)) {
      errors.push(`clusterName must be 1-200 of A-Z a-z 0-9 space . _ : / # @ + = -, got "${resolved.clusterName}"`);
    }
    const defaulted = props.clusterName === undefined ? ' (it defaults to the construct id: give clusterName)' : '';
    errors.push(...clusterNameErrors(resolved.clusterName).map((e) => `${e}${defaulted}`));
  }
  errors.push(...emailAddressErrors('alertEmails', props.alertEmails, (email) => Token.isUnresolved(email)));
  // Subscribing addresses to a topic the monitor does not own would change someone else's notifications.
  if (props.alarmTopic && (props.alertEmails ?? []).length > 0) {
    errors.push('Give either alarmTopic or alertEmails, not both: subscribe the addresses to your own topic instead');
  }
  if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
    errors.push('vpcSubnets and securityGroups need vpc; give vpc too, or leave them out');
  }
  const fields = { ...(props.fields ?? {}) } as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value.trim() === '') errors.push(`fields.${name} must not be empty; leave it out to use the default`);
  }
  const statusValues = [
    props.statusValues?.allowed ?? DEFAULT_STATUS_VALUES.allowed,
    props.statusValues?.blocked ?? DEFAULT_STATUS_VALUES.blocked,
    props.statusValues?.alerted ?? DEFAULT_STATUS_VALUES.alerted,
  ];
  if (statusValues.some((v) => v.trim() === '')) {
    errors.push('statusValues must not be empty strings; leave a value out to use its default');
  } else if (new Set(statusValues).size !== statusValues.length) {
    errors.push(`statusValues must be three different values, got ${statusValues.join(', ')}`);
  }
  return errors;
}

// Every key of ElasticWafMonitorAlarms; the Record type makes the compiler name a key added there and missing here.
const ALARM_KEYS: Record<keyof ElasticWafMonitorAlarms, true> = {
  period: true,
  latency: true,
  timeoutPercent: true,
  serverErrorPercent: true,
  freshness: true,
  trafficFloor: true,
  trafficAnomaly: true,
  apdex: true,
  blockedPercent: true,
  nodeCpu: true,
  nodeHeap: true,
  nodeDiskFree: true,
  clusterRed: true,
  clusterYellow: true,
  unassignedShards: true,
  searchRejections: true,
  writeRejections: true,
  jvmMemoryPressure: true,
  collectorErrors: true,
  ecsLogErrors: true,
  ecsTaskCrashes: true,
  ecsCpu: true,
  ecsMemory: true,
  ecsRunningTasks: true,
};

/** Keys of `alarms` that name no alarm (possible from JavaScript or a typo in a JSON context): they would do nothing. */
function alarmKeyErrors(alarms: ElasticWafMonitorAlarms | undefined): string[] {
  const unknown = Object.keys(alarms ?? {}).filter((key) => !Object.prototype.hasOwnProperty.call(ALARM_KEYS, key));
  return unknown.length === 0 ? [] : [`alarms has unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}: ` +
    `valid keys are ${Object.keys(ALARM_KEYS).join(', ')}`];
}
