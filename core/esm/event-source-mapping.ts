import { createHash } from 'node:crypto';
import type { _Record } from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { type Clock, systemClock } from '../coordination/clock.js';
import { REASON, type ReasonCode } from '../events/reason-codes.js';
import { parkedRecordOf } from '../processing/batch-processor.js';
import { recordParkedItem } from '../state/parked-item.js';
import type { ParkedStore } from '../state/parked-store.js';
import { lambdaContext, toLambdaEvent, toLambdaRecord } from './lambda-event.js';
import { type MappingSettings, mappingSettings } from './settings.js';
import type { ShardCursor, ShardPage, ShardReader } from './shard-reader.js';

type KinesisHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

/** Progress reported with a checkpoint. */
interface ShardCheckpoint {
  /** Last record processed in full; undefined when the shard ended without a record. */
  readonly sequenceNumber: string | undefined;
  /** Records processed since the previous checkpoint. */
  readonly records: number;
  /** Kinesis' estimate of how far the reader is behind the shard's tip. */
  readonly millisBehindLatest: number;
}

/**
 * What the mapping needs from whoever owns a shard — the worker holding its lease. Lambda keeps this inside
 * its service; here the lease decides where to start, whether to go on, and takes every checkpoint.
 */
interface ShardOwnership {
  readonly shardId: string;
  /** Continue after this sequence number; undefined: from the mapping's starting position. */
  readonly startAfter: string | undefined;
  /**
   * Aborted when the lease is lost (taken over, or run out on the owner's clock): the mapping stops at once
   * and writes nothing more; a batch in flight finishes, and its effects are fenced by position.
   */
  readonly signal: AbortSignal;
  /**
   * Asked before every handler invocation: false once the owner may no longer act on the lease (its time ran
   * out on the owner's clock, say after the process was paused), even before `signal` is aborted.
   */
  mayProcess(): boolean;
  /** Records progress after every fully processed chunk; `false` means the lease was lost: stop at once. */
  checkpoint(progress: ShardCheckpoint): Promise<boolean>;
  /** The shard is closed and every record in it processed: its children may start. */
  end(progress: ShardCheckpoint): Promise<boolean>;
}

interface ShardProgress {
  readonly shardId: string;
  /** Last sequence number processed and checkpointed. */
  checkpoint: string | undefined;
  /** Arrival lag of the newest record processed: now − its approximate arrival time. */
  lagMs: number;
  /** Kinesis' own estimate of how far the reader is behind the tip. */
  millisBehindLatest: number;
  ended: boolean;
  /** Records processed (handler invocations completed) since this mapping started the shard. */
  records: number;
  invocations: number;
  retries: number;
}

/** One handler invocation starting or ending, for load figures and tests that kill in mid-batch. */
interface InvocationEvent {
  readonly shardId: string;
  readonly phase: 'start' | 'end';
  readonly records: number;
  /** The invocation's records (their partition keys and arrival times feed the load figures). */
  readonly batch: readonly KinesisStreamRecord['kinesis'][];
}

interface EventSourceMappingOptions {
  /** How records are read: polling (GetRecords) or enhanced fan-out (SubscribeToShard). */
  readonly reader: ShardReader;
  /** The stream's ARN, as the records' `eventSourceARN`. */
  readonly streamArn: string;
  readonly handler: KinesisHandler;
  /** The on-failure destination: records given up on are parked here with their full payload. */
  readonly parkedStore: Pick<ParkedStore, 'put'>;
  readonly settings?: Partial<MappingSettings>;
  /** @default 'cdcp-consumer' */
  readonly functionName?: string;
  /** Function timeout for the context's deadline. @default 60_000 */
  readonly functionTimeoutMs?: number;
  /** Longest wait for records of an idle shard, doubling from this up to 1 s. @default 50 */
  readonly idlePollMs?: number;
  readonly onError?: (error: Error, shardId: string) => void;
  readonly onInvocation?: (event: InvocationEvent) => void;
  /** The records' `awsRegion`. @default 'us-east-1' */
  readonly region?: string;
  /** Monotonic time for the batching window, wall time for record age and lag, and sleeps. @default systemClock */
  readonly clock?: Clock;
}

/** Lambda keeps one partition key in one concurrent batch of a shard; a stable hash of the key does that here. */
function laneOf(partitionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % lanes;
}

