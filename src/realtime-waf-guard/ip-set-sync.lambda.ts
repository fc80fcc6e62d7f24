import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ipSetSyncConfigFromEnv } from './runtime/config';
import { IpSetSync } from './runtime/ip-set-sync';
import { powertools } from '../shared/runtime/telemetry';

const config = ipSetSyncConfigFromEnv(process.env);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const { log, metrics, emf } = powertools();
// CLOUDFRONT-scope WAF resources exist only in us-east-1, whatever Region the function runs in.
const waf = new WAFV2Client(config.scope === 'CLOUDFRONT' ? { region: 'us-east-1' } : {});
const sync = new IpSetSync(config, { doc, waf, sns: new SNSClient({}), log, metrics, now: Date.now });

/** Invoked by the blocks table stream (new blocks) and by a one-minute schedule (expiries); both do a full rebuild. */
export async function handler(): Promise<void> {
  try {
    const result = await sync.run();
    log.info('sync done', {
      ipv4: result.plan.ipv4.length,
      ipv6: result.plan.ipv6.length,
      updates: result.updates,
      retries: result.retries,
      blocked: result.blocked.length,
      released: result.released.length,
    });
  } finally {
    emf.publishStoredMetrics();
  }
}
