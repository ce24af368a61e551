/**
 * Normalised source positions (docs/architecture.md contract 3): fixed-width, zero-padded strings that compare
 * lexicographically in source commit order for one aggregate, so DynamoDB conditions can compare them.
 *
 * Each format gets its own prefix; one aggregate's changes always come from one format, so prefixes never
 * need to compare with each other.
 */
import { DecodeError } from './errors.js';
import { excerpt } from './json-value.js';
import { REASON } from './reason-codes.js';

/** Digits of an unsigned 64-bit integer (Postgres LSNs, MySQL binlog offsets). */
const U64_DIGITS = 20;
/** Kinesis sequence numbers match `0|([1-9]\d{0,128})`. */
const KINESIS_SEQUENCE_DIGITS = 129;
/** KPL sub-sequence numbers and binlog file indexes fit in 10 digits. */
const SMALL_DIGITS = 10;

/**
 * Zero-pads a non-negative integer to `width` digits.
 *
 * @example
 * ```ts
 * padUnsigned(42, 5); // '00042'
 * ```
 */
function padUnsigned(value: unknown, width: number, what: string): string {
  let digits: string;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) digits = String(value);
  else if (typeof value === 'bigint' && value >= 0n) digits = value.toString();
  else if (typeof value === 'string' && /^\d+$/.test(value)) digits = value.replace(/^0+(?=\d)/, '');
  else
    throw new DecodeError(
      REASON.MISSING_POSITION,
      `${what} must be a non-negative integer, received ${excerpt(value, 60)}`,
    );
  if (digits.length > width)
    throw new DecodeError(
      REASON.MISSING_POSITION,
      `${what} ${excerpt(digits, 40)} has ${digits.length} digits, more than ${width}`,
    );
  return digits.padStart(width, '0');
}

/**
 * Debezium Postgres: `source.sequence` is `[lastCommitLsn, lsn]`. Changes stream in commit order, but an LSN
 * alone does not follow commit order across interleaved transactions; the pair does. Without `sequence`
 * (older connectors) the commit part is `0` and the LSN alone orders the changes.
 */
function postgresPosition(lsn: unknown, lastCommitLsn: unknown): string {
  const commit = lastCommitLsn === null || lastCommitLsn === undefined ? 0 : lastCommitLsn;
  return `pg:${padUnsigned(commit, U64_DIGITS, 'Postgres commit LSN')}:${padUnsigned(lsn, U64_DIGITS, 'Postgres LSN')}`;
}

/** Debezium MySQL/MariaDB: binlog file index, event position in that file, row within the event. */
function mysqlPosition(file: unknown, pos: unknown, row: unknown): string {
  if (typeof file !== 'string')
    throw new DecodeError(
      REASON.MISSING_POSITION,
      `MySQL source.file must be a string, received ${excerpt(file, 60)}`,
    );
  const index = /(\d+)$/.exec(file)?.[1];
  if (index === undefined)
    throw new DecodeError(
      REASON.MISSING_POSITION,
      `MySQL binlog file ${excerpt(file, 60)} has no index, so the change cannot be ordered; a real MySQL or MariaDB connector always names its binlog file (for example mysql-bin.000003): check what produced this event`,
    );
  return `my:${padUnsigned(index, SMALL_DIGITS, 'binlog file index')}:${padUnsigned(pos, U64_DIGITS, 'binlog position')}:${padUnsigned(row ?? 0, SMALL_DIGITS, 'binlog row')}`;
}

/** A SQL Server LSN `xxxxxxxx:xxxxxxxx:xxxx` (hex), normalised to lower case; `null` becomes all zeros. */
function sqlServerLsn(lsn: unknown, what: string): string {
  if (lsn === null || lsn === undefined) return '00000000:00000000:0000';
  if (typeof lsn === 'string' && /^[0-9a-fA-F]{8}:[0-9a-fA-F]{8}:[0-9a-fA-F]{4}$/.test(lsn))
    return lsn.toLowerCase();
  throw new DecodeError(
    REASON.MISSING_POSITION,
    `SQL Server ${what} must look like 0000002a:00000958:0003, received ${excerpt(lsn, 60)}`,
  );
}

