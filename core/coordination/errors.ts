/** Base error of the coordination module. */
class CoordinationError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoordinationError';
  }
}

/**
 * An unexpected failure of the coordination table (not a lost race, which is a return value). `retryable`
 * says whether the same request may be sent again (throttling, timeouts, lost connections); the SDK error is
 * the `cause`.
 *
 * @example
 * ```ts
 * try { await store.renewLease(key, request); }
 * catch (error) { if (error instanceof CoordinationStoreError && error.retryable) retryLater(); else throw error; }
 * ```
 */
class CoordinationStoreError extends CoordinationError {
  public readonly operation: string;
  public readonly key: string;
  public readonly retryable: boolean;

  public constructor(
    message: string,
    context: { readonly operation: string; readonly key: string; readonly retryable: boolean },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CoordinationStoreError';
    this.operation = context.operation;
    this.key = context.key;
    this.retryable = context.retryable;
  }
}

/**
 * `LockClient.acquire` (or `acquireAll`) waited as long as it was allowed and did not get the lock.
 * `tryAcquire` returns `undefined` in the same situation.
 *
 * @example
 * ```ts
 * try { await locks.acquire('orders', { waitMs: 5_000 }); }
 * catch (error) { if (error instanceof LockNotGrantedError) log.warn({ holder: error.holder }); }
 * ```
 */
class LockNotGrantedError extends CoordinationError {
  public readonly lockName: string;
  public readonly waitedMs: number;
  /** The owner holding the lock when the wait ended, when known. */
  public readonly holder: string | undefined;

  public constructor(lockName: string, waitedMs: number, holder: string | undefined) {
    super(
      `lock ${JSON.stringify(lockName)} was not granted within ${Math.round(waitedMs)} ms` +
        (holder === undefined ? '' : `; it is held by ${JSON.stringify(holder)}`),
    );
    this.name = 'LockNotGrantedError';
    this.lockName = lockName;
    this.waitedMs = waitedMs;
    this.holder = holder;
  }
}

/**
 * Work that needs a lock or leadership found it lost: a later grant fenced it out, or its lease ran out on
 * the holder's own clock before a renewal succeeded.
 *
 * @example
 * ```ts
 * if (!lock.isHeld) throw new LeaseLostError(lock.name, lock.fence, lock.lostReason ?? 'lost');
 * ```
 */
class LeaseLostError extends CoordinationError {
  public readonly leaseName: string;
  public readonly fence: number;
  public readonly reason: string;

  public constructor(leaseName: string, fence: number, reason: string) {
    super(`lease ${JSON.stringify(leaseName)} with fence ${fence} is no longer held (${reason})`);
    this.name = 'LeaseLostError';
    this.leaseName = leaseName;
    this.fence = fence;
    this.reason = reason;
  }
}

export { CoordinationError, CoordinationStoreError, LeaseLostError, LockNotGrantedError };
