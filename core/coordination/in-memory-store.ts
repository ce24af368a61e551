import { type ItemKey, keyString } from './keys.js';
import type { InstanceRecord, LeaseRecord, MemberEntry, MembershipItem } from './records.js';
import type {
  CoordinationStore,
  CreateLeaseRequest,
  GrantLeaseRequest,
  HandOffLeaseRequest,
  HeartbeatInstanceRequest,
  HolderWrite,
  LeaseWriteResult,
  RegisterInstanceRequest,
  RenewLeaseRequest,
} from './store.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The coordination table in memory, with the same conditions and outcomes as
 * {@link DynamoDbCoordinationStore} (one shared contract test suite runs against both). For unit tests and
 * single-process tools; it coordinates nothing across processes.
 *
 * @example
 * ```ts
 * const store = new InMemoryCoordinationStore();
 * const locks = new LockClient({ store, ownerId: 'a', clock: new ManualClock() });
 * ```
 */
class InMemoryCoordinationStore implements CoordinationStore {
  readonly #leases = new Map<string, Mutable<LeaseRecord>>();
  readonly #instances = new Map<string, Mutable<InstanceRecord>>();
  readonly #memberships = new Map<string, { members: Map<string, MemberEntry>; mail: Map<string, string> }>();

  /** Number of items, for tests. */
  public get size(): number {
    return this.#leases.size + this.#instances.size + this.#memberships.size;
  }

  public async getLease(key: ItemKey): Promise<LeaseRecord | undefined> {
    const found = this.#leases.get(keyString(key));
    return found === undefined ? undefined : copy(found);
  }

