import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Counts the requests a DynamoDB client sends to one table (the coordination table), by operation: the
 * coordination cost the benchmark reports. Retries by the SDK below this point are not counted twice.
 */
function countTableRequests(
  client: DynamoDBClient,
  tableName: string,
): { readonly byOperation: Map<string, number>; total(): number } {
  const byOperation = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
      // BatchGetItem (an assigner reading several membership items) names its tables in RequestItems.
      if (
        input.TableName === tableName ||
        (input.RequestItems !== undefined && tableName in input.RequestItems)
      ) {
        const name = context.commandName ?? 'unknown';
        byOperation.set(name, (byOperation.get(name) ?? 0) + 1);
      }
      return next(args);
    },
    { step: 'initialize', name: 'cdcpCountTableRequests' },
  );
  return { byOperation, total: () => [...byOperation.values()].reduce((a, b) => a + b, 0) };
}

export { countTableRequests };
