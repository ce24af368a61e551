import { OptionsError } from '../errors.js';
import { hashKeyOf } from './hash-key.js';

/** One monitored key of a sketch. `count − error ≤ true count ≤ count`. */
interface HeavyHitter {
  readonly key: string;
  /** Estimated weight (records) seen for the key; never below the true figure. */
  readonly count: number;
  /** Most the estimate can exceed the true figure by. */
  readonly error: number;
  /** Where Kinesis routes the key: MD5 of the key as a 128-bit integer. */
  readonly hashKey: bigint;
}

interface HeavyHittersOptions {
  /** Keys monitored at once; the error of any estimate is at most total ÷ capacity. @default 64 */
  readonly capacity?: number;
}

interface Counter {
  count: number;
  error: number;
}

/**
 * A Space-Saving sketch (Metwally, Agrawal, El Abbadi 2005) of partition keys: a fixed number of counters,
 * each key's estimate at most `total / capacity` above its true count, and every key heavier than
 * `total / capacity` guaranteed to be monitored. Consumers keep one per instance and report its top keys with
 * their heartbeat; the planner uses them to place a split at the load median of a shard and to tell a single
 * hot partition key (which no split can fix) from a hot shard.
 *
 * @example
 * ```ts
 * const sketch = new HeavyHitters({ capacity: 64 });
 * for (const record of batch) sketch.offer(record.partitionKey);
 * const hot = sketch.top(10); // [{ key, count, error, hashKey }, …]
 * ```
 */
class HeavyHitters {
  readonly #capacity: number;
  readonly #counters = new Map<string, Counter>();
  #total = 0;

  public constructor(options: HeavyHittersOptions = {}) {
    const capacity = options.capacity ?? 64;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000)
      throw new OptionsError('capacity', capacity, 'must be a whole number from 1 to 100,000');
    this.#capacity = capacity;
  }

  public get capacity(): number {
    return this.#capacity;
  }

  /** Total weight offered since the last reset. */
  public get total(): number {
    return this.#total;
  }

  /** Most any estimate can exceed the true count by: total ÷ capacity. */
  public get maxError(): number {
    return this.#total / this.#capacity;
  }

  /** Counts `weight` records (or bytes) of `key`. */
  public offer(key: string, weight = 1): void {
    if (!(weight > 0)) return;
    this.#total += weight;
    const counter = this.#counters.get(key);
    if (counter !== undefined) {
      counter.count += weight;
      return;
    }
    if (this.#counters.size < this.#capacity) {
      this.#counters.set(key, { count: weight, error: 0 });
      return;
    }
    // Replace the smallest counter: the newcomer inherits its count as the possible overestimate.
    let minKey = '';
    let min: Counter | undefined;
    for (const [k, c] of this.#counters)
      if (min === undefined || c.count < min.count) {
        min = c;
        minKey = k;
      }
    this.#counters.delete(minKey);
    this.#counters.set(key, { count: min!.count + weight, error: min!.count });
  }

  /** The `n` heaviest monitored keys, heaviest first. */
  public top(n = this.#capacity): HeavyHitter[] {
    return [...this.#counters.entries()]
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([key, c]) => ({ key, count: c.count, error: c.error, hashKey: hashKeyOf(key) }));
  }

  /**
   * Keys whose true count is certainly above `threshold` (their lower bound `count − error` is): the only
   * ones safe to call hot.
   */
  public certainAbove(threshold: number): HeavyHitter[] {
    return this.top().filter((h) => h.count - h.error > threshold);
  }

  /**
   * Adds another sketch (of another instance or period) into this one. The result keeps the Space-Saving
   * bound against the combined stream: each estimate is at most (total of both) ÷ capacity too high.
   */
  public merge(other: HeavyHitters | readonly { readonly key: string; readonly count: number }[]): void {
    const entries = other instanceof HeavyHitters ? other.top() : other;
    const otherTotal =
      other instanceof HeavyHitters ? other.total : entries.reduce((sum, e) => sum + e.count, 0);
    const otherFloor =
      other instanceof HeavyHitters && entries.length >= other.capacity ? other.#minCount() : 0;
    const ownFloor = this.#counters.size >= this.#capacity ? this.#minCount() : 0;
    const seen = new Set<string>();
    for (const entry of entries) {
      seen.add(entry.key);
      const own = this.#counters.get(entry.key);
      const error = 'error' in entry ? Number(entry.error) : 0;
      if (own !== undefined) {
        own.count += entry.count;
        own.error += error;
      } else this.#counters.set(entry.key, { count: entry.count + ownFloor, error: error + ownFloor });
    }
    // Keys the other sketch did not monitor may have had up to its smallest count there.
    for (const [key, c] of this.#counters)
      if (!seen.has(key)) {
        c.count += otherFloor;
        c.error += otherFloor;
      }
    this.#total += otherTotal;
    if (this.#counters.size > this.#capacity) {
      const keep = this.top(this.#capacity);
      const kept = new Map(keep.map((h) => [h.key, { count: h.count, error: h.error }]));
      this.#counters.clear();
      for (const [k, c] of kept) this.#counters.set(k, c);
    }
  }

  /** The top keys as an instance heartbeat carries them (`{ key, count }`), then starts counting afresh. */
  public drain(n = 20): { key: string; count: number }[] {
    const top = this.top(n).map((h) => ({ key: h.key, count: h.count }));
    this.reset();
    return top;
  }

  public reset(): void {
    this.#counters.clear();
    this.#total = 0;
  }

  #minCount(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const c of this.#counters.values()) min = Math.min(min, c.count);
    return Number.isFinite(min) ? min : 0;
  }
}

export type { HeavyHitter, HeavyHittersOptions };
export { HeavyHitters };