interface RunningShard {
  readonly ownership: ShardOwnership;
  /** Graceful stop: finish the chunk in flight, checkpoint, return. */
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

/** Signals a shard's loop watches: `lost` stops at once, `stop` after the chunk in flight. */
interface Halt {
  readonly lost: AbortSignal;
  readonly stop: AbortSignal;
  /** Either of them. */
  readonly any: AbortSignal;
  readonly mayProcess: () => boolean;
}

/**
 * Lambda's Kinesis event source mapping, run by a worker for the shards its owner hands it: ordered batches
 * (batch size, batching window), ParallelizationFactor with per-partition-key order, partial batch responses
 * (retry from the reported sequence number), maximum retry attempts and record age (to the on-failure
 * destination, here the parked store, with the full payload). Records come from a {@link ShardReader}
 * (polling or enhanced fan-out). Which shards it reads, where it starts, and every checkpoint belong to the
 * shard's owner ({@link ShardOwnership}, the worker's lease).
 *
 * @example
 * ```ts
 * const mapping = new EventSourceMapping({ reader: new PollingReader({ kinesis, streamName }), streamArn, handler, parkedStore });
 * mapping.start(ownership);          // the worker's lease of one shard
 * await mapping.stop(ownership.shardId); // finishes the batch in flight and checkpoints
 * ```
 */
class EventSourceMapping {
  readonly #o: EventSourceMappingOptions;
  readonly #settings: MappingSettings;
  readonly #clock: Clock;
  readonly #running = new Map<string, RunningShard>();
  readonly #progress = new Map<string, ShardProgress>();
  #inFlight = 0;

  public constructor(options: EventSourceMappingOptions) {
    this.#settings = mappingSettings(options.settings);
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  public get settings(): MappingSettings {
    return this.#settings;
  }

  /** Handler invocations running now. */
  public get inFlight(): number {
    return this.#inFlight;
  }

  /** Shards being read now. */
  public get shards(): string[] {
    return [...this.#running.keys()];
  }

  /** Per-shard progress of the shards this mapping has read, for the live view. */
  public progress(): ShardProgress[] {
    return [...this.#progress.values()].map((p) => ({ ...p }));
  }

  /** Starts reading a shard for its owner; a shard already running is left as it is. */
  public start(ownership: ShardOwnership): void {
    const { shardId } = ownership;
    const running = this.#running.get(shardId);
    if (running !== undefined) {
      if (running.ownership === ownership) return;
      // A new grant of a shard whose previous run is still finishing its batch: start once it has stopped.
      void running.done.then(() => {
        if (!ownership.signal.aborted) this.start(ownership);
      });
      return;
    }
    const stop = new AbortController();
    const entry: RunningShard = {
      ownership,
      stop,
      done: this.#runShard(ownership, {
        lost: ownership.signal,
        stop: stop.signal,
        any: AbortSignal.any([ownership.signal, stop.signal]),
        mayProcess: () => ownership.mayProcess(),
      })
        .catch((error: Error) => this.#o.onError?.(error, shardId))
        .finally(() => {
          if (this.#running.get(shardId) === entry) this.#running.delete(shardId);
        }),
    };
    this.#running.set(shardId, entry);
  }

  /** Stops reading a shard after its chunk in flight is processed and checkpointed. */
  public async stop(shardId: string): Promise<void> {
    const running = this.#running.get(shardId);
    if (running === undefined) return;
    running.stop.abort();
    await running.done;
  }

  /** Stops every shard gracefully. */
  public async stopAll(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id)));
  }

