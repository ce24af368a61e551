import type { Clock } from './clock.js';

/**
 * What one observer saw of an item's sign of life (its signature: record version, heartbeat counter), and
 * since when, on the observer's own monotonic clock. A value object: expiry is a pure function of it.
 *
 * @example
 * ```ts
 * const seen = new Sighting('owner-a|3|v9', clock.now());
 * seen.isExpired(20_000, clock.now()); // false until 20 s of the observer's time have passed
 * ```
 */
class Sighting {
  public constructor(
    public readonly signature: string,
    public readonly sinceMs: number,
  ) {}

  /** True when the signature has not changed for `durationMs` as of `asOfMs` (same clock as `sinceMs`). */
  public isExpired(durationMs: number, asOfMs: number): boolean {
    return asOfMs - this.sinceMs >= durationMs;
  }

  /** Time left before {@link isExpired} turns true; 0 once expired. */
  public remainingMs(durationMs: number, asOfMs: number): number {
    return Math.max(0, this.sinceMs + durationMs - asOfMs);
  }
}

/** An observer's verdict on one item. */
interface LivenessVerdict {
  readonly expired: boolean;
  /** Time left before the observer may judge it expired; 0 when expired. */
  readonly remainingMs: number;
  /** How long this observer has seen the same signature. */
  readonly silentForMs: number;
  /** True when the opt-in wall-clock fast path decided, rather than the observer's own clock. */
  readonly byWallClock: boolean;
}

/**
 * Judges liveness the way the KCL and the DynamoDB Lock Client do (docs/architecture.md contract 8): an item is expired
 * when its signature has not changed for a duration **as measured by this observer's monotonic clock** from
 * the moment this observer first saw that signature. No wall clock of another machine takes part, so clock
 * skew cannot change a verdict. The price: an observer that has just started waits one full duration before
 * it can call anything expired.
 *
 * With `clockSkewAllowanceMs`, a stored wall time may decide early (fast path): expired if the writer's wall
 * time is older than duration + allowance by the observer's wall clock. It is only as safe as the allowance
 * is larger than the real skew between machines.
 */
class LivenessTracker {
  readonly #clock: Clock;
  readonly #skewAllowanceMs: number | undefined;
  readonly #sightings = new Map<string, Sighting>();

  public constructor(options: { readonly clock: Clock; readonly clockSkewAllowanceMs?: number }) {
    this.#clock = options.clock;
    this.#skewAllowanceMs = options.clockSkewAllowanceMs;
  }

  /** Records what was seen of `key` now, and judges it. */
  public observe(
    key: string,
    signature: string,
    durationMs: number,
    writtenAtWallMs?: number,
  ): LivenessVerdict {
    const now = this.#clock.now();
    let sighting = this.#sightings.get(key);
    if (sighting === undefined || sighting.signature !== signature) {
      sighting = new Sighting(signature, now);
      this.#sightings.set(key, sighting);
    }
    const silentForMs = now - sighting.sinceMs;
    if (sighting.isExpired(durationMs, now))
      return { expired: true, remainingMs: 0, silentForMs, byWallClock: false };
    if (
      this.#skewAllowanceMs !== undefined &&
      writtenAtWallMs !== undefined &&
      this.#clock.wallNow() - writtenAtWallMs >= durationMs + this.#skewAllowanceMs
    )
      return { expired: true, remainingMs: 0, silentForMs, byWallClock: true };
    return {
      expired: false,
      remainingMs: sighting.remainingMs(durationMs, now),
      silentForMs,
      byWallClock: false,
    };
  }

  /** The current sighting of `key`, if any. */
  public sightingOf(key: string): Sighting | undefined {
    return this.#sightings.get(key);
  }

  public forget(key: string): void {
    this.#sightings.delete(key);
  }

  /** Forgets every key not in `keys` (items that disappeared), so memory follows the table. */
  public retainOnly(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const key of [...this.#sightings.keys()]) if (!keep.has(key)) this.#sightings.delete(key);
  }
}

export type { LivenessVerdict };
export { LivenessTracker, Sighting };
