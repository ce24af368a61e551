import type { AssignmentInput, ShardLoad } from './types.js';

/**
 * Shared core of the count-balancing strategies (round-robin, least-loaded): every worker ends with
 * floor(S / N) or ceil(S / N) leases, and a lease moves only when that needs it.
 *
 * - Placing orphans only (`rebalance: false`): each orphan goes to a worker below ceil(S / N).
 * - Rebalancing: the S mod N workers holding most keep ceil(S / N), the others floor(S / N); workers above
 *   their quota give up their excess (`shedOrder` says which), and the orphans and the shed leases are dealt
 *   to workers below quota. A join therefore moves exactly what the newcomer needs, and a leave only the
 *   leaver's leases (both are tested for every S ≤ 40, N ≤ 8).
 */
function balanceCounts(
  input: AssignmentInput,
  options: {
    /** Picks one worker from `candidates` (ids below quota, sorted) for `shard`. */
    readonly choose: (
      shard: ShardLoad,
      candidates: readonly string[],
      counts: ReadonlyMap<string, number>,
    ) => string;
    /** Order in which a worker above quota gives up its shards (first given up first). */
    readonly shedOrder: (a: ShardLoad, b: ShardLoad) => number;
  },
): Map<string, string> {
  const workers = input.workers.map((w) => w.workerId).sort();
  const live = new Set(workers);
  const target = new Map<string, string>();
  const counts = new Map(workers.map((w) => [w, 0]));
  const byWorker = new Map<string, ShardLoad[]>(workers.map((w) => [w, []]));
  const pool: ShardLoad[] = [];
  for (const shard of input.shards) {
    if (shard.owner !== undefined && live.has(shard.owner)) {
      target.set(shard.shardId, shard.owner);
      counts.set(shard.owner, counts.get(shard.owner)! + 1);
      byWorker.get(shard.owner)!.push(shard);
    } else pool.push(shard);
  }
  const quotas = input.rebalance
    ? countQuotas(workers, counts, input.shards.length)
    : new Map(workers.map((w) => [w, Math.ceil(input.shards.length / workers.length)]));
  if (input.rebalance)
    for (const worker of workers) {
      const excess = counts.get(worker)! - quotas.get(worker)!;
      if (excess <= 0) continue;
      const shed = [...byWorker.get(worker)!].sort(options.shedOrder).slice(0, excess);
      for (const shard of shed) {
        target.delete(shard.shardId);
        pool.push(shard);
      }
      counts.set(worker, counts.get(worker)! - excess);
    }
  pool.sort((a, b) => compareIds(a.shardId, b.shardId));
  for (const shard of pool) {
    const below = workers.filter((w) => counts.get(w)! < quotas.get(w)!);
    const worker = options.choose(shard, below.length > 0 ? below : workers, counts);
    target.set(shard.shardId, worker);
    counts.set(worker, counts.get(worker)! + 1);
  }
  return target;
}

/**
 * floor(S / N) leases per worker, and one more for the S mod N workers holding most now (ties: lower id), so
 * reaching the quotas moves as few leases as possible.
 */
function countQuotas(
  workers: readonly string[],
  counts: ReadonlyMap<string, number>,
  shards: number,
): Map<string, number> {
  const base = Math.floor(shards / workers.length);
  const extra = shards % workers.length;
  const ranked = [...workers].sort((a, b) => counts.get(b)! - counts.get(a)! || compareIds(a, b));
  return new Map(ranked.map((w, i) => [w, base + (i < extra ? 1 : 0)]));
}

const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export { balanceCounts, compareIds, countQuotas };
