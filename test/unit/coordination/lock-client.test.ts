import { describe, expect, it, vi } from 'vitest';
import {
  FaultInjectingStore,
  InMemoryCoordinationStore,
  type Lock,
  LockClient,
  type LockClientOptions,
  LockNotGrantedError,
  ManualClock,
} from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';

const LEASE = 1_000;
const HEARTBEAT = 250;

function setup() {
  const clock = new ManualClock();
  const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
  let seed = 1;
  const random = () => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const client = (ownerId: string, options: Partial<LockClientOptions> = {}) =>
    new LockClient({
      store,
      clock,
      ownerId,
      leaseDurationMs: LEASE,
      heartbeatPeriodMs: HEARTBEAT,
      backoffBaseMs: 10,
      backoffMaxMs: 100,
      random,
      ...options,
    });
  return { clock, store, client };
}

describe('Class: LockClient', () => {
  describe('Method: constructor', () => {
    it('rejects a heartbeat period above half the lease, naming the value and the fix', () => {
      const store = new InMemoryCoordinationStore();

      const build = () => new LockClient({ store, leaseDurationMs: 10_000, heartbeatPeriodMs: 5_001 });

      expect(build).toThrow(OptionsError);
      expect(build).toThrow(
        /heartbeatPeriodMs must be at most half of leaseDurationMs \(10000\).*received 5001/,
      );
    });

    it('rejects a session monitor that would warn on every healthy heartbeat cycle', () => {
      const store = new InMemoryCoordinationStore();

      expect(
        () =>
          new LockClient({
            store,
            leaseDurationMs: 1_000,
            heartbeatPeriodMs: 250,
            sessionMonitor: { safeTimeMs: 800, onDanger: () => {} },
          }),
      ).toThrow(/sessionMonitor.safeTimeMs/);
    });

    it('rejects a per-call lease duration that the heartbeat period cannot keep alive', async () => {
      const { client } = setup();

      await expect(client('a').tryAcquire('x', { leaseDurationMs: 400 })).rejects.toThrow(
        /at most half of leaseDurationMs \(400\)/,
      );
    });
  });

  describe('Method: tryAcquire', () => {
    it('returns the lock with a fence, or undefined while another client holds it', async () => {
      const { client } = setup();
      const [a, b] = [client('a'), client('b')];

      const lockA = await a.tryAcquire('orders');
      const heldA = [lockA?.name, lockA?.owner, lockA?.fence, lockA?.isHeld];
      const lockB = await b.tryAcquire('orders');
      await a.release(lockA!);
      const lockB2 = await b.tryAcquire('orders');

      expect(heldA).toEqual(['orders', 'a', 1, true]);
      expect(lockA?.signal.reason).toBe('released');
      expect(lockB).toBeUndefined();
      expect(lockB2?.fence).toBe(2);
      await b.release(lockB2!);
    });

    it('reports contention once per acquisition call that found the lock held', async () => {
      const { clock, client } = setup();
      const onContention = vi.fn();
      const holder = await client('a').tryAcquire('orders');

      await clock.runUntil(client('b', { onContention }).tryAcquire('orders', { waitMs: LEASE / 2 }));
      await client('c', { onContention }).tryAcquire('other');

      expect(onContention.mock.calls).toEqual([[{ name: 'orders', holder: 'a' }]]);
      expect(holder?.isHeld).toBe(true);
    });

    it('does not hand a non-reentrant lock to a second task of the same client', async () => {
      const { client } = setup();
      const a = client('a');
      const first = await a.tryAcquire('orders');

      const second = await a.tryAcquire('orders');

      expect(second).toBeUndefined();
      await a.release(first!);
    });

    it('stops waiting when the caller signal aborts', async () => {
      const { clock, client } = setup();
      const holder = await client('a').tryAcquire('orders');
      const controller = new AbortController();
      const waiting = client('b').tryAcquire('orders', { waitMs: 60_000, signal: controller.signal });

      await clock.advance(300);
      controller.abort();

      expect(await clock.runUntil(waiting)).toBeUndefined();
      expect(holder?.isHeld).toBe(true);
    });
  });

  describe('Method: acquire', () => {
    it('waits with backoff while the holder heartbeats, then throws naming the holder', async () => {
      const { clock, client } = setup();
      const a = client('a');
      const held = await a.acquire('orders', { waitMs: 0 });

      const waiting = client('b').acquire('orders', { waitMs: 5 * LEASE });
      const error = await clock.runUntil(waiting).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(LockNotGrantedError);
      expect(error).toMatchObject({ lockName: 'orders', holder: 'a' });
      expect((error as LockNotGrantedError).waitedMs).toBeGreaterThanOrEqual(5 * LEASE);
      expect(held.isHeld).toBe(true);
      expect(held.fence).toBe(1);
      await a.release(held);
    });

    it('gets the lock soon after the holder releases it', async () => {
      const { clock, client } = setup();
      const a = client('a');
      const held = await a.acquire('orders', { waitMs: 0 });
      const waiting = client('b').acquire('orders', { waitMs: 10 * LEASE });
      await clock.advance(3 * LEASE);
      const releasedAt = clock.now();

      await a.release(held);
      const lock = await clock.runUntil(waiting);

      expect(lock.fence).toBe(2);
      expect(clock.now() - releasedAt).toBeLessThanOrEqual(100);
    });

    it('takes over an abandoned lock one lease after it stopped changing; the old holder is told', async () => {
      // Prepare: a holder that never heartbeats (a process paused or dead)
      const { clock, client } = setup();
      const a = client('a', { autoHeartbeat: false });
      const stale = await a.acquire('orders', { waitMs: 0 });
      const start = clock.now();

      // Act
      const lock = await clock.runUntil(client('b').acquire('orders', { waitMs: 10 * LEASE }));
      await clock.advance(0);

      // Assert
      expect(lock.fence).toBe(2);
      expect(clock.now() - start).toBeGreaterThanOrEqual(LEASE);
      expect(clock.now() - start).toBeLessThanOrEqual(LEASE + 100);
      expect(stale.isHeld).toBe(false);
      expect(stale.signal.aborted).toBe(true);
      expect(stale.lostReason).toBe('expired');
      expect(() => stale.assertHeld()).toThrow(/no longer held/);
      expect(await a.heartbeat(stale)).toBe(false);
      expect(await a.release(stale)).toBe(false);
    });

    it('keeps a lock through many lease durations while background heartbeats succeed', async () => {
      const { clock, client } = setup();
      const a = client('a');
      const held = await a.acquire('orders', { waitMs: 0 });

      const waiting = client('b').tryAcquire('orders', { waitMs: 20 * LEASE });
      const result = await clock.runUntil(waiting);

      expect(result).toBeUndefined();
      expect(held.isHeld).toBe(true);
      expect(held.remainingMs()).toBeGreaterThan(LEASE - HEARTBEAT - 1);
      await a.release(held);
    });
  });

  describe('Session monitor', () => {
    it('warns before the lease runs out when heartbeats fail, then aborts the lock signal', async () => {
      // Prepare
      const { clock, store, client } = setup();
      const onDanger = vi.fn<(lock: Lock) => void>();
      const a = client('a', { sessionMonitor: { safeTimeMs: 300, onDanger } });
      const held = await a.acquire('orders', { waitMs: 0 });
      const grantedAt = clock.now();
      store.inject({ kind: 'throttle', operations: ['renewLease'], times: Number.POSITIVE_INFINITY });

      // Act
      await clock.advance(LEASE - 300);
      const warned = onDanger.mock.calls.length;
      const heldWhenWarned = held.isHeld;
      await clock.advance(300);

      // Assert
      expect(warned).toBe(1);
      expect(onDanger).toHaveBeenCalledWith(held);
      expect(heldWhenWarned).toBe(true);
      expect(held.signal.aborted).toBe(true);
      expect(held.lostReason).toBe('expired');
      expect(clock.now() - grantedAt).toBe(LEASE);
    });
  });

  describe('Reentrancy', () => {
    it('lets a reentrant client acquire a lock it holds again; the last release frees it', async () => {
      const { client } = setup();
      const a = client('a', { reentrant: true });
      const b = client('b');

      const first = await a.acquire('orders', { waitMs: 0 });
      const second = await a.acquire('orders', { waitMs: 0 });
      const afterOne = (await a.release(second)) && (await b.tryAcquire('orders'));
      await a.release(first);
      const afterBoth = await b.tryAcquire('orders');

      expect(second).toBe(first);
      expect(first.holdCount).toBe(0);
      expect(afterOne).toBeUndefined();
      expect(afterBoth?.fence).toBe(2);
    });
  });

  describe('Method: acquireAll', () => {
    it('takes locks in sorted order and releases every one it took when one is busy', async () => {
      const { store, client } = setup();
      const a = client('a');
      const other = await client('b').acquire('m', { waitMs: 0 });

      const none = await a.tryAcquireAll(['z', 'm', 'a']);
      const zAfter = await store.getLease({ pk: 'LOCK#z', sk: 'LOCK' });
      const aAfter = await store.getLease({ pk: 'LOCK#a', sk: 'LOCK' });

      expect(none).toBeUndefined();
      expect(aAfter?.owner).toBeUndefined();
      expect(zAfter).toBeUndefined();
      expect(other.isHeld).toBe(true);
    });

    it('returns the locks in global order and throws naming the busy lock when it times out', async () => {
      const { clock, client } = setup();
      const a = client('a');
      const locks = await a.acquireAll(['b', 'a', 'c', 'a'], { waitMs: 0 });

      const error = await clock
        .runUntil(client('x').acquireAll(['c', 'd'], { waitMs: LEASE / 2 }))
        .catch((e) => e);

      expect(locks.map((l) => l.name)).toEqual(['a', 'b', 'c']);
      expect(error).toMatchObject({ name: 'LockNotGrantedError', lockName: 'c', holder: 'a' });
      expect(await a.releaseAll(locks)).toBe(true);
    });

    it('lets {A, B} and {B, A} lockers both complete, round after round', async () => {
      // Prepare
      const { clock, client } = setup();
      const one = client('one');
      const two = client('two');
      let inside = 0;
      let overlaps = 0;
      const worker = async (locker: LockClient, names: string[]) => {
        let done = 0;
        for (let round = 0; round < 25; round++) {
          const locks = await locker.acquireAll(names, { waitMs: 30 * LEASE });
          inside += 1;
          if (inside > 1) overlaps += 1;
          await clock.sleep(7);
          inside -= 1;
          await locker.releaseAll(locks);
          done += 1;
        }
        return done;
      };

      // Act
      const done = await clock.runUntil(Promise.all([worker(one, ['A', 'B']), worker(two, ['B', 'A'])]));

      // Assert
      expect(done).toEqual([25, 25]);
      expect(overlaps).toBe(0);
    });
  });

  describe('Concurrent tasks of one client', () => {
    it('serialises two tasks acquiring the same lock through one client', async () => {
      const { clock, client } = setup();
      const a = client('a');
      const fences: number[] = [];
      let inside = 0;
      let maxInside = 0;
      const task = async () => {
        for (let i = 0; i < 5; i++) {
          const lock = await a.acquire('orders', { waitMs: 20 * LEASE });
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          fences.push(lock.fence);
          await clock.sleep(20);
          inside -= 1;
          await a.release(lock);
        }
      };

      await clock.runUntil(Promise.all([task(), task()]));

      expect(maxInside).toBe(1);
      expect(fences).toHaveLength(10);
      expect(new Set(fences).size).toBe(10);
    });
  });
});
