/**
 * Kinesis' resharding rules and the policy's shard bounds, in one place: the planner checks every action it
 * produces, the executor re-checks against the stream as it is at call time, and the simulator fails any
 * policy that breaks one.
 */
import { adjacent, contains, parseHashKey } from './hash-key.js';
import {
  MAX_PARALLELIZATION_FACTOR,
  MIN_PARALLELIZATION_FACTOR,
  UPDATE_SHARD_COUNT_CALLS_PER_24H,
  UPDATE_SHARD_COUNT_MAX_SHARDS,
  UPDATE_SHARD_COUNT_WINDOW_MS,
} from './limits.js';
import type { OpenShard, PlannedAction, StreamStatus } from './model.js';

/** The rules, by name. */
const RULES = {
  /** SplitShard, MergeShards and UpdateShardCount need an ACTIVE stream: one resharding at a time. */
  oneReshardingAtATime: 'one-resharding-at-a-time',
  /** At most 10 UpdateShardCount calls per rolling 24 h per stream. */
  updateShardCountRate: 'update-shard-count-rate',
  /** UpdateShardCount: at most double, at least half the current count. */
  updateShardCountFactor: 'update-shard-count-factor',
  /** UpdateShardCount: never above 10,000 shards. */
  updateShardCountMax: 'update-shard-count-max',
  /** MergeShards takes two open shards whose ranges touch. */
  adjacentMerge: 'adjacent-merge',
  /** SplitShard: NewStartingHashKey inside the shard's range, above its start, so both children are non-empty. */
  splitKeyInRange: 'split-key-in-range',
  /** The shard named must be open. */
  openShard: 'open-shard',
  /** The policy's minShards / maxShards. */
  shardBounds: 'shard-bounds',
  /** ParallelizationFactor is 1 … 10. */
  parallelizationRange: 'parallelization-factor-range',
  /** A worker fleet's desired count: a whole number within minWorkers … maxWorkers (a step towards them is allowed). */
  workerBounds: 'worker-bounds',
} as const;

type RuleName = (typeof RULES)[keyof typeof RULES];

interface RuleViolation {
  readonly rule: RuleName;
  readonly detail: string;
}

/** What the rules are checked against. */
interface RuleContext {
  readonly status: StreamStatus;
  readonly openShards: readonly OpenShard[];
  /** Wall times of UpdateShardCount calls Kinesis accepted (or may have: outcome unknown). */
  readonly updateShardCountCallsAtWallMs: readonly number[];
  readonly nowWallMs: number;
  readonly minShards?: number;
  readonly maxShards?: number;
  /** @default 10 */
  readonly updateShardCountCallsPer24h?: number;
  /** A worker fleet's bounds. */
  readonly minWorkers?: number;
  readonly maxWorkers?: number;
}

/** UpdateShardCount calls inside the rolling 24-hour window ending now. */
function updateShardCountCallsInWindow(callsAtWallMs: readonly number[], nowWallMs: number): number {
  return callsAtWallMs.filter((t) => t > nowWallMs - UPDATE_SHARD_COUNT_WINDOW_MS && t <= nowWallMs).length;
}

/**
 * Every rule `action` would break if sent now; empty when it is allowed.
 *
 * @example
 * ```ts
 * const violations = checkAction(action, { status, openShards, updateShardCountCallsAtWallMs, nowWallMs });
 * if (violations.length > 0) throw new ScalingRuleViolationError(action.kind, violations);
 * ```
 */
