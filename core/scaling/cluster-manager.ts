import type { LeaseGuard } from '../coordination/fenced-writer.js';
import { type AuditLog, actionHistory, type DecisionInputs, type DecisionRecord } from './audit-log.js';
import type { SheddingControl } from './config-shedding-control.js';
import { type ActionOutcome, ScalingExecutor } from './executor.js';
import type { FleetControl } from './fleet-control.js';
import type { Housekeeper, HousekeepingReport } from './housekeeping.js';
import type { StreamControl } from './kinesis-stream-control.js';
import type { ParallelizationControl } from './lambda-parallelization-control.js';
import { UPDATE_SHARD_COUNT_WINDOW_MS } from './limits.js';
import type { MetricsSource } from './metrics-source.js';
import type { ActionRecord, FleetView, MetricsHistory, Plan, StreamView } from './model.js';
import { planScaling, utilizationOf } from './planner.js';
import type { ScalingPolicy } from './policy.js';

interface ClusterManagerOptions {
  readonly stream: StreamControl;
  readonly metrics: MetricsSource;
  readonly audit: AuditLog;
  /** The policy, or how to get the current one (read from the configuration each run). */
  readonly policy: ScalingPolicy | (() => ScalingPolicy | Promise<ScalingPolicy>);
  readonly parallelization?: ParallelizationControl;
  readonly shedding?: SheddingControl;
  readonly housekeeper?: Housekeeper;
  /** The worker fleet (containers) the manager sizes; absent for Lambda's event source mapping. */
  readonly fleet?: FleetControl;
  readonly clock?: { readonly wallNow: () => number };
}

/** The leadership a run acts under (`LeaderElection.runIfLeader`'s term has this shape). */
interface ManagerTerm {
  readonly leaderId: string;
  readonly term: number;
  readonly guard: LeaseGuard;
  readonly signal?: AbortSignal;
}

/** Everything a plan was made from. */
interface Observation {
  readonly atWallMs: number;
  readonly stream: StreamView;
  readonly metrics: MetricsHistory;
  readonly history: readonly ActionRecord[];
  readonly decisions: readonly DecisionRecord[];
  readonly policy: ScalingPolicy;
  readonly fleet: FleetView | undefined;
}

/** What one run did. */
interface ManagerRun {
  readonly plan: Plan;
  /** `false` when another manager holds a later term: nothing was written or sent. */
  readonly claimed: boolean;
  readonly decisionId: string | undefined;
  readonly outcomes: readonly ActionOutcome[];
  readonly housekeeping: HousekeepingReport | undefined;
  /** Figures for the dashboard's metrics. */
  readonly figures: {
    readonly scalingActions: number;
    readonly hotKeys: number;
    readonly openShards: number;
    readonly updateShardCountCallsLeft: number;
    readonly sheddingActive: boolean;
    /** The worker fleet's figures, when there is one. */
    readonly fleet?: FleetFigures;
  };
}

/** A worker fleet's figures for the dashboard, as the manager saw them. */
interface FleetFigures {
  /** The desired count after this run's actions. */
  readonly desiredWorkers: number;
  readonly liveWorkers: number;
  /** Fewest and most shard leases a live worker holds. */
  readonly minLeasesPerWorker: number;
  readonly maxLeasesPerWorker: number;
  /** Live workers holding no shard. */
  readonly idleWorkers: number;
  /**
   * Age of the oldest heartbeat of a live worker, by this manager's wall clock against the worker's (skew
   * included: a dashboard figure, never a liveness verdict).
   */
  readonly maxHeartbeatAgeMs: number;
}

/**
 * One cluster-manager run, composed from its parts: observe (stream, consumer, configuration, metrics, the
 * audit log's last 24 h), plan (pure), claim the decision in the audit log under the leadership term, act
 * (only if the claim was written and the policy is enabled), record the outcomes, clean up dead instances and
 * their leases. `plan()` does the first two only, for `cdcp scale plan`.
 *
 * @example
 * ```ts
 * const manager = new ClusterManager({ stream, metrics, audit, policy: () => policyFromConfig(config()) });
 * await election.runIfLeader('cluster-manager', (term) => manager.run(term));
 * ```
 */
class ClusterManager {
  readonly #o: ClusterManagerOptions;
  readonly #executor: ScalingExecutor;
  readonly #wallNow: () => number;

