import type { AggregateItem } from './aggregate-item.js';
import type { StateCache } from './state-cache.js';
import type {
  StateMutation,
  StateStorePort,
  TransactOptions,
  TransactOutcome,
  WriteGuard,
  WriteOutcome,
} from './state-store-port.js';

interface CachingStateStoreOptions {
  /** The state table (`StateStore`, or the in-memory twin). */
  readonly store: StateStorePort;
  /** The instance's cache, shared by every shard it reads. */
  readonly cache: StateCache;
  /** The shard whose batches read and write through this store: its entries are dropped when it moves. */
  readonly shardId?: string;
}

/**
 * The state store seen through the instance's owner cache: a read is served from the cache when it holds the
 * aggregate, and from the table (then kept) when it does not. Writes always go to the table, under the guard
 * the caller gives; the cache then keeps what the write left (`after()` of a committed write), or what
 * made it lose (`current` of a lost one).
 *
 * Why the cache cannot make state wrong: every read-modify-write of the consumer is guarded by the revision of
 * the item it read (`revision` and `lift-quarantine` guards). A cached item that another writer made stale (a
 * replay, a second consumer during a hand-off, a redrive) has an older revision than the table's, so the write
 * loses its condition, the loser gets the item as it is now, and the applier folds again on it; the cache
 * keeps that item. A write whose outcome is unknown (it threw) forgets the entry, so the next read goes to the
 * table. Blind writes (`newer`) are guarded by position alone and never read, so the cache is not consulted.
 *
 * A transaction (a write with derived updates, or under a lock's fence) returns no item, so it forgets what
 * it touched: the source aggregate, and the aggregates it derived updates of, whose `d.` fields changed
 * without their revision moving (no condition would notice a stale copy). A transaction that lost the source
 * guard keeps the source item that won, as a lost write does.
 *
 * @example
 * ```ts
 * const store = new CachingStateStore({ store: new StateStore({ client, tableName, tombstoneTtlSeconds }), cache, shardId });
 * const item = await store.get('public.orders#1'); // a hit after the first read or write
 * ```
 */
class CachingStateStore implements StateStorePort {
  readonly #store: StateStorePort;
  readonly #cache: StateCache;
  readonly #shardId: string | undefined;

  public constructor(options: CachingStateStoreOptions) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#shardId = options.shardId;
  }

  public async get(aggregateId: string): Promise<AggregateItem | undefined> {
    const cached = this.#cache.lookup(aggregateId);
    if (cached !== undefined) return cached;
    const item = await this.#store.get(aggregateId);
    this.#cache.remember(aggregateId, item, this.#shardId);
    return item;
  }

  /** The cached aggregates from the cache, the others in one read of the table (none when all are cached). */
  public async getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>> {
    const found = new Map<string, AggregateItem>();
    const missing: string[] = [];
    for (const aggregateId of new Set(aggregateIds)) {
      const cached = this.#cache.lookup(aggregateId);
      if (cached === undefined) missing.push(aggregateId);
      else found.set(aggregateId, cached);
    }
    if (missing.length === 0) return found;
    const read = await this.#store.getMany(missing);
    for (const aggregateId of missing) {
      const item = read.get(aggregateId);
      this.#cache.remember(aggregateId, item, this.#shardId);
      if (item !== undefined) found.set(aggregateId, item);
    }
    return found;
  }

  public async write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    let outcome: WriteOutcome;
    try {
      outcome = await this.#store.write(aggregateId, mutation, guard);
    } catch (error) {
      // Committed or not, nobody knows (a timeout may hide a commit): the next read goes to the table.
      this.#cache.forget(aggregateId);
      throw error;
    }
    if (outcome.committed) this.#cache.remember(aggregateId, outcome.after(), this.#shardId);
    else {
      if (guard.kind !== 'newer') this.#cache.countConditionalMiss();
      this.#cache.remember(aggregateId, outcome.current, this.#shardId);
    }
    return outcome;
  }

  public async transact(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    options: TransactOptions,
  ): Promise<TransactOutcome> {
    const touched = [aggregateId, ...options.derived.map((write) => write.aggregateId)];
    let outcome: TransactOutcome;
    try {
      outcome = await this.#store.transact(aggregateId, mutation, guard, options);
    } catch (error) {
      for (const id of touched) this.#cache.forget(id);
      throw error;
    }
    if (!outcome.committed && outcome.reason === 'condition') {
      // Nothing was written: the derived aggregates are as they were, the source is the item that won.
      if (guard.kind !== 'newer') this.#cache.countConditionalMiss();
      this.#cache.remember(aggregateId, outcome.current, this.#shardId);
    } else {
      // Committed (no item returned), or refused because another holder or transaction is changing them.
      for (const id of touched) this.#cache.forget(id);
    }
    return outcome;
  }
}

export type { CachingStateStoreOptions };
export { CachingStateStore };
