import type { ReasonCode } from '../events/reason-codes.js';
import type { ParkedItem } from './parked-item.js';

/** What a relabel changes on an item already parked. */
type ParkedLabel = Pick<ParkedItem, 'pk' | 'sk' | 'reason' | 'message' | 'attempts'> & {
  readonly reason: ReasonCode;
};

/**
 * The parked-event store (docs/architecture.md contracts 5 and 6): changes and records that could not be
 * applied, with their full payload, reason and error, until an operator replays or discards them. Items are
 * keyed by `pk`/`sk` (`changeKeys`, `badInputKeys`). A change is parked once: a put leaves an item already
 * parked under the same keys as it is (its first, specific reason stays), and says how many it added, so
 * redeliveries are neither re-parked nor counted twice. Implementations: `ParkedStore` (DynamoDB),
 * `InMemoryParkedStore`; one contract suite (`test/helpers/parked-store-contract.ts`) runs against both.
 *
 * @example
 * ```ts
 * const added = await parked.put([item]); // 0 when it was parked before
 * const waiting = await parked.listAggregate('public.orders#42'); // in source order
 * ```
 */
interface ParkedStorePort {
  /**
   * Parks the items not parked yet, whatever their size (messages are cut to 1 KB; the record and the change
   * are kept whole). Returns how many it added.
   */
  put(items: readonly ParkedItem[]): Promise<number>;
  /**
   * Changes the reason, message and attempts of items already parked (a deferred change that turned out to
   * be poison); absent items are left absent.
   */
  relabel(labels: readonly ParkedLabel[]): Promise<void>;
  /** One aggregate's parked changes in source order (ascending `sk`), strongly consistent. */
  listAggregate(aggregateId: string): Promise<ParkedItem[]>;
  /** Every parked item, in no particular order. */
  scanAll(): Promise<ParkedItem[]>;
  /** Deletes items by key, with everything stored for them; absent items are ignored. */
  delete(items: readonly Pick<ParkedItem, 'pk' | 'sk'>[]): Promise<void>;
}

export type { ParkedLabel, ParkedStorePort };