/**
 * Debezium SQL Server: commit LSN, then change LSN, then the event serial number (several events can share
 * one change LSN, for example the two halves of an update).
 */
function sqlServerPosition(commitLsn: unknown, changeLsn: unknown, eventSerialNo: unknown): string {
  return `ms:${sqlServerLsn(commitLsn, 'commit_lsn')}:${sqlServerLsn(changeLsn, 'change_lsn')}:${padUnsigned(eventSerialNo ?? 0, SMALL_DIGITS, 'event_serial_no')}`;
}

/**
 * Debezium Oracle: commit SCN, then the change's SCN, then its SQL sequence number within that SCN. Snapshot
 * reads have no commit SCN (it counts as 0, so any streamed change sorts after them).
 */
function oraclePosition(commitScn: unknown, scn: unknown, ssn: unknown): string {
  return `or:${padUnsigned(commitScn ?? 0, U64_DIGITS, 'Oracle commit_scn')}:${padUnsigned(scn, U64_DIGITS, 'Oracle scn')}:${padUnsigned(ssn ?? 0, SMALL_DIGITS, 'Oracle ssn')}`;
}

/**
 * Debezium MongoDB: the oplog/change-stream time (`ts_ms`) and the ordinal within it (`ord`), then the Kinesis
 * sequence and sub-sequence numbers. Every change of one MongoDB transaction carries the same time and
 * ordinal, so without the last part two updates of one document in a transaction would tie and the second
 * would be skipped as a duplicate; the sequence number (which grows per partition key) orders them as they
 * arrived. A redelivery of the same record keeps its sequence number and still compares equal.
 */
function mongoPosition(tsMs: unknown, ord: unknown, sequenceNumber: string, subSequenceNumber = 0): string {
  return `mg:${padUnsigned(tsMs, U64_DIGITS, 'MongoDB source.ts_ms')}:${padUnsigned(ord ?? 0, SMALL_DIGITS, 'MongoDB source.ord')}:${kinesisPosition(sequenceNumber, subSequenceNumber).slice(3)}`;
}

/**
 * Fallback for formats without a source position: the Kinesis sequence number, which grows per partition key
 * (the partition key is the aggregate id), and the KPL sub-sequence number.
 */
function kinesisPosition(sequenceNumber: string, subSequenceNumber = 0): string {
  return `ks:${padUnsigned(sequenceNumber, KINESIS_SEQUENCE_DIGITS, 'Kinesis sequence number')}:${padUnsigned(subSequenceNumber, SMALL_DIGITS, 'sub-sequence number')}`;
}

/** What breaks a tie of two DynamoDB changes with one `ApproximateCreationDateTime`. */
type DynamodbTieBreak =
  /** The Kinesis sequence and sub-sequence numbers of the record. */
  | { readonly sequenceNumber: string; readonly subSequenceNumber?: number }
  /** `dynamodb.SequenceNumber` of a DynamoDB Streams record: the item's own order, kept by a duplicate. */
  | { readonly streamSequenceNumber: unknown };

/** DynamoDB Streams sequence numbers have 21 to 40 digits. */
const STREAM_SEQUENCE_DIGITS = 40;

