import { ElasticDocumentFields } from './document-fields';
import { ElasticCredentials, ElasticCredentialsKind } from './elastic-credentials';
import { CredentialsConfig, DEFAULT_FIELDS, FieldNames } from '../shared/runtime/elastic/connection';

/**
 * Props to handler configuration for everything that reads the WAF's documents (the monitor and the reporting
 * construct), so both resolve field defaults and secrets identically. Not exported from the package.
 */
export function resolveFieldNames(fields: ElasticDocumentFields = {}): FieldNames {
  return {
    timestamp: fields.timestamp ?? DEFAULT_FIELDS.timestamp,
    latency: fields.latencyMs ?? DEFAULT_FIELDS.latency,
    status: fields.status ?? DEFAULT_FIELDS.status,
    host: fields.host ?? DEFAULT_FIELDS.host,
    customer: fields.customer ?? DEFAULT_FIELDS.customer,
    clientIp: fields.clientIp ?? DEFAULT_FIELDS.clientIp,
    requestBytes: fields.requestBytes ?? DEFAULT_FIELDS.requestBytes,
    responseBytes: fields.responseBytes ?? DEFAULT_FIELDS.responseBytes,
    httpStatusCode: fields.httpStatusCode ?? DEFAULT_FIELDS.httpStatusCode,
  };
}

/** The secret's ARN and JSON keys; never a secret value. */
export function credentialsConfig(credentials: ElasticCredentials): CredentialsConfig {
  return {
    kind: credentials.kind === ElasticCredentialsKind.API_KEY ? 'apiKey' : 'basic',
    secretArn: credentials.secret.secretArn,
    usernameKey: credentials.usernameKey,
    passwordKey: credentials.passwordKey,
    apiKeyKey: credentials.apiKeyKey,
  };
}

/** Empty field names, one message each. */
export function fieldNameErrors(prop: string, fields: ElasticDocumentFields | undefined): string[] {
  return Object.entries({ ...(fields ?? {}) } as Record<string, string | undefined>)
    .filter(([, value]) => value !== undefined && value.trim() === '')
    .map(([name]) => `${prop}.${name} must not be empty; leave it out to use the default`);
}
