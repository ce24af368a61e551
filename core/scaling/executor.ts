import { messageOf } from '../errors.js';
import type { SheddingControl } from './config-shedding-control.js';
import type { FleetControl } from './fleet-control.js';
import { parseHashKey } from './hash-key.js';
import { checkAction, isResharding } from './kinesis-rules.js';
import type { StreamControl, StreamDescription } from './kinesis-stream-control.js';
import type { ParallelizationControl } from './lambda-parallelization-control.js';
import type { ActionOutcomeStatus, ActionRecord, Plan, PlannedAction } from './model.js';

/** What became of one planned action. */
interface ActionOutcome {
  readonly action: PlannedAction;
  readonly status: ActionOutcomeStatus;
  readonly detail: string;
  readonly atWallMs: number;
}

interface ScalingExecutorOptions {
  readonly stream: StreamControl;
  /** Absent: ParallelizationFactor actions are skipped (no mapping to tune). */
  readonly parallelization?: ParallelizationControl;
  /** Absent: shedding actions are skipped (no publisher). */
  readonly shedding?: SheddingControl;
  /** Absent: worker-count actions are skipped (no worker fleet). */
  readonly fleet?: FleetControl;
  readonly clock?: { readonly wallNow: () => number };
}

interface ExecuteOptions {
  /** Earlier actions (for the UpdateShardCount quota check at call time). */
  readonly history: readonly ActionRecord[];
  readonly minShards?: number;
  readonly maxShards?: number;
  readonly updateShardCountCallsPer24h?: number;
  /** Leadership: once it aborts, nothing more is sent. */
  readonly signal?: AbortSignal;
}

/** Error names of the SDK exceptions that mean "not now" rather than "broken". */
const IN_USE = 'ResourceInUseException';
const LIMIT = 'LimitExceededException';

/**
 * Applies a plan with idempotent calls. Before each resharding it reads the stream again and checks the
 * action against Kinesis' rules as the stream is *now*; an action whose effect is already there (a retry of
 * a run whose response was lost, or a second manager) reports `already-done` and sends nothing; one whose
 * precondition is gone (the shard closed meanwhile, a resharding in progress) reports `skipped`; Kinesis
 * refusing for a limit reports `refused`; anything else `failed`, with the error's message. It stops sending
 * as soon as `signal` aborts (leadership lost).
 *
 * @example
 * ```ts
 * const executor = new ScalingExecutor({ stream, parallelization, shedding });
 * const outcomes = await executor.execute(plan, { history, signal: term.signal });
 * ```
 */
class ScalingExecutor {
  readonly #o: ScalingExecutorOptions;
  readonly #wallNow: () => number;

  public constructor(options: ScalingExecutorOptions) {
    this.#o = options;
    this.#wallNow = options.clock?.wallNow ?? Date.now;
  }

  public async execute(plan: Plan, options: ExecuteOptions): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    for (const action of plan.actions) {
      if (options.signal?.aborted) {
        outcomes.push(this.#outcome(action, 'skipped', 'leadership lost before this action; nothing sent'));
        continue;
      }
      try {
        outcomes.push(await this.#apply(action, options));
      } catch (error) {
        outcomes.push(this.#fromError(action, error));
      }
    }
    return outcomes;
  }

  async #apply(action: PlannedAction, options: ExecuteOptions): Promise<ActionOutcome> {
    if (isResharding(action.kind)) return this.#reshard(action, options);
    if (action.kind === 'set-parallelization-factor') {
      const control = this.#o.parallelization;
      if (control === undefined) return this.#outcome(action, 'skipped', 'no event source mapping to tune');
      const current = await control.get();
      if (current === action.to)
        return this.#outcome(action, 'already-done', `ParallelizationFactor is ${current}`);
      const violations = checkAction(action, {
        status: 'ACTIVE',
        openShards: [],
        updateShardCountCallsAtWallMs: [],
        nowWallMs: this.#wallNow(),
      });
      if (violations.length > 0)
        return this.#outcome(action, 'refused', violations.map((v) => v.detail).join('; '));
      await control.set(action.to);
      return this.#outcome(action, 'applied', `ParallelizationFactor ${current} → ${action.to}`);
    }
    if (action.kind === 'set-shedding') {
      const control = this.#o.shedding;
      if (control === undefined) return this.#outcome(action, 'skipped', 'no configuration publisher');
      const version = await control.set(action.active, action.reason);
      return version === undefined
        ? this.#outcome(action, 'already-done', `shedding is already ${action.active ? 'on' : 'off'}`)
        : this.#outcome(
            action,
            'applied',
            `shedding ${action.active ? 'on' : 'off'} in configuration version ${version}`,
          );
    }
    if (action.kind === 'set-worker-count') return this.#resizeFleet(action);
    return this.#outcome(action, 'skipped', 'not a known action');
  }

