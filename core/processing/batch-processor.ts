import type { ChangeEvent, RecordOrigin } from '../events/change.js';
import type { DecodeContext } from '../events/decoder.js';
import { DecodeError } from '../events/errors.js';
import { deaggregate, type UserRecord } from '../events/kpl.js';
import { compareSequenceNumbers } from '../events/position.js';
import { REASON } from '../events/reason-codes.js';
import type { DecoderRegistry } from '../events/registry.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import { type ParkedItem, type ParkedRecord, recordParkedItem } from '../state/parked-item.js';
import type { ParkedStorePort } from '../state/parked-store-port.js';
import type { StateStorePort } from '../state/state-store-port.js';
import { AggregateApplier, type AggregateOutcome, type PayloadSource } from './apply-aggregate.js';
import { mapWithConcurrency } from './concurrency.js';
import { ProcessingError } from './errors.js';
import type { PendingChange } from './fold.js';
import type { Projection } from './projection.js';

/** One Kinesis record as the consumer sees it (a Lambda `KinesisStreamRecord`, flattened). */
interface StreamRecord {
  /** Base64 data, as in the Lambda event. */
  readonly data: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  /** Seconds since the epoch, as in the Lambda event. */
  readonly approximateArrivalTimestamp: number;
  readonly shardId: string;
  readonly eventSourceArn: string;
  /** Set when replaying a parked KPL sub-record, so it keeps its original position. */
  readonly subSequenceNumber?: number;
}

/**
 * One change of a batch as the first pass leaves it: where to decode it again from, not the change itself.
 * Small (three numbers for a plain record), so a batch's index costs little next to the batch.
 */
interface ChangeRef {
  /** Index of the Kinesis record in the batch. */
  readonly record: number;
  readonly subSequenceNumber: number;
  /** Index of the change among those its record decodes to. */
  readonly index: number;
  /** A KPL sub-record's own bytes and partition key: decoded again from, and parked as, these. */
  readonly user?: { readonly data: Uint8Array; readonly partitionKey: string };
  /** The change itself, kept when its decoder is stateful (a second decode could differ). */
  readonly change?: ChangeEvent;
}

/** Counters of one batch; the handler turns them into metrics, the local runtime into progress. */
interface BatchStats {
  records: number;
  changes: number;
  applied: number;
  duplicates: number;
  parked: number;
  badInput: number;
  tombstones: number;
  quarantined: number;
  failedAggregates: number;
  aggregates: number;
  stateWrites: number;
}

interface BatchResult {
  /** Lambda's partial batch response: at most one item, the lowest failing sequence number. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly stats: BatchStats;
}

/** The subset of a logger the processor uses; Powertools Logger fits. */
interface ProcessorLogger {
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

interface BatchProcessorOptions {
  readonly registry: DecoderRegistry;
  readonly decodeContext: DecodeContext;
  readonly stateStore: StateStorePort;
  readonly parkedStore: ParkedStorePort;
  readonly projection: Projection;
  readonly maxAttempts: number;
  /** Aggregates applied concurrently. */
  readonly aggregateConcurrency: number;
  /**
   * Record bytes of the aggregates applied at once: their changes are decoded when their write is due and
   * are alive until it ends, so this bounds the decoded rows held, whatever the aggregates' sizes. One
   * aggregate is always let in, however large. @default DEFAULT_MAX_IN_FLIGHT_BYTES (4 MiB)
   */
  readonly maxInFlightBytes?: number;
  readonly logger?: ProcessorLogger;
  readonly now?: () => number;
  /** Whether a table's changes are deferred now (paused or shed). @default never */
  readonly isDeferred?: (table: string) => boolean;
}

/** Default of {@link BatchProcessorOptions.maxInFlightBytes}: below a Lambda invocation's 6 MB payload. */
const DEFAULT_MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

function emptyStats(): BatchStats {
  return {
    records: 0,
    changes: 0,
    applied: 0,
    duplicates: 0,
    parked: 0,
    badInput: 0,
    tombstones: 0,
    quarantined: 0,
    failedAggregates: 0,
    aggregates: 0,
    stateWrites: 0,
  };
}

function originOf(record: StreamRecord, user: UserRecord): RecordOrigin {
  return {
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: user.aggregated ? user.subSequenceNumber : (record.subSequenceNumber ?? 0),
    partitionKey: user.partitionKey,
    approximateArrivalTimestamp: Math.round(record.approximateArrivalTimestamp * 1000),
  };
}

/**
 * The record as it is parked: its full payload and where it came from. A KPL sub-record is parked as itself,
 * with its own data and partition key (decoders take the record key from it), so a replay decodes just it.
 */
function parkedRecordOf(
  record: StreamRecord,
  subSequenceNumber = 0,
  user?: { readonly data: Uint8Array; readonly partitionKey: string },
): ParkedRecord {
  return {
    data: user === undefined ? record.data : Buffer.from(user.data).toString('base64'),
    partitionKey: user?.partitionKey ?? record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber,
    shardId: record.shardId,
    approximateArrivalTimestamp: Math.round(record.approximateArrivalTimestamp * 1000),
    eventSourceArn: record.eventSourceArn,
  };
}

/**
 * Processes one batch of one shard (docs/architecture.md §2): decode ▸ group by aggregate ▸ fold ▸ one
 * conditional write per aggregate. Bad input is parked with its reason and the batch goes on; an aggregate
 * that fails stops at its first failing change while the others go on, and the lowest failing sequence
 * number is returned as Lambda's batch item failure so redelivery starts there.
 *
 * @example
 * ```ts
 * const { batchItemFailures, stats } = await processor.process(records);
 * ```
 */
class BatchProcessor {
  readonly #options: BatchProcessorOptions;
  readonly #applier: AggregateApplier;
  readonly #now: () => number;
  readonly #maxInFlightBytes: number;

