import type { InstanceRecord } from '../coordination/records.js';
import type { StateCache } from '../state/state-cache.js';
import type { StateStorePort } from '../state/state-store-port.js';
import type { WorkerEvent } from './events.js';
import type { HandOffKeys } from './hand-off-keys.js';

interface CacheFollowingLeasesOptions {
  /** The worker's owner cache (the one its consumer handler reads through). */
  readonly cache: StateCache;
  /** Reads the state table to warm the cache. */
  readonly reader: Pick<StateStorePort, 'getMany'>;
  /** This worker: its own heartbeat's hot keys are not a previous owner's. */
  readonly instanceId: string;
  /** Every instance item with its hot keys (`CoordinationStore.listInstances`). */
  readonly listInstances: () => Promise<readonly InstanceRecord[]>;
  /**
   * Where an owner letting a shard go leaves the ids of its cached aggregates of the shard, and where the next
   * owner finds them. @default none: the next owner warms from heartbeat hot keys only
   */
  readonly handOffKeys?: HandOffKeys;
  /** Whether the handler reads through the cache now (`cache.enabled`, a projection that reads). @default always */
  readonly active?: () => boolean;
  /** A shard was warmed: how many aggregates were read for it. */
  readonly onWarmed?: (shardId: string, aggregates: number) => void;
  /** Warming failed (the batches then read what they miss): nothing else happens. */
  readonly onError?: (error: Error, shardId: string) => void;
}

/** A previous owner's hot keys of `shardId`, heaviest first: the partition keys its last heartbeat counted. */
function hotKeysOfShard(instances: readonly InstanceRecord[], shardId: string, self: string): string[] {
  return instances
    .filter((instance) => instance.instanceId !== self)
    .flatMap((instance) => instance.hotKeys.filter((hot) => hot.shardId === shardId))
    .sort((a, b) => b.count - a.count)
    .map((hot) => hot.key);
}

/**
 * Keeps a worker's owner cache in step with the shard leases it holds, from its events:
 *
 * 1. A shard's lease lost (taken over, expired, a rejected checkpoint), handed off or released: its entries
 *    are dropped. Another instance writes its aggregates now; entries kept would only cost lost conditions
 *    if the shard came back, and memory until then.
 * 2. Just before a shard's lease is handed off or released on stop (`beforeLettingGo`): the ids of its cached
 *    aggregates, most recently used first, are left in {@link HandOffKeys} for the next owner.
 * 3. A shard's lease acquired: the cache is warmed, in the background, with the ids its previous owner left,
 *    then the shard's hot keys from the previous owner's heartbeat (the instance items carry each instance's
 *    hot partition keys per shard, which name the aggregates, the partition key being the aggregate id), one
 *    read per 100. The shard's first batches read what they miss themselves.
 *
 * @example
 * ```ts
 * const follow = cacheFollowingLeases({ cache, reader: stateStore, instanceId, listInstances: () => store.listInstances() });
 * const worker = new Worker({ ...options, onEvent: (e) => { follow.onEvent(e); log(e); } });
 * ```
 */
function cacheFollowingLeases(options: CacheFollowingLeasesOptions) {
  const warming = new Set<Promise<void>>();

  const warm = async (shardId: string): Promise<void> => {
    try {
      const left = (await options.handOffKeys?.read(shardId)) ?? [];
      const keys = [...left, ...hotKeysOfShard(await options.listInstances(), shardId, options.instanceId)];
      if (keys.length === 0) return;
      const read = await options.cache.warm(shardId, keys, options.reader);
      options.onWarmed?.(shardId, read);
    } catch (error) {
      options.onError?.(error as Error, shardId);
    }
  };

  return {
    onEvent(event: WorkerEvent): void {
      switch (event.type) {
        case 'lost':
        case 'handed-off':
        case 'released':
          options.cache.dropShard(event.shardId);
          return;
        case 'acquired': {
          if (options.active !== undefined && !options.active()) return;
          const done = warm(event.shardId);
          warming.add(done);
          void done.finally(() => warming.delete(done));
          return;
        }
        default:
          return;
      }
    },
    /** Leaves the ids of the shard's cached aggregates for its next owner (`WorkerOptions.beforeLettingGo`). */
    async beforeLettingGo(shardId: string): Promise<void> {
      if (options.handOffKeys === undefined || (options.active !== undefined && !options.active())) return;
      await options.handOffKeys.publish(shardId, options.cache.keysOfShard(shardId));
    },
    /** Resolves once the warm-ups started so far have ended. */
    async idle(): Promise<void> {
      await Promise.all([...warming]);
    },
  };
}

export type { CacheFollowingLeasesOptions };
export { cacheFollowingLeases, hotKeysOfShard };
