import type { Clock } from './clock.js';
import { CoordinationStoreError } from './errors.js';

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform
 * delay in `[0, min(maxMs, baseMs * 2^attempt))`. Full jitter spreads contenders that failed together, so
 * they do not retry together.
 *
 * @example
 * ```ts
 * await clock.sleep(backoffDelayMs(attempt, { baseMs: 25, maxMs: 1_000 }));
 * ```
 */
function backoffDelayMs(
  attempt: number,
  options: { readonly baseMs: number; readonly maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return random() * ceiling;
}

/**
 * Sends the same request again after a retryable {@link CoordinationStoreError} (throttling, timeouts), up
 * to `maxAttempts` in all. Requests carry a version token, so a retry of a write that was applied but whose
 * response was lost is recognised instead of being applied twice.
 */
async function withRetries<T>(
  send: () => Promise<T>,
  options: {
    readonly clock: Clock;
    readonly maxAttempts: number;
    readonly baseMs: number;
    readonly random: () => number;
  },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (
        !(error instanceof CoordinationStoreError) ||
        !error.retryable ||
        attempt + 1 >= options.maxAttempts
      )
        throw error;
      await options.clock.sleep(
        backoffDelayMs(attempt, { baseMs: options.baseMs, maxMs: options.baseMs * 16 }, options.random),
      );
    }
  }
}

export { backoffDelayMs, withRetries };
