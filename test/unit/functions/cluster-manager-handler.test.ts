import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { METRICS } from '../../../core/constants.js';
import {
  InMemoryCoordinationStore,
  InstanceRegistry,
  LeaderElection,
  type LeaderTerm,
  ManualClock,
} from '../../../core/coordination/index.js';
import type { ManagerRun } from '../../../core/scaling/index.js';
import { createClusterManagerHandler } from '../../../functions/cluster-manager/create-handler.js';
import {
  LEADER_CLOCK_SKEW_ALLOWANCE_MS,
  LEADER_LEASE_DURATION_MS,
} from '../../../functions/cluster-manager/handler.js';

const event = {} as ScheduledEvent;
const context = {
  functionName: 'cluster-manager',
  awsRequestId: 'r-1',
  getRemainingTimeInMillis: () => 50_000,
} as unknown as Context;

/**
 * A scaling round that records the terms it ran under (with a worker fleet's figures when given); `hold` keeps
 * it running until released.
 */
function fakeManager({
  hold,
  sheddingActive = false,
  fleet,
}: {
  readonly hold?: Promise<void>;
  readonly sheddingActive?: boolean;
  readonly fleet?: ManagerRun['figures']['fleet'];
} = {}) {
  const terms: number[] = [];
  return {
    terms,
    run: async (term: LeaderTerm): Promise<ManagerRun> => {
      terms.push(term.term);
      await hold;
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
          sheddingActive,
          ...(fleet === undefined ? {} : { fleet }),
        },
      };
    },
  };
}

/** Metrics that also keep every `[name, value]` added. */
function recordingMetrics() {
  const recorded: [string, number][] = [];
  class RecordingMetrics extends Metrics {
    public override addMetric(...args: Parameters<Metrics['addMetric']>): this {
      recorded.push([args[0], args[2]]);
      return super.addMetric(...args);
    }
  }
  return { metrics: new RecordingMetrics({ namespace: 'test', serviceName: 'test' }), recorded };
}

function handlerFor(
  store: InMemoryCoordinationStore,
  candidateId: string,
  manager: ReturnType<typeof fakeManager>,
  clock?: ManualClock,
) {
  return createClusterManagerHandler({
    registry: new InstanceRegistry({ store, clock }),
    election: new LeaderElection({
      store,
      candidateId,
      clock,
      leaseDurationMs: LEADER_LEASE_DURATION_MS,
      clockSkewAllowanceMs: LEADER_CLOCK_SKEW_ALLOWANCE_MS,
    }),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
    manager,
  });
}

