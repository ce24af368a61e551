import { PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { OptionsError } from '../errors.js';
import { ProducerError, RecordsRejectedError } from './errors.js';
import { aggregate, aggregatedSize } from './kpl-aggregator.js';

/** PutRecords limits: 500 records and 5 MiB per request (partition keys count towards the bytes). */
const MAX_RECORDS_PER_REQUEST = 500;
const MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024;

/** Errors after which the same request may succeed later. */
const RETRYABLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'InternalFailure',
  'ServiceUnavailable',
  'ThrottlingException',
  'LimitExceededException',
  'KMSThrottlingException',
]);

interface ProducerRecord {
  /** The aggregate id: one aggregate always lands in one shard, in order. */
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly explicitHashKey?: string;
}

/** Where an accepted record landed. */
interface Accepted {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Index within a KPL aggregate; 0 for a record sent on its own. */
  readonly subSequenceNumber: number;
}

interface ProducerStats {
  /** PutRecords requests sent. */
  requests: number;
  accepted: number;
  /** Entries retried after a throttle or internal failure. */
  retries: number;
  /** Records waiting, in flight or held back behind an earlier record of their aggregate. */
  pending: number;
}

interface ProducerOptions {
  /** A KinesisClient, or anything that answers PutRecords like one. */
  readonly kinesis: { send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> };
  readonly streamName: string;
  /** PutRecords requests in flight at once. @default 4 */
  readonly maxInFlightRequests?: number;
  /** @default 500 (the PutRecords limit) */
  readonly maxRecordsPerRequest?: number;
  /** First retry delay; doubles per attempt with full jitter. @default 50 */
  readonly retryBaseDelayMs?: number;
  /** @default 5000 */
  readonly retryMaxDelayMs?: number;
  /**
   * Pack up to this many pending records of one partition key into one KPL aggregated record (the consumer
   * de-aggregates). 1 sends every record on its own. Aggregation is what lets a hot aggregate move faster
   * than one round trip per change while only one record of it is ever in flight.
   * @default 1
   */
  readonly aggregateMaxRecords?: number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Kinesis takes partition keys of 1 to 256 characters. */
const MAX_PARTITION_KEY_CHARS = 256;

/** Why Kinesis would refuse this record whatever the retries, or undefined. */
function invalidRecord(record: ProducerRecord, bytes: number): string | undefined {
  const keyLength = record.partitionKey.length;
  if (keyLength < 1 || keyLength > MAX_PARTITION_KEY_CHARS)
    return `partition key must be 1 to ${MAX_PARTITION_KEY_CHARS} characters, received ${keyLength} (${JSON.stringify(record.partitionKey.slice(0, 40))}…); use a shorter aggregate id or hash it`;
  if (bytes > MAX_RECORD_BYTES)
    return `record of partition key ${JSON.stringify(record.partitionKey)} is ${bytes} bytes with its key, above Kinesis' limit of ${MAX_RECORD_BYTES}`;
  return undefined;
}

/** One PutRecords entry: a record on its own, or a KPL aggregate of one key's next records. */
interface Unit {
  readonly key: string;
  readonly entries: readonly Entry[];
  readonly data: Uint8Array;
  readonly bytes: number;
}

/** A Kinesis record holds at most 1 MiB, partition key included. */
const MAX_RECORD_BYTES = 1024 * 1024;

interface Entry {
  readonly record: ProducerRecord;
  readonly bytes: number;
  readonly settle: (result: Accepted | Error) => void;
  attempts: number;
}

/**
 * Publishes change records to Kinesis with PutRecords (docs/architecture.md §9) without ever reordering one
 * aggregate's records.
 *
 * PutRecords can accept a later entry and refuse an earlier one in the same request, and a retry then lands
 * after it. So at most one record per partition key is in flight at any time: an aggregate's next record is
 * sent only once the previous one was accepted. Other aggregates fill the request meanwhile. Throttled
 * entries are retried with jittered exponential backoff; `publish` resolves only when all its records are
 * accepted, so throttling is backpressure to the caller, never loss.
 *
 * @example
 * ```ts
 * const producer = new Producer({ kinesis, streamName: 'cdcp-changes' });
 * await producer.publish([{ partitionKey: 'public.orders#1', data: bytes }]);
 * ```
 */
class Producer {
  readonly #options: Required<Omit<ProducerOptions, 'kinesis' | 'streamName'>> & ProducerOptions;
  /** Per partition key, records not yet accepted; the head may be in flight. */
  readonly #queues = new Map<string, Entry[]>();
  /** Keys whose head may be sent now, in fair (insertion) order. */
  readonly #ready = new Set<string>();
  #inFlight = 0;
  #closed = false;
  readonly #stats: ProducerStats = { requests: 0, accepted: 0, retries: 0, pending: 0 };
  readonly #timers = new Set<NodeJS.Timeout>();

