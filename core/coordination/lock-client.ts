import { randomUUID } from 'node:crypto';
import { OptionsError } from '../errors.js';
import { backoffDelayMs } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { LockNotGrantedError } from './errors.js';
import { lockKey } from './keys.js';
import { LeaseClient } from './lease-client.js';
import { LeaseKeeper } from './lease-keeper.js';
import { Lock } from './lock.js';
import type { LeaseStore } from './store.js';
import { durationMs, heartbeatWithinLease, identifier } from './validate.js';

interface LockClientOptions {
  readonly store: LeaseStore;
  /** Owner id written on the locks this client holds; unique per client. @default a random UUID */
  readonly ownerId?: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** How long a lock outlives its holder's last heartbeat. @default 20_000 */
  readonly leaseDurationMs?: number;
  /** Background heartbeat period; at most half of every lease duration used. @default leaseDurationMs / 4 */
  readonly heartbeatPeriodMs?: number;
  /** Heartbeat held locks in the background; when false, call {@link LockClient.heartbeat}. @default true */
  readonly autoHeartbeat?: boolean;
  /** Warns when a held lock has less than `safeTimeMs` left (heartbeats failing). @default undefined (off) */
  readonly sessionMonitor?: { readonly safeTimeMs: number; readonly onDanger: (lock: Lock) => void };
  /** A client may acquire a lock it holds again; each acquire needs a release. @default false */
  readonly reentrant?: boolean;
  /** First backoff ceiling while waiting. @default 25 */
  readonly backoffBaseMs?: number;
  /** Largest backoff ceiling while waiting (also the longest gap between polls of a held lock). @default 1_000 */
  readonly backoffMaxMs?: number;
  /** See {@link LeaseClientOptions.clockSkewAllowanceMs}. @default undefined (off) */
  readonly clockSkewAllowanceMs?: number;
  /**
   * Called once per acquisition call that found a lock held by someone else (for the `LockContention`
   * metric in `METRICS`). @default undefined
   */
  readonly onContention?: (event: { readonly name: string; readonly holder: string | undefined }) => void;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default crypto.randomUUID */
  readonly newVersion?: () => string;
}

interface TryAcquireOptions {
  /** @default the client's leaseDurationMs */
  readonly leaseDurationMs?: number;
  /** How long to keep trying; 0 makes one attempt. @default 0 */
  readonly waitMs?: number;
  /** Stops waiting early (Lambda's deadline, shutdown). */
  readonly signal?: AbortSignal;
}

interface AcquireOptions extends TryAcquireOptions {
  /** How long to keep trying, typically the Lambda's remaining time minus a margin. */
  readonly waitMs: number;
}

type Attempt =
  | { readonly lock: Lock }
  | {
      readonly lock: undefined;
      readonly name: string;
      readonly holder: string | undefined;
      readonly retryInMs: number;
    };

/**
 * Named locks on the coordination table, in the manner of the DynamoDB Lock Client, with fencing tokens and
 * ordered multi-lock acquisition. `tryAcquire` returns `undefined` when the lock is not granted in time,
 * `acquire` throws {@link LockNotGrantedError}, `release` answers `false` when the lock had been lost.
 *
 * @example
 * ```ts
 * const locks = new LockClient({ store, ownerId: instanceId, leaseDurationMs: 10_000 });
 * const lock = await locks.tryAcquire('rebalance', { waitMs: 2_000 });
 * if (lock) try { await rebalance(lock.fence, lock.signal); } finally { await locks.release(lock); }
 * ```
 */
class LockClient {
  readonly #leases: LeaseClient;
  readonly #clock: Clock;
  readonly #ownerId: string;
  readonly #leaseDurationMs: number;
  readonly #heartbeatPeriodMs: number;
  readonly #autoHeartbeat: boolean;
  readonly #sessionMonitor: LockClientOptions['sessionMonitor'];
  readonly #reentrant: boolean;
  readonly #backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly #random: () => number;
  readonly #onContention: LockClientOptions['onContention'];
  readonly #held = new Map<string, Lock>();
  readonly #queues = new Map<string, Promise<unknown>>();

