/**
 * Key schemas of the guard's DynamoDB tables, written once: the construct builds its tables from them and the local
 * demo creates the same tables on dynalite from them. All keys are strings.
 */
export interface TableSchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Attribute holding the epoch-second expiry that DynamoDB TTL deletes on. */
  readonly timeToLiveAttribute?: string;
  /** Whether the table has a stream of new images (the sync function listens to it). */
  readonly stream?: boolean;
  readonly globalIndexes?: ReadonlyArray<{ readonly name: string; readonly partitionKey: string; readonly sortKey?: string }>;
}

/** Detection rules, keyed by rule id; operators edit rows at run time. */
export const RULES_TABLE: TableSchema = { partitionKey: 'ruleId' };

/**
 * Request counters per rule and client IP (`<ruleId>#<ip>`), one attribute per time bucket; also the per-minute
 * new-block budget (`#budget#<minute>`).
 */
export const COUNTERS_TABLE: TableSchema = { partitionKey: 'pk', timeToLiveAttribute: 'expiresAt' };

/** Active blocks (and COUNT-rule "would block" records): the source of truth the WAF IP sets are rebuilt from. */
export const BLOCKS_TABLE: TableSchema = {
  partitionKey: 'ip',
  sortKey: 'ruleId',
  timeToLiveAttribute: 'expiresAt',
  stream: true,
};

/** Every block and release, kept for the history retention. */
export const HISTORY_TABLE: TableSchema = {
  partitionKey: 'ip',
  sortKey: 'at',
  timeToLiveAttribute: 'expiresAt',
  globalIndexes: [{ name: 'byDay', partitionKey: 'day', sortKey: 'at' }],
};
