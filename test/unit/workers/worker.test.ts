import { describe, expect, it } from 'vitest';
import {
  FaultInjectingStore,
  InMemoryCoordinationStore,
  InstanceRegistry,
  LeaseClient,
  ManualClock,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import { Cluster, LEASE_MS, STREAM, shard } from './worker-harness.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);

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
    it('a joining worker gets half the leases by graceful hand-off, each starting after the checkpoint of the batch in flight', async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads four shards', () => a.processor.running.size === 4);
      for (const id of ids(4)) expect((await a.processor.batch(id)).accepted).toBe(true);

      const b = await cluster.add('worker-b');
      await cluster.until('b reads two shards', () => b.processor.running.size === 2);

      const moved = [...b.processor.running.keys()].sort();
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

    it('a worker leaving gracefully releases its leases and only those move, at once', async () => {
      const cluster = new Cluster({ shards: 6 });
      const [a, b, c] = [
        await cluster.add('worker-a'),
        await cluster.add('worker-b'),
        await cluster.add('worker-c'),
      ];
      await cluster.until('two shards each', () => [a, b, c].every((w) => w!.processor.running.size === 2));
      const before = await cluster.owners();

      const leavingFor = await cluster.until('c to leave', async () => {
        await c!.worker.stop();
        return true;
      });
      const movedIn = await cluster.until(
        'a and b to hold six',
        () => a!.processor.running.size + b!.processor.running.size === 6,
      );

      const after = await cluster.owners();
      for (const [id, owner] of Object.entries(before))
        if (owner !== 'worker-c') expect(after[id]).toBe(owner);
      expect(leavingFor).toBe(0);
      // Freed leases are placed at the assigner's next look, well within a lease duration.
      expect(movedIn).toBeLessThan(LEASE_MS / 2);
      await cluster.stopAll();
    });
  });

  describe('Failure detection', () => {
    it("takes over a dead worker's leases one lease duration after its last heartbeat, not before, from its checkpoint", async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads four shards', () => a.processor.running.size === 4);
      const b = await cluster.add('worker-b');
      await cluster.until('b holds two', () => b.processor.running.size === 2);
      expect(a.worker.isAssigner).toBe(true);
      const victim = [...b.processor.running.keys()][0]!;
      const { sequenceNumber } = await b.processor.batch(victim);

      await b.worker.halt();
      const tookMs = await cluster.until('a holds all four', () => a.processor.running.size === 4);

      // Its last heartbeat was up to one interval before the kill; the assigner looks every leader poll.
      expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS - b.worker.timings.heartbeatIntervalMs);
      expect(tookMs).toBeLessThanOrEqual(LEASE_MS + 2 * a.worker.timings.leaderPollMs);
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

    it('when the assigner dies, a follower takes its role and its leases within two lease durations', async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      await cluster.until('a reads four shards', () => a.processor.running.size === 4);
      const b = await cluster.add('worker-b');
      await cluster.until('b holds two', () => b.processor.running.size === 2);

      await a.worker.halt();
      const tookMs = await cluster.until('b holds all four', () => b.processor.running.size === 4);

      expect(b.worker.isAssigner).toBe(true);
      expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS);
      expect(tookMs).toBeLessThanOrEqual(2 * LEASE_MS);
      await cluster.stopAll();
    });

    it('keeps and renews its own leases through heartbeats when no assigner is left', async () => {
      const cluster = new Cluster({ shards: 4 });
      const a = await cluster.add('worker-a');
      const b = await cluster.add('worker-b');
      await cluster.until('two each', () => a.processor.running.size === 2 && b.processor.running.size === 2);
      const assigner = a.worker.isAssigner ? a : b;
      const follower = assigner === a ? b : a;
      const kept = [...follower.processor.running.keys()].sort();
      await assigner.worker.halt();

      // Several lease durations without an assigner's renewal (the follower takes the assigner lease after
      // one, then the frozen worker's leases after another): the follower's own leases never lapse.
      await cluster.clock.advance(5 * LEASE_MS);

      expect(follower.events.filter((e) => e.type === 'lost')).toEqual([]);
      for (const id of kept) expect(follower.processor.running.has(id)).toBe(true);
      expect(follower.worker.isAssigner).toBe(true);
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
      await pausedClock.advance(0);
      await cluster.until('a holds one', async () => {
        await pausedClock.advance(100);
        return a.processor.running.size === 1;
      });
      const shardId = [...a.processor.running.keys()][0]!;
      const before = (await cluster.leases()).get(shardId)!;

      // a is paused: b sees a's heartbeat counter stand still for a lease duration and takes the shard over.
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
      const observer = new LeaseClient({ store: faulty, clock });
      const registry = new InstanceRegistry({
        store: faulty,
        clock,
        failureDetectionMs: LEASE_MS,
        heartbeatIntervalMs: 1_000,
      });
      const key = shardLeaseKey(STREAM, 'shardId-000000000000');
      await clock.advance(100);

      faulty.inject({ operations: ['heartbeatInstance'], kind: 'throttle', times: 1_000 });
      // An observer that watches from now on sees the last counter a wrote.
      await registry.list();
      observer.judge((await observer.get(key))!, (o) => registry.heartbeatOf(o));
      const lostAfter = await cluster.until('a drops its leases', () => a.processor.running.size === 0);
      await registry.list();
      const verdict = observer.judge((await observer.get(key))!, (o) => registry.heartbeatOf(o));

      expect(lostAfter).toBeLessThanOrEqual(LEASE_MS);
      expect(a.events.filter((e) => e.type === 'lost').map((e) => (e as { reason: string }).reason)).toEqual([
        'expired',
        'expired',
      ]);
      // The holder stops before any observer may take the lease over.
      expect(verdict.expired).toBe(false);
      expect(verdict.remainingMs).toBeGreaterThan(0);
      faulty.clear();
      await cluster.stopAll();
    });
  });

  describe('Resharding', () => {
    it('starts children only after every parent is read to its end, then cleans the parents up', async () => {
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
      await cluster.until('the child starts', () => a.processor.running.has('shardId-000000000002'));
      await cluster.until('parents cleaned up', () => cluster.deleted.length === 2);

      expect(cluster.deleted.sort()).toEqual([p0, p1]);
      expect(a.processor.log).toContain('start shardId-000000000002 after TRIM_HORIZON');
      await cluster.stopAll();
    });
  });
});
