/**
 * Kinesis Data Streams and Lambda limits the cluster manager must respect, each with where it is stated.
 * These are AWS's default quotas; an account with raised quotas passes its own figures through the policy.
 */

/** Per-shard write limits: 1,000 records/s and 1 MiB/s (Kinesis Data Streams quotas; PutRecords API reference). */
const SHARD_WRITE_RECORDS_PER_SECOND = 1_000;
const SHARD_WRITE_BYTES_PER_SECOND = 1_048_576;
/** Per-shard read limit for shared-throughput consumers: 2 MiB/s (the event source mapping polls with GetRecords). */
const SHARD_READ_BYTES_PER_SECOND = 2_097_152;

/**
 * UpdateShardCount (API reference, "default limits"): at most ten calls per rolling 24-hour period per stream,
 * never above double or below half the current count, never above 10,000 shards per stream.
 */
const UPDATE_SHARD_COUNT_CALLS_PER_24H = 10;
const UPDATE_SHARD_COUNT_WINDOW_MS = 24 * 3_600_000;
const UPDATE_SHARD_COUNT_MAX_SHARDS = 10_000;

/**
 * Lambda's event source mapping: ParallelizationFactor is 1 to 10 concurrent batches per shard (Lambda
 * parameters for Kinesis event source mappings: default 1, maximum 10).
 */
const MIN_PARALLELIZATION_FACTOR = 1;
const MAX_PARALLELIZATION_FACTOR = 10;

/**
 * The hash key space: Kinesis routes a record to the open shard whose range holds the MD5 of its partition
 * key read as an unsigned 128-bit integer, 0 … 2^128 − 1.
 */
const MAX_HASH_KEY = (1n << 128n) - 1n;

export {
  MAX_HASH_KEY,
  MAX_PARALLELIZATION_FACTOR,
  MIN_PARALLELIZATION_FACTOR,
  SHARD_READ_BYTES_PER_SECOND,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
  UPDATE_SHARD_COUNT_CALLS_PER_24H,
  UPDATE_SHARD_COUNT_MAX_SHARDS,
  UPDATE_SHARD_COUNT_WINDOW_MS,
};
