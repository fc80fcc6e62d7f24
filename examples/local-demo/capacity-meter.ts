import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/**
 * DynamoDB capacity consumed through one client: every request asks for ReturnConsumedCapacity, which dynalite
 * computes by DynamoDB's rules (writes: 1 unit per KB of the larger of the item before and after; strongly
 * consistent reads: 1 unit per 4 KB). A write refused by its condition is billed on AWS but dynalite reports nothing
 * for it: it is counted as 1 unit, the charge for the small items the guard writes.
 */
export class CapacityMeter {
  public writeUnits = 0;
  public readUnits = 0;
  public readonly calls = new Map<string, number>();
  /** Write units per kind of item, when a `kindOf` is given. */
  public readonly writeUnitsByKind = new Map<string, number>();

  /** `kindOf` names what a request writes (a table, an item's role) from its input. */
  constructor(private readonly kindOf?: (input: Record<string, unknown>) => string) {}

  public attach(client: DynamoDBClient): void {
    client.middlewareStack.add((next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      this.calls.set(command, (this.calls.get(command) ?? 0) + 1);
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      try {
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
        this.add(command, input, consumed?.CapacityUnits ?? 0);
        return out;
      } catch (e) {
        if ((e as Error).name === 'ConditionalCheckFailedException') this.add(command, input, 1);
        throw e;
      }
    }, { step: 'initialize', name: 'capacityMeter' });
  }

  public reset(): void {
    this.writeUnits = 0;
    this.readUnits = 0;
    this.calls.clear();
    this.writeUnitsByKind.clear();
  }

  private add(command: string, input: Record<string, unknown>, units: number): void {
    if (!WRITES.has(command)) {
      this.readUnits += units;
      return;
    }
    this.writeUnits += units;
    if (this.kindOf) {
      const kind = this.kindOf(input);
      this.writeUnitsByKind.set(kind, (this.writeUnitsByKind.get(kind) ?? 0) + units);
    }
  }
}
