import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { endpoints, FAST_LEASES, type LoggedEvent, nextMessage } from './helpers.js';

const EVENTS = 50_000;
const KILLS = 10;

describe('Worker processes under kill -9', () => {
  it('ten kills in mid-batch over 50,000 events with four workers: every event applied or parked, none twice in effect, order per aggregate', async () => {
    const kills: { workerId: string; shardId: string; endedFirst: boolean; leases: readonly string[] }[] = [];
    const events: LoggedEvent[] = [];
    const acquired = (e: LoggedEvent, shardId: string) =>
      e.event.type === 'acquired' && e.event.shardId === shardId;
    // Leases of killed workers that no other worker acquired after the killed one last did.
    const untaken = () =>
      kills.flatMap((kill) =>
        kill.leases
          .filter((shardId) => {
            const last = Math.max(
              0,
              ...events
                .filter((e) => e.workerId === kill.workerId && acquired(e, shardId))
                .map((e) => e.atWallMs),
            );
            return !events.some(
              (e) => e.workerId !== kill.workerId && e.atWallMs > last && acquired(e, shardId),
            );
          })
          .map((shardId) => `${shardId} of ${kill.workerId}`),
      );
    const summary = await runPipeline({
      events: EVENTS,
      untilDrained: true,
      shards: 8,
      workers: 4,
      // Larger batches: fewer state writes per event, so the run spends its time on the kills, not on I/O.
      mapping: { batchSize: 500 },
      endpoints: endpoints(),
      prefix: uniqueName('kills'),
      progress: false,
      seed: 21,
      aggregates: 5_000,
      config: FAST_LEASES,
      // A counting projection: a change that took effect twice shows as a wrong count.
      auditEffects: true,
      reportInvocations: true,
      drainTimeoutMs: 300_000,
      onWorkerEvent: (workerId, event, atWallMs) => events.push({ workerId, event, atWallMs }),
      during: async ({ pool, processed }) => {
        if (pool === undefined) throw new Error('expected worker processes');
        for (let attempt = 0; kills.filter((k) => !k.endedFirst).length < KILLS; attempt++) {
          if (attempt >= 3 * KILLS) throw new Error(`only ${kills.length} kills landed in mid-batch`);
          // Spread the kills over the run, with at least three workers up before each.
          await eventually(
            'the next kill point',
            () => processed() >= (kills.length * EVENTS * 0.7) / KILLS,
            { timeoutMs: 120_000 },
          );
          await eventually('three running workers', () => pool.running().length >= 3, { timeoutMs: 120_000 });
          const victim = await nextMessage(pool, (workerId, m) =>
            m.type === 'invocation' && m.phase === 'start' ? { workerId, shardId: m.shardId } : undefined,
          );
          let endedFirst = false;
          const stop = pool.watch((workerId, m) => {
            if (
              workerId === victim.workerId &&
              m.type === 'invocation' &&
              m.phase === 'end' &&
              m.shardId === victim.shardId
            )
              endedFirst = true;
          });
          const leases = pool.stats(victim.workerId)?.leases ?? [];
          await pool.kill(victim.workerId);
          stop();
          kills.push({ ...victim, endedFirst, leases });
          void pool.add();
        }
        // A kill near the end leaves leases the drained run would not wait for: hold the run until every
        // lease of a killed worker has been taken over, which is what this test asserts below.
        await eventually('every lease of a killed worker taken over', () => untaken().length === 0, {
          timeoutMs: 120_000,
        });
      },
    });

    expect(summary.differences).toBeUndefined();
    expect(summary).toMatchObject({ verified: true, produced: EVENTS, parked: 0 });
    const midBatch = kills.filter((k) => !k.endedFirst);
    expect(midBatch).toHaveLength(KILLS);
    // Every lease a killed worker held was taken over by a live worker, which started from its checkpoint.
    expect(untaken()).toEqual([]);
    // The summary adds up: every produced change applied (none injected as a duplicate), nothing in flight.
    expect(summary).toMatchObject({ applied: EVENTS, duplicatesSkipped: 0, noChange: 0, inFlight: 0 });
    // Redelivery after the kills happened, and the position fence absorbed it: the consumers counted the
    // redelivered changes again, and the summary says where that difference went.
    expect(summary.counted.duplicates).toBeGreaterThan(0);
    expect(summary.difference).toMatch(
      /^the consumers counted applied -?[\d,]+, duplicates \+[\d,]+, parked 0 against the outcome: the counts of batches \d+ killed or crashed worker\(s\)/,
    );
  }, 480_000);
});
