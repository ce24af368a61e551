import type { ChangeEvent } from '../events/change.js';
import { parseJsonExact, stringifyJsonExact } from '../events/exact-json.js';
import { boundedText } from './bounded-text.js';
import { AGGREGATE_PREFIX, type ParkedItem, type ParkedRecord } from './parked-item.js';
import type { ParkedLabel, ParkedStorePort } from './parked-store-port.js';
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
  const body = parseJsonExact(stored.body, { maxDepth: 256 }) as {
    record: ParkedRecord;
    change?: ChangeEvent;
  };
  return { ...stored.item, record: body.record, change: body.change };
}

/**
 * The parked-event store in memory, with the same keys, order, park-once rule and message bounds as the
 * DynamoDB {@link ParkedStore} (one contract suite runs against both). Payloads are kept as the JSON text the
 * DynamoDB store keeps them as, so what reads back is what DynamoDB would give back; items of any size are
 * whole here.
 *
 * @example
 * ```ts
 * const parkedStore = new InMemoryParkedStore();
 * await parkedStore.put([item]); // 1
 * ```
 */
class InMemoryParkedStore implements ParkedStorePort {
  readonly #items = new Map<string, StoredItem>();

  /** Number of items, for tests. */
  public get size(): number {
    return this.#items.size;
  }

  public async put(items: readonly ParkedItem[]): Promise<number> {
    let added = 0;
    for (const { record, change, ...item } of items) {
      const key = keyOf(item);
      if (this.#items.has(key)) continue;
      this.#items.set(key, {
        item: { ...item, message: boundedText(item.message) },
        body: stringifyJsonExact({ record, change }),
      });
      added++;
    }
    return added;
  }

  public async relabel(labels: readonly ParkedLabel[]): Promise<void> {
    for (const label of labels) {
      const key = keyOf(label);
      const stored = this.#items.get(key);
      if (stored === undefined) continue;
      this.#items.set(key, {
        ...stored,
        item: {
          ...stored.item,
          reason: label.reason,
          message: boundedText(label.message),
          attempts: label.attempts,
        },
      });
    }
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
