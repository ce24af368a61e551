/**
 * Enhanced fan-out on kinesis-mock (LocalStack's Kinesis engine, which serves RegisterStreamConsumer and
 * SubscribeToShard over HTTP/2): `cdcp worker` processes reading through one registered consumer, each
 * subscription renewed every five seconds (the shortest the reader allows) while records flow, a second worker
 * joining mid-run so that a shard moves by hand-off between subscriptions; the run verifies against the model.
 *
 * About half a minute: kinesis-mock pushes one event per second per subscription and starts a new one about
 * two seconds after it is made, and Kinesis refuses a new subscription within five seconds of the previous
 * one (the renewals and the hand-off wait for it).
 */
import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../../../core/workers/events.js';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { endpoints, FAST_LEASES } from '../workers/helpers.js';

const EVENTS = 1_500;

describe('FanOutReader on kinesis-mock', () => {
  it('reads a run through SubscribeToShard, renewing subscriptions and moving shards between workers, and the run verifies', async () => {
    const events: { workerId: string; event: WorkerEvent }[] = [];
    const summary = await runPipeline({
      events: EVENTS,
      untilDrained: true,
      shards: 2,
      workers: 1,
      reader: 'fan-out',
      resubscribeIntervalMs: 5_000,
      // Records keep coming for about six seconds: renewals and a join land while they flow.
      rate: 250,
      kinesisEngine: 'kinesis-mock',
      endpoints: endpoints('kinesis-mock'),
      prefix: uniqueName('efo'),
      progress: false,
      seed: 5,
      aggregates: 500,
      config: FAST_LEASES,
      auditEffects: true,
      drainTimeoutMs: 240_000,
      onWorkerEvent: (workerId, event) => events.push({ workerId, event }),
      during: async ({ pool, produced }) => {
        await eventually('a third of the run produced', () => produced() >= EVENTS / 3, {
          timeoutMs: 120_000,
        });
        await pool!.add();
      },
    });

    const subscribed = events.filter(
      (e): e is { workerId: string; event: Extract<WorkerEvent, { type: 'subscribed' }> } =>
        e.event.type === 'subscribed',
    );
    const renewals = subscribed.filter((e) => e.event.ordinal > 1);
    const handOffs = events.filter((e) => e.event.type === 'handed-off');
    process.stderr.write(
      `fan-out run: ${subscribed.length} subscriptions, ${renewals.length} renewals, ${handOffs.length} hand-offs, ${summary.eventsPerSecond} events/s\n`,
    );
    expect(summary.differences).toBeUndefined();
    expect(summary).toMatchObject({ verified: true, produced: EVENTS, parked: 0 });
    // Renewed after the last record handed out, while the shard was being read.
    expect(renewals.length).toBeGreaterThan(0);
    expect(renewals.every((e) => e.event.from.startsWith('after '))).toBe(true);
    // The joining worker got shards by hand-off; each shard handed off was subscribed to again from a checkpoint at
    // or after the one it was handed off with (never from before it: nothing read twice from the start of a
    // hand-off), unless the run ended before the new owner read it.
    expect(handOffs.length).toBeGreaterThan(0);
    for (const { event } of handOffs) {
      if (event.type !== 'handed-off' || event.checkpoint === undefined) continue;
      const handedAt = BigInt(event.checkpoint);
      const resumed = subscribed.filter(
        (s) =>
          s.event.shardId === event.shardId &&
          s.event.from.startsWith('after ') &&
          BigInt(s.event.from.slice('after '.length)) >= handedAt,
      );
      // Or the run ended first: the receiver let the shard go as it stopped, at the same checkpoint, unread.
      const releasedUnread = events.some(
        (e) =>
          e.workerId === event.to &&
          e.event.type === 'released' &&
          e.event.shardId === event.shardId &&
          e.event.reason === 'stopping' &&
          e.event.checkpoint === event.checkpoint,
      );
      expect(
        resumed.length + (releasedUnread ? 1 : 0),
        `${event.shardId} resumed at or after ${event.checkpoint}; ${JSON.stringify(events.filter((e) => 'shardId' in e.event && e.event.shardId === event.shardId).map((e) => [e.workerId, e.event]))}`,
      ).toBeGreaterThan(0);
    }
  }, 300_000);
});
