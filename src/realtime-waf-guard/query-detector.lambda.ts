import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BlockStore } from './runtime/block-store';
import { queryDetectorConfigFromEnv } from './runtime/config';
import { HistoryStore } from './runtime/history-store';
import { loadShields, ShieldCache } from './runtime/operator-actions';
import { QueryDetector } from './runtime/query-detector';
import { loadRules, RulesCache } from './runtime/rules-store';
import { powertools } from '../shared/runtime/telemetry';

const config = queryDetectorConfigFromEnv(process.env);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const { log, metrics, emf } = powertools();
const detector = new QueryDetector(config, {
  // Read every run: runs are a minute or more apart, so a cache would only delay rule edits.
  rules: new RulesCache(() => loadRules(doc, config.rulesTable, config), 0),
  query: new TimestreamQueryClient({ maxAttempts: 3 }),
  blocks: new BlockStore(doc, config.blocksTable, config.countersTable, config.maxNewBlocksPerMinute),
  history: new HistoryStore(doc, config.historyTable, config.historyRetentionDays),
  shields: new ShieldCache((now) => loadShields(doc, config.blocksTable, now)),
  metrics,
  log,
  now: Date.now,
});

export async function handler(): Promise<void> {
  try {
    const summary = await detector.run();
    log.info('query detection run', { rules: summary.rules, failedRules: summary.failedRules, candidates: summary.candidates.length, created: summary.created });
  } finally {
    emf.publishStoredMetrics();
  }
}
