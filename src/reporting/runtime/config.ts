import { parseTimeOfDay, timeZoneErrors } from './period';
import { ConfigError, CredentialsConfig, DEFAULT_FIELDS, endpointErrors, FieldNames } from '../../shared/runtime/elastic/connection';

/**
 * The report function's configuration, written by the construct into one environment variable as JSON and read back
 * by the handler and by the `report` CLI. It holds no secret: secrets are referenced by ARN and read at run time.
 */
export const REPORT_CONFIG_ENV = 'REPORT_CONFIG';

/** Name of the failure metric; one count per failed part of a run. */
export const REPORT_FAILURES_METRIC = 'ReportFailures';
/** One per scheduled daily run that ran to the end (with or without problems): the missed-run alarm's heartbeat. */
export const DAILY_RUNS_METRIC = 'ScheduledDailyRuns';
/** One per scheduled monthly run that ran to the end. */
export const MONTHLY_RUNS_METRIC = 'ScheduledMonthlyRuns';
/** Published by each daily run: 1 when the last monthly report that is due is not in the bucket, else 0. */
export const MONTHLY_REPORT_MISSING_METRIC = 'MonthlyReportMissing';

/**
 * Of the function's timeout, what a run keeps after its searches for the rest: the cost sources, up to 2,000 customer
 * CSVs written one after another (about 25 ms each to S3), the other files, the archived report and the email.
 * Searches are cut short or left out to keep it, so a slow cluster costs figures, never the whole report.
 */
export const FINISH_RESERVE_MS = 60_000;

export interface GuardSourceConfig {
  readonly historyTable: string;
  readonly historyIndex: string;
  readonly guardName: string;
  /** Where the guard's metrics are, for the new-block budget figure; left out when the report cannot read them. */
  readonly metrics?: { readonly namespace: string; readonly dimensions: Record<string, string> };
}

export interface ElasticSourceConfig {
  readonly endpoint: string;
  readonly allowInsecureHttp?: boolean;
  readonly indexPattern: string;
  readonly fields: FieldNames;
  readonly credentials: CredentialsConfig;
  readonly apdexTMs: number;
  readonly requestTimeoutMs: number;
  /** Documents in which this field exists count as data-breach hits. */
  readonly breachField?: string;
  readonly topClientIps: number;
}

export interface CostConfig {
  /** Cost Explorer dimension to group by (`SERVICE`, `LINKED_ACCOUNT`...), or none for one total. */
  readonly groupByDimension?: string;
  /** Cost allocation tag to group by instead of a dimension. */
  readonly groupByTag?: string;
  /** Only costs of resources carrying this tag with one of the values. */
  readonly tagFilter?: { readonly key: string; readonly values: string[] };
}

export interface ElasticBillingConfig {
  readonly secretArn: string;
  /** JSON key of the API key when the secret's value is JSON. */
  readonly apiKeyKey: string;
  readonly organizationId: string;
  readonly endpoint: string;
}

export interface ReportConfig {
  readonly reportName: string;
  readonly timeZone: string;
  readonly sender: string;
  readonly recipients: string[];
  /** Object key prefix (empty or ending in `/`). */
  readonly prefix: string;
  readonly guard?: GuardSourceConfig;
  readonly elastic?: ElasticSourceConfig;
  /** Cost workbooks are written only when set. */
  readonly costs?: CostConfig;
  readonly elasticBilling?: ElasticBillingConfig;
  /** Alarms whose state and changes in the period the "needs attention" banner lists (CloudWatch alarm names). */
  readonly alarmNames?: string[];
  /** Daily runs check that the last due monthly report exists; left out, they do not. */
  readonly monthlyReportCheck?: MonthlyReportCheckConfig;
}

/** When the monthly report of a month must be in the bucket: the run on the 1st at `runTime` local, plus `dueAfterMinutes`. */
export interface MonthlyReportCheckConfig {
  /** `HH:MM` in the report's time zone, the monthly schedule's time. */
  readonly runTime: string;
  /** The schedule's longest retry (maxRunDelay), the function's timeout and a margin, in minutes. */
  readonly dueAfterMinutes: number;
}

/**
 * Recipients of one report email. The report goes out as one SES SendEmail (SESv2), and SES accepts at most 50
 * recipients per message, counted across To, CC and BCC; more are rejected for the whole message. See the SendEmail API
 * reference (https://docs.aws.amazon.com/ses/latest/APIReference/API_SendEmail.html, the same limit in SESv2's) and
 * SES's quotas (https://docs.aws.amazon.com/ses/latest/dg/quotas.html).
 */
