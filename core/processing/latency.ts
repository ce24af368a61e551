import { DDSketch } from '@datadog/sketches-js';
import type { PendingChange } from './fold.js';

/**
 * Relative accuracy of every latency sketch: a reported quantile is within 1% of a value at that rank.
 * Sketches of different accuracies cannot merge, so there is one.
 */
const RELATIVE_ACCURACY = 0.01;

/** The applied changes of one table in one batch: one value per change, in milliseconds. */
interface TableLatencies {
  /** From the change's source commit time (`ChangeEvent.ts`) to its state write; only changes that carry one. */
  readonly sourceToAppliedMs: number[];
  /** From the record's arrival in the stream (ApproximateArrivalTimestamp) to its state write. */
  readonly arrivalToAppliedMs: number[];
}

/** What a latency sketch reports: quantiles and the largest value, in milliseconds, over `count` changes. */
interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** A sketch as JSON (an IPC message, a heartbeat): its non-empty bins as `[key, count]` pairs. */
interface SerializedSketch {
  readonly count: number;
  readonly zeros: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly bins: readonly (readonly [number, number])[];
}

/** Both latencies of a set of changes, serialized. */
interface SerializedLatencies {
  readonly sourceToApplied: SerializedSketch;
  readonly arrivalToApplied: SerializedSketch;
}

/**
 * The latencies of one batch's applied changes, per table (`BatchProcessor.process` fills it as each
 * aggregate's write commits). The handler publishes them as metrics, one value per change.
 *
 * @example
 * ```ts
 * const latencies = new BatchLatencies();
 * await processor.process(records, latencies);
 * for (const [table, { sourceToAppliedMs }] of latencies.byTable) publish(table, sourceToAppliedMs);
 * ```
 */
class BatchLatencies {
  readonly byTable = new Map<string, TableLatencies>();

  /**
   * Changes whose state write committed at `writtenAtMs` (wall clock). The clocks of the source, Kinesis and
   * this host differ a little: a latency is never below 0.
   */
  public applied(changes: readonly PendingChange[], writtenAtMs: number): void {
    for (const { change, origin } of changes) {
      let table = this.byTable.get(change.table);
      if (table === undefined) {
        table = { sourceToAppliedMs: [], arrivalToAppliedMs: [] };
        this.byTable.set(change.table, table);
      }
      if (change.ts !== null) table.sourceToAppliedMs.push(Math.max(0, writtenAtMs - change.ts));
      table.arrivalToAppliedMs.push(Math.max(0, writtenAtMs - origin.approximateArrivalTimestamp));
    }
  }

  /** Changes counted, over all tables. */
  public get size(): number {
    let n = 0;
    for (const t of this.byTable.values()) n += t.arrivalToAppliedMs.length;
    return n;
  }
}

/**
 * A mergeable quantile sketch of latencies (DDSketch: relative accuracy 1%, memory logarithmic in the range
 * of values): what a heartbeat, a worker's report and a run's summary carry instead of every value.
 */
class LatencySketch {
  #sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });

  public add(valueMs: number): void {
    this.#sketch.accept(Math.max(0, valueMs));
  }

  public addAll(valuesMs: readonly number[]): void {
    for (const v of valuesMs) this.add(v);
  }

  public merge(other: LatencySketch): void {
    if (other.count > 0) this.#sketch.merge(other.#sketch);
  }

  public get count(): number {
    return this.#sketch.count;
  }

  /** p50, p99 and max; undefined when the sketch holds nothing. */
  public summary(): LatencySummary | undefined {
    const s = this.#sketch;
    if (s.count === 0) return undefined;
    const round = (v: number) => Math.round(v * 10) / 10;
    return {
      count: s.count,
      p50Ms: round(s.getValueAtQuantile(0.5)),
      p99Ms: round(s.getValueAtQuantile(0.99)),
      maxMs: round(s.max),
    };
  }

  public reset(): void {
    this.#sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
  }

