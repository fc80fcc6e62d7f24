import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { ENV } from './handler-env';
import { operatorSettingsFromEnv } from './runtime/config';
import { handleWidget, WidgetEvent } from './runtime/console-widget';
import { OperatorActions } from './runtime/operator-actions';
import { powertoolsLog } from '../shared/runtime/telemetry';

const blocksTable = process.env[ENV.BLOCKS_TABLE];
if (!blocksTable) throw new Error(`environment variable ${ENV.BLOCKS_TABLE} is not set`);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const actions = new OperatorActions(doc, blocksTable, Date.now, operatorSettingsFromEnv(process.env));
const log = powertoolsLog();

/** The dashboard's custom widget: lists blocks and acts on them (see runtime/console-widget.ts). */
export async function handler(event: WidgetEvent, context: Context): Promise<string> {
  return handleWidget(event, {
    actions,
    guardName: process.env[ENV.SERVICE_NAME] ?? 'waf-guard',
    endpoint: context.invokedFunctionArn,
    historyUrl: process.env[ENV.HISTORY_URL],
    log,
    now: Date.now,
  });
}
