import { describe, expect, it } from 'vitest';
import {
  FaultInjectingStore,
  type HeartbeatReport,
  InMemoryCoordinationStore,
  InstancePresence,
  InstanceRegistry,
  ManualClock,
  type PresenceOperation,
} from '../../../core/coordination/index.js';

const INTERVAL = 5_000;
const ID = 'lambda-env-1';

function setup(options: { timeoutMs?: number } = {}) {
  const clock = new ManualClock();
  const inner = new InMemoryCoordinationStore();
  const store = new FaultInjectingStore({ store: inner, clock });
  const registry = new InstanceRegistry({
    store,
    clock,
    failureDetectionMs: 20_000,
    heartbeatIntervalMs: INTERVAL,
  });
  let reports = 0;
  const failures: { message: string; operation: PresenceOperation }[] = [];
  let built = 0;
  const presence = new InstancePresence({
    registry: () => {
      built++;
      return registry;
    },
    instanceId: ID,
    kind: 'lambda',
    clock,
    timeoutMs: options.timeoutMs,
    report: (): HeartbeatReport => {
      reports++;
      return {
        load: { eventsPerSecond: 10 * reports },
        configVersion: `v${reports}`,
        hotKeys: [{ key: `k${reports}`, count: reports, periodMs: 1_000 }],
      };
    },
    onFailure: (error, operation) => failures.push({ message: error.message, operation }),
  });
  return {
    clock,
    inner,
    store,
    registry,
    presence,
    failures,
    reports: () => reports,
    built: () => built,
  };
}

describe('Class: InstancePresence', () => {
  describe('Method: afterBatch', () => {
    it('registers lazily at the first batch with its first report, hot keys included', async () => {
      const { presence, inner, built } = setup();
      expect(built()).toBe(0);

      const outcome = await presence.afterBatch();

      expect(outcome).toBe('registered');
      expect(built()).toBe(1);
      expect(await inner.getInstance(ID)).toMatchObject({
        kind: 'lambda',
        heartbeat: 0,
        load: { eventsPerSecond: 10 },
        configVersion: 'v1',
        hotKeys: [{ key: 'k1', count: 1, periodMs: 1_000 }],
      });
    });

    it('heartbeats only when due, building the report only for the writes', async () => {
      const { presence, inner, clock, reports } = setup();
      await presence.afterBatch();

      const soon = await presence.afterBatch();
      await clock.advance(INTERVAL);
      const due = await presence.afterBatch();

      expect([soon, due]).toEqual(['skipped', 'written']);
      expect(reports()).toBe(2);
      expect(await inner.getInstance(ID)).toMatchObject({
        heartbeat: 1,
        configVersion: 'v2',
        hotKeys: [{ key: 'k2', count: 2, periodMs: 1_000 }],
      });
    });

    it('registers again when it was presumed dead and removed', async () => {
      const { presence, inner, clock } = setup();
      await presence.afterBatch();
      await inner.deregisterInstance(ID);
      await clock.advance(INTERVAL);

      const outcome = await presence.afterBatch();

      expect(outcome).toBe('registered');
      expect(presence.registered).toBe(true);
      // The report the refused heartbeat took is the one registered: no counting period is lost.
      expect(await inner.getInstance(ID)).toMatchObject({
        heartbeat: 0,
        configVersion: 'v2',
        hotKeys: [{ key: 'k2', count: 2, periodMs: 1_000 }],
      });
    });

    it('reports a failed registration without throwing, and registers at a later batch', async () => {
      const { presence, store, inner, clock, failures } = setup();
      store.inject({ kind: 'throttle', operations: ['registerInstance'], times: 3 });

      const failed = await clock.runUntil(presence.afterBatch());
      const retried = await presence.afterBatch();

      expect(failed).toBe('failed');
      expect(failures).toEqual([{ operation: 'register', message: expect.stringMatching(/throttl/) }]);
      expect(retried).toBe('registered');
      expect(await inner.getInstance(ID)).toBeDefined();
    });

    it('reports a failed heartbeat without throwing', async () => {
      const { presence, store, clock, failures } = setup();
      await presence.afterBatch();
      await clock.advance(INTERVAL);
      store.inject({ kind: 'timeout', operations: ['heartbeatInstance'], times: 3 });

      const outcome = await clock.runUntil(presence.afterBatch());

      expect(outcome).toBe('failed');
      expect(failures.map((f) => f.operation)).toEqual(['heartbeat']);
    });

    it('stops waiting after timeoutMs; the write finishes in the background and nothing overlaps it', async () => {
      const { presence, store, inner, clock, failures } = setup({ timeoutMs: 500 });
      store.inject({ kind: 'latency', operations: ['registerInstance'], delayMs: 3_000 });

      const pending = presence.afterBatch();
      await clock.advance(500);
      const outcome = await pending;
      const meanwhile = await presence.afterBatch();
      await clock.advance(2_500);

      expect(outcome).toBe('timed-out');
      expect(failures).toEqual([{ operation: 'register', message: expect.stringMatching(/within 500 ms/) }]);
      expect(meanwhile).toBe('busy');
      expect(await inner.getInstance(ID)).toMatchObject({ heartbeat: 0 });
      expect(presence.registered).toBe(true);
    });

    it('reports a registry that cannot be built, and does not throw', async () => {
      const failures: string[] = [];
      const presence = new InstancePresence({
        registry: () => {
          throw new Error('bad timings');
        },
        instanceId: ID,
        kind: 'lambda',
        report: () => ({}),
        onFailure: (error) => failures.push(error.message),
      });

      expect(await presence.afterBatch()).toBe('failed');
      expect(failures).toEqual(['bad timings']);
    });
  });
});
