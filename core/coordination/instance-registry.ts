import { randomUUID } from 'node:crypto';
import { OptionsError } from '../errors.js';
import { withRetries } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { LivenessTracker, type LivenessVerdict } from './liveness.js';
import type { HotKey, InstanceKind, InstanceLoad, InstanceRecord } from './records.js';
import type { InstanceStore } from './store.js';
import { durationMs, identifier, positiveInteger } from './validate.js';

interface InstanceRegistryOptions {
  readonly store: InstanceStore;
  /** @default systemClock */
  readonly clock?: Clock;
  /** An instance whose counter has not moved for this long, on the observer's clock, is presumed dead. @default 20_000 */
  readonly failureDetectionMs?: number;
  /** Shortest gap between two heartbeats written by {@link InstanceRegistry.heartbeatIfDue}. @default 5_000 */
  readonly heartbeatIntervalMs?: number;
  /** DynamoDB TTL of an instance item after its last heartbeat (cleanup only). @default 21_600_000 (6 h) */
  readonly ttlMs?: number;
  /**
   * Opt-in fast path: an instance whose last heartbeat is older, by the observer's wall clock, than
   * failureDetectionMs plus this allowance is presumed dead at first sight. @default undefined (off)
   */
  readonly clockSkewAllowanceMs?: number;
  /** Attempts per store request on retryable errors. @default 3 */
  readonly maxAttempts?: number;
  /** @default crypto.randomUUID */
  readonly newIncarnation?: () => string;
}

/** What an instance reports with a heartbeat. */
interface HeartbeatReport {
  readonly load?: InstanceLoad;
  readonly configVersion?: string;
  readonly hotKeys?: readonly HotKey[];
}

/** An instance as one observer judges it. */
interface InstanceView {
  readonly instance: InstanceRecord;
  readonly alive: boolean;
  readonly verdict: LivenessVerdict;
}

/** Outcome of a piggy-backed heartbeat: written, skipped (one was written recently), or not registered. */
type HeartbeatOutcome = 'written' | 'skipped' | 'not-registered';

/**
 * Who is running: each consumer instance registers, heartbeats a counter with its load, and deregisters on
 * a graceful exit. Observers presume an instance dead when its counter has not moved for the failure
 * detection window on **their own** monotonic clock (docs/architecture.md contract 8). Dead instances are removed by
 * {@link removeDead} (a conditional delete) and, eventually, by DynamoDB TTL.
 *
 * @example
 * ```ts
 * const registry = new InstanceRegistry({ store });
 * const id = InstanceRegistry.newInstanceId('worker');
 * await registry.register({ instanceId: id, kind: 'worker' });
 * await registry.heartbeatIfDue(id, { load: { eventsPerSecond: 1200, lagMs: 40 } });
 * const live = await registry.listLive();
 * ```
 */
class InstanceRegistry {
  readonly #store: InstanceStore;
  readonly #clock: Clock;
  readonly #failureDetectionMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #ttlMs: number;
  readonly #tracker: LivenessTracker;
  readonly #retry: Parameters<typeof withRetries>[1];
  readonly #newIncarnation: () => string;
  readonly #lastWriteMs = new Map<string, number>();
  readonly #counters = new Map<string, number>();

