import { messageOf } from '../errors.js';
import { isObject } from '../events/json-value.js';
import { compareSequenceNumbers } from '../events/position.js';
import type { BatchProcessor, BatchStats } from './batch-processor.js';
import { ProcessingError } from './errors.js';
import type { StreamRecord } from './stream-record.js';

/**
 * A batch the deployed event source mapping gave up on (its retries or the record age ran out), as Lambda
 * writes it to the S3 on-failure destination: the invocation record with its `KinesisBatchInfo` (shard and
 * sequence range) and, for an S3 destination, the invocation's payload (the records themselves).
 */
interface FailedBatch {
  /** Where it is kept (the S3 object key). */
  readonly key: string;
  readonly timestamp: string;
  /** Why Lambda gave up: `RetryAttemptsExhausted`, `RecordAgeExceeded`, … */
  readonly condition: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly streamArn: string;
  /** The records, when the invocation record carries its payload; otherwise read again from the stream. */
  readonly records: readonly StreamRecord[] | undefined;
}

/** Where the deployed stack keeps failed batches (the S3 bucket); an in-memory twin for tests. */
interface FailedBatchStorePort {
  /** Keys of the kept batches, oldest first. */
  keys(): Promise<string[]>;
  /** The invocation record's JSON text. */
  read(key: string): Promise<string>;
  /** Removes a batch once it is redriven. */
  remove(key: string): Promise<void>;
}

/** Reads a sequence range of one shard again from the stream (for invocation records without a payload). */
interface StreamRangeReader {
  read(range: {
    readonly streamArn: string;
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
  }): Promise<StreamRecord[]>;
}

function text(value: unknown, what: string, key: string): string {
  if (typeof value !== 'string' || value === '')
    throw new ProcessingError(
      `failed batch ${key}: ${what} must be a non-empty string, received ${JSON.stringify(value)}`,
    );
  return value;
}

/** The records of the invocation's payload (a Lambda Kinesis event, as an object or its JSON text). */
function payloadRecords(payload: unknown, shardId: string, streamArn: string): StreamRecord[] | undefined {
  const event = typeof payload === 'string' ? (JSON.parse(payload) as unknown) : payload;
  if (!isObject(event) || !Array.isArray(event.Records)) return undefined;
  return event.Records.flatMap((r: unknown) => {
    const k = isObject(r) && isObject(r.kinesis) ? r.kinesis : undefined;
    if (k === undefined || typeof k.data !== 'string' || typeof k.sequenceNumber !== 'string') return [];
    return [
      {
        data: k.data,
        partitionKey: typeof k.partitionKey === 'string' ? k.partitionKey : '',
        sequenceNumber: k.sequenceNumber,
        approximateArrivalTimestamp:
          typeof k.approximateArrivalTimestamp === 'number' ? k.approximateArrivalTimestamp : 0,
        shardId,
        eventSourceArn: isObject(r) && typeof r.eventSourceARN === 'string' ? r.eventSourceARN : streamArn,
      },
    ];
  });
}

/**
 * Reads an on-failure invocation record. Throws a {@link ProcessingError} naming the key and the field when
 * it is not one.
 *
 * @example
 * ```ts
 * const batch = parseFailedBatch(key, await store.read(key));
 * ```
 */
function parseFailedBatch(key: string, json: string): FailedBatch {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (error) {
    throw new ProcessingError(`failed batch ${key} is not JSON (${messageOf(error)})`);
  }
  const info = isObject(doc) ? doc.KinesisBatchInfo : undefined;
  if (!isObject(doc) || !isObject(info))
    throw new ProcessingError(
      `failed batch ${key} has no KinesisBatchInfo: it is not a Kinesis on-failure invocation record`,
    );
  const context = isObject(doc.requestContext) ? doc.requestContext : {};
  const shardId = text(info.shardId, 'KinesisBatchInfo.shardId', key);
  const streamArn = text(info.streamArn, 'KinesisBatchInfo.streamArn', key);
  return {
    key,
    timestamp: typeof doc.timestamp === 'string' ? doc.timestamp : '',
    condition: typeof context.condition === 'string' ? context.condition : 'unknown',
    shardId,
    startSequenceNumber: text(info.startSequenceNumber, 'KinesisBatchInfo.startSequenceNumber', key),
    endSequenceNumber: text(info.endSequenceNumber, 'KinesisBatchInfo.endSequenceNumber', key),
    batchSize: typeof info.batchSize === 'number' ? info.batchSize : 0,
    streamArn,
    records: payloadRecords(doc.payload, shardId, streamArn),
  };
}

