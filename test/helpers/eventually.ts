import { type Clock, ManualClock, systemClock } from '../../core/coordination/clock.js';

interface EventuallyOptions {
  /** How long to keep polling, in the clock's milliseconds. @default 30_000 */
  readonly timeoutMs?: number;
  /** The pause between two checks. @default 50 */
  readonly intervalMs?: number;
  /**
   * The clock to wait on. A {@link ManualClock} is advanced by the poll itself, since nothing else moves it: the
   * code under test runs on the clock time the poll lets pass. @default systemClock
   */
  readonly clock?: Clock;
}

/** What a check returns while the condition does not hold yet. */
type NotYet = undefined | false;

/**
 * Polls `check` until it returns something other than `undefined` or `false` and returns that, or fails
 * after `timeoutMs` naming `what` it waited for. The one polling helper of the tests: for engines in
 * integration tests (wall-clock waits, no bound asserted on them) and for a manual clock in unit tests.
 *
 * @example
 * ```ts
 * const item = await eventually('the state row', () => store.get(id));
 * await eventually('four shards read', () => worker.running.size === 4, { clock });
 * ```
 */
async function eventually<T>(
  what: string,
  check: () => T | NotYet | Promise<T | NotYet>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, NotYet>> {
  const { timeoutMs = 30_000, intervalMs = 50, clock = systemClock } = options;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, NotYet>;
    if (clock.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    if (clock instanceof ManualClock) await clock.advance(intervalMs);
    else await clock.sleep(intervalMs);
  }
}

export { type EventuallyOptions, eventually };
