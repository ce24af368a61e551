import { describe, expect, it } from 'vitest';
import { CachingStateStore } from '../../../core/state/caching-state-store.js';
import {
  type AggregateItem,
  InMemoryStateStore,
  type StateStorePort,
  type StateValue,
} from '../../../core/state/index.js';
import { StateCache } from '../../../core/state/state-cache.js';
import { stateTwins } from '../../helpers/state-twins.js';

const value = (position: string, n: number): StateValue => ({
  table: 'public.orders',
  position,
  deleted: false,
  state: { n },
});

/** The table's calls, counted: what the cache saves. */
function countingStore(store: StateStorePort) {
  const calls = { get: 0, getMany: 0, write: 0 };
  const counted: StateStorePort = {
    get: (id) => {
      calls.get++;
      return store.get(id);
    },
    getMany: (ids) => {
      calls.getMany++;
      return store.getMany(ids);
    },
    write: (id, mutation, guard) => {
      calls.write++;
      return store.write(id, mutation, guard);
    },
  };
  return { calls, counted };
}

function setup() {
  const table = new InMemoryStateStore({ now: () => 0 });
  const { calls, counted } = countingStore(table);
  const cache = new StateCache({ maxBytes: 1_000_000 });
  const store = new CachingStateStore({ store: counted, cache, shardId: 'shard-1' });
  return { table, calls, cache, store };
}

describe('Class: CachingStateStore', () => {
  describe('Method: get and getMany', () => {
    it('reads an aggregate from the table once, then from the cache', async () => {
      const { table, calls, store } = setup();
      await table.write('a', { value: value('1', 1) }, { kind: 'newer' });

      const first = await store.get('a');
      const second = await store.get('a');

      expect(second).toEqual(first);
      expect(second).toEqual(await table.get('a'));
      expect(calls.get).toBe(1);
    });

    it('reads only the aggregates it does not hold, and nothing when it holds them all', async () => {
      // Prepare
      const { table, calls, store } = setup();
      for (const id of ['a', 'b', 'c']) await table.write(id, { value: value('1', 1) }, { kind: 'newer' });
      await store.getMany(['a', 'b']);

      // Act
      const all = await store.getMany(['a', 'b', 'c', 'absent', 'a']);
      const again = await store.getMany(['a', 'b', 'c']);

      // Assert
      expect([...all.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect([...again.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect(calls.getMany).toBe(2);
      expect(all.get('c')).toEqual(await table.get('c'));
    });
  });

  describe('Method: write', () => {
    it('keeps what a committed write left, so the next read is a hit equal to the table', async () => {
      // Prepare
      const { table, calls, store } = setup();
      const read = await store.get('a');

      // Act
      await store.write('a', { value: value('1', 1) }, { kind: 'revision', expected: read });
      const item = await store.get('a');

      // Assert
      expect(item).toEqual(await table.get('a'));
      expect(item).toMatchObject({ revision: 1, state: { n: 1 } });
      expect(calls.get).toBe(1);
    });

    it('a write from an entry another writer made stale loses, and the cache then holds the winner', async () => {
      // Prepare: the cache holds revision 1; a second consumer writes revision 2 behind it.
      const { table, cache, store } = setup();
      await store.write('a', { value: value('1', 1) }, { kind: 'revision', expected: undefined });
      const cached = (await store.get('a')) as AggregateItem;
      await table.write('a', { value: value('2', 2) }, { kind: 'revision', expected: cached });
      cache.drainCounters();

      // Act
      const outcome = await store.write(
        'a',
        { value: value('2', 9) },
        { kind: 'revision', expected: cached },
      );

      // Assert
      expect(outcome.committed).toBe(false);
      expect(await table.get('a')).toMatchObject({ revision: 2, state: { n: 2 } });
      expect(await store.get('a')).toEqual(await table.get('a'));
      expect(cache.drainCounters()).toMatchObject({ conditionalMisses: 1, hits: 1 });
    });

    it('forgets an aggregate whose write failed unexpectedly: the next read goes to the table', async () => {
      // Prepare
      const twins = stateTwins();
      const cache = new StateCache({ maxBytes: 1_000_000 });
      const store = new CachingStateStore({ store: twins.stateStore, cache });
      await store.write('a', { value: value('1', 1) }, { kind: 'newer' });
      // The write reaches the table, then the answer is lost (a timeout after the commit).
      twins.stateStore.inject({ kind: 'lost-response', operations: ['write'] });

      // Act
      const item = (await store.get('a')) as AggregateItem;
      const failed = await store
        .write('a', { value: value('2', 2) }, { kind: 'revision', expected: item })
        .catch((error: unknown) => error);

      // Assert
      expect(failed).toBeInstanceOf(Error);
      expect(cache.size).toBe(0);
      expect(await store.get('a')).toMatchObject({ revision: 2, state: { n: 2 } });
    });

    it('does not count a blind write that lost on its position as a conditional miss', async () => {
      const { store, cache } = setup();
      await store.write('a', { value: value('2', 2) }, { kind: 'newer' });

      const outcome = await store.write('a', { value: value('1', 1) }, { kind: 'newer' });

      expect(outcome.committed).toBe(false);
      expect(cache.drainCounters().conditionalMisses).toBe(0);
    });
  });
});
