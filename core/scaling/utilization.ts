/**
 * How much of the stream's write limits a load uses, in shard units (1.0 = one shard's limits), and the windows
 * of metric points the planner judges it over. Pure functions of the points and the policy.
 */
import type { MetricPoint, ShardLoad } from './model.js';
import type { ScalingPolicy } from './policy.js';

/** Assumed record size when a period carried no records but throttled some (bytes per throttled record). */
const FALLBACK_RECORD_BYTES = 1024;

/** A trailing window of metric points, and whether the points cover all of it. */
interface MetricWindow {
  readonly points: readonly MetricPoint[];
  readonly covered: boolean;
}

/**
 * Share of one shard's write limits a load uses: the larger of its records and bytes shares, with refused
 * writes counted as demand. A throttled record is counted again at every retry, so refused writes add at most
 * one more shard's worth: a saturated shard reads as "up to twice its limits", never more.
 *
 * @example
 * ```ts
 * utilizationOf({ recordsPerSecond: 700, bytesPerSecond: 700 * 1024 }, policy); // 0.7
 * ```
 */
function utilizationOf(load: ShardLoad, policy: ScalingPolicy): number {
  const recordBytes =
    load.recordsPerSecond > 0 ? load.bytesPerSecond / load.recordsPerSecond : FALLBACK_RECORD_BYTES;
  const throttled = Math.min(
    load.throttledPerSecond ?? 0,
    policy.limits.recordsPerSecond,
    policy.limits.bytesPerSecond / recordBytes,
  );
  return Math.max(
    (load.recordsPerSecond + throttled) / policy.limits.recordsPerSecond,
    (load.bytesPerSecond + throttled * recordBytes) / policy.limits.bytesPerSecond,
  );
}

/**
 * A point's demand in shard units (1.0 = one shard's limits): the sum over its shards, or the stream's total
 * if that is higher (per-shard figures cover only the shards asked for, not those closed since).
 *
 * @example
 * ```ts
 * const demand = demandOf(metrics.points.at(-1)!, policy); // 2.4 shard-units
 * ```
 */
function demandOf(point: MetricPoint, policy: ScalingPolicy): number {
  const sum = Object.values(point.shards).reduce((total, load) => total + utilizationOf(load, policy), 0);
  return Math.max(sum, point.stream === undefined ? 0 : utilizationOf(point.stream, policy));
}

/** Points overlapping the trailing window of `windowMs` before now, and whether they cover all of it. */
function windowOf(points: readonly MetricPoint[], nowWallMs: number, windowMs: number): MetricWindow {
  const selected = points.filter(
    (p) => p.atWallMs + p.periodMs > nowWallMs - windowMs && p.atWallMs < nowWallMs,
  );
  const first = selected[0];
  const covered = first !== undefined && first.atWallMs <= nowWallMs - windowMs + first.periodMs / 2;
  return { points: selected, covered };
}

/** The lowest utilization of a shard over the window: over target for the whole window iff this is. */
function sustainedUtil(
  shardId: string,
  window: MetricWindow,
  util: (shardId: string, point: MetricPoint | undefined) => number | undefined,
): number | undefined {
  if (!window.covered) return undefined;
  const values = window.points.map((p) => util(shardId, p));
  // A shard without a full window (a fresh split child) is not judged sustained yet.
  if (values.some((v) => v === undefined)) return undefined;
  return Math.min(...(values as number[]));
}

export type { MetricWindow };
export { demandOf, sustainedUtil, utilizationOf, windowOf };
