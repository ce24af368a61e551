import { STATE_TABLE } from '../constants.js';
import { positiveInteger } from '../coordination/validate.js';
import { UNNAMED_SOURCE } from '../events/source-id.js';
import type { AggregateItem } from './aggregate-item.js';
import { checkTransaction, staleFenceOf } from './derived-transaction.js';
import { applyDerivedWrite } from './derived-update.js';
import { UnstorableError } from './errors.js';
import { itemAfter, type RawItem } from './item-after.js';
import { continuesUnnamedMark } from './source-marks.js';
import { attributeChanges } from './state-changes.js';
import { type ItemUpdate, itemUpdateOf, toAggregateItem } from './state-item.js';
import {
  marksOfValue,
  type StateMutation,
  type StateStorePort,
  type StateValue,
  type TransactOptions,
  type TransactOutcome,
  type WriteGuard,
  type WriteOutcome,
} from './state-store-port.js';
import { compareUtf8 } from './utf8-order.js';

/** DynamoDB refuses a partition key over 2,048 bytes. */
const MAX_PARTITION_KEY_BYTES = 2_048;

interface InMemoryStateStoreOptions {
  /** How long a tombstone is kept, in seconds. @default 2_592_000 (30 days, the configuration's default) */
  readonly tombstoneTtlSeconds?: number;
  /** Wall clock in epoch milliseconds (for updatedAt and TTL only). @default Date.now */
  readonly now?: () => number;
}

/**
 * The `newer` guard's test: the value's position is above its source's mark, and that source is the only one
 * (or the unnamed source of an item that predates sources, which reads with its one position under it, when
 * the value's position continues it: `continuesUnnamedMark`).
 */
function isNewerInOnlySource(stored: AggregateItem | undefined, value: StateValue): boolean {
  if (stored?.position === undefined) return true;
  if (stored.positions.size !== 1) return false;
  const unnamed = stored.positions.get(UNNAMED_SOURCE);
  const mark =
    stored.positions.get(marksOfValue(value).source) ??
    (unnamed !== undefined && continuesUnnamedMark(unnamed, value.position) ? unnamed : undefined);
  return mark !== undefined && compareUtf8(mark, value.position) < 0;
}

/** Whether the stored item passes the guard, as the DynamoDB condition of the same guard would judge it. */
function passes(stored: AggregateItem | undefined, mutation: StateMutation, guard: WriteGuard): boolean {
  switch (guard.kind) {
    case 'newer':
      return stored?.quarantine === undefined && isNewerInOnlySource(stored, mutation.value!);
    case 'revision':
      return guard.expected === undefined
        ? stored === undefined
        : stored !== undefined && stored.revision === guard.expected.revision;
    case 'lift-quarantine':
      return (
        stored !== undefined &&
        stored.revision === guard.expected.revision &&
        stored.lastParkedKey === guard.expected.lastParkedKey
      );
  }
}

/** Whether a later lock holder stored a higher fence than the one a write carries (none carried: never). */
function fenceIsLower(stored: AggregateItem | undefined, fence: number | undefined): boolean {
  return fence !== undefined && stored?.fence !== undefined && stored.fence > fence;
}

/**
 * The state table in memory, with the same guards, outcomes and attribute changes as the DynamoDB
 * {@link StateStore} (one contract suite runs against both). For unit tests and single-process tools.
 *
 * @example
 * ```ts
 * const stateStore = new InMemoryStateStore({ now: () => clock.wallNow() });
 * const applier = new AggregateApplier({ stateStore, parkedStore: new InMemoryParkedStore(), projection, maxAttempts: 3 });
 * ```
 */
class InMemoryStateStore implements StateStorePort {
  /** Items as DynamoDB would hold them, read through the same conversion as the DynamoDB store's. */
  readonly #items = new Map<string, RawItem>();
  readonly #tombstoneTtlSeconds: number;
  readonly #now: () => number;

