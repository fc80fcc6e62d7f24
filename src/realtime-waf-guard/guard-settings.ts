import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { IConstruct } from 'constructs';
import { chooseCounting, Counting, countingEnvironments } from './counting';
import {
  integerInRange, normalizeCidrs, resolveGuardName, secondsInRange, stableId, validateEmails,
} from './guard-validation';
import { DEFAULT_COUNTER_RETENTION_SECONDS, DEFAULT_METRICS_NAMESPACE, ENV } from './handler-env';
import { toStoredRules } from './host-rule';
import { DETECTION_FIELDS, deliveredFieldOrder } from './log-fields';
import type { RealtimeWafGuardProps } from './realtime-waf-guard-props';
import { StoredRule } from './rule-model';
import { DEFAULT_IPV6_PREFIX_LENGTH, MAX_IPV6_PREFIX_LENGTH, MIN_IPV6_PREFIX_LENGTH, parseCidr, WIDEST_PREFIX } from './runtime/ip';
import { samplingProblem } from './runtime/sampling-bound';
import { resolveTimestreamSettings, TimestreamSettings } from './timestream-options';
import { ManagedRuleGroup, rateBasedStatement, validateManagedRuleGroups } from './waf-rules';
import { metricNamespaceError } from '../shared/validation';

/** The guard's props, checked and with every default filled in: what the parts of the guard are built from. */
export interface GuardSettings {
  readonly guardName: string;
  readonly rules: StoredRule[];
  readonly logFields: string[];
  readonly samplingRate: number;
  readonly allowList: string[];
  /** Widest allow-list entry (prop and run-time), as IPv4 and IPv6 prefix lengths. */
  readonly allowListWidestPrefixIpv4: number;
  readonly allowListWidestPrefixIpv6: number;
  readonly trustedProxies: string[];
  readonly ipv6PrefixLength: number;
  readonly maxNewBlocksPerMinute: number;
  readonly rulesCacheSeconds: number;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly logProcessorMemorySize: number;
  readonly historyDays: number;
  readonly counterRetentionSeconds: number;
  readonly alertEmails: string[];
  readonly createWebAcl: boolean;
  readonly managedRuleGroups: readonly ManagedRuleGroup[];
  readonly backstop?: wafv2.CfnWebACL.RateBasedStatementProperty;
  readonly shardCount?: number;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  readonly metricsNamespace: string;
  readonly operationalAlarms: boolean;
  readonly blockCloudFrontDomain: boolean;
  /** The Timestream sink (and query detection); undefined without `timestream`. */
  readonly timestream?: TimestreamSettings;
  readonly counting: Counting;
  /** `counting` was not given and LOCAL_FIRST could hold nothing for `rules`, so EXACT was chosen. */
  readonly exactChosen: boolean;
  /** Environments assumed to share LOCAL_FIRST's slack (see countingEnvironments). */
  readonly countingEnvironments: number;
}

/**
 * Validates every prop before any resource exists, so a bad prop fails with its own message (naming the prop and the
 * fix) rather than as a confusing error from a resource built from it.
 */
