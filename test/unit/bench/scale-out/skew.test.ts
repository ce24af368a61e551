/** The cap a workload's key skew puts on scaling, as the scale-out benchmark reports it. */
import { describe, expect, it } from 'vitest';
import { shardOf, shardShares, skewCaps } from '../../../../bench/lib/scale-out/skew.js';

describe('Function: shardOf', () => {
  it('places a key by the top of its MD5, as Kinesis splits the hash key space evenly', () => {
    // MD5("a") = 0cc175b9…, MD5("b") = 92eb5ffe…
    expect(shardOf('a', 16)).toBe(0);
    expect(shardOf('b', 16)).toBe(9);
    expect(shardOf('b', 2)).toBe(1);
    expect(shardOf('b', 1)).toBe(0);
  });
});

describe('Function: skewCaps', () => {
  it('allows full efficiency while every worker can get an even share, and no more than the hottest shard allows', () => {
    const even = skewCaps([0.25, 0.25, 0.25, 0.25], [1, 2, 4, 8]);
    expect(even.map((c) => c.efficiencyCap)).toEqual([1, 1, 1, 0.5]);
    const skewed = skewCaps([0.5, 0.2, 0.2, 0.1], [2, 4]);
    expect(skewed.map((c) => c.largestWorkerShare)).toEqual([0.5, 0.5]);
    expect(skewed.map((c) => c.efficiencyCap)).toEqual([1, 0.5]);
  });
});

describe('Function: shardShares', () => {
  it('spreads a uniform choice of aggregates evenly and a Zipf 1.1 choice onto one hot shard', () => {
    const uniform = shardShares({ seed: 42, zipfExponent: 0, shards: 16, events: 20_000 });
    const zipf = shardShares({ seed: 42, zipfExponent: 1.1, shards: 16, events: 20_000 });
    for (const shares of [uniform, zipf]) {
      expect(shares).toHaveLength(16);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect([...shares].sort((a, b) => b - a)).toEqual(shares);
    }
    expect(uniform[0]).toBeLessThan(0.09);
    // The hottest of 10,000 aggregates alone draws about 15% of a Zipf 1.1 choice.
    expect(zipf[0]).toBeGreaterThan(0.15);
    expect(skewCaps(zipf, [8])[0]!.efficiencyCap).toBeLessThan(0.7);
    expect(skewCaps(uniform, [8])[0]!.efficiencyCap).toBeGreaterThan(0.9);
  });
});
