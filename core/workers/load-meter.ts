import type { InstanceLoad } from '../coordination/index.js';

/** What the meter reads of its own process: CPU time used so far and resident memory. */
interface ProcessUsage {
  /** User plus system CPU time of the process since it started, in microseconds. */
  cpuMicros(): number;
  rssBytes(): number;
}

/** This process, as Node reports it. */
const thisProcess: ProcessUsage = {
  cpuMicros: () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  },
  rssBytes: () => process.memoryUsage.rss(),
};

/**
 * A worker's load for its heartbeat: records per second (exponentially smoothed over ~5 s), CPU of this
 * process in percent of one core since the previous reading, and memory.
 */
class LoadMeter {
  readonly #now: () => number;
  readonly #halfLifeMs: number;
  readonly #usage: ProcessUsage;
  #rate = 0;
  #pending = 0;
  #total = 0;
  #last: number;
  #cpuMicros: number;
  #cpuAt: number;
  #cpuPercent = 0;

  public constructor(
    options: {
      readonly now?: () => number;
      readonly halfLifeMs?: number;
      /** @default this process */
      readonly usage?: ProcessUsage;
    } = {},
  ) {
    this.#now = options.now ?? (() => performance.now());
    this.#halfLifeMs = options.halfLifeMs ?? 5_000;
    this.#usage = options.usage ?? thisProcess;
    this.#last = this.#now();
    this.#cpuAt = this.#last;
    this.#cpuMicros = this.#usage.cpuMicros();
  }

  /** Records processed (counted when their batch finished). */
  public add(records: number): void {
    this.#pending += records;
    this.#total += records;
  }

  public get total(): number {
    return this.#total;
  }

  /** Smoothed records per second as of now. */
  public eventsPerSecond(): number {
    const now = this.#now();
    const elapsed = now - this.#last;
    if (elapsed >= 200) {
      const instant = (this.#pending * 1000) / elapsed;
      const keep = 0.5 ** (elapsed / this.#halfLifeMs);
      this.#rate = keep * this.#rate + (1 - keep) * instant;
      this.#pending = 0;
      this.#last = now;
    }
    return this.#rate;
  }

  /** CPU of this process since the previous call, in percent of one core. */
  public cpuPercent(): number {
    const now = this.#now();
    if (now - this.#cpuAt >= 200) {
      const cpuMicros = this.#usage.cpuMicros();
      this.#cpuPercent = ((cpuMicros - this.#cpuMicros) / 1000 / (now - this.#cpuAt)) * 100;
      this.#cpuMicros = cpuMicros;
      this.#cpuAt = now;
    }
    return this.#cpuPercent;
  }

  /** Everything a heartbeat reports. */
  public load(extra: Partial<InstanceLoad> = {}): InstanceLoad {
    return {
      eventsPerSecond: Math.round(this.eventsPerSecond() * 10) / 10,
      cpuPercent: Math.round(this.cpuPercent() * 10) / 10,
      memoryBytes: this.#usage.rssBytes(),
      ...extra,
    };
  }
}

export type { ProcessUsage };
export { LoadMeter };