  public constructor(options: ProducerOptions) {
    const maxRecords = options.maxRecordsPerRequest ?? MAX_RECORDS_PER_REQUEST;
    if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_RECORDS_PER_REQUEST)
      throw new OptionsError(
        'maxRecordsPerRequest',
        maxRecords,
        'must be an integer from 1 to 500 (PutRecords takes at most 500)',
      );
    const inFlight = options.maxInFlightRequests ?? 4;
    if (!Number.isInteger(inFlight) || inFlight < 1)
      throw new OptionsError('maxInFlightRequests', inFlight, 'must be an integer of at least 1');
    this.#options = {
      ...options,
      maxInFlightRequests: inFlight,
      maxRecordsPerRequest: maxRecords,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 50,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 5000,
      random: options.random ?? Math.random,
      aggregateMaxRecords: options.aggregateMaxRecords ?? 1,
    };
    if (!Number.isInteger(this.#options.aggregateMaxRecords) || this.#options.aggregateMaxRecords < 1)
      throw new OptionsError(
        'aggregateMaxRecords',
        options.aggregateMaxRecords,
        'must be an integer of at least 1 (1 sends each record on its own)',
      );
  }

  public get stats(): Readonly<ProducerStats> {
    return { ...this.#stats };
  }

  /**
   * Queues records and resolves with where each landed, in input order, once all are accepted. Records of
   * one partition key are written in the order given, also across calls.
   */
  public publish(records: readonly ProducerRecord[]): Promise<Accepted[]> {
    const all = Promise.all(
      records.map(
        (record) =>
          new Promise<Accepted>((resolve, reject) => {
            const bytes = record.data.byteLength + Buffer.byteLength(record.partitionKey);
            // A record Kinesis can never take is refused here, alone: sent, it would fail its whole request.
            const problem = invalidRecord(record, bytes);
            if (problem !== undefined) {
              reject(new RecordsRejectedError(problem, [record.partitionKey]));
              return;
            }
            if (this.#closed) {
              reject(new ProducerError('the producer is closed; create a new one to publish'));
              return;
            }
            const entry: Entry = {
              record,
              bytes,
              attempts: 0,
              settle: (result) => (result instanceof Error ? reject(result) : resolve(result)),
            };
            const queue = this.#queues.get(record.partitionKey);
            if (queue === undefined) {
              this.#queues.set(record.partitionKey, [entry]);
              this.#ready.add(record.partitionKey);
            } else queue.push(entry);
            this.#stats.pending++;
          }),
      ),
    );
    this.#pump();
    return all;
  }

  /** Stops retry timers; records still queued are rejected. */
  public close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const queue of this.#queues.values())
      for (const e of queue) e.settle(new ProducerError('producer closed before the record was accepted'));
    this.#queues.clear();
    this.#ready.clear();
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.#options.maxInFlightRequests && this.#ready.size > 0) {
      const units: Unit[] = [];
      let bytes = 0;
      for (const key of this.#ready) {
        const unit = this.#unitOf(key);
        if (units.length >= this.#options.maxRecordsPerRequest || bytes + unit.bytes > MAX_BYTES_PER_REQUEST)
          break;
        units.push(unit);
        bytes += unit.bytes;
      }
      for (const u of units) this.#ready.delete(u.key);
      this.#inFlight++;
      this.#stats.requests++;
      void this.#send(units).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  /** The key's next record, or its next records as one KPL aggregate when aggregation is on. */
  #unitOf(key: string): Unit {
    const queue = this.#queues.get(key)!;
    const head = queue[0]!;
    const max = Math.min(this.#options.aggregateMaxRecords, queue.length);
    if (max === 1 || head.record.explicitHashKey !== undefined)
      return { key, entries: [head], data: head.record.data, bytes: head.bytes };
    const lengths: number[] = [];
    let count = 0;
    while (count < max) {
      const next = queue[count]!;
      if (next.record.explicitHashKey !== undefined) break;
      lengths.push(next.record.data.byteLength);
      if (aggregatedSize(key, lengths) + Buffer.byteLength(key) > MAX_RECORD_BYTES) {
        lengths.pop();
        break;
      }
      count++;
    }
    if (count <= 1) return { key, entries: [head], data: head.record.data, bytes: head.bytes };
    const entries = queue.slice(0, count);
    const data = aggregate(
      key,
      entries.map((e) => e.record.data),
    );
    return { key, entries, data, bytes: data.byteLength + Buffer.byteLength(key) };
  }

  async #send(units: readonly Unit[]): Promise<void> {
    let response: PutRecordsCommandOutput;
    try {
      response = await this.#options.kinesis.send(
        new PutRecordsCommand({
          StreamName: this.#options.streamName,
          Records: units.map((u) => ({
            PartitionKey: u.key,
            Data: u.data,
            ExplicitHashKey: u.entries.length === 1 ? u.entries[0]!.record.explicitHashKey : undefined,
          })),
        }),
      );
    } catch (error) {
      const name = (error as Error).name;
      if (RETRYABLE_ERRORS.has(name) || (error as { $retryable?: unknown }).$retryable !== undefined) {
        for (const u of units) this.#retry(u.entries[0]!);
        return;
      }
      this.#reject(units, error as Error);
      return;
    }
    const results = response.Records ?? [];
    const rejected: Unit[] = [];
    units.forEach((unit, i) => {
      const result = results[i];
      if (result?.ErrorCode === undefined && result?.SequenceNumber !== undefined) {
        this.#accept(unit, result.ShardId ?? '', result.SequenceNumber);
      } else if (result?.ErrorCode === undefined || RETRYABLE_ERRORS.has(result.ErrorCode)) {
        this.#retry(unit.entries[0]!);
      } else rejected.push(unit);
    });
    if (rejected.length > 0)
      this.#reject(rejected, new Error(`PutRecords refused ${rejected.length} record(s)`));
  }

  #accept(unit: Unit, shardId: string, sequenceNumber: string): void {
    // Closed while the request was in flight: its records were already settled by close().
    const queue = this.#queues.get(unit.key);
    if (queue === undefined) return;
    queue.splice(0, unit.entries.length);
    if (queue.length === 0) this.#queues.delete(unit.key);
    else this.#ready.add(unit.key);
    this.#stats.accepted += unit.entries.length;
    this.#stats.pending -= unit.entries.length;
    for (const [subSequenceNumber, entry] of unit.entries.entries())
      entry.settle({ shardId, sequenceNumber, subSequenceNumber });
  }