  public constructor(options: LockClientOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#ownerId = identifier('ownerId', options.ownerId ?? randomUUID());
    this.#leaseDurationMs = durationMs('leaseDurationMs', options.leaseDurationMs ?? 20_000);
    this.#heartbeatPeriodMs = durationMs(
      'heartbeatPeriodMs',
      options.heartbeatPeriodMs ?? this.#leaseDurationMs / 4,
    );
    heartbeatWithinLease(this.#heartbeatPeriodMs, this.#leaseDurationMs);
    if (options.sessionMonitor !== undefined) {
      const { safeTimeMs } = options.sessionMonitor;
      if (!(safeTimeMs > 0 && safeTimeMs < this.#leaseDurationMs - this.#heartbeatPeriodMs))
        throw new OptionsError(
          'sessionMonitor.safeTimeMs',
          safeTimeMs,
          `must be above 0 and below leaseDurationMs - heartbeatPeriodMs (${this.#leaseDurationMs - this.#heartbeatPeriodMs}), ` +
            'or every healthy heartbeat cycle would raise a warning',
        );
    }
    this.#autoHeartbeat = options.autoHeartbeat ?? true;
    this.#sessionMonitor = options.sessionMonitor;
    this.#reentrant = options.reentrant ?? false;
    this.#backoff = {
      baseMs: durationMs('backoffBaseMs', options.backoffBaseMs ?? 25),
      maxMs: durationMs('backoffMaxMs', options.backoffMaxMs ?? 1_000),
    };
    this.#random = options.random ?? Math.random;
    this.#onContention = options.onContention;
    this.#leases = new LeaseClient({
      store: options.store,
      clock: this.#clock,
      clockSkewAllowanceMs: options.clockSkewAllowanceMs,
      random: this.#random,
      newVersion: options.newVersion,
    });
  }

  public get ownerId(): string {
    return this.#ownerId;
  }

  /** The lock, or `undefined` if it was not granted within `waitMs` (one attempt by default). */
  public async tryAcquire(name: string, options: TryAcquireOptions = {}): Promise<Lock | undefined> {
    const result = await this.#acquireAll([name], options);
    return result.locks?.[0];
  }

  /** The lock; throws {@link LockNotGrantedError} if it was not granted within `waitMs`. */
  public async acquire(name: string, options: AcquireOptions): Promise<Lock> {
    const result = await this.#acquireAll([name], options);
    if (result.locks === undefined) throw new LockNotGrantedError(name, result.waitedMs, result.holder);
    return result.locks[0]!;
  }

  /**
   * Every named lock or none. Locks are taken in one global order (sorted names) and all of them are
   * released as soon as one is not free, before waiting (no hold-and-wait), so two callers locking {A, B}
   * and {B, A} can neither deadlock nor hold one lock each while waiting for the other.
   */
  public async tryAcquireAll(
    names: readonly string[],
    options: TryAcquireOptions = {},
  ): Promise<Lock[] | undefined> {
    return (await this.#acquireAll(names, options)).locks;
  }

  /** Like {@link tryAcquireAll}, but throws {@link LockNotGrantedError} naming the lock that was not free. */
  public async acquireAll(names: readonly string[], options: AcquireOptions): Promise<Lock[]> {
    const result = await this.#acquireAll(names, options);
    if (result.locks === undefined)
      throw new LockNotGrantedError(result.name, result.waitedMs, result.holder);
    return result.locks;
  }

  /** Renews now; `false` if the lock was lost. Needed only with `autoHeartbeat: false`. */
  public async heartbeat(lock: Lock): Promise<boolean> {
    return lock.keeper.renewNow();
  }

  /**
   * Releases the lock (for a reentrant lock, one hold of it). `false` if the lock had been lost before:
   * whatever it protected may have been changed by another holder, and fenced writes will have told so.
   */
  public async release(lock: Lock): Promise<boolean> {
    return this.#serial(lock.name, async () => {
      if (this.#reentrant && lock.isHeld && lock.leave() > 0) return true;
      if (this.#held.get(lock.name) === lock) this.#held.delete(lock.name);
      const wasHeld = lock.keeper.endReason === undefined;
      await lock.keeper.stop();
      if (!wasHeld) return false;
      const released = await this.#leases.release(lock.keeper.lease);
      await lock.keeper.stop(released ? 'released' : 'taken-over');
      return released;
    });
  }

  /** Releases locks in reverse order; `true` if every one was still held. */
  public async releaseAll(locks: readonly Lock[]): Promise<boolean> {
    let all = true;
    for (const lock of [...locks].reverse()) all = (await this.release(lock)) && all;
    return all;
  }

  async #acquireAll(
    names: readonly string[],
    options: TryAcquireOptions,
  ): Promise<
    | { readonly locks: Lock[] }
    | {
        readonly locks: undefined;
        readonly name: string;
        readonly holder: string | undefined;
        readonly waitedMs: number;
      }
  > {
    const sorted = [...new Set(names.map((n) => identifier('lock name', n)))].sort();
    if (sorted.length === 0) throw new OptionsError('names', names, 'must name at least one lock');
    const leaseDurationMs = durationMs('leaseDurationMs', options.leaseDurationMs ?? this.#leaseDurationMs);
    heartbeatWithinLease(this.#heartbeatPeriodMs, leaseDurationMs);
    const startedAt = this.#clock.now();
    const deadline = startedAt + durationMs('waitMs', options.waitMs ?? 0, true);
    for (let round = 0; ; round++) {
      const locks: Lock[] = [];
      let blocked: Extract<Attempt, { lock: undefined }> | undefined;
      for (const name of sorted) {
        const attempt = await this.#serial(name, () => this.#tryOnce(name, leaseDurationMs));
        if (attempt.lock === undefined) {
          blocked = attempt;
          break;
        }
        locks.push(attempt.lock);
      }
      if (blocked === undefined) return { locks };
      if (round === 0) this.#onContention?.({ name: blocked.name, holder: blocked.holder });
      // No hold-and-wait: give back what this round took before waiting.
      await this.releaseAll(locks);
      const remaining = deadline - this.#clock.now();
      if (remaining <= 0 || options.signal?.aborted)
        return {
          locks: undefined,
          name: blocked.name,
          holder: blocked.holder,
          waitedMs: this.#clock.now() - startedAt,
        };
      const delay = Math.max(
        1,
        Math.min(backoffDelayMs(round, this.#backoff, this.#random), blocked.retryInMs, remaining),
      );
      if (!(await this.#clock.sleep(delay, options.signal)))
        return {
          locks: undefined,
          name: blocked.name,
          holder: blocked.holder,
          waitedMs: this.#clock.now() - startedAt,
        };
    }
  }

  async #tryOnce(name: string, leaseDurationMs: number): Promise<Attempt> {
    const local = this.#held.get(name);
    if (local?.isHeld) {
      if (this.#reentrant) {
        local.enter();
        return { lock: local };
      }
      // Held by another task of this process: wait like any other contender.
      return { lock: undefined, name, holder: this.#ownerId, retryInMs: Number.POSITIVE_INFINITY };
    }
    if (local !== undefined) this.#held.delete(name);
    const attempt = await this.#leases.tryAcquire(lockKey(name), { owner: this.#ownerId, leaseDurationMs });
    if (attempt.lease === undefined)
      return { lock: undefined, name, holder: attempt.current?.owner, retryInMs: attempt.retryInMs };
    let lock: Lock | undefined;
    const monitor = this.#sessionMonitor;
    const keeper = new LeaseKeeper({
      client: this.#leases,
      lease: attempt.lease,
      clock: this.#clock,
      heartbeatPeriodMs: this.#autoHeartbeat ? this.#heartbeatPeriodMs : undefined,
      safeTimeMs: monitor?.safeTimeMs,
      onDanger: monitor === undefined ? undefined : () => lock !== undefined && monitor.onDanger(lock),
    });
    lock = new Lock(name, keeper, this.#clock);
    keeper.start();
    this.#held.set(name, lock);
    return { lock };
  }

  /** Runs lock operations on one name one at a time, so two tasks of this client never both adopt a grant. */
  async #serial<T>(name: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const current = previous.then(run, run);
    const settled = current.catch(() => undefined);
    this.#queues.set(name, settled);
    try {
      return await current;
    } finally {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    }
  }
}

export type { AcquireOptions, LockClientOptions, TryAcquireOptions };
export { LockClient };