/** What redriving one failed batch did. */
interface RedriveOutcome {
  readonly batch: FailedBatch;
  /** Where its records came from. */
  readonly source: 'payload' | 'stream';
  readonly records: number;
  readonly stats: BatchStats | undefined;
  /** True when every record ended applied, a duplicate or parked: the batch was removed. */
  readonly settled: boolean;
  readonly error: string | undefined;
}

/**
 * Puts the batches the deployed mapping gave up on back through the consumer's fold and conditional write
 * (`cdcp failures redrive`), oldest first, each batch's records in sequence order: the same batch processor
 * the consumer runs, so a change already applied is skipped by its position and a bad record is parked. A
 * batch whose records all settle leaves the store; one that fails again stays, for the next redrive.
 *
 * @example
 * ```ts
 * const outcomes = await new FailedBatchRedriver({ store, reader, processor }).redrive();
 * ```
 */
class FailedBatchRedriver {
  readonly #store: FailedBatchStorePort;
  readonly #reader: StreamRangeReader;
  readonly #processor: Pick<BatchProcessor, 'process'> | undefined;

  public constructor(options: {
    readonly store: FailedBatchStorePort;
    readonly reader: StreamRangeReader;
    /** Needed to redrive; `list` works without it. */
    readonly processor?: Pick<BatchProcessor, 'process'>;
  }) {
    this.#store = options.store;
    this.#reader = options.reader;
    this.#processor = options.processor;
  }

  /** Every kept batch, oldest first (by the time Lambda gave up, then by shard and sequence number). */
  public async list(): Promise<FailedBatch[]> {
    const batches: FailedBatch[] = [];
    for (const key of await this.#store.keys())
      batches.push(parseFailedBatch(key, await this.#store.read(key)));
    return batches.sort((a, b) =>
      a.timestamp !== b.timestamp
        ? a.timestamp < b.timestamp
          ? -1
          : 1
        : a.shardId !== b.shardId
          ? a.shardId < b.shardId
            ? -1
            : 1
          : compareSequenceNumbers(a.startSequenceNumber, b.startSequenceNumber),
    );
  }

  /** The records of a batch: its payload's, or the range read again from the stream. */
  public async recordsOf(
    batch: FailedBatch,
  ): Promise<{ source: 'payload' | 'stream'; records: StreamRecord[] }> {
    const records = batch.records ?? (await this.#reader.read(batch));
    const ordered = [...records].sort((a, b) => compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber));
    return { source: batch.records === undefined ? 'stream' : 'payload', records: ordered };
  }

  /** Redrives every kept batch in order; stops at nothing (a batch that fails again stays kept). */
  public async redrive(batches?: readonly FailedBatch[]): Promise<RedriveOutcome[]> {
    if (this.#processor === undefined)
      throw new ProcessingError('redriving failed batches needs a processor');
    const outcomes: RedriveOutcome[] = [];
    for (const batch of batches ?? (await this.list())) {
      const { source, records } = await this.recordsOf(batch);
      try {
        const result = await this.#processor.process(records);
        const settled = result.batchItemFailures.length === 0;
        if (settled) await this.#store.remove(batch.key);
        outcomes.push({
          batch,
          source,
          records: records.length,
          stats: result.stats,
          settled,
          error: settled ? undefined : `redelivery asked from ${result.batchItemFailures[0]?.itemIdentifier}`,
        });
      } catch (error) {
        outcomes.push({
          batch,
          source,
          records: records.length,
          stats: undefined,
          settled: false,
          error: messageOf(error),
        });
      }
    }
    return outcomes;
  }
}

/** Failed batches in memory, for tests and single-process tools. */
class InMemoryFailedBatchStore implements FailedBatchStorePort {
  readonly #objects = new Map<string, string>();

  public put(key: string, json: string): void {
    this.#objects.set(key, json);
  }

  public async keys(): Promise<string[]> {
    return [...this.#objects.keys()].sort();
  }

  public async read(key: string): Promise<string> {
    const json = this.#objects.get(key);
    if (json === undefined) throw new ProcessingError(`failed batch ${key} is not kept`);
    return json;
  }

  public async remove(key: string): Promise<void> {
    this.#objects.delete(key);
  }
}

export type { FailedBatch, FailedBatchStorePort, RedriveOutcome, StreamRangeReader };
export { FailedBatchRedriver, InMemoryFailedBatchStore, parseFailedBatch };
