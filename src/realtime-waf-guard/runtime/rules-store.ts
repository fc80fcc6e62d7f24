import { AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { samplingProblem } from './sampling-bound';
import { parseStoredRule, shown, StoredRule } from '../rule-model';

export interface LoadedRules {
  readonly rules: StoredRule[];
  /** Messages for rows that were skipped, so operators learn about a typo instead of a silently dead rule. */
  readonly invalid: string[];
  /** Changes whenever the rule set changes, for callers that cache work per rule set. */
  readonly version: string;
}

/** What a valid row must also meet to be used by this guard. */
export interface RuleAdmission {
  readonly samplingRate: number;
  /** @deprecated ignored: rows are admitted by the sampling bound (see `samplingProblem` in sampling-bound.ts). */
  readonly minLoggedRequests?: number;
}

/**
 * Reads every row of the rules table; invalid rows are reported and skipped, never fatal. Rows are read as raw
 * attribute values and converted one by one: the SDK's own conversion of a page throws on a single number it cannot
 * hold (a threshold of 2^53 + 1 becomes a BigInt, `1E+30` an error), and one hostile row must not stop every rule.
 */
export async function loadRules(client: DynamoDBClient | DynamoDBDocumentClient, tableName: string, admission?: RuleAdmission): Promise<LoadedRules> {
  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    // A document client shares its plain client's middleware, so a plain command through it returns raw attribute values.
    const page = await (client as DynamoDBClient).send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return parseRuleRows(items, admission);
}

/** The rules of a table's rows, each row parsed on its own: a row that cannot be parsed is refused with a reason. */
export function parseRuleRows(items: ReadonlyArray<Record<string, AttributeValue>>, admission?: RuleAdmission): LoadedRules {
  const rules: StoredRule[] = [];
  const invalid: string[] = [];
  for (const item of items) {
    const parsed = parseRuleRow(item);
    const problem = typeof parsed === 'string' ? parsed : admissionProblem(parsed, admission);
    if (problem !== undefined) invalid.push(problem);
    else rules.push(parsed as StoredRule);
  }
  rules.sort((a, b) => a.ruleId.localeCompare(b.ruleId));
  return { rules, invalid, version: JSON.stringify(rules) };
}

/** One row of the rules table as DynamoDB returns it: the rule, or why it is refused. Never throws. */
export function parseRuleRow(item: Record<string, AttributeValue>): StoredRule | string {
  try {
    const raw: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(item)) raw[name] = nativeValue(value);
    return parseStoredRule(raw);
  } catch (e) {
    // parseStoredRule is total; this keeps a surprise in a row's shape from ever reaching the batch.
    return `rule ${shown(item?.ruleId?.S)}: the row cannot be read (${shown(String((e as Error)?.message ?? e))})`;
  }
}

/** DynamoDB's number syntax; anything else in an `N` (only a fake would send it) reads as NaN and is refused. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * An `N` as a number; a whole number beyond 2^53 as a BigInt, so the refusal quotes it exactly. Huge values are out of
 * every field's range, so refused.
 */
function numberValue(text: string): number | bigint {
  if (!NUMBER.test(text)) return NaN;
  const n = Number(text);
  return !Number.isSafeInteger(n) && /^[+-]?\d+$/.test(text) ? BigInt(text) : n;
}

/** A raw attribute value as the plain value the rule parser judges, whatever its type. */
function nativeValue(value: AttributeValue | undefined): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if (typeof value.S === 'string') return value.S;
  if (typeof value.N === 'string') return numberValue(value.N);
  if (typeof value.BOOL === 'boolean') return value.BOOL;
  if (value.NULL === true) return null;
  if (value.B !== undefined) return value.B;
  if (Array.isArray(value.SS)) return new Set(value.SS);
  if (Array.isArray(value.NS)) return new Set(value.NS.map((n) => numberValue(String(n))));
  if (Array.isArray(value.BS)) return new Set(value.BS);
  if (Array.isArray(value.L)) return value.L.map(nativeValue);
  if (value.M !== null && typeof value.M === 'object') return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, nativeValue(v)]));
  return undefined;
}

function admissionProblem(rule: StoredRule, admission: RuleAdmission | undefined): string | undefined {
  // A disabled row is not evaluated, so it cannot block anyone on too few samples.
  if (!admission || !rule.enabled) return undefined;
  const problem = samplingProblem(rule.threshold, admission.samplingRate, rule.windowSeconds);
  return problem && `rule "${rule.ruleId}": ${problem}`;
}

/**
 * Rules cached for a short time, so edits take effect within `ttlMs` without a read per batch. When the table cannot
 * be read, the last good rules keep detection running.
 */
export class RulesCache {
  private cached?: { loaded: LoadedRules; at: number };

  constructor(private readonly load: () => Promise<LoadedRules>, private readonly ttlMs: number) {}

  public async get(nowMs: number): Promise<LoadedRules> {
    if (this.cached && nowMs - this.cached.at < this.ttlMs) return this.cached.loaded;
    try {
      const loaded = await this.load();
      this.cached = { loaded, at: nowMs };
      return loaded;
    } catch (e) {
      if (this.cached) return this.cached.loaded;
      throw e;
    }
  }
}
