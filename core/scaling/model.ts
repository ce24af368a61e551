/**
 * What the planner reads and what it decides. Plain data: the planner is a pure function of these, and the
 * audit log stores them as JSON (hash keys as decimal strings).
 */
import type { HashRange } from './hash-key.js';

/** Stream status as DescribeStreamSummary reports it; anything but ACTIVE means no resharding may start. */
type StreamStatus = 'ACTIVE' | 'UPDATING' | 'CREATING' | 'DELETING';

/** One open shard. */
interface OpenShard {
  readonly shardId: string;
  readonly range: HashRange;
  /** Parent shard ids (a split child has one, a merge child two); for history lineage. */
  readonly parentShardIds?: readonly string[];
}

/** The stream and its consumer as they are now. */
interface StreamView {
  readonly streamName: string;
  readonly status: StreamStatus;
  /** Open shards, sorted by the start of their hash range. */
  readonly openShards: readonly OpenShard[];
  /** The event source mapping's ParallelizationFactor; `undefined` when there is no mapping to tune. */
  readonly parallelizationFactor: number | undefined;
  /** Whether shedding is on in the published configuration. */
  readonly sheddingActive: boolean;
}

/** Write load of one shard over one period, as per-second averages. */
interface ShardLoad {
  readonly recordsPerSecond: number;
  readonly bytesPerSecond: number;
  /** Records the shard refused (WriteProvisionedThroughputExceeded) per second: demand it could not take. */
  readonly throttledPerSecond?: number;
}

/** One metrics period (a minute in CloudWatch). */
interface MetricPoint {
  /** Wall-clock start of the period, epoch ms. */
  readonly atWallMs: number;
  readonly periodMs: number;
  /** Per open (or then open) shard. A shard absent from a point had no data for it. */
  readonly shards: Readonly<Record<string, ShardLoad>>;
  /** Stream-wide totals: used when per-shard figures are missing. */
  readonly stream?: ShardLoad;
  /** Highest iterator age of the consumer in the period (ms); `undefined` when not reported. */
  readonly iteratorAgeMs?: number;
  readonly consumerErrors?: number;
  readonly consumerThrottles?: number;
  readonly consumerConcurrency?: number;
}

/** A partition key's estimated rate, from the consumers' heavy-hitters sketches. */
interface KeyRate {
  readonly partitionKey: string;
  readonly hashKey: bigint;
  readonly recordsPerSecond: number;
  /** When known; otherwise the shard's mean record size is assumed. */
  readonly bytesPerSecond?: number;
}

/** Metrics over a trailing window, oldest point first. */
interface MetricsHistory {
  readonly points: readonly MetricPoint[];
  /** The heaviest partition keys over the recent past, with their hash keys. */
  readonly hotKeys: readonly KeyRate[];
}

/** One live worker of a container fleet as the manager sees it: its heartbeat load and its shard leases. */
interface WorkerLoad {
  readonly instanceId: string;
  /**
   * CPU of its process as a share of what its task may use (1.0 = all of it: a whole core, or the task's
   * fraction of one); `undefined` when the worker has not reported CPU yet.
   */
  readonly cpuUtilization: number | undefined;
  readonly eventsPerSecond: number;
  /** Arrival lag of the newest records it processed (its worst shard). */
  readonly lagMs: number | undefined;
  /** Shard leases it holds. */
  readonly leases: number;
  /** Its wall clock when it wrote its last heartbeat (for the dashboard's heartbeat age, never for liveness). */
  readonly heartbeatAtWallMs: number;
}

/** A worker fleet (an ECS service of `cdcp worker` tasks) as it is now, and the bounds it is sized within. */
interface FleetView {
  /** The service's desired count: the number of workers asked for. */
  readonly desiredWorkers: number;
  readonly runningWorkers: number;
  readonly pendingWorkers: number;
  /** A deployment is replacing tasks (a new image or task definition): counts move by themselves. */
  readonly deploying: boolean;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** Live workers that are not leaving, from the instance registry. */
  readonly workers: readonly WorkerLoad[];
}

type ScalingActionKind =
  | 'update-shard-count'
  | 'split-shard'
  | 'merge-shards'
  | 'set-parallelization-factor'
  | 'set-shedding'
  | 'set-worker-count';

/** What became of an action. `applied` and `already-done` count as done; a call's outcome is unknown until then. */
type ActionOutcomeStatus = 'applied' | 'already-done' | 'skipped' | 'refused' | 'failed' | 'not-acting';

