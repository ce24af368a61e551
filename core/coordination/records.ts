import type { LatencySummary } from '../processing/latency.js';
import type { ItemKey } from './keys.js';

/**
 * How a lease's holder shows it is alive.
 * - `record`: the holder rewrites the lease's record version (locks, leadership).
 * - `heartbeat`: the owner's instance heartbeat counter moving renews every lease it holds (shard leases,
 *   docs/architecture.md §6), so a worker's coordination writes do not grow with the number of leases it owns.
 */
type LeaseRenewal = 'record' | 'heartbeat';

/**
 * One lease item as stored: the primitive under locks, leadership and shard leases. The item is never
 * deleted, so `fence` only ever grows.
 */
interface LeaseRecord {
  readonly key: ItemKey;
  /** Current holder; `undefined` when the lease is free (created but not granted, or released). */
  readonly owner: string | undefined;
  /** Number of grants so far: every acquire, take-over and hand-off adds one. 0 when never granted. */
  readonly fence: number;
  /** Random token rewritten by every write of the holder (record version number): the holder's sign of life. */
  readonly version: string;
  /** How long observers wait, on their own clocks, for a sign of life before the lease may be taken over. */
  readonly leaseDurationMs: number;
  readonly renewal: LeaseRenewal;
  /** Owner an assigner asked the holder to hand the lease to (graceful hand-off); the holder decides. */
  readonly pendingOwner: string | undefined;
  /** Holder's wall clock at the grant; for people only. */
  readonly grantedAtWallMs: number | undefined;
  /** Holder's wall clock at its last write; used only by the opt-in skew-allowance fast path. */
  readonly renewedAtWallMs: number | undefined;
  /** Attributes of the feature using the lease (a shard lease's checkpoint, parents, ended flag). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** Load an instance reports with its heartbeat. Every figure is optional; absent means not measured. */
interface InstanceLoad {
  readonly eventsPerSecond?: number;
  readonly lagMs?: number;
  readonly cpuPercent?: number;
  readonly memoryBytes?: number;
  readonly inFlightBatches?: number;
  /** Source commit to state write of the changes applied since the previous heartbeat (p50, p99, max). */
  readonly sourceToAppliedMs?: LatencySummary;
  /** Arrival in the stream to state write of the same changes. */
  readonly arrivalToAppliedMs?: LatencySummary;
  /**
   * The instance is stopping (SIGTERM): it finishes its batches and releases its leases; nobody should give it
   * new ones. Absent: not leaving.
   */
  readonly leaving?: boolean;
}

/** A heavy hitter from an instance's hot-key sketch. */
interface HotKey {
  /** The partition key; the manager derives its hash key (MD5), so heartbeats do not carry it. */
  readonly key: string;
  /** Records of the key counted in the period. */
  readonly count: number;
  /** The shard the records came from, when the instance tracks keys per shard. */
  readonly shardId?: string;
  /** Length of the period `count` covers; absent: the consumers' heartbeat interval. */
  readonly periodMs?: number;
}

type InstanceKind = 'lambda' | 'worker';

/** One running consumer instance as stored. */
interface InstanceRecord {
  readonly instanceId: string;
  readonly kind: InstanceKind;
  /** Random token of this registration: tells a retried registration from someone else's. */
  readonly incarnation: string;
  readonly startedAtWallMs: number;
  /** Grows with every heartbeat; observers presume the instance dead when it stops moving. */
  readonly heartbeat: number;
  readonly heartbeatAtWallMs: number;
  readonly load: InstanceLoad;
  readonly configVersion: string | undefined;
  readonly hotKeys: readonly HotKey[];
  /** Epoch seconds after which DynamoDB TTL may delete the item (cleanup only, never a liveness signal). */
  readonly ttlEpochSeconds: number;
}

export type { HotKey, InstanceKind, InstanceLoad, InstanceRecord, LeaseRecord, LeaseRenewal };
