import { positiveInteger } from '../coordination/validate.js';
import type { AggregateItem } from './aggregate-item.js';
import { stateFromAttribute, stateToAttribute } from './state-attribute.js';
import { type AttributeChanges, attributeChanges } from './state-changes.js';
import type { StateMutation, StateStorePort, WriteGuard, WriteOutcome } from './state-store-port.js';
import { compareUtf8 } from './utf8-order.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface InMemoryStateStoreOptions {
  /** How long a tombstone is kept, in seconds. @default 2_592_000 (30 days, the configuration's default) */
  readonly tombstoneTtlSeconds?: number;
  /** Wall clock in epoch milliseconds (for updatedAt and TTL only). @default Date.now */
  readonly now?: () => number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** Whether the stored item passes the guard, as the DynamoDB condition of the same guard would judge it. */
function passes(stored: AggregateItem | undefined, mutation: StateMutation, guard: WriteGuard): boolean {
  switch (guard.kind) {
    case 'newer':
      return (
        (stored?.position === undefined || compareUtf8(stored.position, mutation.value!.position) < 0) &&
        stored?.quarantine === undefined
      );
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

function applyChanges(aggregateId: string, stored: AggregateItem | undefined, changes: AttributeChanges) {
  const next: Mutable<AggregateItem> = stored ?? {
    aggregateId,
    table: undefined,
    position: undefined,
    deleted: false,
    state: null,
    revision: 0,
    quarantine: undefined,
    lastParkedKey: undefined,
    pendingFailure: undefined,
    ttlEpochSeconds: undefined,
  };
  const { set } = changes;
  if (set.position !== undefined) next.position = set.position;
  if (set.deleted !== undefined) next.deleted = set.deleted;
  if (set.table !== undefined) next.table = set.table;
  // Stored as the DynamoDB store stores it, so what reads back is what DynamoDB would give back.
  if (set.state !== undefined) next.state = stateFromAttribute(stateToAttribute(set.state));
  if (set.pendingFailure !== undefined) next.pendingFailure = copy(set.pendingFailure);
  if (set.quarantine !== undefined) next.quarantine = copy(set.quarantine);
  if (set.lastParkedKey !== undefined) next.lastParkedKey = set.lastParkedKey;
  if (set.ttlEpochSeconds !== undefined) next.ttlEpochSeconds = set.ttlEpochSeconds;
  for (const name of changes.remove)
    if (name === 'state') next.state = null;
    else next[name] = undefined;
  next.revision += 1;
  return next;
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
  readonly #items = new Map<string, AggregateItem>();
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
    const found = this.#items.get(aggregateId);
    return found === undefined ? undefined : copy(found);
  }

  public async getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>> {
    const found = new Map<string, AggregateItem>();
    for (const id of aggregateIds) {
      const item = this.#items.get(id);
      if (item !== undefined) found.set(id, copy(item));
    }
    return found;
  }

  public async write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    const changes = attributeChanges(mutation, guard, this.#now(), this.#tombstoneTtlSeconds);
    const stored = this.#items.get(aggregateId);
    if (!passes(stored, mutation, guard))
      return { committed: false, current: stored === undefined ? undefined : copy(stored) };
    const previous = stored === undefined ? undefined : copy(stored);
    this.#items.set(aggregateId, applyChanges(aggregateId, stored, changes));
    return { committed: true, previous };
  }

  /**
   * Deletes the items whose time to live has passed at `epochSeconds`, as DynamoDB's TTL does some time after
   * it passed (DynamoDB Local never does). Returns the ids deleted.
   */
  public expire(epochSeconds: number): string[] {
    const expired: string[] = [];
    for (const [id, item] of this.#items)
      if (item.ttlEpochSeconds !== undefined && item.ttlEpochSeconds <= epochSeconds) expired.push(id);
    for (const id of expired) this.#items.delete(id);
    return expired;
  }
}

export type { InMemoryStateStoreOptions };
export { InMemoryStateStore };
