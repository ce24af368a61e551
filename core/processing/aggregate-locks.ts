import { createHash } from 'node:crypto';
import type { Clock } from '../coordination/clock.js';
import type { Lock } from '../coordination/lock.js';
import type { LockClient } from '../coordination/lock-client.js';
import { durationMs } from '../coordination/validate.js';

/** The lock fences of the aggregates held, by aggregate id: every write of one carries its fence. */
type Fences = ReadonlyMap<string, number>;

/** One acquisition, for the `LockWaitMs` metric and benchmarks. */
interface LockWait {
  readonly aggregates: number;
  readonly waitedMs: number;
  readonly granted: boolean;
}

interface AggregateLocksOptions {
  /** Takes and releases the locks (on the coordination table): ordered multi-lock, fencing, heartbeats. */
  readonly locks: Pick<LockClient, 'acquireAll' | 'releaseAll'>;
  /** How long to wait for every lock of a set to be free (`locks.waitMs`). */
  readonly waitMs: number;
  /** How long a lock outlives its holder's last heartbeat (`locks.leaseDurationMs`). */
  readonly leaseDurationMs: number;
  /** Measures the wait. */
  readonly clock: Pick<Clock, 'now'>;
  /** Called after every acquisition, granted or not. @default none */
  readonly onWait?: (wait: LockWait) => void;
}

/** Lock names are at most 512 characters; aggregate ids may be up to 1,024 bytes. */
const MAX_PLAIN_NAME = 400;

/** The lock that holds one aggregate: its id, or a digest of a long one. */
function aggregateLockName(aggregateId: string): string {
  return aggregateId.length <= MAX_PLAIN_NAME
    ? `aggregate:${aggregateId}`
    : `aggregate-sha256:${createHash('sha256').update(aggregateId).digest('hex')}`;
}

/**
 * Holds fenced locks on a set of aggregates while a projection that declares `holdLocks` applies a change
 * (docs/state.md, locks). The set is taken in one ordered multi-lock (sorted names, all released before
 * waiting: two sets taken in opposite orders never deadlock), heartbeated while held, and released after.
 * Not granted within `waitMs` is a `LockNotGrantedError` naming the lock that was held: the aggregate fails
 * and is redelivered.
 *
 * @example
 * ```ts
 * const held = new AggregateLocks({ locks: lockClient, waitMs: 5_000, leaseDurationMs: 20_000, clock });
 * await held.hold(['public.order_lines#7', 'public.orders#1'], (fences) => applyWith(fences));
 * ```
 */
class AggregateLocks {
  readonly #o: AggregateLocksOptions;

  public constructor(options: AggregateLocksOptions) {
    durationMs('locks.waitMs', options.waitMs, true);
    durationMs('locks.leaseDurationMs', options.leaseDurationMs);
    this.#o = options;
  }

  /** Runs `work` holding every aggregate's lock, with their fences; releases them whatever happens. */
  public async hold<T>(aggregateIds: readonly string[], work: (fences: Fences) => Promise<T>): Promise<T> {
    const names = new Map([...new Set(aggregateIds)].map((id) => [aggregateLockName(id), id]));
    const startedAt = this.#o.clock.now();
    const waited = (granted: boolean) =>
      this.#o.onWait?.({ aggregates: names.size, waitedMs: this.#o.clock.now() - startedAt, granted });
    let locks: Lock[];
    try {
      locks = await this.#o.locks.acquireAll([...names.keys()], {
        waitMs: this.#o.waitMs,
        leaseDurationMs: this.#o.leaseDurationMs,
      });
    } catch (error) {
      waited(false);
      throw error;
    }
    waited(true);
    try {
      return await work(fencesOf(locks, names));
    } finally {
      await this.#o.locks.releaseAll(locks);
    }
  }
}

function fencesOf(locks: readonly Lock[], names: ReadonlyMap<string, string>): Fences {
  return new Map(locks.map((lock) => [names.get(lock.name)!, lock.fence]));
}

export type { AggregateLocksOptions, Fences, LockWait };
export { AggregateLocks, aggregateLockName };
