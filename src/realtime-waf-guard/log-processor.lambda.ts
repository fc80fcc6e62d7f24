import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';
import { TimestreamSink, writeForQueryDetection } from './runtime/analytics-sink';
import { BlockStore } from './runtime/block-store';
import { analyticsConfigFromEnv, logProcessorConfigFromEnv, queryDetectionFromEnv } from './runtime/config';
import { CounterStore } from './runtime/counter-store';
import { HistoryStore } from './runtime/history-store';
import { LogProcessor } from './runtime/log-processor';
import { loadShields, ShieldCache } from './runtime/operator-actions';
import { loadRules, RulesCache } from './runtime/rules-store';
import { powertools } from '../shared/runtime/telemetry';

// Built once per container: configuration errors surface at init, and clients keep their connections warm.
const config = logProcessorConfigFromEnv(process.env);
const analyticsConfig = analyticsConfigFromEnv(process.env);
const queryDetection = queryDetectionFromEnv(process.env);
const dynamo = new DynamoDBClient({});
const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
const { log, metrics, emf } = powertools();
// A few attempts, not the SDK's open-ended patience: a batch must not wait on analytics for long.
const analytics = analyticsConfig
  ? new TimestreamSink(analyticsConfig, { client: new TimestreamWriteClient({ maxAttempts: 3 }), log, metrics })
  : undefined;
const processor = new LogProcessor(config, {
  rules: new RulesCache(() => loadRules(doc, config.rulesTable, config), config.rulesCacheMs),
  counters: new CounterStore(dynamo, config.countersTable, config.counterRetentionSeconds),
  blocks: new BlockStore(doc, config.blocksTable, config.countersTable, config.maxNewBlocksPerMinute),
  history: new HistoryStore(doc, config.historyTable, config.historyRetentionDays),
  analytics,
  shields: new ShieldCache((now) => loadShields(doc, config.blocksTable, now)),
  metrics,
  log,
  now: Date.now,
});

export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  try {
    // With query detection the table is where detection reads, so the stream only feeds it.
    if (queryDetection && analytics) return await writeForQueryDetection(analytics, event.Records, metrics);
    const result = await processor.process(event.Records);
    return { batchItemFailures: result.batchItemFailures };
  } finally {
    emf.publishStoredMetrics();
  }
}
