import { describe, expect, it } from 'vitest';
import {
  AdaptiveStrategy,
  type AssignmentStrategy,
  BoundedLoadStrategy,
  createStrategy,
  LeastLoadedStrategy,
  RoundRobinStrategy,
  type ShardLoad,
  type WorkerLoad,
} from '../../../core/workers/assignment/index.js';

type Factory = () => AssignmentStrategy;
/** The exhaustive loops run thousands of rounds: pure, but slow on a busy machine. */
const EXHAUSTIVE_MS = 60_000;
const STRATEGIES: readonly [string, Factory][] = [
  ['round-robin', () => new RoundRobinStrategy()],
  ['least-loaded', () => new LeastLoadedStrategy()],
  ['adaptive', () => new AdaptiveStrategy()],
  ['bounded-load', () => new BoundedLoadStrategy()],
];

const shardIds = (n: number) => Array.from({ length: n }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
const workerIds = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `worker-${from + i}`);

/**
 * Runs rounds the way the assigner does: orphans are placed and rebalancing moves applied, until three rounds
 * in a row move nothing (damped strategies wait for an imbalance to last). Returns the owners and how many
 * times a shard changed owner between live workers on the way.
 */
function settle(
  strategy: AssignmentStrategy,
  workers: readonly string[],
  owners: Map<string, string | undefined>,
  rates: ReadonlyMap<string, number> = new Map(),
  maxRounds = 30,
): { owners: Map<string, string>; moves: number; rounds: number } {
  const current = new Map(owners);
  let moves = 0;
  let quiet = 0;
  const loads: WorkerLoad[] = workers.map((workerId) => ({ workerId }));
  for (let round = 1; round <= maxRounds; round++) {
    const shards: ShardLoad[] = [...current].map(([shardId, owner]) => ({
      shardId,
      owner: owner !== undefined && workers.includes(owner) ? owner : undefined,
      eventsPerSecond: rates.get(shardId) ?? 0,
    }));
    const target = strategy.assign({ workers: loads, shards, rebalance: true });
    expect(new Set(target.keys())).toEqual(new Set(current.keys()));
    let changed = 0;
    for (const [shard, worker] of target) {
      expect(workers).toContain(worker);
      const before = current.get(shard);
      if (before !== worker) {
        // Placing an orphan is not a move of a lease between live workers.
        if (before !== undefined && workers.includes(before)) moves++;
        changed++;
        current.set(shard, worker);
      }
    }
    quiet = changed === 0 ? quiet + 1 : 0;
    if (quiet === 3) return { owners: current as Map<string, string>, moves, rounds: round };
  }
  throw new Error(`${strategy.name} did not settle within ${maxRounds} rounds`);
}

const countsOf = (owners: ReadonlyMap<string, string>, workers: readonly string[]) =>
  workers.map((w) => [...owners.values()].filter((o) => o === w).length);

