import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { samplingProblem } from './sampling-bound';
import { scanAll } from '../../shared/runtime/dynamo';
import { parseStoredRule, StoredRule } from '../rule-model';

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

/** Reads every row of the rules table; invalid rows are reported and skipped, never fatal. */
export async function loadRules(doc: DynamoDBDocumentClient, tableName: string, admission?: RuleAdmission): Promise<LoadedRules> {
  const rules: StoredRule[] = [];
  const invalid: string[] = [];
  for (const item of await scanAll(doc, tableName)) {
    const parsed = parseStoredRule(item);
    const problem = typeof parsed === 'string' ? parsed : admissionProblem(parsed, admission);
    if (problem !== undefined) invalid.push(problem);
    else rules.push(parsed as StoredRule);
  }
  rules.sort((a, b) => a.ruleId.localeCompare(b.ruleId));
  return { rules, invalid, version: JSON.stringify(rules) };
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
