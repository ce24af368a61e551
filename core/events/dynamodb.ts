/**
 * DynamoDB's native Kinesis integration ("Kinesis Data Streams for DynamoDB"): `{eventName, tableName,
 * dynamodb: {Keys, NewImage, OldImage, ApproximateCreationDateTime}, userIdentity}`.
 *
 * - The Kinesis partition key is an opaque hash, so the aggregate id comes from `tableName` and `Keys`; key
 *   attributes are taken in name order (the record does not say which is the hash and which the range key,
 *   and JSON object order is not a contract). Configured key columns do not apply: `Keys` always wins.
 * - The position is `ApproximateCreationDateTime` in microseconds (milliseconds unless
 *   `ApproximateCreationDateTimePrecision` is `MICROSECOND`); below microsecond precision the Kinesis
 *   sequence number follows it, since the integration may deliver duplicates and out of order (see
 *   {@link dynamodbPosition}).
 * - A `REMOVE` by the TTL process (`userIdentity: {type: "Service", principalId: "dynamodb.amazonaws.com"}`)
 *   is marked `ttlDelete: true`.
 */
import { aggregateIdOf } from './aggregate-id.js';
import type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
import type { ChangeDecoder } from './decoder.js';
import { unmarshallImage } from './dynamodb-attributes.js';
import { DecodeError } from './errors.js';
import { describeValue, excerpt, isObject, type JsonObject } from './json-value.js';
import { dynamodbPosition } from './position.js';
import { REASON } from './reason-codes.js';
import { dynamodbSourceId } from './source-id.js';

/** `eventName`s; a `Map`, so that `eventName: "constructor"` finds nothing. */
const OPS: ReadonlyMap<unknown, ChangeOp> = new Map([
  ['INSERT', 'create'],
  ['MODIFY', 'update'],
  ['REMOVE', 'delete'],
]);

/** Epoch seconds (DynamoDB Streams) are below this; milliseconds (the Kinesis default) below the next. */
const MAX_SECONDS = 1e11;
const MAX_MILLISECONDS = 1e14;

/** `tableName`, or the table in a DynamoDB Streams `eventSourceARN` (`…:table/NAME/stream/…`). */
function tableNameOf(record: JsonObject): string | undefined {
  if (typeof record.tableName === 'string' && record.tableName !== '') return record.tableName;
  if (typeof record.eventSourceARN === 'string') return /:table\/([^/]+)/.exec(record.eventSourceARN)?.[1];
  return undefined;
}

/**
 * `awsRegion`, or the region in a DynamoDB Streams `eventSourceARN` (`arn:aws:dynamodb:REGION:…`): one table's
 * stream names one source whichever of the two a record carries.
 */
function regionOf(record: JsonObject): unknown {
  if (typeof record.awsRegion === 'string' && record.awsRegion !== '') return record.awsRegion;
  if (typeof record.eventSourceARN === 'string')
    return /^arn:[^:]+:dynamodb:([^:]+):/.exec(record.eventSourceARN)?.[1];
  return undefined;
}

/** `ApproximateCreationDateTime` in microseconds since the epoch, and whether it was that precise. */
function creationTime(dynamodb: JsonObject): {
  readonly micros: number;
  readonly microsecondPrecision: boolean;
} {
  const value = dynamodb.ApproximateCreationDateTime;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new DecodeError(
      REASON.MISSING_POSITION,
      `DynamoDB record needs a numeric dynamodb.ApproximateCreationDateTime to order changes, received ${describeValue(value)}`,
    );
  const precision = dynamodb.ApproximateCreationDateTimePrecision;
  if (precision === 'MICROSECOND') return { micros: Math.trunc(value), microsecondPrecision: true };
  if (precision === 'MILLISECOND') return { micros: Math.trunc(value * 1000), microsecondPrecision: false };
  // No precision field: tell the unit from the magnitude (seconds in DynamoDB Streams records).
  if (value < MAX_SECONDS) return { micros: Math.trunc(value * 1_000_000), microsecondPrecision: false };
  if (value < MAX_MILLISECONDS) return { micros: Math.trunc(value * 1000), microsecondPrecision: false };
  return { micros: Math.trunc(value), microsecondPrecision: true };
}

