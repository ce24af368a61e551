import type { Config } from '../../core/config/schema.js';
import { systemClock } from '../../core/coordination/clock.js';
import type { DrainWatch } from './worker-group.js';

/** How often the drain looks at the checkpoints. */
const POLL_MS = 200;

/** The tables whose changes the config defers now ("public.orders (paused)", or "low-priority tables (shedding)"), if any. */
function deferredTables(config: Config): string | undefined {
  const paused = Object.keys(config.tables).filter((t) => config.tables[t]?.paused === true);
  const shedding =
    config.shedding.active && config.shedding.deferPriorities.length > 0
      ? [`tables of priority ${config.shedding.deferPriorities.join(', ')} (shedding)`]
      : [];
  const all = [...paused.map((t) => `${t} (paused)`), ...shedding];
  return all.length === 0 ? undefined : all.join(', ');
}

interface DrainOptions {
  readonly watch: DrainWatch;
  /** The highest sequence number produced on each shard. */
  readonly tips: ReadonlyMap<string, string>;
  /** The configuration in force now (a paused table keeps the run from ending). */
  readonly config: () => Config;
  /** False while something that runs beside the drain (a test's `during`) is not finished. */
  readonly settled: () => boolean;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Why no worker reads, when none does (the timeout says so). */
  readonly noWorkerRunning: () => boolean;
  readonly onPhase: (phase: string) => void;
  readonly note: (message: string) => void;
}

/**
 * Waits until every shard is checkpointed at the last record produced on it and no table is deferred (its
 * changes wait in the parked store until the table is resumed), or the signal aborts. Throws when the
 * timeout passes first, saying what it still waits for.
 */
async function waitForDrain(options: DrainOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let waitingOn: string | undefined;
  for (;;) {
    if (options.signal?.aborted) return;
    if (options.settled() && (await options.watch.drained(options.tips))) {
      // Changes of a paused (or shed) table wait in the parked store: the run is not done until they are
      // replayed, which takes a `cdcp config set` that resumes the table (or the manager lifting shedding).
      const deferred = deferredTables(options.config());
      if (deferred === undefined) return;
      if (deferred !== waitingOn)
        options.note(
          `every record is read; changes of ${deferred} wait as DEFERRED in the parked store: resume with \`cdcp config set\` to finish the run`,
        );
      waitingOn = deferred;
      options.onPhase('waiting for resume');
    }
    if (Date.now() > deadline)
      throw new Error(
        `the run did not drain within ${options.timeoutMs} ms` +
          (options.noWorkerRunning()
            ? ': no worker is running (add one with `cdcp local workers add`)'
            : waitingOn === undefined
              ? ''
              : `: changes of ${waitingOn} stayed deferred (resume with \`cdcp config set\`)`),
      );
    await systemClock.sleep(POLL_MS);
  }
}

export type { DrainOptions };
export { waitForDrain };
