import { type Clock, systemClock } from './clock.js';
import type { HeartbeatReport, InstanceRegistry } from './instance-registry.js';
import type { InstanceKind } from './records.js';
import { durationMs, identifier } from './validate.js';

interface InstancePresenceOptions {
  /**
   * The registry to write to, built on first use (so a Lambda environment builds it with the configuration
   * its first batch runs under, not the defaults it starts with).
   */
  readonly registry: InstanceRegistry | (() => InstanceRegistry);
  readonly instanceId: string;
  readonly kind: InstanceKind;
  /** What to report; called only when a registration or heartbeat is written. */
  readonly report: () => HeartbeatReport;
  /**
   * Longest {@link InstancePresence.afterBatch} waits for the write; a slower one goes on in the background
   * and the next call skips until it ends. @default 1_000
   */
  readonly timeoutMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Told about every registration or heartbeat that failed or timed out (log it, count it). */
  readonly onFailure?: (error: Error, operation: PresenceOperation) => void;
}

type PresenceOperation = 'register' | 'heartbeat';

/**
 * What one {@link InstancePresence.afterBatch} did: `registered` (first time, or again after being presumed
 * dead and removed), `written` (a heartbeat), `skipped` (not due), `busy` (an earlier write still running),
 * `timed-out` (still running in the background) or `failed`.
 */
type PresenceOutcome = 'registered' | 'written' | 'skipped' | 'busy' | 'timed-out' | 'failed';

/**
 * Keeps one instance present in the instance registry for a host that has no loop of its own, like a Lambda
 * execution environment: it registers lazily at the first call and afterwards heartbeats when due, piggy-backed
 * on work; when the instance was presumed dead and removed, it registers again. It never throws and never
 * keeps its caller longer than `timeoutMs`: a registry that fails costs a log line and a metric, never a batch.
 *
 * Nothing deregisters such an instance (Lambda gives a function no shutdown hook without an extension): when
 * the environment goes away its counter stops, observers presume it dead after their failure-detection window,
 * the cluster manager's housekeeping removes it, and DynamoDB TTL deletes what is left.
 *
 * @example
 * ```ts
 * const presence = new InstancePresence({
 *   registry, instanceId: InstanceRegistry.newInstanceId('lambda'), kind: 'lambda',
 *   report: () => ({ ...tracker.report(), configVersion }),
 *   onFailure: (error, operation) => logger.warn(`instance ${operation} failed`, { error }),
 * });
 * await presence.afterBatch(); // after every batch
 * ```
 */
class InstancePresence {
  readonly #o: InstancePresenceOptions;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #registry: InstanceRegistry | undefined;
  #registered = false;
  #pending: Promise<unknown> | undefined;

  public constructor(options: InstancePresenceOptions) {
    identifier('instanceId', options.instanceId);
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = durationMs('timeoutMs', options.timeoutMs ?? 1_000);
    if (typeof options.registry !== 'function') this.#registry = options.registry;
  }

  public get instanceId(): string {
    return this.#o.instanceId;
  }

  /** True once a registration was written and not since found removed. */
  public get registered(): boolean {
    return this.#registered;
  }

  /** Registers or heartbeats as due; resolves within `timeoutMs` and never rejects. */
  public async afterBatch(): Promise<PresenceOutcome> {
    if (this.#pending !== undefined) return 'busy';
    let registry: InstanceRegistry;
    try {
      registry = this.#registryNow();
    } catch (error) {
      this.#fail(error, 'register');
      return 'failed';
    }
    if (this.#registered && !registry.isHeartbeatDue(this.#o.instanceId)) return 'skipped';
    const operation: PresenceOperation = this.#registered ? 'heartbeat' : 'register';
    const write = this.#write(registry).catch((error: unknown) => {
      this.#fail(error, operation);
      return 'failed' as const;
    });
    const pending = write.finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    const timer = new AbortController();
    const timedOut = this.#clock.sleep(this.#timeoutMs, timer.signal).then((slept) => slept && 'timed-out');
    const outcome = await Promise.race([write, timedOut]);
    timer.abort();
    if (outcome === 'timed-out') {
      this.#fail(new Error(`no answer from the instance registry within ${this.#timeoutMs} ms`), operation);
      return 'timed-out';
    }
    return outcome as PresenceOutcome;
  }

  async #write(registry: InstanceRegistry): Promise<PresenceOutcome> {
    const id = this.#o.instanceId;
    // Built at most once per write: a report starts a new counting period, so a heartbeat refused because
    // the instance was removed hands its report on to the registration rather than losing it.
    let built: HeartbeatReport | undefined;
    const reportOnce = () => {
      built ??= this.#o.report();
      return built;
    };
    if (this.#registered) {
      const outcome = await registry.heartbeatIfDue(id, reportOnce);
      if (outcome !== 'not-registered') return outcome;
      // Presumed dead and removed (the environment was frozen longer than the failure-detection window).
      this.#registered = false;
    }
    const report = reportOnce();
    const registered = await registry.register({
      instanceId: id,
      kind: this.#o.kind,
      load: report.load,
      configVersion: report.configVersion,
      hotKeys: report.hotKeys,
    });
    if (!registered)
      throw new Error(`instance id ${id} is registered by another instance; give each instance its own id`);
    this.#registered = true;
    return 'registered';
  }

  #registryNow(): InstanceRegistry {
    if (this.#registry === undefined) this.#registry = (this.#o.registry as () => InstanceRegistry)();
    return this.#registry;
  }

  #fail(error: unknown, operation: PresenceOperation): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    try {
      this.#o.onFailure?.(failure, operation);
    } catch {
      // A failing logger must not fail the batch either.
    }
  }
}

export type { InstancePresenceOptions, PresenceOperation, PresenceOutcome };
export { InstancePresence };
