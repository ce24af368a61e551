import { afterAll } from 'vitest';
import { ParkedStore } from '../../../core/state/index.js';
import { testClients } from '../../helpers/engines.js';
import { describeParkedStoreContract } from '../../helpers/parked-store-contract.js';
import { createStoreTable } from '../../helpers/state-tables.js';

const clients = testClients();
afterAll(() => clients.destroy());

// A table per test: scanAll sees the whole table.
describeParkedStoreContract(
  'DynamoDB Local',
  async () =>
    new ParkedStore({
      client: clients.dynamodb,
      tableName: await createStoreTable(clients.dynamodb, 'parked'),
    }),
);