  /**
   * Sets the fleet's desired count, after reading it again: already there is `already-done`; moved since the
   * plan (a person, another manager) is `skipped`, and the next plan starts from the new count.
   */
  async #resizeFleet(action: Extract<PlannedAction, { kind: 'set-worker-count' }>): Promise<ActionOutcome> {
    const fleet = this.#o.fleet;
    if (fleet === undefined) return this.#outcome(action, 'skipped', 'no worker fleet to size');
    const current = await fleet.desiredWorkers();
    if (current === action.to)
      return this.#outcome(action, 'already-done', `the service asks for ${current} workers`);
    if (current !== action.from)
      return this.#outcome(
        action,
        'skipped',
        `the service asks for ${current} workers, not the ${action.from} planned from; the next plan starts from there`,
      );
    const violations = checkAction(action, {
      status: 'ACTIVE',
      openShards: [],
      updateShardCountCallsAtWallMs: [],
      nowWallMs: this.#wallNow(),
      minWorkers: fleet.minWorkers,
      maxWorkers: fleet.maxWorkers,
    });
    if (violations.length > 0)
      return this.#outcome(action, 'refused', violations.map((v) => `${v.rule}: ${v.detail}`).join('; '));
    await fleet.setWorkerCount(action.to);
    return this.#outcome(
      action,
      'applied',
      `UpdateService desired count ${current} → ${action.to}${action.to < current ? ' (stopped tasks hand their leases off)' : ''}`,
    );
  }

  async #reshard(action: PlannedAction, options: ExecuteOptions): Promise<ActionOutcome> {
    const stream = this.#o.stream;
    const now = await stream.describe();
    const done = this.#alreadyDone(action, now);
    if (done !== undefined) return this.#outcome(action, 'already-done', done);
    const gone = this.#preconditionGone(action, now);
    if (gone !== undefined) return this.#outcome(action, 'skipped', gone);
    const violations = checkAction(action, {
      status: now.status,
      openShards: now.openShards,
      updateShardCountCallsAtWallMs: options.history
        .filter(
          (a) => a.kind === 'update-shard-count' && (a.outcome === undefined || a.outcome === 'applied'),
        )
        .map((a) => a.atWallMs),
      nowWallMs: this.#wallNow(),
      minShards: options.minShards,
      maxShards: options.maxShards,
      updateShardCountCallsPer24h: options.updateShardCountCallsPer24h,
    });
    if (violations.length > 0) {
      const inProgress = violations.every((v) => v.rule === 'one-resharding-at-a-time');
      return this.#outcome(
        action,
        inProgress ? 'skipped' : 'refused',
        violations.map((v) => `${v.rule}: ${v.detail}`).join('; '),
      );
    }
    switch (action.kind) {
      case 'update-shard-count':
        await stream.updateShardCount(action.toShards);
        return this.#outcome(
          action,
          'applied',
          `UpdateShardCount ${action.fromShards} → ${action.toShards} accepted`,
        );
      case 'split-shard':
        await stream.splitShard(action.shardId, action.newStartingHashKey);
        return this.#outcome(
          action,
          'applied',
          `SplitShard ${action.shardId} at ${action.newStartingHashKey} accepted`,
        );
      case 'merge-shards': {
        // The lower range first: Kinesis accepts either order, some emulators (kinesis-mock) only this one.
        const [lower, upper] = [action.shardId, action.adjacentShardId]
          .map((id) => now.openShards.find((s) => s.shardId === id)!)
          .sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
        await stream.mergeShards(lower!.shardId, upper!.shardId);
        return this.#outcome(action, 'applied', `MergeShards ${lower!.shardId} + ${upper!.shardId} accepted`);
      }
      default:
        return this.#outcome(action, 'skipped', 'not a resharding');
    }
  }

  /** A description of the effect when it is already in place, else `undefined`. */
  #alreadyDone(action: PlannedAction, now: StreamDescription): string | undefined {
    switch (action.kind) {
      case 'update-shard-count':
        return now.openShards.length === action.toShards
          ? `the stream has ${action.toShards} open shards`
          : undefined;
      case 'split-shard': {
        const key = parseHashKey(action.newStartingHashKey, 'NewStartingHashKey');
        const child = now.shards.find(
          (s) =>
            s.parentShardIds?.length === 1 && s.parentShardIds[0] === action.shardId && s.range.start === key,
        );
        return child === undefined
          ? undefined
          : `${action.shardId} was split at ${action.newStartingHashKey} (child ${child.shardId})`;
      }
      case 'merge-shards': {
        const pair = new Set([action.shardId, action.adjacentShardId]);
        const child = now.shards.find(
          (s) => s.parentShardIds?.length === 2 && s.parentShardIds.every((p) => pair.has(p)),
        );
        return child === undefined
          ? undefined
          : `${action.shardId} and ${action.adjacentShardId} were merged into ${child.shardId}`;
      }
      default:
        return undefined;
    }
  }

  #preconditionGone(action: PlannedAction, now: StreamDescription): string | undefined {
    const open = new Set(now.openShards.map((s) => s.shardId));
    if (action.kind === 'split-shard' && !open.has(action.shardId))
      return `${action.shardId} is no longer open; the next plan starts from the current shards`;
    if (action.kind === 'merge-shards') {
      const closed = [action.shardId, action.adjacentShardId].filter((id) => !open.has(id));
      if (closed.length > 0)
        return `${closed.join(' and ')} no longer open; the next plan starts from the current shards`;
    }
    if (
      action.kind === 'update-shard-count' &&
      now.openShards.length !== action.fromShards &&
      now.status === 'ACTIVE'
    )
      return `the stream has ${now.openShards.length} open shards, not the ${action.fromShards} planned from`;
    return undefined;
  }

  #fromError(action: PlannedAction, error: unknown): ActionOutcome {
    const name = (error as { name?: string }).name;
    const message = messageOf(error);
    if (name === IN_USE)
      return this.#outcome(action, 'skipped', `${name}: ${message} (a resharding or update is in progress)`);
    if (name === LIMIT) return this.#outcome(action, 'refused', `${name}: ${message}`);
    return this.#outcome(action, 'failed', `${name ?? 'Error'}: ${message}`);
  }

  #outcome(action: PlannedAction, status: ActionOutcomeStatus, detail: string): ActionOutcome {
    return { action, status, detail, atWallMs: this.#wallNow() };
  }
}

/** The planner's memory of one executed action. */
function actionRecordOf(
  outcome: Pick<ActionOutcome, 'action' | 'atWallMs'> & { status: ActionOutcomeStatus | undefined },
): ActionRecord {
  const a = outcome.action;
  const direction =
    a.kind === 'split-shard'
      ? 'out'
      : a.kind === 'merge-shards'
        ? 'in'
        : a.kind === 'update-shard-count'
          ? a.toShards > a.fromShards
            ? 'out'
            : 'in'
          : a.kind === 'set-worker-count'
            ? a.to > a.from
              ? 'out'
              : 'in'
            : undefined;
  return {
    kind: a.kind,
    atWallMs: outcome.atWallMs,
    outcome: outcome.status,
    ...(a.kind === 'update-shard-count' ? { fromShards: a.fromShards, toShards: a.toShards } : {}),
    ...(direction === undefined ? {} : { direction }),
  };
}

export type { ActionOutcome, ExecuteOptions, ScalingExecutorOptions };
export { actionRecordOf, ScalingExecutor };
