import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resourceNames, tableDefinitions } from '../../localstack/provision.js';
import { uniqueName } from './engines.js';

/**
 * Creates one fresh state or parked table, as the template declares it, and returns its name. DynamoDB
 * Local answers CreateTable with an active table, so no wait is needed.
 */
async function createStoreTable(client: DynamoDBClient, kind: 'state' | 'parked'): Promise<string> {
  const names = resourceNames(uniqueName(`contract-${kind}`));
  const tableName = kind === 'state' ? names.stateTable : names.parkedTable;
  const definition = tableDefinitions(names).find((t) => t.input.TableName === tableName)!;
  await client.send(new CreateTableCommand(definition.input));
  return tableName;
}

export { createStoreTable };
