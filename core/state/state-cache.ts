import { LRUCache } from 'lru-cache';
import { positiveInteger } from '../coordination/validate.js';
import type { AggregateItem } from './aggregate-item.js';
import { copyStateValue, estimatedHeapBytes } from './item-copy.js';
import type { StateStorePort } from './state-store-port.js';

/** One cached aggregate: its item as the last read or committed write left it, and the shard it came from. */
interface CacheEntry {
  readonly item: AggregateItem;
  readonly shardId: string | undefined;
}

/**
 * What the cache did since the counters were last drained: lookups served (`hits`) or read from the table
 * (`misses`), writes on a cached item that lost their condition because another writer had changed the
 * aggregate (`conditionalMisses`), aggregates read to warm the cache after a shard moved here
 * (`warmupReads`, in `warmupRequests` reads), and entries pushed out by the byte bound (`evictions`).
 */
interface StateCacheCounters {
  hits: number;
  misses: number;
  conditionalMisses: number;
  warmupReads: number;
  warmupRequests: number;
  evictions: number;
}

interface StateCacheOptions {
  /**
   * Bound of the entries' estimated heap bytes ({@link estimatedHeapBytes} of each item): the least recently
   * used entries leave to keep under it; an item larger than the bound is not kept.
   */
  readonly maxBytes: number;
}

/** Aggregates read per request when warming (BatchGetItem's limit). */
const WARM_CHUNK = 100;
/** Warming requests sent at once. */
const WARM_REQUESTS_IN_FLIGHT = 4;

function zeroCounters(): StateCacheCounters {
  return { hits: 0, misses: 0, conditionalMisses: 0, warmupReads: 0, warmupRequests: 0, evictions: 0 };
}

/**
 * Only an item that holds nothing back is kept: the consumer acts on a quarantined, deferred or failing
 * aggregate (parks changes, counts attempts) before its write can tell that the item changed, so those are
 * always read from the table.
 */
function cacheable(item: AggregateItem): boolean {
  return item.quarantine === undefined && item.pendingFailure === undefined;
}

/**
 * The owner cache of one consumer instance (a Lambda execution environment or a worker process): the items
 * of the aggregates it applies, bounded in estimated bytes, least recently used out first. It holds no truth:
 * every write made from a cached item is conditional on that item's revision, so an entry another writer
 * made stale costs one lost condition, never a wrong state (see `CachingStateStore`). Entries remember their
 * shard, so that a shard's entries are dropped when its lease moves, and warmed when one moves here.
 *
 * Hands out copies: a projection that changes the state it is given in place cannot change the cache.
 *
 * @example
 * ```ts
 * const cache = new StateCache({ maxBytes: 64 * 1024 * 1024 });
 * const store = new CachingStateStore({ store: stateStore, cache, shardId: 'shardId-000000000001' });
 * ```
 */
class StateCache {
  #lru: LRUCache<string, CacheEntry>;
  #maxBytes: number;
  #counters = zeroCounters();

  public constructor(options: StateCacheOptions) {
    this.#maxBytes = positiveInteger('maxBytes', options.maxBytes);
    this.#lru = this.#newLru(this.#maxBytes);
  }

  /** The byte bound in force. */
  public get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Estimated bytes of the entries held now (at most {@link maxBytes}). */
  public get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** Aggregates held now. */
  public get size(): number {
    return this.#lru.size;
  }

