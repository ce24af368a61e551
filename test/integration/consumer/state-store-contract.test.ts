import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll } from 'vitest';
import { StateStore } from '../../../core/state/index.js';
import { testClients } from '../../helpers/engines.js';
import { describeStateStoreContract } from '../../helpers/state-store-contract.js';
import { createStoreTable } from '../../helpers/state-tables.js';

const clients = testClients();
let table: Promise<string> | undefined;
afterAll(() => clients.destroy());

describeStateStoreContract(
  'DynamoDB Local',
  async (settings) => {
    table ??= createStoreTable(clients.dynamodb, 'state');
    return new StateStore({ client: clients.dynamodb, tableName: await table, ...settings });
  },
  async (store, item) => {
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: (store as StateStore).tableName, Item: item }),
    );
  },
);
