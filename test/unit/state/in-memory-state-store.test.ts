import { describe, expect, it } from 'vitest';
import { InMemoryStateStore } from '../../../core/state/index.js';
import { describeStateStoreContract } from '../../helpers/state-store-contract.js';

describeStateStoreContract(
  'in-memory',
  async (settings) => new InMemoryStateStore(settings),
  async (store, item) => (store as InMemoryStateStore).putRaw(item),
);

describe('Class: InMemoryStateStore', () => {
  it('deletes expired tombstones when told their time has come, as DynamoDB TTL does', async () => {
    // Prepare
    const store = new InMemoryStateStore({ now: () => 1_000_000, tombstoneTtlSeconds: 60 });
    const tombstone = { table: 't', position: '2', deleted: true, state: null };
    await store.write('gone', { value: tombstone }, { kind: 'newer' });
    await store.write('live', { value: { ...tombstone, deleted: false, state: {} } }, { kind: 'newer' });

    // Act
    const early = store.expire(1_000 + 59);
    const due = store.expire(1_000 + 60);

    // Assert
    expect(early).toEqual([]);
    expect(due).toEqual(['gone']);
    expect(await store.get('gone')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('rejects a tombstone time to live that is not a whole number of seconds, naming it', () => {
    expect(() => new InMemoryStateStore({ tombstoneTtlSeconds: 0 })).toThrow(
      'tombstoneTtlSeconds must be a whole number of at least 1; received 0',
    );
  });
});
