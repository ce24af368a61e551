import type { Clock } from './clock.js';
import { LeaseLostError } from './errors.js';
import type { LeaseGuard } from './fenced-writer.js';
import type { LeaseEndReason, LeaseKeeper } from './lease-keeper.js';

/**
 * A named lock held by this process. Carry {@link Lock.fence} on every write the lock protects (see
 * `FencedWriter`), and stop when {@link Lock.signal} aborts: that means the lock was lost or released.
 *
 * @example
 * ```ts
 * const lock = await locks.acquire('orders', { waitMs: 5_000 });
 * try { await writer.update({ key, fence: lock.fence, set: { total } }); }
 * finally { await locks.release(lock); }
 * ```
 */
class Lock {
  public readonly name: string;
  public readonly owner: string;
  readonly #keeper: LeaseKeeper;
  readonly #clock: Clock;
  #holdCount = 1;

  /** @internal Built by `LockClient`. */
  public constructor(name: string, keeper: LeaseKeeper, clock: Clock) {
    this.name = name;
    this.owner = keeper.lease.owner;
    this.#keeper = keeper;
    this.#clock = clock;
  }

  /** The fence token of this grant: higher than every earlier grant of the same lock. */
  public get fence(): number {
    return this.#keeper.lease.fence;
  }

  /** True while the lock is held on this process's own clock and has been neither lost nor released. */
  public get isHeld(): boolean {
    return this.#keeper.isHeld;
  }

  /** The grant, for `FencedWriter` writes that must also check that the lock is still this grant. */
  public get guard(): LeaseGuard {
    const lease = this.#keeper.lease;
    return { key: lease.key, owner: lease.owner, fence: lease.fence };
  }

  /** Aborted when the lock is lost (taken over, or run out before a heartbeat succeeded) or released. */
  public get signal(): AbortSignal {
    return this.#keeper.signal;
  }

  public get lostReason(): LeaseEndReason | undefined {
    return this.#keeper.endReason;
  }

  /** Time left on the holder's clock before the lock must be considered lost. */
  public remainingMs(): number {
    return this.#keeper.isHeld ? this.#keeper.lease.remainingMs(this.#clock.now()) : 0;
  }

  /** How many times this (reentrant) lock was acquired and not yet released. */
  public get holdCount(): number {
    return this.#holdCount;
  }

  /** Throws {@link LeaseLostError} unless the lock is held. */
  public assertHeld(): void {
    if (!this.isHeld) throw new LeaseLostError(this.name, this.fence, this.lostReason ?? 'expired');
  }

  /** @internal */
  public get keeper(): LeaseKeeper {
    return this.#keeper;
  }

  /** @internal Reentrant acquisition by the same client. */
  public enter(): void {
    this.#holdCount += 1;
  }

  /** @internal Returns the holds left. */
  public leave(): number {
    this.#holdCount = Math.max(0, this.#holdCount - 1);
    return this.#holdCount;
  }
}

export { Lock };
