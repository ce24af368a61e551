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
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Live progress on stderr: a redrawn bar when stderr is a terminal, otherwise one line every few seconds
 * (so CI logs stay readable).
 */
class ProgressReporter {
  readonly #stream: NodeJS.WriteStream;
  readonly #snapshot: () => ProgressSnapshot;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last = { at: Date.now(), processed: 0 };
  #rate = 0;

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
  }

  /** A message that does not break the bar. */
  public note(message: string): void {
    this.#stream.write(this.#stream.isTTY ? `\r\x1b[2K${message}\n` : `${message}\n`);
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
    if (this.#stream.isTTY) {
      const width = 24;
      const done = s.target === undefined || s.target === 0 ? 0 : Math.min(1, s.processed / s.target);
      const bar =
        s.target === undefined ? '' : `[${'#'.repeat(Math.round(done * width)).padEnd(width, '.')}] `;
      this.#stream.write(`\r\x1b[2K${bar}${s.phase} · ${parts.join(' · ')}`);
    } else this.#stream.write(`[${new Date().toISOString()}] ${s.phase}: ${parts.join(', ')}\n`);
  }
}

export type { ProgressSnapshot };
export { ProgressReporter };
