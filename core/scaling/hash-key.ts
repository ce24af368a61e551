import { createHash } from 'node:crypto';
import { OptionsError } from '../errors.js';
import { MAX_HASH_KEY } from './limits.js';

/** A shard's hash key range, both ends inclusive, as Kinesis' ListShards reports it. */
interface HashRange {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * The hash key Kinesis routes `partitionKey` by: the MD5 digest of its UTF-8 bytes read as an unsigned
 * 128-bit big-endian integer (Kinesis developer guide, "partition key").
 *
 * @example
 * ```ts
 * const shard = openShards.find((s) => contains(s.range, hashKeyOf('order-42')));
 * ```
 */
function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** Parses a hash key as the API writes it (a decimal string). */
function parseHashKey(value: string, what = 'hash key'): bigint {
  if (!/^\d{1,39}$/.test(value))
    throw new OptionsError(what, value, 'must be a decimal integer between 0 and 2^128 − 1');
  const key = BigInt(value);
  if (key > MAX_HASH_KEY)
    throw new OptionsError(what, value, 'must be a decimal integer between 0 and 2^128 − 1');
  return key;
}

/** A range from the API's decimal strings. */
function hashRange(start: string, end: string): HashRange {
  const range = { start: parseHashKey(start, 'StartingHashKey'), end: parseHashKey(end, 'EndingHashKey') };
  if (range.start > range.end)
    throw new OptionsError('EndingHashKey', end, `must not be below StartingHashKey ${start}`);
  return range;
}

/** Number of hash keys in the range. */
function width(range: HashRange): bigint {
  return range.end - range.start + 1n;
}

function contains(range: HashRange, key: bigint): boolean {
  return key >= range.start && key <= range.end;
}

/** True when the two ranges touch with no gap, in either order: the only shards MergeShards accepts. */
function adjacent(a: HashRange, b: HashRange): boolean {
  return a.end + 1n === b.start || b.end + 1n === a.start;
}

/** The fraction of the whole key space the range covers (for uniform-load estimates). */
function shareOfKeySpace(range: HashRange): number {
  // 2^128 does not fit a double exactly, but 53 bits of precision are plenty for a share.
  return Number(width(range)) / Number(MAX_HASH_KEY + 1n);
}

/** A key `fraction` (0 … 1) of the way into the range, rounded down and kept inside it. */
function keyAtFraction(range: HashRange, fraction: number): bigint {
  const clamped = Math.min(1, Math.max(0, fraction));
  const scale = 1_000_000_000_000n;
  const offset = (width(range) * BigInt(Math.round(clamped * 1e12))) / scale;
  const key = range.start + offset;
  return key > range.end ? range.end : key;
}

/**
 * The ranges UpdateShardCount's UNIFORM_SCALING leaves: the key space cut into `count` near-equal parts.
 * (Kinesis does not document its exact boundaries; the simulator and tests use these.)
 */
function uniformRanges(count: number): HashRange[] {
  const total = MAX_HASH_KEY + 1n;
  const n = BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    start: (total * BigInt(i)) / n,
    end: (total * BigInt(i + 1)) / n - 1n,
  }));
}

export type { HashRange };
export {
  adjacent,
  contains,
  hashKeyOf,
  hashRange,
  keyAtFraction,
  parseHashKey,
  shareOfKeySpace,
  uniformRanges,
  width,
};
