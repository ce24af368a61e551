import { OptionsError } from '../errors.js';
import { HeavyHitters } from './heavy-hitters.js';
import type { MetricsRequest, MetricsSource } from './metrics-source.js';
import type { KeyRate, MetricPoint, MetricsHistory, ShardLoad } from './model.js';

interface InMemoryMetricsSourceOptions {
  /** Length of one period. @default 60_000 (CloudWatch's resolution) */
  readonly periodMs?: number;
  /** How long periods are kept. @default 7_200_000 (2 h) */
  readonly retentionMs?: number;
  /** Periods whose key counts make up the hot-key rates. @default 5 */
  readonly hotKeyPeriods?: number;
  /** Counters of each period's sketch. @default 64 */
  readonly sketchCapacity?: number;
}

interface Bucket {
  readonly atWallMs: number;
  readonly shards: Map<string, { records: number; bytes: number; throttled: number }>;
  iteratorAgeMs: number | undefined;
  consumerErrors: number;
  consumerThrottles: number;
  consumerConcurrency: number | undefined;
  readonly sketch: HeavyHitters;
  readonly keyBytes: Map<string, number>;
}

/**
 * Metrics the local runtime records as it runs (puts per shard from PutRecords responses, the consumer's lag,
 * the partition keys it reads), kept per period in memory. Also the twin of the CloudWatch source in tests:
 * `addPoint` takes ready-made points.
 *
 * @example
 * ```ts
 * const metrics = new InMemoryMetricsSource({ periodMs: 10_000 });
 * metrics.recordWrites('shardId-000000000000', { records: 500, bytes: 512_000 }, Date.now());
 * metrics.recordIteratorAge(1_200, Date.now());
 * const history = await metrics.fetch({ shards, nowWallMs: Date.now(), windowMs: 600_000 });
 * ```
 */
class InMemoryMetricsSource implements MetricsSource {
  readonly #periodMs: number;
  readonly #retentionMs: number;
  readonly #hotKeyPeriods: number;
  readonly #sketchCapacity: number;
  readonly #buckets = new Map<number, Bucket>();
  readonly #points: MetricPoint[] = [];
  /** First period each shard was written in: a shard is listed (at 0 if idle) only from then on. */
  readonly #firstSeen = new Map<string, number>();
  #hotKeys: readonly KeyRate[] | undefined;

