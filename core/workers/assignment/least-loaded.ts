import { balanceCounts, compareIds } from './count-balance.js';
import type { AssignmentInput, AssignmentStrategy } from './types.js';

/**
 * Equal lease counts, each orphan to the worker holding fewest leases (ties: the one reporting fewer
 * events/s, then the lower id); a worker above quota gives up its least busy shards first, so moves disturb
 * the least traffic. The default: KCL's classic rule, without its stealing.
 *
 * @example
 * ```ts
 * const target = new LeastLoadedStrategy().assign({ workers, shards, rebalance: false });
 * ```
 */
class LeastLoadedStrategy implements AssignmentStrategy {
  public readonly name = 'least-loaded' as const;

  public assign(input: AssignmentInput): Map<string, string> {
    const rate = new Map(input.workers.map((w) => [w.workerId, w.eventsPerSecond ?? 0]));
    return balanceCounts(input, {
      choose: (_shard, candidates, counts) =>
        [...candidates].sort(
          (a, b) => counts.get(a)! - counts.get(b)! || rate.get(a)! - rate.get(b)! || compareIds(a, b),
        )[0]!,
      shedOrder: (a, b) => a.eventsPerSecond - b.eventsPerSecond || compareIds(b.shardId, a.shardId),
    });
  }
}

export { LeastLoadedStrategy };
