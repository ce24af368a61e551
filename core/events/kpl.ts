/**
 * KPL de-aggregation. The Kinesis Producer Library packs many user records into one Kinesis record:
 *
 *     magic F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf (16 bytes)
 *
 *     AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                        repeated Record records = 3; }
 *     Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *              required bytes data = 3; repeated Tag tags = 4; }
 *
 * Lambda hands the aggregate over as one record; this unpacks it. Each user record keeps the Kinesis
 * sequence number and gets its index as sub-sequence number, so positions and checkpoints stay exact.
 *
 * Differences from the KCL, on purpose: a record that starts with the magic bytes but fails the MD5 check or
 * the protobuf parse throws `KPL_CORRUPT` (the KCL hands it on as one opaque record, which no decoder here
 * could read, so it would be parked anyway, with a less useful reason).
 */
import { createHash } from 'node:crypto';
import { OptionsError } from '../errors.js';
import { DecodeError } from './errors.js';
import { excerpt } from './json-value.js';
import { ProtobufError, ProtobufReader, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from './protobuf-reader.js';
import { REASON } from './reason-codes.js';

const KPL_MAGIC = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const DIGEST_BYTES = 16;

/** One Kinesis record as Lambda delivers it, with `data` already decoded from base64. */
interface KinesisRecordInput {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  /** Set only when the producer gave one (Lambda events do not carry it). */
  readonly explicitHashKey?: string;
}

/** A shard's hash key range, as ListShards returns it (decimal strings of 128-bit integers). */
interface HashKeyRange {
  readonly startingHashKey: string;
  readonly endingHashKey: string;
}

/** One user record: a KPL sub-record, or the Kinesis record itself when it is not aggregated. */
interface UserRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly sequenceNumber: string;
  /** Index within the aggregate; 0 for a record that is not aggregated. */
  readonly subSequenceNumber: number;
  readonly aggregated: boolean;
}

interface DeaggregatedRecord {
  readonly records: readonly UserRecord[];
  /** True when the Kinesis record was a KPL aggregate. */
  readonly aggregated: boolean;
  /**
   * Sub-records dropped because the aggregate holds a sub-record whose hash key lies outside the shard's
   * range. As the KCL does, the whole aggregate is then dropped (it reached this shard by a stale shard map
   * in the producer), and this counts its sub-records, for a metric.
   */
  readonly droppedOutsideHashRange: number;
}

interface DeaggregateOptions {
  /** The shard's hash key range; sub-records are checked against it only when given. */
  readonly hashKeyRange?: HashKeyRange;
}

/**
 * True when `data` starts with the KPL magic bytes.
 *
 * @example
 * ```ts
 * isKplAggregate(Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2, 0x0a)); // true
 * ```
 */
function isKplAggregate(data: Uint8Array): boolean {
  return data.length >= KPL_MAGIC.length && KPL_MAGIC.every((b, i) => data[i] === b);
}

interface ParsedAggregate {
  readonly partitionKeys: string[];
  readonly explicitHashKeys: string[];
  readonly records: {
    partitionKeyIndex: number;
    explicitHashKeyIndex: number | undefined;
    data: Uint8Array;
  }[];
}

function parseSubRecord(bytes: Uint8Array, index: number): ParsedAggregate['records'][number] {
  const reader = new ProtobufReader(bytes);
  let partitionKeyIndex: number | undefined;
  let explicitHashKeyIndex: number | undefined;
  let data: Uint8Array | undefined;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_VARINT) partitionKeyIndex = reader.varint();
    else if (field === 2 && wireType === WIRE_VARINT) explicitHashKeyIndex = reader.varint();
    else if (field === 3 && wireType === WIRE_LENGTH_DELIMITED) data = reader.bytes();
    else reader.skip(wireType); // tags (field 4) and unknown fields
  }
  if (partitionKeyIndex === undefined || data === undefined)
    throw new ProtobufError(`sub-record ${index} lacks its required partition_key_index or data`);
  return { partitionKeyIndex, explicitHashKeyIndex, data };
}

function parseAggregate(body: Uint8Array): ParsedAggregate {
  const reader = new ProtobufReader(body);
  const parsed: ParsedAggregate = { partitionKeys: [], explicitHashKeys: [], records: [] };
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) parsed.partitionKeys.push(reader.string());
    else if (field === 2 && wireType === WIRE_LENGTH_DELIMITED) parsed.explicitHashKeys.push(reader.string());
    else if (field === 3 && wireType === WIRE_LENGTH_DELIMITED)
      parsed.records.push(parseSubRecord(reader.bytes(), parsed.records.length));
    else reader.skip(wireType);
  }
  return parsed;
}

function md5(data: Uint8Array): Uint8Array {
  return createHash('md5').update(data).digest();
}