  public constructor(options: InMemoryMetricsSourceOptions = {}) {
    this.#periodMs = options.periodMs ?? 60_000;
    if (!Number.isInteger(this.#periodMs) || this.#periodMs < 1_000)
      throw new OptionsError('periodMs', this.#periodMs, 'must be a whole number of milliseconds ≥ 1000');
    this.#retentionMs = options.retentionMs ?? 7_200_000;
    this.#hotKeyPeriods = options.hotKeyPeriods ?? 5;
    this.#sketchCapacity = options.sketchCapacity ?? 64;
  }

  public get periodMs(): number {
    return this.#periodMs;
  }

  /** Counts records written to a shard (accepted, and throttled: refused for lack of capacity). */
  public recordWrites(
    shardId: string,
    counts: { readonly records: number; readonly bytes: number; readonly throttled?: number },
    atWallMs: number,
  ): void {
    const bucket = this.#bucket(atWallMs);
    const shard = bucket.shards.get(shardId) ?? { records: 0, bytes: 0, throttled: 0 };
    shard.records += counts.records;
    shard.bytes += counts.bytes;
    shard.throttled += counts.throttled ?? 0;
    bucket.shards.set(shardId, shard);
    const seen = this.#firstSeen.get(shardId);
    if (seen === undefined || bucket.atWallMs < seen) this.#firstSeen.set(shardId, bucket.atWallMs);
  }

  /** The consumer's lag as it processes (kept: the period's maximum). */
  public recordIteratorAge(ms: number, atWallMs: number): void {
    const bucket = this.#bucket(atWallMs);
    bucket.iteratorAgeMs = Math.max(bucket.iteratorAgeMs ?? 0, ms);
  }

  public recordConsumer(
    figures: { readonly errors?: number; readonly throttles?: number; readonly concurrency?: number },
    atWallMs: number,
  ): void {
    const bucket = this.#bucket(atWallMs);
    bucket.consumerErrors += figures.errors ?? 0;
    bucket.consumerThrottles += figures.throttles ?? 0;
    if (figures.concurrency !== undefined)
      bucket.consumerConcurrency = Math.max(bucket.consumerConcurrency ?? 0, figures.concurrency);
  }

  /** One record (or `weight` records) of a partition key, for the hot-key rates. */
  public recordPartitionKey(partitionKey: string, atWallMs: number, weight = 1, bytes = 0): void {
    const bucket = this.#bucket(atWallMs);
    bucket.sketch.offer(partitionKey, weight);
    if (bytes > 0) bucket.keyBytes.set(partitionKey, (bucket.keyBytes.get(partitionKey) ?? 0) + bytes);
  }

  /** A ready-made point (tests, replays). Points added this way are returned as they are. */
  public addPoint(point: MetricPoint): void {
    this.#points.push(point);
  }

  /** Fixed hot-key rates, replacing the ones counted from recorded keys. */
  public setHotKeys(keys: readonly KeyRate[]): void {
    this.#hotKeys = keys;
  }

  public async fetch(request: MetricsRequest): Promise<MetricsHistory> {
    const from = request.nowWallMs - request.windowMs - this.#periodMs;
    this.#evict(request.nowWallMs);
    const complete = [...this.#buckets.values()]
      .filter((b) => b.atWallMs >= from && b.atWallMs + this.#periodMs <= request.nowWallMs)
      .sort((a, b) => a.atWallMs - b.atWallMs);
    const points = [
      ...this.#points.filter((p) => p.atWallMs >= from && p.atWallMs + p.periodMs <= request.nowWallMs),
      ...this.#fill(complete, request).map((b) => this.#toPoint(b, request)),
    ].sort((a, b) => a.atWallMs - b.atWallMs);
    return { points, hotKeys: this.#hotKeys ?? this.#hotKeyRates(complete) };
  }

  /** Periods with no record at all between the first and the last are quiet periods: zero, not missing. */
  #fill(buckets: Bucket[], request: MetricsRequest): Bucket[] {
    if (buckets.length === 0) return buckets;
    const filled: Bucket[] = [];
    const last = Math.floor((request.nowWallMs - this.#periodMs) / this.#periodMs) * this.#periodMs;
    for (let t = buckets[0]!.atWallMs; t <= last; t += this.#periodMs)
      filled.push(this.#buckets.get(t) ?? this.#emptyBucket(t));
    return filled;
  }

  #toPoint(bucket: Bucket, request: MetricsRequest): MetricPoint {
    const seconds = this.#periodMs / 1000;
    const shards: Record<string, ShardLoad> = {};
    // An open shard appears in every period since it was first written: no writes is a figure (0), not a gap.
    for (const shard of request.shards) {
      const seen = this.#firstSeen.get(shard.shardId);
      if (seen !== undefined && seen <= bucket.atWallMs)
        shards[shard.shardId] = { recordsPerSecond: 0, bytesPerSecond: 0 };
    }
    for (const [shardId, c] of bucket.shards)
      shards[shardId] = {
        recordsPerSecond: c.records / seconds,
        bytesPerSecond: c.bytes / seconds,
        throttledPerSecond: c.throttled / seconds,
      };
    return {
      atWallMs: bucket.atWallMs,
      periodMs: this.#periodMs,
      shards,
      iteratorAgeMs: bucket.iteratorAgeMs,
      consumerErrors: bucket.consumerErrors,
      consumerThrottles: bucket.consumerThrottles,
      consumerConcurrency: bucket.consumerConcurrency,
    };
  }

  #hotKeyRates(buckets: readonly Bucket[]): KeyRate[] {
    const recent = buckets.slice(-this.#hotKeyPeriods);
    if (recent.length === 0) return [];
    const merged = new HeavyHitters({ capacity: this.#sketchCapacity });
    const bytes = new Map<string, number>();
    for (const b of recent) {
      merged.merge(b.sketch);
      for (const [k, v] of b.keyBytes) bytes.set(k, (bytes.get(k) ?? 0) + v);
    }
    const seconds = (recent.length * this.#periodMs) / 1000;
    return merged.top().map((h) => ({
      partitionKey: h.key,
      hashKey: h.hashKey,
      recordsPerSecond: h.count / seconds,
      bytesPerSecond: bytes.has(h.key) ? bytes.get(h.key)! / seconds : undefined,
    }));
  }

  #bucket(atWallMs: number): Bucket {
    const start = Math.floor(atWallMs / this.#periodMs) * this.#periodMs;
    let bucket = this.#buckets.get(start);
    if (bucket === undefined) {
      bucket = this.#emptyBucket(start);
      this.#buckets.set(start, bucket);
    }
    return bucket;
  }

  #emptyBucket(atWallMs: number): Bucket {
    return {
      atWallMs,
      shards: new Map(),
      iteratorAgeMs: undefined,
      consumerErrors: 0,
      consumerThrottles: 0,
      consumerConcurrency: undefined,
      sketch: new HeavyHitters({ capacity: this.#sketchCapacity }),
      keyBytes: new Map(),
    };
  }

  #evict(nowWallMs: number): void {
    for (const start of this.#buckets.keys())
      if (start < nowWallMs - this.#retentionMs) this.#buckets.delete(start);
  }
}

export type { InMemoryMetricsSourceOptions };
export { InMemoryMetricsSource };