export const MAX_RECIPIENTS = 50;

export function recipientsLimitError(count: number): string {
  return `recipients: SES sends one message to at most ${MAX_RECIPIENTS} recipients, got ${count}: send the reports to a mailing list address instead`;
}

export const DEFAULT_ELASTIC_BILLING_ENDPOINT = 'https://billing.elastic-cloud.com';

/** Reads and checks the configuration; {@link ConfigError} names the setting. */
export function parseReportConfig(raw: string | undefined): ReportConfig {
  if (!raw) throw new ConfigError(`environment variable ${REPORT_CONFIG_ENV} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`environment variable ${REPORT_CONFIG_ENV} is not valid JSON`);
  }
  const errors = validateReportConfig(parsed);
  if (errors.length > 0) throw new ConfigError(`invalid report configuration: ${errors.join('; ')}`);
  return parsed as ReportConfig;
}

/** Every problem of a configuration, empty when usable. */
export function validateReportConfig(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['configuration must be a JSON object'];
  const c = value as Record<string, unknown>;
  const errors: string[] = [];
  const text = (obj: Record<string, unknown>, key: string, where = '') => {
    if (typeof obj[key] !== 'string' || (obj[key] as string).trim() === '') errors.push(`${where}${key} must be a non-empty string`);
  };
  for (const key of ['reportName', 'timeZone', 'sender']) text(c, key);
  if (typeof c.prefix !== 'string') errors.push('prefix must be a string');
  if (typeof c.timeZone === 'string' && c.timeZone.trim() !== '') errors.push(...timeZoneErrors(c.timeZone));
  if (!Array.isArray(c.recipients) || c.recipients.length === 0 || c.recipients.some((r) => typeof r !== 'string')) {
    errors.push('recipients must be a non-empty array of email addresses');
  }
  if (Array.isArray(c.recipients) && c.recipients.length > MAX_RECIPIENTS) errors.push(recipientsLimitError(c.recipients.length));
  if (c.guard === undefined && c.elastic === undefined) errors.push('at least one of guard and elastic must be set');
  if (c.guard !== undefined) {
    const g = c.guard as Record<string, unknown>;
    for (const key of ['historyTable', 'historyIndex', 'guardName']) text(g, key, 'guard.');
  }
  if (c.elastic !== undefined) {
    const e = c.elastic as Record<string, unknown>;
    for (const key of ['endpoint', 'indexPattern']) text(e, key, 'elastic.');
    if (typeof e.endpoint === 'string' && e.endpoint !== '') errors.push(...endpointErrors(e.endpoint, e.allowInsecureHttp === true).map((m) => `elastic.${m}`));
    const fields = e.fields as Record<string, unknown> | undefined;
    if (typeof fields !== 'object' || fields === null) errors.push('elastic.fields must be an object');
    else for (const key of Object.keys(DEFAULT_FIELDS)) text(fields, key, 'elastic.fields.');
    for (const key of ['apdexTMs', 'requestTimeoutMs', 'topClientIps']) {
      if (typeof e[key] !== 'number' || !((e[key] as number) > 0)) errors.push(`elastic.${key} must be a positive number`);
    }
    const credentials = e.credentials as Record<string, unknown> | undefined;
    if (typeof credentials !== 'object' || credentials === null) errors.push('elastic.credentials must be an object');
    else text(credentials, 'secretArn', 'elastic.credentials.');
  }
  if (c.elasticBilling !== undefined) {
    const b = c.elasticBilling as Record<string, unknown>;
    for (const key of ['secretArn', 'organizationId', 'endpoint', 'apiKeyKey']) text(b, key, 'elasticBilling.');
  }
  if (c.alarmNames !== undefined && (!Array.isArray(c.alarmNames) || c.alarmNames.some((n) => typeof n !== 'string' || n.trim() === ''))) {
    errors.push('alarmNames must be an array of alarm names');
  }
  if (c.monthlyReportCheck !== undefined) {
    const m = c.monthlyReportCheck as Record<string, unknown>;
    if (typeof m.runTime !== 'string' || parseTimeOfDay(m.runTime) === undefined) errors.push('monthlyReportCheck.runTime must be HH:MM');
    if (typeof m.dueAfterMinutes !== 'number' || !(m.dueAfterMinutes >= 0)) errors.push('monthlyReportCheck.dueAfterMinutes must be a number of minutes, 0 or more');
  }
  return errors;
}

export { ConfigError };
