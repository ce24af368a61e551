import { afterAll, describe, expect, it } from 'vitest';
import { REASON } from '../../../core/events/reason-codes.js';
import { ParkedStore, recordParkedItem } from '../../../core/state/index.js';
import { orderChange } from '../../helpers/changes.js';
import { testClients } from '../../helpers/engines.js';
import { parkedChange, recordOf } from '../../helpers/parked-store-contract.js';
import { createStoreTable } from '../../helpers/state-tables.js';

const clients = testClients();
afterAll(() => clients.destroy());

describe('Method: ParkedStore.countQuarantined on DynamoDB Local', () => {
  it('counts one parked poison (or unstorable) change per quarantined aggregate, and nothing else', async () => {
    const store = new ParkedStore({
      client: clients.dynamodb,
      tableName: await createStoreTable(clients.dynamodb, 'parked'),
    });
    expect(await store.countQuarantined()).toEqual({ aggregates: 0, complete: true });

    await store.put([
      parkedChange(orderChange(1, 10), 1, REASON.POISON),
      parkedChange(orderChange(1, 11), 2, REASON.QUARANTINED),
      parkedChange(orderChange(1, 12), 3, REASON.QUARANTINED),
      parkedChange(orderChange(2, 20), 4, REASON.UNSTORABLE),
      parkedChange(orderChange(3, 30), 5, REASON.DEFERRED),
      parkedChange(orderChange(4, 40), 6, REASON.POISON),
      recordParkedItem(recordOf('{"truncated": ', 7), REASON.NOT_JSON, 'not JSON', new Date(0)),
    ]);

    expect(await store.countQuarantined()).toEqual({ aggregates: 3, complete: true });
    // A read budget smaller than the table: a lower bound, said to be one.
    const cut = await store.countQuarantined({ maxPages: 1, itemsPerPage: 2 });
    expect(cut.complete).toBe(false);
    expect(cut.aggregates).toBeLessThanOrEqual(3);
  });
});
