import type { ChangeEvent } from '../events/change.js';
import { AGGREGATE_PREFIX, type ParkedItem, type ParkedRecord } from './parked-item.js';
import type { ParkedStorePort } from './parked-store-port.js';
import { compareUtf8 } from './utf8-order.js';

/** A parked item as stored: the payload kept as the JSON text the DynamoDB store keeps it as. */
interface StoredItem {
  readonly item: Omit<ParkedItem, 'record' | 'change'>;
  readonly body: string;
}

function keyOf(item: Pick<ParkedItem, 'pk' | 'sk'>): string {
  return JSON.stringify([item.pk, item.sk]);
}

function fromStored(stored: StoredItem): ParkedItem {
  const body = JSON.parse(stored.body) as { record: ParkedRecord; change?: ChangeEvent };
  return { ...stored.item, record: body.record, change: body.change };
}

/**
 * The parked-event store in memory, with the same keys, order and idempotence as the DynamoDB
 * {@link ParkedStore} (one contract suite runs against both). Payloads are kept as JSON text, as DynamoDB
 * keeps them, so what reads back is what DynamoDB would give back; items of any size are whole here.
 *
 * @example
 * ```ts
 * const parkedStore = new InMemoryParkedStore();
 * await parkedStore.put([item]);
 * ```
 */
class InMemoryParkedStore implements ParkedStorePort {
  readonly #items = new Map<string, StoredItem>();

  /** Number of items, for tests. */
  public get size(): number {
    return this.#items.size;
  }

  public async put(items: readonly ParkedItem[]): Promise<void> {
    for (const { record, change, ...item } of items)
      this.#items.set(keyOf(item), {
        item,
        body: JSON.stringify({ record, change }),
      });
  }

  public async listAggregate(aggregateId: string): Promise<ParkedItem[]> {
    const pk = `${AGGREGATE_PREFIX}${aggregateId}`;
    return [...this.#items.values()]
      .filter((s) => s.item.pk === pk)
      .sort((a, b) => compareUtf8(a.item.sk, b.item.sk))
      .map(fromStored);
  }

  public async scanAll(): Promise<ParkedItem[]> {
    return [...this.#items.values()].map(fromStored);
  }

  public async delete(items: readonly Pick<ParkedItem, 'pk' | 'sk'>[]): Promise<void> {
    for (const item of items) this.#items.delete(keyOf(item));
  }
}

export { InMemoryParkedStore };