  public toJSON(): SerializedSketch {
    const s = this.#sketch;
    const bins: [number, number][] = [];
    for (const [index, count] of s.store.bins.entries())
      if (count > 0) bins.push([index + s.store.offset, count]);
    return { count: s.count, zeros: s.zeroCount, sum: s.sum, min: s.min, max: s.max, bins };
  }

  /** The sketch `toJSON` wrote. */
  public static fromJSON(json: SerializedSketch): LatencySketch {
    const sketch = new LatencySketch();
    const s = sketch.#sketch;
    for (const [key, count] of json.bins) s.store.add(key, count);
    s.zeroCount = json.zeros;
    s.count = json.count;
    s.sum = json.sum;
    s.min = json.min;
    s.max = json.max;
    return sketch;
  }
}

/**
 * Both latencies over many batches: a consumer instance keeps one for its heartbeats (reset at each) and one
 * for its life.
 *
 * @example
 * ```ts
 * const recorder = new LatencyRecorder();
 * recorder.record(latencies);
 * await registry.heartbeat(id, { load: { ...load, ...recorder.load() } });
 * recorder.reset();
 * ```
 */
class LatencyRecorder {
  readonly sourceToApplied = new LatencySketch();
  readonly arrivalToApplied = new LatencySketch();

  public record(batch: BatchLatencies): void {
    for (const t of batch.byTable.values()) {
      this.sourceToApplied.addAll(t.sourceToAppliedMs);
      this.arrivalToApplied.addAll(t.arrivalToAppliedMs);
    }
  }

  public merge(other: LatencyRecorder): void {
    this.sourceToApplied.merge(other.sourceToApplied);
    this.arrivalToApplied.merge(other.arrivalToApplied);
  }

  /** The heartbeat's latency figures (`InstanceLoad`); empty when nothing was applied. */
  public load(): { sourceToAppliedMs?: LatencySummary; arrivalToAppliedMs?: LatencySummary } {
    const source = this.sourceToApplied.summary();
    const arrival = this.arrivalToApplied.summary();
    return {
      ...(source === undefined ? {} : { sourceToAppliedMs: source }),
      ...(arrival === undefined ? {} : { arrivalToAppliedMs: arrival }),
    };
  }

  public reset(): void {
    this.sourceToApplied.reset();
    this.arrivalToApplied.reset();
  }

  /** {@link load}, then {@link reset}: a heartbeat's figures cover the changes since the previous one. */
  public drain(): ReturnType<LatencyRecorder['load']> {
    const figures = this.load();
    this.reset();
    return figures;
  }

  public toJSON(): SerializedLatencies {
    return {
      sourceToApplied: this.sourceToApplied.toJSON(),
      arrivalToApplied: this.arrivalToApplied.toJSON(),
    };
  }

  public static fromJSON(json: SerializedLatencies): LatencyRecorder {
    const recorder = new LatencyRecorder();
    recorder.sourceToApplied.merge(LatencySketch.fromJSON(json.sourceToApplied));
    recorder.arrivalToApplied.merge(LatencySketch.fromJSON(json.arrivalToApplied));
    return recorder;
  }
}

/**
 * The latency recorders of one consumer instance, each fed every batch: one its heartbeats drain, one its
 * reports to a supervisor drain (the live view's recent figures), and one for its whole life (a run's
 * summary).
 */
class InstanceLatencies {
  readonly heartbeat = new LatencyRecorder();
  readonly recent = new LatencyRecorder();
  readonly total = new LatencyRecorder();

  public record(batch: BatchLatencies): void {
    this.heartbeat.record(batch);
    this.recent.record(batch);
    this.total.record(batch);
  }

  /** The recent recorder as JSON, then reset: a report covers the changes since the previous one. */
  public drainRecent(): SerializedLatencies {
    const json = this.recent.toJSON();
    this.recent.reset();
    return json;
  }
}

export type { LatencySummary, SerializedLatencies, SerializedSketch, TableLatencies };
export { BatchLatencies, InstanceLatencies, LatencyRecorder, LatencySketch, RELATIVE_ACCURACY };