describe('Assignment strategies', () => {
  describe.each(STRATEGIES)('Strategy: %s', (name, create) => {
    it(
      'assigns every shard to a live worker from a cold start, with lease counts within one (no load measured)',
      () => {
        for (let shards = 1; shards <= 24; shards++)
          for (let n = 1; n <= 6; n++) {
            const workers = workerIds(n);
            const { owners } = settle(
              create(),
              workers,
              new Map(shardIds(shards).map((s) => [s, undefined])),
            );
            const counts = countsOf(owners, workers);
            const spread = Math.max(...counts) - Math.min(...counts);
            if (name === 'bounded-load')
              // The bound: no worker above ceil(1.25 × shards / workers) leases.
              expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(1.25 * (shards / n) - 1e-9));
            else expect(spread, `${shards} shards on ${n} workers: ${counts}`).toBeLessThanOrEqual(1);
          }
      },
      EXHAUSTIVE_MS,
    );

    it(
      'moves at most ceil(shards / (N + 1)) + 1 leases when a worker joins N',
      () => {
        for (let shards = 1; shards <= 40; shards++)
          for (let n = 1; n <= 7; n++) {
            const strategy = create();
            const workers = workerIds(n);
            const start = settle(strategy, workers, new Map(shardIds(shards).map((s) => [s, undefined])));
            const joined = [...workers, `worker-new-${n}`];
            const after = settle(strategy, joined, start.owners);
            expect(after.moves, `${shards} shards, ${n} → ${n + 1} workers`).toBeLessThanOrEqual(
              Math.ceil(shards / (n + 1)) + 1,
            );
            if (name === 'round-robin' || name === 'least-loaded')
              // Count balance needs the newcomer to get floor(S / (N + 1)); these move exactly that.
              expect(after.moves).toBe(Math.floor(shards / (n + 1)));
          }
      },
      EXHAUSTIVE_MS,
    );

    it(
      'moves only the leaving worker leases when one of N leaves',
      () => {
        for (let shards = 1; shards <= 40; shards++)
          for (let n = 2; n <= 8; n++) {
            const strategy = create();
            const workers = workerIds(n);
            const start = settle(strategy, workers, new Map(shardIds(shards).map((s) => [s, undefined])));
            const leaver = workers[shards % n]!;
            const remaining = workers.filter((w) => w !== leaver);
            const after = settle(strategy, remaining, start.owners);
            expect(after.moves, `${shards} shards, ${leaver} leaves ${n}`).toBe(0);
            for (const [shard, owner] of start.owners)
              if (owner !== leaver) expect(after.owners.get(shard)).toBe(owner);
          }
      },
      EXHAUSTIVE_MS,
    );

    it('places only orphans when not rebalancing, never moving an owned shard', () => {
      const workers = workerIds(3);
      const shards: ShardLoad[] = shardIds(9).map((shardId, i) => ({
        shardId,
        // Deliberately unbalanced: worker-0 holds six, two shards are orphans.
        owner: i < 6 ? 'worker-0' : i === 6 ? 'worker-1' : undefined,
        eventsPerSecond: 10 * i,
      }));
      const target = create().assign({
        workers: workers.map((workerId) => ({ workerId })),
        shards,
        rebalance: false,
      });
      for (const s of shards) if (s.owner !== undefined) expect(target.get(s.shardId)).toBe(s.owner);
      expect(target.get(shards[7]!.shardId)).not.toBe('worker-0');
      expect(target.get(shards[8]!.shardId)).not.toBe('worker-0');
    });
  });

  describe('Strategy: adaptive', () => {
    // 16 shards with skewed rates (sum 410 events/s; the busiest carries 60, the mean per worker of 4 is 102.5).
    const RATES = [60, 50, 40, 40, 30, 30, 30, 20, 20, 20, 20, 10, 10, 10, 10, 10];
    const rates = new Map(shardIds(16).map((s, i) => [s, RATES[i]!]));
    const imbalance = (owners: ReadonlyMap<string, string>, workers: readonly string[]) => {
      const load = workers.map((w) =>
        [...owners].filter(([, o]) => o === w).reduce((sum, [s]) => sum + rates.get(s)!, 0),
      );
      return Math.max(...load) / (load.reduce((a, b) => a + b, 0) / workers.length);
    };

    it('balances measured load to within 1.15 of the mean where equal lease counts leave it far off', () => {
      // Four leases each, but worker-0 holds the four busiest shards (190 events/s against a mean of 102.5).
      const workers = workerIds(4);
      const skewed = new Map(shardIds(16).map((s, i) => [s, workers[Math.floor(i / 4)]]));
      const byCount = settle(new LeastLoadedStrategy(), workers, skewed, rates);
      const settled = settle(new AdaptiveStrategy(), workers, skewed, rates);
      expect(byCount.moves).toBe(0);
      expect(imbalance(byCount.owners, workers)).toBeCloseTo(1.854, 3);
      expect(imbalance(settled.owners, workers)).toBeLessThanOrEqual(1.15);
      expect(settled.moves).toBeLessThanOrEqual(6);
    });

    it('does not oscillate under noisy measurements: after settling, 50 noisy rounds move almost nothing', () => {
      const workers = workerIds(4);
      const adaptive = new AdaptiveStrategy();
      let owners = settle(adaptive, workers, new Map(shardIds(16).map((s) => [s, undefined])), rates).owners;
      let moves = 0;
      let seed = 7;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      for (let round = 0; round < 50; round++) {
        // ±8% noise on every shard's rate, as measurement over a few seconds gives.
        const noisy = new Map([...rates].map(([s, r]) => [s, r * (0.92 + 0.16 * random())]));
        const target = adaptive.assign({
          workers: workers.map((workerId) => ({ workerId })),
          shards: [...owners].map(([shardId, owner]) => ({
            shardId,
            owner,
            eventsPerSecond: noisy.get(shardId)!,
          })),
          rebalance: true,
        });
        for (const [s, w] of target) if (owners.get(s) !== w) moves++;
        owners = target;
      }
      expect(moves).toBeLessThanOrEqual(2);
      expect(imbalance(owners, workers)).toBeLessThanOrEqual(1.15);
    });

    it('gives less load to a worker whose CPU cost per event is far above the others', () => {
      const workers: WorkerLoad[] = [
        { workerId: 'worker-0', eventsPerSecond: 100, cpuPercent: 20 },
        { workerId: 'worker-1', eventsPerSecond: 100, cpuPercent: 20 },
        { workerId: 'worker-2', eventsPerSecond: 100, cpuPercent: 80 },
      ];
      const adaptive = new AdaptiveStrategy({ smoothing: 1 });
      const shards = shardIds(12).map((shardId, i) => ({
        shardId,
        owner: workers[i % 3]!.workerId,
        eventsPerSecond: 10,
      }));
      let owners = new Map(shards.map((s) => [s.shardId, s.owner]));
      for (let round = 0; round < 10; round++)
        owners = adaptive.assign({
          workers,
          shards: [...owners].map(([shardId, owner]) => ({ shardId, owner, eventsPerSecond: 10 })),
          rebalance: true,
        });
      const counts = countsOf(owners, ['worker-0', 'worker-1', 'worker-2']);
      expect(counts[2]).toBeLessThan(counts[0]!);
      expect(counts[2]).toBeGreaterThanOrEqual(2);
    });
  });

  describe('Strategy: bounded-load', () => {
    it('keeps every worker under the capacity factor times the mean measured load', () => {
      const rates = new Map(shardIds(16).map((s, i) => [s, [60, 50, 40, 40, 30, 30, 30, 20][i % 8]!]));
      const workers = workerIds(4);
      const { owners } = settle(
        new BoundedLoadStrategy({ capacityFactor: 1.1 }),
        workers,
        new Map(shardIds(16).map((s) => [s, undefined])),
        rates,
      );
      const total = [...rates.values()].reduce((a, b) => a + b, 0);
      const weightOf = (s: string) => rates.get(s)! + 0.05 * (total / 16);
      const mean = (total * 1.05) / 4;
      for (const w of workers) {
        const load = [...owners].filter(([, o]) => o === w).reduce((sum, [s]) => sum + weightOf(s), 0);
        expect(load).toBeLessThanOrEqual(1.1 * mean + 1e-6);
      }
    });

    it('keeps shards on the same workers when the same cluster is planned again (stable hashing)', () => {
      const workers = workerIds(5);
      const cold = new Map(shardIds(20).map((s) => [s, undefined]));
      const first = settle(new BoundedLoadStrategy(), workers, cold).owners;
      const second = settle(new BoundedLoadStrategy(), workers, cold).owners;
      expect(second).toEqual(first);
    });

    it('rejects a capacity factor below 1, naming the value', () => {
      expect(() => new BoundedLoadStrategy({ capacityFactor: 0.9 })).toThrow(
        'capacityFactor must be at least 1 (a worker must be allowed the mean load); received 0.9',
      );
    });
  });

  describe('Function: createStrategy', () => {
    it('builds the strategy the config names, with its capacity factor', () => {
      const base = { boundedLoadCapacityFactor: 1.5, rebalanceIntervalMs: 10_000 };
      for (const assignment of ['round-robin', 'least-loaded', 'adaptive', 'bounded-load'] as const)
        expect(createStrategy({ ...base, assignment }).name).toBe(assignment);
    });
  });
});
