import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecodeContext } from '../../../core/events/decode-context.js';
import { createDefaultRegistry } from '../../../core/events/default-registry.js';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import { BatchProcessor } from '../../../core/processing/batch-processor.js';
import { CachingStateStore } from '../../../core/state/caching-state-store.js';
import { InMemoryParkedStore, InMemoryStateStore, type StateStorePort } from '../../../core/state/index.js';
import { StateCache } from '../../../core/state/state-cache.js';
import { toStreamRecords } from '../../../functions/consumer/create-handler.js';
import { lineChange, orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent } from '../../helpers/consumer.js';
import { orderLineTotals } from '../../helpers/projections/order-line-totals.js';
import { afterImagePayloads } from '../../helpers/state-twins.js';
import { summingProjection } from '../../helpers/summing-projection.js';

/** Change `k` (1, 2, …) of order `id`: amount `k`, at LSN `id * 1000 + k`. */
const changeOf = (id: number, k: number) => {
  const lsn = id * 1000 + k;
  return changeRecord(orderChange(id, lsn, 'update', { id, amount: k }), lsn, lsn);
};
/** A batch of changes `from`..`to` of each order. */
const batchOf = (orders: readonly number[], from: number, to: number) =>
  toStreamRecords(
    kinesisEvent(
      orders.flatMap((id) => Array.from({ length: to - from + 1 }, (_, i) => changeOf(id, from + i))),
    ),
  );

/** One consumer instance on the shared table: its own processor, with an owner cache or none. */
function consumer(table: StateStorePort, parked: InMemoryParkedStore, cache: StateCache | undefined) {
  return new BatchProcessor({
    registry: createDefaultRegistry(),
    decodeContext: createDecodeContext(),
    stateStore:
      cache === undefined ? table : new CachingStateStore({ store: table, cache, shardId: 'shard-0' }),
    parkedStore: parked,
    projection: summingProjection,
    maxAttempts: 3,
    aggregateConcurrency: 4,
    now: () => 0,
  });
}

/** What `n` changes 1..n of one order fold to. */
const folded = (n: number) => ({ sum: (n * (n + 1)) / 2, changes: n });

describe('Owner cache in the consumer', () => {
  it('a second consumer changes an aggregate behind a cached entry: the next batch detects it and ends right', async () => {
    // Prepare: consumer A caches orders 1 and 2 at change 2.
    const table = new InMemoryStateStore({ now: () => 0 });
    const parked = new InMemoryParkedStore();
    const cache = new StateCache({ maxBytes: 1_000_000 });
    const a = consumer(table, parked, cache);
    const b = consumer(table, parked, undefined);
    await a.process(batchOf([1, 2], 1, 2));
    cache.drainCounters();
    // Another consumer (a hand-off overlap, a replay from an older checkpoint) applies 1..3 of order 1.
    await b.process(batchOf([1], 1, 3));

    // Act: A's next batch redelivers change 3 and brings change 4.
    const result = await a.process(batchOf([1, 2], 3, 4));

    // Assert: order 1 lost one condition and folded again on the table's item; nothing applied twice.
    expect((await table.get('public.orders#1'))?.state).toEqual(folded(4));
    expect((await table.get('public.orders#2'))?.state).toEqual(folded(4));
    expect(result.stats).toMatchObject({ applied: 3, duplicates: 1, stateWrites: 3 });
    expect(cache.drainCounters()).toMatchObject({ hits: 2, misses: 0, conditionalMisses: 1 });
    expect(await new CachingStateStore({ store: table, cache }).get('public.orders#1')).toEqual(
      await table.get('public.orders#1'),
    );
  });

  it('a warm steady state reads nothing: one write per aggregate per batch', async () => {
    // Prepare
    const table = new InMemoryStateStore({ now: () => 0 });
    const cache = new StateCache({ maxBytes: 1_000_000 });
    const a = consumer(table, new InMemoryParkedStore(), cache);
    await a.process(batchOf([1, 2, 3], 1, 2));
    cache.drainCounters();

    // Act
    const result = await a.process(batchOf([1, 2, 3], 3, 5));

    // Assert
    expect(result.stats).toMatchObject({ applied: 9, stateWrites: 3 });
    expect(cache.drainCounters()).toMatchObject({ hits: 3, misses: 0, conditionalMisses: 0 });
    expect((await table.get('public.orders#3'))?.state).toEqual(folded(5));
  });

  it('never changes the outcome: any schedule of two consumers ends as it does without caches', async () => {
    // One delivery: consumer 0 or 1 gets changes from..to of some orders (redeliveries and overlaps included).
    const delivery = fc.record({
      consumer: fc.integer({ min: 0, max: 1 }),
      orders: fc.uniqueArray(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      from: fc.integer({ min: 1, max: 6 }),
      length: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(delivery, { minLength: 1, maxLength: 12 }),
        // From a cache too small to keep anything to one that keeps everything.
        fc.constantFrom(1, 400, 1_000_000),
        async (schedule, maxBytes) => {
          const run = async (withCaches: boolean) => {
            const table = new InMemoryStateStore({ now: () => 0 });
            const parked = new InMemoryParkedStore();
            const consumers = [0, 1].map(() =>
              consumer(table, parked, withCaches ? new StateCache({ maxBytes }) : undefined),
            );
            for (const d of schedule)
              await consumers[d.consumer]!.process(batchOf(d.orders, d.from, d.from + d.length - 1));
            return table.getMany(['public.orders#1', 'public.orders#2', 'public.orders#3']);
          };

          const cached = await run(true);
          const uncached = await run(false);

          expect(cached).toEqual(uncached);
        },
      ),
      { seed: 15, numRuns: 150 },
    );
  });

  it('never changes the outcome of derived updates: their transactions forget what they touched', async () => {
    // One delivery: consumer 0 or 1 applies changes from..to of one line; line n belongs to order n % 2, and its
    // change k sets its quantity to k (so each order's total is the sum of its lines' last quantities).
    const delivery = fc.record({
      consumer: fc.integer({ min: 0, max: 1 }),
      line: fc.integer({ min: 1, max: 4 }),
      from: fc.integer({ min: 1, max: 5 }),
      length: fc.integer({ min: 1, max: 3 }),
    });
    const ids = [1, 2, 3, 4]
      .map((n) => `public.order_lines#${n}`)
      .concat('public.orders#0', 'public.orders#1');
    await fc.assert(
      fc.asyncProperty(
        fc.array(delivery, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(1, 1_000_000),
        async (schedule, maxBytes) => {
          const run = async (withCaches: boolean) => {
            const table = new InMemoryStateStore({ now: () => 0 });
            const parkedStore = new InMemoryParkedStore();
            const appliers = [0, 1].map((i) => {
              const cache = withCaches ? new StateCache({ maxBytes }) : undefined;
              const stateStore =
                cache === undefined
                  ? table
                  : new CachingStateStore({ store: table, cache, shardId: `shard-${i}` });
              return new AggregateApplier({
                stateStore,
                parkedStore,
                projection: orderLineTotals,
                maxAttempts: 3,
              });
            });
            for (const d of schedule) {
              const changes = Array.from({ length: d.length }, (_, i) => {
                const k = d.from + i;
                return lineChange(d.line, d.line * 100 + k, d.line % 2, k, k === 1 ? 'create' : 'update');
              });
              await appliers[d.consumer]!.apply(`public.order_lines#${d.line}`, changes, afterImagePayloads);
            }
            return table.getMany(ids);
          };

          const cached = await run(true);
          const uncached = await run(false);

          expect(cached).toEqual(uncached);
        },
      ),
      { seed: 15, numRuns: 150 },
    );
  });
});