  public constructor(options: InMemoryStateStoreOptions = {}) {
    this.#tombstoneTtlSeconds = positiveInteger(
      'tombstoneTtlSeconds',
      options.tombstoneTtlSeconds ?? 30 * 24 * 3600,
    );
    this.#now = options.now ?? Date.now;
  }

  /** Number of items, for tests. */
  public get size(): number {
    return this.#items.size;
  }

  public async get(aggregateId: string): Promise<AggregateItem | undefined> {
    return toAggregateItem(this.#items.get(aggregateId));
  }

  public async getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>> {
    const found = new Map<string, AggregateItem>();
    for (const id of aggregateIds) {
      const item = toAggregateItem(this.#items.get(id));
      if (item !== undefined) found.set(id, item);
    }
    return found;
  }

  /** Refuses what the DynamoDB store refuses, with the same {@link UnstorableError}, before the guard. */
  public async write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    const update = this.#update(aggregateId, mutation, guard);
    const stored = this.#items.get(aggregateId);
    const before = toAggregateItem(stored);
    if (!passes(before, mutation, guard)) return { committed: false, current: before };
    const after = itemAfter(aggregateId, stored, update);
    this.#items.set(aggregateId, after);
    return { committed: true, previous: before, after: () => toAggregateItem(after)! };
  }

  /**
   * Checks every condition (the source guard, then each fence in the order DynamoDB reports them), then
   * applies every write, with nothing in between: atomic, as one TransactWriteItems is.
   */
  public async transact(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    options: TransactOptions,
  ): Promise<TransactOutcome> {
    checkTransaction(aggregateId, options);
    const update = this.#update(aggregateId, mutation, guard);
    const stored = this.#items.get(aggregateId);
    const before = toAggregateItem(stored);
    if (fenceIsLower(before, options.fence)) return staleFenceOf(aggregateId, before?.fence);
    if (!passes(before, mutation, guard)) return { committed: false, reason: 'condition', current: before };
    for (const write of options.derived) {
      const derivedItem = toAggregateItem(this.#items.get(write.aggregateId));
      if (fenceIsLower(derivedItem, write.fence)) return staleFenceOf(write.aggregateId, derivedItem?.fence);
    }
    this.#items.set(aggregateId, itemAfter(aggregateId, stored, update, options.fence));
    const updatedAt = new Date(this.#now()).toISOString();
    for (const write of options.derived) {
      const raw = this.#items.get(write.aggregateId) ?? {
        [STATE_TABLE.partitionKey]: { S: write.aggregateId },
      };
      const next = applyDerivedWrite(raw, write);
      next[STATE_TABLE.attributes.revision] ??= { N: '0' };
      next[STATE_TABLE.attributes.updatedAt] = { S: updatedAt };
      if (write.fence !== undefined) next[STATE_TABLE.attributes.fence] = { N: String(write.fence) };
      this.#items.set(write.aggregateId, next);
    }
    return { committed: true };
  }

  /** The update of a write, refused as the DynamoDB store refuses it. */
  #update(aggregateId: string, mutation: StateMutation, guard: WriteGuard): ItemUpdate {
    const changes = attributeChanges(mutation, guard, this.#now(), this.#tombstoneTtlSeconds);
    const update = itemUpdateOf(aggregateId, changes);
    // What DynamoDB itself refuses with a ValidationException, which the DynamoDB store reports as unstorable.
    if (Buffer.byteLength(aggregateId, 'utf8') > MAX_PARTITION_KEY_BYTES)
      throw new UnstorableError(
        `DynamoDB refused the item of ${aggregateId}: Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes`,
        { path: 'item', limit: "DynamoDB's item rules", aggregateId, operation: 'write' },
      );
    return update;
  }

  /**
   * Puts an item as DynamoDB holds it, attributes as they are, for tests of items an earlier version wrote
   * (a state item with one `position` and no `positions`, say).
   */
  public putRaw(item: RawItem): void {
    const id = item[STATE_TABLE.partitionKey]?.S;
    if (id === undefined) throw new TypeError(`a raw state item needs its key ${STATE_TABLE.partitionKey}`);
    this.#items.set(id, item);
  }

  /**
   * Deletes the items whose time to live has passed at `epochSeconds`, as DynamoDB's TTL does some time after
   * it passed (DynamoDB Local never does). Returns the ids deleted.
   */
  public expire(epochSeconds: number): string[] {
    const expired: string[] = [];
    for (const [id, item] of this.#items) {
      const ttl = item[STATE_TABLE.attributes.ttl]?.N;
      if (ttl !== undefined && Number(ttl) <= epochSeconds) expired.push(id);
    }
    for (const id of expired) this.#items.delete(id);
    return expired;
  }
}

export type { InMemoryStateStoreOptions };
export { InMemoryStateStore };