  /** Takes a new byte bound: a different one starts the cache empty (a configuration changed it). */
  public resize(maxBytes: number): void {
    positiveInteger('maxBytes', maxBytes);
    if (maxBytes === this.#maxBytes) return;
    this.#maxBytes = maxBytes;
    this.#lru = this.#newLru(maxBytes);
  }

  /** A copy of the cached item, counted as a hit, and marked recently used; undefined (a miss) when absent. */
  public lookup(aggregateId: string): AggregateItem | undefined {
    const entry = this.#lru.get(aggregateId);
    if (entry === undefined) {
      this.#counters.misses++;
      return undefined;
    }
    this.#counters.hits++;
    return copyStateValue(entry.item);
  }

  /**
   * Keeps what the table holds now for an aggregate (read, or left by a committed write, or found by a lost
   * one); an item that holds something back, or none, removes the entry instead.
   */
  public remember(aggregateId: string, item: AggregateItem | undefined, shardId: string | undefined): void {
    if (item === undefined || !cacheable(item)) {
      this.#lru.delete(aggregateId);
      return;
    }
    // A copy: the item read is handed to the projection too, which might change it in place.
    this.#lru.set(aggregateId, { item: copyStateValue(item), shardId });
  }

  /** Forgets an aggregate: its item is unknown now (a write whose outcome is unknown). */
  public forget(aggregateId: string): void {
    this.#lru.delete(aggregateId);
  }

  /** A write on a cached item lost its condition: another writer had changed the aggregate. */
  public countConditionalMiss(): void {
    this.#counters.conditionalMisses++;
  }

  /** Forgets every entry of a shard (its lease was lost or handed off); returns how many. */
  public dropShard(shardId: string): number {
    const dropped: string[] = [];
    this.#lru.forEach((entry, aggregateId) => {
      if (entry.shardId === shardId) dropped.push(aggregateId);
    });
    for (const aggregateId of dropped) this.#lru.delete(aggregateId);
    return dropped.length;
  }

  /** The ids of a shard's entries, most recently used first (what a next owner should warm first). */
  public keysOfShard(shardId: string): string[] {
    const ids: string[] = [];
    for (const [aggregateId, entry] of this.#lru.entries())
      if (entry.shardId === shardId) ids.push(aggregateId);
    return ids;
  }

  /**
   * Reads the aggregates of a shard that moved here and are not cached yet (what its previous owner held),
   * 100 per request and 4 requests at once, and keeps them under the shard; returns how many were read. Ids that name no aggregate
   * cost their share of a read and keep nothing.
   */
  public async warm(
    shardId: string,
    aggregateIds: readonly string[],
    reader: Pick<StateStorePort, 'getMany'>,
  ): Promise<number> {
    const wanted = [...new Set(aggregateIds)].filter((id) => !this.#lru.has(id));
    const chunks: string[][] = [];
    for (let i = 0; i < wanted.length; i += WARM_CHUNK) chunks.push(wanted.slice(i, i + WARM_CHUNK));
    // A few requests at once: the shard's first batches are running meanwhile and miss what is not in yet.
    for (let i = 0; i < chunks.length; i += WARM_REQUESTS_IN_FLIGHT)
      await Promise.all(
        chunks.slice(i, i + WARM_REQUESTS_IN_FLIGHT).map(async (chunk) => {
          const found = await reader.getMany(chunk);
          this.#counters.warmupRequests++;
          this.#counters.warmupReads += chunk.length;
          // A batch may have read or written one meanwhile: what it left is as new as what we read, or newer.
          for (const [aggregateId, item] of found)
            if (!this.#lru.has(aggregateId)) this.remember(aggregateId, item, shardId);
        }),
      );
    return wanted.length;
  }

  /** Empties the cache (it was turned off). */
  public clear(): void {
    this.#lru.clear();
  }

  /** The counters since the previous drain, then zero. */
  public drainCounters(): StateCacheCounters {
    const counters = this.#counters;
    this.#counters = zeroCounters();
    return counters;
  }

  #newLru(maxBytes: number): LRUCache<string, CacheEntry> {
    return new LRUCache<string, CacheEntry>({
      maxSize: maxBytes,
      sizeCalculation: (entry, aggregateId) =>
        Math.max(1, estimatedHeapBytes(entry.item) + 2 * aggregateId.length),
      dispose: (_entry, _aggregateId, reason) => {
        if (reason === 'evict') this.#counters.evictions++;
      },
    });
  }
}

export type { StateCacheCounters, StateCacheOptions };
export { StateCache };
