import type { Config } from '../config/schema.js';
import { OptionsError } from '../errors.js';

/** How often a worker does what; all derived from the lease duration unless overridden. */
interface WorkerTimings {
  /**
   * A shard lease expires when its owner's heartbeat counter and the lease record have not moved for this
   * long on the observer's clock (`instances.failureDetectionMs`).
   */
  readonly leaseDurationMs: number;
  /** Instance heartbeats, which renew every shard lease the worker holds (failureDetectionMs / heartbeatsPerWindow). */
  readonly heartbeatIntervalMs: number;
  /** A follower reads the stream's lease partition this often (hand-off requests, grants, the assigner). @default lease / 4 */
  readonly followerPollMs: number;
  /** The assigner lists instances this often to notice deaths and joins (at rest every `assignerRenewMs`). @default lease / 5 */
  readonly leaderPollMs: number;
  /** The assigner lists the stream's shards (Kinesis ListShards) this often. @default lease / 3 */
  readonly shardSyncMs: number;
  /** The assigner renews its own lease (one write) this often, and heartbeats at this pace too. @default lease / 3 */
  readonly assignerRenewMs: number;
  /** A follower expecting a lease (a hand-off to it was requested) polls this often. @default min(250, followerPollMs) */
  readonly fastPollMs: number;
}

/**
 * The timings a worker runs with: the lease duration and heartbeat from the config's `instances` section, the
 * polls from the lease duration. At rest a follower makes one heartbeat write per heartbeat interval and one
 * Query per follower poll; the assigner one heartbeat write, one renewal and one instance Query per
 * `assignerRenewMs` and one lease Query per two lease durations — whatever the number of shards (measured by
 * `npm run bench -- cluster`).
 */
function workerTimings(
  instances: Config['instances'],
  overrides: Partial<WorkerTimings> = {},
): WorkerTimings {
  const leaseDurationMs = overrides.leaseDurationMs ?? instances.failureDetectionMs;
  const heartbeatIntervalMs =
    overrides.heartbeatIntervalMs ?? Math.floor(leaseDurationMs / instances.heartbeatsPerWindow);
  if (heartbeatIntervalMs > leaseDurationMs / 2)
    throw new OptionsError(
      'heartbeatIntervalMs',
      heartbeatIntervalMs,
      `must be at most half the lease duration (${leaseDurationMs} ms), so that one late ` +
        'heartbeat does not expire every lease of a live worker',
    );
  const followerPollMs = overrides.followerPollMs ?? Math.floor(leaseDurationMs / 4);
  return {
    leaseDurationMs,
    heartbeatIntervalMs,
    followerPollMs,
    leaderPollMs: overrides.leaderPollMs ?? Math.floor(leaseDurationMs / 5),
    shardSyncMs: overrides.shardSyncMs ?? Math.floor(leaseDurationMs / 3),
    assignerRenewMs: overrides.assignerRenewMs ?? Math.floor(leaseDurationMs / 3),
    fastPollMs: overrides.fastPollMs ?? Math.min(250, followerPollMs),
  };
}

export type { WorkerTimings };
export { workerTimings };