  public constructor(options: InstanceRegistryOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#failureDetectionMs = durationMs('failureDetectionMs', options.failureDetectionMs ?? 20_000);
    this.#heartbeatIntervalMs = durationMs('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 5_000);
    if (this.#heartbeatIntervalMs > this.#failureDetectionMs / 2)
      throw new OptionsError(
        'heartbeatIntervalMs',
        this.#heartbeatIntervalMs,
        `must be at most half of failureDetectionMs (${this.#failureDetectionMs}), or one late heartbeat ` +
          'gets a live instance presumed dead; lower heartbeatIntervalMs or raise failureDetectionMs',
      );
    this.#ttlMs = durationMs('ttlMs', options.ttlMs ?? 6 * 3_600_000);
    if (this.#ttlMs < 10 * this.#failureDetectionMs)
      throw new OptionsError(
        'ttlMs',
        this.#ttlMs,
        `must be at least 10 × failureDetectionMs (${10 * this.#failureDetectionMs}): TTL is judged on the ` +
          "writer's wall clock, and a short TTL with a skewed clock would delete live instances",
      );
    if (options.clockSkewAllowanceMs !== undefined)
      durationMs('clockSkewAllowanceMs', options.clockSkewAllowanceMs, true);
    this.#tracker = new LivenessTracker({
      clock: this.#clock,
      clockSkewAllowanceMs: options.clockSkewAllowanceMs,
    });
    this.#retry = {
      clock: this.#clock,
      maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 3),
      baseMs: 20,
      random: Math.random,
    };
    this.#newIncarnation = options.newIncarnation ?? randomUUID;
  }

  /** A fresh id: `<kind>-<uuid>`. */
  public static newInstanceId(kind: InstanceKind): string {
    return `${kind}-${randomUUID()}`;
  }

  public get failureDetectionMs(): number {
    return this.#failureDetectionMs;
  }

  /** Registers an instance; `false` if the id is taken by another registration. */
  public async register(options: {
    readonly instanceId: string;
    readonly kind: InstanceKind;
    readonly configVersion?: string;
    readonly load?: InstanceLoad;
    readonly hotKeys?: readonly HotKey[];
  }): Promise<boolean> {
    const request = {
      instanceId: identifier('instanceId', options.instanceId),
      kind: options.kind,
      incarnation: this.#newIncarnation(),
      wallMs: this.#clock.wallNow(),
      load: options.load ?? {},
      configVersion: options.configVersion,
      hotKeys: options.hotKeys ?? [],
      ttlEpochSeconds: this.#ttl(),
    };
    const registered = await withRetries(() => this.#store.registerInstance(request), this.#retry);
    if (registered) this.#lastWriteMs.set(options.instanceId, this.#clock.now());
    return registered;
  }

  /**
   * Writes a heartbeat (counter + 1, load, config version). `undefined` when the instance is not registered
   * any more (it was presumed dead and removed): register again, and treat every lease it held as lost.
   */
  public async heartbeat(
    instanceId: string,
    report: HeartbeatReport = {},
  ): Promise<InstanceRecord | undefined> {
    const sentAtMs = this.#clock.now();
    const request = {
      wallMs: this.#clock.wallNow(),
      load: report.load ?? {},
      configVersion: report.configVersion,
      hotKeys: report.hotKeys ?? [],
      ttlEpochSeconds: this.#ttl(),
    };
    const record = await withRetries(() => this.#store.heartbeatInstance(instanceId, request), this.#retry);
    if (record === undefined) this.#lastWriteMs.delete(instanceId);
    else this.#lastWriteMs.set(instanceId, sentAtMs);
    return record;
  }

  /**
   * A heartbeat piggy-backed on work: written only if `heartbeatIntervalMs` passed since the last one, so a
   * busy instance calls it after every batch at no extra cost. A report given as a function is built only
   * when the heartbeat is written (a load tracker's report starts a new counting period).
   */
  public async heartbeatIfDue(
    instanceId: string,
    report: HeartbeatReport | (() => HeartbeatReport) = {},
  ): Promise<HeartbeatOutcome> {
    if (!this.isHeartbeatDue(instanceId)) return 'skipped';
    const built = typeof report === 'function' ? report() : report;
    return (await this.heartbeat(instanceId, built)) === undefined ? 'not-registered' : 'written';
  }

  /** True when {@link heartbeatIfDue} would write now: no write for `instanceId` in the last interval. */
  public isHeartbeatDue(instanceId: string): boolean {
    const last = this.#lastWriteMs.get(instanceId);
    return last === undefined || this.#clock.now() - last >= this.#heartbeatIntervalMs;
  }

  /** Graceful exit: deletes the instance item; idempotent. */
  public async deregister(instanceId: string): Promise<void> {
    await withRetries(() => this.#store.deregisterInstance(instanceId), this.#retry);
    this.#lastWriteMs.delete(instanceId);
  }

  /** Every registered instance with this observer's verdict. */
  public async list(): Promise<InstanceView[]> {
    const instances = await withRetries(() => this.#store.listInstances(), this.#retry);
    this.#tracker.retainOnly(instances.map((i) => i.instanceId));
    this.#counters.clear();
    return instances.map((instance) => {
      this.#counters.set(instance.instanceId, instance.heartbeat);
      const verdict = this.#tracker.observe(
        instance.instanceId,
        `${instance.incarnation}|${instance.heartbeat}`,
        this.#failureDetectionMs,
        instance.heartbeatAtWallMs,
      );
      return { instance, alive: !verdict.expired, verdict };
    });
  }

  /** Instances not presumed dead. An instance seen for the first time counts as alive. */
  public async listLive(): Promise<InstanceRecord[]> {
    return (await this.list()).filter((v) => v.alive).map((v) => v.instance);
  }

  /**
   * Deletes the instances this observer presumes dead, each only if its counter has not moved meanwhile.
   * Returns the ids removed.
   */
  public async removeDead(): Promise<string[]> {
    const removed: string[] = [];
    for (const view of await this.list()) {
      if (view.alive) continue;
      const { instanceId, heartbeat } = view.instance;
      if (await withRetries(() => this.#store.removeInstance(instanceId, { heartbeat }), this.#retry)) {
        removed.push(instanceId);
        this.#tracker.forget(instanceId);
        this.#counters.delete(instanceId);
      }
    }
    return removed;
  }

  /**
   * The heartbeat counter of `instanceId` as of the last {@link list}; `undefined` if it was not listed.
   * Pass it as `heartbeatOf` to judge heartbeat-renewed leases.
   */
  public heartbeatOf(instanceId: string): number | undefined {
    return this.#counters.get(instanceId);
  }

  #ttl(): number {
    return Math.ceil((this.#clock.wallNow() + this.#ttlMs) / 1000);
  }
}

export type { HeartbeatOutcome, HeartbeatReport, InstanceRegistryOptions, InstanceView };
export { InstanceRegistry };
