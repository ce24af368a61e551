import type { AssignmentStrategy as AssignmentStrategyName } from '../../config/schema.js';

/** A live worker as the assigner sees it: its id and what its last heartbeat reported. */
interface WorkerLoad {
  readonly workerId: string;
  /** Records per second the worker processed lately (its heartbeat's load); undefined when not reported. */
  readonly eventsPerSecond?: number;
  /** CPU use of the worker's process in percent of one core; undefined when not reported. */
  readonly cpuPercent?: number;
}

/** An assignable shard: not ended, every parent processed to its end. */
interface ShardLoad {
  readonly shardId: string;
  /**
   * The live worker holding it, or undefined for an orphan: a free lease (new shard, released by a worker
   * that left) or an expired one (its owner stopped heartbeating).
   */
  readonly owner: string | undefined;
  /** Smoothed records per second of the shard as the assigner measured it; 0 when idle or not yet measured. */
  readonly eventsPerSecond: number;
}

interface AssignmentInput {
  /** Live workers; never empty. */
  readonly workers: readonly WorkerLoad[];
  readonly shards: readonly ShardLoad[];
  /**
   * true: the strategy may move shards between live workers (a rebalancing round: on join and leave, and
   * every `leases.rebalanceIntervalMs`). false: only orphans are placed; owned shards keep their owner.
   */
  readonly rebalance: boolean;
}

/**
 * Decides which worker should hold each shard. Pure apart from state a strategy keeps between rounds to damp
 * itself (cool-downs, newcomers); the assigner acts on the difference between the result and the current
 * owners: orphans are granted at once, other differences become graceful hand-offs.
 *
 * Every strategy is *sticky*: a shard stays with its live owner unless moving it is needed to reach the
 * strategy's balance, so membership changes move few leases (tested: a join moves at most
 * ceil(shards / (workers + 1)) + 1 leases; a leave moves only the leaver's).
 */
interface AssignmentStrategy {
  readonly name: AssignmentStrategyName;
  /** Target owner of every shard in `input.shards`. */
  assign(input: AssignmentInput): Map<string, string>;
}

export type { AssignmentInput, AssignmentStrategy, AssignmentStrategyName, ShardLoad, WorkerLoad };
