import { request } from 'https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { applySeed, planSeed, SeedRequest } from './runtime/rules-seeder';

interface CustomResourceEvent extends SeedRequest {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
}

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });

/** Custom resource that seeds the rules table from the construct's props (no provider framework needed). */
export async function handler(event: CustomResourceEvent): Promise<void> {
  const physicalId = event.PhysicalResourceId ?? `${event.ResourceProperties.TableName}/rules`;
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = '';
  try {
    const plan = planSeed(event);
    await applySeed(doc, event.ResourceProperties.TableName, plan);
    reason = `put ${plan.put.length}, removed ${plan.remove.length}`;
  } catch (e) {
    reason = (e as Error).message;
    // A failed delete must not leave the stack stuck: the table goes with the stack or is retained on purpose.
    status = event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED';
  }
  console.log(JSON.stringify({ requestType: event.RequestType, status, reason }));
  await respond(event, { Status: status, Reason: reason.slice(0, 1000), PhysicalResourceId: physicalId });
}

function respond(event: CustomResourceEvent, result: { Status: string; Reason: string; PhysicalResourceId: string }): Promise<void> {
  const body = JSON.stringify({ ...result, StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId });
  return new Promise((resolve, reject) => {
    const req = request(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}
