import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from '../../../bin/worker/health-server.js';
import {
  FaultInjectingStore,
  InMemoryCoordinationStore,
  ManualClock,
} from '../../../core/coordination/index.js';
import { type HealthSubject, workerHealth } from '../../../core/workers/health.js';
import { Cluster, LEASE_MS } from './worker-harness.js';

const subject = (lastHeartbeatAtMs: number | undefined, stopping = false): HealthSubject => ({
  instanceId: 'worker-a',
  lastHeartbeatAtMs,
  stopping,
  shards: ['shardId-000000000000'],
  isAssigner: true,
  timings: { leaseDurationMs: LEASE_MS },
});

describe('Function: workerHealth', () => {
  it('is healthy only while the last accepted heartbeat is younger than the lease duration', () => {
    const at = (nowMs: number) => ({ now: () => nowMs });

    expect(workerHealth(subject(undefined), at(0))).toMatchObject({ status: 'starting', healthy: false });
    expect(workerHealth(subject(1_000), at(1_000 + LEASE_MS - 1))).toMatchObject({
      status: 'healthy',
      healthy: true,
      heartbeatAgeMs: LEASE_MS - 1,
      leases: 1,
      assigner: true,
    });
    expect(workerHealth(subject(1_000), at(1_000 + LEASE_MS))).toMatchObject({
      status: 'stale',
      healthy: false,
    });
    expect(workerHealth(subject(1_000, true), at(1_001))).toMatchObject({
      status: 'stopping',
      healthy: false,
    });
  });
});

describe('Function: startHealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers 200 while the heartbeat is current, 503 once heartbeats have failed for a lease duration, 200 again when one gets through, 503 while stopping', async () => {
    const clock = new ManualClock();
    const faulty = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
    const cluster = new Cluster({ shards: 2, store: faulty });
    Object.assign(cluster, { clock });
    const a = await cluster.add('worker-a');
    await cluster.until('a reads both shards', () => a.processor.running.size === 2);
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      report: () => workerHealth(a.worker, clock),
    });
    const check = async () => {
      const response = await fetch(`${server!.url}/health`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const healthy = await check();
    faulty.inject({ operations: ['beatMember'], kind: 'throttle', times: 1_000 });
    const staleAfterMs = await cluster.until('503', async () => (await check()).status === 503);
    const stale = await check();
    faulty.clear();
    await cluster.until('200 again', async () => (await check()).status === 200);
    const stopped = a.worker.stop();
    const stopping = await check();
    await clock.runUntil(stopped);

    expect(healthy).toMatchObject({
      status: 200,
      body: { status: 'healthy', instanceId: 'worker-a', leases: 2 },
    });
    expect(stale).toMatchObject({ status: 503, body: { status: 'stale', leases: 0 } });
    expect(stale.body.heartbeatAgeMs).toBeGreaterThanOrEqual(LEASE_MS);
    // Stale no later than a lease duration after the last heartbeat got through (one interval before the faults).
    expect(staleAfterMs).toBeLessThanOrEqual(LEASE_MS);
    expect(stopping).toMatchObject({ status: 503, body: { status: 'stopping' } });
    await cluster.stopAll();
  });

  it('answers 404 for anything but GET /health', async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      report: () => workerHealth(subject(1), { now: () => 2 }),
    });

    const response = await fetch(`${server.url}/metrics`);

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no GET /metrics here; GET /health' });
  });
});
