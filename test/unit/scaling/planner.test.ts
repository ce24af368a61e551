import { describe, expect, it } from 'vitest';
import {
  checkAction,
  hashKeyOf,
  type KeyRate,
  type OpenShard,
  type Plan,
  type PlannedAction,
  planScaling,
  width,
} from '../../../core/scaling/index.js';
import {
  evenShards,
  input,
  load,
  MINUTE,
  NOW,
  points,
  shardId,
  updateShardCountCalls,
  view,
} from '../../helpers/scaling.js';

const kinds = (plan: Plan) => plan.actions.map((a) => a.kind);
const only = <K extends PlannedAction['kind']>(plan: Plan, kind: K) =>
  plan.actions.find((a) => a.kind === kind) as Extract<PlannedAction, { kind: K }> | undefined;
const rules = (plan: Plan) => plan.blocked.map((b) => b.rule);

/** A partition key whose hash lands `fraction` (±2%) of the way into `shard`'s range. */
function keyInto(shard: OpenShard, fraction: number): { key: string; hash: bigint } {
  for (let i = 0; i < 1_000_000; i++) {
    const key = `order-${i}`;
    const hash = hashKeyOf(key);
    if (hash < shard.range.start || hash > shard.range.end) continue;
    const at = Number(hash - shard.range.start) / Number(width(shard.range));
    if (Math.abs(at - fraction) < 0.02) return { key, hash };
  }
  throw new Error('no key found');
}

