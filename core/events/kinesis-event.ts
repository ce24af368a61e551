/**
 * Reads the Kinesis records out of the event shapes a consumer meets: a Lambda `KinesisStreamEvent`
 * (`{Records: [{kinesis: {data, partitionKey, sequenceNumber, approximateArrivalTimestamp}, eventID}]}`), a
 * single Lambda record (`{kinesis: {…}}`), and the Kinesis Analytics preprocessor shape (`{records: [{recordId,
 * kinesisStreamRecordMetadata, data}]}`, or one such record). `data` is decoded from base64.
 */
import { decodeBase64Strict } from './decimal.js';
import { DecodeError } from './errors.js';
import { excerpt, isObject, type JsonObject } from './json-value.js';
import type { KinesisRecordInput } from './kpl.js';
import { REASON } from './reason-codes.js';

/** A Kinesis record of an event, with the shard it came from and its arrival time in epoch milliseconds. */
interface KinesisEventRecord extends KinesisRecordInput {
  readonly shardId: string;
  readonly approximateArrivalTimestamp: number;
}

/** One entry of an event: the record, or why it could not be read. */
type KinesisEventEntry =
  | { readonly record: KinesisEventRecord; readonly error?: undefined }
  | { readonly record?: undefined; readonly error: DecodeError; readonly sequenceNumber: string };

function lambdaRecordOf(entry: JsonObject): KinesisEventEntry {
  const kinesis = entry.kinesis as JsonObject;
  // Lambda puts eventID beside `kinesis`; one published sample nests it inside.
  const eventId = typeof entry.eventID === 'string' ? entry.eventID : kinesis.eventID;
  const shardId =
    typeof eventId === 'string' && eventId.includes(':') ? eventId.slice(0, eventId.indexOf(':')) : '';
  const seconds =
    typeof kinesis.approximateArrivalTimestamp === 'number' ? kinesis.approximateArrivalTimestamp : 0;
  return entryOf(kinesis.data, {
    shardId,
    partitionKey: String(kinesis.partitionKey ?? ''),
    sequenceNumber: String(kinesis.sequenceNumber ?? ''),
    approximateArrivalTimestamp: Math.round(seconds * 1000),
  });
}

function analyticsRecordOf(entry: JsonObject): KinesisEventEntry {
  const metadata = entry.kinesisStreamRecordMetadata as JsonObject;
  const ms =
    typeof metadata.approximateArrivalTimestamp === 'number' ? metadata.approximateArrivalTimestamp : 0;
  return entryOf(entry.data, {
    shardId: String(metadata.shardId ?? ''),
    partitionKey: String(metadata.partitionKey ?? ''),
    sequenceNumber: String(metadata.sequenceNumber ?? entry.recordId ?? ''),
    approximateArrivalTimestamp: ms,
  });
}

function entryOf(data: unknown, fields: Omit<KinesisEventRecord, 'data'>): KinesisEventEntry {
  const bytes = typeof data === 'string' ? decodeBase64Strict(data) : undefined;
  if (bytes === undefined)
    return {
      sequenceNumber: fields.sequenceNumber,
      error: new DecodeError(
        REASON.NOT_BASE64,
        `Kinesis record ${fields.sequenceNumber}: "data" must be base64, received ${excerpt(data, 60)}`,
      ),
    };
  return { record: { ...fields, data: bytes } };
}

function isLambdaRecord(value: unknown): value is JsonObject {
  return isObject(value) && isObject(value.kinesis) && 'data' in value.kinesis;
}

function isAnalyticsRecord(value: unknown): value is JsonObject {
  return isObject(value) && isObject(value.kinesisStreamRecordMetadata) && 'data' in value;
}

/**
 * The Kinesis records of an event, in order; `undefined` when `value` is none of the event shapes. A record
 * whose `data` is not base64 yields an entry with a `NOT_BASE64` error instead of throwing.
 *
 * @example
 * ```ts
 * const entries = kinesisEventRecords(JSON.parse(lambdaEventText));
 * for (const entry of entries ?? []) if (entry.record) deaggregate(entry.record);
 * ```
 */
function kinesisEventRecords(value: unknown): readonly KinesisEventEntry[] | undefined {
  if (
    isObject(value) &&
    Array.isArray(value.Records) &&
    value.Records.length > 0 &&
    value.Records.every(isLambdaRecord)
  )
    return (value.Records as JsonObject[]).map(lambdaRecordOf);
  if (isLambdaRecord(value)) return [lambdaRecordOf(value)];
  if (
    isObject(value) &&
    Array.isArray(value.records) &&
    value.records.length > 0 &&
    value.records.every(isAnalyticsRecord)
  )
    return (value.records as JsonObject[]).map(analyticsRecordOf);
  if (isAnalyticsRecord(value)) return [analyticsRecordOf(value)];
  return undefined;
}

export type { KinesisEventEntry, KinesisEventRecord };
export { kinesisEventRecords };
