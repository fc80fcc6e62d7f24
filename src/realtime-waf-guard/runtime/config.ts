import type { AnalyticsSinkConfig } from './analytics-sink';
import type { TrafficCounterOptions } from './detector';
import { CidrSet, DEFAULT_IPV6_PREFIX_LENGTH, MAX_IPV6_PREFIX_LENGTH, MIN_IPV6_PREFIX_LENGTH, parseCidrList, WIDEST_PREFIX } from './ip';
import { IpSetSyncConfig } from './ip-set-sync';
import { LogProcessorConfig } from './log-processor';
import type { OperatorSettings } from './operator-actions';
import type { QueryDetectorConfig } from './query-detector';
import { DEFAULT_COUNTER_RETENTION_SECONDS, ENV } from '../handler-env';
import { deliveredFieldOrder } from '../log-fields';

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

function integer(env: Env, name: string, min: number, max: number, fallback?: number): number {
  const raw = env[name];
  if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
  const value = Number(required(env, name));
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${raw})`);
  return value;
}

function cidrs(env: Env, name: string): CidrSet {
  const raw = env[name] ?? '';
  return new CidrSet(parseCidrList(raw.split(',').map((s) => s.trim()).filter(Boolean), name));
}

/** How log lines are read and their clients found: the same for counting and for analytics. */
function clientResolutionFromEnv(env: Env): Omit<TrafficCounterOptions, 'rules'> {
  return {
    fields: deliveredFieldOrder(required(env, ENV.FIELDS).split(',')),
    allowList: cidrs(env, ENV.ALLOW_LIST),
    trustedProxies: cidrs(env, ENV.TRUSTED_PROXIES),
    ipv6PrefixLength: integer(env, ENV.IPV6_PREFIX_LENGTH, MIN_IPV6_PREFIX_LENGTH, MAX_IPV6_PREFIX_LENGTH, DEFAULT_IPV6_PREFIX_LENGTH),
  };
}

/** An IP set named by two variables, both or neither. */
function optionalSet(env: Env, nameVar: string, idVar: string): { name: string; id: string } | undefined {
  if (!env[nameVar] && !env[idVar]) return undefined;
  return { name: required(env, nameVar), id: required(env, idVar) };
}

/** What both detections need to read rules and record offenders: the tables, the budget, the rules check. */
export interface OffenderTablesConfig {
  readonly rulesTable: string;
  /** Also holds the new-block budget. */
  readonly countersTable: string;
  readonly blocksTable: string;
  /** Where stale offences are recorded (PutItem only). */
  readonly historyTable: string;
  readonly historyRetentionDays: number;
  readonly maxNewBlocksPerMinute: number;
}

function offenderTablesFromEnv(env: Env): OffenderTablesConfig {
  return {
    rulesTable: required(env, ENV.RULES_TABLE),
    countersTable: required(env, ENV.COUNTERS_TABLE),
    blocksTable: required(env, ENV.BLOCKS_TABLE),
    historyTable: required(env, ENV.HISTORY_TABLE),
    historyRetentionDays: integer(env, ENV.HISTORY_RETENTION_DAYS, 1, 3650, 90),
    maxNewBlocksPerMinute: integer(env, ENV.MAX_NEW_BLOCKS_PER_MINUTE, 1, 100_000, 50),
  };
}

export interface LogProcessorEnvConfig extends LogProcessorConfig, OffenderTablesConfig {
  readonly rulesCacheMs: number;
  readonly counterRetentionSeconds: number;
}

export function logProcessorConfigFromEnv(env: Env): LogProcessorEnvConfig {
  return {
    ...clientResolutionFromEnv(env),
    samplingRate: integer(env, ENV.SAMPLING_RATE, 1, 100),
    localFirstSlackPercent: localFirstSlack(env[ENV.COUNTING]),
    maxHeldPairs: heldPairsFor(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE),
    ...offenderTablesFromEnv(env),
    rulesCacheMs: integer(env, ENV.RULES_CACHE_SECONDS, 0, 3600, 30) * 1000,
    counterRetentionSeconds: integer(
      env, ENV.COUNTER_RETENTION_SECONDS, DEFAULT_COUNTER_RETENTION_SECONDS / 2, 7 * 86_400, DEFAULT_COUNTER_RETENTION_SECONDS,
    ),
  };
}

/**
 * Held pairs take some 430 bytes each with up to four buckets (760 with all 12 of a window): 400 per MB of the
 * function's memory keeps them near a sixth of it, under a third at worst (the default 512 MB holds 204,800). Outside
 * Lambda the default applies.
 */
function heldPairsFor(memoryMb: string | undefined): number | undefined {
  const mb = Number(memoryMb);
  return Number.isInteger(mb) && mb >= 128 ? mb * 400 : undefined;
}

/** `EXACT` (or unset, as before the setting existed) or `LOCAL_FIRST:<slack percent>`. */
function localFirstSlack(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '' || raw === 'EXACT') return undefined;
  const match = /^LOCAL_FIRST:(\d{1,2})$/.exec(raw);
  const slack = Number(match?.[1]);
  if (!match || slack < 1 || slack > 50) throw new Error(`${ENV.COUNTING} must be EXACT or LOCAL_FIRST:<1..50> (got ${raw})`);
  return slack;
}

export function ipSetSyncConfigFromEnv(env: Env): IpSetSyncConfig {
  const scope = env[ENV.WAF_SCOPE] ?? 'CLOUDFRONT';
  if (scope !== 'CLOUDFRONT' && scope !== 'REGIONAL') throw new Error(`${ENV.WAF_SCOPE} must be CLOUDFRONT or REGIONAL (got ${scope})`);
  return {
    guardName: env[ENV.SERVICE_NAME] ?? 'waf-guard',
    scope,
    ipv4: { name: required(env, ENV.IPV4_SET_NAME), id: required(env, ENV.IPV4_SET_ID) },
    ipv6: { name: required(env, ENV.IPV6_SET_NAME), id: required(env, ENV.IPV6_SET_ID) },
    forwardedIpv4: optionalSet(env, ENV.FORWARDED_IPV4_SET_NAME, ENV.FORWARDED_IPV4_SET_ID),
    forwardedIpv6: optionalSet(env, ENV.FORWARDED_IPV6_SET_NAME, ENV.FORWARDED_IPV6_SET_ID),
    allowList: cidrs(env, ENV.ALLOW_LIST),
    trustedProxies: cidrs(env, ENV.TRUSTED_PROXIES),
    maxSetSize: integer(env, ENV.MAX_SET_SIZE, 1, 10_000, 10_000),
    historyRetentionDays: integer(env, ENV.HISTORY_RETENTION_DAYS, 1, 3650, 90),
    blocksTable: required(env, ENV.BLOCKS_TABLE),
    historyTable: required(env, ENV.HISTORY_TABLE),
    topicArn: env[ENV.TOPIC_ARN] || undefined,
  };
}

/** The Timestream sink's settings, or undefined when the guard has no `timestream`. */
export function analyticsConfigFromEnv(env: Env): AnalyticsSinkConfig | undefined {
  const database = env[ENV.TIMESTREAM_DATABASE];
  if (!database) return undefined;
  return {
    database,
    table: required(env, ENV.TIMESTREAM_TABLE),
    ...clientResolutionFromEnv(env),
    analyticsFields: (env[ENV.ANALYTICS_FIELDS] ?? '').split(',').map((f) => f.trim()).filter(Boolean),
  };
}

/** Whether the log processor only feeds Timestream, query detection doing the counting. */
export function queryDetectionFromEnv(env: Env): boolean {
  const mode = env[ENV.DETECTION] ?? 'STREAMING';
  if (mode !== 'STREAMING' && mode !== 'TIMESTREAM_QUERY') throw new Error(`${ENV.DETECTION} must be STREAMING or TIMESTREAM_QUERY (got ${mode})`);
  return mode === 'TIMESTREAM_QUERY';
}

export interface QueryDetectorEnvConfig extends QueryDetectorConfig, OffenderTablesConfig {}

export function queryDetectorConfigFromEnv(env: Env): QueryDetectorEnvConfig {
  return {
    database: required(env, ENV.TIMESTREAM_DATABASE),
    table: required(env, ENV.TIMESTREAM_TABLE),
    samplingRate: integer(env, ENV.SAMPLING_RATE, 1, 100),
    intervalMs: integer(env, ENV.QUERY_INTERVAL_SECONDS, 60, 86_400, 60) * 1000,
    ...offenderTablesFromEnv(env),
  };
}

/** The settings operators' actions follow, from the console widget's environment (see guard-console.ts). */
export function operatorSettingsFromEnv(env: Env): Required<OperatorSettings> {
  return {
    ipv6PrefixLength: integer(env, ENV.IPV6_PREFIX_LENGTH, MIN_IPV6_PREFIX_LENGTH, MAX_IPV6_PREFIX_LENGTH, DEFAULT_IPV6_PREFIX_LENGTH),
    allowListWidestPrefixIpv4: integer(env, ENV.ALLOW_WIDEST_PREFIX_IPV4, 1, 32, WIDEST_PREFIX.ipv4),
    allowListWidestPrefixIpv6: integer(env, ENV.ALLOW_WIDEST_PREFIX_IPV6, 1, 128, WIDEST_PREFIX.ipv6),
  };
}
