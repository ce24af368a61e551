import type { ShardLoad } from './types.js';

/**
 * The weight of each shard for load-aware strategies: its measured events/s plus a small prior (5% of the
 * mean shard rate), so idle shards still count and spread by number; all shards weigh 1 while nothing is
 * measured (a fresh start, or a cluster at rest).
 */
function shardWeights(shards: readonly ShardLoad[]): Map<string, number> {
  const rates = shards.map((s) => (Number.isFinite(s.eventsPerSecond) ? Math.max(0, s.eventsPerSecond) : 0));
  const mean = rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length);
  if (mean <= 0) return new Map(shards.map((s) => [s.shardId, 1]));
  const prior = 0.05 * mean;
  return new Map(shards.map((s, i) => [s.shardId, rates[i]! + prior]));
}

/** Per-worker sum of the weights of the shards `target` gives it. */
function loadsOf(
  workers: readonly string[],
  target: ReadonlyMap<string, string>,
  weights: ReadonlyMap<string, number>,
): Map<string, number> {
  const loads = new Map(workers.map((w) => [w, 0]));
  for (const [shard, worker] of target)
    loads.set(worker, (loads.get(worker) ?? 0) + (weights.get(shard) ?? 0));
  return loads;
}

export { loadsOf, shardWeights };