  async #runShard(ownership: ShardOwnership, halt: Halt): Promise<void> {
    const { shardId } = ownership;
    const progress: ShardProgress = {
      shardId,
      checkpoint: ownership.startAfter,
      lagMs: 0,
      millisBehindLatest: 0,
      ended: false,
      records: 0,
      invocations: 0,
      retries: 0,
    };
    this.#progress.set(shardId, progress);
    const cursor = this.#o.reader.open({
      shardId,
      startAfter: ownership.startAfter,
      startingPosition: this.#settings.startingPosition,
    });
    try {
      await this.#readAndProcess(ownership, halt, progress, cursor);
    } finally {
      await cursor.close();
    }
  }

  /** The shard's loop: fill a chunk from the reader, process it in lanes, checkpoint; end a closed shard. */
  async #readAndProcess(
    ownership: ShardOwnership,
    halt: Halt,
    progress: ShardProgress,
    cursor: ShardCursor,
  ): Promise<void> {
    const clock = this.#clock;
    const { maximumBatchingWindowMs: windowMs } = this.#settings;
    const perRead = this.#settings.batchSize * this.#settings.parallelizationFactor;
    let lastRead = ownership.startAfter;
    let readerEnded = false;
    let sinceCheckpoint = 0;
    const buffer: _Record[] = [];
    let firstBufferedAt = 0;
    let idleMs = this.#o.idlePollMs ?? 50;
    while (!halt.any.aborted) {
      let fetched = 0;
      if (!readerEnded && buffer.length < perRead) {
        const windowLeftMs = Math.max(0, firstBufferedAt + windowMs - clock.now());
        let page: ShardPage;
        try {
          page = await cursor.next({
            signal: halt.any,
            maxWaitMs: buffer.length > 0 ? Math.min(idleMs, windowLeftMs) : idleMs,
          });
        } catch (error) {
          this.#o.onError?.(error as Error, ownership.shardId);
          await clock.sleep(500, halt.any);
          continue;
        }
        if (page.millisBehindLatest !== undefined) progress.millisBehindLatest = page.millisBehindLatest;
        fetched = page.records.length;
        if (fetched > 0) {
          if (buffer.length === 0) firstBufferedAt = clock.now();
          buffer.push(...page.records);
          lastRead = page.records[fetched - 1]!.SequenceNumber;
        }
        readerEnded = page.ended;
      }
      if (halt.any.aborted) break;
      const windowOver = clock.now() - firstBufferedAt >= windowMs;
      if (buffer.length >= perRead || (buffer.length > 0 && (windowOver || readerEnded))) {
        const chunk = buffer.splice(0, perRead);
        // A graceful stop lets the chunk finish (no duplicates on hand-off); a lost lease does not.
        if (!(await this.#process(ownership.shardId, chunk, progress, halt)) || halt.lost.aborted) return;
        const last = chunk[chunk.length - 1]!;
        sinceCheckpoint += chunk.length;
        progress.records += chunk.length;
        progress.lagMs = Math.max(
          0,
          clock.wallNow() - (last.ApproximateArrivalTimestamp?.getTime() ?? clock.wallNow()),
        );
        const checkpointed = await ownership.checkpoint({
          sequenceNumber: last.SequenceNumber,
          records: sinceCheckpoint,
          millisBehindLatest: progress.millisBehindLatest,
        });
        if (!checkpointed) return;
        sinceCheckpoint = 0;
        progress.checkpoint = last.SequenceNumber;
        if (buffer.length > 0) firstBufferedAt = clock.now();
        idleMs = this.#o.idlePollMs ?? 50;
        continue;
      }
      if (readerEnded && buffer.length === 0) {
        // The shard was closed by a split or merge and everything in it is processed: children may start.
        if (await ownership.end({ sequenceNumber: lastRead, records: 0, millisBehindLatest: 0 }))
          progress.ended = true;
        return;
      }
      if (fetched === 0) {
        progress.lagMs = 0;
        idleMs = Math.min(1000, idleMs * 2);
      }
    }
  }

  /** Processes one chunk in `parallelizationFactor` lanes; false when stopped before it finished. */
  async #process(
    shardId: string,
    chunk: readonly _Record[],
    progress: ShardProgress,
    halt: Halt,
  ): Promise<boolean> {
    const lanes = this.#settings.parallelizationFactor;
    const region = this.#o.region ?? 'us-east-1';
    const byLane: KinesisStreamRecord[][] = Array.from({ length: lanes }, () => []);
    for (const record of chunk)
      byLane[laneOf(record.PartitionKey ?? '', lanes)]!.push(
        toLambdaRecord(record, shardId, this.#o.streamArn, region),
      );
    const results = await Promise.all(
      byLane.filter((l) => l.length > 0).map((lane) => this.#runLane(lane, progress, halt)),
    );
    return results.every(Boolean);
  }

  /** One lane: batches of `batchSize`, in order, each retried from its reported failure. */
  async #runLane(
    records: readonly KinesisStreamRecord[],
    progress: ShardProgress,
    halt: Halt,
  ): Promise<boolean> {
    for (let i = 0; i < records.length; i += this.#settings.batchSize) {
      if (halt.lost.aborted) return false;
      const batch = records.slice(i, i + this.#settings.batchSize);
      if (!(await this.#invokeWithRetries(batch, progress, halt))) return false;
    }
    return true;
  }

  async #invokeWithRetries(
    batch: readonly KinesisStreamRecord[],
    progress: ShardProgress,
    halt: Halt,
  ): Promise<boolean> {
    let pending = [...batch];
    for (let retries = 0; pending.length > 0; retries++) {
      pending = await this.#dropExpired(pending, progress.shardId);
      if (pending.length === 0) return true;
      // The owner's own view of its lease, checked right before the handler runs: a paused process that resumes
      // after its lease ran out starts nothing more.
      if (!halt.mayProcess()) return false;
      let failedFrom = 0;
      this.#inFlight++;
      const batch = pending.map((r) => r.kinesis);
      this.#o.onInvocation?.({ shardId: progress.shardId, phase: 'start', records: pending.length, batch });
      try {
        progress.invocations++;
        const response = await this.#o.handler(
          toLambdaEvent(pending),
          lambdaContext(this.#o.functionName ?? 'cdcp-consumer', this.#o.functionTimeoutMs ?? 60_000),
        );
        const failures = response?.batchItemFailures ?? [];
        if (failures.length === 0) return true;
        // Lambda retries from the lowest reported sequence number; an identifier not in the batch fails it whole.
        const indexes = failures.map((f) =>
          pending.findIndex((r) => r.kinesis.sequenceNumber === f.itemIdentifier),
        );
        failedFrom = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
      } catch (error) {
        this.#o.onError?.(error as Error, progress.shardId);
        failedFrom = 0;
      } finally {
        this.#inFlight--;
        this.#o.onInvocation?.({ shardId: progress.shardId, phase: 'end', records: pending.length, batch });
      }
      pending = pending.slice(failedFrom);
      const max = this.#settings.maximumRetryAttempts;
      if (max !== -1 && retries >= max) {
        await this.#toOnFailure(
          pending,
          progress.shardId,
          REASON.RETRIES_EXHAUSTED,
          `gave up after ${retries} retries`,
        );
        return true;
      }
      // Stopping (hand-off or shutdown) while a batch fails: leave it to the next owner from the checkpoint.
      if (halt.any.aborted) return false;
      progress.retries++;
      await this.#clock.sleep(Math.min(1000, 20 * 2 ** Math.min(retries, 6)), halt.any);
    }
    return true;
  }

  /** Lambda discards records older than the maximum record age to the on-failure destination. */
  async #dropExpired(records: KinesisStreamRecord[], shardId: string): Promise<KinesisStreamRecord[]> {
    const maxAge = this.#settings.maximumRecordAgeSeconds;
    if (maxAge === -1) return records;
    const cutoff = this.#clock.wallNow() / 1000 - maxAge;
    const firstFresh = records.findIndex((r) => r.kinesis.approximateArrivalTimestamp >= cutoff);
    const expired = firstFresh === -1 ? records : records.slice(0, firstFresh);
    if (expired.length > 0)
      await this.#toOnFailure(
        expired,
        shardId,
        REASON.RECORD_TOO_OLD,
        `older than the maximum record age of ${maxAge} s`,
      );
    return firstFresh === -1 ? [] : records.slice(firstFresh);
  }

  async #toOnFailure(
    records: readonly KinesisStreamRecord[],
    shardId: string,
    reason: ReasonCode,
    message: string,
  ): Promise<void> {
    const now = new Date(this.#clock.wallNow());
    await this.#o.parkedStore.put(
      records.map(({ kinesis, eventSourceARN }) =>
        recordParkedItem(
          parkedRecordOf({
            data: kinesis.data,
            partitionKey: kinesis.partitionKey,
            sequenceNumber: kinesis.sequenceNumber,
            approximateArrivalTimestamp: kinesis.approximateArrivalTimestamp,
            shardId,
            eventSourceArn: eventSourceARN,
          }),
          reason,
          message,
          now,
        ),
      ),
    );
  }
}

export type {
  EventSourceMappingOptions,
  InvocationEvent,
  KinesisHandler,
  ShardCheckpoint,
  ShardOwnership,
  ShardProgress,
};
export { EventSourceMapping, laneOf };
