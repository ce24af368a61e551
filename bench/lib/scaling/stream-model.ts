/**
 * A discrete-time model of one Kinesis stream, its producer and its Lambda consumer, for the scaling simulator.
 *
 * - Producer: every record is created at a known second; each shard accepts at most its write limits per
 *   step (1,000 records/s, 1 MiB/s); the rest waits in the producer and is retried next step, oldest first
 *   (throttling never loses a record).
 * - Resharding: every call is checked against Kinesis' rules (`checkAction`, the same code the planner and
 *   executor use); a call that breaks one is counted as a violation and not applied. A call puts the stream in
 *   UPDATING for its duration; the change lands at the end. Closed shards are read to their end before their
 *   children (Lambda's ordering), so a split or merge costs a moment of child lag.
 * - Consumer: per shard `ParallelizationFactor` concurrent batches, each `laneRecordsPerSecond`, at most the
 *   shard's read limit (2 MiB/s); the hot partition key is in one batch at a time.
 * - Measured: iterator age (age since arrival in the stream, Kinesis' metric) and lag (age since the producer
 *   created the record, which includes waiting out throttling), per minute as maxima.
 */
import {
  checkAction,
  contains,
  type HashRange,
  hashKeyOf,
  type MetricPoint,
  type OpenShard,
  type PlannedAction,
  parseHashKey,
  type RuleViolation,
  SHARD_READ_BYTES_PER_SECOND,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
  shareOfKeySpace,
  uniformRanges,
} from '../../../core/scaling/index.js';
import type { Trace } from './traces.js';

/** The hot partition key of the hot-key trace; its hash decides its shard, as in Kinesis. */
const HOT_KEY = 'order-4711';
const HOT_HASH = hashKeyOf(HOT_KEY);

/** Seconds a resharding keeps the stream UPDATING (model assumptions; AWS says "a few minutes" for UpdateShardCount). */
const SPLIT_MERGE_SECONDS = 30;
const updateShardCountSeconds = (from: number, to: number) => 60 + Math.max(from, to);
/** Seconds until a new ParallelizationFactor is in effect. */
const PARALLELIZATION_SECONDS = 10;
/** GetRecords returns at most 10,000 records per call; Lambda polls each shard about once a second. */
const READ_RECORDS_PER_SECOND = 10_000;

/** Math.min / Math.max do not take bigints. */
const minKey = (a: bigint, b: bigint) => (a <= b ? a : b);
const maxKey = (a: bigint, b: bigint) => (a >= b ? a : b);

interface Cohort {
  tProd: number;
  tArr: number;
  n: number;
}

/** FIFO of cohorts without Array.shift's cost. */
class Queue {
  items: Cohort[] = [];
  head = 0;
  total = 0;
  push(c: Cohort): void {
    // Fractions of a record left by floating-point arithmetic are dropped (the conservation check allows < 1).
    if (c.n <= 1e-6) return;
    this.items.push(c);
    this.total += c.n;
  }
  get first(): Cohort | undefined {
    return this.items[this.head];
  }
  /** Takes up to `n` records from the front; calls `each` per cohort part taken. */
  take(n: number, each?: (c: Cohort, taken: number) => void): number {
    let left = n;
    while (this.head < this.items.length) {
      const c = this.items[this.head]!;
      if (c.n <= 1e-9) {
        this.total -= c.n;
        this.head++;
        continue;
      }
      if (left <= 1e-9) break;
      const taken = Math.min(c.n, left);
      each?.(c, taken);
      c.n -= taken;
      left -= taken;
      this.total -= taken;
      if (c.n <= 1e-9) this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.head >= this.items.length) {
      this.items = [];
      this.head = 0;
      this.total = 0;
    }
    return n - left;
  }
  drainAll(): Cohort[] {
    const rest = this.items.slice(this.head).filter((c) => c.n > 1e-9);
    this.items = [];
    this.head = 0;
    this.total = 0;
    return rest;
  }
}

interface SimShard {
  readonly id: string;
  readonly range: HashRange;
  readonly share: number;
  readonly hasHot: boolean;
  open: boolean;
  readonly parents: readonly string[];
  /** Produced, not yet accepted: uniform and hot-key records. */
  readonly producerUni: Queue;
  readonly producerHot: Queue;
  /** In the stream, not yet processed. */
  readonly streamUni: Queue;
  readonly streamHot: Queue;
  minuteRecords: number;
  minuteThrottled: number;
}

interface StreamModelOptions {
  readonly trace: Trace;
  readonly initialShards: number;
  readonly initialParallelization: number;
  /** Records/s one concurrent batch of the consumer processes. */
  readonly laneRecordsPerSecond: number;
  /** Wall time of t = 0. */
  readonly startWallMs: number;
  /** Share of traffic from low-priority tables: deferred (parked, cheap) while shedding is on. */
  readonly lowPriorityShare: number;
}

