import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { messageOf } from '../errors.js';
import { ScalingIoError } from './errors.js';
import { HeavyHitters } from './heavy-hitters.js';
import type { MetricsRequest, MetricsSource } from './metrics-source.js';
import type { KeyRate, MetricPoint, MetricsHistory, ShardLoad } from './model.js';

interface StreamSampleMetricsSourceOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** @default 10_000 */
  readonly periodMs?: number;
  /** Read at most this far back, whatever window is asked for (reading is not free). @default 600_000 */
  readonly maxWindowMs?: number;
  /** Stop reading a shard after this many records. @default 100_000 */
  readonly maxRecordsPerShard?: number;
  /** The consumer's lag now (for example the highest `lagMs` of live instances' heartbeats). */
  readonly iteratorAgeMs?: () => Promise<number | undefined>;
  /** @default 64 */
  readonly sketchCapacity?: number;
}

/**
 * Load measured by reading the stream itself: every open shard from the start of the window (an
 * AT_TIMESTAMP iterator) to its tip, counting records and bytes per period by arrival time and the partition
 * keys in a heavy-hitters sketch. For the local pipeline and `cdcp scale plan`, where there is no CloudWatch;
 * kinesalite and kinesis-mock both serve it. It sees accepted writes only (no throttling figures).
 *
 * @example
 * ```ts
 * const source = new StreamSampleMetricsSource({ kinesis, streamName, iteratorAgeMs: async () => lagFromInstances(await registry.listLive()) });
 * ```
 */
class StreamSampleMetricsSource implements MetricsSource {
  readonly #o: StreamSampleMetricsSourceOptions;
  readonly #periodMs: number;

  public constructor(options: StreamSampleMetricsSourceOptions) {
    this.#o = options;
    this.#periodMs = options.periodMs ?? 10_000;
  }

  public async fetch(request: MetricsRequest): Promise<MetricsHistory> {
    const windowMs = Math.min(request.windowMs, this.#o.maxWindowMs ?? 600_000);
    const end = Math.floor(request.nowWallMs / this.#periodMs) * this.#periodMs;
    const start = end - Math.ceil(windowMs / this.#periodMs) * this.#periodMs;
    const periods = (end - start) / this.#periodMs;
    const counts = new Map<string, { records: number[]; bytes: number[] }>();
    const sketch = new HeavyHitters({ capacity: this.#o.sketchCapacity ?? 64 });
    const keyBytes = new Map<string, number>();
    for (const shard of request.shards) {
      const perShard = {
        records: new Array<number>(periods).fill(0),
        bytes: new Array<number>(periods).fill(0),
      };
      counts.set(shard.shardId, perShard);
      await this.#readShard(shard.shardId, start, end, (arrivalMs, key, size) => {
        const i = Math.floor((arrivalMs - start) / this.#periodMs);
        if (i < 0 || i >= periods) return;
        perShard.records[i]! += 1;
        perShard.bytes[i]! += size;
        sketch.offer(key);
        keyBytes.set(key, (keyBytes.get(key) ?? 0) + size);
      });
    }
    const seconds = this.#periodMs / 1000;
    const age = this.#o.iteratorAgeMs === undefined ? undefined : await this.#o.iteratorAgeMs();
    const points: MetricPoint[] = [];
    for (let i = 0; i < periods; i++) {
      const shards: Record<string, ShardLoad> = {};
      for (const [shardId, c] of counts)
        shards[shardId] = {
          recordsPerSecond: c.records[i]! / seconds,
          bytesPerSecond: c.bytes[i]! / seconds,
        };
      points.push({
        atWallMs: start + i * this.#periodMs,
        periodMs: this.#periodMs,
        shards,
        // The lag is known now only; it stands for the newest period.
        iteratorAgeMs: i === periods - 1 ? age : undefined,
      });
    }
    const windowSeconds = (end - start) / 1000;
    const hotKeys: KeyRate[] = sketch.top().map((h) => ({
      partitionKey: h.key,
      hashKey: h.hashKey,
      recordsPerSecond: h.count / windowSeconds,
      bytesPerSecond: (keyBytes.get(h.key) ?? 0) / windowSeconds,
    }));
    return { points, hotKeys };
  }

  async #readShard(
    shardId: string,
    startMs: number,
    endMs: number,
    onRecord: (arrivalMs: number, partitionKey: string, bytes: number) => void,
  ): Promise<void> {
    const limit = this.#o.maxRecordsPerShard ?? 100_000;
    try {
      let { ShardIterator: iterator } = await this.#o.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: this.#o.streamName,
          ShardId: shardId,
          ShardIteratorType: 'AT_TIMESTAMP',
          Timestamp: new Date(startMs),
        }),
      );
      let read = 0;
      while (iterator !== undefined && read < limit) {
        const out = await this.#o.kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
        );
        for (const r of out.Records ?? []) {
          const arrival = r.ApproximateArrivalTimestamp?.getTime() ?? endMs;
          if (arrival >= endMs) return;
          onRecord(
            arrival,
            r.PartitionKey ?? '',
            (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? ''),
          );
          read += 1;
        }
        if ((out.Records ?? []).length === 0 && (out.MillisBehindLatest ?? 0) === 0) return;
        iterator = out.NextShardIterator;
      }
    } catch (error) {
      throw new ScalingIoError(
        'read shard for metrics',
        `${shardId} of ${this.#o.streamName}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

export type { StreamSampleMetricsSourceOptions };
export { StreamSampleMetricsSource };
