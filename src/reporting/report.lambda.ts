import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsOutputs } from './runtime/aws-adapters';
import { createReportHandler } from './runtime/report-handler';
import { powertools } from '../shared/runtime/telemetry';

const { log, metrics, emf } = powertools();

export const handler = createReportHandler({
  env: process.env,
  clients: {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    cloudwatch: new CloudWatchClient({}),
    secrets: new SecretsManagerClient({}),
    // Cost Explorer has one endpoint, in us-east-1, whatever the function's region.
    costExplorer: new CostExplorerClient({ region: 'us-east-1' }),
  },
  outputs: () => awsOutputs(new S3Client({}), new SESv2Client({}), process.env.REPORT_BUCKET ?? ''),
  log,
  metrics,
  flush: () => emf.publishStoredMetrics(),
});
