import type { Config } from '../config/schema.js';
import { OptionsError } from '../errors.js';
import {
  MAX_PARALLELIZATION_FACTOR,
  MIN_PARALLELIZATION_FACTOR,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
  UPDATE_SHARD_COUNT_CALLS_PER_24H,
  UPDATE_SHARD_COUNT_MAX_SHARDS,
} from './limits.js';

/** When the manager sheds load (docs/architecture.md §8; the config's `shedding` section). */
interface SheddingPolicy {
  /** The manager may turn shedding on and off by itself. */
  readonly auto: boolean;
  /** Iterator age above which it sheds when scaling cannot act in time. */
  readonly lagCriticalMs: number;
  /** Iterator age below which it lifts shedding. */
  readonly lagRecoveredMs: number;
}

/**
 * Everything the planner decides by. {@link policyFromConfig} fills it from the published configuration;
 * the settings the configuration does not carry keep the defaults of {@link DEFAULT_POLICY}.
 */
interface ScalingPolicy {
  /** Act on the plan; `false`: plan and audit only. */
  readonly enabled: boolean;
  /** Share of its shards' write limits the stream should run at, on average over its shards. */
  readonly targetUtilization: number;
  /** No single shard above this share for the sustained window: it is split (skew, a hot region). */
  readonly maxShardUtilization: number;
  /** Over target for this long (every period of the window) before scaling out. */
  readonly scaleOutAfterMs: number;
  /** Iterator age that calls for more consumer capacity at once (parallelization first, then shards). */
  readonly scaleOutIteratorAgeMs: number;
  /** Write throttling in each of this many latest periods is saturation: scale out without waiting. */
  readonly saturationPeriods: number;
  /** A shard under this share for the whole quiet window is cold: an adjacent cold pair may merge. */
  readonly scaleInUtilization: number;
  /** After scaling in, the quiet window's peak must fit the remaining shards at this share (hysteresis). */
  readonly scaleInTargetUtilization: number;
  /** A merged pair's quiet-window peak must stay under this share of one shard. */
  readonly mergeMaxUtilization: number;
  /** Quiet window before scaling in; longer than `scaleOutAfterMs`. */
  readonly scaleInAfterMs: number;
  /** No scaling in for this long after a scale-out or an UpdateShardCount. */
  readonly cooldownMs: number;
  /** After any resharding, wait this long for metrics of the new shards before resharding again. */
  readonly settleMs: number;
  readonly minShards: number;
  readonly maxShards: number;
  readonly minParallelizationFactor: number;
  readonly maxParallelizationFactor: number;
  /** Iterator age above which ParallelizationFactor is raised (doubled). */
  readonly parallelizationLagMs: number;
  /** Iterator age below which, for the whole quiet window, ParallelizationFactor is lowered (halved). */
  readonly parallelizationIdleLagMs: number;
  /** Of the UpdateShardCount calls Kinesis allows per rolling 24 h, keep this many for emergencies. */
  readonly updateShardCountReserve: number;
  /** A partition key above this share of one shard's limits is reported as hot instead of split for. */
  readonly hotKeyShardShare: number;
  /**
   * A change of at least this share of the shard count (or a saturated majority of shards) is made with one
   * UpdateShardCount; smaller ones by splitting or merging single shards, which spend none of its quota.
   */
  readonly updateShardCountMinChange: number;
  readonly shedding: SheddingPolicy;
  /** A worker fleet's mean CPU utilization (of what each task may use) to run at; above it the fleet grows. */
  readonly workerTargetUtilization: number;
  /** A worker above this CPU utilization that holds more than one shard needs help: the fleet grows. */
  readonly workerMaxUtilization: number;
  /** After removing workers, the fleet's load at the quiet window's peak must fit at this utilization. */
  readonly workerScaleInTargetUtilization: number;
  /** After a worker-count change, no other for this long: new tasks start, register and take leases. */
  readonly workerSettleMs: number;
  /** Per-shard write limits and the UpdateShardCount quota (AWS defaults; raise them if your account has). */
  readonly limits: {
    readonly recordsPerSecond: number;
    readonly bytesPerSecond: number;
    readonly updateShardCountCallsPer24h: number;
  };
}

