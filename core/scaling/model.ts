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

type ScalingActionKind =
  | 'update-shard-count'
  | 'split-shard'
  | 'merge-shards'
  | 'set-parallelization-factor'
  | 'set-shedding';

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
  /** Direction of a capacity change. */
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
  | { readonly kind: 'set-shedding'; readonly active: boolean; readonly reason: string };

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
};
