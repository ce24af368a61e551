import { createHash } from 'node:crypto';
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { REASON, type ReasonCode } from '../../core/events/reason-codes.js';
import { parkedRecordOf } from '../../core/processing/batch-processor.js';
import { recordParkedItem } from '../../core/state/parked-item.js';
import type { ParkedStore } from '../../core/state/parked-store.js';
import { toStreamRecords } from '../../functions/consumer/create-handler.js';
import type { CheckpointStore } from './checkpoints.js';
import { lambdaContext, toLambdaEvent, toLambdaRecord } from './lambda-event.js';
import { type MappingSettings, mappingSettings } from './settings.js';

type KinesisHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined | void>;

interface ShardProgress {
  readonly shardId: string;
  /** Last sequence number processed and checkpointed. */
  checkpoint: string | undefined;
  /** Arrival lag of the newest record processed: now − its approximate arrival time. */
  lagMs: number;
  /** Kinesis' own estimate of how far the reader is behind the tip. */
  millisBehindLatest: number;
  ended: boolean;
  invocations: number;
  retries: number;
}

interface LocalEventSourceMappingOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly handler: KinesisHandler;
  readonly checkpoints: CheckpointStore;
  /** The on-failure destination: records given up on are parked here with their full payload. */
  readonly parkedStore: ParkedStore;
  readonly settings?: Partial<MappingSettings>;
  /** Who holds the checkpoints, for `cdcp status`. */
  readonly owner: string;
  /** @default 'cdcp-consumer-local' */
  readonly functionName?: string;
  /** Function timeout for the context's deadline. @default 60_000 */
  readonly functionTimeoutMs?: number;
  /** Delay between polls of an idle shard, doubling up to 1 s. @default 50 */
  readonly idlePollMs?: number;
  readonly onError?: (error: Error, shardId: string) => void;
  readonly region?: string;
  /** Wall clock in epoch ms, for record age and lag. @default Date.now */
  readonly now?: () => number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Lambda keeps one partition key in one concurrent batch of a shard; a stable hash of the key does that here. */
function laneOf(partitionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % lanes;
}

/**
 * Lambda's Kinesis event source mapping, run locally against a Kinesis engine: per shard, ordered batches
 * (batch size, batching window), ParallelizationFactor with per-partition-key order, partial batch responses
 * (retry from the reported sequence number), maximum retry attempts and record age (to the on-failure
 * destination, here the parked store, with the full payload), and checkpoints in DynamoDB so a restart
 * resumes. Child shards start only after their parents are processed to their end.
 *
 * @example
 * ```ts
 * const mapping = new LocalEventSourceMapping({ kinesis, streamName, streamArn, handler, checkpoints, parkedStore, owner: 'worker-1' });
 * mapping.start();
 * await mapping.stop();
 * ```
 */
