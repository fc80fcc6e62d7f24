import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Customer, DEBUG_CONFIG_ENV, DebugConfig, parseCustomerItem } from './debug-checks';

/** A table larger than this is cut: the widget lists customers, it is not a directory. */
const MAX_TABLE_CUSTOMERS = 500;

export function parseDebugConfig(env: NodeJS.ProcessEnv): DebugConfig {
  const raw = env[DEBUG_CONFIG_ENV];
  if (!raw) throw new Error(`environment variable ${DEBUG_CONFIG_ENV} is not set`);
  return JSON.parse(raw) as DebugConfig;
}

/**
 * The customers from props, then those of the table (read on every call, so a new row shows without a deploy). A
 * table row with the name of a customer from props is ignored: props win.
 */
export async function loadCustomers(config: DebugConfig, ddb: Pick<DynamoDBDocumentClient, 'send'> | undefined): Promise<Customer[]> {
  const customers = [...config.customers];
  if (!config.customersTableName || !ddb) return customers;
  const known = new Set(customers.map((c) => c.name));
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: config.customersTableName, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const customer = parseCustomerItem(item);
      if (customer && !known.has(customer.name) && customers.length < config.customers.length + MAX_TABLE_CUSTOMERS) {
        customers.push(customer);
        known.add(customer.name);
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey && customers.length < config.customers.length + MAX_TABLE_CUSTOMERS);
  return customers.sort((a, b) => a.name.localeCompare(b.name));
}
