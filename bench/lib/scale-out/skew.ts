/**
 * How a workload's key skew caps scaling, whatever the processor: Kinesis puts a record on the shard whose hash
 * key range holds the MD5 of its partition key, so one hot aggregate makes one hot shard, and once the colder
 * shards have drained, the owner of the hottest shard sets the pace. This computes each shard's share of a
 * generated workload and, for each worker count, the best that any assignment of whole shards could do.
 */
import { createHash } from 'node:crypto';
import { WorkloadGenerator } from '../../../localstack/workload/generator.js';

interface SkewCap {
  readonly workers: number;
  /** The largest share of the events one worker holds under the most even assignment of whole shards. */
  readonly largestWorkerShare: number;
  /** The efficiency T(n) / (n · T(1)) that share allows at most: 1 / (n · share). */
  readonly efficiencyCap: number;
}

/** The shard of a partition key on a stream whose `shards` split the 128-bit hash key space evenly. */
function shardOf(partitionKey: string, shards: number): number {
  const hash = BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
  return Number((hash * BigInt(shards)) >> 128n);
}

/** Each shard's share of `events` generated events, largest first. */
function shardShares(options: {
  seed: number;
  zipfExponent: number;
  shards: number;
  events?: number;
}): number[] {
  const generator = new WorkloadGenerator({ seed: options.seed, zipfExponent: options.zipfExponent });
  const events = options.events ?? 40_000;
  const counts = new Array<number>(options.shards).fill(0);
  for (let i = 0; i < events; i++) counts[shardOf(generator.next().partitionKey, options.shards)]!++;
  return counts.map((c) => c / events).sort((a, b) => b - a);
}

/**
 * The cap for each worker count: shards placed largest first on the least loaded worker (which is optimal
 * whenever the largest shard alone outweighs an even share, the case that matters here).
 */
function skewCaps(shares: readonly number[], workerCounts: readonly number[]): SkewCap[] {
  return workerCounts.map((workers) => {
    const loads = new Array<number>(workers).fill(0);
    for (const share of shares) {
      const least = loads.indexOf(Math.min(...loads));
      loads[least]! += share;
    }
    const largestWorkerShare = Math.max(...loads);
    return { workers, largestWorkerShare, efficiencyCap: Math.min(1, 1 / (workers * largestWorkerShare)) };
  });
}

export type { SkewCap };
export { shardOf, shardShares, skewCaps };
