import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GuardSourceConfig } from './config';
import { HistoryRecord, parseHistoryItem } from './guard-summary';
import { ReportPeriod, utcDays } from './period';

/**
 * Reads the guard's history for a period through the `byDay` index: one query per UTC day the period touches (the
 * index is partitioned by the UTC date of the event), bounded by the period on the sort key, all pages.
 */
export async function readHistory(doc: Pick<DynamoDBDocumentClient, 'send'>, guard: GuardSourceConfig, period: ReportPeriod): Promise<HistoryRecord[]> {
  const records: HistoryRecord[] = [];
  for (const day of utcDays(period)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(new QueryCommand({
        TableName: guard.historyTable,
        IndexName: guard.historyIndex,
        // Sort keys are `<ISO time>#<event>#<rule>`: the bare ISO end sorts before every key at that instant, so the
        // period's end stays exclusive.
        KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#day': 'day', '#at': 'at' },
        ExpressionAttributeValues: { ':day': day, ':from': period.start.toISOString(), ':to': period.end.toISOString() },
        ExclusiveStartKey: startKey,
      }));
      for (const item of out.Items ?? []) {
        const record = parseHistoryItem(item);
        if (record) records.push(record);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
  return records;
}

/** Offenders the guard left unblocked because its new-block budget was spent (a metric, not a history event). */
export async function readBudgetExceeded(cloudwatch: Pick<CloudWatchClient, 'send'>, guard: GuardSourceConfig, period: ReportPeriod): Promise<number | undefined> {
  if (!guard.metrics) return undefined;
  const out = await cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: guard.metrics.namespace,
    MetricName: 'BlockBudgetExceeded',
    Dimensions: Object.entries(guard.metrics.dimensions).map(([Name, Value]) => ({ Name, Value })),
    StartTime: period.start,
    EndTime: period.end,
    Period: 86_400,
    Statistics: ['Sum'],
  }));
  return (out.Datapoints ?? []).reduce((sum, d) => sum + (d.Sum ?? 0), 0);
}
