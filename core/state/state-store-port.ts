import type { RowImage } from '../events/change.js';
import { UNNAMED_SOURCE } from '../events/source-id.js';
import type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';
import type { DerivedWrite } from './derived-update.js';
import type { FieldStamps, WriterStamp } from './source-marks.js';

/**
 * The new projected state of an aggregate, with the position of the last change it includes and what it
 * records of its sources (docs/architecture.md contract 9). The fold fills every field; a caller that knows
 * one source only may leave the source fields out (see {@link marksOfValue} for what is written then).
 */
interface StateValue {
  readonly table: string;
  readonly position: string;
  readonly deleted: boolean;
  readonly state: RowImage | null;
  /** Source of `position`: what a blind write (`newer`) compares against. @default 'unnamed' */
  readonly source?: string;
  /** The high-water position of every source, written whole. @default `{ [source]: position }` */
  readonly positions?: ReadonlyMap<string, string>;
  /** The change that last set the state. @default `{ source, ts: 0, position }` */
  readonly writer?: WriterStamp;
  /** Written under `field-merge` only; absent removes them. */
  readonly fieldStamps?: FieldStamps;
}

/** The source, positions and writer a value writes, its defaults filled in. */
function marksOfValue(value: StateValue): {
  readonly source: string;
  readonly positions: ReadonlyMap<string, string>;
  readonly writer: WriterStamp;
} {
  const source = value.source ?? UNNAMED_SOURCE;
  return {
    source,
    positions: value.positions ?? new Map([[source, value.position]]),
    writer: value.writer ?? { source, ts: 0, position: value.position },
  };
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
 * - `newer`: a blind write of a `value` whose position is above its source's mark (positions compare as
 *   strings, docs/architecture.md contract 3), where that source is the only one the item has recorded (or
 *   the item predates sources and has one `position`), on an aggregate that is not quarantined; absent
 *   aggregates pass. Only the `single-source` strategy writes blind.
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

/** What a {@link StateStorePort.transact} writes besides the guarded write of the source aggregate. */
interface TransactOptions {
  /** Updates of other aggregates, applied with the source write or not at all; at most 99, one per aggregate. */
  readonly derived: readonly DerivedWrite[];
  /**
   * The fence of the lock held on the source aggregate: the write is refused if a higher fence was stored by
   * a later holder (docs/architecture.md contract 7), and stores this one. @default none (no fence condition)
   */
  readonly fence?: number;
}

/**
 * A transaction committed whole, or not at all because:
 * - `condition`: the source write's guard failed (a concurrent writer, or a duplicate of the change, came
 *   first); `current` is the source item now, as for a {@link WriteOutcome} that lost;
 * - `stale-fence`: a later lock holder stored a higher fence on `aggregateId` (this holder lost its lock);
 * - `conflict`: DynamoDB cancelled it for a concurrent transaction on one of its items: try again.
 */
type TransactOutcome =
  | { readonly committed: true }
  | { readonly committed: false; readonly reason: 'condition'; readonly current: AggregateItem | undefined }
  | {
      readonly committed: false;
      readonly reason: 'stale-fence';
      readonly aggregateId: string;
      readonly storedFence: number;
    }
  | { readonly committed: false; readonly reason: 'conflict' };

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
  /**
   * Writes one aggregate under a guard (and the fence of its lock, if held) together with derived updates of
   * other aggregates, atomically: one DynamoDB TransactWriteItems, or one conditional write when there is no
   * derived update. A duplicate of the source change loses the guard and cancels everything, so a derived
   * update is applied exactly once with its change. Throws `UnstorableError` as {@link write} does.
   */
  transact(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    options: TransactOptions,
  ): Promise<TransactOutcome>;
}

export type {
  StateMutation,
  StateStorePort,
  StateValue,
  TransactOptions,
  TransactOutcome,
  WriteGuard,
  WriteOutcome,
};
export { marksOfValue };
