import { compareSequenceNumbers } from '../../../core/events/position.js';
import { percentile } from '../results.js';

interface Published {
  readonly sequenceNumber: string;
  readonly sentAtMs: number;
}

/** One record's trip: when the producer sent it, and when the checkpoint covering it was written. */
interface Trip {
  readonly shardId: string;
  readonly sentAtMs: number;
  readonly appliedAtMs: number;
}

/**
 * Source-to-applied latency as the benchmark measures it until the consumer reports its own metric: every
 * record's send time is kept with the shard and sequence number PutRecords gave it; a worker's checkpoint event
 * (sent after the batch's state writes and the checkpoint write landed) marks every record of that shard up to
 * the checkpoint as applied at that moment. So a latency is an upper bound by one checkpoint write, and every
 * record counts (not just the last change of each aggregate, as state items would show). One machine, one wall
 * clock.
 */
class SourceToApplied {
  readonly #pending = new Map<string, Published[]>();
  readonly #reached = new Map<string, { sequenceNumber: string; atMs: number }>();
  readonly trips: Trip[] = [];
  /** Records applied per wall-clock second, and records sent per second. */
  readonly appliedPerSecond = new Map<number, number>();
  readonly sentPerSecond = new Map<number, number>();
  #published = 0;

  public get publishedCount(): number {
    return this.#published;
  }

  public get appliedCount(): number {
    return this.trips.length;
  }

  /** A record PutRecords accepted. */
  public published(shardId: string, sequenceNumber: string, sentAtMs: number): void {
    this.#published++;
    bump(this.sentPerSecond, Math.floor(sentAtMs / 1000), 1);
    const reached = this.#reached.get(shardId);
    // Checkpointed before its PutRecords response was handled here (rare): applied at that checkpoint.
    if (reached !== undefined && compareSequenceNumbers(sequenceNumber, reached.sequenceNumber) <= 0) {
      this.#applied(shardId, sentAtMs, Math.max(reached.atMs, sentAtMs));
      return;
    }
    const list = this.#pending.get(shardId) ?? [];
    let at = list.length;
    while (at > 0 && compareSequenceNumbers(list[at - 1]!.sequenceNumber, sequenceNumber) > 0) at--;
    list.splice(at, 0, { sequenceNumber, sentAtMs });
    this.#pending.set(shardId, list);
  }

  /** A worker's checkpoint event: everything of the shard up to `checkpoint` is applied. */
  public checkpointed(shardId: string, checkpoint: string | undefined, atMs: number): void {
    if (checkpoint === undefined) return;
    const reached = this.#reached.get(shardId);
    if (reached === undefined || compareSequenceNumbers(checkpoint, reached.sequenceNumber) > 0)
      this.#reached.set(shardId, { sequenceNumber: checkpoint, atMs });
    const list = this.#pending.get(shardId);
    if (list === undefined) return;
    let n = 0;
    while (n < list.length && compareSequenceNumbers(list[n]!.sequenceNumber, checkpoint) <= 0) {
      this.#applied(shardId, list[n]!.sentAtMs, atMs);
      n++;
    }
    list.splice(0, n);
  }

  /** Latencies (ms) of the records sent in `[fromMs, toMs)`, and how many of those are still waiting. */
  public latencies(fromMs: number, toMs: number): { values: number[]; waiting: number } {
    const values = this.trips
      .filter((t) => t.sentAtMs >= fromMs && t.sentAtMs < toMs)
      .map((t) => t.appliedAtMs - t.sentAtMs);
    let waiting = 0;
    for (const list of this.#pending.values())
      waiting += list.filter((p) => p.sentAtMs >= fromMs && p.sentAtMs < toMs).length;
    return { values, waiting };
  }

  /** p50, p99 and max of the records sent in `[fromMs, toMs)`. */
  public summary(fromMs: number, toMs: number): { p50: number; p99: number; max: number; count: number } {
    const { values } = this.latencies(fromMs, toMs);
    return {
      p50: percentile(values, 50),
      p99: percentile(values, 99),
      max: values.length === 0 ? Number.NaN : Math.max(...values),
      count: values.length,
    };
  }

  /**
   * The seconds of `[fromMs, toMs)` in which no record was applied although records were waiting (sent before
   * the second ended and not applied before it started), and the lowest applied rate of that span.
   */
  public stalls(fromMs: number, toMs: number): { zeroSeconds: number; minAppliedPerSecond: number } {
    let sent = 0;
    let applied = 0;
    const firstSecond = Math.floor(fromMs / 1000);
    for (const [s, n] of this.sentPerSecond) if (s < firstSecond) sent += n;
    for (const [s, n] of this.appliedPerSecond) if (s < firstSecond) applied += n;
    let zeroSeconds = 0;
    let minApplied = Number.POSITIVE_INFINITY;
    for (let s = firstSecond; s < Math.floor(toMs / 1000); s++) {
      sent += this.sentPerSecond.get(s) ?? 0;
      const appliedNow = this.appliedPerSecond.get(s) ?? 0;
      if (appliedNow === 0 && sent > applied) zeroSeconds++;
      minApplied = Math.min(minApplied, appliedNow);
      applied += appliedNow;
    }
    return { zeroSeconds, minAppliedPerSecond: Number.isFinite(minApplied) ? minApplied : 0 };
  }

  #applied(shardId: string, sentAtMs: number, appliedAtMs: number): void {
    this.trips.push({ shardId, sentAtMs, appliedAtMs });
    bump(this.appliedPerSecond, Math.floor(appliedAtMs / 1000), 1);
  }
}

function bump(map: Map<number, number>, key: number, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export type { Trip };
export { SourceToApplied };