export function resolveGuardSettings(guard: IConstruct, props: RealtimeWafGuardProps): GuardSettings {
  const alertEmails = validateEmails('alertEmails', props.alertEmails);
  const createWebAcl = props.createWebAcl ?? true;
  const managedRuleGroups = props.managedRuleGroups ?? [];
  validateManagedRuleGroups(managedRuleGroups);
  if (props.existingStream && props.shardCount !== undefined) {
    throw new Error('Give either existingStream or shardCount, not both: shardCount only sizes a stream the guard creates');
  }
  if (props.alertTopic && alertEmails.length > 0) {
    throw new Error('Give either alertTopic or alertEmails, not both: subscribe the addresses to your own topic instead');
  }
  if (!createWebAcl && managedRuleGroups.length > 0) {
    throw new Error('managedRuleGroups need the guard\'s WebACL: with createWebAcl: false, add them to your own WebACL');
  }
  if (props.metricsNamespace !== undefined && !Token.isUnresolved(props.metricsNamespace)) {
    const namespaceError = metricNamespaceError('metricsNamespace', props.metricsNamespace);
    if (namespaceError) throw new Error(namespaceError);
  }
  const maxRecordAgeSeconds = secondsInRange('maxRecordAge', props.maxRecordAge, 60, 7 * 24 * 3600, 3600);
  const samplingRate = integerInRange('samplingRate', props.samplingRate, 1, 100, 100);
  // Deprecated and no longer used (the sampling bound decides), but still checked: a value that was refused stays refused.
  integerInRange('minLoggedRequests', props.minLoggedRequests, 1, 100_000, 10);
  const timestream = resolveTimestreamSettings(props.timestream, props.detection, maxRecordAgeSeconds);
  const rules = toStoredRules(props.rules ?? [], stableId(guard));
  rules.forEach((rule, i) => {
    const problem = samplingProblem(rule.threshold, samplingRate, rule.windowSeconds);
    if (problem) throw new Error(`rules[${i}] ("${rule.ruleId}"): ${problem}`);
  });
  const allowListWidestPrefixIpv4 = integerInRange('allowListWidestPrefixIpv4', props.allowListWidestPrefixIpv4, 1, 32, WIDEST_PREFIX.ipv4);
  const allowListWidestPrefixIpv6 = integerInRange('allowListWidestPrefixIpv6', props.allowListWidestPrefixIpv6, 1, 128, WIDEST_PREFIX.ipv6);
  const allowList = normalizeCidrs('allowList', props.allowList);
  allowList.forEach((entry, i) => {
    const { family, prefix } = parseCidr(entry) as { family: 4 | 6; prefix: number };
    const widest = family === 4 ? allowListWidestPrefixIpv4 : allowListWidestPrefixIpv6;
    if (prefix < widest) {
      throw new Error(`allowList[${i}]: ${entry} is wider than /${widest}; a few wide entries switch the guard off. Allow smaller ` +
        `networks, or set allowListWidestPrefixIpv${family} to ${prefix} or lower if you mean it`);
    }
  });
  const shardCount = props.shardCount === undefined ? undefined : integerInRange('shardCount', props.shardCount, 1, 10_000, 1);
  const environments = countingEnvironments(props.existingStream !== undefined, shardCount);
  const { counting, exactChosen } = chooseCounting(props.counting, rules, samplingRate, environments);
  return {
    guardName: resolveGuardName(props.guardName, guard),
    rules,
    logFields: deliveredFieldOrder([
      ...DETECTION_FIELDS, ...(props.additionalLogFields ?? []),
      // The sink's fields, and the request id that keeps two requests of one client in one millisecond two records.
      ...(timestream ? [...timestream.fields, 'x-edge-request-id'] : []),
    ]),
    samplingRate,
    allowList,
    allowListWidestPrefixIpv4,
    allowListWidestPrefixIpv6,
    trustedProxies: normalizeCidrs('trustedProxies', props.trustedProxies),
    ipv6PrefixLength: integerInRange(
      'ipv6PrefixLength', props.ipv6PrefixLength, MIN_IPV6_PREFIX_LENGTH, MAX_IPV6_PREFIX_LENGTH, DEFAULT_IPV6_PREFIX_LENGTH),
    maxNewBlocksPerMinute: integerInRange('maxNewBlocksPerMinute', props.maxNewBlocksPerMinute, 1, 10_000, 50),
    rulesCacheSeconds: secondsInRange('rulesCacheDuration', props.rulesCacheDuration, 0, 3600, 30),
    batchSize: integerInRange('batchSize', props.batchSize, 1, 10_000, 1000),
    batchingWindowSeconds: secondsInRange('maxBatchingWindow', props.maxBatchingWindow, 0, 300, 1),
    retryAttempts: integerInRange('retryAttempts', props.retryAttempts, 0, 10_000, 10),
    maxRecordAgeSeconds,
    logProcessorMemorySize: integerInRange('logProcessorMemorySize', props.logProcessorMemorySize, 128, 10_240, 512),
    historyDays: wholeDays(props.historyRetention?.toDays({ integral: false }), props.historyRetention?.toHumanString()),
    counterRetentionSeconds: secondsInRange(
      'counterRetention', props.counterRetention, Math.max(3600, maxRecordAgeSeconds), 7 * 24 * 3600,
      Math.max(DEFAULT_COUNTER_RETENTION_SECONDS, maxRecordAgeSeconds)),
    alertEmails,
    createWebAcl,
    managedRuleGroups,
    backstop: props.rateBasedBackstop ? rateBasedStatement(props.rateBasedBackstop) : undefined,
    shardCount,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    metricsNamespace: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
    operationalAlarms: props.operationalAlarms ?? true,
    blockCloudFrontDomain: props.blockCloudFrontDomain ?? true,
    timestream,
    counting,
    exactChosen,
    countingEnvironments: environments,
  };
}

function wholeDays(days: number | undefined, shown: string | undefined): number {
  if (days === undefined) return 90;
  if (Token.isUnresolved(days) || !Number.isInteger(days) || days < 1 || days > 3650) {
    throw new Error(`historyRetention must be whole days from 1 to 3650 (got ${shown})`);
  }
  return days;
}

/** Environment every handler of the guard reads. */
export function commonEnvironment(settings: GuardSettings): Record<string, string> {
  return {
    [ENV.ALLOW_LIST]: settings.allowList.join(','),
    [ENV.METRICS_NAMESPACE]: settings.metricsNamespace,
    [ENV.SERVICE_NAME]: settings.guardName,
  };
}
