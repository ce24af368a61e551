import type { WorkerRow } from './worker-pool.js';

/** What the live view shows. */
interface ProgressSnapshot {
  readonly produced: number;
  /** Events to produce; undefined when producing until stopped. */
  readonly target: number | undefined;
  readonly applied: number;
  readonly duplicates: number;
  readonly parked: number;
  /** Records the consumer has processed (applied, skipped or parked), for the rate. */
  readonly processed: number;
  readonly lagMs: number;
  readonly phase: string;
  /** The worker processes of a `--workers N` run, for per-worker rates. */
  readonly workers?: readonly WorkerRow[];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One worker as the live view shows it: `worker-2-9f3a1c 1,204/s 3 leases (assigner)`. */
function workerLine(row: WorkerRow): string {
  const leases = `${row.leases.length} lease${row.leases.length === 1 ? '' : 's'}`;
  const role = row.assigner ? ' (assigner)' : '';
  const state = row.state === 'running' ? '' : ` ${row.state}`;
  return `${row.id} ${fmt(row.eventsPerSecond)}/s ${leases}${role}${state}`;
}

/**
 * Live progress on stderr: a redrawn block when stderr is a terminal (one line for the run, one per worker
 * process), otherwise one line every few seconds (so CI logs stay readable).
 */
class ProgressReporter {
  readonly #stream: NodeJS.WriteStream;
  readonly #snapshot: () => ProgressSnapshot;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last = { at: Date.now(), processed: 0 };
  #rate = 0;
  /** Lines of the block drawn last (terminal only), to redraw it in place. */
  #drawn = 0;

  public constructor(options: {
    snapshot: () => ProgressSnapshot;
    stream?: NodeJS.WriteStream;
    intervalMs?: number;
  }) {
    this.#stream = options.stream ?? process.stderr;
    this.#snapshot = options.snapshot;
    this.#intervalMs = options.intervalMs ?? (this.#stream.isTTY ? 250 : 3000);
  }

  /** Events per second over the last interval. */
  public get rate(): number {
    return this.#rate;
  }

  public start(): void {
    this.#timer = setInterval(() => this.#draw(), this.#intervalMs);
    this.#timer.unref();
  }

  public stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#draw();
    if (this.#stream.isTTY) this.#stream.write('\n');
    this.#drawn = 0;
  }

  /** A message that does not break the bar. */
  public note(message: string): void {
    if (this.#stream.isTTY) {
      this.#stream.write(`${this.#clear()}${message}\n`);
      this.#drawn = 0;
    } else this.#stream.write(`${message}\n`);
  }

  /** Moves the cursor to the start of the block drawn last and clears it. */
  #clear(): string {
    return `${this.#drawn > 1 ? `\x1b[${this.#drawn - 1}A` : ''}\r\x1b[0J`;
  }

  #draw(): void {
    const s = this.#snapshot();
    const now = Date.now();
    const seconds = (now - this.#last.at) / 1000;
    if (seconds > 0) this.#rate = (s.processed - this.#last.processed) / seconds;
    this.#last = { at: now, processed: s.processed };
    const parts = [
      `produced ${fmt(s.produced)}${s.target === undefined ? '' : `/${fmt(s.target)}`}`,
      `applied ${fmt(s.applied)}`,
      `duplicates ${fmt(s.duplicates)}`,
      `parked ${fmt(s.parked)}`,
      `${fmt(this.#rate)} events/s`,
      `lag ${fmt(s.lagMs)} ms`,
    ];
    const workers = (s.workers ?? []).filter((w) => w.state === 'running' || w.state === 'starting');
    if (this.#stream.isTTY) {
      const width = 24;
      const done = s.target === undefined || s.target === 0 ? 0 : Math.min(1, s.processed / s.target);
      const bar =
        s.target === undefined ? '' : `[${'#'.repeat(Math.round(done * width)).padEnd(width, '.')}] `;
      const lines = [`${bar}${s.phase} · ${parts.join(' · ')}`, ...workers.map((w) => `  ${workerLine(w)}`)];
      this.#stream.write(`${this.#clear()}${lines.join('\n')}`);
      this.#drawn = lines.length;
    } else {
      const perWorker = workers.length === 0 ? '' : `; workers: ${workers.map(workerLine).join(', ')}`;
      this.#stream.write(`[${new Date().toISOString()}] ${s.phase}: ${parts.join(', ')}${perWorker}\n`);
    }
  }
}

export type { ProgressSnapshot };
export { ProgressReporter, workerLine };
