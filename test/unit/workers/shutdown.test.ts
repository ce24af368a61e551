import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchStopSignals } from '../../../bin/worker/stop-signals.js';
import { InstanceRegistry, Membership } from '../../../core/coordination/index.js';
import { workerHealth } from '../../../core/workers/health.js';
import { exitCodeOf, GracefulShutdown } from '../../../core/workers/shutdown.js';
import { Cluster, LEASE_MS, STREAM, type TestWorker } from './worker-harness.js';

const STOP_TIMEOUT_MS = 5_000;

/** Two workers with two shards each; `a` is the assigner and has just checkpointed a batch on each of its shards. */
async function twoWorkers(): Promise<{ cluster: Cluster; a: TestWorker; b: TestWorker }> {
  const cluster = new Cluster({ shards: 4 });
  const a = await cluster.add('worker-a');
  await cluster.until('a reads four shards', () => a.processor.running.size === 4);
  const b = await cluster.add('worker-b');
  await cluster.until(
    'two shards each',
    () => a.processor.running.size === 2 && b.processor.running.size === 2,
  );
  for (const shardId of a.processor.running.keys())
    expect((await a.processor.batch(shardId)).accepted).toBe(true);
  return { cluster, a, b };
}

/** `a` as its process runs it: SIGTERM and SIGINT on an emitter, one graceful stop. */
function asProcess(cluster: Cluster, worker: TestWorker, stopTimeoutMs = STOP_TIMEOUT_MS) {
  const signals = new EventEmitter();
  const shutdown = new GracefulShutdown({
    worker: worker.worker,
    stopTimeoutMs,
    clock: cluster.clock,
  });
  const requests: string[] = [];
  watchStopSignals({
    signals,
    supervisor: undefined,
    shutdown,
    onRequest: (reason) => requests.push(reason),
  });
  return { signals, shutdown, requests };
}

