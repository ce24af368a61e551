import { describe, expect, it } from 'vitest';
import {
  InMemoryCoordinationStore,
  InstanceRegistry,
  type InstanceRegistryOptions,
  ManualClock,
} from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';

const WINDOW = 10_000;
const INTERVAL = 2_000;

function setup(options: Partial<InstanceRegistryOptions> = {}) {
  const clock = new ManualClock();
  const store = new InMemoryCoordinationStore();
  const registry = (more: Partial<InstanceRegistryOptions> = {}) =>
    new InstanceRegistry({
      store,
      clock,
      failureDetectionMs: WINDOW,
      heartbeatIntervalMs: INTERVAL,
      ...options,
      ...more,
    });
  return { clock, store, registry };
}

describe('Class: InstanceRegistry', () => {
  describe('Method: constructor', () => {
    it('rejects a heartbeat interval above half the failure-detection window', () => {
      const { registry } = setup();

      expect(() => registry({ heartbeatIntervalMs: 6_000 })).toThrow(OptionsError);
      expect(() => registry({ heartbeatIntervalMs: 6_000 })).toThrow(/received 6000/);
    });

    it('rejects a TTL so short that a skewed writer clock could delete live instances', () => {
      const { registry } = setup();

      expect(() => registry({ ttlMs: 60_000 })).toThrow(/ttlMs must be at least 10 × failureDetectionMs/);
    });
  });

  describe('Method: register', () => {
    it('registers a fresh id once, with a TTL after the wall clock', async () => {
      const { clock, store, registry } = setup();
      const reg = registry();
      const id = InstanceRegistry.newInstanceId('worker');

      const first = await reg.register({ instanceId: id, kind: 'worker', configVersion: '3' });
      const second = await registry().register({ instanceId: id, kind: 'worker' });

      expect([first, second]).toEqual([true, false]);
      expect(id).toMatch(/^worker-[0-9a-f-]{36}$/);
      expect(await store.getInstance(id)).toMatchObject({
        kind: 'worker',
        heartbeat: 0,
        configVersion: '3',
        startedAtWallMs: clock.wallNow(),
        ttlEpochSeconds: Math.ceil((clock.wallNow() + 6 * 3_600_000) / 1000),
      });
    });
  });

  describe('Method: list', () => {
    it('presumes an instance dead once its counter has not moved for the window on the observer clock', async () => {
      // Prepare
      const { clock, registry } = setup();
      const self = registry();
      const observer = registry();
      await self.register({ instanceId: 'alive', kind: 'worker' });
      await self.register({ instanceId: 'dies', kind: 'lambda' });

      // Act: both heartbeat for a while, then only one goes on
      for (let t = 0; t < 3; t++) {
        await self.heartbeat('alive');
        await self.heartbeat('dies');
        await observer.list();
        await clock.advance(INTERVAL);
      }
      for (let t = 0; t < 5; t++) {
        await self.heartbeat('alive', { load: { eventsPerSecond: 10 * t } });
        await clock.advance(INTERVAL);
        await observer.list();
      }
      const live = await observer.listLive();

      // Assert
      expect(live.map((i) => i.instanceId)).toEqual(['alive']);
      expect(live[0]?.load).toEqual({ eventsPerSecond: 40 });
      expect(observer.heartbeatOf('alive')).toBe(8);
      expect(observer.heartbeatOf('dies')).toBe(3);
    });

    it('counts an instance first seen as alive, even if its last heartbeat is hours old by wall time', async () => {
      const { clock, registry } = setup();
      await registry().register({ instanceId: 'old', kind: 'worker' });
      clock.shiftWall(5 * 3_600_000);

      const views = await registry().list();

      expect(views.map((v) => v.alive)).toEqual([true]);
    });

    it('with a skew allowance, presumes an instance dead at first sight when its heartbeat is older than window + allowance', async () => {
      const { clock, registry } = setup({ clockSkewAllowanceMs: 60_000 });
      await registry().register({ instanceId: 'old', kind: 'worker' });
      await registry().register({ instanceId: 'skewed', kind: 'worker' });
      clock.shiftWall(WINDOW + 60_000);

      const views = await registry().list();

      expect(views.map((v) => [v.instance.instanceId, v.alive, v.verdict.byWallClock])).toEqual([
        ['old', false, true],
        ['skewed', false, true],
      ]);
    });
  });

  describe('Method: heartbeatIfDue', () => {
    it('writes at most one heartbeat per interval, so it can be called after every batch', async () => {
      const { clock, store, registry } = setup();
      const reg = registry();
      await reg.register({ instanceId: 'w', kind: 'worker' });

      const outcomes = [];
      for (let i = 0; i < 10; i++) {
        outcomes.push(await reg.heartbeatIfDue('w'));
        await clock.advance(INTERVAL / 4);
      }

      expect(outcomes.filter((o) => o === 'written')).toHaveLength(2);
      expect((await store.getInstance('w'))?.heartbeat).toBe(2);
    });

    it('answers not-registered once the instance was removed as dead, so it registers again', async () => {
      const { clock, registry } = setup();
      const self = registry();
      const observer = registry();
      await self.register({ instanceId: 'paused', kind: 'worker' });
      await observer.list();
      await clock.advance(WINDOW);

      const removed = await observer.removeDead();
      const outcome = await self.heartbeatIfDue('paused');
      const again = await self.register({ instanceId: 'paused', kind: 'worker' });

      expect(removed).toEqual(['paused']);
      expect(outcome).toBe('not-registered');
      expect(again).toBe(true);
    });
  });

  describe('Method: removeDead', () => {
    it('does not remove an instance whose counter moved after it was judged dead', async () => {
      const { clock, store, registry } = setup();
      const self = registry();
      const observer = registry();
      await self.register({ instanceId: 'late', kind: 'worker' });
      await observer.list();
      await clock.advance(WINDOW);
      const judged = await observer.list();

      await self.heartbeat('late');
      const removed = await store.removeInstance('late', { heartbeat: judged[0]!.instance.heartbeat });

      expect(judged[0]?.alive).toBe(false);
      expect(removed).toBe(false);
      expect(await observer.removeDead()).toEqual([]);
    });
  });

  describe('Method: deregister', () => {
    it('removes the instance at once and is idempotent', async () => {
      const { registry } = setup();
      const reg = registry();
      await reg.register({ instanceId: 'bye', kind: 'lambda' });

      await reg.deregister('bye');
      await reg.deregister('bye');

      expect(await reg.list()).toEqual([]);
    });
  });
});
