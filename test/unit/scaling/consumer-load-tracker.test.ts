import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';
import {
  ConsumerLoadTracker,
  hashKeyOf,
  hotKeysFromInstances,
  type TrackedRecord,
} from '../../../core/scaling/index.js';

const SHARD_A = 'shardId-000000000000';
const SHARD_B = 'shardId-000000000001';

/** `n` records of `key` that arrived at `arrivalWallMs` (Lambda carries epoch seconds). */
function records(key: string, n: number, arrivalWallMs?: number): TrackedRecord[] {
  return Array.from({ length: n }, () => ({
    partitionKey: key,
    approximateArrivalTimestamp: arrivalWallMs === undefined ? undefined : arrivalWallMs / 1000,
  }));
}

function setup(options: ConstructorParameters<typeof ConsumerLoadTracker>[0] = {}) {
  const clock = new ManualClock();
  const tracker = new ConsumerLoadTracker({ clock, ...options });
  const batch = (shardId: string, batchRecords: readonly TrackedRecord[]) => {
    tracker.batchStarted();
    tracker.batchFinished(shardId, batchRecords);
  };
  return { clock, tracker, batch };
}

describe('Class: ConsumerLoadTracker', () => {
  describe('Method: constructor', () => {
    it('rejects settings that are not whole numbers in range, naming the value received', () => {
      expect(() => new ConsumerLoadTracker({ keysPerShard: 0 })).toThrow(OptionsError);
      expect(() => new ConsumerLoadTracker({ maxReportedKeys: 1.5 })).toThrow(/received 1.5/);
      expect(() => new ConsumerLoadTracker({ sketchCapacity: 0 })).toThrow(/capacity/);
    });
  });

  describe('Method: report', () => {
    it('reports records per second over the period since the previous report, then starts a new one', async () => {
      const { clock, tracker, batch } = setup();
      batch(SHARD_A, records('k1', 300));
      batch(SHARD_B, records('k2', 200));
      await clock.advance(5_000);

      const first = tracker.report();
      await clock.advance(2_000);
      const second = tracker.report();

      expect(first.load.eventsPerSecond).toBe(100);
      expect(second.load.eventsPerSecond).toBe(0);
    });

    it('reports the highest arrival lag of the shards read in the period, measured when each batch ended', async () => {
      const { clock, tracker, batch } = setup();
      const now = clock.wallNow();
      // Shard A's newest record arrived 1.5 s ago, shard B's 4 s ago: the lag is the worst shard's.
      batch(SHARD_A, [...records('a', 2, now - 9_000), ...records('a', 1, now - 1_500)]);
      batch(SHARD_B, records('b', 3, now - 4_000));

      const report = tracker.report();
      await clock.advance(1_000);
      const quiet = tracker.report();

      expect(report.load.lagMs).toBe(4_000);
      // No batch in the second period: lag not measured, rather than a stale or zero figure.
      expect(quiet.load).not.toHaveProperty('lagMs');
    });

    it('never reports a negative lag when the arrival clock runs ahead of this host', () => {
      const { clock, tracker, batch } = setup();
      batch(SHARD_A, records('a', 1, clock.wallNow() + 700));

      expect(tracker.report().load.lagMs).toBe(0);
    });

    it('counts batches in flight, failed ones leaving as finished ones do', () => {
      const { tracker } = setup();
      tracker.batchStarted();
      tracker.batchStarted();
      tracker.batchFinished(SHARD_A, records('a', 1));

      expect(tracker.report().load.inFlightBatches).toBe(1);
      tracker.batchFinished(SHARD_A, []);
      tracker.batchFinished(SHARD_A, []);
      expect(tracker.inFlightBatches).toBe(0);
    });

    it('reports each shard hot key with its shard, certain count and period, heaviest first', async () => {
      const { clock, tracker, batch } = setup({ keysPerShard: 2 });
      batch(SHARD_A, [...records('hot', 900), ...records('warm', 60), ...records('cool', 10)]);
      batch(SHARD_B, records('other', 40));
      await clock.advance(10_000);

      const { hotKeys } = tracker.report();

      expect(hotKeys).toEqual([
        { key: 'hot', count: 900, shardId: SHARD_A, periodMs: 10_000 },
        { key: 'warm', count: 60, shardId: SHARD_A, periodMs: 10_000 },
        { key: 'other', count: 40, shardId: SHARD_B, periodMs: 10_000 },
      ]);
      expect(tracker.report().hotKeys).toEqual([]);
    });

    it('keeps the hot key of a skewed shard and drops keys whose count is only sketch error', () => {
      const { tracker, batch } = setup({ sketchCapacity: 8, keysPerShard: 8 });
      // 1,000 distinct cold keys once each, interleaved with 500 records of one hot key.
      const mixed = Array.from({ length: 1_000 }, (_, i) => [
        { partitionKey: `cold-${i}` },
        ...(i % 2 === 0 ? [{ partitionKey: 'hot' }] : []),
      ]).flat();
      batch(SHARD_A, mixed);

      const { hotKeys } = tracker.report();

      expect(hotKeys[0]).toMatchObject({ key: 'hot', shardId: SHARD_A });
      // Its certain count is within total ÷ capacity below the truth, never above it.
      expect(hotKeys[0]!.count).toBeLessThanOrEqual(500);
      expect(hotKeys[0]!.count).toBeGreaterThan(500 - 1_500 / 8);
      expect(hotKeys.every((k) => k.key === 'hot' || k.count <= 1)).toBe(true);
    });

    it('caps the keys reported across shards at maxReportedKeys, keeping the heaviest', () => {
      const { tracker, batch } = setup({ keysPerShard: 3, maxReportedKeys: 4 });
      batch(SHARD_A, [...records('a1', 50), ...records('a2', 40), ...records('a3', 5)]);
      batch(SHARD_B, [...records('b1', 45), ...records('b2', 30), ...records('b3', 20)]);

      expect(tracker.report().hotKeys.map((k) => k.key)).toEqual(['a1', 'b1', 'a2', 'b2']);
    });
  });

  describe('Method: hotKeysOf', () => {
    it("gives a shard's heaviest keys with the hash keys Kinesis routes them by", () => {
      const { tracker, batch } = setup();
      batch(SHARD_A, [...records('order-1', 7), ...records('order-2', 3)]);

      expect(tracker.hotKeysOf(SHARD_A, 1)).toEqual([
        { key: 'order-1', count: 7, error: 0, hashKey: hashKeyOf('order-1') },
      ]);
      expect(tracker.hotKeysOf(SHARD_B)).toEqual([]);
    });
  });

  describe('Method: drainHotKeys', () => {
    it('starts a new hot-key period without touching the load period', async () => {
      const { clock, tracker, batch } = setup();
      batch(SHARD_A, records('k', 40));
      await clock.advance(2_000);

      const drained = tracker.drainHotKeys();
      await clock.advance(2_000);
      const report = tracker.report();

      expect(drained).toEqual([{ key: 'k', count: 40, shardId: SHARD_A, periodMs: 2_000 }]);
      expect(report.hotKeys).toEqual([]);
      expect(report.load.eventsPerSecond).toBe(10);
    });
  });
});

describe('Function: hotKeysFromInstances', () => {
  it('turns each reported count into a rate over its own period, adding rates of one key across instances', () => {
    const rates = hotKeysFromInstances(
      [
        { hotKeys: [{ key: 'hot', count: 5_000, shardId: SHARD_A, periodMs: 5_000 }] },
        // An environment idle between batches: a long period, not an inflated rate.
        { hotKeys: [{ key: 'hot', count: 6_000, shardId: SHARD_A, periodMs: 60_000 }] },
        // No period: the heartbeat interval.
        { hotKeys: [{ key: 'cold', count: 100 }] },
      ],
      { heartbeatIntervalMs: 10_000 },
    );

    expect(rates).toEqual([
      { partitionKey: 'hot', hashKey: hashKeyOf('hot'), recordsPerSecond: 1_100 },
      { partitionKey: 'cold', hashKey: hashKeyOf('cold'), recordsPerSecond: 10 },
    ]);
  });
});