describe('Class: GracefulShutdown', () => {
  it('SIGTERM: the assigner hands each lease to the other worker once it accepted, after the batch in flight and its checkpoint, then its role, and deregisters; the other worker resumes each shard after that checkpoint', async () => {
    const { cluster, a, b } = await twoWorkers();
    const held = [...a.processor.running.keys()].sort();
    const process = asProcess(cluster, a);

    process.signals.emit('SIGTERM');
    const during = workerHealth(a.worker, cluster.clock);
    const report = await cluster.clock.runUntil(process.shutdown.done);
    const movedAfterMs = await cluster.until('b reads all four', () => b.processor.running.size === 4);

    expect(process.requests).toEqual(['SIGTERM']);
    expect(during.status).toBe('stopping');
    expect(report).toMatchObject({ outcome: 'handed-off', reason: 'SIGTERM' });
    expect(exitCodeOf(report)).toBe(0);
    // The order of a hand-off, shard by shard: stop after the chunk and its checkpoint, then hand off.
    for (const shardId of held) {
      const stop = a.processor.log.find((l) => l.startsWith(`stop ${shardId} at `))!;
      const checkpoint = stop.slice(`stop ${shardId} at `.length);
      expect(checkpoint).not.toBe('rejected');
      expect(a.events).toContainEqual({ type: 'handed-off', shardId, to: 'worker-b', checkpoint });
      expect(b.processor.log).toContain(`start ${shardId} after ${checkpoint}`);
    }
    expect(a.events.filter((e) => e.type === 'lost' || e.type === 'released')).toEqual([]);
    // The assigner kept assigning while it left (its own leases needed a target), and gave up the role last.
    const order = a.events.map((e) => e.type);
    expect(a.events).toContainEqual({ type: 'follower', reason: 'stopping' });
    expect(order.lastIndexOf('handed-off')).toBeLessThan(order.indexOf('follower'));
    await cluster.until('b assigns', () => b.worker.isAssigner);
    const registered = await new InstanceRegistry({ store: cluster.store, clock: cluster.clock }).list();
    expect(registered.map((v) => v.instance.instanceId)).toEqual(['worker-b']);
    // No lease waited for an expiry: a few heartbeats and fast polls.
    expect(report.durationMs + movedAfterMs).toBeLessThan(LEASE_MS);
    await cluster.stopAll();
  });

  it('a batch that never finishes: the stop gives up at the stop timeout, writes nothing more, and its leases expire for the others', async () => {
    const { cluster, a, b } = await twoWorkers();
    a.processor.batchInFlight = new Promise<void>(() => {});
    const process = asProcess(cluster, a);

    process.signals.emit('SIGTERM');
    const report = await cluster.clock.runUntil(process.shutdown.done);
    const eventsAtStop = a.events.length;
    const takenAfterMs = await cluster.until(
      'b reads all four',
      () => b.processor.running.size === 4,
      3 * LEASE_MS,
    );

    expect(report).toMatchObject({ outcome: 'timed-out', durationMs: STOP_TIMEOUT_MS });
    expect(exitCodeOf(report)).toBe(1);
    expect(a.events.slice(eventsAtStop)).toEqual([]);
    expect(a.events.filter((e) => e.type === 'released')).toEqual([]);
    // Taken over as after a crash: not before the lease could be judged expired.
    expect(report.durationMs + takenAfterMs).toBeGreaterThanOrEqual(LEASE_MS);
    a.processor.batchInFlight = undefined;
    await cluster.stopAll();
  });

  it('while a stopping worker finishes its batches, the assigner sees it leaving and gives it nothing, though it holds the fewest leases; its lease goes to another once handed off', async () => {
    const cluster = new Cluster({ shards: 4 });
    const assigner = await cluster.add('worker-a');
    await cluster.until('a reads four shards', () => assigner.processor.running.size === 4);
    const [b, c] = [await cluster.add('worker-b'), await cluster.add('worker-c')];
    await cluster.until(
      '2 / 1 / 1',
      () =>
        [assigner, b, c]
          .map((w) => w.processor.running.size)
          .sort()
          .join() === '1,1,2',
    );
    // The one leaving and the one crashing hold one lease each; the assigner holds two.
    const [leaver, crasher] = [b, c].sort((x, y) => x.processor.running.size - y.processor.running.size);
    if (leaver!.processor.running.size !== 1 || assigner.processor.running.size !== 2)
      throw new Error('expected the assigner to hold two leases');
    const leaverShards = [...leaver!.processor.running.keys()];
    const crasherShards = [...crasher!.processor.running.keys()];
    let finishBatch: () => void = () => {};
    leaver!.processor.batchInFlight = new Promise<void>((resolve) => {
      finishBatch = resolve;
    });
    // Draining longer than a lease: only heartbeats keep its lease.
    const process = asProcess(cluster, leaver!, 10 * LEASE_MS);

    process.signals.emit('SIGTERM');
    await crasher!.worker.halt();
    // The crashed worker's lease expires and is placed while the leaver (fewest leases) still drains.
    await cluster.until(
      'the crashed lease placed',
      async () => {
        const owners = await cluster.owners();
        return crasherShards.every((s) => owners[s] !== undefined && owners[s] !== crasher!.id);
      },
      3 * LEASE_MS,
    );
    await cluster.until('its new owner reads it', () => assigner.processor.running.size === 3);
    const whileDraining = await cluster.owners();
    const observer = new Membership({
      store: cluster.store,
      fleet: STREAM,
      memberId: 'observer',
      failureDetectionMs: LEASE_MS,
      clock: cluster.clock,
    });
    await observer.read([0]);
    const leaverEntry = observer.view(leaver!.id)?.entry;
    finishBatch();
    await cluster.clock.runUntil(process.shutdown.done);
    await cluster.until('the assigner reads all four', () => assigner.processor.running.size === 4);

    expect(leaverEntry?.load.leaving).toBe(true);
    // The leaver kept exactly its own lease while it drained (renewed by its heartbeats) and was given no other.
    expect(
      Object.entries(whileDraining)
        .filter(([, owner]) => owner === leaver!.id)
        .map(([s]) => s),
    ).toEqual(leaverShards);
    expect(leaver!.events.filter((e) => e.type === 'lost')).toEqual([]);
    expect(leaver!.events.filter((e) => e.type === 'acquired')).toHaveLength(1);
    await cluster.stopAll();
  });

  it('stops once, whoever asks again', async () => {
    const { cluster, a } = await twoWorkers();
    const process = asProcess(cluster, a);

    process.signals.emit('SIGTERM');
    process.signals.emit('SIGINT');
    process.signals.emit('SIGTERM');
    const report = await cluster.clock.runUntil(process.shutdown.done);

    expect(process.requests).toEqual(['SIGTERM']);
    expect(report.reason).toBe('SIGTERM');
    await cluster.stopAll();
  });
});

describe('Function: watchStopSignals', () => {
  const target = () => {
    const reasons: string[] = [];
    return {
      reasons,
      get requested() {
        return reasons.length > 0;
      },
      request: async (reason: string) => {
        reasons.push(reason);
      },
    };
  };

  it('by hand, Ctrl-C (SIGINT) stops the worker; under a supervisor only SIGTERM or the supervisor going away do', () => {
    const byHand = target();
    const supervised = target();
    const handSignals = new EventEmitter();
    const supervisedSignals = new EventEmitter();
    const gone = new EventEmitter();
    let orphaned = false;
    watchStopSignals({ signals: handSignals, supervisor: undefined, shutdown: byHand });
    watchStopSignals({
      signals: supervisedSignals,
      supervisor: {
        onGone: (listener) => {
          gone.on('gone', listener);
          return () => gone.off('gone', listener);
        },
      },
      shutdown: supervised,
      onOrphaned: () => {
        orphaned = true;
      },
    });

    handSignals.emit('SIGINT');
    supervisedSignals.emit('SIGINT');
    const ignored = [...supervised.reasons];
    gone.emit('gone');

    expect(byHand.reasons).toEqual(['SIGINT']);
    expect(ignored).toEqual([]);
    expect(supervised.reasons).toEqual(['supervisor-gone']);
    expect(orphaned).toBe(true);
  });

  it('stops listening when told to', () => {
    const shutdown = target();
    const signals = new EventEmitter();
    const unwatch = watchStopSignals({ signals, supervisor: undefined, shutdown });

    unwatch();
    signals.emit('SIGTERM');

    expect(shutdown.reasons).toEqual([]);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});
