import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../../core/errors.js';
import { hashKeyOf, InMemoryMetricsSource } from '../../../core/scaling/index.js';
import { evenShards, MINUTE, NOW, shardId } from '../../helpers/scaling.js';

describe('Class: InMemoryMetricsSource', () => {
  it('turns recorded writes into per-second rates of complete periods only', async () => {
    const source = new InMemoryMetricsSource({ periodMs: MINUTE });
    source.recordWrites(
      shardId(0),
      { records: 30_000, bytes: 30_720_000, throttled: 600 },
      NOW - 2 * MINUTE + 5_000,
    );
    source.recordWrites(shardId(0), { records: 30_000, bytes: 30_720_000 }, NOW - 2 * MINUTE + 50_000);
    source.recordWrites(shardId(0), { records: 6_000, bytes: 6_144_000 }, NOW - MINUTE + 1_000);
    source.recordWrites(shardId(0), { records: 999, bytes: 1 }, NOW + 1_000); // the running period: not yet
    source.recordIteratorAge(4_000, NOW - 2 * MINUTE + 1_000);
    source.recordIteratorAge(9_000, NOW - 2 * MINUTE + 2_000);
    source.recordConsumer({ errors: 2, throttles: 1, concurrency: 8 }, NOW - MINUTE);

    const { points } = await source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: 10 * MINUTE });

    expect(points).toEqual([
      {
        atWallMs: NOW - 2 * MINUTE,
        periodMs: MINUTE,
        shards: {
          [shardId(0)]: { recordsPerSecond: 1000, bytesPerSecond: 1_024_000, throttledPerSecond: 10 },
        },
        iteratorAgeMs: 9_000,
        consumerErrors: 0,
        consumerThrottles: 0,
        consumerConcurrency: undefined,
      },
      {
        atWallMs: NOW - MINUTE,
        periodMs: MINUTE,
        shards: { [shardId(0)]: { recordsPerSecond: 100, bytesPerSecond: 102_400, throttledPerSecond: 0 } },
        iteratorAgeMs: undefined,
        consumerErrors: 2,
        consumerThrottles: 1,
        consumerConcurrency: 8,
      },
    ]);
  });

  it('lists an idle open shard at zero, but only from the first period it was written in', async () => {
    const source = new InMemoryMetricsSource({ periodMs: MINUTE });
    source.recordWrites(shardId(0), { records: 60, bytes: 60 }, NOW - 3 * MINUTE);
    source.recordWrites(shardId(1), { records: 60, bytes: 60 }, NOW - 2 * MINUTE);

    const { points } = await source.fetch({ shards: evenShards(3), nowWallMs: NOW, windowMs: 10 * MINUTE });

    expect(points.map((p) => Object.keys(p.shards).sort())).toEqual([
      [shardId(0)],
      [shardId(0), shardId(1)],
      [shardId(0), shardId(1)],
    ]);
    expect(points[2]!.shards[shardId(1)]).toEqual({ recordsPerSecond: 0, bytesPerSecond: 0 });
  });

  it('estimates partition-key rates from the sketches of the recent periods', async () => {
    const source = new InMemoryMetricsSource({ periodMs: MINUTE, hotKeyPeriods: 2 });
    source.recordPartitionKey('order-1', NOW - 3 * MINUTE, 6_000);
    source.recordPartitionKey('order-1', NOW - 2 * MINUTE, 6_000, 6_144_000);
    source.recordPartitionKey('order-1', NOW - MINUTE, 12_000, 12_288_000);
    source.recordPartitionKey('order-2', NOW - MINUTE, 60);

    const { hotKeys } = await source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: 10 * MINUTE });

    expect(hotKeys).toEqual([
      {
        partitionKey: 'order-1',
        hashKey: hashKeyOf('order-1'),
        recordsPerSecond: 150,
        bytesPerSecond: 153_600,
      },
      {
        partitionKey: 'order-2',
        hashKey: hashKeyOf('order-2'),
        recordsPerSecond: 0.5,
        bytesPerSecond: undefined,
      },
    ]);
  });

  it('returns ready-made points and fixed hot keys as they are', async () => {
    const source = new InMemoryMetricsSource();
    const point = { atWallMs: NOW - MINUTE, periodMs: MINUTE, shards: {}, iteratorAgeMs: 5 };
    source.addPoint(point);
    source.setHotKeys([]);

    expect(await source.fetch({ shards: [], nowWallMs: NOW, windowMs: MINUTE })).toEqual({
      points: [point],
      hotKeys: [],
    });
  });

  it('rejects a period under one second', () => {
    expect(() => new InMemoryMetricsSource({ periodMs: 10 })).toThrow(OptionsError);
  });
});