/**
 * DynamoDB via Kinesis: `ApproximateCreationDateTime` in microseconds. That integration may deliver a change
 * twice and out of order, even for one item; its documented way to tell order and duplicates apart is this
 * time. At microsecond precision two changes of one item never share a time (DynamoDB serializes the writes
 * of an item, each far longer than a microsecond), so equal times are the same change and the position is the
 * time alone: a late duplicate ties and is skipped, whatever sequence number it arrived with.
 *
 * At a coarser precision two changes of one item can share a time, so `tieBreak` follows it. A DynamoDB
 * Streams record (seconds) carries its own `SequenceNumber`, which orders an item's changes exactly and which
 * a duplicate keeps. A Kinesis Data Streams record at millisecond precision carries nothing of the kind, so
 * the Kinesis sequence number breaks the tie: the integration writes an item's changes to one shard (its
 * partition key is a hash of the item's key) as it produces them, so the second change of one millisecond is
 * applied after the first. What no position can tell apart at that precision is a late duplicate of the
 * older of two changes made in one millisecond: use microsecond precision.
 *
 * @example
 * ```ts
 * dynamodbPosition(1720740233012995); // 'dd:00001720740233012995'
 * dynamodbPosition(1720740233012000, { sequenceNumber: '4966', subSequenceNumber: 0 }); // 'dd:…:…4966:0000000000'
 * ```
 */
function dynamodbPosition(creationMicros: unknown, tieBreak?: DynamodbTieBreak): string {
  const time = `dd:${padUnsigned(creationMicros, U64_DIGITS, 'ApproximateCreationDateTime in microseconds')}`;
  if (tieBreak === undefined) return time;
  if ('streamSequenceNumber' in tieBreak)
    return `${time}:s${padUnsigned(tieBreak.streamSequenceNumber, STREAM_SEQUENCE_DIGITS, 'DynamoDB Streams SequenceNumber')}`;
  return `${time}:${kinesisPosition(tieBreak.sequenceNumber, tieBreak.subSequenceNumber).slice(3)}`;
}

/** An ISO 8601 time with up to nine fraction digits, as DMS writes `metadata.timestamp`. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Microseconds since the epoch of an ISO time; `undefined` when it is not one or lies before the epoch. */
function isoMicros(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const match = ISO_TIME.exec(text);
  if (match === null) return undefined;
  const ms = Date.parse(`${match[1]}T${match[2]}${match[4] ?? 'Z'}`);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  return BigInt(ms) * 1000n + BigInt((match[3] ?? '').padEnd(6, '0').slice(0, 6));
}

/**
 * AWS DMS: `metadata.timestamp`, the time DMS produced the record, in microseconds, then the Kinesis sequence
 * and sub-sequence numbers. DMS carries no per-row source position, and the Kinesis sequence number orders
 * only the records of one shard. That is not enough: a primary-key change arrives on the new key's shard but
 * also deletes the old key, whose earlier changes live on another shard. DMS produces a table's changes in
 * commit order, one record at a time, so its time orders one row's changes across shards; the sequence
 * number orders records of one shard that share a microsecond. The prefix `tm:` sorts after the `ks:`
 * positions DMS changes had before, so state written then takes newer changes.
 *
 * @example
 * ```ts
 * dmsPosition('2024-07-29T00:58:17.983670Z', '4966'); // 'tm:00001722214697983670:…4966:0000000000'
 * ```
 */
function dmsPosition(timestamp: unknown, sequenceNumber: string, subSequenceNumber = 0): string {
  const micros = isoMicros(timestamp);
  if (micros === undefined)
    throw new DecodeError(
      REASON.MISSING_POSITION,
      `DMS metadata "timestamp" must be an ISO 8601 time such as 2024-07-29T00:58:17.983670Z, received ${excerpt(timestamp, 60)}; DMS writes it on every message, so this record was altered on the way`,
    );
  return `tm:${padUnsigned(micros, U64_DIGITS, 'DMS timestamp in microseconds')}:${kinesisPosition(sequenceNumber, subSequenceNumber).slice(3)}`;
}

/** Compares two positions; negative when `a` is earlier. */
function comparePositions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two Kinesis sequence numbers numerically (they are decimal strings of varying length). */
function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return comparePositions(a, b);
}

export type { DynamodbTieBreak };
export {
  comparePositions,
  compareSequenceNumbers,
  dmsPosition,
  dynamodbPosition,
  kinesisPosition,
  mongoPosition,
  mysqlPosition,
  oraclePosition,
  padUnsigned,
  postgresPosition,
  sqlServerPosition,
};