  public constructor(options: BatchProcessorOptions) {
    if (!Number.isInteger(options.aggregateConcurrency) || options.aggregateConcurrency < 1)
      throw new RangeError(
        `aggregateConcurrency must be an integer >= 1, received ${options.aggregateConcurrency}`,
      );
    const maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
    if (!Number.isInteger(maxInFlightBytes) || maxInFlightBytes < 1)
      throw new RangeError(`maxInFlightBytes must be an integer >= 1, received ${options.maxInFlightBytes}`);
    this.#maxInFlightBytes = maxInFlightBytes;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#applier = new AggregateApplier({
      stateStore: options.stateStore,
      parkedStore: options.parkedStore,
      projection: options.projection,
      maxAttempts: options.maxAttempts,
      now: this.#now,
      isDeferred: options.isDeferred,
    });
  }

  public async process(records: readonly StreamRecord[]): Promise<BatchResult> {
    const stats = emptyStats();
    stats.records = records.length;
    const failures: string[] = [];
    const { groups, bad } = this.#index(records, stats);

    if (bad.length > 0) {
      try {
        await this.#options.parkedStore.put(bad);
        stats.badInput = bad.length;
        stats.parked += bad.length;
      } catch (error) {
        this.#options.logger?.error('cannot park bad input; the batch will be retried from it', { error });
        failures.push(...bad.map((b) => b.record.sequenceNumber));
      }
    }

    stats.aggregates = groups.size;
    const recordOf = new Map<string, StreamRecord>();
    for (const record of records) recordOf.set(record.sequenceNumber, record);
    const payloads: PayloadSource = {
      payloadOf: (item) => {
        const record = recordOf.get(item.origin.sequenceNumber)!;
        // A KPL sub-record is parked as its own payload, so a replay decodes just that change.
        const data = item.data === undefined ? record.data : Buffer.from(item.data).toString('base64');
        return { data, eventSourceArn: record.eventSourceArn };
      },
    };
    const firstSequenceNumber = (refs: readonly ChangeRef[]) => records[refs[0]!.record]!.sequenceNumber;
    let prefetched: Map<string, AggregateItem> | undefined;
    if (this.#options.projection.needsPreviousState && groups.size > 0) {
      try {
        prefetched = await this.#options.stateStore.getMany([...groups.keys()]);
      } catch (error) {
        this.#options.logger?.error('cannot read aggregate state; the batch will be retried', { error });
        failures.push(...[...groups.values()].map((g) => firstSequenceNumber(g.refs)));
        return this.#result(failures, stats);
      }
    }

    const entries = [...groups.entries()];
    const outcomes = await mapWithConcurrency(
      entries,
      {
        limit: this.#options.aggregateConcurrency,
        budget: this.#maxInFlightBytes,
        weight: ([, g]) => g.bytes,
      },
      async ([aggregateId, group]): Promise<AggregateOutcome | { error: unknown }> => {
        try {
          // Second pass: the aggregate's changes are decoded only now that its write is due, so decoded rows
          // are alive for the aggregates in flight, not for the whole batch.
          return await this.#applier.apply(
            aggregateId,
            this.#decodeGroup(aggregateId, group.refs, records),
            payloads,
            prefetched === undefined ? 'unknown' : prefetched.get(aggregateId),
          );
        } catch (error) {
          return { error };
        }
      },
    );

