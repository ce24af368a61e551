import { describe, expect, it } from 'vitest';
import { type KeyRate, loadMedianSplit, midpointSplit } from '../../../core/scaling/index.js';

const range = { start: 1000n, end: 1999n }; // 1,000 hash keys
const key = (hashKey: bigint, recordsPerSecond: number, partitionKey = `k${hashKey}`): KeyRate => ({
  partitionKey,
  hashKey,
  recordsPerSecond,
});

describe('Function: loadMedianSplit', () => {
  it('splits evenly spread load at the hash midpoint', () => {
    expect(loadMedianSplit(range, 800, [])).toEqual({
      newStartingHashKey: 1500n,
      lowerShare: 0.5,
      upperShare: 0.5,
      dominantKey: undefined,
    });
  });

  it('moves the split towards the known heavy keys: half of the records below it', () => {
    // 600 spread evenly + 400 on one key at 1100: the median is where 100 more spread records reach 500.
    const split = loadMedianSplit(range, 1000, [key(1100n, 400)])!;

    // Below 1100: 60 spread records; the key brings 460; 40 more spread records (≈ 67 keys) reach 500.
    expect(split.newStartingHashKey).toBeGreaterThan(1160n);
    expect(split.newStartingHashKey).toBeLessThan(1175n);
    expect(split.lowerShare).toBeCloseTo(0.5, 5);
    expect(split.dominantKey).toEqual({ partitionKey: 'k1100', share: 0.4 });
  });

  it('puts a key that holds the median whole on the side that leaves the lighter heavier child', () => {
    // 200 spread + 800 on one key at 1500: key below (lower 900 / upper 100) or above (lower 100 / upper 900).
    const keyLower = loadMedianSplit(range, 1000, [key(1500n, 800)])!;
    // With the key near the top, it goes above: lower 190, upper 810.
    const keyUpper = loadMedianSplit(range, 1000, [key(1950n, 800)])!;

    expect(keyLower.newStartingHashKey === 1500n || keyLower.newStartingHashKey === 1501n).toBe(true);
    expect(Math.max(keyLower.lowerShare, keyLower.upperShare)).toBeCloseTo(0.9, 5);
    expect(keyUpper.newStartingHashKey).toBe(1950n);
    expect(keyUpper.lowerShare).toBeCloseTo(0.19, 5);
  });

  it('never lets sketch estimates exceed the measured total, and ignores keys of other shards', () => {
    const split = loadMedianSplit(range, 100, [key(1200n, 150), key(5000n, 10_000)])!;

    expect(split.dominantKey).toEqual({ partitionKey: 'k1200', share: 1 });
    expect(split.newStartingHashKey === 1200n || split.newStartingHashKey === 1201n).toBe(true);
  });

  it('keeps the split key above the start, so both children hold keys', () => {
    const split = loadMedianSplit(range, 1000, [key(1000n, 900)])!;

    expect(split.newStartingHashKey).toBe(1001n);
    expect(split.lowerShare).toBeCloseTo(0.9, 5);
  });

  it('cannot split a range of one hash key, and falls back to the midpoint without load figures', () => {
    expect(loadMedianSplit({ start: 7n, end: 7n }, 1000, [])).toBeUndefined();
    expect(loadMedianSplit(range, 0, [])).toEqual(midpointSplit(range));
  });
});
