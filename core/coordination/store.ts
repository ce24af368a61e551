import type { ItemKey } from './keys.js';
import type {
  HotKey,
  InstanceKind,
  InstanceLoad,
  InstanceRecord,
  LeaseRecord,
  LeaseRenewal,
  MemberEntry,
  MembershipItem,
} from './records.js';

/**
 * Outcome of a conditional lease write. Losing is a return value: `current` is the item that made the
 * condition fail (DynamoDB's `ALL_OLD`), so the loser learns who won.
 */
type LeaseWriteResult =
  | { readonly ok: true; readonly record: LeaseRecord }
  | { readonly ok: false; readonly current: LeaseRecord | undefined };

/** Every write of a holder carries a fresh `version` token and the writer's wall clock (information only). */
interface VersionedWrite {
  /**
   * New record version. A retried request carries the same token, so a write whose response was lost is
   * recognised on retry (the stored version equals the token) and is not applied twice.
   */
  readonly version: string;
  readonly wallMs: number;
}

interface CreateLeaseRequest {
  readonly leaseDurationMs: number;
  readonly renewal: LeaseRenewal;
  readonly data: Readonly<Record<string, unknown>>;
  readonly version: string;
}

interface GrantLeaseRequest extends VersionedWrite {
  readonly owner: string;
  readonly leaseDurationMs: number;
  readonly renewal: LeaseRenewal;
  /**
   * `free`: only if nobody holds the lease (absent or released).
   * `version`: only if the record still has the version the caller judged expired (take-over).
   * `grant`: only if the lease is still that owner's grant (take-over of a heartbeat-renewed lease whose owner
   * the caller judged dead by its heartbeat alone: the owner's checkpoints change the version, not the grant).
   */
  readonly expect:
    | { readonly free: true }
    | { readonly version: string }
    | { readonly grant: { readonly owner: string; readonly fence: number } };
}

interface HolderWrite extends VersionedWrite {
  readonly owner: string;
  readonly fence: number;
}

interface RenewLeaseRequest extends HolderWrite {
  /** Replaces the lease's data (a checkpoint) in the same fenced write. */
  readonly data?: Readonly<Record<string, unknown>>;
}

interface HandOffLeaseRequest extends HolderWrite {
  readonly to: string;
}

/**
 * Lease items of the coordination table. Every write is conditional; see `conditions.ts` for the race each
 * condition prevents. Implementations: {@link DynamoDbCoordinationStore}, {@link InMemoryCoordinationStore}.
 */
interface LeaseStore {
  /** Strongly consistent read. */
  getLease(key: ItemKey): Promise<LeaseRecord | undefined>;
  /** Every lease under one partition key (the shard leases of one stream), strongly consistent. */
  listLeases(pk: string): Promise<LeaseRecord[]>;
  /** Creates a free lease with data; fails if the item exists. */
  createLease(key: ItemKey, request: CreateLeaseRequest): Promise<LeaseWriteResult>;
  /** Grants the lease to `owner` and adds one to the fence. */
  grantLease(key: ItemKey, request: GrantLeaseRequest): Promise<LeaseWriteResult>;
  /** New version (and optionally data) if the caller still holds this grant. */
  renewLease(key: ItemKey, request: RenewLeaseRequest): Promise<LeaseWriteResult>;
  /** Frees the lease (keeping its fence) if the caller still holds this grant. */
  releaseLease(key: ItemKey, request: HolderWrite): Promise<LeaseWriteResult>;
  /** Grants the lease to `to` with a new fence, in one write, if the caller still holds this grant. */
  handOffLease(key: ItemKey, request: HandOffLeaseRequest): Promise<LeaseWriteResult>;
  /**
   * Records that an assigner wants grant `fence` handed to `to` (and clears an earlier acceptance); changes
   * neither owner, fence nor version.
   */
  requestHandOff(
    key: ItemKey,
    request: { readonly fence: number; readonly to: string },
  ): Promise<LeaseWriteResult>;
  /** The requested new owner `to` says it is ready for grant `fence`; changes neither owner, fence nor version. */
  acceptHandOff(
    key: ItemKey,
    request: { readonly fence: number; readonly to: string },
  ): Promise<LeaseWriteResult>;
  /**
   * Names the worker that takes the lease over if its owner dies (`undefined` clears it), only on the grant
   * `owner`/`fence`; changes neither owner, fence nor version.
   */
  setSuccessor(
    key: ItemKey,
    request: { readonly owner: string; readonly fence: number; readonly successor: string | undefined },
  ): Promise<LeaseWriteResult>;
}

