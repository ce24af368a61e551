import { type ItemKey, keyString } from './keys.js';
import type { InstanceRecord, LeaseRecord } from './records.js';
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

  /** Number of items, for tests. */
  public get size(): number {
    return this.#leases.size + this.#instances.size;
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
      grantedAtWallMs: undefined,
      renewedAtWallMs: undefined,
      data: copy(request.data),
    };
    this.#leases.set(keyString(key), created);
    return { ok: true, record: copy(created) };
  }

  public async grantLease(key: ItemKey, request: GrantLeaseRequest): Promise<LeaseWriteResult> {
    const current = this.#leases.get(keyString(key));
    const passes =
      'free' in request.expect ? current?.owner === undefined : current?.version === request.expect.version;
    if (!passes) return this.#lost(current, request.version);
    const granted: Mutable<LeaseRecord> = {
      key: { pk: key.pk, sk: key.sk },
      owner: request.owner,
      fence: (current?.fence ?? 0) + 1,
      version: request.version,
      leaseDurationMs: request.leaseDurationMs,
      renewal: request.renewal,
      pendingOwner: undefined,
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
    });
  }

  public async handOffLease(key: ItemKey, request: HandOffLeaseRequest): Promise<LeaseWriteResult> {
    return this.#holderWrite(key, request, (l) => {
      l.owner = request.to;
      l.version = request.version;
      l.grantedAtWallMs = request.wallMs;
      l.renewedAtWallMs = request.wallMs;
      l.pendingOwner = undefined;
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
    return { ok: true, record: copy(current) };
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
