import { isTableDeferred } from '../config/deferral.js';
import type { Config } from '../config/schema.js';
import type { ReplayOutcome } from './replay.js';

/** What one sweep did. */
interface SweepReport {
  /** The config version the sweep judged deferral by. */
  readonly version: string;
  /** Aggregates whose deferred changes were replayed (fully or in part). */
  readonly aggregates: number;
  /** Deferred changes applied now. */
  readonly replayed: number;
  /** Deferred changes still parked after the sweep (a change failed on replay; the next sweep tries again). */
  readonly remaining: number;
  /** Replays that stopped on an error (the error is in the outcome; the next sweep tries again). */
  readonly errors: readonly string[];
}

interface DeferredSweepOptions {
  /** The replayer's sweep, usually `new ParkedReplayer(...).replayDeferred`. */
  readonly replayDeferred: (isDeferred: (table: string) => boolean) => Promise<ReplayOutcome[]>;
}

/**
 * Replays changes deferred by a paused (or shed) table once the table is no longer deferred, for the
 * aggregates that get no new change (the consumer resumes the others inline, at their next change). A sweep
 * reads the whole parked store, so it runs only when it can find something: at the first call, when the config
 * version changed since the last complete sweep, or when the last sweep left changes behind. Safe beside
 * running consumers and beside another sweep (replays are conditional writes fenced by position).
 *
 * @example
 * ```ts
 * const sweep = new DeferredSweep({ replayDeferred: (d) => replayer.replayDeferred(d) });
 * const report = await sweep.sweepIfDue(source.current().config); // undefined: nothing could have changed
 * ```
 */
class DeferredSweep {
  readonly #o: DeferredSweepOptions;
  /** The version of the last sweep that left nothing behind. */
  #sweptVersion: string | undefined;
  #running: Promise<SweepReport | undefined> = Promise.resolve(undefined);

  public constructor(options: DeferredSweepOptions) {
    this.#o = options;
  }

  /** Sweeps when due (see the class); one sweep at a time, calls queue behind the running one. */
  public sweepIfDue(config: Config): Promise<SweepReport | undefined> {
    const next = this.#running.then(
      () => this.#sweep(config),
      () => this.#sweep(config),
    );
    this.#running = next;
    return next;
  }

  async #sweep(config: Config): Promise<SweepReport | undefined> {
    if (this.#sweptVersion === config.version) return undefined;
    const outcomes = await this.#o.replayDeferred((table) => isTableDeferred(config, table));
    const report: SweepReport = {
      version: config.version,
      aggregates: outcomes.length,
      replayed: outcomes.reduce((n, o) => n + o.replayed, 0),
      remaining: outcomes.reduce((n, o) => n + o.remaining, 0),
      errors: outcomes.flatMap((o) => (o.error === undefined ? [] : [`${o.target}: ${o.error}`])),
    };
    this.#sweptVersion = report.remaining === 0 && report.errors.length === 0 ? config.version : undefined;
    return report;
  }
}

export type { DeferredSweepOptions, SweepReport };
export { DeferredSweep };
