import { describe, expect, it } from 'vitest';
import type { ConfigPublisher, PublishedConfig } from '../../../core/config/publisher.js';
import { defaultConfig } from '../../../core/config/schema.js';
import {
  InMemoryCoordinationStore,
  InstanceRegistry,
  LeaderElection,
  type LeaderTerm,
  LeaseClient,
  ManualClock,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import {
  actionHistory,
  ClusterManager,
  ConfigSheddingControl,
  type FleetControl,
  type FleetView,
  Housekeeper,
  InMemoryAuditLog,
  InMemoryMetricsSource,
  type OpenShard,
  type StreamControl,
  type StreamDescription,
  scalingPolicy,
  uniformRanges,
} from '../../../core/scaling/index.js';
import { fleet, MINUTE, NOW, points, shardId, worker } from '../../helpers/scaling.js';

const ROLE = 'cluster-manager';

/** A stream that records the resharding calls it gets and applies UpdateShardCount at once. */
class RecordingStream implements StreamControl {
  public readonly streamName = 'changes';
  public readonly calls: string[] = [];
  #shards: OpenShard[];
  public constructor(count: number) {
    this.#shards = uniformRanges(count).map((range, i) => ({ shardId: shardId(i), range }));
  }
  public async describe(): Promise<StreamDescription> {
    return {
      streamName: this.streamName,
      status: 'ACTIVE',
      openShards: this.#shards,
      shards: this.#shards.map((s) => ({ ...s, open: true })),
    };
  }
  public async updateShardCount(target: number): Promise<void> {
    this.calls.push(`UpdateShardCount ${target}`);
    this.#shards = uniformRanges(target).map((range, i) => ({ shardId: shardId(100 + i), range }));
  }
  public async splitShard(id: string, key: string): Promise<void> {
    this.calls.push(`SplitShard ${id} ${key}`);
  }
  public async mergeShards(a: string, b: string): Promise<void> {
    this.calls.push(`MergeShards ${a} ${b}`);
  }
}

/** Metrics that call for doubling: every shard throttled in the last periods. */
function saturatedMetrics(count: number): InMemoryMetricsSource {
  const source = new InMemoryMetricsSource();
  const shards = uniformRanges(count).map((range, i) => ({ shardId: shardId(i), range }));
  for (const p of points(shards, 35, (_, ago) =>
    ago < 2 ? { recordsPerSecond: 1000, bytesPerSecond: 1_024_000, throttledPerSecond: 300 } : 0.6,
  ))
    source.addPoint(p);
  return source;
}

function setup() {
  const clock = new ManualClock({ startMs: 1_000, wallStartMs: NOW });
  const store = new InMemoryCoordinationStore();
  const audit = new InMemoryAuditLog({ leases: store });
  const stream = new RecordingStream(4);
  const manager = new ClusterManager({
    stream,
    metrics: saturatedMetrics(4),
    audit,
    policy: scalingPolicy({ maxShards: 64 }),
    clock: { wallNow: () => clock.wallNow() },
  });
  const election = (candidateId: string) =>
    new LeaderElection({ store, clock, candidateId, leaseDurationMs: 150_000 });
  return { clock, store, audit, stream, manager, election };
}

/** A fleet whose service applies a new desired count at once and records it. */
class FleetTwin implements FleetControl {
  public readonly minWorkers = 1;
  public readonly maxWorkers = 16;
  public readonly set: number[] = [];
  public constructor(public current: FleetView) {}
  public async view(): Promise<FleetView> {
    return this.current;
  }
  public async desiredWorkers(): Promise<number> {
    return this.current.desiredWorkers;
  }
  public async setWorkerCount(count: number): Promise<void> {
    this.set.push(count);
    this.current = { ...this.current, desiredWorkers: count };
  }
}

describe('Class: ClusterManager', () => {
  describe('Method: run', () => {
    it('sizes a worker fleet in the same decision, and reports its figures', async () => {
      const { stream, audit, election, clock } = setup();
      const shards = uniformRanges(4).map((range, i) => ({ shardId: shardId(i), range }));
      const quiet = new InMemoryMetricsSource();
      for (const p of points(shards, 35, () => 0.3)) quiet.addPoint(p);
      // Two workers over target, one of them the assigner with three shards.
      const twin = new FleetTwin(
        fleet([{ ...worker('w1', 0.9, 3), heartbeatAtWallMs: NOW - 4_000 }, worker('w2', 0.9, 1)]),
      );
      const manager = new ClusterManager({
        stream,
        metrics: quiet,
        audit,
        policy: scalingPolicy({ minShards: 4 }),
        fleet: twin,
        clock: { wallNow: () => clock.wallNow() },
      });

      const run = await election('manager-a').runIfLeader(ROLE, (term) => manager.run(term));

      const value = (run as { value: Awaited<ReturnType<ClusterManager['run']>> }).value;
      expect(twin.set).toEqual([3]);
      expect(stream.calls).toEqual([]);
      expect(value.figures.fleet).toEqual({
        desiredWorkers: 3,
        liveWorkers: 2,
        minLeasesPerWorker: 1,
        maxLeasesPerWorker: 3,
        idleWorkers: 0,
        maxHeartbeatAgeMs: 4_000,
      });
      const [decision] = await audit.list();
      expect(decision!.plan.summary.fleet).toMatchObject({ desiredWorkers: 2, load: 1.8 });
      expect(decision!.outcomes).toEqual([
        expect.objectContaining({ status: 'applied', detail: 'UpdateService desired count 2 → 3' }),
      ]);
      expect(actionHistory([decision!])).toEqual([
        { kind: 'set-worker-count', atWallMs: NOW, outcome: 'applied', direction: 'out' },
      ]);
    });

    it('plans, claims the decision under the term, acts, and records the outcomes', async () => {
      const { stream, manager, election, audit } = setup();

      const run = await election('manager-a').runIfLeader(ROLE, (term) => manager.run(term));

      expect(run.leader).toBe(true);
      const value = (run as { value: Awaited<ReturnType<ClusterManager['run']>> }).value;
      expect(value).toMatchObject({ claimed: true, figures: { scalingActions: 1, openShards: 4 } });
      expect(stream.calls).toEqual(['UpdateShardCount 8']);
      const [decision] = await audit.list();
      expect(decision).toMatchObject({ term: 1, leaderId: 'manager-a', acting: true, id: value.decisionId });
      expect(decision!.outcomes).toEqual([
        expect.objectContaining({ status: 'applied', detail: 'UpdateShardCount 4 → 8 accepted' }),
      ]);
      expect(decision!.inputs.shards).toHaveLength(4);
      expect(actionHistory([decision!])).toEqual([
        {
          kind: 'update-shard-count',
          atWallMs: NOW,
          outcome: 'applied',
          fromShards: 4,
          toShards: 8,
          direction: 'out',
        },
      ]);
    });

    it('two managers at once: exactly one leads and acts', async () => {
      const { stream, manager, election, audit, clock } = setup();
      const other = new ClusterManager({
        stream,
        metrics: saturatedMetrics(4),
        audit,
        policy: scalingPolicy({ maxShards: 64 }),
        clock: { wallNow: () => clock.wallNow() },
      });

      const [a, b] = await Promise.all([
        election('manager-a').runIfLeader(ROLE, (term) => manager.run(term)),
        election('manager-b').runIfLeader(ROLE, (term) => other.run(term)),
      ]);

      expect([a.leader, b.leader].filter(Boolean)).toHaveLength(1);
      expect(stream.calls).toEqual(['UpdateShardCount 8']);
      const decisions = await audit.list();
      expect(decisions.map((d) => d.leaderId)).toEqual([a.leader ? 'manager-a' : 'manager-b']);
    });

    it('a leader whose term is over writes no decision and sends nothing', async () => {
      const { clock, stream, manager, election, audit } = setup();
      const a = election('manager-a');
      let staleTerm: LeaderTerm | undefined;
      await a.runIfLeader(ROLE, async (term) => {
        staleTerm = term;
      });
      // manager-a pauses past its lease; manager-b takes over with term 2.
      await clock.advance(151_000);
      const b = election('manager-b');
      await b.campaign(ROLE);
      await clock.advance(151_000);
      const taken = await b.campaign(ROLE);

      const run = await manager.run(staleTerm!);

      expect(taken).toMatchObject({ leader: true, lease: { fence: 2 } });
      expect(run).toMatchObject({ claimed: false, decisionId: undefined, outcomes: [] });
      expect(stream.calls).toEqual([]);
      expect(await audit.list()).toEqual([]);
    });

    it('plans and audits but does not act when scaling is disabled', async () => {
      const { stream, audit, election, clock } = setup();
      const manager = new ClusterManager({
        stream,
        metrics: saturatedMetrics(4),
        audit,
        policy: scalingPolicy({ enabled: false }),
        clock: { wallNow: () => clock.wallNow() },
      });

      await election('manager-a').runIfLeader(ROLE, (term) => manager.run(term));

      expect(stream.calls).toEqual([]);
      const [decision] = await audit.list();
      expect(decision).toMatchObject({ acting: false });
      expect(decision!.outcomes).toEqual([expect.objectContaining({ status: 'not-acting' })]);
      expect(actionHistory([decision!])).toEqual([]);
    });

    it('counts an action of an interrupted decision (no outcomes) as done', async () => {
      const { audit, store, clock } = setup();
      const lease = await new LeaseClient({ store }).tryAcquire(
        { pk: 'LEADER', sk: ROLE },
        { owner: 'm', leaseDurationMs: 1000 },
      );
      const plan = (
        await new ClusterManager({
          stream: new RecordingStream(4),
          metrics: saturatedMetrics(4),
          audit,
          policy: scalingPolicy(),
          clock: { wallNow: () => clock.wallNow() },
        }).plan()
      ).plan;
      await audit.claim(
        {
          atWallMs: NOW - MINUTE,
          term: 1,
          leaderId: 'm',
          acting: true,
          inputs: { streamName: 'changes', status: 'ACTIVE', shards: [], metricsPoints: 0, policy: {} },
          plan,
        },
        { key: lease.lease!.key, owner: 'm', fence: lease.lease!.fence },
      );

      expect(actionHistory(await audit.list())).toEqual([
        {
          kind: 'update-shard-count',
          atWallMs: NOW - MINUTE,
          outcome: undefined,
          fromShards: 4,
          toShards: 8,
          direction: 'out',
        },
      ]);
    });
  });

  describe('Method: plan', () => {
    it('returns the plan and what it was made from, writing nothing', async () => {
      const { manager, audit, stream } = setup();

      const { plan, observation } = await manager.plan();

      expect(plan.actions).toEqual([expect.objectContaining({ kind: 'update-shard-count', toShards: 8 })]);
      expect(observation.stream.openShards).toHaveLength(4);
      expect([stream.calls, await audit.list()]).toEqual([[], []]);
    });
  });
});

describe('Class: Housekeeper', () => {
  it('removes dead instances and frees their shard leases once expired, and keeps live owners’ leases', async () => {
    const clock = new ManualClock({ wallStartMs: NOW });
    const store = new InMemoryCoordinationStore();
    const registry = new InstanceRegistry({
      store,
      clock,
      failureDetectionMs: 10_000,
      heartbeatIntervalMs: 2_000,
    });
    const leases = new LeaseClient({ store, clock });
    await registry.register({ instanceId: 'worker-dead', kind: 'worker' });
    await registry.register({ instanceId: 'worker-live', kind: 'worker' });
    for (const [shard, owner] of [
      ['shard-a', 'worker-dead'],
      ['shard-b', 'worker-live'],
    ] as const) {
      await leases.create(shardLeaseKey('changes', shard), { leaseDurationMs: 10_000, renewal: 'heartbeat' });
      await leases.tryAcquire(shardLeaseKey('changes', shard), {
        owner,
        leaseDurationMs: 10_000,
        renewal: 'heartbeat',
      });
    }
    const housekeeper = new Housekeeper({ registry, leases, streamName: 'changes' });

    const first = await housekeeper.run();
    for (let i = 0; i < 6; i++) {
      await clock.advance(2_000);
      await registry.heartbeat('worker-live');
    }
    const second = await housekeeper.run();
    for (let i = 0; i < 6; i++) {
      await clock.advance(2_000);
      await registry.heartbeat('worker-live');
    }
    const third = await housekeeper.run();

    expect(first).toEqual({ removedInstances: [], releasedLeases: [], liveInstances: 2 });
    expect(second).toEqual({ removedInstances: ['worker-dead'], releasedLeases: [], liveInstances: 1 });
    expect(third).toEqual({
      removedInstances: [],
      releasedLeases: ['shard-a (worker-dead)'],
      liveInstances: 1,
    });
    expect((await leases.get(shardLeaseKey('changes', 'shard-a')))?.owner).toBeUndefined();
    expect((await leases.get(shardLeaseKey('changes', 'shard-b')))?.owner).toBe('worker-live');
  });
});

describe('Class: ConfigSheddingControl', () => {
  it('publishes the current configuration with shedding flipped, and nothing when it is already so', async () => {
    const published: unknown[] = [];
    let current: PublishedConfig | undefined;
    const publisher: ConfigPublisher = {
      current: async () => current,
      publish: async (document, options) => {
        published.push({ document, options });
        current = {
          version: String(published.length),
          publishedAtWallMs: NOW,
          config: document as PublishedConfig['config'],
          target: 'memory',
        };
        return current;
      },
    };
    const shedding = new ConfigSheddingControl({ publisher });

    const on = await shedding.set(true, 'lag 6 min');
    const again = await shedding.set(true, 'lag 7 min');

    expect([on, again, await shedding.isActive()]).toEqual(['1', undefined, true]);
    expect(published).toEqual([
      {
        document: { ...defaultConfig(), shedding: { ...defaultConfig().shedding, active: true } },
        options: { description: 'cluster manager: shedding on: lag 6 min' },
      },
    ]);
  });
});
