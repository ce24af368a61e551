import type { RecordOrigin } from '../events/change.js';
import type { ParkedRecord } from '../state/parked-item.js';

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

/** A KPL user record inside a Kinesis record: its own bytes and partition key, and its place in the record. */
interface SubRecord {
  readonly subSequenceNumber: number;
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

/** Where a change decoded from `record` (or from its KPL sub-record `sub`) came from. */
function originOf(record: StreamRecord, sub?: SubRecord): RecordOrigin {
  return {
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: sub?.subSequenceNumber ?? record.subSequenceNumber ?? 0,
    partitionKey: sub?.partitionKey ?? record.partitionKey,
    approximateArrivalTimestamp: Math.round(record.approximateArrivalTimestamp * 1000),
  };
}

/**
 * The record as it is parked: its full payload and where it came from. A KPL sub-record is parked as itself,
 * with its own data and partition key (decoders take the record key from it), so a replay decodes just it.
 *
 * @example
 * ```ts
 * const item = recordParkedItem(parkedRecordOf(record), REASON.RECORD_TOO_OLD, 'too old', new Date());
 * ```
 */
function parkedRecordOf(record: StreamRecord, sub?: SubRecord): ParkedRecord {
  const origin = originOf(record, sub);
  return {
    data: sub === undefined ? record.data : Buffer.from(sub.data).toString('base64'),
    partitionKey: origin.partitionKey,
    sequenceNumber: origin.sequenceNumber,
    subSequenceNumber: origin.subSequenceNumber,
    shardId: origin.shardId,
    approximateArrivalTimestamp: origin.approximateArrivalTimestamp,
    eventSourceArn: record.eventSourceArn,
  };
}

export type { StreamRecord, SubRecord };
export { originOf, parkedRecordOf };
