/**
 * The policies the simulator compares. Each is called once a minute (the cluster manager's schedule) with the
 * stream model, and acts only through `model.request` (which enforces Kinesis' rules) or, for on-demand mode,
 * Kinesis' own re-partitioning.
 */
import {
  type ActionRecord,
  actionRecordOf,
  HeavyHitters,
  type KeyRate,
  type PlannedAction,
  planScaling,
  type ScalingPolicy,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
  scalingPolicy,
  UPDATE_SHARD_COUNT_CALLS_PER_24H,
  updateShardCountCallsInWindow,
} from '../../../core/scaling/index.js';
import { HOT_KEY, type StreamModel } from './stream-model.js';
import { MIB } from './traces.js';

interface Policy {
  readonly name: string;
  readonly description: string;
  /** On-demand mode bills differently. */
  readonly billing: 'provisioned' | 'on-demand';
  initialShards(model: { readonly trace: StreamModel['trace'] }): number;
  /** Called at the end of every minute. */
  tick(model: StreamModel): void;
}

const shardRecordsPerSecond = (recordBytes: number) =>
  Math.min(SHARD_WRITE_RECORDS_PER_SECOND, SHARD_WRITE_BYTES_PER_SECOND / recordBytes);

/** Shards a demand needs at a utilization. */
const shardsFor = (recordsPerSecond: number, recordBytes: number, utilization: number) =>
  Math.max(1, Math.ceil(recordsPerSecond / (shardRecordsPerSecond(recordBytes) * utilization)));

/** Our planner, exactly as the cluster manager runs it, with a sketch of the partition keys it reads. */
function ours(overrides: Partial<ScalingPolicy> = {}): Policy {
  let policy: ScalingPolicy | undefined;
  const history: ActionRecord[] = [];
  const sketches: { atS: number; sketch: HeavyHitters }[] = [];
  return {
    name: 'ours',
    description: 'planner of core/scaling (defaults; maxShards per trace)',
    billing: 'provisioned',
    initialShards: ({ trace }) => shardsFor(demandAt(trace, 0), trace.recordBytes, 0.7),
    tick(model) {
      policy ??= scalingPolicy({ maxShards: model.trace.maxShards, ...overrides });
      // The consumers' sketches: the hot key's records and a sample of the evenly spread keys.
      const sketch = new HeavyHitters({ capacity: 64 });
      const hot = model.trace.hotKeyRecordsPerSecond(model.t - 30) * 60;
      if (hot > 0) sketch.offer(HOT_KEY, hot);
      const uniform = model.trace.uniformRecordsPerSecond(model.t - 30) * 60;
      for (let i = 0; i < 200; i++)
        sketch.offer(`k-${(model.t * 7919 + i * 104729) % 1_000_003}`, uniform / 200_000);
      sketches.push({ atS: model.t, sketch });
      while (sketches.length > 5) sketches.shift();
      const merged = new HeavyHitters({ capacity: 64 });
      for (const s of sketches) merged.merge(s.sketch);
      const seconds = sketches.length * 60;
      const hotKeys: KeyRate[] = merged
        .top(10)
        .map((h) => ({ partitionKey: h.key, hashKey: h.hashKey, recordsPerSecond: h.count / seconds }));
      const plan = planScaling({
        stream: {
          streamName: 'sim',
          status: model.status,
          openShards: model.openShards,
          parallelizationFactor: model.parallelization,
          sheddingActive: model.shedding,
        },
        // CloudWatch publishes a minute's figures about a minute late: the newest period is not seen yet.
        metrics: { points: model.points.slice(0, -1), hotKeys },
        policy,
        history,
        nowWallMs: model.nowWallMs,
      });
      for (const action of plan.actions) {
        const result = model.request(action);
        history.push(
          actionRecordOf({ action, atWallMs: model.nowWallMs, status: result.ok ? 'applied' : 'refused' }),
        );
      }
      const cutoff = model.nowWallMs - 26 * 3_600_000;
      while (history.length > 0 && history[0]!.atWallMs < cutoff) history.shift();
    },
  };
}

/** A fixed shard count sized for a demand at the planner's target utilization. */
function staticAt(which: 'peak' | 'mean'): Policy {
  return {
    name: `static at ${which}`,
    description: `fixed shards for the trace's ${which} demand at 70% utilization`,
    billing: 'provisioned',
    initialShards: ({ trace }) => {
      const samples: number[] = [];
      for (let t = 0; t < trace.durationS; t += trace.stepS) samples.push(demandAt(trace, t));
      const demand =
        which === 'peak' ? Math.max(...samples) : samples.reduce((a, b) => a + b, 0) / samples.length;
      return shardsFor(demand, trace.recordBytes, 0.7);
    },
    tick() {},
  };
}

