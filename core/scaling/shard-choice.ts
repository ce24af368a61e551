/**
 * Which shard to split, which pair to merge and which partition keys are too hot to split for: the planner's
 * choices among shards, as pure functions of the shards, their figures and the policy.
 */
import { contains } from './hash-key.js';
import { loadMedianSplit } from './load-median.js';
import type {
  BlockedAction,
  HotKeyFinding,
  KeyRate,
  MetricPoint,
  OpenShard,
  PlannedAction,
} from './model.js';
import type { ScalingPolicy } from './policy.js';

/** A split must lower the hotter child to at most this share of the parent, or it is not worth a resharding. */
const USEFUL_SPLIT_MAX_SHARE = 0.9;

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function hottestFirst(shards: readonly OpenShard[], util: ReadonlyMap<string, number>): OpenShard[] {
  return [...shards].sort((a, b) => (util.get(b.shardId) ?? 0) - (util.get(a.shardId) ?? 0));
}

/** Splits the first candidate whose load-median split is useful; records why the others were passed over. */
function splitHottest(
  candidates: readonly OpenShard[],
  latest: MetricPoint | undefined,
  keys: readonly KeyRate[],
  policy: ScalingPolicy,
  util: ReadonlyMap<string, number>,
  reasons: string[],
  blocked: BlockedAction[],
): PlannedAction | undefined {
  for (const shard of candidates) {
    const load = latest?.shards[shard.shardId];
    const records = load === undefined ? 0 : load.recordsPerSecond + (load.throttledPerSecond ?? 0);
    const split = loadMedianSplit(shard.range, records, keys);
    if (split === undefined) {
      blocked.push({
        wanted: `split ${shard.shardId}`,
        rule: 'split-key-in-range',
        detail: 'its range holds one hash key',
      });
      continue;
    }
    const hotterChild = Math.max(split.lowerShare, split.upperShare);
    if (hotterChild > USEFUL_SPLIT_MAX_SHARE) {
      blocked.push({
        wanted: `split ${shard.shardId}`,
        rule: 'hot-key',
        detail:
          `${split.dominantKey === undefined ? 'one hash key' : `partition key ${JSON.stringify(split.dominantKey.partitionKey)}`} ` +
          `carries ${pct(split.dominantKey?.share ?? hotterChild)} of the shard; a split would leave ${pct(hotterChild)} in one child`,
      });
      continue;
    }
    const u = util.get(shard.shardId) ?? 0;
    reasons.push(
      `split ${shard.shardId} (${pct(u)} of its limits) at its load median: ${pct(split.lowerShare)} / ${pct(split.upperShare)}`,
    );
    return {
      kind: 'split-shard',
      shardId: shard.shardId,
      newStartingHashKey: split.newStartingHashKey.toString(),
      lowerShare: round(split.lowerShare),
      upperShare: round(split.upperShare),
      reason: `${shard.shardId} at ${pct(u)} of a shard's limits (target ${pct(policy.targetUtilization)}); split at its load median, not its hash midpoint`,
    };
  }
  return undefined;
}

/** An adjacent pair of shards, their merged peak and the hotter one's own peak over a window. */
interface AdjacentPair {
  readonly lower: OpenShard;
  readonly upper: OpenShard;
  readonly peak: number;
  readonly hotterPeak: number;
}

/** Adjacent pairs by their merged peak over the quiet window; only pairs with a full window of figures. */
function coldestAdjacentPair(
  shards: readonly OpenShard[],
  points: readonly MetricPoint[],
  util: (shardId: string, point: MetricPoint | undefined) => number | undefined,
): AdjacentPair | undefined {
  let best: AdjacentPair | undefined;
  const sorted = [...shards].sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
  for (let i = 0; i + 1 < sorted.length; i++) {
    const lower = sorted[i]!;
    const upper = sorted[i + 1]!;
    if (lower.range.end + 1n !== upper.range.start) continue;
    let peak = 0;
    let maxSingle = 0;
    let complete = points.length > 0;
    for (const p of points) {
      const a = util(lower.shardId, p);
      const b = util(upper.shardId, p);
      if (a === undefined || b === undefined) {
        complete = false;
        break;
      }
      peak = Math.max(peak, a + b);
      maxSingle = Math.max(maxSingle, a, b);
    }
    if (!complete) continue;
    if (best === undefined || peak < best.peak) best = { lower, upper, peak, hotterPeak: maxSingle };
  }
  return best;
}

/** Partition keys at or above `hotKeyShardShare` of one shard, hottest first, with advice. */
function findHotKeys(
  keys: readonly KeyRate[],
  shards: readonly OpenShard[],
  policy: ScalingPolicy,
): HotKeyFinding[] {
  return keys
    .map((k) => {
      const share = Math.max(
        k.recordsPerSecond / policy.limits.recordsPerSecond,
        (k.bytesPerSecond ?? 0) / policy.limits.bytesPerSecond,
      );
      return { k, share, shard: shards.find((s) => contains(s.range, k.hashKey)) };
    })
    .filter((x) => x.share >= policy.hotKeyShardShare)
    .sort((a, b) => b.share - a.share)
    .map(({ k, share, shard }) => ({
      partitionKey: k.partitionKey,
      hashKey: k.hashKey.toString(),
      shardId: shard?.shardId,
      recordsPerSecond: round(k.recordsPerSecond),
      shardShare: round(share),
      advice:
        share >= 1
          ? 'this key needs more than one shard can take: its writes are throttled whatever the shard count; spread it (a suffix on the partition key) or shed its table'
          : 'this key nearly fills a shard on its own: splitting cannot help it; watch its growth',
    }));
}

export type { AdjacentPair };
export { coldestAdjacentPair, findHotKeys, hottestFirst, pct, round, splitHottest };