interface RegisterInstanceRequest {
  readonly instanceId: string;
  readonly kind: InstanceKind;
  readonly incarnation: string;
  readonly wallMs: number;
  readonly load: InstanceLoad;
  readonly configVersion: string | undefined;
  /** Hot keys counted before registering (a Lambda environment registers after its first batch). @default [] */
  readonly hotKeys?: readonly HotKey[];
  readonly ttlEpochSeconds: number;
}

interface HeartbeatInstanceRequest {
  readonly wallMs: number;
  readonly load: InstanceLoad;
  readonly configVersion: string | undefined;
  readonly hotKeys: readonly HotKey[];
  readonly ttlEpochSeconds: number;
}

/** Instance items of the coordination table. */
interface InstanceStore {
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  /** Every instance item, live or not (liveness is the observer's judgement), strongly consistent. */
  listInstances(): Promise<InstanceRecord[]>;
  /** `false` if an instance with this id is registered already (another incarnation). */
  registerInstance(request: RegisterInstanceRequest): Promise<boolean>;
  /** Adds one to the counter; `undefined` if the instance is not registered (removed as dead, or never). */
  heartbeatInstance(
    instanceId: string,
    request: HeartbeatInstanceRequest,
  ): Promise<InstanceRecord | undefined>;
  /** Graceful exit; idempotent. */
  deregisterInstance(instanceId: string): Promise<void>;
  /** Deletes an instance judged dead, only if its counter is still `heartbeat`; `false` if it moved. */
  removeInstance(instanceId: string, expected: { readonly heartbeat: number }): Promise<boolean>;
}

/**
 * Membership items of the coordination table: each member's heartbeat is one write to its group's item that
 * returns the whole item, so a member learns everyone else's heartbeats without reading anything.
 */
interface MembershipStore {
  /**
   * Writes `entry` as `memberId`'s heartbeat in the item at `key` (creating the item if absent) and returns the
   * item as it is after the write. Idempotent: a retry after a lost response writes the same entry.
   */
  beatMember(key: ItemKey, memberId: string, entry: MemberEntry): Promise<MembershipItem>;
  /** Strongly consistent reads of membership items; an absent item reads as empty. */
  readMemberships(keys: readonly ItemKey[]): Promise<MembershipItem[]>;
  /**
   * Removes a member's entry and mail: a graceful exit (no `expected`), or a member judged dead, only if its
   * counter is still `expected.beat`. `false` if the counter moved; `true` if removed or already gone.
   */
  removeMember(key: ItemKey, memberId: string, expected?: { readonly beat: number }): Promise<boolean>;
  /**
   * Sets each member's mail to `token` (new for every mailing) in the item at `key`: each sees its mail change
   * in the response to its next heartbeat and looks at the leases. A token, not a counter: a member's entry
   * removed and written again cannot bring back a value it already saw.
   */
  mailMembers(key: ItemKey, memberIds: readonly string[], token: string): Promise<void>;
}

/** The whole coordination table. */
interface CoordinationStore extends LeaseStore, InstanceStore, MembershipStore {}

export type {
  CoordinationStore,
  CreateLeaseRequest,
  GrantLeaseRequest,
  HandOffLeaseRequest,
  HeartbeatInstanceRequest,
  HolderWrite,
  InstanceStore,
  LeaseStore,
  LeaseWriteResult,
  MembershipStore,
  RegisterInstanceRequest,
  RenewLeaseRequest,
  VersionedWrite,
};
