import { randomUUID } from 'node:crypto';
import { withRetries } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { CoordinationError } from './errors.js';
import { type ItemKey, keyString } from './keys.js';
import { Lease } from './lease.js';
import { LivenessTracker, type LivenessVerdict } from './liveness.js';
import type { LeaseRecord, LeaseRenewal } from './records.js';
import type { GrantLeaseRequest, LeaseStore, LeaseWriteResult } from './store.js';
import { durationMs, identifier, positiveInteger } from './validate.js';

interface LeaseClientOptions {
  readonly store: LeaseStore;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Enables the wall-clock fast path of {@link LivenessTracker}: a record-renewed lease whose holder's last
   * write is older than its duration plus this allowance, by this observer's wall clock, is expired at first
   * sight. Set it well above the worst clock skew between machines. @default undefined (off)
   */
  readonly clockSkewAllowanceMs?: number;
  /** Attempts per store request when it fails with a retryable error. @default 3 */
  readonly maxAttempts?: number;
  /** Base delay between those attempts. @default 20 */
  readonly retryBaseMs?: number;
  /** New record version tokens. @default crypto.randomUUID */
  readonly newVersion?: () => string;
  /** @default Math.random */
  readonly random?: () => number;
}

interface AcquireLeaseOptions {
  readonly owner: string;
  readonly leaseDurationMs: number;
  /** @default 'record' */
  readonly renewal?: LeaseRenewal;
  /**
   * Current heartbeat counter of an instance, as last listed by the observer's `InstanceRegistry`. Required
   * to judge leases renewed by heartbeat (`renewal: 'heartbeat'`).
   */
  readonly heartbeatOf?: (owner: string) => number | undefined;
}

/** Outcome of one acquisition attempt: the lease, or who holds it and when to look again. */
type LeaseAttempt =
  | { readonly lease: Lease }
  | {
      readonly lease: undefined;
      readonly current: LeaseRecord | undefined;
      /** Time until this observer could judge the current grant expired; a hint for the next attempt. */
      readonly retryInMs: number;
    };

/**
 * The lease primitive under locks, leadership and shard leases: acquire a free lease, take over one whose
 * holder fell silent (judged on this observer's own clock), renew, release, hand off. Every grant adds one to
 * the lease's fence. Losing a race is a return value; unexpected store failures throw
 * {@link CoordinationStoreError}.
 *
 * One client is one observer: it remembers what it saw of each lease, and takes a lease over only after
 * seeing the same grant and version for a whole lease duration.
 *
 * @example
 * ```ts
 * const leases = new LeaseClient({ store });
 * const attempt = await leases.tryAcquire(lockKey('orders'), { owner: 'worker-1', leaseDurationMs: 20_000 });
 * if (attempt.lease) { ...; await leases.release(attempt.lease); }
 * ```
 */
class LeaseClient {
  readonly #store: LeaseStore;
  readonly #clock: Clock;
  readonly #tracker: LivenessTracker;
  readonly #newVersion: () => string;
  readonly #retry: Parameters<typeof withRetries>[1];
  /** Last record this observer saw of each lease. */
  readonly #known = new Map<string, LeaseRecord | undefined>();

