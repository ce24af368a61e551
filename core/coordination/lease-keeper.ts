import type { Clock } from './clock.js';
import { CoordinationStoreError } from './errors.js';
import type { Lease } from './lease.js';
import type { LeaseClient } from './lease-client.js';

/** Why a held lease ended. */
type LeaseEndReason = 'released' | 'taken-over' | 'expired' | 'finished';

interface LeaseKeeperOptions {
  readonly client: LeaseClient;
  readonly lease: Lease;
  readonly clock: Clock;
  /** Renew this often in the background; `undefined` renews only when {@link LeaseKeeper.renewNow} is called. */
  readonly heartbeatPeriodMs: number | undefined;
  /** Call `onDanger` when less than this is left of the lease on the holder's clock. */
  readonly safeTimeMs?: number;
  readonly onDanger?: (lease: Lease) => void;
  /** Called once when the lease is lost (taken over, or run out on the holder's clock). */
  readonly onLost?: (lease: Lease, reason: LeaseEndReason) => void;
}

/**
 * Keeps one held lease: renews it in the background, warns when it is about to run out (the session
 * monitor), and aborts `signal` the moment the holder must stop acting: the lease was taken over, or its time
 * ran out on the holder's own clock before a renewal succeeded.
 *
 * @example
 * ```ts
 * const keeper = new LeaseKeeper({ client, clock, lease, heartbeatPeriodMs: 5_000 });
 * keeper.start();
 * await work({ fence: keeper.lease.fence, signal: keeper.signal });
 * await keeper.stop('released');
 * ```
 */
class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #ended = new AbortController();
  readonly #loops = new AbortController();
  #lease: Lease;
  #endReason: LeaseEndReason | undefined;
  #warnedAtRenewal = Number.NaN;
  #running: Promise<void>[] = [];

  public constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#lease = options.lease;
  }

  /** The grant as of its last successful renewal. */
  public get lease(): Lease {
    return this.#lease;
  }

  /** Aborted when the lease ends (lost, released or finished); its `reason` is the {@link LeaseEndReason}. */
  public get signal(): AbortSignal {
    return this.#ended.signal;
  }

  public get endReason(): LeaseEndReason | undefined {
    return this.#endReason;
  }

  public get isHeld(): boolean {
    return this.#endReason === undefined && !this.#lease.isExpired(this.#options.clock.now());
  }

  /** Starts the background renewals (if a period is set) and the expiry watchdog. */
  public start(): void {
    if (this.#running.length > 0) return;
    this.#running.push(this.#watch());
    if (this.#options.heartbeatPeriodMs !== undefined)
      this.#running.push(this.#renewLoop(this.#options.heartbeatPeriodMs));
  }

  /**
   * Renews now (optionally writing data, such as a checkpoint, under the fence). `false` when the lease is
   * lost; a retryable store failure leaves the lease to its watchdog and also answers `false`.
   */
  public async renewNow(data?: Readonly<Record<string, unknown>>): Promise<boolean> {
    if (this.#endReason !== undefined) return false;
    try {
      const renewed = await this.#options.client.renew(this.#lease, data);
      if (this.#endReason !== undefined) return false;
      if (renewed === undefined) {
        this.#end('taken-over');
        return false;
      }
      this.#lease = renewed;
      return true;
    } catch (error) {
      if (error instanceof CoordinationStoreError && error.retryable) return false;
      throw error;
    }
  }

  /** Stops the loops; `reason`, when given, ends the lease locally (the store is not written). */
  public async stop(reason?: LeaseEndReason): Promise<void> {
    this.#loops.abort();
    if (reason !== undefined) this.#end(reason);
    await Promise.all(this.#running);
    this.#running = [];
  }

  #end(reason: LeaseEndReason): void {
    if (this.#endReason !== undefined) return;
    this.#endReason = reason;
    this.#ended.abort(reason);
    this.#loops.abort();
    if (reason === 'taken-over' || reason === 'expired') this.#options.onLost?.(this.#lease, reason);
  }

  async #renewLoop(periodMs: number): Promise<void> {
    const { clock } = this.#options;
    while (!this.#loops.signal.aborted) {
      if (!(await clock.sleep(periodMs, this.#loops.signal))) return;
      await this.renewNow().catch(() => {
        // A non-retryable store error: keep the lease until the watchdog says its time is up.
      });
    }
  }

  async #watch(): Promise<void> {
    const { clock, safeTimeMs, onDanger } = this.#options;
    while (!this.#loops.signal.aborted) {
      const now = clock.now();
      const lease = this.#lease;
      if (lease.isExpired(now)) {
        this.#end('expired');
        return;
      }
      const dangerAt = safeTimeMs === undefined ? Number.POSITIVE_INFINITY : lease.validUntilMs - safeTimeMs;
      if (now >= dangerAt && this.#warnedAtRenewal !== lease.renewedAtMs) {
        this.#warnedAtRenewal = lease.renewedAtMs;
        onDanger?.(lease);
      }
      const warned = this.#warnedAtRenewal === lease.renewedAtMs;
      const next = warned || now >= dangerAt ? lease.validUntilMs : Math.min(dangerAt, lease.validUntilMs);
      if (!(await clock.sleep(next - now, this.#loops.signal))) return;
    }
  }
}

export type { LeaseEndReason, LeaseKeeperOptions };
export { LeaseKeeper };