    for (const [index, outcome] of outcomes.entries()) {
      const [aggregateId, group] = entries[index]!;
      if ('error' in outcome) {
        // An unexpected failure (throttling, timeout): nothing is known to be applied, so redeliver from the
        // aggregate's first change; changes that did apply are skipped as duplicates then.
        this.#options.logger?.error('aggregate failed; the batch will be retried from it', {
          aggregateId,
          error: outcome.error,
        });
        stats.failedAggregates++;
        failures.push(firstSequenceNumber(group.refs));
        continue;
      }
      stats.applied += outcome.applied;
      stats.duplicates += outcome.duplicates;
      stats.parked += outcome.parked;
      stats.stateWrites += outcome.writes;
      if (outcome.quarantined) stats.quarantined++;
      if (outcome.failure !== undefined) {
        stats.failedAggregates++;
        failures.push(outcome.failure.sequenceNumber);
        this.#options.logger?.warn('change failed; it will be redelivered', {
          aggregateId,
          sequenceNumber: outcome.failure.sequenceNumber,
          error: outcome.failure.error.message,
        });
      }
    }
    return this.#result(failures, stats);
  }

  /**
   * First pass: decodes every record once to learn what grouping needs (each change's aggregate id and where
   * it came from), keeps no decoded rows, and parks what cannot be decoded. Aggregates keep the order of
   * their first change, and each aggregate's changes keep batch (source) order.
   */
  #index(
    records: readonly StreamRecord[],
    stats: BatchStats,
  ): { groups: Map<string, { refs: ChangeRef[]; bytes: number }>; bad: ParkedItem[] } {
    const groups = new Map<string, { refs: ChangeRef[]; bytes: number }>();
    const bad: ParkedItem[] = [];
    const { registry, decodeContext } = this.#options;
    for (const [recordIndex, record] of records.entries()) {
      let users: readonly UserRecord[];
      try {
        // KPL aggregates arrive as one Kinesis record; each user record keeps its own sub-sequence number.
        users = deaggregate({
          data: Buffer.from(record.data, 'base64'),
          partitionKey: record.partitionKey,
          sequenceNumber: record.sequenceNumber,
        }).records;
      } catch (error) {
        bad.push(this.#badInput(record, 0, error));
        continue;
      }
      for (const user of users) {
        const origin = originOf(record, user);
        try {
          const decoded = registry.decode(user.data, origin, decodeContext);
          if (decoded.tombstone) stats.tombstones++;
          const keep = registry.isStateful(decoded.format);
          for (const [index, change] of decoded.changes.entries()) {
            stats.changes++;
            const ref: ChangeRef = {
              record: recordIndex,
              subSequenceNumber: origin.subSequenceNumber,
              index,
              ...(user.aggregated ? { user: { data: user.data, partitionKey: user.partitionKey } } : {}),
              ...(keep ? { change } : {}),
            };
            const group = groups.get(change.aggregateId);
            if (group === undefined)
              groups.set(change.aggregateId, { refs: [ref], bytes: user.data.byteLength });
            else {
              group.refs.push(ref);
              group.bytes += user.data.byteLength;
            }
          }
        } catch (error) {
          bad.push(
            this.#badInput(record, origin.subSequenceNumber, error, user.aggregated ? user : undefined),
          );
        }
      }
    }
    return { groups, bad };
  }

  /** Second pass: decodes one aggregate's changes again from their records (they decoded in the first pass). */
  #decodeGroup(
    aggregateId: string,
    refs: readonly ChangeRef[],
    records: readonly StreamRecord[],
  ): PendingChange[] {
    const { registry, decodeContext } = this.#options;
    return refs.map((ref) => {
      const record = records[ref.record]!;
      const origin: RecordOrigin = {
        shardId: record.shardId,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: ref.subSequenceNumber,
        partitionKey: ref.user?.partitionKey ?? record.partitionKey,
        approximateArrivalTimestamp: Math.round(record.approximateArrivalTimestamp * 1000),
      };
      const change =
        ref.change ??
        registry.decode(ref.user?.data ?? Buffer.from(record.data, 'base64'), origin, decodeContext).changes[
          ref.index
        ];
      if (change?.aggregateId !== aggregateId)
        throw new ProcessingError(
          `record ${record.sequenceNumber}/${ref.subSequenceNumber} decoded to another change the second time; its decoder must be marked stateful`,
        );
      return { change, origin, data: ref.user?.data };
    });
  }

  #result(failures: readonly string[], stats: BatchStats): BatchResult {
    if (failures.length === 0) return { batchItemFailures: [], stats };
    const lowest = failures.reduce((a, b) => (compareSequenceNumbers(a, b) <= 0 ? a : b));
    return { batchItemFailures: [{ itemIdentifier: lowest }], stats };
  }

  #badInput(
    record: StreamRecord,
    subSequenceNumber: number,
    error: unknown,
    user?: { readonly data: Uint8Array; readonly partitionKey: string },
  ): ParkedItem {
    const code = error instanceof DecodeError ? error.code : REASON.INVALID_ENVELOPE;
    const message = error instanceof Error ? error.message : String(error);
    return recordParkedItem(
      parkedRecordOf(record, subSequenceNumber, user),
      code,
      message,
      new Date(this.#now()),
    );
  }
}

export type { BatchProcessorOptions, BatchResult, BatchStats, ChangeRef, ProcessorLogger, StreamRecord };
export { BatchProcessor, DEFAULT_MAX_IN_FLIGHT_BYTES, emptyStats, parkedRecordOf };
