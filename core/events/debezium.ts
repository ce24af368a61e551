/**
 * Debezium change events: the bare envelope (`{before, after, source, op, ts_ms}`), the Kafka Connect
 * JSON-with-schema envelope (`{schema, payload}`), and the Debezium-Embedded demo's `{key, value}` wrapper,
 * from the Postgres, MySQL/MariaDB, SQL Server, Oracle and MongoDB connectors; other connectors fall back to
 * the Kinesis sequence number as position.
 */
import { aggregateIdOf, resolveKeyValues } from './aggregate-id.js';
import type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
import { applyRowSchema, rowSchemaOf } from './debezium-schema.js';
import {
  type Connector,
  commitTimeOf,
  connectorOf,
  isSnapshot,
  positionOf,
  tableOf,
  txIdOf,
} from './debezium-source.js';
import type { ChangeDecoder, DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import { parseJsonExact } from './exact-json.js';
import { excerpt, isObject, type JsonObject } from './json-value.js';
import { REASON } from './reason-codes.js';
import { debeziumSourceId } from './source-id.js';

/** Debezium's op codes; a `Map`, so that `op: "constructor"` finds nothing. */
const OPS: ReadonlyMap<unknown, ChangeOp> = new Map([
  ['c', 'create'],
  ['u', 'update'],
  ['d', 'delete'],
  ['r', 'read'],
]);

/** `{schema, payload}` → its parts; anything else is a payload without schema. */
function splitSchema(value: unknown): { readonly payload: unknown; readonly schema: unknown } {
  if (isObject(value) && Object.hasOwn(value, 'schema') && Object.hasOwn(value, 'payload'))
    return { payload: value.payload, schema: value.schema };
  return { payload: value, schema: undefined };
}

/** The Debezium-Embedded demo wraps each record as `{key, value}` (no `value` for a tombstone). */
function splitKeyValue(value: unknown): { readonly key: unknown; readonly value: unknown } | undefined {
  if (!isObject(value) || !Object.hasOwn(value, 'key')) return undefined;
  if (Object.keys(value).some((k) => k !== 'key' && k !== 'value')) return undefined;
  return { key: value.key, value: value.value ?? null };
}

function isEnvelope(value: unknown): value is JsonObject {
  return isObject(value) && typeof value.op === 'string' && isObject(value.source);
}

/** A key struct, possibly in its own schema envelope; `undefined` unless it is a non-empty object. */
function keyStruct(key: unknown): RowImage | undefined {
  const { payload } = splitSchema(key);
  return isObject(payload) && Object.keys(payload).length > 0 ? payload : undefined;
}

/**
 * Debezium Server writes the serialized record key as the Kinesis partition key: JSON, possibly with its
 * schema envelope, or the literal `default` (configurable) for a null key. Non-JSON keys give no key.
 *
 * @example
 * ```ts
 * recordKeyOf('{"schema":{"type":"struct"},"payload":{"id":1001}}'); // { id: 1001 }
 * recordKeyOf('default'); // undefined
 * ```
 */
function recordKeyOf(partitionKey: string): RowImage | undefined {
  if (!partitionKey.startsWith('{')) return undefined;
  try {
    return keyStruct(parseJsonExact(partitionKey));
  } catch {
    return undefined;
  }
}

interface Unwrapped {
  readonly envelope: JsonObject;
  readonly schema: unknown;
  /** The key carried next to the value by a `{key, value}` wrapper. */
  readonly wrapperKey: RowImage | undefined;
}

function unwrap(value: unknown): Unwrapped | undefined {
  const wrapped = splitKeyValue(value);
  const { payload, schema } = splitSchema(wrapped === undefined ? value : wrapped.value);
  if (!isEnvelope(payload)) return undefined;
  return {
    envelope: payload,
    schema,
    wrapperKey: wrapped === undefined ? undefined : keyStruct(wrapped.key),
  };
}

/** MongoDB writes `before`/`after` as extended-JSON strings; relational connectors as objects. */
function rowImage(value: unknown, field: string, connector: Connector): RowImage | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && connector === 'mongodb') {
    try {
      const parsed = parseJsonExact(value);
      if (isObject(parsed)) return parsed;
    } catch (error) {
      // Not JSON is reported below; nesting too deep is its own reason.
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  if (!isObject(value))
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium "${field}" must be an object or null, received ${typeof value} ${excerpt(value, 60)}`,
    );
  return value;
}

function refuseNonRowOps(envelope: JsonObject, source: JsonObject, connector: Connector): void {
  if (envelope.op === 't') {
    let table = 'the table';
    try {
      table = tableOf(source, connector);
    } catch {
      // a truncate without a table name is still a truncate
    }
    throw new DecodeError(
      REASON.TRUNCATE,
      `truncate of ${table}: every row was deleted at the source; parked so that an operator decides (replay it to acknowledge, or clear the table's state first)`,
    );
  }
  if (envelope.op === 'm') {
    const prefix = isObject(envelope.message) ? envelope.message.prefix : undefined;
    throw new DecodeError(
      REASON.LOGICAL_MESSAGE,
      `logical decoding message${typeof prefix === 'string' ? ` with prefix ${excerpt(prefix, 60)}` : ''} is not a row change; parked so that it is not lost`,
    );
  }
}

