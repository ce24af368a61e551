/**
 * Debezium change events: the bare envelope (`{before, after, source, op, ts_ms}`) and the Kafka Connect
 * JSON-with-schema envelope (`{schema, payload}`), from the Postgres and MySQL/MariaDB connectors; other
 * connectors fall back to the Kinesis sequence number as position.
 */
import { aggregateIdOf, resolveKeyValues } from './aggregate-id.js';
import type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
import type { ChangeDecoder, DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import { kinesisPosition, mysqlPosition, postgresPosition } from './position.js';
import { REASON } from './reason-codes.js';

const OPS: Readonly<Record<string, ChangeOp>> = { c: 'create', u: 'update', d: 'delete', r: 'read' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{schema, payload}` → payload; anything else unchanged. */
function unwrapSchema(value: unknown): unknown {
  return isObject(value) && 'schema' in value && 'payload' in value ? value.payload : value;
}

function isEnvelope(value: unknown): value is Record<string, unknown> {
  return isObject(value) && typeof value.op === 'string' && isObject(value.source);
}

/**
 * Debezium Server writes the serialized record key as the Kinesis partition key: JSON, possibly with its
 * schema envelope, or the literal `default` for a null key.
 */
function recordKeyOf(partitionKey: string): RowImage | undefined {
  if (!partitionKey.startsWith('{')) return undefined;
  try {
    const key = unwrapSchema(JSON.parse(partitionKey));
    return isObject(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

function rowImage(value: unknown, field: string): RowImage | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value))
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium "${field}" must be an object or null, received ${typeof value}`,
    );
  return value;
}

function tableOf(source: Record<string, unknown>): string {
  const table = source.table;
  const namespace = source.schema ?? source.db;
  if (typeof table !== 'string' || typeof namespace !== 'string')
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium source must name its table and schema or db, received table=${JSON.stringify(table)} schema=${JSON.stringify(source.schema)} db=${JSON.stringify(source.db)}`,
    );
  return `${namespace}.${table}`;
}

/** Postgres `source.sequence` is a JSON string `["lastCommitLsn","lsn"]`. */
function lastCommitLsnOf(sequence: unknown): unknown {
  if (typeof sequence !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(sequence);
    return Array.isArray(parsed) ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

function positionOf(source: Record<string, unknown>, origin: RecordOrigin): string {
  switch (source.connector) {
    case 'postgresql':
      return postgresPosition(source.lsn, lastCommitLsnOf(source.sequence));
    case 'mysql':
    case 'mariadb':
      return mysqlPosition(source.file, source.pos, source.row);
    default:
      return kinesisPosition(origin.sequenceNumber, origin.subSequenceNumber);
  }
}

/** Postgres transaction ids are `txId:LSN` and BEGIN/END differ in the LSN part: keep the part before `:`. */
function txIdOf(envelope: Record<string, unknown>, source: Record<string, unknown>): string | null {
  const transaction = envelope.transaction;
  if (isObject(transaction) && typeof transaction.id === 'string') {
    return source.connector === 'postgresql'
      ? (transaction.id.split(':')[0] ?? transaction.id)
      : transaction.id;
  }
  if (typeof source.txId === 'number' || typeof source.txId === 'string') return String(source.txId);
  if (typeof source.gtid === 'string') return source.gtid;
  return null;
}

function tsOf(envelope: Record<string, unknown>, source: Record<string, unknown>): number | null {
  if (typeof source.ts_ms === 'number') return source.ts_ms;
  if (typeof envelope.ts_ms === 'number') return envelope.ts_ms;
  return null;
}

function decodeEnvelope(envelope: Record<string, unknown>, origin: RecordOrigin, context: DecodeContext) {
  const source = envelope.source as Record<string, unknown>;
  const rawOp = envelope.op as string;
  if (rawOp === 't')
    throw new DecodeError(
      REASON.TRUNCATE,
      `truncate of ${tableOf(source)}: parked for an operator to decide`,
    );
  if (rawOp === 'm')
    throw new DecodeError(REASON.LOGICAL_MESSAGE, 'logical decoding message, not a row change');
  const op = OPS[rawOp];
  if (op === undefined)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium op must be one of c, u, d, r, t, m; received ${JSON.stringify(rawOp)}`,
    );
  const table = tableOf(source);
  const before = rowImage(envelope.before, 'before');
  const after = rowImage(envelope.after, 'after');
  if (op === 'delete' ? before === null : after === null)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium op ${rawOp} needs "${op === 'delete' ? 'before' : 'after'}", received null`,
    );
  const keyValues = resolveKeyValues({
    table,
    recordKey: recordKeyOf(origin.partitionKey),
    configuredColumns: context.keyColumns(table),
    row: op === 'delete' ? before : after,
  });
  const change: ChangeEvent = {
    format: 'debezium',
    table,
    aggregateId: aggregateIdOf(table, keyValues),
    op,
    position: positionOf(source, origin),
    before,
    after,
    ts: tsOf(envelope, source),
    txId: txIdOf(envelope, source),
  };
  return [change];
}

/**
 * The Debezium decoder.
 *
 * @example
 * ```ts
 * const registry = new DecoderRegistry({ decoders: [debeziumDecoder] });
 * ```
 */
const debeziumDecoder: ChangeDecoder = {
  format: 'debezium',
  matches: (value) => isEnvelope(unwrapSchema(value)),
  decode: (value, origin, context) =>
    decodeEnvelope(unwrapSchema(value) as Record<string, unknown>, origin, context),
};

export { debeziumDecoder, isObject };
