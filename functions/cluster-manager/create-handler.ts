/**
 * The cluster manager Lambda's handler, built from explicit dependencies (`handler.ts` composes it from the
 * Lambda environment). It records this execution environment in the instance registry, takes (or renews) the
 * `cluster-manager` leadership, publishing the heartbeat metric the missing-leader alarm watches, and, as the
 * leader, runs one round of the cluster manager (`core/scaling`): plan, claim the decision in the audit log
 * under its term, act, record the outcomes, clean up dead instances; then sweeps changes deferred by a table that
 * is no longer deferred.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { configConvergence } from '../../core/config/convergence.js';
import { reportedConfigVersion } from '../../core/config/reported-version.js';
import type { ConfigSnapshot } from '../../core/config/source.js';
import { LEADER_ROLES, METRICS } from '../../core/constants.js';
import type { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import type { LeaderElection } from '../../core/coordination/leader-election.js';
import type { SweepReport } from '../../core/processing/deferred-sweep.js';
import type { ClusterManager, ManagerRun } from '../../core/scaling/cluster-manager.js';

interface ClusterManagerDependencies {
  readonly registry: InstanceRegistry;
  /** Candidate id = this execution environment's instance id. */
  readonly election: LeaderElection;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The scaling round the leader runs each time; absent: leadership and heartbeat only. */
  readonly manager?: Pick<ClusterManager, 'run'>;
  /**
   * Replays deferred changes of tables no longer deferred (a `DeferredSweep` over the deployment's tables); the
   * leader runs it after its scaling round. Absent: consumers resume deferred aggregates at their next change only.
   */
  readonly sweepDeferred?: () => Promise<SweepReport | undefined>;
  /**
   * Counts the aggregates quarantined behind a poison change now (`ParkedStore.countQuarantined`); the leader
   * publishes it each run as the `QuarantinedAggregates` gauge the standing-quarantine alarm watches. Absent:
   * not published.
   */
  readonly countQuarantined?: () => Promise<{ readonly aggregates: number; readonly complete: boolean }>;
  /**
   * The configuration this manager runs: reported in its heartbeat, the version the leader counts live
   * instances against (the `InstancesOnStaleConfig` metric), and the log level of each run. Absent: none of it.
   */
  readonly config?: () => ConfigSnapshot;
}

/** What one scheduled run found. */
interface ClusterManagerRun {
  readonly instanceId: string;
  readonly leader: boolean;
  /** The leadership term: this run's if it led, the current leader's as last seen otherwise. */
  readonly term: number | undefined;
  readonly leaderId: string | undefined;
  /** What the leader's scaling round planned and did. */
  readonly scaling?: {
    readonly claimed: boolean;
    readonly decisionId: string | undefined;
    readonly actions: readonly { readonly kind: string; readonly status: string; readonly detail: string }[];
    readonly reasons: readonly string[];
  };
  /** What the leader's deferred sweep did (absent when it had nothing to look at, or failed: see the log). */
  readonly deferred?: SweepReport;
}

/**
 * @example
 * ```ts
 * export const handler = createClusterManagerHandler({ registry, election, logger, metrics });
 * ```
 */
