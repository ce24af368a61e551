/** Builders for planner inputs: shards with real hash ranges, per-minute metric points, an action history. */
import {
  type ActionRecord,
  type FleetView,
  type KeyRate,
  type MetricPoint,
  type MetricsHistory,
  type OpenShard,
  type PlanInput,
  type ScalingPolicy,
  type ShardLoad,
  type StreamView,
  scalingPolicy,
  uniformRanges,
  type WorkerLoad,
} from '../../core/scaling/index.js';

/** A minute boundary: the planner's "now" in unit tests. */
const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);
const MINUTE = 60_000;

/** `count` shards covering the key space evenly, ids as Kinesis names them. */
function evenShards(count: number, firstIndex = 0): OpenShard[] {
  return uniformRanges(count).map((range, i) => ({ shardId: shardId(firstIndex + i), range }));
}

function shardId(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/** A load at `utilization` of one shard's records limit, with 1 KiB records (records bind before bytes). */
function load(utilization: number, throttledPerSecond = 0): ShardLoad {
  return {
    recordsPerSecond: utilization * 1000,
    bytesPerSecond: utilization * 1000 * 1024,
    throttledPerSecond,
  };
}

/**
 * `minutes` one-minute points ending at `now`, oldest first; `at(shardIndex, minutesAgo)` gives each shard's
 * utilization (undefined: the shard has no figures in that minute).
 */
function points(
  shards: readonly OpenShard[],
  minutes: number,
  at: (shardIndex: number, minutesAgo: number) => number | ShardLoad | undefined,
  extra: (minutesAgo: number) => Partial<MetricPoint> = () => ({}),
  now = NOW,
): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let ago = minutes - 1; ago >= 0; ago--) {
    const loads: Record<string, ShardLoad> = {};
    shards.forEach((s, i) => {
      const v = at(i, ago);
      if (v !== undefined) loads[s.shardId] = typeof v === 'number' ? load(v) : v;
    });
    out.push({
      atWallMs: now - (ago + 1) * MINUTE,
      periodMs: MINUTE,
      shards: loads,
      iteratorAgeMs: 0,
      ...extra(ago),
    });
  }
  return out;
}

function view(shards: readonly OpenShard[], overrides: Partial<StreamView> = {}): StreamView {
  return {
    streamName: 'changes',
    status: 'ACTIVE',
    openShards: shards,
    parallelizationFactor: 1,
    sheddingActive: false,
    ...overrides,
  };
}

/** UpdateShardCount calls Kinesis accepted, `minutesAgo` each. */
function updateShardCountCalls(...minutesAgo: number[]): ActionRecord[] {
  return minutesAgo.map((ago) => ({
    kind: 'update-shard-count',
    atWallMs: NOW - ago * MINUTE,
    outcome: 'applied',
    fromShards: 4,
    toShards: 8,
    direction: 'out',
  }));
}

/** A live worker at `cpuUtilization` of its task's CPU, holding `leases` shard leases. */
function worker(instanceId: string, cpuUtilization: number | undefined, leases: number): WorkerLoad {
  return {
    instanceId,
    cpuUtilization,
    eventsPerSecond: 100,
    lagMs: 50,
    leases,
    heartbeatAtWallMs: NOW - 1_000,
  };
}

/**
 * A settled fleet (every desired task running, no deployment) of `workers`, sized within `minWorkers` 1 and
 * `maxWorkers` 16 unless overridden.
 */
function fleet(workers: readonly WorkerLoad[], overrides: Partial<FleetView> = {}): FleetView {
  return {
    desiredWorkers: workers.length,
    runningWorkers: workers.length,
    pendingWorkers: 0,
    deploying: false,
    minWorkers: 1,
    maxWorkers: 16,
    workers,
    ...overrides,
  };
}

function input(
  stream: StreamView,
  metricPoints: readonly MetricPoint[],
  options: {
    readonly policy?: Partial<ScalingPolicy>;
    readonly history?: readonly ActionRecord[];
    readonly hotKeys?: readonly KeyRate[];
    readonly now?: number;
    readonly fleet?: FleetView;
  } = {},
): PlanInput {
  const metrics: MetricsHistory = { points: metricPoints, hotKeys: options.hotKeys ?? [] };
  return {
    stream,
    metrics,
    policy: scalingPolicy({ maxShards: 64, ...options.policy }),
    history: options.history ?? [],
    nowWallMs: options.now ?? NOW,
    ...(options.fleet === undefined ? {} : { fleet: options.fleet }),
  };
}

export { evenShards, fleet, input, load, MINUTE, NOW, points, shardId, updateShardCountCalls, view, worker };
