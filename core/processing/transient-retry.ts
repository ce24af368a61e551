import { backoffDelayMs } from '../coordination/backoff.js';
import type { Clock } from '../coordination/clock.js';
import { isTransientStoreError } from '../state/errors.js';

/** How store requests are tried again after transient failures (throttling, timeouts, 5xx). */
interface TransientRetry {
  readonly clock: Pick<Clock, 'sleep'>;
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** Full-jitter exponential backoff from this delay, up to twenty times it. */
  readonly baseDelayMs: number;
}

/**
 * Runs `send` again after a transient store failure, sleeping on the clock with jittered backoff, up to
 * `attempts` tries; any other error (an unstorable item, a lost permission) is thrown at once.
 *
 * @example
 * ```ts
 * const items = await retryTransient(() => stateStore.getMany(ids), { clock, attempts: 3, baseDelayMs: 50 });
 * ```
 */
async function retryTransient<T>(send: () => Promise<T>, retry: TransientRetry): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!isTransientStoreError(error) || attempt + 1 >= retry.attempts) throw error;
      await retry.clock.sleep(
        backoffDelayMs(attempt, { baseMs: retry.baseDelayMs, maxMs: retry.baseDelayMs * 20 }),
      );
    }
  }
}

export type { TransientRetry };
export { retryTransient };
