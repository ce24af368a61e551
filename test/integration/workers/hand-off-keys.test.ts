import { afterAll } from 'vitest';
import { dynamoDbHandOffKeys } from '../../../core/workers/hand-off-keys.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { describeHandOffKeysContract } from '../../helpers/hand-off-keys-contract.js';

const clients = testClients();
let table: Promise<string> | undefined;
afterAll(() => clients.destroy());

describeHandOffKeysContract('DynamoDB Local', async () => {
  table ??= createCoordinationTable(clients.dynamodb, uniqueName('hand-off-keys'));
  return dynamoDbHandOffKeys({ client: clients.dynamodb, tableName: await table, streamName: 'orders' });
});
