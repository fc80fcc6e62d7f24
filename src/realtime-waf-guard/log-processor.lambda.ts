import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';
import { BlockStore } from './runtime/block-store';
import { logProcessorConfigFromEnv } from './runtime/config';
import { CounterStore } from './runtime/counter-store';
import { HistoryStore } from './runtime/history-store';
import { LogProcessor } from './runtime/log-processor';
import { loadRules, RulesCache } from './runtime/rules-store';
import { powertools } from '../shared/runtime/telemetry';

// Built once per container: configuration errors surface at init, and clients keep their connections warm.
const config = logProcessorConfigFromEnv(process.env);
const dynamo = new DynamoDBClient({});
const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
const { log, metrics, emf } = powertools();
const processor = new LogProcessor(config, {
  rules: new RulesCache(() => loadRules(doc, config.rulesTable, config), config.rulesCacheMs),
  counters: new CounterStore(dynamo, config.countersTable, config.counterRetentionSeconds),
  blocks: new BlockStore(doc, config.blocksTable, config.countersTable, config.maxNewBlocksPerMinute),
  history: new HistoryStore(doc, config.historyTable, config.historyRetentionDays),
  metrics,
  log,
  now: Date.now,
});

export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  try {
    const result = await processor.process(event.Records);
    return { batchItemFailures: result.batchItemFailures };
  } finally {
    emf.publishStoredMetrics();
  }
}
