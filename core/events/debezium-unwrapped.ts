/**
 * Rows flattened by Debezium's `ExtractNewRecordState` SMT: the row state itself, plus `__`-prefixed fields
 * when the SMT is configured with `add.fields` (`__op`, `__table`, `__db`, `__schema`, `__lsn`,
 * `__source_ts_ms`, …) and `__deleted` when deletes are rewritten (`delete.handling.mode=rewrite`, or
 * `delete.tombstone.handling.mode=rewrite` since Debezium 2.5).
 *
 * Such a row names its table only through `__table`; without it the record is parked as `MISSING_TABLE`.
 * With the default delete handling a delete arrives only as a tombstone (a null value) and cannot be applied:
 * configure the rewrite mode so that deletes carry `__deleted: "true"`.
 */
import { aggregateIdOf, resolveKeyValues } from './aggregate-id.js';
import type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
import { recordKeyOf } from './debezium.js';
import { commitTimeOf, connectorOf, isSnapshot, positionOf, tableOf, txIdOf } from './debezium-source.js';
import type { ChangeDecoder, DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import { keepJsonNumberMark } from './exact-json.js';
import { describeValue, excerpt, isObject, type JsonObject, setOwn } from './json-value.js';
import { REASON } from './reason-codes.js';
import { debeziumSourceId } from './source-id.js';

/** Source and envelope fields that `add.fields` can add; other `__` columns are kept as row data. */
const METADATA_FIELDS = new Set([
  'op',
  'deleted',
  'table',
  'db',
  'schema',
  'collection',
  'lsn',
  'sequence',
  'txId',
  'xmin',
  'file',
  'pos',
  'row',
  'gtid',
  'server_id',
  'thread',
  'query',
  'change_lsn',
  'commit_lsn',
  'event_serial_no',
  'scn',
  'commit_scn',
  'ssn',
  'rs_id',
  'ord',
  'rs',
  'connector',
  'name',
  'version',
  'snapshot',
  'ts_ms',
  'ts_us',
  'ts_ns',
]);

/** The `__op` codes; a `Map`, so that `__op: "valueOf"` finds nothing. */
const OPS: ReadonlyMap<unknown, ChangeOp> = new Map([
  ['c', 'create'],
  ['u', 'update'],
  ['d', 'delete'],
  ['r', 'read'],
]);

/**
 * Splits a flattened row into its metadata (`__x` and `__source_x` → `x`) and its columns. Columns are own
 * properties of the row, whatever their name (`__proto__` included), and keep their number marks.
 */
function splitRow(value: JsonObject): { readonly meta: JsonObject; readonly row: RowImage } {
  const meta: JsonObject = {};
  const row: RowImage = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('__')) {
      const name = key.slice(2).replace(/^source_/, '');
      if (METADATA_FIELDS.has(name)) {
        meta[name] = v;
        keepJsonNumberMark(value, key, meta, name);
        continue;
      }
    }
    setOwn(row, key, v);
    keepJsonNumberMark(value, key, row, key);
  }
  return { meta, row };
}

function hasMarkers(value: JsonObject): boolean {
  return (
    typeof value.__op === 'string' ||
    Object.hasOwn(value, '__deleted') ||
    typeof value.__table === 'string' ||
    typeof value.__source_table === 'string'
  );
}

function tableOfMeta(meta: JsonObject): string | undefined {
  if (typeof meta.table !== 'string' && typeof meta.collection !== 'string') return undefined;
  try {
    return tableOf(meta, connectorOf(meta));
  } catch {
    return typeof meta.table === 'string' ? meta.table : undefined;
  }
}

function opOf(meta: JsonObject): ChangeOp {
  if (meta.deleted === true || meta.deleted === 'true') return 'delete';
  if (meta.op === 't' || meta.op === 'm')
    throw new DecodeError(
      meta.op === 't' ? REASON.TRUNCATE : REASON.LOGICAL_MESSAGE,
      `unwrapped Debezium row with __op "${meta.op}" is not a row change; parked for an operator`,
    );
  if (meta.op === undefined || meta.op === null) return 'update'; // an upsert: the row is the new state
  const op = OPS.get(meta.op);
  if (op === undefined)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `unwrapped Debezium __op must be one of c, u, d, r; received ${excerpt(meta.op, 40)}`,
    );
  return op === 'create' && isSnapshot(meta.snapshot) ? 'read' : op;
}

function decodeUnwrapped(value: unknown, origin: RecordOrigin, context: DecodeContext): ChangeEvent[] {
  if (!isObject(value))
    throw new DecodeError(REASON.INVALID_ENVELOPE, 'an unwrapped Debezium row must be a JSON object');
  const { meta, row } = splitRow(value);
  const table = tableOfMeta(meta);
  if (table === undefined)
    throw new DecodeError(
      REASON.MISSING_TABLE,
      `unwrapped Debezium row (${describeValue(row)}) names no table; configure ExtractNewRecordState with add.fields=table,db (MySQL) or table,schema (Postgres) so rows carry __table`,
    );
  const op = opOf(meta);
  const keyValues = resolveKeyValues({
    table,
    recordKey: recordKeyOf(origin.partitionKey),
    configuredColumns: context.keyColumns(table),
    row,
  });
  const connector = connectorOf(meta);
  return [
    {
      format: 'debezium',
      table,
      aggregateId: aggregateIdOf(table, keyValues),
      op,
      source: debeziumSourceId(meta, connector),
      position: positionOf(meta, connector, origin),
      before: op === 'delete' ? row : null,
      after: op === 'delete' ? null : row,
      ts: commitTimeOf(meta, meta),
      txId: txIdOf(meta, meta, connector),
    },
  ];
}

function makeDecoder(lenient: boolean): ChangeDecoder {
  return {
    format: 'debezium-unwrapped',
    expects: lenient
      ? 'a flattened Debezium row (ExtractNewRecordState)'
      : 'a flattened Debezium row (ExtractNewRecordState) with __op, __deleted or __table',
    matches: (value) => isObject(value) && (lenient || hasMarkers(value)),
    tableOf: (value) => (isObject(value) ? tableOfMeta(splitRow(value).meta) : undefined),
    decode: decodeUnwrapped,
  };
}

/**
 * Decoder for flattened rows that carry `__op`, `__deleted` or `__table`. Registered last: its shape test is
 * the loosest.
 *
 * @example
 * ```ts
 * debeziumUnwrappedDecoder.matches({ id: 1, __op: 'c', __table: 'customers', __db: 'inventory' }); // true
 * ```
 */
const debeziumUnwrappedDecoder: ChangeDecoder = makeDecoder(false);

/**
 * The same decoder accepting any JSON object as a row, for a stream or table known to carry only flattened
 * rows (`cdcp decode --format debezium`, or a per-table format override).
 *
 * @example
 * ```ts
 * lenientDebeziumUnwrappedDecoder.matches({ id: 1004, first_name: 'Anne' }); // true
 * ```
 */
const lenientDebeziumUnwrappedDecoder: ChangeDecoder = makeDecoder(true);

export { debeziumUnwrappedDecoder, lenientDebeziumUnwrappedDecoder };
