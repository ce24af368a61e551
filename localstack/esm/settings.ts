/**
 * Settings of an event source mapping, with Lambda's names, ranges and defaults
 * (CreateEventSourceMapping for Kinesis).
 */
interface MappingSettings {
  /** Records per invocation, 1..10000. @default 100 */
  readonly batchSize: number;
  /** Time to gather a batch, 0..300000 ms. @default 0 */
  readonly maximumBatchingWindowMs: number;
  /** Concurrent batches per shard, 1..10; one partition key always stays in one of them. @default 1 */
  readonly parallelizationFactor: number;
  /** Retries of a failing batch before it goes to the on-failure destination; -1 = until the record expires. @default -1 */
  readonly maximumRetryAttempts: number;
  /** Records older than this go to the on-failure destination; -1 = never. @default -1 */
  readonly maximumRecordAgeSeconds: number;
  /** Where a shard without a checkpoint starts. @default 'TRIM_HORIZON' */
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

const DEFAULT_SETTINGS: MappingSettings = {
  batchSize: 100,
  maximumBatchingWindowMs: 0,
  parallelizationFactor: 1,
  maximumRetryAttempts: -1,
  maximumRecordAgeSeconds: -1,
  startingPosition: 'TRIM_HORIZON',
};

function checkRange(name: string, value: number, min: number, max: number, extra = ''): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in ${min}..${max}${extra}, received ${value}`);
}

/** Fills defaults and rejects values Lambda would reject, naming the value received. */
function mappingSettings(input: Partial<MappingSettings> = {}): MappingSettings {
  const s = { ...DEFAULT_SETTINGS, ...input };
  checkRange('batchSize', s.batchSize, 1, 10_000);
  checkRange('maximumBatchingWindowMs', s.maximumBatchingWindowMs, 0, 300_000);
  checkRange('parallelizationFactor', s.parallelizationFactor, 1, 10);
  checkRange('maximumRetryAttempts', s.maximumRetryAttempts, -1, 10_000);
  if (s.maximumRecordAgeSeconds !== -1)
    checkRange('maximumRecordAgeSeconds', s.maximumRecordAgeSeconds, 60, 604_800, ' or -1');
  return s;
}

export type { MappingSettings };
export { DEFAULT_SETTINGS, mappingSettings };
