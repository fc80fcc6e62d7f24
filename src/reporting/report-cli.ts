import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ReportClients, reportSources } from './runtime/aws-adapters';
import { ReportConfig, validateReportConfig } from './runtime/config';
import { directoryOutputs } from './runtime/local-outputs';
import { runReport } from './runtime/report-run';
import { ReportRequest, requestedPeriod } from './runtime/request';

export { sampleReports } from './sample/sample-report';

/**
 * The `cdk-waf-guard report --dry-run` engine: the report function's own code with the caller's AWS credentials,
 * writing to a directory instead of S3 and SES. Bundled with its dependencies (assets/reporting/report-cli) because the
 * CLI may not require the handlers' devDependencies; the CLI loads it only for this subcommand.
 */
export interface DryRunOptions {
  readonly config: unknown;
  readonly request: ReportRequest;
  readonly outDir: string;
  /** Clients for tests and the local demo; the default chain (environment, profile, SSO) otherwise. */
  readonly clients?: ReportClients;
  readonly now?: Date;
}

export interface DryRunResult {
  readonly period: string;
  readonly files: string[];
  readonly emailFiles: string[];
  readonly problems: Array<{ source: string; message: string }>;
}

export async function dryRunReport(options: DryRunOptions): Promise<DryRunResult> {
  const errors = validateReportConfig(options.config);
  if (errors.length > 0) throw new Error(`invalid report configuration: ${errors.join('; ')}`);
  const config = options.config as ReportConfig;
  const now = options.now ?? new Date();
  const period = requestedPeriod(options.request, now, config.timeZone);
  const clients: ReportClients = options.clients ?? {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    cloudwatch: new CloudWatchClient({}),
    secrets: new SecretsManagerClient({}),
    costExplorer: new CostExplorerClient({ region: 'us-east-1' }),
  };
  const outputs = directoryOutputs(options.outDir);
  const quiet = () => undefined;
  const result = await runReport({
    config,
    period,
    now,
    sources: reportSources(config, clients),
    outputs,
    log: { info: quiet, warn: quiet, error: quiet },
    metrics: { add: quiet },
  });
  return { period: result.period, files: result.files, emailFiles: outputs.emailFiles, problems: result.problems };
}
