import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDbCoordinationStore, LockClient } from '../../../core/coordination/index.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
afterAll(() => clients.destroy());

describe('LockClient.acquireAll on DynamoDB Local', () => {
  it('lets lockers of {A, B}, {B, A}, {B, C}, {C, A} all complete: no deadlock, no overlap', async () => {
    // Prepare: the classic cycle; without one global order each could hold one lock and wait forever
    const table = await createCoordinationTable(clients.dynamodb, uniqueName('multi'));
    const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
    const sets = [
      ['A', 'B'],
      ['B', 'A'],
      ['B', 'C'],
      ['C', 'A'],
    ];
    const holders = new Map<string, string>();
    const overlaps: string[] = [];
    const ROUNDS = 15;

    // Act
    const completed = await Promise.all(
      sets.map(async (names, i) => {
        const owner = `locker-${i}`;
        const locks = new LockClient({
          store,
          ownerId: owner,
          leaseDurationMs: 5_000,
          backoffBaseMs: 5,
          backoffMaxMs: 50,
        });
        let rounds = 0;
        for (let r = 0; r < ROUNDS; r++) {
          const held = await locks.acquireAll(names, { waitMs: 30_000 });
          for (const name of names) {
            if (holders.has(name)) overlaps.push(`${owner} and ${holders.get(name)} both hold ${name}`);
            holders.set(name, owner);
          }
          await new Promise((resolve) => setImmediate(resolve));
          for (const name of names) holders.delete(name);
          expect(await locks.releaseAll(held)).toBe(true);
          rounds += 1;
        }
        return rounds;
      }),
    );

    // Assert
    expect(completed).toEqual(sets.map(() => ROUNDS));
    expect(overlaps).toEqual([]);
    for (const name of ['A', 'B', 'C'])
      expect((await store.getLease({ pk: `LOCK#${name}`, sk: 'LOCK' }))?.owner).toBeUndefined();
  });
});