interface MinuteFigures {
  readonly atWallMs: number;
  readonly demandRecordsPerSecond: number;
  readonly capacityRecordsPerSecond: number;
  readonly openShards: number;
  readonly lagMaxS: number;
  readonly iteratorAgeMaxS: number;
  readonly parallelization: number;
  readonly shedding: boolean;
}

interface ViolationRecord {
  readonly atS: number;
  readonly action: PlannedAction;
  readonly violations: readonly RuleViolation[];
}

class StreamModel {
  readonly #o: StreamModelOptions;
  readonly trace: Trace;
  t = 0;
  readonly shards = new Map<string, SimShard>();
  #open: SimShard[] = [];
  status: 'ACTIVE' | 'UPDATING' = 'ACTIVE';
  #pending: { at: number; apply: () => void } | undefined;
  #pendingPf: { at: number; to: number } | undefined;
  parallelization: number;
  shedding = false;
  #nextIndex = 0;
  readonly updateShardCountCallsAtWallMs: number[] = [];
  readonly violations: ViolationRecord[] = [];
  readonly calls = { updateShardCount: 0, split: 0, merge: 0, parallelization: 0, shedding: 0 };
  // Totals.
  produced = 0;
  accepted = 0;
  consumed = 0;
  throttledRecords = 0;
  throttledAttempts = 0;
  deferred = 0;
  shardSeconds = 0;
  maxParallelization: number;
  readonly minutes: MinuteFigures[] = [];
  readonly points: MetricPoint[] = [];
  #minuteLag = 0;
  #minuteAge = 0;
  #minuteDemand = 0;
  #minuteClosed: { id: string; records: number; throttled: number }[] = [];

  public constructor(options: StreamModelOptions) {
    this.#o = options;
    this.trace = options.trace;
    this.parallelization = options.initialParallelization;
    this.maxParallelization = options.initialParallelization;
    this.#repartition(options.initialShards, []);
  }

  get nowWallMs(): number {
    return this.#o.startWallMs + this.t * 1000;
  }

  get openShards(): readonly OpenShard[] {
    return this.#open.map((s) => ({ shardId: s.id, range: s.range, parentShardIds: s.parents }));
  }

  get openCount(): number {
    return this.#open.length;
  }

  /** A resharding, ParallelizationFactor or shedding request; rule-breaking ones are refused and counted. */
  request(action: PlannedAction): { readonly ok: boolean; readonly violations: readonly RuleViolation[] } {
    const violations = checkAction(action, {
      status: this.status,
      openShards: this.openShards,
      updateShardCountCallsAtWallMs: this.updateShardCountCallsAtWallMs,
      nowWallMs: this.nowWallMs,
    });
    if (violations.length > 0) {
      this.violations.push({ atS: this.t, action, violations });
      return { ok: false, violations };
    }
    switch (action.kind) {
      case 'update-shard-count': {
        this.calls.updateShardCount++;
        this.updateShardCountCallsAtWallMs.push(this.nowWallMs);
        this.status = 'UPDATING';
        const to = action.toShards;
        this.#pending = {
          at: this.t + updateShardCountSeconds(this.#open.length, to),
          apply: () => this.#repartition(to, this.#open),
        };
        break;
      }
      case 'split-shard': {
        this.calls.split++;
        this.status = 'UPDATING';
        const key = parseHashKey(action.newStartingHashKey);
        const id = action.shardId;
        this.#pending = { at: this.t + SPLIT_MERGE_SECONDS, apply: () => this.#split(id, key) };
        break;
      }
      case 'merge-shards': {
        this.calls.merge++;
        this.status = 'UPDATING';
        const a = action.shardId;
        const b = action.adjacentShardId;
        this.#pending = { at: this.t + SPLIT_MERGE_SECONDS, apply: () => this.#merge(a, b) };
        break;
      }
      case 'set-parallelization-factor':
        this.calls.parallelization++;
        this.#pendingPf = { at: this.t + PARALLELIZATION_SECONDS, to: action.to };
        break;
      case 'set-shedding':
        this.calls.shedding++;
        this.shedding = action.active;
        break;
    }
    return { ok: true, violations: [] };
  }