class LocalEventSourceMapping {
  readonly #o: LocalEventSourceMappingOptions;
  readonly #settings: MappingSettings;
  readonly #abort = new AbortController();
  readonly #running = new Map<string, Promise<void>>();
  readonly #progress = new Map<string, ShardProgress>();
  #discovery: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  public constructor(options: LocalEventSourceMappingOptions) {
    this.#o = options;
    this.#settings = mappingSettings(options.settings);
  }

  public get settings(): MappingSettings {
    return this.#settings;
  }

  /** Per-shard progress, for the live view and drain detection. */
  public progress(): ShardProgress[] {
    return [...this.#progress.values()].map((p) => ({ ...p }));
  }

  public start(): void {
    if (this.#discovery !== undefined) return;
    this.#discovery = this.#discover();
  }

  /** Stops polling; batches in flight finish and checkpoint first. */
  public async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#discovery;
    await Promise.all(this.#running.values());
  }

  async #discover(): Promise<void> {
    const { signal } = this.#abort;
    while (!signal.aborted) {
      try {
        const shards = await this.#listShards();
        const known = new Set(shards.map((s) => s.ShardId!));
        const saved = new Map((await this.#o.checkpoints.list()).map((c) => [c.shardId, c]));
        for (const shard of shards) {
          const id = shard.ShardId!;
          if (this.#running.has(id) || this.#progress.get(id)?.ended || saved.get(id)?.ended) {
            if (saved.get(id)?.ended && !this.#progress.has(id))
              this.#progress.set(id, this.#newProgress(id, saved.get(id)?.checkpoint, true));
            continue;
          }
          // A child starts only after every parent still in the stream has been processed to its end.
          const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
            (p): p is string => p !== undefined && known.has(p),
          );
          const parentsDone = parents.every(
            (p) => saved.get(p)?.ended === true || this.#progress.get(p)?.ended === true,
          );
          if (!parentsDone) continue;
          const run = this.#runShard(id, parents).finally(() => {
            this.#running.delete(id);
            this.#wake?.();
          });
          this.#running.set(id, run);
        }
      } catch (error) {
        if (!signal.aborted) this.#o.onError?.(error as Error, '(discovery)');
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        void sleep(1000, signal).then(resolve);
      });
    }
  }

  async #listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let next: string | undefined;
    do {
      const out = await this.#o.kinesis.send(
        next === undefined
          ? new ListShardsCommand({ StreamName: this.#o.streamName })
          : new ListShardsCommand({ NextToken: next }),
      );
      shards.push(...(out.Shards ?? []));
      next = out.NextToken;
    } while (next !== undefined);
    return shards;
  }

  #newProgress(shardId: string, checkpoint: string | undefined, ended = false): ShardProgress {
    return { shardId, checkpoint, lagMs: 0, millisBehindLatest: 0, ended, invocations: 0, retries: 0 };
  }

  async #iterator(shardId: string, after: string | undefined): Promise<string | undefined> {
    const out = await this.#o.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.#o.streamName,
        ShardId: shardId,
        ...(after === undefined
          ? { ShardIteratorType: this.#settings.startingPosition }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
      }),
    );
    return out.ShardIterator;
  }

  async #runShard(shardId: string, parents: readonly string[]): Promise<void> {
    const { signal } = this.#abort;
    const { checkpoints, owner } = this.#o;
    const saved = await checkpoints.get(shardId);
    const progress = this.#progress.get(shardId) ?? this.#newProgress(shardId, saved?.checkpoint);
    this.#progress.set(shardId, progress);
    if (saved === undefined) await checkpoints.save(shardId, { owner, parentShardIds: parents });
    const perRead = this.#settings.batchSize * this.#settings.parallelizationFactor;
    let iterator = await this.#iterator(shardId, saved?.checkpoint);
    let lastRead = saved?.checkpoint;
    const buffer: _Record[] = [];
    let firstBufferedAt = 0;
    let idleMs = this.#o.idlePollMs ?? 50;
    while (!signal.aborted) {
      let fetched = 0;
      if (iterator !== undefined && buffer.length < perRead) {
        try {
          const out = await this.#o.kinesis.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
          );
          iterator = out.NextShardIterator;
          progress.millisBehindLatest = out.MillisBehindLatest ?? 0;
          const records = out.Records ?? [];
          fetched = records.length;
          if (fetched > 0) {
            if (buffer.length === 0) firstBufferedAt = Date.now();
            buffer.push(...records);
            lastRead = records[records.length - 1]!.SequenceNumber;
          }
        } catch (error) {
          if ((error as Error).name === 'ExpiredIteratorException') {
            iterator = await this.#iterator(shardId, lastRead);
            continue;
          }
          this.#o.onError?.(error as Error, shardId);
          await sleep(500, signal);
          continue;
        }
      }
      const windowOver = Date.now() - firstBufferedAt >= this.#settings.maximumBatchingWindowMs;
      if (buffer.length >= perRead || (buffer.length > 0 && (windowOver || iterator === undefined))) {
        const chunk = buffer.splice(0, perRead);
        const done = await this.#process(shardId, chunk, progress);
        if (!done) break; // stopping: leave the checkpoint where the last finished chunk put it
        const last = chunk[chunk.length - 1]!;
        await checkpoints.save(shardId, { owner, checkpoint: last.SequenceNumber! });
        progress.checkpoint = last.SequenceNumber;
        progress.lagMs = Math.max(
          0,
          Date.now() - (last.ApproximateArrivalTimestamp?.getTime() ?? Date.now()),
        );
        if (buffer.length > 0) firstBufferedAt = Date.now();
        idleMs = this.#o.idlePollMs ?? 50;
        continue;
      }
      if (iterator === undefined && buffer.length === 0) {
        // The shard was closed by a split or merge and everything in it is processed: children may start.
        await checkpoints.save(shardId, { owner, ended: true });
        progress.ended = true;
        return;
      }
      if (fetched === 0) {
        progress.lagMs = 0;
        const wait = buffer.length > 0 ? Math.min(idleMs, this.#settings.maximumBatchingWindowMs) : idleMs;
        await sleep(wait, signal);
        idleMs = Math.min(1000, idleMs * 2);
      }
    }
  }

  /** Processes one chunk in `parallelizationFactor` lanes; false when stopped before it finished. */
  async #process(shardId: string, chunk: readonly _Record[], progress: ShardProgress): Promise<boolean> {
    const lanes = this.#settings.parallelizationFactor;
    const region = this.#o.region ?? 'us-east-1';
    const byLane: KinesisStreamRecord[][] = Array.from({ length: lanes }, () => []);
    for (const record of chunk)
      byLane[laneOf(record.PartitionKey ?? '', lanes)]!.push(
        toLambdaRecord(record, shardId, this.#o.streamArn, region),
      );
    const results = await Promise.all(
      byLane.filter((l) => l.length > 0).map((lane) => this.#runLane(lane, progress)),
    );
    return results.every(Boolean);
  }

  /** One lane: batches of `batchSize`, in order, each retried from its reported failure. */
  async #runLane(records: readonly KinesisStreamRecord[], progress: ShardProgress): Promise<boolean> {
    for (let i = 0; i < records.length; i += this.#settings.batchSize) {
      const done = await this.#invokeWithRetries(records.slice(i, i + this.#settings.batchSize), progress);
      if (!done) return false;
    }
    return true;
  }

  async #invokeWithRetries(batch: readonly KinesisStreamRecord[], progress: ShardProgress): Promise<boolean> {
    const { signal } = this.#abort;
    let pending = [...batch];
    for (let retries = 0; pending.length > 0; retries++) {
      pending = await this.#dropExpired(pending);
      if (pending.length === 0) return true;
      let failedFrom = 0;
      try {
        progress.invocations++;
        const response = await this.#o.handler(
          toLambdaEvent(pending),
          lambdaContext(this.#o.functionName ?? 'cdcp-consumer-local', this.#o.functionTimeoutMs ?? 60_000),
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
      }
      pending = pending.slice(failedFrom);
      const max = this.#settings.maximumRetryAttempts;
      if (max !== -1 && retries >= max) {
        await this.#toOnFailure(pending, REASON.RETRIES_EXHAUSTED, `gave up after ${retries} retries`);
        return true;
      }
      if (signal.aborted) return false;
      progress.retries++;
      await sleep(Math.min(1000, 20 * 2 ** Math.min(retries, 6)), signal);
    }
    return true;
  }

  /** Lambda discards records older than the maximum record age to the on-failure destination. */
  async #dropExpired(records: KinesisStreamRecord[]): Promise<KinesisStreamRecord[]> {
    const maxAge = this.#settings.maximumRecordAgeSeconds;
    if (maxAge === -1) return records;
    const cutoff = (this.#o.now ?? Date.now)() / 1000 - maxAge;
    const firstFresh = records.findIndex((r) => r.kinesis.approximateArrivalTimestamp >= cutoff);
    const expired = firstFresh === -1 ? records : records.slice(0, firstFresh);
    if (expired.length > 0)
      await this.#toOnFailure(
        expired,
        REASON.RECORD_TOO_OLD,
        `older than the maximum record age of ${maxAge} s`,
      );
    return firstFresh === -1 ? [] : records.slice(firstFresh);
  }

  async #toOnFailure(
    records: readonly KinesisStreamRecord[],
    reason: ReasonCode,
    message: string,
  ): Promise<void> {
    const now = new Date();
    await this.#o.parkedStore.put(
      toStreamRecords(toLambdaEvent(records)).map((r) =>
        recordParkedItem(parkedRecordOf(r), reason, message, now),
      ),
    );
  }
}

export type { KinesisHandler, LocalEventSourceMappingOptions, ShardProgress };
export { LocalEventSourceMapping, laneOf };
