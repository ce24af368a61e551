import { describe, expect, it } from 'vitest';
import { checkAction, type Plan, type PlannedAction, planScaling } from '../../../core/scaling/index.js';
import { evenShards, fleet, input, MINUTE, NOW, points, view, worker } from '../../helpers/scaling.js';

const SHARDS = evenShards(8);
/** 35 quiet minutes at 30% of every shard: nothing to reshard (minShards 8 keeps the shard count). */
const QUIET = points(SHARDS, 35, () => 0.3);
const KEEP_SHARDS = { minShards: 8 };
/** A containers stream: no event source mapping to tune. */
const FLEET_STREAM = view(SHARDS, { parallelizationFactor: undefined });

function workerAction(plan: Plan): Extract<PlannedAction, { kind: 'set-worker-count' }> | undefined {
  return plan.actions.find((a) => a.kind === 'set-worker-count') as
    | Extract<PlannedAction, { kind: 'set-worker-count' }>
    | undefined;
}

/** `count` workers at `cpu`, the 8 shards dealt among them. */
function even(count: number, cpu: number) {
  return Array.from({ length: count }, (_, i) =>
    worker(`w${i}`, cpu, Math.floor(8 / count) + (i < 8 % count ? 1 : 0)),
  );
}

describe('Function: planScaling, rule 6 (the worker fleet)', () => {
  describe('bounds', () => {
    it('plans no worker count without a fleet: the Lambda consumer is sized by its mapping alone', () => {
      const plan = planScaling(input(view(SHARDS), QUIET, { policy: KEEP_SHARDS }));

      expect(workerAction(plan)).toBeUndefined();
      expect(plan.summary.fleet).toBeUndefined();
    });

    it('brings a desired count outside minWorkers..maxWorkers into them at once', () => {
      const below = planScaling(
        input(FLEET_STREAM, QUIET, {
          policy: KEEP_SHARDS,
          fleet: fleet(even(2, 0.3), { minWorkers: 3 }),
        }),
      );
      const above = planScaling(
        input(FLEET_STREAM, QUIET, {
          policy: KEEP_SHARDS,
          fleet: fleet(even(5, 0.3), { maxWorkers: 4 }),
        }),
      );

      expect(workerAction(below)).toMatchObject({
        from: 2,
        to: 3,
        reason: '2 workers is below minWorkers 3',
      });
      expect(workerAction(above)).toMatchObject({
        from: 5,
        to: 4,
        reason: '5 workers is above maxWorkers 4',
      });
    });

    it('keeps no more workers than shards: a worker without a shard is waste', () => {
      const workers = [
        ...even(8, 0.3).map((w) => ({ ...w, leases: 1 })),
        worker('w8', 0, 0),
        worker('w9', 0, 0),
      ];

      const plan = planScaling(input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(workers) }));

      expect(workerAction(plan)).toMatchObject({
        from: 10,
        to: 8,
        reason: '10 workers for 8 shards: 2 would hold no shard (a shard is read by one worker at a time)',
      });
      expect(plan.summary.fleet).toMatchObject({ liveWorkers: 10, idleWorkers: 2, desiredWorkers: 10 });
    });

    it("counts the shards this plan's resharding leads to: a split makes room for one more worker", () => {
      // Shard 0 over its ceiling in the last two periods: the planner splits it.
      const hot = points(SHARDS, 35, (i, ago) => (i === 0 && ago < 2 ? 0.95 : 0.3));
      const nine = [...even(8, 0.3).map((w) => ({ ...w, leases: 1 })), worker('w8', 0, 0)];

      const plan = planScaling(input(FLEET_STREAM, hot, { fleet: fleet(nine) }));

      expect(plan.actions[0]).toMatchObject({ kind: 'split-shard', shardId: SHARDS[0]!.shardId });
      expect(workerAction(plan)).toBeUndefined();
    });
  });

  describe('settling', () => {
    it.each([
      [
        'tasks are still starting',
        { runningWorkers: 1, pendingWorkers: 1 },
        '1 of 2 tasks running, 1 pending',
      ],
      ['a deployment replaces the tasks', { deploying: true }, 'a deployment is replacing the tasks'],
    ])('judges no load while %s', (_, overrides, detail) => {
      const plan = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(even(2, 0.95), overrides) }),
      );

      expect(workerAction(plan)).toBeUndefined();
      expect(plan.blocked).toContainEqual({
        wanted: 'resize the worker fleet',
        rule: 'fleet-settling',
        detail,
      });
    });

    it('waits workerSettleMs after a change for the new workers to take leases and report load', () => {
      const changed = (minutesAgo: number) => [
        {
          kind: 'set-worker-count' as const,
          atWallMs: NOW - minutesAgo * MINUTE,
          outcome: 'applied' as const,
          direction: 'out' as const,
        },
      ];
      const busy = fleet(even(2, 0.95));

      const soon = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: busy, history: changed(1) }),
      );
      const later = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: busy, history: changed(4) }),
      );

      expect(workerAction(soon)).toBeUndefined();
      expect(soon.blocked.map((b) => b.rule)).toContain('fleet-settling');
      expect(workerAction(later)).toMatchObject({ from: 2, to: 4 });
    });
  });

  describe('growth', () => {
    it.each([
      // workers × CPU → load; needed = load ÷ 60%, at least one more, at most double, at most one per shard.
      [2, 0.9, 3],
      [2, 1.0, 4],
      [3, 1.0, 5],
      [1, 1.0, 2],
    ])('%i workers at %f CPU grow to %i', (count, cpu, to) => {
      const plan = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(even(count, cpu)) }),
      );

      expect(workerAction(plan)).toMatchObject({ from: count, to });
      expect(workerAction(plan)!.reason).toMatch(/^mean worker CPU \d+% over 60%/);
    });

    it('helps a strained worker that holds several shards even when the mean is under target', () => {
      const workers = [worker('a', 0.9, 4), worker('b', 0.2, 2), worker('c', 0.2, 2)];

      const plan = planScaling(input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(workers) }));

      expect(workerAction(plan)).toMatchObject({ from: 3, to: 4 });
      expect(workerAction(plan)!.reason).toMatch(/^1 worker\(s\) over 85% CPU with more than one shard/);
    });

    it('adds no worker for one busy on a single shard: it reports the shard, and at one worker per shard holds back', () => {
      const shards = evenShards(4);
      const workers = shards.map((_, i) => worker(`w${i}`, 0.95, 1));

      const plan = planScaling(
        input(
          view(shards, { parallelizationFactor: undefined }),
          points(shards, 35, () => 0.3),
          {
            policy: { minShards: 4 },
            fleet: fleet(workers),
          },
        ),
      );

      expect(workerAction(plan)).toBeUndefined();
      expect(plan.reasons).toContain(
        'worker w0 is over 85% CPU on one shard: another worker cannot share a shard; that shard needs splitting or the task more CPU',
      );
      expect(plan.blocked).toContainEqual({
        wanted: 'more workers',
        rule: 'worker-ceiling',
        detail: 'each of the 4 shards has a worker of its own: more shards or more CPU per task are the cure',
      });
    });

    it('grows for an iterator age past scaleOutIteratorAgeMs that keeps growing', () => {
      const lagging = points(
        SHARDS,
        35,
        () => 0.3,
        (ago) => ({ iteratorAgeMs: ago === 0 ? 90_000 : 70_000 }),
      );

      const plan = planScaling(
        input(FLEET_STREAM, lagging, {
          policy: { ...KEEP_SHARDS, maxShards: 8 },
          fleet: fleet(even(2, 0.3)),
        }),
      );

      expect(workerAction(plan)).toMatchObject({
        from: 2,
        to: 3,
        reason: expect.stringMatching(/^iterator age 90 s and growing/),
      });
    });

    it('gives added workers a period before shedding, as it does added shards', () => {
      const critical = points(
        SHARDS,
        35,
        () => 0.3,
        (ago) => ({ iteratorAgeMs: ago === 0 ? 400_000 : 100_000 }),
      );
      const policy = { ...KEEP_SHARDS, maxShards: 8 };

      const growing = planScaling(input(FLEET_STREAM, critical, { policy, fleet: fleet(even(2, 0.9)) }));
      const atCeiling = planScaling(
        input(FLEET_STREAM, critical, {
          policy,
          fleet: fleet(even(8, 0.9).map((w) => ({ ...w, leases: 1 }))),
        }),
      );

      expect(growing.actions.map((a) => a.kind)).toEqual(['set-worker-count']);
      expect(atCeiling.actions.map((a) => a.kind)).toEqual(['set-shedding']);
    });

    it('keeps its size until a worker reports CPU', () => {
      const plan = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet([worker('w0', undefined, 8)]) }),
      );

      expect(workerAction(plan)).toBeUndefined();
      expect(plan.reasons).toContain('no worker has reported its CPU yet: the fleet keeps its size');
    });
  });

  describe('shrinking', () => {
    it.each([
      [6, 5],
      [4, 3],
      [8, 6],
    ])('after a quiet window, %i idle workers shrink to %i: a quarter at most per step', (count, to) => {
      const plan = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(even(count, 0.1)) }),
      );

      expect(workerAction(plan)).toMatchObject({ from: count, to });
      expect(workerAction(plan)!.reason).toMatch(/^quiet for 1800 s: the fleet's load at the window's peak/);
    });

    it("keeps workers for the quiet window's peak, not only the load now", () => {
      const peaked = points(SHARDS, 35, (_, ago) => (ago === 10 ? 0.9 : 0.3));

      const flat = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(even(6, 0.2)) }),
      );
      const withPeak = planScaling(
        input(FLEET_STREAM, peaked, { policy: KEEP_SHARDS, fleet: fleet(even(6, 0.2)) }),
      );

      expect(workerAction(flat)).toMatchObject({ from: 6, to: 5 });
      expect(workerAction(withPeak)).toBeUndefined();
    });

    it('removes no worker within the cool-down after one was added, nor while consumers lag', () => {
      const grown = [
        {
          kind: 'set-worker-count' as const,
          atWallMs: NOW - 10 * MINUTE,
          outcome: 'applied' as const,
          direction: 'out' as const,
        },
      ];
      const lagging = points(
        SHARDS,
        35,
        () => 0.3,
        () => ({ iteratorAgeMs: 40_000 }),
      );

      const cooling = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(even(6, 0.1)), history: grown }),
      );
      const behind = planScaling(
        input(FLEET_STREAM, lagging, {
          policy: { ...KEEP_SHARDS, maxShards: 8 },
          fleet: fleet(even(6, 0.1)),
        }),
      );

      expect(workerAction(cooling)).toBeUndefined();
      expect(cooling.blocked).toContainEqual({
        wanted: 'fewer workers',
        rule: 'cooldown',
        detail: 'last worker added 600 s ago; cool-down is 900 s',
      });
      expect(workerAction(behind)).toBeUndefined();
    });

    it('never goes below minWorkers', () => {
      const plan = planScaling(
        input(FLEET_STREAM, QUIET, { policy: KEEP_SHARDS, fleet: fleet(even(3, 0.01), { minWorkers: 3 }) }),
      );

      expect(workerAction(plan)).toBeUndefined();
    });
  });

  describe('summary and rules', () => {
    it('summarises the fleet: counts, its load in workers, the busiest worker and the idle ones', () => {
      const workers = [worker('a', 0.5, 5), worker('b', 0.25, 3), worker('c', undefined, 0)];

      const plan = planScaling(
        input(FLEET_STREAM, QUIET, {
          policy: KEEP_SHARDS,
          fleet: fleet(workers, { desiredWorkers: 3, runningWorkers: 3, minWorkers: 2, maxWorkers: 6 }),
        }),
      );

      expect(plan.summary.fleet).toEqual({
        desiredWorkers: 3,
        runningWorkers: 3,
        liveWorkers: 3,
        minWorkers: 2,
        maxWorkers: 6,
        load: 0.75,
        busiest: { instanceId: 'a', cpuUtilization: 0.5, leases: 5 },
        idleWorkers: 1,
      });
    });

    it('checks a worker count against the bounds: a step towards them passes, a step away does not', () => {
      const context = {
        status: 'ACTIVE' as const,
        openShards: [],
        updateShardCountCallsAtWallMs: [],
        nowWallMs: NOW,
        minWorkers: 2,
        maxWorkers: 4,
      };
      const action = (from: number, to: number): PlannedAction => ({
        kind: 'set-worker-count',
        from,
        to,
        reason: '',
      });

      expect(checkAction(action(3, 5), context).map((v) => v.detail)).toEqual([
        '5 workers would be above maxWorkers 4',
      ]);
      expect(checkAction(action(3, 1), context).map((v) => v.detail)).toEqual([
        '1 workers would be below minWorkers 2',
      ]);
      expect(checkAction(action(6, 5), context)).toEqual([]);
      expect(checkAction(action(3, 3), context).map((v) => v.rule)).toEqual(['worker-bounds']);
      expect(checkAction(action(3, 2.5), context).map((v) => v.detail)).toEqual([
        '2.5 is not a count of workers',
      ]);
    });
  });
});
