import type { Clock } from '../coordination/clock.js';
import type { HotKey, InstanceLoad } from '../coordination/records.js';
import { OptionsError } from '../errors.js';
import { type HeavyHitter, HeavyHitters } from './heavy-hitters.js';

/** The part of a Kinesis record the tracker reads (Lambda's `event.Records[i].kinesis` has both). */
interface TrackedRecord {
  readonly partitionKey: string;
  /** Epoch **seconds** (with a fraction), as Lambda's Kinesis event carries it. */
  readonly approximateArrivalTimestamp?: number;
}

interface ConsumerLoadTrackerOptions {
  /** @default systemClock-like: `performance.now()` for periods, `Date.now()` for lag */
  readonly clock?: Pick<Clock, 'now' | 'wallNow'>;
  /** Counters of each shard's Space-Saving sketch; an estimate is at most records ÷ this too high. @default 64 */
  readonly sketchCapacity?: number;
  /** Keys reported per shard (the heaviest). @default 8 */
  readonly keysPerShard?: number;
  /**
   * Keys reported in all, the heaviest across shards: bounds the heartbeat item (each key costs ~60 bytes,
   * and a write costs one unit per started KiB). @default 20
   */
  readonly maxReportedKeys?: number;
}

/** What {@link ConsumerLoadTracker.report} returns: the load and hot keys of a heartbeat (`HeartbeatReport`). */
interface ConsumerLoadReport {
  readonly load: InstanceLoad;
  readonly hotKeys: HotKey[];
}

interface ShardWindow {
  readonly sketch: HeavyHitters;
  /** Lag of the newest record of the shard's last batch, in this period. */
  lagMs: number | undefined;
}

/**
 * What one consumer instance tells the cluster manager about its load, fed once per batch: per shard a
 * heavy-hitters sketch of partition keys (so the manager sees where a shard's load sits in its hash range and
 * can tell one hot key from a hot shard), records per second, arrival lag and batches in flight.
 *
 * Each {@link report} covers the period since the previous one and starts a new one, so the counts it returns
 * are rates over `periodMs` (carried by every hot key: a Lambda environment that sat idle between batches
 * reports a long period, not an inflated rate).
 *
 * @example
 * ```ts
 * const tracker = new ConsumerLoadTracker();
 * tracker.batchStarted();
 * // … process the batch …
 * tracker.batchFinished('shardId-000000000003', event.Records.map((r) => r.kinesis));
 * await registry.heartbeatIfDue(instanceId, () => ({ ...tracker.report(), configVersion }));
 * ```
 */
class ConsumerLoadTracker {
  readonly #clock: Pick<Clock, 'now' | 'wallNow'>;
  readonly #sketchCapacity: number;
  readonly #keysPerShard: number;
  readonly #maxReportedKeys: number;
  readonly #shards = new Map<string, ShardWindow>();
  #periodStartMs: number;
  #hotKeysSinceMs: number;
  #records = 0;
  #inFlight = 0;

  public constructor(options: ConsumerLoadTrackerOptions = {}) {
    this.#clock = options.clock ?? { now: () => performance.now(), wallNow: () => Date.now() };
    this.#sketchCapacity = options.sketchCapacity ?? 64;
    this.#keysPerShard = count('keysPerShard', options.keysPerShard ?? 8, 1, 1_000);
    this.#maxReportedKeys = count('maxReportedKeys', options.maxReportedKeys ?? 20, 0, 1_000);
    // HeavyHitters validates its capacity; fail here, at construction, rather than at the first batch.
    new HeavyHitters({ capacity: this.#sketchCapacity });
    this.#periodStartMs = this.#clock.now();
    this.#hotKeysSinceMs = this.#periodStartMs;
  }

  /** Batches started and not yet finished. */
  public get inFlightBatches(): number {
    return this.#inFlight;
  }

  /** A batch was handed to the handler. */
  public batchStarted(): void {
    this.#inFlight++;
  }

  /**
   * A batch of `shardId` ended (processed, or failed: its records arrived all the same). Counts its records
   * in the shard's sketch and takes the arrival lag of its newest record.
   */
  public batchFinished(shardId: string, records: readonly TrackedRecord[]): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (records.length === 0) return;
    let window = this.#shards.get(shardId);
    if (window === undefined) {
      window = { sketch: new HeavyHitters({ capacity: this.#sketchCapacity }), lagMs: undefined };
      this.#shards.set(shardId, window);
    }
    let newestSeconds: number | undefined;
    for (const record of records) {
      window.sketch.offer(record.partitionKey);
      const arrival = record.approximateArrivalTimestamp;
      if (arrival !== undefined && (newestSeconds === undefined || arrival > newestSeconds))
        newestSeconds = arrival;
    }
    this.#records += records.length;
    // Measured when the batch is done: how far behind arrival the consumer applied it (iterator age plus
    // processing time). Clocks of Kinesis and this host differ a little: never below 0.
    if (newestSeconds !== undefined)
      window.lagMs = Math.max(0, Math.round(this.#clock.wallNow() - newestSeconds * 1000));
  }

  /** Top keys of one shard's sketch in the current period, with their hash keys (for tests and the local view). */
  public hotKeysOf(shardId: string, n = this.#keysPerShard): HeavyHitter[] {
    return this.#shards.get(shardId)?.sketch.top(n) ?? [];
  }

  /**
   * The heartbeat's load and hot keys for the period since the previous report, then starts a new period.
   * `lagMs` is the highest lag of the shards that finished a batch in the period (absent when none did).
   */
  public report(): ConsumerLoadReport {
    const now = this.#clock.now();
    const seconds = Math.max(0.001, (now - this.#periodStartMs) / 1000);
    const lags = [...this.#shards.values()]
      .map((w) => w.lagMs)
      .filter((lag): lag is number => lag !== undefined);
    const load: InstanceLoad = {
      eventsPerSecond: Math.round((this.#records / seconds) * 10) / 10,
      inFlightBatches: this.#inFlight,
      ...(lags.length > 0 ? { lagMs: Math.max(...lags) } : {}),
    };
    for (const window of this.#shards.values()) window.lagMs = undefined;
    this.#records = 0;
    this.#periodStartMs = now;
    return { load, hotKeys: this.drainHotKeys() };
  }

  /**
   * The hot keys counted since the previous drain (or report), heaviest first, each with its shard and the
   * period its count covers; then forgets them. A key is reported with the count it certainly reached
   * (`count − error` of the sketch), so a shard with many keys of even load reports none rather than noise.
   */
  public drainHotKeys(): HotKey[] {
    const now = this.#clock.now();
    const periodMs = Math.max(1, Math.round(now - this.#hotKeysSinceMs));
    const keys: HotKey[] = [];
    for (const [shardId, window] of this.#shards) {
      // A shard not read in the period is forgotten: a Lambda environment moves between shards over its life.
      if (window.sketch.total === 0 && window.lagMs === undefined) this.#shards.delete(shardId);
      for (const hit of window.sketch.top(this.#keysPerShard)) {
        const certain = hit.count - hit.error;
        if (certain > 0) keys.push({ key: hit.key, count: certain, shardId, periodMs });
      }
      window.sketch.reset();
    }
    this.#hotKeysSinceMs = now;
    return keys
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, this.#maxReportedKeys);
  }
}

function count(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new OptionsError(option, value, `must be a whole number from ${min} to ${max}`);
  return value;
}

export type { ConsumerLoadReport, ConsumerLoadTrackerOptions, TrackedRecord };
export { ConsumerLoadTracker };
