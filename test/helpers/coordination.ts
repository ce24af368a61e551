import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../../core/coordination/index.js';
import { resourceNames, tableDefinitions, waitFor } from '../../localstack/provision.js';

/** Creates a coordination table named after `prefix` (the same definition `provision()` uses) and returns its name. */
async function createCoordinationTable(dynamodb: DynamoDBClient, prefix: string): Promise<string> {
  const names = resourceNames(prefix);
  const definition = tableDefinitions(names).find((t) => t.input.TableName === names.coordinationTable)!;
  await dynamodb.send(new CreateTableCommand(definition.input));
  await waitFor(`table ${names.coordinationTable}`, async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: names.coordinationTable }));
    return Table?.TableStatus === 'ACTIVE';
  });
  return names.coordinationTable;
}

/** The system clock with its wall time moved by `skewMs`; the monotonic clock and timers are untouched. */
function skewedClock(skewMs: number): Clock {
  return { now: systemClock.now, sleep: systemClock.sleep, wallNow: () => Date.now() + skewMs };
}

export { createCoordinationTable, skewedClock };