function decodeEnvelope(unwrapped: Unwrapped, origin: RecordOrigin, context: DecodeContext): ChangeEvent[] {
  const { envelope, schema, wrapperKey } = unwrapped;
  const source = envelope.source as JsonObject;
  const connector = connectorOf(source);
  refuseNonRowOps(envelope, source, connector);
  const rawOp = envelope.op as string;
  const op = OPS.get(rawOp);
  if (op === undefined)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium op must be one of c, u, d, r, t, m; received ${excerpt(rawOp, 40)}`,
    );
  const table = tableOf(source, connector);
  const beforeRaw = rowImage(envelope.before, 'before', connector);
  const afterRaw = rowImage(envelope.after, 'after', connector);
  const before = beforeRaw === null ? null : applyRowSchema(beforeRaw, rowSchemaOf(schema, 'before'));
  const after = afterRaw === null ? null : applyRowSchema(afterRaw, rowSchemaOf(schema, 'after'));
  const recordKey = wrapperKey ?? recordKeyOf(origin.partitionKey);
  if (op === 'delete' && before === null && recordKey === undefined)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      'Debezium delete has "before": null and no record key in the partition key, so the deleted row is unknown; set REPLICA IDENTITY (Postgres) or send the record key',
    );
  if (op !== 'delete' && after === null)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium op ${rawOp} needs "after", received null${connector === 'mongodb' ? '; for MongoDB updates set capture.mode to a *_with_pre_image or change_streams_update_full mode' : ''}`,
    );
  const keyValues = resolveKeyValues({
    table,
    recordKey,
    configuredColumns: context.keyColumns(table),
    row: op === 'delete' ? before : after,
    learnedColumns: connector === 'mongodb' ? ['_id'] : undefined,
    learnedFrom: 'MongoDB document key',
  });
  const change: ChangeEvent = {
    format: 'debezium',
    table,
    aggregateId: aggregateIdOf(table, keyValues),
    // Older connectors flag snapshot rows with op c and source.snapshot instead of op r.
    op: op === 'create' && isSnapshot(source.snapshot) ? 'read' : op,
    source: debeziumSourceId(source, connector),
    position: positionOf(source, connector, origin),
    before,
    after,
    ts: commitTimeOf(envelope, source),
    txId: txIdOf(envelope, source, connector),
  };
  return [change];
}

/**
 * The Debezium envelope decoder (bare, with schema, or in a `{key, value}` wrapper).
 *
 * @example
 * ```ts
 * const registry = new DecoderRegistry({ decoders: [debeziumDecoder] });
 * ```
 */
const debeziumDecoder: ChangeDecoder = {
  format: 'debezium',
  expects: 'a Debezium envelope with "op" and a "source" object (optionally inside {"schema", "payload"})',
  matches: (value) => unwrap(value) !== undefined,
  tableOf: (value) => {
    const source = unwrap(value)?.envelope.source as JsonObject | undefined;
    if (source === undefined) return undefined;
    try {
      return tableOf(source, connectorOf(source));
    } catch {
      return undefined;
    }
  },
  isTombstone: (value) => {
    const wrapped = splitKeyValue(value);
    if (wrapped !== undefined) return splitSchema(wrapped.value).payload === null;
    return (
      isObject(value) &&
      Object.hasOwn(value, 'schema') &&
      Object.hasOwn(value, 'payload') &&
      value.payload === null
    );
  },
  decode: (value, origin, context) => {
    const unwrapped = unwrap(value);
    if (unwrapped === undefined)
      throw new DecodeError(REASON.INVALID_ENVELOPE, 'not a Debezium envelope: "op" or "source" is missing');
    return decodeEnvelope(unwrapped, origin, context);
  },
};

export { debeziumDecoder, recordKeyOf, splitSchema };