  public async listLeases(pk: string): Promise<LeaseRecord[]> {
    return [...this.#leases.values()]
      .filter((l) => l.key.pk === pk)
      .sort((a, b) => (a.key.sk < b.key.sk ? -1 : a.key.sk > b.key.sk ? 1 : 0))
      .map(copy);
  }

  public async createLease(key: ItemKey, request: CreateLeaseRequest): Promise<LeaseWriteResult> {
    const current = this.#leases.get(keyString(key));
    if (current !== undefined) return this.#lost(current, request.version);
    const created: Mutable<LeaseRecord> = {
      key: { pk: key.pk, sk: key.sk },
      owner: undefined,
      fence: 0,
      version: request.version,
      leaseDurationMs: request.leaseDurationMs,
      renewal: request.renewal,
      pendingOwner: undefined,
      handOffAcceptedFence: undefined,
      successor: undefined,
      grantedAtWallMs: undefined,
      renewedAtWallMs: undefined,
      data: copy(request.data),
    };
    this.#leases.set(keyString(key), created);
    return { ok: true, record: copy(created) };
  }

  public async grantLease(key: ItemKey, request: GrantLeaseRequest): Promise<LeaseWriteResult> {
    const current = this.#leases.get(keyString(key));
    const { expect } = request;
    const passes =
      'free' in expect
        ? current?.owner === undefined
        : 'version' in expect
          ? current?.version === expect.version
          : current?.owner === expect.grant.owner && current.fence === expect.grant.fence;
    if (!passes) return this.#lost(current, request.version);
    const granted: Mutable<LeaseRecord> = {
      key: { pk: key.pk, sk: key.sk },
      owner: request.owner,
      fence: (current?.fence ?? 0) + 1,
      version: request.version,
      leaseDurationMs: request.leaseDurationMs,
      renewal: request.renewal,
      pendingOwner: undefined,
      handOffAcceptedFence: undefined,
      successor: undefined,
      grantedAtWallMs: request.wallMs,
      renewedAtWallMs: request.wallMs,
      data: current?.data ?? {},
    };
    this.#leases.set(keyString(key), granted);
    return { ok: true, record: copy(granted) };
  }

  public async renewLease(key: ItemKey, request: RenewLeaseRequest): Promise<LeaseWriteResult> {
    return this.#holderWrite(key, request, (l) => {
      l.version = request.version;
      l.renewedAtWallMs = request.wallMs;
      if (request.data !== undefined) l.data = copy(request.data);
    });
  }

  public async releaseLease(key: ItemKey, request: HolderWrite): Promise<LeaseWriteResult> {
    return this.#holderWrite(key, request, (l) => {
      l.version = request.version;
      l.renewedAtWallMs = request.wallMs;
      l.owner = undefined;
      l.pendingOwner = undefined;
      l.handOffAcceptedFence = undefined;
      l.successor = undefined;
    });
  }

  public async handOffLease(key: ItemKey, request: HandOffLeaseRequest): Promise<LeaseWriteResult> {
    return this.#holderWrite(key, request, (l) => {
      l.owner = request.to;
      l.version = request.version;
      l.grantedAtWallMs = request.wallMs;
      l.renewedAtWallMs = request.wallMs;
      l.pendingOwner = undefined;
      l.handOffAcceptedFence = undefined;
      l.successor = undefined;
      l.fence += 1;
    });
  }

  public async requestHandOff(
    key: ItemKey,
    request: { readonly fence: number; readonly to: string },
  ): Promise<LeaseWriteResult> {
    const current = this.#leases.get(keyString(key));
    if (current?.owner === undefined || current.fence !== request.fence)
      return this.#lost(current, undefined);
    current.pendingOwner = request.to;
    current.handOffAcceptedFence = undefined;
    return { ok: true, record: copy(current) };
  }

  public async acceptHandOff(
    key: ItemKey,
    request: { readonly fence: number; readonly to: string },
  ): Promise<LeaseWriteResult> {
    const current = this.#leases.get(keyString(key));
    if (current === undefined || current.pendingOwner !== request.to || current.fence !== request.fence)
      return this.#lost(current, undefined);
    current.handOffAcceptedFence = request.fence;
    return { ok: true, record: copy(current) };
  }

  public async setSuccessor(
    key: ItemKey,
    request: { readonly owner: string; readonly fence: number; readonly successor: string | undefined },
  ): Promise<LeaseWriteResult> {
    const current = this.#leases.get(keyString(key));
    if (current === undefined || current.owner !== request.owner || current.fence !== request.fence)
      return this.#lost(current, undefined);
    current.successor = request.successor;
    return { ok: true, record: copy(current) };
  }

  public async beatMember(key: ItemKey, memberId: string, entry: MemberEntry): Promise<MembershipItem> {
    const item = this.#membership(key);
    item.members.set(memberId, copy(entry));
    return this.#membershipCopy(item);
  }

  public async readMemberships(keys: readonly ItemKey[]): Promise<MembershipItem[]> {
    return keys.map((key) => {
      const item = this.#memberships.get(keyString(key));
      return item === undefined ? { members: new Map(), mail: new Map() } : this.#membershipCopy(item);
    });
  }

  public async removeMember(
    key: ItemKey,
    memberId: string,
    expected?: { readonly beat: number },
  ): Promise<boolean> {
    const item = this.#memberships.get(keyString(key));
    const entry = item?.members.get(memberId);
    if (entry === undefined) return true;
    if (expected !== undefined && entry.beat !== expected.beat) return false;
    item!.members.delete(memberId);
    item!.mail.delete(memberId);
    return true;
  }

  public async mailMembers(key: ItemKey, memberIds: readonly string[], token: string): Promise<void> {
    const item = this.#membership(key);
    for (const id of memberIds) item.mail.set(id, token);
  }

  #membership(key: ItemKey) {
    let item = this.#memberships.get(keyString(key));
    if (item === undefined) {
      item = { members: new Map(), mail: new Map() };
      this.#memberships.set(keyString(key), item);
    }
    return item;
  }

  #membershipCopy(item: { members: Map<string, MemberEntry>; mail: Map<string, string> }): MembershipItem {
    return { members: copy(item.members), mail: new Map(item.mail) };
  }

  public async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const found = this.#instances.get(instanceId);
    return found === undefined ? undefined : copy(found);
  }

  public async listInstances(): Promise<InstanceRecord[]> {
    return [...this.#instances.values()]
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0))
      .map(copy);
  }

  public async registerInstance(request: RegisterInstanceRequest): Promise<boolean> {
    const current = this.#instances.get(request.instanceId);
    if (current !== undefined) return current.incarnation === request.incarnation;
    this.#instances.set(request.instanceId, {
      instanceId: request.instanceId,
      kind: request.kind,
      incarnation: request.incarnation,
      startedAtWallMs: request.wallMs,
      heartbeat: 0,
      heartbeatAtWallMs: request.wallMs,
      load: copy(request.load),
      configVersion: request.configVersion,
      hotKeys: copy(request.hotKeys ?? []),
      ttlEpochSeconds: request.ttlEpochSeconds,
    });
    return true;
  }

  public async heartbeatInstance(
    instanceId: string,
    request: HeartbeatInstanceRequest,
  ): Promise<InstanceRecord | undefined> {
    const current = this.#instances.get(instanceId);
    if (current === undefined) return undefined;
    current.heartbeat += 1;
    current.heartbeatAtWallMs = request.wallMs;
    current.load = copy(request.load);
    current.hotKeys = copy(request.hotKeys);
    current.ttlEpochSeconds = request.ttlEpochSeconds;
    if (request.configVersion !== undefined) current.configVersion = request.configVersion;
    return copy(current);
  }

  public async deregisterInstance(instanceId: string): Promise<void> {
    this.#instances.delete(instanceId);
  }

  public async removeInstance(
    instanceId: string,
    expected: { readonly heartbeat: number },
  ): Promise<boolean> {
    const current = this.#instances.get(instanceId);
    if (current === undefined) return true;
    if (current.heartbeat !== expected.heartbeat) return false;
    this.#instances.delete(instanceId);
    return true;
  }

  #holderWrite(
    key: ItemKey,
    request: HolderWrite,
    apply: (lease: Mutable<LeaseRecord>) => void,
  ): LeaseWriteResult {
    const current = this.#leases.get(keyString(key));
    if (current === undefined || current.owner !== request.owner || current.fence !== request.fence)
      return this.#lost(current, request.version);
    apply(current);
    return { ok: true, record: copy(current) };
  }

  #lost(current: LeaseRecord | undefined, token: string | undefined): LeaseWriteResult {
    // Same rule as the DynamoDB store: our own token stored means an earlier attempt of this request applied.
    if (token !== undefined && current?.version === token) return { ok: true, record: copy(current) };
    return { ok: false, current: current === undefined ? undefined : copy(current) };
  }
}

export { InMemoryCoordinationStore };
