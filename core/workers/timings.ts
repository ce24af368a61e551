import type { Config } from '../config/schema.js';
import { OptionsError } from '../errors.js';

/** How often a worker does what; all derived from the lease duration unless overridden. */
interface WorkerTimings {
  /**
   * A worker is presumed dead, and its shard leases are taken over, when its membership counter has not moved
   * for this long on the observer's clock; a worker stops using its leases this long after its last accepted
   * heartbeat was sent (`leases.failureDetectionMs`).
   */
  readonly leaseDurationMs: number;
  /** Heartbeats while busy (records to process, a move in flight, leaving). @default lease / 4 */
  readonly heartbeatIntervalMs: number;
  /**
   * Heartbeats at rest: the whole coordination cost of an idle follower. At most half the lease, so that a
   * heartbeat delayed by less than an interval never gets a live worker presumed dead. @default lease / 2
   */
  readonly restHeartbeatIntervalMs: number;
  /** A worker waiting for a hand-off (as its owner or its new owner) reads that lease this often. @default 250 */
  readonly fastPollMs: number;
  /** The assigner lists the stream's shards (Kinesis ListShards) this often while busy (at rest every 2 leases). @default lease / 3 */
  readonly shardSyncMs: number;
  /**
   * A worker writes its report to the instance registry (load, configuration version, hot keys) this often at
   * rest, at once when its configuration version changes, and every `busyReportIntervalMs` while busy. Its
   * liveness is its membership heartbeat: the report decides nothing. @default 60_000
   */
  readonly reportIntervalMs: number;
  /** @default 10_000 */
  readonly busyReportIntervalMs: number;
  /** At rest the assigner reads the leases this often even though nothing called for it (a safety net). @default 60_000 */
  readonly restLeaseReadMs: number;
  /**
   * How long an owner asked to hand a lease off waits for the new owner to accept before it hands off anyway
   * (the new owner then starts at its next look). @default the lease duration
   */
  readonly acceptWaitMs: number;
  /** A leaving worker releases the leases nobody asked it to hand off after this long. @default 2 leases */
  readonly leaveWaitMs: number;
}

/**
 * The timings a worker runs with, from the config's `leases.failureDetectionMs` (the lease duration `L`). At
 * rest a worker makes one membership heartbeat per `L/2` and one registry report per minute, whatever the
 * number of shards: with `L` = 4.5 s, 0.46 requests per second (measured by `npm run bench -- cluster`).
 */
function workerTimings(leases: Config['leases'], overrides: Partial<WorkerTimings> = {}): WorkerTimings {
  const leaseDurationMs = overrides.leaseDurationMs ?? leases.failureDetectionMs;
  const restHeartbeatIntervalMs = overrides.restHeartbeatIntervalMs ?? Math.floor(leaseDurationMs / 2);
  const heartbeatIntervalMs =
    overrides.heartbeatIntervalMs ?? Math.min(restHeartbeatIntervalMs, Math.floor(leaseDurationMs / 4));
  for (const [name, value] of [
    ['heartbeatIntervalMs', heartbeatIntervalMs],
    ['restHeartbeatIntervalMs', restHeartbeatIntervalMs],
  ] as const)
    if (value > leaseDurationMs / 2)
      throw new OptionsError(
        name,
        value,
        `must be at most half the lease duration (${leaseDurationMs} ms), so that one late heartbeat ` +
          'does not get a live worker presumed dead',
      );
  return {
    leaseDurationMs,
    heartbeatIntervalMs,
    restHeartbeatIntervalMs,
    fastPollMs: overrides.fastPollMs ?? Math.min(250, heartbeatIntervalMs),
    shardSyncMs: overrides.shardSyncMs ?? Math.floor(leaseDurationMs / 3),
    reportIntervalMs: overrides.reportIntervalMs ?? 60_000,
    busyReportIntervalMs: overrides.busyReportIntervalMs ?? 10_000,
    restLeaseReadMs: overrides.restLeaseReadMs ?? 60_000,
    acceptWaitMs: overrides.acceptWaitMs ?? leaseDurationMs,
    leaveWaitMs: overrides.leaveWaitMs ?? 2 * leaseDurationMs,
  };
}

/** Shard lease items in one 1 MB Query page, at the most (an item with a checkpoint is about 350–500 bytes). */
const LEASES_PER_PAGE = 2_000;

/**
 * How long a worker at rest goes without reading the lease partition (its safety net for lost mail): `restLeaseReadMs`
 * per Query page the partition takes, so that the net costs one page a minute whatever the shard count (deaths
 * and joins show in the membership; only a lost mailing waits for it).
 */
function restLeaseReadInterval(timings: WorkerTimings, leaseCount: number): number {
  return Math.max(1, Math.ceil(leaseCount / LEASES_PER_PAGE)) * timings.restLeaseReadMs;
}

export type { WorkerTimings };
export { LEASES_PER_PAGE, restLeaseReadInterval, workerTimings };