  /** On-demand mode: Kinesis re-partitions by itself, at once and without rules or quota. */
  repartitionInstantly(count: number): void {
    if (count !== this.#open.length) this.#repartition(count, this.#open);
  }

  /** Advances one step. */
  step(): void {
    const dt = this.trace.stepS;
    const now = this.t + dt;
    if (this.#pending !== undefined && this.#pending.at <= this.t) {
      this.#pending.apply();
      this.#pending = undefined;
      this.status = 'ACTIVE';
    }
    if (this.#pendingPf !== undefined && this.#pendingPf.at <= this.t) {
      this.parallelization = this.#pendingPf.to;
      this.maxParallelization = Math.max(this.maxParallelization, this.parallelization);
      this.#pendingPf = undefined;
    }
    const recordBytes = this.trace.recordBytes;
    const uniform = this.trace.uniformRecordsPerSecond(this.t);
    const hot = this.trace.hotKeyRecordsPerSecond(this.t);
    this.#minuteDemand += (uniform + hot) * dt;
    const writeCap =
      Math.min(SHARD_WRITE_RECORDS_PER_SECOND, SHARD_WRITE_BYTES_PER_SECOND / recordBytes) * dt;
    const readCap = Math.min(READ_RECORDS_PER_SECOND, SHARD_READ_BYTES_PER_SECOND / recordBytes) * dt;
    const lane = this.#o.laneRecordsPerSecond * dt;
    // Shedding parks low-priority changes (one cheap write) instead of applying them.
    const sheddingBoost = this.shedding ? 1 / (1 - this.#o.lowPriorityShare * 0.8) : 1;

    for (const s of this.#open) {
      const newUni = uniform * s.share * dt;
      const newHot = s.hasHot ? hot * dt : 0;
      this.produced += newUni + newHot;
      let cap = writeCap;
      let acceptedHere = 0;
      // Oldest first: the producer's backlog, then this step's records.
      const backlog = s.producerHot.total + s.producerUni.total;
      if (backlog > 0) {
        const fromHot = Math.min(s.producerHot.total, cap * (s.producerHot.total / backlog));
        const takenHot = s.producerHot.take(fromHot, (c, n) =>
          s.streamHot.push({ tProd: c.tProd, tArr: now, n }),
        );
        const takenUni = s.producerUni.take(cap - takenHot, (c, n) =>
          s.streamUni.push({ tProd: c.tProd, tArr: now, n }),
        );
        cap -= takenHot + takenUni;
        acceptedHere += takenHot + takenUni;
      }
      const fresh = newUni + newHot;
      const acceptFresh = Math.min(fresh, Math.max(0, cap));
      const hotPart = fresh > 0 ? acceptFresh * (newHot / fresh) : 0;
      s.streamHot.push({ tProd: this.t, tArr: now, n: hotPart });
      s.streamUni.push({ tProd: this.t, tArr: now, n: acceptFresh - hotPart });
      s.producerHot.push({ tProd: this.t, tArr: 0, n: newHot - hotPart });
      s.producerUni.push({ tProd: this.t, tArr: 0, n: newUni - (acceptFresh - hotPart) });
      acceptedHere += acceptFresh;
      this.throttledRecords += fresh - acceptFresh;
      const waiting = s.producerUni.total + s.producerHot.total;
      this.throttledAttempts += waiting;
      s.minuteThrottled += waiting;
      s.minuteRecords += acceptedHere;
      this.accepted += acceptedHere;
    }

    // Consumer: closed shards first drain; children wait for their parents.
    let lag = 0;
    let age = 0;
    for (const s of [...this.shards.values()]) {
      if (this.#parentsDrained(s)) {
        const cap = Math.min(this.parallelization * lane * sheddingBoost, readCap);
        const hotTaken = s.streamHot.take(Math.min(lane, cap));
        const uniTaken = s.streamUni.take(cap - hotTaken);
        this.consumed += hotTaken + uniTaken;
        if (this.shedding) this.deferred += (hotTaken + uniTaken) * this.#o.lowPriorityShare;
      }
      for (const q of [s.streamUni, s.streamHot]) {
        const c = q.first;
        if (c !== undefined) {
          age = Math.max(age, now - c.tArr);
          lag = Math.max(lag, now - c.tProd);
        }
      }
      for (const q of [s.producerUni, s.producerHot]) {
        const c = q.first;
        if (c !== undefined) lag = Math.max(lag, now - c.tProd);
      }
      if (!s.open && s.streamUni.total <= 1e-9 && s.streamHot.total <= 1e-9) {
        this.#minuteClosed.push({ id: s.id, records: s.minuteRecords, throttled: s.minuteThrottled });
        this.shards.delete(s.id);
      }
    }
    this.#minuteLag = Math.max(this.#minuteLag, lag);
    this.#minuteAge = Math.max(this.#minuteAge, age);
    this.shardSeconds += this.#open.length * dt;
    this.t = now;
    if (this.t % 60 === 0) this.#closeMinute(writeCap / dt);
  }

  #closeMinute(writeCapPerSecond: number): void {
    const shards: Record<string, MetricPoint['shards'][string]> = {};
    const put = (id: string, records: number, throttled: number) => {
      shards[id] = {
        recordsPerSecond: records / 60,
        bytesPerSecond: (records * this.trace.recordBytes) / 60,
        throttledPerSecond: throttled / 60,
      };
    };
    for (const c of this.#minuteClosed) put(c.id, c.records, c.throttled);
    for (const s of this.shards.values()) {
      put(s.id, s.minuteRecords, s.minuteThrottled);
      s.minuteRecords = 0;
      s.minuteThrottled = 0;
    }
    this.#minuteClosed = [];
    const atWallMs = this.nowWallMs - 60_000;
    this.points.push({ atWallMs, periodMs: 60_000, shards, iteratorAgeMs: this.#minuteAge * 1000 });
    if (this.points.length > 40) this.points.splice(0, this.points.length - 40);
    this.minutes.push({
      atWallMs,
      demandRecordsPerSecond: this.#minuteDemand / 60,
      capacityRecordsPerSecond: this.#open.length * writeCapPerSecond,
      openShards: this.#open.length,
      lagMaxS: this.#minuteLag,
      iteratorAgeMaxS: this.#minuteAge,
      parallelization: this.parallelization,
      shedding: this.shedding,
    });
    this.#minuteLag = 0;
    this.#minuteAge = 0;
    this.#minuteDemand = 0;
  }

  /** Records produced and not processed: with nothing dropped, produced = consumed + in flight. */
  inFlight(): number {
    let n = 0;
    for (const s of this.shards.values())
      n += s.producerUni.total + s.producerHot.total + s.streamUni.total + s.streamHot.total;
    return n;
  }

  #parentsDrained(s: SimShard): boolean {
    for (const id of s.parents) {
      const p = this.shards.get(id);
      if (p !== undefined && (p.streamUni.total > 1e-9 || p.streamHot.total > 1e-9)) return false;
    }
    return true;
  }

  #newShard(range: HashRange, parents: readonly string[]): SimShard {
    const shard: SimShard = {
      id: `shardId-${String(this.#nextIndex++).padStart(12, '0')}`,
      range,
      share: shareOfKeySpace(range),
      hasHot: contains(range, HOT_HASH),
      open: true,
      parents,
      producerUni: new Queue(),
      producerHot: new Queue(),
      streamUni: new Queue(),
      streamHot: new Queue(),
      minuteRecords: 0,
      minuteThrottled: 0,
    };
    this.shards.set(shard.id, shard);
    return shard;
  }

  #setOpen(open: SimShard[]): void {
    this.#open = open.sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
  }

  /** UNIFORM_SCALING to `count` shards: every open shard closes; waiting producer records follow their keys. */
  #repartition(count: number, closing: readonly SimShard[]): void {
    const children = uniformRanges(count).map((range) => {
      const parents = closing
        .filter((c) => c.range.start <= range.end && c.range.end >= range.start)
        .map((c) => c.id);
      return this.#newShard(range, parents);
    });
    for (const old of closing) {
      old.open = false;
      this.#rehome(old, children);
    }
    this.#setOpen(children);
  }

