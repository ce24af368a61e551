import type { ParkedItem } from './parked-item.js';

/**
 * The parked-event store (docs/architecture.md contracts 5 and 6): changes and records that could not be
 * applied, with their full payload, reason and error, until an operator replays or discards them. Items are
 * keyed by `pk`/`sk` (`changeKeys`, `badInputKeys`); a put overwrites the item with the same keys.
 * Implementations: `ParkedStore` (DynamoDB), `InMemoryParkedStore`; one contract suite
 * (`test/helpers/parked-store-contract.ts`) runs against both.
 *
 * @example
 * ```ts
 * await parked.put([item]);
 * const waiting = await parked.listAggregate('public.orders#42'); // in source order
 * ```
 */
interface ParkedStorePort {
  /** Puts the items, whatever their size; idempotent (a redelivered change overwrites its own item). */
  put(items: readonly ParkedItem[]): Promise<void>;
  /** One aggregate's parked changes in source order (ascending `sk`), strongly consistent. */
  listAggregate(aggregateId: string): Promise<ParkedItem[]>;
  /** Every parked item, in no particular order. */
  scanAll(): Promise<ParkedItem[]>;
  /** Deletes items by key, with everything stored for them; absent items are ignored. */
  delete(items: readonly Pick<ParkedItem, 'pk' | 'sk'>[]): Promise<void>;
}

export type { ParkedStorePort };
