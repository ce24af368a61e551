import type { ChangeEvent } from '../events/change.js';
import { padUnsigned } from '../events/position.js';
import type { ReasonCode } from '../events/reason-codes.js';

/** The raw Kinesis record a parked change came from: enough to replay or inspect it byte for byte. */
interface ParkedRecord {
  /** Base64 record data, exactly as delivered. */
  readonly data: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
  readonly shardId: string;
  /** Epoch milliseconds. */
  readonly approximateArrivalTimestamp: number;
  readonly eventSourceArn: string;
}

/** One parked change or undecodable record, with its full payload and the reason. */
interface ParkedItem {
  /** `AGG#<aggregateId>` for a decoded change, `BAD#<shardId>` for a record that could not be decoded. */
  readonly pk: string;
  /** Orders one aggregate's parked changes in source order. */
  readonly sk: string;
  readonly reason: ReasonCode;
  readonly message: string;
  readonly aggregateId: string | undefined;
  readonly change: ChangeEvent | undefined;
  readonly record: ParkedRecord;
  readonly attempts: number;
  readonly parkedAt: string;
}

const AGGREGATE_PREFIX = 'AGG#';
const BAD_INPUT_PREFIX = 'BAD#';

/** Digits of a Kinesis sequence number (`0|([1-9]\d{0,128})`). */
const SEQUENCE_DIGITS = 129;

function recordSortKey(record: Pick<ParkedRecord, 'sequenceNumber' | 'subSequenceNumber'>): string {
  return `${padUnsigned(record.sequenceNumber, SEQUENCE_DIGITS, 'sequence number')}#${padUnsigned(record.subSequenceNumber, 10, 'sub-sequence number')}`;
}

/** Keys of a parked change: per aggregate, sorted by source position, then by arrival. */
function changeKeys(change: ChangeEvent, record: ParkedRecord): { pk: string; sk: string } {
  return {
    pk: `${AGGREGATE_PREFIX}${change.aggregateId}`,
    sk: `${change.position}#${recordSortKey(record)}`,
  };
}

/** Keys of an undecodable record: per shard, in arrival order. */
function badInputKeys(record: ParkedRecord): { pk: string; sk: string } {
  return { pk: `${BAD_INPUT_PREFIX}${record.shardId}`, sk: recordSortKey(record) };
}

/**
 * A whole record parked before or without decoding (bad input, or given up on by the event source mapping).
 *
 * @example
 * ```ts
 * const item = recordParkedItem(record, 'NOT_JSON', 'record data is not UTF-8 JSON', new Date());
 * ```
 */
function recordParkedItem(record: ParkedRecord, reason: ReasonCode, message: string, at: Date): ParkedItem {
  return {
    ...badInputKeys(record),
    reason,
    message,
    aggregateId: undefined,
    change: undefined,
    record,
    attempts: 0,
    parkedAt: at.toISOString(),
  };
}

export type { ParkedItem, ParkedRecord };
export { AGGREGATE_PREFIX, BAD_INPUT_PREFIX, badInputKeys, changeKeys, recordParkedItem };
