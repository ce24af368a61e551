/**
 * One Kinesis record from bytes to changes: KPL de-aggregation, then the registry for each user record. Each
 * user record gets its own outcome, so a consumer parks exactly the sub-record that failed.
 */
import type { RecordOrigin } from './change.js';
import type { DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import type { KinesisEventRecord } from './kinesis-event.js';
import { type DeaggregateOptions, deaggregate } from './kpl.js';
import type { DecodedRecord, DecoderRegistry } from './registry.js';

/** The outcome of one user record: decoded, or a {@link DecodeError} to park with its `code`. */
type UserRecordOutcome =
  | {
      readonly origin: RecordOrigin;
      readonly data: Uint8Array;
      readonly decoded: DecodedRecord;
      readonly error?: undefined;
    }
  | {
      readonly origin: RecordOrigin;
      readonly data: Uint8Array;
      readonly decoded?: undefined;
      readonly error: DecodeError;
    };

interface KinesisRecordOutcome {
  /** One per user record, in sub-sequence order; one for the whole record when it is corrupt KPL. */
  readonly outcomes: readonly UserRecordOutcome[];
  /** True when the Kinesis record was a KPL aggregate (false also for corrupt KPL, which is not unpacked). */
  readonly aggregated: boolean;
  /** Sub-records dropped outside the shard's hash range (see {@link deaggregate}). */
  readonly droppedOutsideHashRange: number;
}

/**
 * De-aggregates one Kinesis record and decodes each user record. Never throws a {@link DecodeError}: bad input
 * comes back as an outcome with `error`.
 *
 * @example
 * ```ts
 * const { outcomes } = decodeKinesisRecord(registry, record, context);
 * for (const o of outcomes) if (o.error) park(o.origin, o.data, o.error.code);
 * ```
 */
function decodeKinesisRecord(
  registry: DecoderRegistry,
  record: KinesisEventRecord,
  context: DecodeContext,
  options: DeaggregateOptions = {},
): KinesisRecordOutcome {
  const originOf = (partitionKey: string, subSequenceNumber: number): RecordOrigin => ({
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber,
    partitionKey,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
  });
  let users: ReturnType<typeof deaggregate>;
  try {
    users = deaggregate(record, options);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return {
      outcomes: [{ origin: originOf(record.partitionKey, 0), data: record.data, error }],
      aggregated: false,
      droppedOutsideHashRange: 0,
    };
  }
  const outcomes = users.records.map((user): UserRecordOutcome => {
    const origin = originOf(user.partitionKey, user.subSequenceNumber);
    try {
      return { origin, data: user.data, decoded: registry.decode(user.data, origin, context) };
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return { origin, data: user.data, error };
    }
  });
  return { outcomes, aggregated: users.aggregated, droppedOutsideHashRange: users.droppedOutsideHashRange };
}

export type { KinesisRecordOutcome, UserRecordOutcome };
export { decodeKinesisRecord };
