import type { Clock } from '../coordination/clock.js';

/**
 * - `starting`: not registered yet;
 * - `healthy`: the store accepted a heartbeat within the lease duration: the worker holds its leases and the
 *   others count it alive;
 * - `stale`: no heartbeat accepted for a lease duration: its leases have run out, the others may take them,
 *   and it reads nothing until a heartbeat gets through;
 * - `stopping`: leaving (SIGTERM): handing its leases off.
 */
type HealthStatus = 'starting' | 'healthy' | 'stale' | 'stopping';

/** What a health check answers; `healthy` decides the HTTP status. */
interface HealthReport {
  readonly status: HealthStatus;
  readonly healthy: boolean;
  readonly instanceId: string;
  /** Since the last heartbeat the store accepted was sent; undefined before registration. */
  readonly heartbeatAgeMs: number | undefined;
  readonly leaseDurationMs: number;
  readonly leases: number;
  readonly assigner: boolean;
}

/** What health needs to know of a worker (a `Worker` fits). */
interface HealthSubject {
  readonly instanceId: string;
  readonly lastHeartbeatAtMs: number | undefined;
  readonly stopping: boolean;
  readonly shards: readonly string[];
  readonly isAssigner: boolean;
  readonly timings: { readonly leaseDurationMs: number };
}

/**
 * A worker's health, for a container health check: healthy only while its heartbeat is current, that is while
 * the last heartbeat the coordination table accepted was sent less than a lease duration ago on the worker's
 * own clock — exactly as long as it may still act on its leases (docs/architecture.md contract 8). A worker
 * that cannot reach the table for that long is stale: restarting it is the orchestrator's call.
 *
 * @example
 * ```ts
 * const report = workerHealth(worker, systemClock);
 * response.writeHead(report.healthy ? 200 : 503).end(JSON.stringify(report));
 * ```
 */
function workerHealth(worker: HealthSubject, clock: Pick<Clock, 'now'>): HealthReport {
  const beatAt = worker.lastHeartbeatAtMs;
  const leaseDurationMs = worker.timings.leaseDurationMs;
  const heartbeatAgeMs = beatAt === undefined ? undefined : Math.max(0, clock.now() - beatAt);
  const status: HealthStatus = worker.stopping
    ? 'stopping'
    : heartbeatAgeMs === undefined
      ? 'starting'
      : heartbeatAgeMs < leaseDurationMs
        ? 'healthy'
        : 'stale';
  return {
    status,
    healthy: status === 'healthy',
    instanceId: worker.instanceId,
    heartbeatAgeMs,
    leaseDurationMs,
    leases: worker.shards.length,
    assigner: worker.isAssigner,
  };
}

export type { HealthReport, HealthStatus, HealthSubject };
export { workerHealth };
