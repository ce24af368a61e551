import { describe, expect, it } from 'vitest';
import {
  DynamoDbCoordinationStore,
  Lease,
  LeaseClient,
  type LeaseRecord,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import { compareSequenceNumbers } from '../../../core/events/position.js';
import { splitLeases } from '../../../core/workers/shard-lease.js';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { endpoints, FAST_LEASES, type LoggedEvent } from './helpers.js';

describe('Fencing between worker processes', () => {
  const events: LoggedEvent[] = [];
  let pausedAtWallMs = Number.POSITIVE_INFINITY;
  /** Whether a worker had acquired (adopted, or been granted) a shard before it was paused: it was reading it. */
  const readBy = (workerId: string) => (shardId: string) =>
    events.some(
      (e) =>
        e.workerId === workerId &&
        e.event.type === 'acquired' &&
        e.event.shardId === shardId &&
        e.atWallMs < pausedAtWallMs,
    );

  it('a worker paused past its lease (SIGSTOP) loses its shards; its stale checkpoint is rejected and it reads them no more', async () => {
    const invocations: { workerId: string; shardId: string; atWallMs: number }[] = [];
    let victim: { id: string; pid: number; shards: string[]; stale: LeaseRecord[] } | undefined;
    let staleWrites: (LeaseRecord | undefined)[] = [];
    const summary = await runPipeline({
      events: 8_000,
      rate: 400,
      untilDrained: true,
      shards: 4,
      workers: 2,
      endpoints: endpoints(),
      prefix: uniqueName('fence'),
      progress: false,
      seed: 8,
      aggregates: 800,
      config: FAST_LEASES,
      auditEffects: true,
      reportInvocations: true,
      drainTimeoutMs: 240_000,
      onWorkerEvent: (workerId, event, atWallMs) => events.push({ workerId, event, atWallMs }),
      during: async ({ pool, clients, names, processed }) => {
        if (pool === undefined) throw new Error('expected worker processes');
        pool.watch((workerId, m) => {
          if (m.type === 'invocation' && m.phase === 'start')
            invocations.push({ workerId, shardId: m.shardId, atWallMs: m.atWallMs });
        });
        await eventually(
          'both workers reading',
          () => processed() >= 1_000 && pool.running().every((w) => w.leases.length > 0),
          { timeoutMs: 120_000 },
        );
        const row = pool.running().find((w) => !w.assigner)!;
        const leases = new LeaseClient({
          store: new DynamoDbCoordinationStore({
            client: clients.dynamodb,
            tableName: names.coordinationTable,
          }),
        });
        const pk = shardLeaseKey(names.streamName, '-').pk;
        process.kill(row.pid, 'SIGSTOP');
        pausedAtWallMs = Date.now();
        const held = splitLeases(await leases.list(pk)).shards.filter((s) => s.record.owner === row.id);
        victim = {
          id: row.id,
          pid: row.pid,
          shards: held.map((s) => s.shardId),
          stale: held.map((s) => s.record),
        };
        try {
          await eventually(
            'the other worker to take every shard of the paused one',
            () =>
              victim!.shards.every((shardId) =>
                events.some(
                  (e) =>
                    e.workerId !== row.id &&
                    e.event.type === 'acquired' &&
                    e.event.shardId === shardId &&
                    e.atWallMs > pausedAtWallMs,
                ),
              ),
            { timeoutMs: 120_000 },
          );
          // The paused worker's grant, written as it would write its next checkpoint: refused by the store.
          const attempts = await Promise.all(
            victim.stale.map((record) =>
              leases.renew(new Lease(record, performance.now()), {
                ...record.data,
                checkpoint: '9'.repeat(56),
              }),
            ),
          );
          staleWrites = attempts.map((lease) => lease?.record);
        } finally {
          process.kill(row.pid, 'SIGCONT');
        }
        // Safety is what this test proves (below): the stale grant writes nothing, and what the paused worker
        // got accepted came before the take-over. How soon the resumed worker notices it lost its shards is
        // not asserted here.
      },
    });

    expect(summary.differences).toBeUndefined();
    expect(summary.verified).toBe(true);
    const { id, shards, stale } = victim!;
    expect(shards.length).toBeGreaterThan(0);
    expect(staleWrites).toEqual(stale.map(() => undefined));
    // A lease the assigner had granted to it but it had not adopted yet when it was paused, it never read.
    expect(shards.filter(readBy(id)).length).toBeGreaterThan(0);
    for (const [i, shardId] of shards.entries()) {
      if (!readBy(id)(shardId)) continue;
      const takeover = events.find(
        (e) =>
          e.workerId !== id &&
          e.event.type === 'acquired' &&
          e.event.shardId === shardId &&
          e.atWallMs > pausedAtWallMs,
      )!;
      const startAfter = takeover.event.type === 'acquired' ? takeover.event.startAfter : undefined;
      // Every checkpoint the paused worker got accepted under its old grant was taken before the take-over:
      // the new owner started right after the last of them.
      for (const e of events)
        if (
          e.workerId === id &&
          e.event.type === 'checkpointed' &&
          e.event.shardId === shardId &&
          e.event.fence === stale[i]!.fence
        )
          expect(compareSequenceNumbers(e.event.checkpoint!, startAfter!)).toBeLessThanOrEqual(0);
      // Once another worker had taken the shard over, the paused worker started no batch on it (unless it was
      // given the shard again later): it stopped at once when it resumed, without waiting to be told.
      const regainedAt =
        events.find(
          (e) =>
            e.workerId === id &&
            e.event.type === 'acquired' &&
            e.event.shardId === shardId &&
            e.atWallMs > takeover.atWallMs,
        )?.atWallMs ?? Number.POSITIVE_INFINITY;
      expect(
        invocations.filter(
          (v) =>
            v.workerId === id &&
            v.shardId === shardId &&
            v.atWallMs > takeover.atWallMs &&
            v.atWallMs < regainedAt,
        ),
      ).toEqual([]);
    }
  }, 360_000);
});