function checkAction(action: PlannedAction, context: RuleContext): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const n = context.openShards.length;
  const reshard =
    action.kind === 'update-shard-count' || action.kind === 'split-shard' || action.kind === 'merge-shards';
  if (reshard && context.status !== 'ACTIVE')
    violations.push({
      rule: RULES.oneReshardingAtATime,
      detail: `the stream is ${context.status}; a resharding starts only on an ACTIVE stream`,
    });
  const byId = (id: string) => context.openShards.find((s) => s.shardId === id);
  const bounds = (after: number) =>
    violations.push(
      ...boundsViolations(RULES.shardBounds, 'shards', after, n, context.minShards, context.maxShards),
    );
  switch (action.kind) {
    case 'update-shard-count': {
      const quota = context.updateShardCountCallsPer24h ?? UPDATE_SHARD_COUNT_CALLS_PER_24H;
      const calls = updateShardCountCallsInWindow(context.updateShardCountCallsAtWallMs, context.nowWallMs);
      if (calls >= quota)
        violations.push({
          rule: RULES.updateShardCountRate,
          detail: `${calls} calls in the last 24 h; Kinesis allows ${quota}`,
        });
      if (action.fromShards !== n)
        violations.push({
          rule: RULES.updateShardCountFactor,
          detail: `planned from ${action.fromShards} shards but the stream has ${n} open`,
        });
      if (action.toShards > 2 * n || 2 * action.toShards < n)
        violations.push({
          rule: RULES.updateShardCountFactor,
          detail: `${n} → ${action.toShards}: Kinesis allows ${Math.ceil(n / 2)} … ${2 * n}`,
        });
      if (!Number.isInteger(action.toShards) || action.toShards < 1)
        violations.push({
          rule: RULES.updateShardCountFactor,
          detail: `target ${action.toShards} is not a count`,
        });
      if (action.toShards > UPDATE_SHARD_COUNT_MAX_SHARDS)
        violations.push({
          rule: RULES.updateShardCountMax,
          detail: `${action.toShards} shards; UpdateShardCount stops at ${UPDATE_SHARD_COUNT_MAX_SHARDS}`,
        });
      if (action.toShards === n)
        violations.push({ rule: RULES.updateShardCountFactor, detail: `${n} → ${n} changes nothing` });
      bounds(action.toShards);
      break;
    }
    case 'split-shard': {
      const shard = byId(action.shardId);
      if (shard === undefined) {
        violations.push({ rule: RULES.openShard, detail: `${action.shardId} is not an open shard` });
        break;
      }
      let key: bigint | undefined;
      try {
        key = parseHashKey(action.newStartingHashKey, 'NewStartingHashKey');
      } catch {
        violations.push({
          rule: RULES.splitKeyInRange,
          detail: `${action.newStartingHashKey} is not a hash key`,
        });
      }
      if (key !== undefined && !(contains(shard.range, key) && key > shard.range.start))
        violations.push({
          rule: RULES.splitKeyInRange,
          detail: `${action.newStartingHashKey} is not in (${shard.range.start}, ${shard.range.end}]`,
        });
      bounds(n + 1);
      break;
    }
    case 'merge-shards': {
      const a = byId(action.shardId);
      const b = byId(action.adjacentShardId);
      if (a === undefined || b === undefined) {
        for (const [id, s] of [
          [action.shardId, a],
          [action.adjacentShardId, b],
        ] as const)
          if (s === undefined)
            violations.push({ rule: RULES.openShard, detail: `${id} is not an open shard` });
        break;
      }
      if (a.shardId === b.shardId || !adjacent(a.range, b.range))
        violations.push({
          rule: RULES.adjacentMerge,
          detail: `${a.shardId} [${a.range.start}, ${a.range.end}] and ${b.shardId} [${b.range.start}, ${b.range.end}] do not touch`,
        });
      bounds(n - 1);
      break;
    }
    case 'set-parallelization-factor':
      if (
        !Number.isInteger(action.to) ||
        action.to < MIN_PARALLELIZATION_FACTOR ||
        action.to > MAX_PARALLELIZATION_FACTOR
      )
        violations.push({
          rule: RULES.parallelizationRange,
          detail: `${action.to} is outside ${MIN_PARALLELIZATION_FACTOR} … ${MAX_PARALLELIZATION_FACTOR}`,
        });
      break;
    case 'set-shedding':
      break;
    case 'set-worker-count':
      violations.push(...workerCountViolations(action, context));
      break;
  }
  return violations;
}

function workerCountViolations(
  action: Extract<PlannedAction, { kind: 'set-worker-count' }>,
  context: RuleContext,
): RuleViolation[] {
  const { to, from } = action;
  if (!Number.isInteger(to) || to < 0)
    return [{ rule: RULES.workerBounds, detail: `${to} is not a count of workers` }];
  if (to === from) return [{ rule: RULES.workerBounds, detail: `${from} → ${to} changes nothing` }];
  return boundsViolations(RULES.workerBounds, 'workers', to, from, context.minWorkers, context.maxWorkers);
}

/**
 * A count outside min … max, unless it is a step towards them from `before` (a count already outside its
 * bounds may be corrected step by step).
 */
function boundsViolations(
  rule: RuleName,
  what: 'shards' | 'workers',
  after: number,
  before: number,
  min: number | undefined,
  max: number | undefined,
): RuleViolation[] {
  const name = what === 'shards' ? 'Shards' : 'Workers';
  const violations: RuleViolation[] = [];
  if (min !== undefined && after < min && after < before)
    violations.push({ rule, detail: `${after} ${what} would be below min${name} ${min}` });
  if (max !== undefined && after > max && after > before)
    violations.push({ rule, detail: `${after} ${what} would be above max${name} ${max}` });
  return violations;
}

/** True for the actions that reshard the stream. */
function isResharding(kind: PlannedAction['kind']): boolean {
  return kind === 'update-shard-count' || kind === 'split-shard' || kind === 'merge-shards';
}

export type { RuleContext, RuleName, RuleViolation };
export { checkAction, isResharding, RULES, updateShardCountCallsInWindow };
