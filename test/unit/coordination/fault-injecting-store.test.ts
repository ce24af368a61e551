import { describe, expect, it } from 'vitest';
import {
  CoordinationStoreError,
  FaultInjectingStore,
  InMemoryCoordinationStore,
  LockClient,
  lockKey,
  ManualClock,
} from '../../../core/coordination/index.js';

const grant = (owner: string) => ({
  owner,
  leaseDurationMs: 1_000,
  renewal: 'record' as const,
  expect: { free: true as const },
  version: `v-${owner}`,
  wallMs: 0,
});

describe('Class: FaultInjectingStore', () => {
  it('throttles and times out without applying the request', async () => {
    const inner = new InMemoryCoordinationStore();
    const store = new FaultInjectingStore({ store: inner });
    store.inject({ kind: 'throttle', operations: ['grantLease'] });
    store.inject({ kind: 'timeout', operations: ['grantLease'] });

    const throttled = await store.grantLease(lockKey('x'), grant('a')).catch((e: unknown) => e);
    const timedOut = await store.grantLease(lockKey('x'), grant('a')).catch((e: unknown) => e);

    expect(throttled).toBeInstanceOf(CoordinationStoreError);
    expect(throttled).toMatchObject({
      retryable: true,
      cause: { name: 'ProvisionedThroughputExceededException' },
    });
    expect(timedOut).toMatchObject({ retryable: true, cause: { name: 'TimeoutError' } });
    expect(await inner.getLease(lockKey('x'))).toBeUndefined();
  });

  it('applies the request and then loses the response', async () => {
    const inner = new InMemoryCoordinationStore();
    const store = new FaultInjectingStore({ store: inner });
    store.inject({ kind: 'lost-response', operations: ['grantLease'] });

    const error = await store.grantLease(lockKey('x'), grant('a')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CoordinationStoreError);
    expect(await inner.getLease(lockKey('x'))).toMatchObject({ owner: 'a', fence: 1 });
  });

  it('hits only matching operations, as many times as asked, with the given probability', async () => {
    const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), random: () => 0.7 });
    store.inject({ kind: 'timeout', operations: ['getLease'], times: 2, probability: 0.5 });
    store.inject({ kind: 'timeout', operations: ['getLease'], times: 2 });

    const outcomes = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(
        await store.getLease(lockKey('x')).then(
          () => 'ok',
          () => 'failed',
        ),
      );
    await store.listLeases('LOCK#x');

    expect(outcomes).toEqual(['failed', 'failed', 'ok', 'ok']);
    expect(store.injected).toHaveLength(2);
  });

  it('adds latency on the injected clock', async () => {
    const clock = new ManualClock();
    const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
    store.inject({ kind: 'latency', delayMs: 250 });
    const start = clock.now();

    await clock.runUntil(store.getLease(lockKey('x')));

    expect(clock.now() - start).toBe(250);
  });

  describe('with a LockClient over it', () => {
    it('survives random throttling, timeouts and lost responses with one holder at a time and increasing fences', async () => {
      // Prepare
      const clock = new ManualClock();
      let seed = 7;
      const random = () => {
        seed = (seed * 16_807) % 2_147_483_647;
        return seed / 2_147_483_647;
      };
      const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock, random });
      for (const kind of ['throttle', 'timeout', 'lost-response'] as const)
        store.inject({ kind, probability: 0.05, times: Number.POSITIVE_INFINITY });
      const clients = ['a', 'b', 'c'].map(
        (ownerId) =>
          new LockClient({
            store,
            clock,
            ownerId,
            leaseDurationMs: 2_000,
            heartbeatPeriodMs: 500,
            backoffMaxMs: 50,
            random,
          }),
      );
      let inside = 0;
      let overlaps = 0;
      const fences: number[] = [];
      const work = async (client: LockClient) => {
        for (let i = 0; i < 20; i++) {
          const lock = await client.acquire('x', { waitMs: 60_000 }).catch(() => undefined);
          if (lock === undefined) continue;
          inside += 1;
          if (inside > 1) overlaps += 1;
          fences.push(lock.fence);
          await clock.sleep(30);
          inside -= 1;
          await client.release(lock).catch(() => false);
        }
      };

      // Act
      await clock.runUntil(Promise.all(clients.map(work)));

      // Assert
      expect(store.injected.length).toBeGreaterThan(10);
      expect(overlaps).toBe(0);
      expect(fences.length).toBeGreaterThan(40);
      expect(fences).toEqual([...fences].sort((x, y) => x - y));
      expect(new Set(fences).size).toBe(fences.length);
    });
  });
});
