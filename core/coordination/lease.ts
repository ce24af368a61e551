import type { ItemKey } from './keys.js';
import type { LeaseRecord, LeaseRenewal } from './records.js';

/**
 * A grant held by this process: the record it wrote and when, on the holder's monotonic clock, the request
 * that granted or last renewed it was **sent**. Observers start their wait no earlier than the write took
 * effect, which is after it was sent, so `validUntilMs` is never later than the earliest moment an observer
 * may take the lease over (clocks running at the same rate). Immutable: renewals return a new Lease.
 *
 * @example
 * ```ts
 * if (lease.remainingMs(clock.now()) < 2_000) await leases.renew(lease);
 * ```
 */
class Lease {
  public readonly record: LeaseRecord;
  public readonly owner: string;
  /** Monotonic time (holder's clock) at which the granting or last renewing request was sent. */
  public readonly renewedAtMs: number;

  public constructor(record: LeaseRecord, renewedAtMs: number) {
    if (record.owner === undefined) throw new Error('a Lease needs a record with an owner');
    this.record = record;
    this.owner = record.owner;
    this.renewedAtMs = renewedAtMs;
  }

  public get key(): ItemKey {
    return this.record.key;
  }

  /** The fence of this grant: carry it on every write the lease protects. */
  public get fence(): number {
    return this.record.fence;
  }

  public get version(): string {
    return this.record.version;
  }

  public get leaseDurationMs(): number {
    return this.record.leaseDurationMs;
  }

  public get renewal(): LeaseRenewal {
    return this.record.renewal;
  }

  public get data(): Readonly<Record<string, unknown>> {
    return this.record.data;
  }

  public get validUntilMs(): number {
    return this.renewedAtMs + this.record.leaseDurationMs;
  }

  /** Time the holder may still act, on its own clock; 0 once expired. */
  public remainingMs(nowMs: number): number {
    return Math.max(0, this.validUntilMs - nowMs);
  }

  /** True once the holder's own view of the lease has run out: it must stop acting on it. */
  public isExpired(nowMs: number): boolean {
    return nowMs >= this.validUntilMs;
  }

  /** The same grant after a successful write of the holder sent at `sentAtMs`. */
  public renewed(record: LeaseRecord, sentAtMs: number): Lease {
    return new Lease(record, Math.max(this.renewedAtMs, sentAtMs));
  }

  /**
   * The same grant extended by an instance heartbeat sent at `sentAtMs` (leases with `renewal: 'heartbeat'`):
   * observers see the owner's heartbeat counter move, so the lease itself needs no write.
   */
  public extendedByHeartbeat(sentAtMs: number): Lease {
    return new Lease(this.record, Math.max(this.renewedAtMs, sentAtMs));
  }
}

export { Lease };
