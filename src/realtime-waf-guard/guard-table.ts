import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TableSchema } from './table-schemas';

export interface GuardTableOptions {
  readonly pointInTimeRecovery: boolean;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A table built from its shared schema, so the handlers, the local demo and the stack agree on keys.
 * On-demand billing: traffic is bursty (an attack is a spike) and idle guards should cost nothing.
 * AWS-managed encryption: the handlers need no KMS grants, which keeps their policies free of KMS wildcards.
 */
export function guardTable(scope: Construct, id: string, schema: TableSchema, options: GuardTableOptions): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: schema.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: schema.sortKey ? { name: schema.sortKey, type: dynamodb.AttributeType.STRING } : undefined,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: options.pointInTimeRecovery },
    timeToLiveAttribute: schema.timeToLiveAttribute,
    stream: schema.stream ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
    removalPolicy: options.removalPolicy,
  });
  for (const index of schema.globalIndexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: index.sortKey ? { name: index.sortKey, type: dynamodb.AttributeType.STRING } : undefined,
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
  return table;
}
