import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Requests and consumed capacity counted on one DynamoDB client. */
interface DynamoCounters {
  requests: number;
  writeCapacity: number;
  readCapacity: number;
  byCommand: Record<string, number>;
  /** Capacity units as reported, by command (DynamoDB Local reports a transaction's items at 1×, not 2×). */
  capacityByCommand: Record<string, number>;
}

interface CapacityEntry {
  CapacityUnits?: number;
  WriteCapacityUnits?: number;
  ReadCapacityUnits?: number;
}

function addCapacity(
  counters: DynamoCounters,
  command: string,
  consumed: CapacityEntry | CapacityEntry[] | undefined,
): void {
  for (const c of Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed]) {
    const units = c.CapacityUnits ?? 0;
    counters.capacityByCommand[command] = (counters.capacityByCommand[command] ?? 0) + units;
    if (c.WriteCapacityUnits !== undefined || c.ReadCapacityUnits !== undefined) {
      counters.writeCapacity += c.WriteCapacityUnits ?? 0;
      counters.readCapacity += c.ReadCapacityUnits ?? 0;
    } else if (/Get|Query|Scan/.test(command)) counters.readCapacity += units;
    else counters.writeCapacity += units;
  }
}

/**
 * Counts every request a client sends and asks DynamoDB for the capacity each consumed (an SDK middleware
 * that sets ReturnConsumedCapacity on every command that takes it).
 */
function instrument(client: DynamoDBClient): DynamoCounters {
  const counters: DynamoCounters = {
    requests: 0,
    writeCapacity: 0,
    readCapacity: 0,
    byCommand: {},
    capacityByCommand: {},
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      counters.requests++;
      counters.byCommand[command] = (counters.byCommand[command] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      if (!/Describe|Create|Delete(Table)|List|UpdateTimeToLive/.test(command))
        input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      addCapacity(
        counters,
        command,
        (result.output as { ConsumedCapacity?: CapacityEntry | CapacityEntry[] }).ConsumedCapacity,
      );
      return result;
    },
    { step: 'initialize', name: 'benchCounters' },
  );
  // ConditionalCheckFailed responses carry no capacity through the SDK; count those requests only.
  return counters;
}

function resetCounters(c: DynamoCounters): void {
  c.requests = 0;
  c.writeCapacity = 0;
  c.readCapacity = 0;
  c.byCommand = {};
  c.capacityByCommand = {};
}

export type { DynamoCounters };
export { instrument, resetCounters };
