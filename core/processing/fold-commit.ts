import { backoffDelayMs } from '../coordination/backoff.js';
import { type Clock, systemClock } from '../coordination/clock.js';
import { positiveInteger } from '../coordination/validate.js';
import { REASON } from '../events/reason-codes.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import type { DerivedWrite } from '../state/derived-update.js';
import { DerivedUpdateError } from '../state/errors.js';
import type { StateMutation, StateStorePort, WriteGuard } from '../state/state-store-port.js';
import type { Fences } from './aggregate-locks.js';
import { ProcessingError } from './errors.js';

interface FoldCommitOptions {
  readonly stateStore: StateStorePort;
  /** Sleeps between tries of a conflicting transaction. @default systemClock */
  readonly clock?: Pick<Clock, 'sleep'>;
  /** Tries of a transaction DynamoDB cancels for a concurrent one (`TransactionConflict`). @default 5 */
  readonly conflictAttempts?: number;
  /** Full-jitter exponential backoff between them from this delay, up to twenty times it. @default 50 */
  readonly baseDelayMs?: number;
}

/** What one write of a fold writes besides the aggregate: its derived updates, and the fences of the locks held. */
interface FoldWrite {
  readonly derived: readonly DerivedWrite[];
  readonly fences?: Fences;
}

/**
 * A fold's write committed, or lost the aggregate's guard to `current` (the item that won, undefined if
 * absent). A committed transaction returns no item, so neither does this.
 */
type FoldOutcome =
  | { readonly committed: true }
  | { readonly committed: false; readonly current: AggregateItem | undefined };

/**
 * Writes a fold's result: one conditional write of the aggregate, or, with derived updates or locks, one
 * transaction of the aggregate and its derived updates carrying each lock's fence (docs/state.md, derived
 * aggregates and locks). Losing the aggregate's guard is a return value, as for `StateStorePort.write`. A
 * transaction cancelled for a concurrent one is tried again with backoff, then fails as `DERIVED_CONFLICT`
 * (a {@link DerivedUpdateError}: its last change is parked). A higher fence stored by a later lock holder, or
 * a derived aggregate not locked, is a `ProcessingError`: nothing was written, and the aggregate is redelivered.
 *
 * @example
 * ```ts
 * const commit = new FoldCommit({ stateStore });
 * const out = await commit.write(id, { value: fold.next }, { kind: 'revision', expected: item }, { derived: fold.derived });
 * ```
 */
class FoldCommit {
  readonly #stateStore: StateStorePort;
  readonly #clock: Pick<Clock, 'sleep'>;
  readonly #conflictAttempts: number;
  readonly #baseDelayMs: number;

  public constructor(options: FoldCommitOptions) {
    this.#stateStore = options.stateStore;
    this.#clock = options.clock ?? systemClock;
    this.#conflictAttempts = positiveInteger('conflictAttempts', options.conflictAttempts ?? 5);
    this.#baseDelayMs = positiveInteger('retryBaseDelayMs', options.baseDelayMs ?? 50);
  }

  public async write(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    write: FoldWrite,
  ): Promise<FoldOutcome> {
    const { derived, fences } = write;
    if (derived.length === 0 && fences === undefined)
      return this.#stateStore.write(aggregateId, mutation, guard);
    const options = { derived: fenced(aggregateId, derived, fences), fence: fences?.get(aggregateId) };
    for (let attempt = 1; ; attempt++) {
      const out = await this.#stateStore.transact(aggregateId, mutation, guard, options);
      if (out.committed) return { committed: true };
      if (out.reason === 'condition') return { committed: false, current: out.current };
      if (out.reason === 'stale-fence')
        throw new ProcessingError(
          `aggregate ${aggregateId}: the lock on ${out.aggregateId} was taken over (fence ${out.storedFence} stored, ours ${fences?.get(out.aggregateId)}); nothing written, retrying later`,
        );
      if (attempt >= this.#conflictAttempts)
        throw new DerivedUpdateError(
          `${aggregateId}: the transaction with derived updates of ${derived.length} aggregates was cancelled by concurrent transactions ${attempt} times (TransactionConflict)`,
          REASON.DERIVED_CONFLICT,
        );
      await this.#clock.sleep(
        backoffDelayMs(attempt - 1, { baseMs: this.#baseDelayMs, maxMs: this.#baseDelayMs * 20 }),
      );
    }
  }
}

/** The derived writes with the fences of their locks, when locks are held; each must be held. */
function fenced(
  aggregateId: string,
  derived: readonly DerivedWrite[],
  fences: Fences | undefined,
): DerivedWrite[] {
  if (fences === undefined) return [...derived];
  return derived.map((write) => {
    const fence = fences.get(write.aggregateId);
    if (fence === undefined)
      throw new ProcessingError(
        `aggregate ${aggregateId}: derives an update of ${write.aggregateId}, which it did not lock (its derived aggregates changed since the locks were taken); retrying later`,
      );
    return { ...write, fence };
  });
}

export type { FoldCommitOptions, FoldOutcome, FoldWrite };
export { FoldCommit };