describe('Function: planScaling', () => {
  describe('within target', () => {
    it('plans nothing while demand stays between the scale-in and scale-out thresholds', () => {
      const shards = evenShards(4);

      const plan = planScaling(
        input(
          view(shards),
          points(shards, 35, () => 0.5),
        ),
      );

      expect(plan.actions).toEqual([]);
      expect(plan.reasons).toEqual(['within target: nothing to do']);
      expect(plan.summary).toMatchObject({
        openShards: 4,
        demandShards: 2,
        utilization: 0.5,
        updateShardCountCallsLeft: 10,
      });
    });

    it('does not reshard on stale or missing metrics', () => {
      const shards = evenShards(4);
      const stale = points(
        shards,
        10,
        () => 1.0,
        () => ({}),
        NOW - 10 * MINUTE,
      );

      const fromStale = planScaling(input(view(shards), stale));
      const fromNothing = planScaling(input(view(shards), []));

      expect(kinds(fromStale)).toEqual([]);
      expect(rules(fromStale)).toContain('fresh-metrics');
      expect(kinds(fromNothing)).toEqual([]);
      expect(fromNothing.reasons[0]).toMatch(/no metrics yet/);
    });
  });

  describe('scale out', () => {
    it('waits until demand has been over target for the whole sustained window', () => {
      const shards = evenShards(4);
      const fourMinutes = points(shards, 35, (_, ago) => (ago < 4 ? 0.8 : 0.6));
      const fiveMinutes = points(shards, 35, (_, ago) => (ago < 5 ? 0.8 : 0.6));

      const early = planScaling(input(view(shards), fourMinutes));
      const sustained = planScaling(input(view(shards), fiveMinutes));

      expect(kinds(early)).toEqual([]);
      // 3.2 shard-units need 5 shards at 70%: one more shard, so one split (no UpdateShardCount quota spent).
      expect(only(sustained, 'split-shard')).toMatchObject({
        shardId: shardId(0),
        newStartingHashKey: (1n << 125n).toString(),
        lowerShare: 0.5,
        upperShare: 0.5,
      });
    });

    it('scales out at once, doubling, when writes were throttled in the last two periods', () => {
      const shards = evenShards(4);
      const metrics = points(shards, 35, (_, ago) => (ago < 2 ? load(1.0, 400) : 0.6));

      const plan = planScaling(input(view(shards), metrics));

      expect(only(plan, 'update-shard-count')).toMatchObject({ fromShards: 4, toShards: 8 });
      expect(plan.reasons.join(' ')).toMatch(/writes throttled in the last 2 periods/);
    });

    it('makes broad growth one UpdateShardCount in 25% steps, never more than double', () => {
      const shards = evenShards(4);

      const modest = planScaling(
        input(
          view(shards),
          points(shards, 35, () => 0.95),
        ),
      );
      const huge = planScaling(
        input(
          view(shards),
          points(shards, 35, () => load(1.0, 1000)),
        ),
      );

      // 3.8 shard-units need 6 shards at 70%: 4 → 6 is the 50% step.
      expect(only(modest, 'update-shard-count')).toMatchObject({ fromShards: 4, toShards: 6 });
      // 8 shard-units would need 12; one call may only double.
      expect(only(huge, 'update-shard-count')).toMatchObject({ fromShards: 4, toShards: 8 });
    });

    it('splits a shard over its ceiling at its load median, not its hash midpoint', () => {
      const shards = evenShards(4);
      const hot = keyInto(shards[1]!, 0.3);
      const keys: KeyRate[] = [{ partitionKey: hot.key, hashKey: hot.hash, recordsPerSecond: 400 }];
      const metrics = points(shards, 35, (i) => (i === 1 ? 0.95 : 0.3));

      const plan = planScaling(input(view(shards), metrics, { hotKeys: keys }));

      const split = only(plan, 'split-shard')!;
      // 950 records/s: the key's 400 and 550 spread evenly. The key holds the median, and the lighter
      // heavier child puts it below the split: the upper child starts right after it.
      const at = Number(hot.hash - shards[1]!.range.start) / Number(width(shards[1]!.range));
      expect(split.shardId).toBe(shardId(1));
      expect(split.newStartingHashKey).toBe((hot.hash + 1n).toString());
      expect(split.lowerShare).toBeCloseTo((550 * at + 400) / 950, 2);
      expect(split.newStartingHashKey).not.toBe(
        (shards[1]!.range.start + width(shards[1]!.range) / 2n).toString(),
      );
      expect(kinds(plan)).toEqual(['split-shard']);
    });

    it('reports a partition key hotter than the hot-key share and never splits for it', () => {
      const shards = evenShards(4);
      const hot = keyInto(shards[2]!, 0.5);
      const keys: KeyRate[] = [{ partitionKey: hot.key, hashKey: hot.hash, recordsPerSecond: 900 }];
      const metrics = points(shards, 35, (i) => (i === 2 ? 0.95 : 0.3));

      const plan = planScaling(input(view(shards), metrics, { hotKeys: keys }));

      expect(kinds(plan)).not.toContain('split-shard');
      expect(plan.hotKeys).toEqual([
        expect.objectContaining({
          partitionKey: hot.key,
          shardId: shardId(2),
          recordsPerSecond: 900,
          shardShare: 0.9,
        }),
      ]);
      expect(plan.hotKeys[0]!.advice).toMatch(/splitting cannot help/);
      expect(plan.blocked).toContainEqual(
        expect.objectContaining({ rule: 'hot-key', wanted: `split ${shardId(2)}` }),
      );
    });

    it('raises ParallelizationFactor first when consumers lag but shards are not saturated', () => {
      const shards = evenShards(4);
      const metrics = points(
        shards,
        35,
        () => 0.5,
        (ago) => ({ iteratorAgeMs: ago === 0 ? 45_000 : 0 }),
      );

      const plan = planScaling(input(view(shards, { parallelizationFactor: 3 }), metrics));

      expect(plan.actions).toEqual([
        expect.objectContaining({ kind: 'set-parallelization-factor', from: 3, to: 6 }),
      ]);
    });

    it('waits for a ParallelizationFactor change to show before raising it again', () => {
      const shards = evenShards(4);
      const metrics = points(
        shards,
        35,
        () => 0.5,
        (ago) => ({ iteratorAgeMs: ago === 0 ? 45_000 : 0 }),
      );
      const history = [
        { kind: 'set-parallelization-factor' as const, atWallMs: NOW - MINUTE, outcome: 'applied' as const },
      ];

      const plan = planScaling(input(view(shards, { parallelizationFactor: 2 }), metrics, { history }));

      expect(plan.actions).toEqual([]);
      expect(plan.reasons.join(' ')).toMatch(/waiting for it to show/);
    });

    it('adds shards for growing lag only when parallelization is at its maximum, once per cool-down', () => {
      const shards = evenShards(4);
      const lag = (ago: number) => ({ iteratorAgeMs: ago === 0 ? 90_000 : 70_000 });
      const metrics = points(shards, 35, () => 0.5, lag);
      const recentScaleOut = [
        {
          kind: 'split-shard' as const,
          atWallMs: NOW - 10 * MINUTE,
          outcome: 'applied' as const,
          direction: 'out' as const,
        },
      ];

      const atMax = planScaling(input(view(shards, { parallelizationFactor: 10 }), metrics));
      const again = planScaling(
        input(view(shards, { parallelizationFactor: 10 }), metrics, { history: recentScaleOut }),
      );

      expect(kinds(atMax)).toEqual(['split-shard']);
      expect(atMax.reasons.join(' ')).toMatch(/growing with parallelization at its maximum/);
      expect(kinds(again)).toEqual([]);
    });

    it('stops at maxShards and corrects a count outside the bounds', () => {
      const full = evenShards(8);
      const few = evenShards(2);
      const many = evenShards(12);

      const atMax = planScaling(
        input(
          view(full),
          points(full, 35, () => 0.95),
          { policy: { maxShards: 8 } },
        ),
      );
      const belowMin = planScaling(
        input(
          view(few),
          points(few, 35, () => 0.3),
          { policy: { minShards: 4 } },
        ),
      );
      const aboveMax = planScaling(
        input(
          view(many),
          points(many, 35, () => 0.3),
          { policy: { maxShards: 5 } },
        ),
      );

      expect(kinds(atMax)).toEqual([]);
      expect(atMax.blocked).toContainEqual(expect.objectContaining({ rule: 'shard-bounds' }));
      expect(only(belowMin, 'update-shard-count')).toMatchObject({ fromShards: 2, toShards: 4 });
      expect(only(aboveMax, 'update-shard-count')).toMatchObject({ fromShards: 12, toShards: 6 });
    });
  });

  describe('Kinesis limits', () => {
    const shards = evenShards(4);
    const broad = points(shards, 35, () => 0.95);

    it('keeps the reserve: with 8 of 10 calls used in 24 h, broad growth falls back to a split', () => {
      const history = updateShardCountCalls(60, 120, 180, 240, 300, 360, 420, 480);

      const plan = planScaling(input(view(shards), broad, { history }));

      expect(kinds(plan)).toEqual(['split-shard']);
      expect(plan.blocked).toContainEqual(
        expect.objectContaining({
          rule: 'update-shard-count-rate',
          detail: expect.stringMatching(/kept for emergencies/),
        }),
      );
      expect(plan.summary).toMatchObject({ updateShardCountCallsLast24h: 8, updateShardCountCallsLeft: 2 });
    });

    it('lets an emergency (throttling) use the reserve, and nothing use the tenth call twice', () => {
      const throttled = points(shards, 35, (_, ago) => (ago < 2 ? load(1.0, 400) : 0.6));

      const withReserve = planScaling(
        input(view(shards), throttled, {
          history: updateShardCountCalls(60, 120, 180, 240, 300, 360, 420, 480),
        }),
      );
      const exhausted = planScaling(
        input(view(shards), throttled, {
          history: updateShardCountCalls(60, 120, 180, 240, 300, 360, 420, 480, 540, 600),
        }),
      );

      expect(only(withReserve, 'update-shard-count')).toMatchObject({ toShards: 8 });
      expect(kinds(exhausted)).toEqual(['split-shard']);
      expect(exhausted.blocked).toContainEqual(
        expect.objectContaining({
          rule: 'update-shard-count-rate',
          detail: '10 of 10 UpdateShardCount calls used in the last 24 h',
        }),
      );
    });

    it('counts only calls inside the rolling 24 hours, and calls whose outcome is unknown', () => {
      const old = updateShardCountCalls(
        24 * 60 + 1,
        25 * 60,
        26 * 60,
        27 * 60,
        28 * 60,
        29 * 60,
        30 * 60,
        31 * 60,
      );
      const unknown = updateShardCountCalls(60, 120).map((a) => ({ ...a, outcome: undefined }));
      const refused = updateShardCountCalls(180).map((a) => ({ ...a, outcome: 'refused' as const }));

      const plan = planScaling(input(view(shards), broad, { history: [...old, ...unknown, ...refused] }));

      expect(plan.summary.updateShardCountCallsLast24h).toBe(2);
      expect(kinds(plan)).toEqual(['update-shard-count']);
    });

    it('starts no resharding while one is in progress, but may still tune parallelization', () => {
      const lagging = points(
        shards,
        35,
        () => 0.95,
        (ago) => ({ iteratorAgeMs: ago === 0 ? 40_000 : 0 }),
      );

      const plan = planScaling(
        input(view(shards, { status: 'UPDATING', parallelizationFactor: 1 }), lagging),
      );

      expect(kinds(plan)).toEqual(['set-parallelization-factor']);
      expect(plan.blocked).toContainEqual(
        expect.objectContaining({ rule: 'one-resharding-at-a-time', detail: 'stream is UPDATING' }),
      );
    });

    it('lets the metrics of new shards arrive after an UpdateShardCount before resharding again', () => {
      const history = updateShardCountCalls(1);

      const plan = planScaling(input(view(shards), broad, { history }));

      expect(kinds(plan)).toEqual([]);
      expect(rules(plan)).toContain('settle');
    });

    it('returns only actions that pass every Kinesis rule', () => {
      const eight = evenShards(8);
      const cases = [
        { shards, plan: planScaling(input(view(shards), broad)) },
        {
          shards: eight,
          plan: planScaling(
            input(
              view(eight),
              points(eight, 35, () => 0.2),
            ),
          ),
        },
        {
          shards,
          plan: planScaling(
            input(
              view(shards),
              points(shards, 35, (i) => (i === 1 ? 0.95 : 0.3)),
            ),
          ),
        },
      ];

      expect(cases.map((c) => kinds(c.plan))).toEqual([
        ['update-shard-count'],
        ['update-shard-count'],
        ['split-shard'],
      ]);
      for (const { shards: open, plan } of cases)
        for (const action of plan.actions)
          expect(
            checkAction(action, {
              status: 'ACTIVE',
              openShards: open,
              updateShardCountCallsAtWallMs: [],
              nowWallMs: NOW,
            }),
          ).toEqual([]);
    });
  });

  describe('scale in', () => {
    const eight = evenShards(8);
    const quiet = points(eight, 35, () => 0.2);

    it('waits for the whole quiet window, longer than the scale-out window', () => {
      const plan = planScaling(
        input(
          view(eight),
          points(eight, 20, () => 0.2),
        ),
      );

      expect(kinds(plan)).toEqual([]);
    });

    it('after the quiet window, removes what the peak does not need in one UpdateShardCount (at most half)', () => {
      const plan = planScaling(input(view(eight), quiet));

      // Peak 1.6 shard-units fit 3 shards at 60%; one call may halve at most.
      expect(only(plan, 'update-shard-count')).toMatchObject({ fromShards: 8, toShards: 4 });
    });

    it('merges the coldest adjacent pair when the call quota is kept for scaling out', () => {
      const history = updateShardCountCalls(600, 660, 720, 780, 840, 900, 960, 1020);

      const plan = planScaling(input(view(eight), quiet, { history }));

      expect(only(plan, 'merge-shards')).toMatchObject({ shardId: shardId(0), adjacentShardId: shardId(1) });
    });

    it('merges adjacent shards only, even when the two coldest are apart', () => {
      const shards = evenShards(4);
      const metrics = points(shards, 35, (i) => (i === 0 || i === 3 ? 0.05 : 0.6));

      const plan = planScaling(input(view(shards), metrics));

      expect(plan.actions).toEqual([
        expect.objectContaining({ kind: 'merge-shards', shardId: shardId(0), adjacentShardId: shardId(1) }),
      ]);
    });

    it('merges a cold adjacent pair even when the stream as a whole needs its count', () => {
      const shards = evenShards(4);
      const metrics = points(shards, 35, (i) => (i < 2 ? 0.1 : 0.85));

      const plan = planScaling(input(view(shards), metrics));

      expect(only(plan, 'merge-shards')).toMatchObject({ shardId: shardId(0), adjacentShardId: shardId(1) });
    });

    it('does not scale in within the cool-down after a scale-out', () => {
      const history = [
        {
          kind: 'split-shard' as const,
          atWallMs: NOW - 10 * MINUTE,
          outcome: 'applied' as const,
          direction: 'out' as const,
        },
      ];

      const plan = planScaling(input(view(eight), quiet, { history }));

      expect(kinds(plan)).toEqual([]);
      expect(plan.blocked).toContainEqual(expect.objectContaining({ rule: 'cooldown' }));
    });

    it('does not scale in while consumers lag', () => {
      const lagging = points(
        eight,
        35,
        () => 0.2,
        (ago) => ({ iteratorAgeMs: ago === 10 ? 40_000 : 0 }),
      );

      const plan = planScaling(input(view(eight), lagging));

      expect(kinds(plan)).not.toContain('update-shard-count');
      expect(kinds(plan)).not.toContain('merge-shards');
    });

    it('lowers ParallelizationFactor only when every shard stayed cold and caught up for the quiet window', () => {
      const cold = points(eight, 35, () => 0.1);
      const warm = points(eight, 35, () => 0.3);

      const lowered = planScaling(
        input(view(eight, { parallelizationFactor: 4 }), cold, { history: updateShardCountCalls(1) }),
      );
      const kept = planScaling(
        input(view(eight, { parallelizationFactor: 4 }), warm, { history: updateShardCountCalls(1) }),
      );

      expect(only(lowered, 'set-parallelization-factor')).toMatchObject({ from: 4, to: 2 });
      expect(only(kept, 'set-parallelization-factor')).toBeUndefined();
    });
  });

  describe('shedding', () => {
    const shards = evenShards(4);
    const critical = points(
      shards,
      35,
      () => 0.5,
      (ago) => ({ iteratorAgeMs: ago === 0 ? 400_000 : 0 }),
    );

    it('turns shedding on when the lag is critical and scaling cannot act', () => {
      const plan = planScaling(
        input(view(shards, { status: 'UPDATING', parallelizationFactor: 10 }), critical),
      );

      expect(only(plan, 'set-shedding')).toMatchObject({ active: true });
      expect(only(plan, 'set-shedding')!.reason).toMatch(
        /scaling cannot act now \(one-resharding-at-a-time\)/,
      );
    });

    it('gives a capacity action one period before shedding, then sheds if the lag stays critical', () => {
      const once = critical;
      const twice = points(
        shards,
        35,
        () => 0.5,
        (ago) => ({ iteratorAgeMs: ago < 2 ? 400_000 : 0 }),
      );
      const history = [
        {
          kind: 'set-parallelization-factor' as const,
          atWallMs: NOW - 10 * MINUTE,
          outcome: 'applied' as const,
        },
      ];

      const first = planScaling(input(view(shards, { parallelizationFactor: 2 }), once, { history }));
      const second = planScaling(input(view(shards, { parallelizationFactor: 2 }), twice, { history }));

      expect(kinds(first)).toEqual(['set-parallelization-factor']);
      expect(kinds(second)).toEqual(['set-parallelization-factor', 'set-shedding']);
    });

    it('lifts shedding once the lag is back under the recovered threshold', () => {
      const recovered = points(
        shards,
        35,
        () => 0.5,
        () => ({ iteratorAgeMs: 20_000 }),
      );

      const plan = planScaling(input(view(shards, { sheddingActive: true }), recovered));

      expect(only(plan, 'set-shedding')).toMatchObject({ active: false });
    });

    it('leaves shedding alone when shedding.auto is off', () => {
      const plan = planScaling(
        input(view(shards, { status: 'UPDATING', parallelizationFactor: 10 }), critical, {
          policy: { shedding: { auto: false, lagCriticalMs: 300_000, lagRecoveredMs: 30_000 } },
        }),
      );

      expect(only(plan, 'set-shedding')).toBeUndefined();
    });
  });
});
