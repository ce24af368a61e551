import { OptionsError } from '../errors.js';

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

type NumericSetting = Exclude<keyof MappingSettings, 'startingPosition'>;

/** Lambda's ranges for the numeric settings; `orMinusOne`: -1 (never / unlimited) is accepted too. */
const MAPPING_LIMITS: Readonly<Record<NumericSetting, { min: number; max: number; orMinusOne?: boolean }>> = {
  batchSize: { min: 1, max: 10_000 },
  maximumBatchingWindowMs: { min: 0, max: 300_000 },
  parallelizationFactor: { min: 1, max: 10 },
  maximumRetryAttempts: { min: -1, max: 10_000 },
  maximumRecordAgeSeconds: { min: 60, max: 604_800, orMinusOne: true },
};

const STARTING_POSITIONS: readonly MappingSettings['startingPosition'][] = ['TRIM_HORIZON', 'LATEST'];

/** What a numeric setting must be, if `value` is not that (for messages that name where the value came from). */
function mappingSettingProblem(name: NumericSetting, value: number): string | undefined {
  const { min, max, orMinusOne } = MAPPING_LIMITS[name];
  if (orMinusOne && value === -1) return undefined;
  if (Number.isInteger(value) && value >= min && value <= max) return undefined;
  return `an integer in ${min}..${max}${orMinusOne ? ' or -1' : ''}`;
}

/** Fills defaults and rejects values Lambda would reject, naming the value received. */
function mappingSettings(input: Partial<MappingSettings> = {}): MappingSettings {
  const s = { ...DEFAULT_SETTINGS, ...input };
  for (const name of Object.keys(MAPPING_LIMITS) as NumericSetting[]) {
    const problem = mappingSettingProblem(name, s[name]);
    if (problem !== undefined) throw new OptionsError(name, s[name], `must be ${problem}`);
  }
  if (!STARTING_POSITIONS.includes(s.startingPosition))
    throw new OptionsError(
      'startingPosition',
      s.startingPosition,
      `must be ${STARTING_POSITIONS.join(' or ')}`,
    );
  return s;
}

export type { MappingSettings, NumericSetting };
export { DEFAULT_SETTINGS, MAPPING_LIMITS, mappingSettingProblem, mappingSettings, STARTING_POSITIONS };
