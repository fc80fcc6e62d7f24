import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../../shared/runtime/dynamo';
import { parseStoredRule, StoredRule } from '../rule-model';

/** What CloudFormation sends a custom resource (the fields the seeder uses). */
export interface SeedRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: { readonly TableName: string; readonly RulesJson: string };
  readonly OldResourceProperties?: { readonly TableName: string; readonly RulesJson: string };
}

export interface SeedPlan {
  readonly put: StoredRule[];
  readonly remove: StoredRule[];
}

function parseRules(json: string | undefined): StoredRule[] {
  if (!json) return [];
  const raw = JSON.parse(json) as Array<Record<string, unknown>>;
  return raw.map((r) => {
    const parsed = parseStoredRule(r);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed;
  });
}

/**
 * Only rules whose definition changed in the stack are written, so an operator's run-time edit of a rule survives
 * deploys until the stack itself changes that rule; rules dropped from the stack are deleted; rows the stack never
 * created are not touched.
 */
export function planSeed(request: SeedRequest): SeedPlan {
  const next = request.RequestType === 'Delete' ? [] : parseRules(request.ResourceProperties.RulesJson);
  const previous = request.RequestType === 'Create' ? [] : parseRules((request.OldResourceProperties ?? request.ResourceProperties).RulesJson);
  const before = new Map(previous.map((r) => [r.ruleId, JSON.stringify(r)]));
  const nextIds = new Set(next.map((r) => r.ruleId));
  return {
    put: next.filter((r) => before.get(r.ruleId) !== JSON.stringify(r)),
    remove: previous.filter((r) => !nextIds.has(r.ruleId)),
  };
}

/** Applies a plan; a removed rule's row is deleted only while it is still marked as the stack's own. */
export async function applySeed(doc: DynamoDBDocumentClient, tableName: string, plan: SeedPlan): Promise<void> {
  for (const rule of plan.put) {
    await doc.send(new PutCommand({ TableName: tableName, Item: rule }));
  }
  for (const rule of plan.remove) {
    try {
      await doc.send(new DeleteCommand({
        TableName: tableName,
        Key: { ruleId: rule.ruleId },
        ConditionExpression: 'managedBy = :m',
        ExpressionAttributeValues: { ':m': rule.managedBy ?? '' },
      }));
    } catch (e) {
      // the row was taken over by an operator (managedBy changed) or is already gone
      if (!isConditionFailure(e)) throw e;
    }
  }
}
