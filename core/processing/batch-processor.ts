import { type Clock, systemClock } from '../coordination/clock.js';
import { positiveInteger } from '../coordination/validate.js';
import { messageOf } from '../errors.js';
import type { ChangeEvent } from '../events/change.js';
import type { DecodeContext } from '../events/decoder.js';
import { DecodeError } from '../events/errors.js';
import { deaggregate, type UserRecord } from '../events/kpl.js';
import { compareSequenceNumbers } from '../events/position.js';
import { REASON } from '../events/reason-codes.js';
import type { DecoderRegistry } from '../events/registry.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import { type ParkedItem, recordParkedItem } from '../state/parked-item.js';
import type { ParkedStorePort } from '../state/parked-store-port.js';
import type { StateStorePort } from '../state/state-store-port.js';
import type { AggregateLocks } from './aggregate-locks.js';
import { AggregateApplier, type AggregateOutcome, type PayloadSource } from './apply-aggregate.js';
import { mapWithConcurrency } from './concurrency.js';
import type { ConflictPolicy } from './conflicts.js';
import { ProcessingError } from './errors.js';
import type { PendingChange } from './fold.js';
import type { BatchLatencies } from './latency.js';
import type { Projection } from './projection.js';
import { originOf, parkedRecordOf, type StreamRecord, type SubRecord } from './stream-record.js';
import {
  annotateAggregate,
  noTracing,
  type ProcessingTracer,
  TRACED_AGGREGATES_PER_BATCH,
  TracedStateStore,
} from './tracing.js';
import { retryTransient, type TransientRetry } from './transient-retry.js';

/**
 * One change of a batch as the first pass leaves it: where to decode it again from, not the change itself.
 * Small (two numbers for a plain record), so a batch's index costs little next to the batch.
 */
interface ChangeRef {
  /** Index of the Kinesis record in the batch. */
  readonly record: number;
  /** Index of the change among those its record (or sub-record) decodes to. */
  readonly index: number;
  /** The KPL sub-record it came from: decoded again from, and parked as, this. */
  readonly sub?: SubRecord;
  /** The change itself, kept when its decoder is stateful (a second decode could differ). */
  readonly change?: ChangeEvent;
}

/** One aggregate's changes in a batch, in batch (source) order, and the bytes of the records they came from. */
interface Group {
  /** The aggregate's table (whose conflict policy decides whether its state is read first). */
  readonly table: string;
  readonly refs: ChangeRef[];
  bytes: number;
}

