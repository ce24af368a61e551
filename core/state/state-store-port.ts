import type { RowImage } from '../events/change.js';
import type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';

/** The new projected state of an aggregate, with the position of the last change it includes. */
interface StateValue {
  readonly table: string;
  readonly position: string;
  readonly deleted: boolean;
  readonly state: RowImage | null;
}

/** What one write changes; fields left undefined are kept, `null` removes. */
interface StateMutation {
  readonly value?: StateValue;
  readonly pendingFailure?: PendingFailure | null;
  readonly quarantine?: Quarantine | null;
  readonly lastParkedKey?: string;
}

/**
 * Which condition guards a write:
 * - `newer`: a blind write of a `value` whose position is above the stored one (positions compare as strings,
 *   docs/architecture.md contract 3) on an aggregate that is not quarantined; absent aggregates pass.
 * - `revision`: the item is still the one read (`expected.revision`), or still absent when `expected` is
 *   undefined.
 * - `lift-quarantine`: as `revision`, and nothing was parked behind the quarantine since it was read
 *   (`expected.lastParkedKey`, which must be set).
 */
type WriteGuard =
  | { readonly kind: 'newer' }
  | { readonly kind: 'revision'; readonly expected: AggregateItem | undefined }
  | { readonly kind: 'lift-quarantine'; readonly expected: AggregateItem };

/**
 * A write either committed (`previous`: the item before it, undefined for a new aggregate; `after()`: the
 * item the write left, as a read would return it now, built on demand so that callers who do not need it pay
 * nothing) or lost its condition (`current`: the item that made it fail, undefined if absent), so the loser
 * can decide again without another read. Unexpected failures are thrown as `StateStoreError`.
 */
type WriteOutcome =
  | {
      readonly committed: true;
      readonly previous: AggregateItem | undefined;
      readonly after: () => AggregateItem;
    }
  | { readonly committed: false; readonly current: AggregateItem | undefined };

/**
 * The per-aggregate state table (docs/architecture.md contract 2): strongly consistent reads and guarded
 * writes that add one to the item's revision. Implementations: `StateStore` (DynamoDB), `InMemoryStateStore`;
 * one contract suite (`test/helpers/state-store-contract.ts`) runs against both.
 *
 * @example
 * ```ts
 * const out = await store.write('public.orders#1', { value }, { kind: 'revision', expected: item });
 * if (!out.committed) decideAgain(out.current);
 * ```
 */
interface StateStorePort {
  /** Strongly consistent read of one aggregate. */
  get(aggregateId: string): Promise<AggregateItem | undefined>;
  /** Strongly consistent read of many aggregates; absent ones are missing from the map, duplicates are read once. */
  getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>>;
  /** Writes one aggregate under a guard; losing the condition is a return value (see {@link WriteOutcome}). */
  write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome>;
}

export type { StateMutation, StateStorePort, StateValue, WriteGuard, WriteOutcome };
