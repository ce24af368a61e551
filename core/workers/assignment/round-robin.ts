import { balanceCounts, compareIds } from './count-balance.js';
import type { AssignmentInput, AssignmentStrategy } from './types.js';

/**
 * Equal lease counts, dealt in turn: orphans and excess leases go to the workers below quota in worker-id
 * order, continuing after the worker dealt to last. Uses no load figures at all: predictable, and the right
 * choice when shards carry similar load.
 *
 * @example
 * ```ts
 * const strategy = new RoundRobinStrategy();
 * const target = strategy.assign({ workers, shards, rebalance: true });
 * ```
 */
class RoundRobinStrategy implements AssignmentStrategy {
  public readonly name = 'round-robin' as const;
  #lastDealt: string | undefined;

  public assign(input: AssignmentInput): Map<string, string> {
    return balanceCounts(input, {
      choose: (_shard, candidates) => {
        const last = this.#lastDealt;
        const next = candidates.find((w) => last === undefined || w > last) ?? candidates[0]!;
        this.#lastDealt = next;
        return next;
      },
      // Load-blind: give up the highest shard ids first.
      shedOrder: (a, b) => compareIds(b.shardId, a.shardId),
    });
  }
}

export { RoundRobinStrategy };
