import { afterAll } from 'vitest';
import { DynamoDbCoordinationStore } from '../../../core/coordination/index.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { describeCoordinationStoreContract } from '../../helpers/coordination-store-contract.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
let table: Promise<string> | undefined;
afterAll(() => clients.destroy());

describeCoordinationStoreContract('DynamoDB Local', async () => {
  table ??= createCoordinationTable(clients.dynamodb, uniqueName('contract'));
  return new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: await table });
});
