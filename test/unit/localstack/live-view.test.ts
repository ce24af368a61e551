import { describe, expect, it } from 'vitest';
import type { InstanceRecord, LeaseRecord } from '../../../core/coordination/index.js';
import { shardLeaseKey } from '../../../core/coordination/index.js';
import { emptyStats } from '../../../core/processing/batch-processor.js';
import { BatchLatencies, LatencyRecorder } from '../../../core/processing/latency.js';
import type { DecisionRecord } from '../../../core/scaling/audit-log.js';
import { type LiveSources, LiveView } from '../../../localstack/run/live-view.js';
import type { WorkerRow } from '../../../localstack/run/worker-pool.js';

const STREAM = 'changes';

function lease(shardId: string, owner: string | undefined, fence: number, lagMs?: number): LeaseRecord {
  return {
    key: shardLeaseKey(STREAM, shardId),
    owner,
    fence,
    version: `v${fence}`,
    leaseDurationMs: 3_000,
    renewal: 'heartbeat',
    pendingOwner: undefined,
    handOffAcceptedFence: undefined,
    successor: undefined,
    grantedAtWallMs: undefined,
    renewedAtWallMs: undefined,
    data: { parents: [], records: 10 * fence, ...(lagMs === undefined ? {} : { lagMs }) },
  };
}

function worker(id: string, state: WorkerRow['state'], shardLagMs: Record<string, number> = {}): WorkerRow {
  return {
    id,
    pid: 1,
    state,
    startedAtWallMs: 0,
    leases: Object.keys(shardLagMs),
    eventsPerSecond: 5,
    lagMs: 0,
    shardLagMs,
    assigner: id === 'w1',
    inFlight: 0,
    coordinationRequests: 0,
  };
}

/** A run the test moves by hand: leases, workers, what was produced and applied. */
function fakeRun() {
  const run = {
    leases: [] as LeaseRecord[],
    instances: [] as InstanceRecord[],
    decisions: [] as DecisionRecord[],
    rows: [] as WorkerRow[],
    produced: 0,
    totals: emptyStats(),
    recent: new LatencyRecorder(),
  };
  const sources: LiveSources = {
    store: { listLeases: async () => run.leases, listInstances: async () => run.instances },
    auditLog: { list: async () => run.decisions },
    names: { streamName: STREAM },
    workers: {
      rows: () => run.rows,
      totals: () => run.totals,
      latency: () => new LatencyRecorder(),
      drainRecentLatency: () => {
        const recent = LatencyRecorder.fromJSON(run.recent.toJSON());
        run.recent.reset();
        return recent;
      },
    },
    produced: () => run.produced,
  };
  return { run, sources };
}

describe('Class: LiveView', () => {
  it('answers nothing until attached to a run', () => {
    expect(new LiveView().snapshot()).toBeUndefined();
  });

  it('samples rates, recent latency, and each shard’s owner and lag as its reader reports it', async () => {
    const { run, sources } = fakeRun();
    const live = new LiveView({ intervalMs: 60_000 });
    live.attach(sources);
    run.leases = [lease('shardId-0', 'w1', 1, 900), lease('shardId-1', 'w2', 1)];
    run.rows = [worker('w1', 'running', { 'shardId-0': 40 }), worker('w2', 'running', { 'shardId-1': 70 })];
    run.produced = 500;
    run.totals = { ...emptyStats(), applied: 450, parked: 3, unparked: 1, quarantined: 1 };
    const batch = new BatchLatencies();
    batch.applied(
      [
        {
          change: { table: 'public.orders', ts: 1_000 } as never,
          origin: { approximateArrivalTimestamp: 1_800 } as never,
        },
      ],
      2_000,
    );
    run.recent.record(batch);

    await live.sample();
    live.stop();
    const snapshot = live.snapshot()!;

    const [sample] = snapshot.samples;
    expect(sample).toMatchObject({
      parked: 2,
      quarantined: 1,
      lagMsByShard: { 'shardId-0': 40, 'shardId-1': 70 },
      sourceToAppliedMs: { count: 1, maxMs: 1_000 },
      arrivalToAppliedMs: { count: 1, maxMs: 200 },
    });
    expect(sample!.inPerSecond).toBeGreaterThan(0);
    expect(sample!.appliedPerSecond).toBeGreaterThan(0);
    expect(snapshot.shards.map((s) => [s.shardId, s.owner, s.lagMs, s.state])).toEqual([
      ['shardId-0', 'w1', 40, 'reading'],
      ['shardId-1', 'w2', 70, 'reading'],
    ]);
    expect(snapshot.workers.map((w) => [w.id, w.leases])).toEqual([
      ['w1', ['shardId-0']],
      ['w2', ['shardId-1']],
    ]);
    expect(snapshot).toMatchObject({ produced: 500, applied: 450, parked: 2, quarantined: 1, moves: [] });
  });

  it('lists a lease that changed owner, named as the assigner named it', async () => {
    const { run, sources } = fakeRun();
    const live = new LiveView({ intervalMs: 60_000 });
    live.attach(sources);
    run.leases = [lease('shardId-0', 'w1', 1), lease('shardId-1', 'w2', 1), lease('shardId-2', 'w2', 1)];
    run.rows = [worker('w1', 'running'), worker('w2', 'running')];
    await live.sample();

    // w2 dies: the assigner takes one lease over; the other is freed first, then granted.
    run.rows = [worker('w1', 'running'), worker('w2', 'killed')];
    live.event('w1', { type: 'assigned', shardId: 'shardId-1', to: 'w1', how: 'take-over', from: 'w2' });
    run.leases = [lease('shardId-0', 'w1', 1), lease('shardId-1', 'w1', 2), lease('shardId-2', undefined, 1)];
    await live.sample();
    run.leases = [lease('shardId-0', 'w1', 1), lease('shardId-1', 'w1', 2), lease('shardId-2', 'w1', 2)];
    await live.sample();
    live.stop();

    const { moves, shards } = live.snapshot()!;
    expect(moves.map((m) => [m.shardId, m.how, m.from, m.to])).toEqual([
      ['shardId-2', 'moved', 'w2', 'w1'],
      ['shardId-1', 'take-over', 'w2', 'w1'],
    ]);
    expect(shards.every((s) => s.owner === 'w1')).toBe(true);
  });

  it('sums up the cluster manager’s decisions', async () => {
    const { run, sources } = fakeRun();
    const live = new LiveView({ intervalMs: 60_000 });
    live.attach(sources);
    run.decisions = [
      {
        id: '2026-12-03T09:00:00.000Z',
        atWallMs: 1,
        term: 3,
        leaderId: 'manager',
        acting: true,
        inputs: {} as never,
        plan: { actions: [{ kind: 'split' }], reasons: ['shard 0 is hot'] } as never,
        outcomes: [{ action: { kind: 'split' }, status: 'done', detail: 'into 2', atWallMs: 2 }] as never,
      },
    ];

    await live.sample();
    live.stop();

    expect(live.snapshot()!.decisions).toEqual([
      {
        atWallMs: 1,
        term: 3,
        acting: true,
        actions: ['split'],
        reasons: ['shard 0 is hot'],
        outcomes: ['split done: into 2'],
      },
    ]);
  });
});