/**
 * Equal microseconds are the same change; a coarser time needs a tie-break: the record's own DynamoDB Streams
 * sequence number when it has one, else the Kinesis sequence number (see {@link dynamodbPosition}).
 */
function positionOf(
  dynamodb: JsonObject,
  micros: number,
  microsecondPrecision: boolean,
  origin: RecordOrigin,
): string {
  if (microsecondPrecision) return dynamodbPosition(micros);
  const streamSequenceNumber = dynamodb.SequenceNumber;
  if (streamSequenceNumber !== undefined) return dynamodbPosition(micros, { streamSequenceNumber });
  return dynamodbPosition(micros, origin);
}

function image(dynamodb: JsonObject, field: 'Keys' | 'NewImage' | 'OldImage'): RowImage | null {
  const value = dynamodb[field];
  if (value === undefined || value === null) return null;
  if (!isObject(value))
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `DynamoDB ${field} must be a map, received ${describeValue(value)}`,
    );
  return unmarshallImage(value, `${field}.`);
}

function isTtlDelete(record: JsonObject): boolean {
  const identity = record.userIdentity;
  return (
    isObject(identity) && identity.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com'
  );
}

function decodeRecord(value: unknown, origin: RecordOrigin): ChangeEvent[] {
  const record = value as JsonObject;
  const dynamodb = record.dynamodb as JsonObject;
  const op = OPS.get(record.eventName);
  if (op === undefined)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `DynamoDB eventName must be INSERT, MODIFY or REMOVE, received ${excerpt(record.eventName, 40)}`,
    );
  const table = tableNameOf(record);
  if (table === undefined)
    throw new DecodeError(
      REASON.MISSING_TABLE,
      'DynamoDB record has no tableName (nor a table ARN in eventSourceARN)',
    );
  const keys = image(dynamodb, 'Keys');
  if (keys === null || Object.keys(keys).length === 0)
    throw new DecodeError(
      REASON.MISSING_KEY,
      `DynamoDB ${String(record.eventName)} record of table ${table} has no dynamodb.Keys; the item cannot be identified`,
    );
  const after = image(dynamodb, 'NewImage');
  const before = image(dynamodb, 'OldImage');
  if (op !== 'delete' && after === null)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `DynamoDB ${String(record.eventName)} record of table ${table} has no NewImage; the item's new state is unknown`,
    );
  const { micros, microsecondPrecision } = creationTime(dynamodb);
  const names = Object.keys(keys).sort();
  const change: ChangeEvent = {
    format: 'dynamodb',
    table,
    aggregateId: aggregateIdOf(
      table,
      names.map((n) => keys[n]),
    ),
    op,
    source: dynamodbSourceId(regionOf(record), table),
    position: positionOf(dynamodb, micros, microsecondPrecision, origin),
    before: op === 'delete' ? (before ?? keys) : before,
    after: op === 'delete' ? null : after,
    ts: Math.floor(micros / 1000),
    txId: null,
  };
  return [op === 'delete' && isTtlDelete(record) ? { ...change, ttlDelete: true } : change];
}

/**
 * The DynamoDB-via-Kinesis decoder.
 *
 * @example
 * ```ts
 * const registry = new DecoderRegistry({ decoders: [dynamodbDecoder] });
 * ```
 */
const dynamodbDecoder: ChangeDecoder = {
  format: 'dynamodb',
  expects: 'a DynamoDB Kinesis record with "eventName", "tableName" and a "dynamodb" object',
  matches: (value) =>
    isObject(value) &&
    isObject(value.dynamodb) &&
    (value.eventSource === 'aws:dynamodb' ||
      (typeof value.eventName === 'string' && Object.hasOwn(value, 'tableName'))),
  tableOf: (value) => (isObject(value) ? tableNameOf(value) : undefined),
  decode: (value, origin) => decodeRecord(value, origin),
};

export { dynamodbDecoder };
