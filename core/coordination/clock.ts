import { setTimeout as delay } from 'node:timers/promises';

/**
 * Time as the coordination primitives see it. Ownership is decided only with `now()`, a monotonic clock read
 * by the observer itself (docs/architecture.md contract 8); `wallNow()` is stored for people and TTL and is compared
 * across machines only on an explicitly configured fast path with a clock-skew allowance.
 */
interface Clock {
  /** Monotonic milliseconds, `performance.now()`-like: only differences between two readings mean anything. */
  now(): number;
  /** Wall-clock epoch milliseconds (`Date.now()`-like); may jump and may differ between machines. */
  wallNow(): number;
  /** Resolves `true` after `ms` of this clock's time, or `false` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

/**
 * The process's own clocks: `performance.now()`, `Date.now()` and timers.
 *
 * @example
 * ```ts
 * const registry = new InstanceRegistry({ store, clock: systemClock });
 * ```
 */
const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  sleep: async (ms, signal) => {
    if (signal?.aborted) return false;
    try {
      await delay(Math.max(0, ms), undefined, signal === undefined ? undefined : { signal });
      return true;
    } catch {
      return false;
    }
  },
};

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: (slept: boolean) => void;
  /** Stops listening to the sleep's signal once the timer fired (long-lived signals would collect listeners). */
  unlisten?: () => void;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A clock that moves only when told to, for unit tests: sleeps wait until {@link ManualClock.advance} passes
 * their deadline, so expiry rules are tested without real waiting.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const pending = client.acquire('orders', { waitMs: 60_000 });
 * const lock = await clock.runUntil(pending);
 * ```
 */
class ManualClock implements Clock {
  #nowMs: number;
  #wallOffsetMs: number;
  #seq = 0;
  #timers: Timer[] = [];

  public constructor(options: { readonly startMs?: number; readonly wallStartMs?: number } = {}) {
    this.#nowMs = options.startMs ?? 1_000;
    this.#wallOffsetMs = (options.wallStartMs ?? Date.UTC(2026, 0, 1)) - this.#nowMs;
  }

  public now(): number {
    return this.#nowMs;
  }

  public wallNow(): number {
    return this.#nowMs + this.#wallOffsetMs;
  }

  /** Moves the wall clock only (a skewed or stepped system clock); the monotonic clock does not change. */
  public shiftWall(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  /** Number of sleeps not yet due. */
  public get pendingTimers(): number {
    return this.#timers.length;
  }

  public sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer: Timer = { at: this.#nowMs + Math.max(0, ms), seq: this.#seq++, resolve };
      this.#timers.push(timer);
      if (signal === undefined) return;
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      timer.unlisten = () => signal.removeEventListener('abort', onAbort);
    });
  }

  /** Moves time forward by `ms`, waking every sleeper on the way in deadline order and letting it run. */
  public async advance(ms: number): Promise<void> {
    const target = this.#nowMs + ms;
    await tick();
    for (;;) {
      const next = this.#nextTimer();
      if (next === undefined || next.at > target) break;
      this.#fire(next);
      await tick();
    }
    this.#nowMs = target;
    await tick();
  }

  /**
   * Lets `promise` settle, advancing time from one pending sleep to the next. Fails when nothing is
   * scheduled and the promise is still pending, or when more than `limitMs` of clock time would pass.
   */
  public async runUntil<T>(promise: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    const limit = this.#nowMs + limitMs;
    await tick();
    while (!settled) {
      const next = this.#nextTimer();
      if (next === undefined)
        throw new Error('ManualClock.runUntil: the promise is pending and no sleep is scheduled');
      if (next.at > limit)
        throw new Error(`ManualClock.runUntil: still pending after ${limitMs} ms of clock time`);
      this.#fire(next);
      await tick();
    }
    return watched;
  }

  #nextTimer(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers)
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }

  #fire(timer: Timer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
    timer.unlisten?.();
    this.#nowMs = Math.max(this.#nowMs, timer.at);
    timer.resolve(true);
  }
}

export type { Clock };
export { ManualClock, systemClock };
