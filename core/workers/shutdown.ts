import { type Clock, systemClock } from '../coordination/clock.js';
import { OptionsError } from '../errors.js';

/**
 * - `handed-off`: every batch in flight finished and was checkpointed, every lease released with its
 *   checkpoint (the assigner gives each to a live worker at once), the assigner lease given up, the instance
 *   deregistered;
 * - `timed-out`: the stop did not finish within the stop timeout; the worker stopped writing, and what it still
 *   held expires for the others as after a crash (its last batches are delivered again, and skipped by position);
 * - `failed`: the stop threw; as `timed-out` for the leases.
 */
type ShutdownOutcome = 'handed-off' | 'timed-out' | 'failed';

interface ShutdownReport {
  readonly outcome: ShutdownOutcome;
  /** What asked for the stop (`SIGTERM`, `SIGINT`, `supervisor`, ...). */
  readonly reason: string;
  readonly durationMs: number;
  readonly error?: Error;
}

interface GracefulShutdownOptions {
  /** What is stopped: `stop()` hands everything off, `halt()` stops at once without another write. */
  readonly worker: { stop(): Promise<void>; halt(): Promise<void> };
  /**
   * How long the hand-off may take. Keep it under the orchestrator's own stop timeout (ECS sends SIGKILL that
   * long after SIGTERM), so that the worker ends by itself rather than being killed in mid-write.
   */
  readonly stopTimeoutMs: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * The one way a worker process ends on purpose: the first request starts a graceful stop bounded by
 * `stopTimeoutMs`; later requests (a second SIGTERM, the supervisor going away) wait for the same one.
 *
 * @example
 * ```ts
 * const shutdown = new GracefulShutdown({ worker, stopTimeoutMs: 25_000 });
 * process.on('SIGTERM', () => void shutdown.request('SIGTERM'));
 * const report = await shutdown.done;   // then close clients and exit with exitCodeOf(report)
 * ```
 */
class GracefulShutdown {
  readonly #o: GracefulShutdownOptions;
  readonly #clock: Clock;
  #running: Promise<ShutdownReport> | undefined;
  #resolveDone!: (report: ShutdownReport) => void;
  /** Resolves once a requested stop has finished, whichever way. */
  public readonly done: Promise<ShutdownReport>;

  public constructor(options: GracefulShutdownOptions) {
    if (!Number.isFinite(options.stopTimeoutMs) || options.stopTimeoutMs <= 0)
      throw new OptionsError('stopTimeoutMs', options.stopTimeoutMs, 'must be a positive number of ms');
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** True once a stop was requested. */
  public get requested(): boolean {
    return this.#running !== undefined;
  }

  /** Starts the graceful stop (once); resolves with its report. */
  public request(reason: string): Promise<ShutdownReport> {
    this.#running ??= this.#run(reason).then((report) => {
      this.#resolveDone(report);
      return report;
    });
    return this.#running;
  }

  async #run(reason: string): Promise<ShutdownReport> {
    const { worker, stopTimeoutMs } = this.#o;
    const startedAt = this.#clock.now();
    const timer = new AbortController();
    type Ending = { readonly outcome: ShutdownOutcome; readonly error?: Error };
    const stopped: Promise<Ending> = worker.stop().then(
      () => ({ outcome: 'handed-off' }),
      (error: unknown) => ({ outcome: 'failed', error: error as Error }),
    );
    // A sleep cut short (the stop finished first) never wins the race.
    const timedOut = this.#clock
      .sleep(stopTimeoutMs, timer.signal)
      .then((slept): Promise<Ending> | Ending => (slept ? { outcome: 'timed-out' } : stopped));
    const ending = await Promise.race([stopped, timedOut]);
    timer.abort();
    if (ending.outcome !== 'handed-off') await worker.halt();
    return { ...ending, reason, durationMs: this.#clock.now() - startedAt };
  }
}

/** 0 after a clean hand-off, 1 otherwise (the orchestrator may then look at the logs). */
function exitCodeOf(report: ShutdownReport): number {
  return report.outcome === 'handed-off' ? 0 : 1;
}

export type { GracefulShutdownOptions, ShutdownOutcome, ShutdownReport };
export { exitCodeOf, GracefulShutdown };
