import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  InMemoryCoordinationStore,
  InstanceRegistry,
  LeaderElection,
  type LeaderTerm,
} from '../../../core/coordination/index.js';
import type { ManagerRun } from '../../../core/scaling/index.js';
import { createClusterManagerHandler } from '../../../functions/cluster-manager/create-handler.js';

const event = {} as ScheduledEvent;
const context = {
  functionName: 'cluster-manager',
  awsRequestId: 'r-1',
  getRemainingTimeInMillis: () => 50_000,
} as unknown as Context;

/** A scaling round that records the terms it ran under. */
function fakeManager() {
  const terms: number[] = [];
  return {
    terms,
    run: async (term: LeaderTerm): Promise<ManagerRun> => {
      terms.push(term.term);
      return {
        plan: {
          atWallMs: 0,
          actions: [],
          reasons: ['within target: nothing to do'],
          blocked: [],
          hotKeys: [],
          summary: {} as ManagerRun['plan']['summary'],
        },
        claimed: true,
        decisionId: '2026-01-05T12:00:00.000Z',
        outcomes: [],
        housekeeping: { removedInstances: [], releasedLeases: [], liveInstances: 3 },
        figures: {
          scalingActions: 0,
          hotKeys: 0,
          openShards: 4,
          updateShardCountCallsLeft: 10,
          sheddingActive: false,
        },
      };
    },
  };
}

function handlerFor(
  store: InMemoryCoordinationStore,
  candidateId: string,
  manager: ReturnType<typeof fakeManager>,
) {
  return createClusterManagerHandler({
    registry: new InstanceRegistry({ store }),
    election: new LeaderElection({ store, candidateId, leaseDurationMs: 150_000 }),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
    manager,
  });
}

describe('Function: createClusterManagerHandler', () => {
  it('runs the scaling round as the leader only, under its term, and returns what it decided', async () => {
    const store = new InMemoryCoordinationStore();
    const [a, b] = [fakeManager(), fakeManager()];

    const leader = await handlerFor(store, 'lambda-a', a)(event, context);
    const follower = await handlerFor(store, 'lambda-b', b)(event, context);

    expect(leader).toEqual({
      instanceId: 'lambda-a',
      leader: true,
      term: 1,
      leaderId: 'lambda-a',
      scaling: {
        claimed: true,
        decisionId: '2026-01-05T12:00:00.000Z',
        actions: [],
        reasons: ['within target: nothing to do'],
      },
    });
    expect(follower).toEqual({ instanceId: 'lambda-b', leader: false, term: 1, leaderId: 'lambda-a' });
    expect([a.terms, b.terms]).toEqual([[1], []]);
  });
});
