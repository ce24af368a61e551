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
  /**
   * The grant (fence) whose hand-off `pendingOwner` has accepted: it is watching the lease and starts the
   * moment the holder hands it over, so the holder waits for this before it stops reading.
   */
  readonly handOffAcceptedFence: number | undefined;
  /**
   * The worker that takes the lease over, at once and by itself, when it sees the owner's heartbeat stand still
   * for the lease duration (chosen by an assigner); `undefined` when none is chosen.
   */
  readonly successor: string | undefined;
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

/**
 * One member's entry in a membership item: what it wrote with its last heartbeat. The counter is the sign of
 * life (observers judge it on their own clocks); the rest is information.
 */
interface MemberEntry {
  /** Random token of this process: a restarted member with the same id starts a new signature. */
  readonly incarnation: string;
  /** Grows with every heartbeat of this incarnation. */
  readonly beat: number;
  /** The writer's wall clock at the heartbeat; for people only. */
  readonly atWallMs: number;
  readonly load: InstanceLoad;
}

/**
 * A membership item: the heartbeats of every member of one group in one item, so that each member's
 * heartbeat write returns everyone's (docs/cluster.md). A member's `mail` is set to a new token by whoever wants it to
 * look at the leases again (grants, hand-off requests, successor duties).
 */
interface MembershipItem {
  readonly members: ReadonlyMap<string, MemberEntry>;
  readonly mail: ReadonlyMap<string, string>;
}

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

export type {
  HotKey,
  InstanceKind,
  InstanceLoad,
  InstanceRecord,
  LeaseRecord,
  LeaseRenewal,
  MemberEntry,
  MembershipItem,
};