/**
 * A threshold policy like amazon-kinesis-scaling-utils' autoscaler: every minute it compares the stream's
 * PUT throughput with its capacity; above 75% for 5 minutes → double (15-minute cool-off between scale-ups);
 * below 25% for 15 minutes → halve (60-minute cool-off). Modelled with UpdateShardCount (one call per step,
 * as fast as ours), within the quota: a call the quota forbids is not sent.
 */
function threshold(): Policy {
  const high: boolean[] = [];
  const low: boolean[] = [];
  let lastUp = Number.NEGATIVE_INFINITY;
  let lastDown = Number.NEGATIVE_INFINITY;
  return {
    name: 'threshold',
    description: 'up ×2 at 75% for 5 min (15 min cool-off), down ×½ at 25% for 15 min (60 min cool-off)',
    billing: 'provisioned',
    initialShards: ({ trace }) => shardsFor(demandAt(trace, 0), trace.recordBytes, 0.7),
    tick(model) {
      const point = model.points.at(-2);
      const seen = model.minutes.at(-2);
      if (point === undefined || seen === undefined) return;
      const n = model.openCount;
      const cap = seen.openShards * shardRecordsPerSecond(model.trace.recordBytes);
      const put = Object.values(point.shards).reduce((sum, s) => sum + s.recordsPerSecond, 0);
      const used = put / cap;
      high.push(used > 0.75);
      low.push(used < 0.25);
      if (high.length > 15) high.shift();
      if (low.length > 15) low.shift();
      if (model.status !== 'ACTIVE') return;
      const quotaLeft =
        updateShardCountCallsInWindow(model.updateShardCountCallsAtWallMs, model.nowWallMs) <
        UPDATE_SHARD_COUNT_CALLS_PER_24H;
      const t = model.t;
      let action: PlannedAction | undefined;
      if (high.slice(-5).length === 5 && high.slice(-5).every(Boolean) && t - lastUp >= 900) {
        const to = Math.min(2 * n, model.trace.maxShards);
        if (to > n)
          action = { kind: 'update-shard-count', fromShards: n, toShards: to, reason: 'above 75% for 5 min' };
        lastUp = action === undefined ? lastUp : t;
      } else if (low.length === 15 && low.every(Boolean) && t - lastDown >= 3600 && n > 1) {
        action = {
          kind: 'update-shard-count',
          fromShards: n,
          toShards: Math.ceil(n / 2),
          reason: 'below 25% for 15 min',
        };
        lastDown = t;
      }
      if (action !== undefined && quotaLeft) model.request(action);
    },
  };
}

/**
 * On-demand mode as published: write capacity follows twice the previous peak (of the last 30 days), at
 * least 4 MiB/s and 4,000 records/s; traffic more than doubling within 15 minutes can be throttled, because a
 * new peak counts as "previous" only 15 minutes on. Kinesis re-partitions by itself, evenly.
 */
function onDemand(): Policy {
  const peaks: { atS: number; bytesPerSecond: number }[] = [];
  let priorPeak = 0;
  return {
    name: 'on-demand',
    description: 'capacity = 2 × previous peak (≥ 4 MiB/s), new peaks count after 15 min',
    billing: 'on-demand',
    initialShards: ({ trace }) => Math.max(4, Math.ceil((2 * trace.priorPeakBytesPerSecond) / MIB)),
    tick(model) {
      if (priorPeak === 0) priorPeak = model.trace.priorPeakBytesPerSecond;
      const point = model.points.at(-1);
      if (point !== undefined) {
        const bytes = Object.values(point.shards).reduce((sum, s) => sum + s.bytesPerSecond, 0);
        peaks.push({ atS: model.t, bytesPerSecond: bytes });
      }
      let previous = priorPeak;
      for (const p of peaks) if (model.t - p.atS >= 900) previous = Math.max(previous, p.bytesPerSecond);
      const capacityBytes = Math.max(4 * MIB, 2 * previous);
      model.repartitionInstantly(Math.ceil(capacityBytes / MIB));
    },
  };
}

/** Total records/s the trace produces at `t`. */
function demandAt(trace: StreamModel['trace'], t: number): number {
  return trace.uniformRecordsPerSecond(t) + trace.hotKeyRecordsPerSecond(t);
}

export type { Policy };
export { demandAt, onDemand, ours, shardsFor, staticAt, threshold };