  /** The key stays blocked (its later records held back) until the retried head is accepted. */
  #retry(entry: Entry): void {
    if (this.#closed) return;
    entry.attempts++;
    this.#stats.retries++;
    const cap = Math.min(
      this.#options.retryMaxDelayMs,
      this.#options.retryBaseDelayMs * 2 ** (entry.attempts - 1),
    );
    const delay = cap * this.#options.random();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#ready.add(entry.record.partitionKey);
      this.#pump();
    }, delay);
    this.#timers.add(timer);
  }

  /**
   * A record Kinesis will never take: it and the records held back behind it are rejected together, so no
   * later change of that aggregate is written without it.
   */
  #reject(units: readonly Unit[], cause: Error): void {
    for (const unit of units) {
      const queue = this.#queues.get(unit.key) ?? [];
      this.#queues.delete(unit.key);
      this.#ready.delete(unit.key);
      const error = new RecordsRejectedError(
        `Kinesis refused the record of partition key ${JSON.stringify(unit.key)} (${unit.bytes} bytes): ${cause.message}; ${queue.length - unit.entries.length} later record(s) of that key were not sent`,
        [unit.key],
        { cause },
      );
      for (const e of queue) {
        this.#stats.pending--;
        e.settle(error);
      }
    }
  }
}

export type { Accepted, ProducerOptions, ProducerRecord, ProducerStats };
export { Producer };
