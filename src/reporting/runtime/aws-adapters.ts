import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClientOptions } from '@elastic/elasticsearch';
import { readAlarms } from './alarm-history';
import { ReportConfig } from './config';
import { FetchLike, readAwsCosts, readElasticCosts } from './costs';
import { readBudgetExceeded, readHistory } from './guard-history';
import { ReportOutputs, ReportSources } from './report-run';
import { createElasticClient } from '../../shared/runtime/elastic/client';
import { parseCredentials } from '../../shared/runtime/elastic/credentials';
import { classifyError } from '../../shared/runtime/elastic/problems';

/** The AWS and HTTP clients a run uses; tests point them at local servers. */
export interface ReportClients {
  readonly doc?: Pick<DynamoDBDocumentClient, 'send'>;
  readonly cloudwatch?: Pick<CloudWatchClient, 'send'>;
  readonly secrets?: Pick<SecretsManagerClient, 'send'>;
  readonly costExplorer?: Pick<CostExplorerClient, 'send'>;
  readonly fetch?: FetchLike;
  /** The mock connection of `@elastic/elasticsearch-mock` in tests. */
  readonly elasticConnection?: ClientOptions['Connection'];
}

/** An Elasticsearch failure with the shared, operator-readable message (what to check), credentials redacted. */
class ElasticSearchError extends Error {
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
  }
}

export function reportSources(config: ReportConfig, clients: ReportClients): ReportSources {
  const sources: { -readonly [K in keyof ReportSources]: ReportSources[K] } = {};
  if (config.guard && clients.doc) {
    const guard = config.guard;
    const doc = clients.doc;
    sources.readHistory = (period) => readHistory(doc, guard, period);
    if (guard.metrics && clients.cloudwatch) {
      const cw = clients.cloudwatch;
      sources.readBudgetExceeded = (period) => readBudgetExceeded(cw, guard, period);
    }
  }
  if (config.elastic && clients.secrets) {
    const elastic = config.elastic;
    const secrets = clients.secrets;
    let client: ReturnType<typeof createElasticClient> | undefined;
    sources.elasticSearch = async (name, body, timeoutMs) => {
      if (!client) {
        const secret = await secrets.send(new GetSecretValueCommand({ SecretId: elastic.credentials.secretArn }));
        client = createElasticClient(elastic, parseCredentials(secret.SecretString, elastic.credentials), clients.elasticConnection);
      }
      try {
        // A pattern matching no index yet is an empty period, not an error.
        const params = { index: elastic.indexPattern, ignore_unavailable: true, allow_no_indices: true, ...body };
        return await client.search(params as never, timeoutMs === undefined ? undefined : { requestTimeout: timeoutMs });
      } catch (e) {
        const p = classifyError(e, `search "${name}"`, elastic.endpoint);
        throw new ElasticSearchError(p.message, (e as Error).name ?? 'Error');
      }
    };
  }
  if (config.costs && clients.costExplorer) {
    const costs = config.costs;
    const ce = clients.costExplorer;
    sources.readAwsCosts = (period) => readAwsCosts(ce, costs, period);
  }
  if (config.elasticBilling && clients.secrets) {
    const billing = config.elasticBilling;
    const secrets = clients.secrets;
    const fetchFn = clients.fetch ?? (globalThis.fetch as unknown as FetchLike);
    sources.readElasticCosts = async (period) => {
      const secret = await secrets.send(new GetSecretValueCommand({ SecretId: billing.secretArn }));
      const key = parseCredentials(secret.SecretString, { kind: 'apiKey', secretArn: billing.secretArn, apiKeyKey: billing.apiKeyKey });
      return readElasticCosts(fetchFn, billing, (key as { apiKey: string }).apiKey, period);
    };
  }
  if (config.alarmNames?.length && clients.cloudwatch) {
    const names = config.alarmNames;
    const cw = clients.cloudwatch;
    sources.readAlarms = (period) => readAlarms(cw, names, period);
  }
  return sources;
}

/** Files to S3 (SSE by the bucket's default encryption), the email through SES v2 with HTML and text parts. */
export function awsOutputs(s3: Pick<S3Client, 'send'>, ses: Pick<SESv2Client, 'send'>, bucket: string): ReportOutputs {
  return {
    putObject: async (key, body, contentType) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
      return `s3://${bucket}/${key}`;
    },
    getObject: async (key) => {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (e) {
        // A missing bucket is a 404 too, but not a missing file: the files' absence would be taken for a fact.
        if ((e as Error).name === 'NoSuchBucket') throw e;
        if ((e as Error).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw e;
      }
    },
    sendEmail: async (email, from, to) => {
      const out = await ses.send(new SendEmailCommand({
        FromEmailAddress: from,
        Destination: { ToAddresses: [...to] },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Html: { Data: email.html, Charset: 'UTF-8' }, Text: { Data: email.text, Charset: 'UTF-8' } },
          },
        },
      }));
      return out.MessageId;
    },
  };
}
