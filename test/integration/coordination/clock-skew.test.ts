import { afterAll, describe, expect, it } from 'vitest';
import {
  type Clock,
  DynamoDbCoordinationStore,
  InstanceRegistry,
  LeaseClient,
  LockClient,
  lockKey,
  systemClock,
} from '../../../core/coordination/index.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const HOUR = 3_600_000;
const LEASE = 1_500;
const SKEWS = [-HOUR, 0, HOUR];
const clients = testClients();
afterAll(() => clients.destroy());

/**
 * A clock whose monotonic time is frozen at each sampling step, so every observer judges at the same
 * instant, and whose wall time is off by `skewMs`.
 */
function observerClock(step: { now: number }, skewMs: number): Clock {
  return { now: () => step.now, wallNow: () => Date.now() + skewMs, sleep: systemClock.sleep };
}

describe('Observers with skewed wall clocks', () => {
  it('decide lock and instance expiry exactly as an unskewed observer does', async () => {
    // Prepare: a holder and an instance whose own wall clock runs an hour ahead
    const table = await createCoordinationTable(clients.dynamodb, uniqueName('skew'));
    const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
    const holderClock: Clock = { ...systemClock, wallNow: () => Date.now() + HOUR };
    const holder = new LockClient({
      store,
      clock: holderClock,
      ownerId: 'holder',
      leaseDurationMs: LEASE,
      heartbeatPeriodMs: LEASE / 5,
      autoHeartbeat: false,
    });
    const self = new InstanceRegistry({
      store,
      clock: holderClock,
      failureDetectionMs: LEASE,
      heartbeatIntervalMs: 300,
    });
    await self.register({ instanceId: 'worker-1', kind: 'worker' });
    const lock = await holder.acquire('skew', { waitMs: 0 });
    const step = { now: performance.now() };
    const observers = SKEWS.flatMap((skew) => [
      new LeaseClient({ store, clock: observerClock(step, skew) }),
      // The opt-in fast path with an allowance larger than the real skew must not change anything either.
      new LeaseClient({ store, clock: observerClock(step, skew), clockSkewAllowanceMs: 2 * HOUR }),
    ]);
    const registries = SKEWS.map(
      (skew) =>
        new InstanceRegistry({
          store,
          clock: observerClock(step, skew),
          failureDetectionMs: LEASE,
          heartbeatIntervalMs: 300,
        }),
    );

    // Act: sample while the holder heartbeats for two leases, then while it is silent until it expires
    const samples: { atMs: number; beating: boolean; leases: boolean[]; instances: boolean[] }[] = [];
    const start = performance.now();
    let lastBeatMs = start;
    for (let expiredSteps = 0; expiredSteps < 3; ) {
      if (performance.now() - start > 15_000) throw new Error('no expiry within 15 s');
      const beating = performance.now() - start < 2 * LEASE;
      if (beating) {
        expect(await holder.heartbeat(lock)).toBe(true);
        await self.heartbeat('worker-1');
        lastBeatMs = performance.now();
      }
      const record = (await store.getLease(lockKey('skew')))!;
      step.now = performance.now();
      const leases = observers.map((o) => o.judge(record).expired);
      const instances: boolean[] = [];
      for (const r of registries) instances.push(!(await r.list())[0]!.alive);
      samples.push({ atMs: step.now - lastBeatMs, beating, leases, instances });
      if (leases[2] && instances[1]) expiredSteps += 1;
      await systemClock.sleep(100);
    }

    // Assert
    for (const s of samples) {
      expect(new Set(s.leases).size, JSON.stringify(s)).toBe(1);
      expect(new Set(s.instances).size, JSON.stringify(s)).toBe(1);
      if (s.beating) expect(s.leases[0] || s.instances[0], JSON.stringify(s)).toBe(false);
      if (s.leases[0] || s.instances[0]) expect(s.atMs, JSON.stringify(s)).toBeGreaterThanOrEqual(LEASE);
    }
    expect(samples.filter((s) => s.beating).length).toBeGreaterThan(0);
    const taken = await observers[0]!.tryAcquire(lockKey('skew'), {
      owner: 'observer',
      leaseDurationMs: LEASE,
    });
    expect(taken.lease?.fence).toBe(lock.fence + 1);
  });
});