/** Counters of one batch; the handler turns them into metrics, the local runtime into progress. */
interface BatchStats {
  records: number;
  changes: number;
  applied: number;
  duplicates: number;
  /** Changes and records parked now; one delivered again while parked is not counted again. */
  parked: number;
  /** Parked changes that left the parked store because they applied now (a deferred table resumed). */
  unparked: number;
  /** Of `parked`, changes parked as DEFERRED (their table paused or shed): waiting by design. */
  deferred: number;
  /** Records parked now because they could not be decoded (counted in `parked` too). */
  badInput: number;
  /** Records of the batch that could not be decoded, whether parked now or by an earlier delivery. */
  undecodable: number;
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

/** An aggregate that failed unexpectedly (throttling, timeout), with its first change's transaction. */
interface AggregateError {
  readonly error: unknown;
  readonly txId: string | null;
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
  /** How a table resolves changes of several sources (`conflictPolicies`). @default every table single-source */
  readonly conflictPolicy?: (table: string) => ConflictPolicy;
  /**
   * Where the batch's steps are traced: its first decoding pass, its state reads, and for the first
   * {@link TRACED_AGGREGATES_PER_BATCH} aggregates their decode, fold and write, annotated with the aggregate
   * and its source transaction. @default noTracing
   */
  readonly tracer?: ProcessingTracer;
  /** Sleeps between tries after a transient store failure. @default systemClock */
  readonly clock?: Pick<Clock, 'sleep'>;
  /**
   * Tries of a store request (a batch read, a park, an aggregate's apply) when the store fails transiently
   * (throttling, timeouts, 5xx), with jittered backoff; then the batch is left to redelivery. @default 3
   */
  readonly transientAttempts?: number;
  /** Takes the aggregate locks of a projection that declares `holdLocks`. @default none: conditional writes only */
  readonly locks?: AggregateLocks;
}

/** The aggregates read before applying (`ids`), and those of them found. */
interface Prefetched {
  readonly ids: ReadonlySet<string>;
  readonly items: ReadonlyMap<string, AggregateItem>;
}

/** Default of {@link BatchProcessorOptions.maxInFlightBytes}: below a Lambda invocation's 6 MB payload. */
const DEFAULT_MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

/** The stats of a batch before anything happened. */
function emptyStats(): BatchStats {
  return {
    records: 0,
    changes: 0,
    applied: 0,
    duplicates: 0,
    parked: 0,
    unparked: 0,
    deferred: 0,
    badInput: 0,
    undecodable: 0,
    tombstones: 0,
    quarantined: 0,
    failedAggregates: 0,
    aggregates: 0,
    stateWrites: 0,
  };
}

/** The sub-record a user record is, when it came inside a KPL aggregate. */
function subRecordOf(user: UserRecord): SubRecord | undefined {
  return user.aggregated
    ? { subSequenceNumber: user.subSequenceNumber, data: user.data, partitionKey: user.partitionKey }
    : undefined;
}

/** The raw record of each change of the batch, to park it with its full payload. */
function payloadsOf(records: readonly StreamRecord[]): PayloadSource {
  const bySequenceNumber = new Map(records.map((r) => [r.sequenceNumber, r]));
  return {
    recordOf: (item) =>
      parkedRecordOf(
        bySequenceNumber.get(item.origin.sequenceNumber)!,
        item.data === undefined
          ? undefined
          : {
              subSequenceNumber: item.origin.subSequenceNumber,
              data: item.data,
              partitionKey: item.origin.partitionKey,
            },
      ),
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
  /** The applier of the aggregates that are traced: its fold and state store are steps of the trace. */
  readonly #tracedApplier: AggregateApplier;
  readonly #tracer: ProcessingTracer;
  readonly #tracedStore: TracedStateStore;
  readonly #now: () => number;
  readonly #maxInFlightBytes: number;
  readonly #retry: TransientRetry;

  public constructor(options: BatchProcessorOptions) {
    positiveInteger('aggregateConcurrency', options.aggregateConcurrency);
    this.#maxInFlightBytes = positiveInteger(
      'maxInFlightBytes',
      options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
    );
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#tracer = options.tracer ?? noTracing;
    this.#retry = {
      clock: options.clock ?? systemClock,
      attempts: positiveInteger('transientAttempts', options.transientAttempts ?? 3),
      baseDelayMs: 50,
    };
    this.#tracedStore = new TracedStateStore(options.stateStore, this.#tracer);
    const applierOptions = {
      stateStore: options.stateStore,
      parkedStore: options.parkedStore,
      projection: options.projection,
      maxAttempts: options.maxAttempts,
      now: this.#now,
      isDeferred: options.isDeferred,
      conflictPolicy: options.conflictPolicy,
      clock: this.#retry.clock,
      transientAttempts: this.#retry.attempts,
      locks: options.locks,
    };
    this.#applier = new AggregateApplier(applierOptions);
    this.#tracedApplier = new AggregateApplier({
      ...applierOptions,
      stateStore: this.#tracedStore,
      tracer: this.#tracer,
    });
  }

  /**
   * Indexes the batch and parks its bad input, reads the aggregates' state when the projection or their
   * table's conflict strategy needs it, applies each aggregate, and reports the lowest sequence number to
   * redeliver from. `latencies`, when given, gets every applied change's source-to-applied and
   * arrival-to-applied latency, taken as its aggregate's write commits.
   */
  public async process(records: readonly StreamRecord[], latencies?: BatchLatencies): Promise<BatchResult> {
    const stats = emptyStats();
    stats.records = records.length;
    const failures: string[] = [];
    const { groups, bad } = this.#tracer.traceSync('decode', () => this.#index(records, stats));
    await this.#parkBadInput(bad, stats, failures);
    stats.aggregates = groups.size;
    const entries = [...groups.entries()];
    const prefetched = await this.#prefetch(entries);
    if (prefetched === 'failed') {
      failures.push(...entries.map(([, group]) => this.#firstSequenceNumber(records, group)));
      return this.#result(failures, stats);
    }
    const outcomes = await this.#applyAll(entries, records, prefetched, latencies);
    this.#tally(entries, outcomes, records, stats, failures);
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
  ): { groups: Map<string, Group>; bad: ParkedItem[] } {
    const groups = new Map<string, Group>();
    const bad: ParkedItem[] = [];
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
        bad.push(this.#badInput(record, undefined, error));
        continue;
      }
      for (const user of users) {
        const sub = subRecordOf(user);
        try {
          for (const { aggregateId, table, ref } of this.#refsOf(
            record,
            recordIndex,
            user.data,
            sub,
            stats,
          )) {
            const group = groups.get(aggregateId) ?? { table, refs: [], bytes: 0 };
            groups.set(aggregateId, group);
            group.refs.push(ref);
            group.bytes += user.data.byteLength;
          }
        } catch (error) {
          bad.push(this.#badInput(record, sub, error));
        }
      }
    }
    return { groups, bad };
  }

  /** Decodes one user record and references its changes (keeping them whole only for a stateful decoder). */
  #refsOf(
    record: StreamRecord,
    recordIndex: number,
    data: Uint8Array,
    sub: SubRecord | undefined,
    stats: BatchStats,
  ): { aggregateId: string; table: string; ref: ChangeRef }[] {
    const { registry, decodeContext } = this.#options;
    const decoded = registry.decode(data, originOf(record, sub), decodeContext);
    if (decoded.tombstone) stats.tombstones++;
    const keep = registry.isStateful(decoded.format);
    stats.changes += decoded.changes.length;
    return decoded.changes.map((change, index) => ({
      aggregateId: change.aggregateId,
      table: change.table,
      ref: { record: recordIndex, index, ...(sub === undefined ? {} : { sub }), ...(keep ? { change } : {}) },
    }));
  }

  /**
   * Parks the batch's bad input, counting what was not parked before; if that fails (after transient
   * retries), the batch is redelivered from it.
   */
  async #parkBadInput(bad: readonly ParkedItem[], stats: BatchStats, failures: string[]): Promise<void> {
    if (bad.length === 0) return;
    stats.undecodable = bad.length;
    try {
      const added = await retryTransient(() => this.#options.parkedStore.put(bad), this.#retry);
      stats.badInput = added;
      stats.parked += added;
    } catch (error) {
      this.#options.logger?.error('cannot park bad input; the batch will be retried from it', { error });
      failures.push(...bad.map((b) => b.record.sequenceNumber));
    }
  }

  /**
   * Reads the aggregates' state up front when the projection needs it (one request per 100 aggregates);
   * `failed` when the read failed, after logging it.
   */
  async #prefetch(entries: readonly [string, Group][]): Promise<Prefetched | 'failed'> {
    // The applier reads what the projection or the table's conflict strategy needs: read it here in one
    // request per 100 aggregates instead.
    const ids = entries
      .filter(
        ([, group]) =>
          this.#options.projection.needsPreviousState ||
          (this.#options.conflictPolicy?.(group.table).strategy ?? 'single-source') !== 'single-source',
      )
      .map(([aggregateId]) => aggregateId);
    if (ids.length === 0) return { ids: new Set(), items: new Map() };
    try {
      const items = await retryTransient(() => this.#tracedStore.getMany(ids), this.#retry);
      return { ids: new Set(ids), items };
    } catch (error) {
      this.#options.logger?.error('cannot read aggregate state; the batch will be retried', { error });
      return 'failed';
    }
  }

  /**
   * Second pass: applies each aggregate under the concurrency and byte budget, decoding its changes only
   * when its write is due, so decoded rows are alive for the aggregates in flight, not for the whole batch.
   * An unexpected failure of one aggregate is its outcome, not the batch's.
   */
  #applyAll(
    entries: readonly [string, Group][],
    records: readonly StreamRecord[],
    prefetched: Prefetched,
    latencies: BatchLatencies | undefined,
  ): Promise<(AggregateOutcome | AggregateError)[]> {
    const payloads = payloadsOf(records);
    const onApplied =
      latencies === undefined
        ? undefined
        : (changes: readonly PendingChange[]) => latencies.applied(changes, this.#now());
    return mapWithConcurrency(
      entries,
      {
        limit: this.#options.aggregateConcurrency,
        budget: this.#maxInFlightBytes,
        weight: ([, g]) => g.bytes,
      },
      ([aggregateId, group], index): Promise<AggregateOutcome | AggregateError> => {
        const known = prefetched.ids.has(aggregateId)
          ? { item: prefetched.items.get(aggregateId) }
          : undefined;
        const apply = (applier: AggregateApplier, tracer: ProcessingTracer) =>
          this.#applyOne(applier, tracer, aggregateId, group, records, payloads, known, onApplied);
        return index < TRACED_AGGREGATES_PER_BATCH
          ? this.#tracer.trace('aggregate', () => apply(this.#tracedApplier, this.#tracer))
          : apply(this.#applier, noTracing);
      },
    );
  }

  /** Decodes one aggregate's changes and applies them; an unexpected failure is its outcome, not the batch's. */
  async #applyOne(
    applier: AggregateApplier,
    tracer: ProcessingTracer,
    aggregateId: string,
    group: Group,
    records: readonly StreamRecord[],
    payloads: PayloadSource,
    prefetched: { readonly item: AggregateItem | undefined } | undefined,
    onApplied: ((changes: readonly PendingChange[]) => void) | undefined,
  ): Promise<AggregateOutcome | AggregateError> {
    let changes: PendingChange[] | undefined;
    try {
      changes = tracer.traceSync('decode', () => this.#decodeGroup(aggregateId, group.refs, records));
      annotateAggregate(tracer, aggregateId, changes);
      return await applier.apply(aggregateId, changes, payloads, prefetched, onApplied);
    } catch (error) {
      return { error, txId: changes?.[0]?.change.txId ?? null };
    }
  }

  /** Adds the aggregates' outcomes to the stats, and where each failed one is to be redelivered from. */
  #tally(
    entries: readonly [string, Group][],
    outcomes: readonly (AggregateOutcome | AggregateError)[],
    records: readonly StreamRecord[],
    stats: BatchStats,
    failures: string[],
  ): void {
    const { logger } = this.#options;
    for (const [index, outcome] of outcomes.entries()) {
      const [aggregateId, group] = entries[index]!;
      if ('error' in outcome) {
        // An unexpected failure (throttling, timeout): nothing is known to be applied, so redeliver from the
        // aggregate's first change; changes that did apply are skipped as duplicates then.
        logger?.error('aggregate failed; the batch will be retried from it', {
          aggregateId,
          txId: outcome.txId,
          sequenceNumber: this.#firstSequenceNumber(records, group),
          error: outcome.error,
        });
        stats.failedAggregates++;
        failures.push(this.#firstSequenceNumber(records, group));
        continue;
      }
      stats.applied += outcome.applied;
      stats.duplicates += outcome.duplicates;
      stats.parked += outcome.parked;
      stats.unparked += outcome.unparked;
      stats.deferred += outcome.deferred ?? 0;
      stats.stateWrites += outcome.writes;
      if (outcome.quarantined) stats.quarantined++;
      if (outcome.poison !== undefined)
        logger?.warn('change parked as poison; its aggregate is quarantined until replayed', {
          aggregateId,
          ...outcome.poison,
        });
      if (outcome.failure !== undefined) {
        stats.failedAggregates++;
        failures.push(outcome.failure.sequenceNumber);
        logger?.warn('change failed; it will be redelivered', {
          aggregateId,
          txId: outcome.failure.txId,
          sequenceNumber: outcome.failure.sequenceNumber,
          error: outcome.failure.error.message,
        });
      }
    }
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
      const origin = originOf(record, ref.sub);
      const change =
        ref.change ??
        registry.decode(ref.sub?.data ?? Buffer.from(record.data, 'base64'), origin, decodeContext).changes[
          ref.index
        ];
      if (change?.aggregateId !== aggregateId)
        throw new ProcessingError(
          `record ${record.sequenceNumber}/${origin.subSequenceNumber} decoded to another change the second time; its decoder must be marked stateful`,
        );
      return { change, origin, data: ref.sub?.data };
    });
  }

  #firstSequenceNumber(records: readonly StreamRecord[], group: Group): string {
    return records[group.refs[0]!.record]!.sequenceNumber;
  }

  #result(failures: readonly string[], stats: BatchStats): BatchResult {
    if (failures.length === 0) return { batchItemFailures: [], stats };
    const lowest = failures.reduce((a, b) => (compareSequenceNumbers(a, b) <= 0 ? a : b));
    return { batchItemFailures: [{ itemIdentifier: lowest }], stats };
  }

  #badInput(record: StreamRecord, sub: SubRecord | undefined, error: unknown): ParkedItem {
    const code = error instanceof DecodeError ? error.code : REASON.INVALID_ENVELOPE;
    const message = messageOf(error);
    return recordParkedItem(parkedRecordOf(record, sub), code, message, new Date(this.#now()));
  }
}

export type { BatchProcessorOptions, BatchResult, BatchStats, ChangeRef, ProcessorLogger, StreamRecord };
export { BatchProcessor, DEFAULT_MAX_IN_FLIGHT_BYTES, emptyStats, parkedRecordOf };