  #split(shardId: string, key: bigint): void {
    const parent = this.shards.get(shardId)!;
    const lower = this.#newShard({ start: parent.range.start, end: key - 1n }, [parent.id]);
    const upper = this.#newShard({ start: key, end: parent.range.end }, [parent.id]);
    parent.open = false;
    this.#rehome(parent, [lower, upper]);
    this.#setOpen([...this.#open.filter((s) => s !== parent), lower, upper]);
  }

  #merge(a: string, b: string): void {
    const x = this.shards.get(a)!;
    const y = this.shards.get(b)!;
    const range = {
      start: minKey(x.range.start, y.range.start),
      end: maxKey(x.range.end, y.range.end),
    };
    const child = this.#newShard(range, [x.id, y.id]);
    for (const p of [x, y]) {
      p.open = false;
      this.#rehome(p, [child]);
    }
    this.#setOpen([...this.#open.filter((s) => s !== x && s !== y), child]);
  }

  /** Moves a closing shard's waiting producer records to the new shards their keys now map to. */
  #rehome(old: SimShard, targets: readonly SimShard[]): void {
    for (const c of old.producerHot.drainAll()) targets.find((t) => t.hasHot)?.producerHot.push(c);
    const uni = old.producerUni.drainAll();
    if (uni.length === 0) return;
    for (const t of targets) {
      const overlapStart = maxKey(t.range.start, old.range.start);
      const overlapEnd = minKey(t.range.end, old.range.end);
      if (overlapEnd < overlapStart) continue;
      const fraction = shareOfKeySpace({ start: overlapStart, end: overlapEnd }) / old.share;
      for (const c of uni) t.producerUni.push({ tProd: c.tProd, tArr: 0, n: c.n * fraction });
    }
    for (const t of targets) t.producerUni.items.sort((p, q) => p.tProd - q.tProd);
  }
}

export type { MinuteFigures, StreamModelOptions, ViolationRecord };
export { HOT_HASH, HOT_KEY, StreamModel };