  public constructor(options: LeaseClientOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    if (options.clockSkewAllowanceMs !== undefined)
      durationMs('clockSkewAllowanceMs', options.clockSkewAllowanceMs, true);
    this.#tracker = new LivenessTracker({
      clock: this.#clock,
      clockSkewAllowanceMs: options.clockSkewAllowanceMs,
    });
    this.#newVersion = options.newVersion ?? randomUUID;
    this.#retry = {
      clock: this.#clock,
      maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 3),
      baseMs: durationMs('retryBaseMs', options.retryBaseMs ?? 20),
      random: options.random ?? Math.random,
    };
  }

  public get clock(): Clock {
    return this.#clock;
  }

  /** Strongly consistent read; also updates this observer's view. */
  public async get(key: ItemKey): Promise<LeaseRecord | undefined> {
    const record = await withRetries(() => this.#store.getLease(key), this.#retry);
    this.#known.set(keyString(key), record);
    return record;
  }

  /** Every lease under `pk` (for example, the shard leases of one stream). */
  public async list(pk: string): Promise<LeaseRecord[]> {
    const records = await withRetries(() => this.#store.listLeases(pk), this.#retry);
    for (const r of records) this.#known.set(keyString(r.key), r);
    return records;
  }

  /** Creates a free lease with data (a new shard's lease); `false` if it exists already. */
  public async create(
    key: ItemKey,
    options: {
      readonly leaseDurationMs: number;
      readonly renewal?: LeaseRenewal;
      readonly data?: Readonly<Record<string, unknown>>;
    },
  ): Promise<boolean> {
    const request = {
      leaseDurationMs: durationMs('leaseDurationMs', options.leaseDurationMs),
      renewal: options.renewal ?? 'record',
      data: options.data ?? {},
      version: this.#newVersion(),
    };
    const result = await this.#write(key, () => this.#store.createLease(key, request));
    return result.ok;
  }

  /**
   * One attempt: grants a free lease at once (one conditional write); takes over a held one if this observer
   * has seen its grant and version unchanged for its lease duration; adopts (under a new fence) one that
   * the store says is already `owner`'s (a grant whose response was lost, or a hand-off to `owner`).
   */
  public async tryAcquire(key: ItemKey, options: AcquireLeaseOptions): Promise<LeaseAttempt> {
    identifier('owner', options.owner);
    durationMs('leaseDurationMs', options.leaseDurationMs);
    const known = this.#known.get(keyString(key));
    let current: LeaseRecord | undefined;
    if (known?.owner === undefined || known.owner === options.owner) {
      // Fast path: one blind conditional write; a loser learns the holder from ALL_OLD.
      const granted = await this.#grant(key, options, { free: true });
      if (granted.ok) return { lease: granted.lease };
      current = granted.current;
    } else {
      // Known to be held by someone else: a read is cheaper than a write that would fail.
      current = await this.get(key);
      if (current?.owner === undefined) {
        const granted = await this.#grant(key, options, { free: true });
        if (granted.ok) return { lease: granted.lease };
        current = granted.current;
      }
    }
    if (current === undefined) return { lease: undefined, current, retryInMs: 0 };
    if (current.owner === options.owner) {
      const adopted = await this.adopt(current);
      if (adopted !== undefined) return { lease: adopted };
      return { lease: undefined, current: this.#known.get(keyString(key)), retryInMs: 0 };
    }
    const verdict = this.judge(current, options.heartbeatOf);
    if (!verdict.expired) return { lease: undefined, current, retryInMs: verdict.remainingMs };
    const taken = await this.#grant(key, options, { version: current.version });
    if (taken.ok) return { lease: taken.lease };
    return { lease: undefined, current: taken.current, retryInMs: 0 };
  }

  /**
   * This observer's verdict on a record, and a new sighting of it. A free lease is expired. A held lease is
   * expired once its owner, fence and version (and, for heartbeat-renewed leases, the owner's heartbeat
   * counter) have not changed for its lease duration on this observer's clock.
   */
  public judge(record: LeaseRecord, heartbeatOf?: (owner: string) => number | undefined): LivenessVerdict {
    this.#known.set(keyString(record.key), record);
    if (record.owner === undefined)
      return { expired: true, remainingMs: 0, silentForMs: 0, byWallClock: false };
    let signature = `${record.owner}|${record.fence}|${record.version}`;
    let writtenAtWallMs = record.renewedAtWallMs;
    if (record.renewal === 'heartbeat') {
      if (heartbeatOf === undefined)
        throw new CoordinationError(
          `lease ${keyString(record.key)} is renewed by its owner's heartbeat; pass heartbeatOf to judge it`,
        );
      signature += `|${heartbeatOf(record.owner) ?? 'unregistered'}`;
      // The lease item is not rewritten by heartbeats, so its wall time says nothing about the owner.
      writtenAtWallMs = undefined;
    }
    return this.#tracker.observe(keyString(record.key), signature, record.leaseDurationMs, writtenAtWallMs);
  }

  /** Takes over `record`'s lease if this observer judges it expired; `undefined` if not expired or lost. */
  public async takeOver(record: LeaseRecord, options: AcquireLeaseOptions): Promise<Lease | undefined> {
    if (!this.judge(record, options.heartbeatOf).expired) return undefined;
    const expect = record.owner === undefined ? { free: true as const } : { version: record.version };
    const taken = await this.#grant(record.key, options, expect);
    return taken.ok ? taken.lease : undefined;
  }

  /**
   * Grants a lease nobody holds (absent or released) to `options.owner` with one blind conditional write;
   * `undefined` if someone holds it.
   */
  public async grantIfFree(
    key: ItemKey,
    options: Omit<AcquireLeaseOptions, 'heartbeatOf'>,
  ): Promise<Lease | undefined> {
    identifier('owner', options.owner);
    const granted = await this.#grant(key, options, { free: true });
    return granted.ok ? granted.lease : undefined;
  }

  /**
   * Takes over a heartbeat-renewed lease whose owner the caller has judged dead by its heartbeat alone (its
   * membership counter stood still for the lease duration on the caller's clock): one write conditional on
   * the lease still being that owner's grant (owner and fence), so the owner's checkpoints, which change the
   * version, do not make it lose, while any hand-off, release or competing take-over does. Safe because a
   * holder of a heartbeat-renewed lease stops acting a lease duration after its last heartbeat was sent,
   * whatever it wrote to the lease since. `undefined` if the grant changed.
   */
  public async takeOverFromDeadOwner(
    record: LeaseRecord,
    options: Omit<AcquireLeaseOptions, 'heartbeatOf'>,
  ): Promise<
    { readonly lease: Lease } | { readonly lease: undefined; readonly current: LeaseRecord | undefined }
  > {
    const owner = record.owner;
    if (owner === undefined) return { lease: undefined, current: record };
    const taken = await this.#grant(record.key, options, { grant: { owner, fence: record.fence } });
    return taken.ok ? { lease: taken.lease } : { lease: undefined, current: taken.current };
  }

  /**
   * Starts holding a lease the store already shows as `record.owner`'s (handed off to it, granted by a
   * request whose response was lost, or given up locally after its time ran out on this holder's clock). It
   * re-grants the lease to the same owner under a new fence in one write, so that no older handle of the
   * grant, perhaps still running somewhere in this process, can write with the old fence.
   */
  public async adopt(record: LeaseRecord): Promise<Lease | undefined> {
    const owner = record.owner;
    if (owner === undefined) return undefined;
    const sentAtMs = this.#clock.now();
    const request = {
      owner,
      fence: record.fence,
      to: owner,
      version: this.#newVersion(),
      wallMs: this.#clock.wallNow(),
    };
    const result = await this.#write(record.key, () => this.#store.handOffLease(record.key, request));
    return result.ok ? new Lease(result.record, sentAtMs) : undefined;
  }

  /** New record version (and optionally new data, such as a checkpoint); `undefined` if the lease was lost. */
  public async renew(lease: Lease, data?: Readonly<Record<string, unknown>>): Promise<Lease | undefined> {
    const sentAtMs = this.#clock.now();
    const request = { ...this.#holder(lease), data };
    const result = await this.#write(lease.key, () => this.#store.renewLease(lease.key, request));
    return result.ok ? lease.renewed(result.record, sentAtMs) : undefined;
  }

  /** Frees the lease, keeping its fence; `false` if it had been lost already. */
  public async release(lease: Lease): Promise<boolean> {
    const request = this.#holder(lease);
    const result = await this.#write(lease.key, () => this.#store.releaseLease(lease.key, request));
    if (result.ok) this.#tracker.forget(keyString(lease.key));
    return result.ok;
  }

  /** Grants the lease to `to` with a new fence in one write; `false` if it had been lost already. */
  public async handOff(lease: Lease, to: string): Promise<boolean> {
    const request = { ...this.#holder(lease), to: identifier('to', to) };
    const result = await this.#write(lease.key, () => this.#store.handOffLease(lease.key, request));
    return result.ok;
  }

  /** Asks the holder of grant `fence` to hand the lease to `to`; `false` if that grant is over. */
  public async requestHandOff(key: ItemKey, fence: number, to: string): Promise<boolean> {
    const request = { fence, to: identifier('to', to) };
    const result = await this.#write(key, () => this.#store.requestHandOff(key, request));
    return result.ok;
  }

  /**
   * As the requested new owner `to`, says it is ready for grant `fence` (it watches the lease and starts the
   * moment the holder hands it over); `false` if the request is no longer for `to` on that grant.
   */
  public async acceptHandOff(key: ItemKey, fence: number, to: string): Promise<boolean> {
    const request = { fence, to: identifier('to', to) };
    const result = await this.#write(key, () => this.#store.acceptHandOff(key, request));
    return result.ok;
  }

  /**
   * Names who takes `record`'s lease over if its owner dies (`undefined` clears it), on that grant only;
   * `false` if the grant changed.
   */
  public async setSuccessor(record: LeaseRecord, successor: string | undefined): Promise<boolean> {
    const owner = record.owner;
    if (owner === undefined) return false;
    const request = {
      owner,
      fence: record.fence,
      successor: successor === undefined ? undefined : identifier('successor', successor),
    };
    const result = await this.#write(record.key, () => this.#store.setSuccessor(record.key, request));
    return result.ok;
  }

  #holder(lease: Lease) {
    return {
      owner: lease.owner,
      fence: lease.fence,
      version: this.#newVersion(),
      wallMs: this.#clock.wallNow(),
    };
  }

  async #grant(
    key: ItemKey,
    options: Omit<AcquireLeaseOptions, 'heartbeatOf'>,
    expect: GrantLeaseRequest['expect'],
  ): Promise<{ ok: true; lease: Lease } | { ok: false; current: LeaseRecord | undefined }> {
    const sentAtMs = this.#clock.now();
    const request = {
      owner: options.owner,
      leaseDurationMs: options.leaseDurationMs,
      renewal: options.renewal ?? 'record',
      expect,
      version: this.#newVersion(),
      wallMs: this.#clock.wallNow(),
    };
    const result = await this.#write(key, () => this.#store.grantLease(key, request));
    if (!result.ok) return result;
    this.#tracker.forget(keyString(key));
    return { ok: true, lease: new Lease(result.record, sentAtMs) };
  }

  async #write(key: ItemKey, send: () => Promise<LeaseWriteResult>): Promise<LeaseWriteResult> {
    const result = await withRetries(send, this.#retry);
    this.#known.set(keyString(key), result.ok ? result.record : result.current);
    return result;
  }
}

export type { AcquireLeaseOptions, LeaseAttempt, LeaseClientOptions };
export { LeaseClient };
