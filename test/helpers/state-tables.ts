import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import {
  createTables,
  type ResourceNames,
  resourceNames,
  tableDefinitions,
} from '../../localstack/provision.js';
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

/** Fresh state and parked tables named after `prefix`, with the stores over them (tombstones kept an hour). */
async function freshStores(
  client: DynamoDBClient,
  prefix: string,
): Promise<{ names: ResourceNames; state: StateStore; parked: ParkedStore }> {
  const names = resourceNames(uniqueName(prefix));
  await createTables(client, names);
  return {
    names,
    state: new StateStore({ client, tableName: names.stateTable, tombstoneTtlSeconds: 3600 }),
    parked: new ParkedStore({ client, tableName: names.parkedTable }),
  };
}

export { createStoreTable, freshStores };