const DEFAULT_POLICY: ScalingPolicy = {
  enabled: true,
  targetUtilization: 0.7,
  maxShardUtilization: 0.9,
  scaleOutAfterMs: 300_000,
  scaleOutIteratorAgeMs: 60_000,
  saturationPeriods: 2,
  scaleInUtilization: 0.2,
  scaleInTargetUtilization: 0.6,
  mergeMaxUtilization: 0.75,
  scaleInAfterMs: 1_800_000,
  cooldownMs: 900_000,
  settleMs: 120_000,
  minShards: 1,
  maxShards: 64,
  minParallelizationFactor: MIN_PARALLELIZATION_FACTOR,
  maxParallelizationFactor: MAX_PARALLELIZATION_FACTOR,
  parallelizationLagMs: 30_000,
  parallelizationIdleLagMs: 5_000,
  updateShardCountReserve: 2,
  hotKeyShardShare: 0.8,
  updateShardCountMinChange: 0.25,
  shedding: { auto: true, lagCriticalMs: 300_000, lagRecoveredMs: 30_000 },
  workerTargetUtilization: 0.6,
  workerMaxUtilization: 0.85,
  workerScaleInTargetUtilization: 0.45,
  workerSettleMs: 180_000,
  limits: {
    recordsPerSecond: SHARD_WRITE_RECORDS_PER_SECOND,
    bytesPerSecond: SHARD_WRITE_BYTES_PER_SECOND,
    updateShardCountCallsPer24h: UPDATE_SHARD_COUNT_CALLS_PER_24H,
  },
};

type PolicyOverrides = Partial<Omit<ScalingPolicy, 'shedding' | 'limits'>> & {
  readonly shedding?: Partial<SheddingPolicy>;
  readonly limits?: Partial<ScalingPolicy['limits']>;
};

/**
 * A validated policy: defaults, overridden field by field. Throws {@link OptionsError} naming the first
 * setting that is out of range, the value and the fix.
 *
 * @example
 * ```ts
 * const policy = scalingPolicy({ minShards: 2, maxShards: 128 });
 * ```
 */
function scalingPolicy(overrides: PolicyOverrides = {}): ScalingPolicy {
  const policy: ScalingPolicy = {
    ...DEFAULT_POLICY,
    ...overrides,
    shedding: { ...DEFAULT_POLICY.shedding, ...overrides.shedding },
    limits: { ...DEFAULT_POLICY.limits, ...overrides.limits },
  };
  validatePolicy(policy);
  return policy;
}

/**
 * The policy the published configuration asks for (`scaling` and `shedding` sections); settings the
 * configuration does not carry keep their defaults.
 *
 * @example
 * ```ts
 * const policy = policyFromConfig(snapshot.config);
 * ```
 */
function policyFromConfig(config: Config, overrides: PolicyOverrides = {}): ScalingPolicy {
  const s = config.scaling;
  return scalingPolicy({
    enabled: s.enabled,
    targetUtilization: s.targetUtilization,
    maxShardUtilization: Math.max(DEFAULT_POLICY.maxShardUtilization, s.targetUtilization),
    scaleOutAfterMs: s.scaleOutAfterSeconds * 1000,
    scaleOutIteratorAgeMs: s.scaleOutIteratorAgeMs,
    scaleInUtilization: s.scaleInUtilization,
    scaleInTargetUtilization: Math.min(
      DEFAULT_POLICY.scaleInTargetUtilization,
      Math.round((s.targetUtilization - 0.05) * 100) / 100,
    ),
    scaleInAfterMs: s.scaleInAfterSeconds * 1000,
    cooldownMs: s.cooldownSeconds * 1000,
    minShards: s.minShards,
    maxShards: s.maxShards,
    maxParallelizationFactor: s.maxParallelizationFactor,
    parallelizationLagMs: Math.min(DEFAULT_POLICY.parallelizationLagMs, s.scaleOutIteratorAgeMs / 2),
    updateShardCountReserve: s.updateShardCountReserve,
    hotKeyShardShare: s.hotKeyShardShare,
    ...overrides,
    shedding: {
      auto: config.shedding.auto,
      lagCriticalMs: config.shedding.lagCriticalMs,
      lagRecoveredMs: config.shedding.lagRecoveredMs,
      ...overrides.shedding,
    },
  });
}

