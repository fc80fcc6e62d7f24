import { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { TableSchema } from '../table-schemas';

/** CreateTable input for a schema, for local servers; the construct builds the same tables from the same schemas. */
export function createTableInput(tableName: string, schema: TableSchema): CreateTableCommandInput {
  const keyNames = new Set([schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])]);
  for (const index of schema.globalIndexes ?? []) {
    keyNames.add(index.partitionKey);
    if (index.sortKey) keyNames.add(index.sortKey);
  }
  const keySchema = (pk: string, sk?: string) => [
    { AttributeName: pk, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...keyNames].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: keySchema(schema.partitionKey, schema.sortKey),
    ...(schema.globalIndexes?.length
      ? {
        GlobalSecondaryIndexes: schema.globalIndexes.map((index) => ({
          IndexName: index.name,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' as const },
        })),
      }
      : {}),
    ...(schema.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' as const } } : {}),
  };
}
