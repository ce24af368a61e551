import { describe, expect, it } from 'vitest';
import {
  FaultInjectingStore,
  InMemoryCoordinationStore,
  ManualClock,
  Membership,
} from '../../../core/coordination/index.js';
import { Cluster, LEASE_MS, STREAM, shard, type TestWorker } from './worker-harness.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
const heldBy = (w: TestWorker) => [...w.processor.running.keys()].sort();

describe('Class: Worker', () => {
  describe('Method: start', () => {
    it('alone: becomes the assigner, creates one lease per shard and reads every shard from its start', async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');

      await cluster.until('four shards read', () => a.processor.running.size === 4);

      expect(a.worker.isAssigner).toBe(true);
      expect(await cluster.owners()).toEqual(Object.fromEntries(ids(4).map((id) => [id, 'worker-a'])));
      expect(a.processor.log.sort()).toEqual(ids(4).map((id) => `start ${id} after TRIM_HORIZON`));
      expect(a.events.filter((e) => e.type === 'lease-created')).toHaveLength(4);
      await cluster.stopAll();
    });
  });

  describe('Rebalancing', () => {
    it('a joining worker gets half the leases by graceful hand-off, each accepted before it moves and started after the checkpoint of the batch in flight', async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads four shards', () => a.processor.running.size === 4);
      for (const id of ids(4)) expect((await a.processor.batch(id)).accepted).toBe(true);

      const b = await cluster.add('worker-b');
      await cluster.until('b reads two shards', () => b.processor.running.size === 2);

      const moved = heldBy(b);
      const owners = await cluster.owners();
      expect(Object.values(owners).filter((o) => o === 'worker-b')).toHaveLength(2);
      expect(Object.values(owners).filter((o) => o === 'worker-a')).toHaveLength(2);
      for (const id of moved) {
        // a finished its batch, checkpointed it, and only then handed the lease over: b starts right after it.
        const stop = a.processor.log.find((l) => l.startsWith(`stop ${id} at `))!;
        const checkpoint = stop.slice(`stop ${id} at `.length);
        expect(b.processor.log).toContain(`start ${id} after ${checkpoint}`);
        expect(a.events).toContainEqual({ type: 'handed-off', shardId: id, to: 'worker-b', checkpoint });
      }
      expect(a.events.filter((e) => e.type === 'lost')).toEqual([]);
      await cluster.stopAll();
    });

    it('a hand-off waits for the new owner: the shard stops being read only after it accepted, and is read again within a fast poll', async () => {
      const cluster = new Cluster({ shards: 2 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads both', () => a.processor.running.size === 2);
      const b = await cluster.add('worker-b');
      const gaps: number[] = [];
      const stoppedAt = new Map<string, number>();
      const stop = a.processor.stop.bind(a.processor);
      a.processor.stop = async (shardId: string) => {
        await stop(shardId);
        stoppedAt.set(shardId, cluster.clock.now());
      };
      const start = b.processor.start.bind(b.processor);
      b.processor.start = (ownership) => {
        gaps.push(cluster.clock.now() - stoppedAt.get(ownership.shardId)!);
        start(ownership);
      };

      await cluster.until('b reads one', () => b.processor.running.size === 1);

      expect(gaps).toHaveLength(1);
      expect(gaps[0]).toBeLessThanOrEqual(b.worker.timings.fastPollMs + 100);
      await cluster.stopAll();
    });

    it('a worker leaving gracefully hands its leases to live workers and only those move', async () => {
      const cluster = new Cluster({ shards: 6 });
      const [a, b, c] = [
        await cluster.add('worker-a'),
        await cluster.add('worker-b'),
        await cluster.add('worker-c'),
      ];
      await cluster.settled();
      const before = await cluster.owners();
      const leaving = heldBy(c!);

      const startedAt = cluster.clock.now();
      await cluster.clock.runUntil(c!.worker.stop());
      const stoppedAfterMs = cluster.clock.now() - startedAt;
      await cluster.until(
        'a and b hold six',
        () => a!.processor.running.size + b!.processor.running.size === 6,
      );

      const after = await cluster.owners();
      for (const [id, owner] of Object.entries(before))
        if (owner !== 'worker-c') expect(after[id]).toBe(owner);
      for (const id of leaving)
        expect(c!.events).toContainEqual(expect.objectContaining({ type: 'handed-off', shardId: id }));
      expect(c!.events.filter((e) => e.type === 'released')).toEqual([]);
      // At rest: the assigner's next heartbeat, then the new owner's, and fast polls; no lease waits for an expiry.
      const { restHeartbeatIntervalMs, fastPollMs } = c!.worker.timings;
      expect(stoppedAfterMs).toBeLessThanOrEqual(2 * restHeartbeatIntervalMs + 2 * fastPollMs);
      await cluster.stopAll();
    });
  });

  describe('Failure detection', () => {
    it("its successor takes over a dead worker's lease one lease duration after its last heartbeat, not before, from its checkpoint", async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      const b = await cluster.add('worker-b');
      await cluster.settled();
      const victim = heldBy(b)[0]!;
      const { sequenceNumber } = await b.processor.batch(victim);
      const lastBeat = b.worker.lastHeartbeatAtMs!;

      await b.worker.halt();
      await cluster.until('a holds all four', () => a.processor.running.size === 4);
      const tookMs = cluster.clock.now() - lastBeat;

      expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS);
      // a sees b's last counter at its own next heartbeat (at rest, half a lease), and confirms a lease later.
      expect(tookMs).toBeLessThanOrEqual(LEASE_MS + a.worker.timings.restHeartbeatIntervalMs + 100);
      expect(a.processor.log).toContain(`start ${victim} after ${sequenceNumber}`);
      expect(a.events).toContainEqual({
        type: 'assigned',
        shardId: victim,
        to: 'worker-a',
        how: 'take-over',
        from: 'worker-b',
      });
      await cluster.stopAll();
    });

    it('when the assigner dies, its deputy takes the role on the same detection, and its leases come back as fast as anyone else’s', async () => {
      const cluster = new Cluster({ shards: 6 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads six', () => a.processor.running.size === 6);
      const [b, c] = [await cluster.add('worker-b'), await cluster.add('worker-c')];
      await cluster.settled();
      const lastBeat = a.worker.lastHeartbeatAtMs!;

      await a.worker.halt();
      await cluster.until(
        'b and c hold all six',
        () => b!.processor.running.size + c!.processor.running.size === 6,
      );
      const tookMs = cluster.clock.now() - lastBeat;
      await cluster.until('a new assigner', () => b!.worker.isAssigner || c!.worker.isAssigner);

      expect(tookMs).toBeLessThanOrEqual(LEASE_MS + b!.worker.timings.restHeartbeatIntervalMs + 100);
      expect([b, c].filter((w) => w!.worker.isAssigner)).toHaveLength(1);
      await cluster.stopAll();
    });

    it('keeps its own leases through heartbeats when no assigner is left', async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      const b = await cluster.add('worker-b');
      await cluster.settled();
      const assigner = a.worker.isAssigner ? a : b;
      const follower = assigner === a ? b : a;
      const kept = heldBy(follower);
      await assigner.worker.halt();

      await cluster.clock.advance(5 * LEASE_MS);

      expect(follower.events.filter((e) => e.type === 'lost')).toEqual([]);
      for (const id of kept) expect(follower.processor.running.has(id)).toBe(true);
      expect(follower.worker.isAssigner).toBe(true);
      expect(heldBy(follower)).toEqual(ids(4));
      await cluster.stopAll();
    });
  });

  describe('Fencing', () => {
    it('rejects the checkpoint of a stale owner whose clock stood still while its lease was taken over, and it stops', async () => {
      const cluster = new Cluster({ shards: 2 });
      const b = await cluster.add('worker-b');
      await cluster.until('b reads both', () => b.processor.running.size === 2);
      // a runs on its own clock, which the test stops: a paused process (GC, SIGSTOP) believes no time passed.
      const pausedClock = new ManualClock();
      const a = await cluster.add('worker-a', { clock: pausedClock });
      await cluster.until('a holds one', async () => {
        await pausedClock.advance(100);
        return a.processor.running.size === 1;
      });
      await cluster.until('successors named', async () =>
        [...(await cluster.leases()).values()].every((r) => r.successor !== undefined),
      );
      const shardId = heldBy(a)[0]!;
      const before = (await cluster.leases()).get(shardId)!;

      // a is paused: b sees a's counter stand still for a lease duration and takes the shard over.
      await cluster.until('b holds both again', () => b.processor.running.size === 2);
      const after = (await cluster.leases()).get(shardId)!;
      const { accepted } = await a.processor.batch(shardId);

      expect(after.fence).toBeGreaterThan(before.fence);
      expect(accepted).toBe(false);
      expect(a.events).toContainEqual({ type: 'lost', shardId, reason: 'checkpoint-rejected' });
      expect(a.processor.running.has(shardId)).toBe(false);
      const final = (await cluster.leases()).get(shardId)!;
      expect(final.owner).toBe('worker-b');
      expect(final.data.checkpoint).toBe(after.data.checkpoint);
      await cluster.clock.runUntil(b.worker.stop());
    });

    it('stops using its leases by itself when its heartbeats fail for a lease duration, before anyone may take them', async () => {
      const clock = new ManualClock();
      const faulty = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
      const cluster = new Cluster({ shards: 2, store: faulty });
      Object.assign(cluster, { clock });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads both', () => a.processor.running.size === 2);
      const observer = new Membership({
        store: faulty,
        fleet: STREAM,
        memberId: 'observer',
        failureDetectionMs: LEASE_MS,
        clock,
      });
      await observer.beat({});

      faulty.inject({ operations: ['beatMember'], kind: 'throttle', times: 1_000 });
      // a's next heartbeats fail; the observer keeps looking (its reads are not throttled).
      const watching = setInterval(() => void observer.read([0]), 0);
      const lostAfter = await cluster.until('a drops its leases', () => a.processor.running.size === 0);
      clearInterval(watching);
      const droppedAt = clock.now();
      await observer.read([0]);
      const view = observer.view('worker-a')!;
      // The first moment this observer may judge a dead: a lease after it first saw a's last counter.
      const firstVerdictAt = view.readAtMs - view.verdict.silentForMs + LEASE_MS;
      faulty.clear();

      expect(lostAfter).toBeLessThanOrEqual(LEASE_MS);
      expect(a.events.filter((e) => e.type === 'lost').map((e) => (e as { reason: string }).reason)).toEqual([
        'expired',
        'expired',
      ]);
      // The holder stops before any observer may judge it dead.
      expect(droppedAt).toBeLessThanOrEqual(firstVerdictAt);
      await cluster.stopAll();
    });
  });

  describe('Resharding', () => {
    it('starts children only after every parent is read to its end, on the worker that read the last parent, then cleans the parents up', async () => {
      const cluster = new Cluster({ shards: 2 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads both', () => a.processor.running.size === 2);
      const [p0, p1] = ids(2) as [string, string];
      // Merge the two shards into shardId-2, then split it into 3 and 4.
      cluster.shards.splice(0, 2, shard(0, [], true), shard(1, [], true), shard(2, [p0, p1]));
      await cluster.clock.advance(LEASE_MS);
      expect((await cluster.owners())['shardId-000000000002']).toBeUndefined();

      await a.processor.end(p0);
      await cluster.clock.advance(LEASE_MS);
      expect(a.processor.running.has('shardId-000000000002')).toBe(false);
      await a.processor.end(p1);
      await cluster.until('the child starts', () => a.processor.running.has('shardId-000000000002'), 1_000);
      await cluster.until('parents cleaned up', () => cluster.deleted.length === 2, 2 * 60_000);

      expect(cluster.deleted.sort()).toEqual([p0, p1]);
      expect(a.processor.log).toContain('start shardId-000000000002 after TRIM_HORIZON');
      await cluster.stopAll();
    });
  });
});
