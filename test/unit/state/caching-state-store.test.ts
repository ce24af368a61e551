import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CachingStateStore } from '../../../core/state/caching-state-store.js';
import type { DerivedWrite } from '../../../core/state/derived-update.js';
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
  const calls = { get: 0, getMany: 0, write: 0, transact: 0 };
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
    transact: (id, mutation, guard, options) => {
      calls.transact++;
      return store.transact(id, mutation, guard, options);
    },
  };
  return { calls, counted };
}

/** A derived update adding `by` to `aggregateId`'s `total`, under `fence` when given. */
const addTotal = (aggregateId: string, by: number, fence?: number): DerivedWrite => ({
  aggregateId,
  fields: new Map([['total', { kind: 'add', by: BigInt(by) }]]),
  ...(fence === undefined ? {} : { fence }),
});

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

  describe('Method: transact', () => {
    it('forgets the source it committed: the next read is the table, its revision moved', async () => {
      // Prepare
      const { table, calls, store } = setup();
      await table.write('line', { value: value('1', 1) }, { kind: 'newer' });
      const read = await store.get('line');

      // Act
      const out = await store.transact(
        'line',
        { value: value('2', 2) },
        { kind: 'revision', expected: read },
        { derived: [addTotal('order', 2)] },
      );
      const after = await store.get('line');

      // Assert
      expect(out.committed).toBe(true);
      expect(after).toEqual(await table.get('line'));
      expect(after).toMatchObject({ revision: 2, state: { n: 2 } });
      expect(calls.get).toBe(2);
    });

    it('forgets the derived aggregates it updated, whose revision does not move', async () => {
      // Prepare: the order is cached with a total of 5.
      const { table, store } = setup();
      await table.write('order', { value: value('1', 1) }, { kind: 'newer' });
      await table.transact(
        'x',
        { value: value('1', 0) },
        { kind: 'newer' },
        { derived: [addTotal('order', 5)] },
      );
      const cached = await store.get('order');
      const line = await store.get('line');

      // Act
      await store.transact(
        'line',
        { value: value('1', 1) },
        { kind: 'revision', expected: line },
        { derived: [addTotal('order', 3)] },
      );
      const order = await store.get('order');

      // Assert
      expect(cached?.derived?.get('total')).toBe(5);
      expect(order).toEqual(await table.get('order'));
      expect(order?.revision).toBe(cached?.revision);
      expect(order?.derived?.get('total')).toBe(8);
    });

    it('keeps the winner of a lost source guard, and the derived aggregates it did not write', async () => {
      // Prepare: the cache holds the line at revision 1; another writer moves it to revision 2.
      const { table, cache, calls, store } = setup();
      await table.write('order', { value: value('1', 1) }, { kind: 'newer' });
      await store.write('line', { value: value('1', 1) }, { kind: 'revision', expected: undefined });
      const stale = (await store.get('line')) as AggregateItem;
      await store.get('order');
      await table.write('line', { value: value('2', 2) }, { kind: 'revision', expected: stale });
      cache.drainCounters();
      const reads = calls.get;

      // Act
      const out = await store.transact(
        'line',
        { value: value('2', 9) },
        { kind: 'revision', expected: stale },
        { derived: [addTotal('order', 9)] },
      );

      // Assert
      expect(out).toMatchObject({ committed: false, reason: 'condition' });
      expect(await store.get('line')).toEqual(await table.get('line'));
      expect(await store.get('order')).toEqual(await table.get('order'));
      expect(calls.get).toBe(reads);
      expect(cache.drainCounters()).toMatchObject({ conditionalMisses: 1, hits: 2 });
    });

    it('forgets every aggregate of a transaction refused for a later fence', async () => {
      // Prepare: a later lock holder stored fence 7 on the order.
      const { table, cache, store } = setup();
      await table.transact(
        'x',
        { value: value('1', 0) },
        { kind: 'newer' },
        { derived: [addTotal('order', 1, 7)] },
      );
      const line = await store.get('line');
      await store.get('order');

      // Act
      const out = await store.transact(
        'line',
        { value: value('1', 1) },
        { kind: 'revision', expected: line },
        { derived: [addTotal('order', 1, 3)], fence: 3 },
      );

      // Assert
      expect(out).toMatchObject({ committed: false, reason: 'stale-fence', aggregateId: 'order' });
      expect(cache.size).toBe(0);
    });

    it('forgets every aggregate of a transaction that failed unexpectedly', async () => {
      // Prepare: the transaction commits, then its answer is lost.
      const twins = stateTwins();
      const cache = new StateCache({ maxBytes: 1_000_000 });
      const store = new CachingStateStore({ store: twins.stateStore, cache });
      await store.write('order', { value: value('1', 1) }, { kind: 'newer' });
      const line = await store.get('line');
      await store.get('order');
      twins.stateStore.inject({ kind: 'lost-response', operations: ['transact'] });

      // Act
      const failed = await store
        .transact(
          'line',
          { value: value('1', 1) },
          { kind: 'revision', expected: line },
          {
            derived: [addTotal('order', 4)],
          },
        )
        .catch((error: unknown) => error);

      // Assert
      expect(failed).toBeInstanceOf(Error);
      expect(cache.size).toBe(0);
      expect((await store.get('order'))?.derived?.get('total')).toBe(4);
    });

    it('never serves an item stale after a write or transaction touched it, as source or derived target', async () => {
      const ids = ['a', 'b', 'c', 'd'];
      const step = fc.oneof(
        fc.record({ kind: fc.constant('read' as const), id: fc.constantFrom(...ids) }),
        fc.record({ kind: fc.constant('write' as const), id: fc.constantFrom(...ids), n: fc.nat(9) }),
        fc.record({
          kind: fc.constant('transact' as const),
          id: fc.constantFrom(...ids),
          n: fc.nat(9),
          targets: fc.subarray(ids),
          // A guard from the item as it was a step ago (a stale read loses), and a fence, sometimes lower.
          stale: fc.boolean(),
          fence: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
          const { table, store } = setup();
          const previous = new Map<string, AggregateItem | undefined>();
          let position = 0;
          for (const s of steps) {
            const read = await store.get(s.id);
            if (s.kind === 'write') {
              position++;
              await store.write(
                s.id,
                { value: value(String(position).padStart(4, '0'), s.n) },
                {
                  kind: 'revision',
                  expected: read,
                },
              );
            } else if (s.kind === 'transact') {
              position++;
              const expected = s.stale && previous.has(s.id) ? previous.get(s.id) : read;
              const targets = s.targets.filter((t) => t !== s.id);
              await store.transact(
                s.id,
                { value: value(String(position).padStart(4, '0'), s.n) },
                { kind: 'revision', expected },
                {
                  derived: targets.map((t) => addTotal(t, s.n, s.fence)),
                  ...(s.fence === undefined ? {} : { fence: s.fence }),
                },
              );
            }
            previous.set(s.id, read);
            for (const id of ids) expect(await store.get(id)).toEqual(await table.get(id));
          }
        }),
        { seed: 15, numRuns: 200 },
      );
    });
  });
});