describe('Function: createClusterManagerHandler', () => {
  it('runs the scaling round as the leader only, under its term, and returns what it decided', async () => {
    const store = new InMemoryCoordinationStore();
    let finish: () => void = () => {};
    const [a, b] = [fakeManager({ hold: new Promise((resolve) => (finish = resolve)) }), fakeManager()];

    // Two environments run at the same moment (a retried schedule): only one leads.
    const leading = handlerFor(store, 'lambda-a', a)(event, context);
    await new Promise((resolve) => setImmediate(resolve));
    const follower = await handlerFor(store, 'lambda-b', b)(event, context);
    finish();
    const leader = await leading;

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

  it('leadership lasts one run: the next run leads at once from a new execution environment, with the next term', async () => {
    const store = new InMemoryCoordinationStore();
    const clock = new ManualClock();
    const [first, next] = [fakeManager(), fakeManager()];

    await handlerFor(store, 'lambda-old', first, clock)(event, context);
    // The old environment is recycled; a minute later the schedule lands in a new one.
    await clock.advance(60_000);
    const run = await handlerFor(store, 'lambda-new', next, clock)(event, context);

    expect(run).toMatchObject({ leader: true, term: 2, leaderId: 'lambda-new' });
    expect([first.terms, next.terms]).toEqual([[1], [2]]);
  });

  it('a run that died without releasing is replaced by the next run, a minute later, in a new environment; a live run is not', async () => {
    const store = new InMemoryCoordinationStore();
    const clock = new ManualClock();
    const crashed = new LeaderElection({
      store,
      candidateId: 'lambda-crashed',
      clock,
      leaseDurationMs: LEADER_LEASE_DURATION_MS,
      clockSkewAllowanceMs: LEADER_CLOCK_SKEW_ALLOWANCE_MS,
    });
    // The run took leadership, renewed it for 50 s (its timeout), then its environment died mid-run.
    expect((await crashed.campaign('cluster-manager')).leader).toBe(true);
    for (let t = 0; t < 50_000; t += 2_000) {
      await clock.advance(2_000);
      await crashed.campaign('cluster-manager');
    }
    const during = await handlerFor(store, 'lambda-early', fakeManager(), clock)(event, context);
    await clock.advance(10_000);
    const nextRun = fakeManager();

    const run = await handlerFor(store, 'lambda-next', nextRun, clock)(event, context);

    expect(during).toMatchObject({ leader: false, leaderId: 'lambda-crashed' });
    expect(run).toMatchObject({ leader: true, term: 2, leaderId: 'lambda-next' });
    expect(nextRun.terms).toEqual([2]);
  });

  it('reports its config version, and the leader counts live instances on another version', async () => {
    const store = new InMemoryCoordinationStore();
    const registry = new InstanceRegistry({ store });
    await registry.register({ instanceId: 'lambda-consumer-1', kind: 'lambda', configVersion: '7@1000' });
    await registry.register({ instanceId: 'lambda-consumer-2', kind: 'lambda', configVersion: '6@900' });
    const { metrics, recorded } = recordingMetrics();
    const handler = createClusterManagerHandler({
      registry,
      election: new LeaderElection({ store, candidateId: 'lambda-manager', leaseDurationMs: 150_000 }),
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      metrics,
      config: () => ({
        config: parseConfig({ version: '7' }),
        version: '7',
        origin: 'test',
        appliedAtWallMs: 1_500,
        publishedAtWallMs: 800,
      }),
    });

    expect(await handler(event, context)).toMatchObject({ leader: true });

    // One of the two consumers is behind; the manager itself is not counted.
    expect(recorded.filter(([name]) => name === METRICS.instancesOnStaleConfig)).toEqual([
      [METRICS.instancesOnStaleConfig, 1],
    ]);
    const manager = (await registry.listLive()).find((i) => i.instanceId === 'lambda-manager');
    expect(manager?.configVersion).toBe('7@1500');
  });

  it.each([
    [true, 1],
    [false, 0],
  ])(
    'publishes SheddingActive from the round (shedding %s: %i), the shedding alarm’s metric',
    async (shedding, value) => {
      const store = new InMemoryCoordinationStore();
      const { metrics, recorded } = recordingMetrics();
      const handler = createClusterManagerHandler({
        registry: new InstanceRegistry({ store }),
        election: new LeaderElection({ store, candidateId: 'lambda-manager', leaseDurationMs: 150_000 }),
        logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
        metrics,
        manager: fakeManager({ sheddingActive: shedding }),
      });

      await handler(event, context);

      expect(recorded.filter(([name]) => name === METRICS.sheddingActive)).toEqual([
        [METRICS.sheddingActive, value],
      ]);
    },
  );

  it('runs at the log level of the configuration it runs, from the next run on', async () => {
    const store = new InMemoryCoordinationStore();
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    let config = parseConfig({ version: '1', logging: { level: 'ERROR' } });
    const handler = createClusterManagerHandler({
      registry: new InstanceRegistry({ store }),
      election: new LeaderElection({ store, candidateId: 'lambda-manager', leaseDurationMs: 150_000 }),
      logger,
      metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
      config: () => ({
        config,
        version: config.version,
        origin: 'test',
        appliedAtWallMs: 0,
        publishedAtWallMs: undefined,
      }),
    });

    await handler(event, context);
    const levelAfterFirst = logger.getLevelName();
    config = parseConfig({ version: '2', logging: { level: 'WARN' } });
    await handler(event, context);

    expect([levelAfterFirst, logger.getLevelName()]).toEqual(['ERROR', 'WARN']);
  });

  it("publishes a worker fleet's figures: live and desired workers, leases per worker, heartbeat age", async () => {
    const store = new InMemoryCoordinationStore();
    const { metrics, recorded } = recordingMetrics();
    const handler = createClusterManagerHandler({
      registry: new InstanceRegistry({ store }),
      election: new LeaderElection({ store, candidateId: 'lambda-manager', leaseDurationMs: 150_000 }),
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      metrics,
      manager: fakeManager({
        fleet: {
          desiredWorkers: 4,
          liveWorkers: 3,
          minLeasesPerWorker: 0,
          maxLeasesPerWorker: 3,
          idleWorkers: 1,
          maxHeartbeatAgeMs: 2_500,
        },
      }),
    });

    await handler(event, context);

    const fleetMetrics = [
      METRICS.liveWorkers,
      METRICS.desiredWorkers,
      METRICS.maxLeasesPerWorker,
      METRICS.minLeasesPerWorker,
      METRICS.idleWorkers,
      METRICS.workerHeartbeatAge,
    ] as string[];
    expect(recorded.filter(([name]) => fleetMetrics.includes(name))).toEqual([
      [METRICS.liveWorkers, 3],
      [METRICS.desiredWorkers, 4],
      [METRICS.maxLeasesPerWorker, 3],
      [METRICS.minLeasesPerWorker, 0],
      [METRICS.idleWorkers, 1],
      [METRICS.workerHeartbeatAge, 2_500],
    ]);
  });

  it('publishes the quarantined aggregates as the leader only, a lower bound too, and survives a failed count', async () => {
    const store = new InMemoryCoordinationStore();
    // Leadership lasts one run: the follower runs while the leader is inside its first run's count.
    let entered!: () => void;
    let release!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    const counts = [
      async () => {
        entered();
        await held;
        return { aggregates: 2, complete: true };
      },
      async () => ({ aggregates: 7, complete: false }),
      async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    ];
    let next = 0;
    const run = (candidateId: string) => {
      const { metrics, recorded } = recordingMetrics();
      const handler = createClusterManagerHandler({
        registry: new InstanceRegistry({ store }),
        election: new LeaderElection({ store, candidateId, leaseDurationMs: 150_000 }),
        logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
        metrics,
        countQuarantined: () => counts[next++]!(),
      });
      return { handler, recorded };
    };
    const leader = run('lambda-leader');
    const follower = run('lambda-follower');
    const quarantined = (recorded: [string, number][]) =>
      recorded.filter(([name]) => name === METRICS.quarantinedAggregates).map(([, value]) => value);

    const first = leader.handler(event, context);
    await inside;
    const followed = await follower.handler(event, context);
    release();
    await first;
    await leader.handler(event, context);
    const third = await leader.handler(event, context);

    expect(quarantined(leader.recorded)).toEqual([2, 7]);
    expect(quarantined(follower.recorded)).toEqual([]);
    expect(followed.leader).toBe(false);
    expect(third.leader).toBe(true);
  });
});
