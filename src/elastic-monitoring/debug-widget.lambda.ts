import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CheckerResponse } from './debug-checker.lambda';
import { CHECKER_ARNS_ENV, CheckResult, RequestError, parseCheckRequest } from './runtime/debug-checks';
import { loadCustomers, parseDebugConfig } from './runtime/debug-targets';
import { describeWidget, renderResults, renderWidget } from './runtime/debug-widget-html';
import { Log, powertoolsLog } from '../shared/runtime/telemetry';

export interface WidgetDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly ddb?: Pick<DynamoDBDocumentClient, 'send'>;
  readonly lambda: Pick<LambdaClient, 'send'>;
  readonly logger: Log;
}

interface WidgetEvent {
  readonly describe?: boolean;
  readonly widgetContext?: unknown;
  readonly customer?: unknown;
  readonly check?: unknown;
}

/**
 * The custom widget: `describe` gives Markdown; a plain render lists the customers with a button per check; a button
 * press (`customer` and `check` in the event) runs the check on both checkers and returns the result table.
 */
export function createWidgetHandler(deps: WidgetDeps): (event: WidgetEvent, context: { invokedFunctionArn: string }) => Promise<string> {
  return async (event, context) => {
    if (event?.describe) return describeWidget();
    const config = parseDebugConfig(deps.env);
    const customers = await loadCustomers(config, deps.ddb);
    if (event?.customer === undefined && event?.check === undefined) {
      return renderWidget(customers, context.invokedFunctionArn, config.frontDoor);
    }
    let request;
    try {
      request = parseCheckRequest({ customer: event.customer, check: event.check }, customers);
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
      return renderResults([], [`Refused: ${e.message}`]);
    }
    const results: CheckResult[] = [];
    const failures: string[] = [];
    await Promise.all((['inside', 'outside'] as const).map(async (where) => {
      const arn = deps.env[CHECKER_ARNS_ENV[where]];
      if (!arn) return;
      try {
        const out = await deps.lambda.send(new InvokeCommand({ FunctionName: arn, Payload: Buffer.from(JSON.stringify(request)) }));
        const body = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8') || '{}') as CheckerResponse;
        if (out.FunctionError || body.error) failures.push(`checker ${where}: ${body.error ?? out.FunctionError}`);
        results.push(...(body.results ?? []));
      } catch (e) {
        failures.push(`checker ${where} could not run: ${(e as Error).name}`);
      }
    }));
    deps.logger.info(`debug check ${request.check} for ${request.customer}`, { event: 'debug-widget-run', ...request, results: results.length });
    results.sort((a, b) => a.host.localeCompare(b.host) || a.location.localeCompare(b.location));
    return renderResults(results, failures);
  };
}

export const handler = createWidgetHandler({
  env: process.env,
  ddb: process.env.AWS_REGION ? DynamoDBDocumentClient.from(new DynamoDBClient({})) : undefined,
  lambda: new LambdaClient({}),
  logger: powertoolsLog(new Logger({ serviceName: 'waf-debug-widget' })),
});