/** An action taken earlier, as the audit log remembers it: the planner's memory of cool-downs and budgets. */
interface ActionRecord {
  readonly kind: ScalingActionKind;
  readonly atWallMs: number;
  /** `undefined` when the decision was written but its outcome never was (the manager stopped midway). */
  readonly outcome: ActionOutcomeStatus | undefined;
  /** update-shard-count: the count before and after. */
  readonly fromShards?: number;
  readonly toShards?: number;
  /** Direction of a capacity change (shards, or workers for set-worker-count). */
  readonly direction?: 'out' | 'in';
}

type PlannedAction =
  | {
      readonly kind: 'update-shard-count';
      readonly fromShards: number;
      readonly toShards: number;
      readonly reason: string;
    }
  | {
      readonly kind: 'split-shard';
      readonly shardId: string;
      /** Decimal; the upper child starts here. */
      readonly newStartingHashKey: string;
      /** Estimated share of the parent's load in the lower and upper child. */
      readonly lowerShare: number;
      readonly upperShare: number;
      readonly reason: string;
    }
  | {
      readonly kind: 'merge-shards';
      readonly shardId: string;
      readonly adjacentShardId: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'set-parallelization-factor';
      readonly from: number;
      readonly to: number;
      readonly reason: string;
    }
  | { readonly kind: 'set-shedding'; readonly active: boolean; readonly reason: string }
  | {
      /** The fleet's desired count (ECS UpdateService); scale-in stops tasks, which hand off gracefully. */
      readonly kind: 'set-worker-count';
      readonly from: number;
      readonly to: number;
      readonly reason: string;
    };

/** A partition key hotter than a shard should carry: reported and alarmed on, never split for. */
interface HotKeyFinding {
  readonly partitionKey: string;
  readonly hashKey: string;
  readonly shardId: string | undefined;
  readonly recordsPerSecond: number;
  /** Its share of one shard's write limits (1.0 = a whole shard). */
  readonly shardShare: number;
  readonly advice: string;
}

/** Something the planner wanted to do and a rule or limit stopped. */
interface BlockedAction {
  readonly wanted: string;
  readonly rule: string;
  readonly detail: string;
}

/** The figures the plan was made from, for people and the audit log. */
interface PlanSummary {
  readonly openShards: number;
  /** Latest demand in shard units (1.0 = one shard's write limit). */
  readonly demandShards: number;
  /** Latest demand ÷ open shards. */
  readonly utilization: number;
  readonly iteratorAgeMs: number | undefined;
  readonly parallelizationFactor: number | undefined;
  readonly sheddingActive: boolean;
  readonly updateShardCountCallsLast24h: number;
  readonly updateShardCountCallsLeft: number;
  readonly lastReshardAtWallMs: number | undefined;
  /** Hottest shard's latest utilization. */
  readonly hottestShard: { readonly shardId: string; readonly utilization: number } | undefined;
  /** The worker fleet, when containers consume the stream. */
  readonly fleet?: FleetSummary;
}

/** The fleet's figures a plan was made from. */
interface FleetSummary {
  readonly desiredWorkers: number;
  readonly runningWorkers: number;
  readonly liveWorkers: number;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** Sum of the live workers' CPU utilization: the fleet's load in workers (1.0 = one worker fully busy). */
  readonly load: number | undefined;
  /** The busiest worker: its CPU utilization and leases. */
  readonly busiest:
    | { readonly instanceId: string; readonly cpuUtilization: number; readonly leases: number }
    | undefined;
  /** Live workers holding no shard lease. */
  readonly idleWorkers: number;
}

/** The planner's answer: at most one resharding, maybe a parallelization change and a shedding change. */
interface Plan {
  readonly atWallMs: number;
  readonly actions: readonly PlannedAction[];
  /** Why, in the order the rules were applied. */
  readonly reasons: readonly string[];
  readonly blocked: readonly BlockedAction[];
  readonly hotKeys: readonly HotKeyFinding[];
  readonly summary: PlanSummary;
}

export type {
  ActionOutcomeStatus,
  ActionRecord,
  BlockedAction,
  FleetSummary,
  FleetView,
  HotKeyFinding,
  KeyRate,
  MetricPoint,
  MetricsHistory,
  OpenShard,
  Plan,
  PlannedAction,
  PlanSummary,
  ScalingActionKind,
  ShardLoad,
  StreamStatus,
  StreamView,
  WorkerLoad,
};