function createClusterManagerHandler(deps: ClusterManagerDependencies) {
  const { registry, election, logger, metrics, manager, sweepDeferred } = deps;
  const instanceId = election.candidateId;
  let registered = false;

  /** Heartbeat if registered; (re-)register if not yet, or if observers removed this instance as dead. */
  async function recordHeartbeat(): Promise<void> {
    const snapshot = deps.config?.();
    const configVersion = snapshot === undefined ? undefined : reportedConfigVersion(snapshot);
    if (registered && (await registry.heartbeat(instanceId, { configVersion })) !== undefined) return;
    registered = await registry.register({ instanceId, kind: 'lambda', configVersion });
    if (!registered)
      throw new Error(`instance id ${instanceId} is registered by another process; ids are random UUIDs`);
  }

  return middy(async function manageCluster(
    _event: ScheduledEvent,
    _context: Context,
  ): Promise<ClusterManagerRun> {
    // After the middlewares, which reset the level to the one the logger was started with.
    const level = deps.config?.().config.logging.level;
    if (level !== undefined) logger.setLogLevel(level);
    await recordHeartbeat();
    let led = false;
    const run = await election
      .runIfLeader(LEADER_ROLES.clusterManager, async (term) => {
        led = true;
        metrics.addMetric(METRICS.clusterManagerHeartbeat, MetricUnit.Count, 1);
        metrics.addMetric(METRICS.leaderTerm, MetricUnit.Count, term.term);
        const round = manager === undefined ? undefined : await manager.run(term);
        if (round !== undefined) recordRound(round);
        await recordConvergence();
        const deferred = await sweep();
        await recordQuarantined();
        return { round, deferred };
      })
      .finally(async () => {
        // Leadership lasts one run: released at its end, the next run leads at once, whichever execution
        // environment it lands in (a recycled one no longer waits out the lease of one that is gone).
        if (led) await election.resign(LEADER_ROLES.clusterManager).catch(() => false);
      });
    const result: ClusterManagerRun = run.leader
      ? {
          instanceId,
          leader: true,
          term: run.term,
          leaderId: instanceId,
          ...scalingOf(run.value?.round),
          ...(run.value?.deferred === undefined ? {} : { deferred: run.value.deferred }),
        }
      : { instanceId, leader: false, term: run.term, leaderId: run.leaderId };
    logger.info(result.leader ? 'cluster manager: leading' : 'cluster manager: following', { ...result });
    return result;
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));

  /** How many live instances run a version other than this manager's (0 = converged), for the dashboard. */
  async function recordConvergence(): Promise<void> {
    const snapshot = deps.config?.();
    if (snapshot === undefined) return;
    try {
      const report = configConvergence(
        (await registry.listLive()).filter((i) => i.instanceId !== instanceId),
        snapshot,
      );
      metrics.addMetric(
        METRICS.instancesOnStaleConfig,
        MetricUnit.Count,
        report.instances.length - report.onLatest,
      );
      if (!report.converged)
        logger.info('cluster manager: instances on another config version', {
          latestVersion: report.latestVersion,
          behind: report.instances.filter((i) => !i.onLatest).map((i) => [i.instanceId, i.version]),
        });
    } catch (error) {
      logger.warn('cluster manager: cannot list instances for config convergence', { error: error as Error });
    }
  }

  /**
   * The `QuarantinedAggregates` gauge, after the sweep (which may have replayed some). A count the read budget
   * cut short is a lower bound: published all the same (any quarantined aggregate is what the alarm asks), and
   * logged. A failure is logged; the gauge is missing for that run.
   */
  async function recordQuarantined(): Promise<void> {
    if (deps.countQuarantined === undefined) return;
    try {
      const { aggregates, complete } = await deps.countQuarantined();
      metrics.addMetric(METRICS.quarantinedAggregates, MetricUnit.Count, aggregates);
      if (!complete)
        logger.warn('cluster manager: the parked table is too large to count every quarantined aggregate', {
          atLeast: aggregates,
        });
    } catch (error) {
      logger.warn('cluster manager: cannot count quarantined aggregates', { error: error as Error });
    }
  }

  /** The deferred sweep, when configured: a failure is logged and retried next run, never fails the run. */
  async function sweep(): Promise<SweepReport | undefined> {
    if (sweepDeferred === undefined) return undefined;
    try {
      const report = await sweepDeferred();
      if (report === undefined) return undefined;
      metrics.addMetric(METRICS.deferredReplayed, MetricUnit.Count, report.replayed);
      metrics.addMetric(METRICS.deferredRemaining, MetricUnit.Count, report.remaining);
      const level = report.remaining > 0 || report.errors.length > 0 ? 'warn' : 'info';
      logger[level]('cluster manager: deferred sweep', { ...report });
      return report;
    } catch (error) {
      logger.warn('cluster manager: deferred sweep failed; the next run tries again', {
        error: error as Error,
      });
      return undefined;
    }
  }

  /** The round's figures for the dashboard, and its decision for the log. */
  function recordRound(round: ManagerRun): void {
    metrics.addMetric(METRICS.scalingActions, MetricUnit.Count, round.figures.scalingActions);
    metrics.addMetric(METRICS.sheddingActive, MetricUnit.Count, round.figures.sheddingActive ? 1 : 0);
    if (round.housekeeping !== undefined)
      metrics.addMetric(METRICS.liveInstances, MetricUnit.Count, round.housekeeping.liveInstances);
    const fleet = round.figures.fleet;
    if (fleet !== undefined) {
      metrics.addMetric(METRICS.liveWorkers, MetricUnit.Count, fleet.liveWorkers);
      metrics.addMetric(METRICS.desiredWorkers, MetricUnit.Count, fleet.desiredWorkers);
      metrics.addMetric(METRICS.maxLeasesPerWorker, MetricUnit.Count, fleet.maxLeasesPerWorker);
      metrics.addMetric(METRICS.minLeasesPerWorker, MetricUnit.Count, fleet.minLeasesPerWorker);
      metrics.addMetric(METRICS.idleWorkers, MetricUnit.Count, fleet.idleWorkers);
      metrics.addMetric(METRICS.workerHeartbeatAge, MetricUnit.Milliseconds, fleet.maxHeartbeatAgeMs);
    }
    const level =
      round.plan.hotKeys.length > 0 || round.outcomes.some((o) => o.status === 'failed') ? 'warn' : 'info';
    logger[level]('cluster manager: decision', {
      decisionId: round.decisionId,
      claimed: round.claimed,
      summary: round.plan.summary,
      actions: round.outcomes.map((o) => ({ kind: o.action.kind, status: o.status, detail: o.detail })),
      blocked: round.plan.blocked,
      hotKeys: round.plan.hotKeys,
      housekeeping: round.housekeeping,
    });
  }
}

function scalingOf(round: ManagerRun | undefined): Pick<ClusterManagerRun, 'scaling'> {
  if (round === undefined) return {};
  return {
    scaling: {
      claimed: round.claimed,
      decisionId: round.decisionId,
      actions: round.outcomes.map((o) => ({ kind: o.action.kind, status: o.status, detail: o.detail })),
      reasons: round.plan.reasons,
    },
  };
}

export type { ClusterManagerDependencies, ClusterManagerRun };
export { createClusterManagerHandler };
