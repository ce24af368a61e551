/**
 * The cluster manager Lambda's handler, built from explicit dependencies (`handler.ts` composes it from the
 * Lambda environment). Until the cluster manager issue lands it does two things only: it records this
 * execution environment in the instance registry, and it takes (or renews) the `cluster-manager`
 * leadership, publishing the heartbeat metric the missing-leader alarm watches.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { LEADER_ROLES, METRICS } from '../../core/constants.js';
import type { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import type { LeaderElection } from '../../core/coordination/leader-election.js';

interface ClusterManagerDependencies {
  readonly registry: InstanceRegistry;
  /** Candidate id = this execution environment's instance id. */
  readonly election: LeaderElection;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** What one scheduled run found. */
interface ClusterManagerRun {
  readonly instanceId: string;
  readonly leader: boolean;
  /** The leadership term: this run's if it led, the current leader's as last seen otherwise. */
  readonly term: number | undefined;
  readonly leaderId: string | undefined;
}

/**
 * @example
 * ```ts
 * export const handler = createClusterManagerHandler({ registry, election, logger, metrics });
 * ```
 */
function createClusterManagerHandler(deps: ClusterManagerDependencies) {
  const { registry, election, logger, metrics } = deps;
  const instanceId = election.candidateId;
  let registered = false;

  /** Heartbeat if registered; (re-)register if not yet, or if observers removed this instance as dead. */
  async function recordHeartbeat(): Promise<void> {
    if (registered && (await registry.heartbeat(instanceId)) !== undefined) return;
    registered = await registry.register({ instanceId, kind: 'lambda' });
    if (!registered)
      throw new Error(`instance id ${instanceId} is registered by another process; ids are random UUIDs`);
  }

  return middy(async function manageCluster(
    _event: ScheduledEvent,
    _context: Context,
  ): Promise<ClusterManagerRun> {
    await recordHeartbeat();
    const run = await election.runIfLeader(LEADER_ROLES.clusterManager, async (term) => {
      metrics.addMetric(METRICS.clusterManagerHeartbeat, MetricUnit.Count, 1);
      metrics.addMetric(METRICS.leaderTerm, MetricUnit.Count, term.term);
      return term.term;
    });
    const result: ClusterManagerRun = run.leader
      ? { instanceId, leader: true, term: run.term, leaderId: instanceId }
      : { instanceId, leader: false, term: run.term, leaderId: run.leaderId };
    logger.info(result.leader ? 'cluster manager: leading' : 'cluster manager: following', { ...result });
    return result;
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export type { ClusterManagerDependencies, ClusterManagerRun };
export { createClusterManagerHandler };
