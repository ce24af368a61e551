import { contains, type HashRange, keyAtFraction, width } from './hash-key.js';
import type { KeyRate } from './model.js';

/** Where to split a shard and how its load would divide. */
interface SplitPoint {
  /** The upper child's first hash key (SplitShard's NewStartingHashKey). */
  readonly newStartingHashKey: bigint;
  /** Estimated shares of the parent's records in the lower and upper child (they sum to 1). */
  readonly lowerShare: number;
  readonly upperShare: number;
  /** The heaviest known key of the shard, if any, with its share of the shard's records. */
  readonly dominantKey: { readonly partitionKey: string; readonly share: number } | undefined;
}

/**
 * The split of `range` at its **load median**: the hash key below which half of the shard's records fall.
 * Known heavy keys are point masses at their hash keys; the rest of the shard's records (total minus the
 * known keys) is spread evenly over the range. When one key holds the median, the key goes to the side that
 * leaves the lighter heavier child. `undefined` when the range holds a single hash key (nothing to split).
 *
 * @example
 * ```ts
 * const split = loadMedianSplit(shard.range, 1200, hotKeys);
 * // split.newStartingHashKey → SplitShard's NewStartingHashKey
 * ```
 */
function loadMedianSplit(
  range: HashRange,
  shardRecordsPerSecond: number,
  keys: readonly KeyRate[],
): SplitPoint | undefined {
  if (width(range) < 2n) return undefined;
  const inRange = keys
    .filter((k) => contains(range, k.hashKey) && k.recordsPerSecond > 0)
    .sort((a, b) => (a.hashKey < b.hashKey ? -1 : a.hashKey > b.hashKey ? 1 : 0));
  const knownTotal = inRange.reduce((sum, k) => sum + k.recordsPerSecond, 0);
  // Sketch estimates may exceed what the shard measured; never let known keys exceed the shard's total.
  const total = Math.max(shardRecordsPerSecond, knownTotal);
  if (!(total > 0)) return midpointSplit(range);
  const uniform = total - knownTotal;
  const w = Number(width(range));
  const half = total / 2;
  const dominant = inRange.reduce<KeyRate | undefined>(
    (best, k) => (best === undefined || k.recordsPerSecond > best.recordsPerSecond ? k : best),
    undefined,
  );
  const dominantKey =
    dominant === undefined
      ? undefined
      : { partitionKey: dominant.partitionKey, share: dominant.recordsPerSecond / total };

  let below = 0; // records strictly below `cursor`
  let cursor = range.start;
  for (const key of inRange) {
    // The evenly spread part between the cursor and this key.
    const segment = (uniform * Number(key.hashKey - cursor)) / w;
    if (below + segment >= half && uniform > 0) {
      const into = (half - below) / uniform; // fraction of the whole range to advance
      return pointAt(range, cursor, into, total, half, dominantKey);
    }
    below += segment;
    if (below + key.recordsPerSecond >= half) {
      // The key holds the median: it goes whole to one side.
      const keyUpper = { at: key.hashKey, lower: below };
      const keyLower = { at: key.hashKey + 1n, lower: below + key.recordsPerSecond };
      const worst = (o: { lower: number }) => Math.max(o.lower, total - o.lower);
      const options = [keyUpper, keyLower].filter((o) => o.at > range.start && o.at <= range.end);
      if (options.length === 0) return midpointSplit(range);
      const best = options.reduce((a, b) => (worst(b) < worst(a) ? b : a));
      return {
        newStartingHashKey: best.at,
        lowerShare: best.lower / total,
        upperShare: 1 - best.lower / total,
        dominantKey,
      };
    }
    below += key.recordsPerSecond;
    cursor = key.hashKey + 1n;
  }
  // The median lies in the evenly spread part after the last key.
  const into = uniform > 0 ? (half - below) / uniform : 0;
  return pointAt(range, cursor, into, total, half, dominantKey);
}

function pointAt(
  range: HashRange,
  cursor: bigint,
  fractionOfRange: number,
  total: number,
  half: number,
  dominantKey: SplitPoint['dominantKey'],
): SplitPoint {
  const offsetKey = keyAtFraction({ start: 0n, end: range.end - range.start }, fractionOfRange);
  let key = cursor + offsetKey;
  if (key <= range.start) key = range.start + 1n;
  if (key > range.end) key = range.end;
  return { newStartingHashKey: key, lowerShare: half / total, upperShare: 1 - half / total, dominantKey };
}

/** No load figures: the hash midpoint. */
function midpointSplit(range: HashRange): SplitPoint | undefined {
  if (width(range) < 2n) return undefined;
  const key = range.start + width(range) / 2n;
  return { newStartingHashKey: key, lowerShare: 0.5, upperShare: 0.5, dominantKey: undefined };
}

export type { SplitPoint };
export { loadMedianSplit, midpointSplit };