function validatePolicy(p: ScalingPolicy): void {
  const ratio = (name: string, value: number, min: number, max: number) => {
    if (!(value >= min && value <= max))
      throw new OptionsError(name, value, `must be a number from ${min} to ${max}`);
  };
  const whole = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new OptionsError(name, value, `must be a whole number from ${min} to ${max}`);
  };
  const duration = (name: string, value: number) => {
    if (!Number.isFinite(value) || value < 0)
      throw new OptionsError(name, value, 'must be a duration in milliseconds, 0 or more');
  };
  ratio('targetUtilization', p.targetUtilization, 0.1, 1);
  ratio('scaleInUtilization', p.scaleInUtilization, 0, p.targetUtilization / 2);
  if (!(p.scaleInTargetUtilization > 0 && p.scaleInTargetUtilization < p.targetUtilization))
    throw new OptionsError(
      'scaleInTargetUtilization',
      p.scaleInTargetUtilization,
      `must be above 0 and below targetUtilization (${p.targetUtilization}), or scaling in would trigger a scale-out`,
    );
  for (const name of [
    'scaleOutAfterMs',
    'scaleOutIteratorAgeMs',
    'scaleInAfterMs',
    'cooldownMs',
    'settleMs',
    'parallelizationLagMs',
    'parallelizationIdleLagMs',
    'workerSettleMs',
  ] as const)
    duration(name, p[name]);
  if (p.scaleInAfterMs <= p.scaleOutAfterMs)
    throw new OptionsError(
      'scaleInAfterMs',
      p.scaleInAfterMs,
      `must be longer than scaleOutAfterMs (${p.scaleOutAfterMs}): the longer quiet window is the hysteresis`,
    );
  whole('saturationPeriods', p.saturationPeriods, 1, 60);
  whole('minShards', p.minShards, 1, UPDATE_SHARD_COUNT_MAX_SHARDS);
  whole('maxShards', p.maxShards, p.minShards, UPDATE_SHARD_COUNT_MAX_SHARDS);
  whole(
    'minParallelizationFactor',
    p.minParallelizationFactor,
    MIN_PARALLELIZATION_FACTOR,
    MAX_PARALLELIZATION_FACTOR,
  );
  whole(
    'maxParallelizationFactor',
    p.maxParallelizationFactor,
    p.minParallelizationFactor,
    MAX_PARALLELIZATION_FACTOR,
  );
  whole('limits.updateShardCountCallsPer24h', p.limits.updateShardCountCallsPer24h, 1, 1000);
  whole('updateShardCountReserve', p.updateShardCountReserve, 0, p.limits.updateShardCountCallsPer24h - 1);
  ratio('hotKeyShardShare', p.hotKeyShardShare, 0.1, 1);
  ratio('updateShardCountMinChange', p.updateShardCountMinChange, 0, 1);
  ratio('maxShardUtilization', p.maxShardUtilization, p.targetUtilization, 1);
  if (!(p.mergeMaxUtilization > 0 && p.mergeMaxUtilization < p.maxShardUtilization))
    throw new OptionsError(
      'mergeMaxUtilization',
      p.mergeMaxUtilization,
      `must be above 0 and below maxShardUtilization (${p.maxShardUtilization}), or a merge would be split again`,
    );
  validateWorkerPolicy(p);
  if (!(p.limits.recordsPerSecond > 0))
    throw new OptionsError('limits.recordsPerSecond', p.limits.recordsPerSecond, 'must be above 0');
  if (!(p.limits.bytesPerSecond > 0))
    throw new OptionsError('limits.bytesPerSecond', p.limits.bytesPerSecond, 'must be above 0');
  duration('shedding.lagCriticalMs', p.shedding.lagCriticalMs);
  if (!(p.shedding.lagRecoveredMs >= 0 && p.shedding.lagRecoveredMs <= p.shedding.lagCriticalMs))
    throw new OptionsError(
      'shedding.lagRecoveredMs',
      p.shedding.lagRecoveredMs,
      `must not be above shedding.lagCriticalMs (${p.shedding.lagCriticalMs}), or shedding would flap`,
    );
}

/** The worker-fleet thresholds: a scale-in must never land above the scale-out threshold (hysteresis). */
function validateWorkerPolicy(p: ScalingPolicy): void {
  if (!(p.workerTargetUtilization >= 0.1 && p.workerTargetUtilization <= 1))
    throw new OptionsError(
      'workerTargetUtilization',
      p.workerTargetUtilization,
      'must be a number from 0.1 to 1',
    );
  if (!(p.workerMaxUtilization >= p.workerTargetUtilization && p.workerMaxUtilization <= 1))
    throw new OptionsError(
      'workerMaxUtilization',
      p.workerMaxUtilization,
      `must be a number from workerTargetUtilization (${p.workerTargetUtilization}) to 1`,
    );
  if (!(p.workerScaleInTargetUtilization > 0 && p.workerScaleInTargetUtilization < p.workerTargetUtilization))
    throw new OptionsError(
      'workerScaleInTargetUtilization',
      p.workerScaleInTargetUtilization,
      `must be above 0 and below workerTargetUtilization (${p.workerTargetUtilization}), or removing workers would call for adding them back`,
    );
}

export type { PolicyOverrides, ScalingPolicy, SheddingPolicy };
export { DEFAULT_POLICY, policyFromConfig, scalingPolicy };