  public constructor(options: ClusterManagerOptions) {
    this.#o = options;
    this.#wallNow = options.clock?.wallNow ?? Date.now;
    this.#executor = new ScalingExecutor({
      stream: options.stream,
      parallelization: options.parallelization,
      shedding: options.shedding,
      fleet: options.fleet,
      clock: { wallNow: this.#wallNow },
    });
  }

  /** Reads everything a plan needs. */
  public async observe(): Promise<Observation> {
    const policy = typeof this.#o.policy === 'function' ? await this.#o.policy() : this.#o.policy;
    const atWallMs = this.#wallNow();
    const [description, parallelizationFactor, sheddingActive, decisions, fleet] = await Promise.all([
      this.#o.stream.describe(),
      this.#o.parallelization?.get(),
      this.#o.shedding?.isActive() ?? Promise.resolve(false),
      this.#o.audit.list({ sinceWallMs: atWallMs - UPDATE_SHARD_COUNT_WINDOW_MS - policy.scaleInAfterMs }),
      this.#o.fleet?.view(),
    ]);
    const stream: StreamView = {
      streamName: description.streamName,
      status: description.status,
      openShards: description.openShards,
      parallelizationFactor,
      sheddingActive,
    };
    const metrics = await this.#o.metrics.fetch({
      shards: description.openShards,
      nowWallMs: atWallMs,
      windowMs: Math.max(policy.scaleInAfterMs, policy.scaleOutAfterMs),
    });
    return { atWallMs, stream, metrics, history: actionHistory(decisions), decisions, policy, fleet };
  }

  /** What the manager would do now, without acting or writing anything. */
  public async plan(): Promise<{ readonly plan: Plan; readonly observation: Observation }> {
    const observation = await this.observe();
    return { plan: this.#planFrom(observation), observation };
  }

  /** One run under `term`: plan, claim (fenced), act, record, clean up. */
  public async run(term: ManagerTerm): Promise<ManagerRun> {
    const observation = await this.observe();
    const plan = this.#planFrom(observation);
    const { policy } = observation;
    const claim = await this.#o.audit.claim(
      {
        atWallMs: observation.atWallMs,
        term: term.term,
        leaderId: term.leaderId,
        acting: policy.enabled,
        inputs: inputsOf(observation, plan.actions.length > 0),
        plan,
      },
      term.guard,
    );
    if (!claim.written) return this.#result(plan, false, undefined, [], undefined, observation);
    const outcomes: ActionOutcome[] = policy.enabled
      ? await this.#executor.execute(plan, {
          history: observation.history,
          minShards: policy.minShards,
          maxShards: policy.maxShards,
          updateShardCountCallsPer24h: policy.limits.updateShardCountCallsPer24h,
          signal: term.signal,
        })
      : plan.actions.map((action) => ({
          action,
          status: 'not-acting' as const,
          detail: 'scaling.enabled is false: planned and audited only',
          atWallMs: this.#wallNow(),
        }));
    const housekeeping = term.signal?.aborted ? undefined : await this.#o.housekeeper?.run();
    await this.#o.audit.complete(
      claim.id,
      term.term,
      outcomes,
      housekeeping as unknown as Record<string, unknown>,
    );
    return this.#result(plan, true, claim.id, outcomes, housekeeping, observation);
  }

  #planFrom(observation: Observation): Plan {
    return planScaling({
      stream: observation.stream,
      metrics: observation.metrics,
      policy: observation.policy,
      history: observation.history,
      nowWallMs: observation.atWallMs,
      ...(observation.fleet === undefined ? {} : { fleet: observation.fleet }),
    });
  }

  #result(
    plan: Plan,
    claimed: boolean,
    decisionId: string | undefined,
    outcomes: readonly ActionOutcome[],
    housekeeping: HousekeepingReport | undefined,
    observation: Observation,
  ): ManagerRun {
    const shedding = outcomes.find(
      (o) => o.action.kind === 'set-shedding' && (o.status === 'applied' || o.status === 'already-done'),
    );
    return {
      plan,
      claimed,
      decisionId,
      outcomes,
      housekeeping,
      figures: {
        scalingActions: outcomes.filter((o) => o.status === 'applied').length,
        hotKeys: plan.hotKeys.length,
        openShards: observation.stream.openShards.length,
        updateShardCountCallsLeft: plan.summary.updateShardCountCallsLeft,
        sheddingActive:
          shedding !== undefined && shedding.action.kind === 'set-shedding'
            ? shedding.action.active
            : observation.stream.sheddingActive,
        ...(observation.fleet === undefined
          ? {}
          : { fleet: fleetFigures(observation.fleet, outcomes, observation.atWallMs) }),
      },
    };
  }
}

/** The fleet's figures after this run: the desired count it set (if it did), leases per live worker. */
function fleetFigures(fleet: FleetView, outcomes: readonly ActionOutcome[], atWallMs: number): FleetFigures {
  const resized = outcomes.find(
    (o) => o.action.kind === 'set-worker-count' && (o.status === 'applied' || o.status === 'already-done'),
  );
  const leases = fleet.workers.map((w) => w.leases);
  return {
    desiredWorkers:
      resized !== undefined && resized.action.kind === 'set-worker-count'
        ? resized.action.to
        : fleet.desiredWorkers,
    liveWorkers: fleet.workers.length,
    minLeasesPerWorker: leases.length === 0 ? 0 : Math.min(...leases),
    maxLeasesPerWorker: leases.length === 0 ? 0 : Math.max(...leases),
    idleWorkers: leases.filter((l) => l === 0).length,
    maxHeartbeatAgeMs: Math.max(0, ...fleet.workers.map((w) => atWallMs - w.heartbeatAtWallMs)),
  };
}

/**
 * The inputs stored with a decision. A decision without actions keeps only the plan's summary: every run reads
 * the last 24 hours of decisions, and a minute's idle decision should cost a read unit, not dozens.
 */
function inputsOf(observation: Observation, withShards: boolean): DecisionInputs {
  const latest = observation.metrics.points.at(-1);
  const { policy } = observation;
  const shards = withShards ? observation.stream.openShards.slice(0, 500) : [];
  return {
    streamName: observation.stream.streamName,
    status: observation.stream.status,
    shards: shards.map((s) => {
      const load = latest?.shards[s.shardId];
      return {
        shardId: s.shardId,
        start: s.range.start.toString(),
        end: s.range.end.toString(),
        utilization: load === undefined ? 0 : Math.round(utilizationOf(load, policy) * 1000) / 1000,
      };
    }),
    metricsPoints: observation.metrics.points.length,
    policy: withShards ? { ...policy } : {},
  };
}

export type { ClusterManagerOptions, FleetFigures, ManagerRun, ManagerTerm, Observation };
export { ClusterManager };