/** The hash key Kinesis routes by: the explicit hash key, else the MD5 of the partition key as an integer. */
function effectiveHashKey(partitionKey: string, explicitHashKey: string | undefined): bigint {
  if (explicitHashKey !== undefined) return BigInt(explicitHashKey);
  return BigInt(`0x${Buffer.from(md5(Buffer.from(partitionKey, 'utf8'))).toString('hex')}`);
}

function corrupt(record: KinesisRecordInput, problem: string, cause?: unknown): DecodeError {
  return new DecodeError(
    REASON.KPL_CORRUPT,
    `KPL aggregated record ${record.sequenceNumber} (partition key ${excerpt(record.partitionKey, 60)}, ${record.data.length} bytes) is corrupt: ${problem}; the producer or something on the way damaged it, so the whole record is parked`,
    cause === undefined ? undefined : { cause },
  );
}

function parseRange(range: HashKeyRange): { start: bigint; end: bigint } {
  try {
    return { start: BigInt(range.startingHashKey), end: BigInt(range.endingHashKey) };
  } catch (cause) {
    throw new OptionsError('hashKeyRange', range, 'must hold decimal integers as ListShards returns them', {
      cause,
    });
  }
}

/**
 * Splits a Kinesis record into its user records. A record that is not a KPL aggregate passes through as one
 * user record with sub-sequence number 0. Throws {@link DecodeError} `KPL_CORRUPT` for an aggregate whose
 * checksum or protobuf body is bad, or whose indexes point outside its tables.
 *
 * @example
 * ```ts
 * const { records, droppedOutsideHashRange } = deaggregate(
 *   { data, partitionKey: 'a', sequenceNumber: '4958…' },
 *   { hashKeyRange: { startingHashKey: '0', endingHashKey: '340282366920938463463374607431768211455' } },
 * );
 * ```
 */
function deaggregate(record: KinesisRecordInput, options: DeaggregateOptions = {}): DeaggregatedRecord {
  const { data } = record;
  if (!isKplAggregate(data))
    return {
      aggregated: false,
      droppedOutsideHashRange: 0,
      records: [
        {
          data,
          partitionKey: record.partitionKey,
          explicitHashKey: record.explicitHashKey,
          sequenceNumber: record.sequenceNumber,
          subSequenceNumber: 0,
          aggregated: false,
        },
      ],
    };
  if (data.length < KPL_MAGIC.length + DIGEST_BYTES)
    throw corrupt(record, `${data.length} bytes is too short for the magic and the 16-byte MD5 trailer`);
  const body = data.subarray(KPL_MAGIC.length, data.length - DIGEST_BYTES);
  const digest = data.subarray(data.length - DIGEST_BYTES);
  const expected = md5(body);
  if (!expected.every((b, i) => digest[i] === b))
    throw corrupt(record, 'the MD5 trailer does not match the body');
  let parsed: ParsedAggregate;
  try {
    parsed = parseAggregate(body);
  } catch (cause) {
    if (cause instanceof ProtobufError) throw corrupt(record, `protobuf: ${cause.message}`, cause);
    throw cause;
  }
  const range = options.hashKeyRange === undefined ? undefined : parseRange(options.hashKeyRange);
  const records: UserRecord[] = [];
  for (const [index, sub] of parsed.records.entries()) {
    const partitionKey = parsed.partitionKeys[sub.partitionKeyIndex];
    if (partitionKey === undefined)
      throw corrupt(
        record,
        `sub-record ${index} refers to partition key ${sub.partitionKeyIndex} of a table of ${parsed.partitionKeys.length}`,
      );
    let explicitHashKey: string | undefined;
    if (sub.explicitHashKeyIndex !== undefined) {
      explicitHashKey = parsed.explicitHashKeys[sub.explicitHashKeyIndex];
      if (explicitHashKey === undefined || !/^\d+$/.test(explicitHashKey))
        throw corrupt(
          record,
          `sub-record ${index} refers to explicit hash key ${sub.explicitHashKeyIndex} (${excerpt(explicitHashKey, 60)}) of a table of ${parsed.explicitHashKeys.length}`,
        );
    }
    if (range !== undefined) {
      const hash = effectiveHashKey(partitionKey, explicitHashKey);
      if (hash < range.start || hash > range.end)
        return { aggregated: true, records: [], droppedOutsideHashRange: parsed.records.length };
    }
    records.push({
      data: sub.data,
      partitionKey,
      explicitHashKey,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: index,
      aggregated: true,
    });
  }
  return { aggregated: true, records, droppedOutsideHashRange: 0 };
}

export type { DeaggregatedRecord, DeaggregateOptions, HashKeyRange, KinesisRecordInput, UserRecord };
export { deaggregate, effectiveHashKey, isKplAggregate };
