import { describe, expect, it } from 'vitest';
import {
  CoordinationError,
  CoordinationStoreError,
  FaultInjectingStore,
  InMemoryCoordinationStore,
  Lease,
  LeaseClient,
  lockKey,
  ManualClock,
  shardLeaseKey,
} from '../../../core/coordination/index.js';

const DURATION = 1_000;

function setup() {
  const clock = new ManualClock();
  const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
  const client = () => new LeaseClient({ store, clock, retryBaseMs: 1 });
  return { clock, store, a: client(), b: client(), key: lockKey('orders') };
}

describe('Class: LeaseClient', () => {
  describe('Method: tryAcquire', () => {
    it('grants a free lease at once with fence 1, and tells a contender who holds it', async () => {
      // Prepare
      const { a, b, key } = setup();

      // Act
      const first = await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION });
      const second = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      // Assert
      expect(first.lease?.fence).toBe(1);
      expect(second.lease).toBeUndefined();
      expect(second).toMatchObject({ current: { owner: 'a', fence: 1 }, retryInMs: DURATION });
    });

    it('takes over only after the holder has been silent for a lease duration on the observer clock', async () => {
      const { clock, a, b, key } = setup();
      const held = (await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).lease!;
      await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      await clock.advance(DURATION - 1);
      const early = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });
      await clock.advance(1);
      const onTime = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      expect(early).toMatchObject({ lease: undefined, retryInMs: 1 });
      expect(onTime.lease).toMatchObject({ owner: 'b', fence: 2 });
      expect(await a.renew(held)).toBeUndefined();
    });

    it('restarts the wait when the holder renews', async () => {
      const { clock, a, b, key } = setup();
      const held = (await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).lease!;
      await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });
      await clock.advance(900);
      await a.renew(held);

      await clock.advance(200);
      const afterRenewal = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });
      await clock.advance(DURATION);
      const silent = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      expect(afterRenewal).toMatchObject({ lease: undefined, retryInMs: DURATION });
      expect(silent.lease?.fence).toBe(2);
    });

    it('makes a newly started observer wait a full duration, however old the record is', async () => {
      const { clock, store, a, key } = setup();
      await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION });
      await clock.advance(60_000);
      const late = new LeaseClient({ store, clock });

      const first = await late.tryAcquire(key, { owner: 'late', leaseDurationMs: DURATION });
      await clock.advance(DURATION);
      const second = await late.tryAcquire(key, { owner: 'late', leaseDurationMs: DURATION });

      expect(first).toMatchObject({ lease: undefined, retryInMs: DURATION });
      expect(second.lease?.fence).toBe(2);
    });

    it('counts a lost grant response once and keeps fence 1', async () => {
      const { clock, store, a, key } = setup();
      store.inject({ kind: 'lost-response', operations: ['grantLease'] });

      const attempt = await clock.runUntil(a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION }));

      expect(store.injected).toEqual([{ operation: 'grantLease', kind: 'lost-response' }]);
      expect(attempt.lease).toMatchObject({ owner: 'a', fence: 1 });
      expect((await a.get(key))?.fence).toBe(1);
    });

    it('adopts a grant whose response never came back under a new fence, so no older handle can write', async () => {
      const { clock, store, key } = setup();
      const once = new LeaseClient({ store, clock, maxAttempts: 1 });
      store.inject({ kind: 'lost-response', operations: ['grantLease'] });
      await expect(once.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).rejects.toBeInstanceOf(
        CoordinationStoreError,
      );

      const again = await once.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION });

      expect(again.lease).toMatchObject({ owner: 'a', fence: 2 });
      expect(again.lease?.validUntilMs).toBe(clock.now() + DURATION);
      expect(await once.renew(new Lease({ ...again.lease!.record, fence: 1 }, clock.now()))).toBeUndefined();
    });
  });

  describe('Method: release', () => {
    it('frees the lease so the next contender is granted at once', async () => {
      const { a, b, key } = setup();
      const held = (await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).lease!;
      await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      const released = await a.release(held);
      const next = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      expect(released).toBe(true);
      expect(next.lease).toMatchObject({ owner: 'b', fence: 2 });
      expect(await a.release(held)).toBe(false);
    });

    it('answers true when a release is retried after its response was lost', async () => {
      const { clock, store, a, key } = setup();
      const held = (await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).lease!;
      store.inject({ kind: 'lost-response', operations: ['releaseLease'] });

      expect(await clock.runUntil(a.release(held))).toBe(true);
      expect((await a.get(key))?.owner).toBeUndefined();
    });
  });

  describe('Method: handOff', () => {
    it('moves the lease to the pending owner with a new fence; the old holder is fenced out', async () => {
      // Prepare
      const { a, b, key } = setup();
      const held = (await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).lease!;
      expect(await b.requestHandOff(key, held.fence, 'b')).toBe(true);
      const seen = await a.renew(held);

      // Act
      const handed = await a.handOff(seen!, seen!.record.pendingOwner!);
      const adopted = await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION });

      // Assert
      expect(seen?.record.pendingOwner).toBe('b');
      expect(handed).toBe(true);
      expect(adopted.lease).toMatchObject({ owner: 'b', fence: 3 });
      expect(await a.renew(seen!)).toBeUndefined();
      expect(await b.requestHandOff(key, held.fence, 'c')).toBe(false);
    });
  });

  describe('Method: judge (heartbeat-renewed leases)', () => {
    it('treats a lease as renewed while its owner heartbeat counter moves, with no lease write', async () => {
      // Prepare
      const { clock, a, b } = setup();
      const key = shardLeaseKey('changes', 'shardId-000000000000');
      await a.create(key, { leaseDurationMs: DURATION, renewal: 'heartbeat', data: { checkpoint: '0001' } });
      const held = await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION, renewal: 'heartbeat' });
      let counter = 0;
      const heartbeatOf = () => counter;

      // Act: the owner heartbeats for three durations, then stops
      const verdicts: boolean[] = [];
      for (let i = 0; i < 6; i++) {
        counter += 1;
        await clock.advance(DURATION / 2);
        verdicts.push(
          (await b.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION, heartbeatOf })).lease !==
            undefined,
        );
      }
      await clock.advance(DURATION);
      const taken = await b.tryAcquire(key, {
        owner: 'b',
        leaseDurationMs: DURATION,
        renewal: 'heartbeat',
        heartbeatOf,
      });

      // Assert
      expect(held.lease?.data).toEqual({ checkpoint: '0001' });
      expect(verdicts).toEqual([false, false, false, false, false, false]);
      expect(taken.lease).toMatchObject({ owner: 'b', fence: 2, data: { checkpoint: '0001' } });
    });

    it('refuses to judge a heartbeat-renewed lease without the heartbeat counters', async () => {
      const { a } = setup();
      const key = shardLeaseKey('changes', 'shardId-000000000001');
      await a.create(key, { leaseDurationMs: DURATION, renewal: 'heartbeat' });
      await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION, renewal: 'heartbeat' });

      await expect(a.tryAcquire(key, { owner: 'b', leaseDurationMs: DURATION })).rejects.toBeInstanceOf(
        CoordinationError,
      );
    });
  });

  describe('Class: Lease (holder view)', () => {
    it('is valid for one duration from when the granting request was sent, and extended by heartbeats', async () => {
      const { clock, a, key } = setup();
      const sentAt = clock.now();
      const lease = (await a.tryAcquire(key, { owner: 'a', leaseDurationMs: DURATION })).lease!;
      await clock.advance(600);

      const extended = lease.extendedByHeartbeat(clock.now());

      expect(lease.validUntilMs).toBe(sentAt + DURATION);
      expect(lease.remainingMs(clock.now())).toBe(400);
      expect(lease.isExpired(sentAt + DURATION)).toBe(true);
      expect(extended.remainingMs(clock.now())).toBe(DURATION);
    });
  });
});
