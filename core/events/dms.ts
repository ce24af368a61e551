/**
 * AWS DMS messages on a Kinesis target: `{data, metadata}` data records (`load`, `insert`, `update`,
 * `delete`) and `{control, metadata}` control records (`create-table`, `drop-table`, …).
 *
 * - Control records are never applied as data. A `create-table` `table-def` with `primary-key` tells the key
 *   of later data records of that table (remembered per consumer instance; configured key columns win); a
 *   `drop-table` forgets it; a `truncate-table` is parked as `TRUNCATE`.
 * - The before image comes as a `before-image` object (BeforeImageSettings) or as `BI_`-prefixed columns
 *   (an `add-before-image-columns` transformation rule); both become `before`.
 * - `map-record-to-document` puts the row under `data._doc`.
 * - An update whose before image has other key values than its data is a primary-key change: a delete of the
 *   old aggregate, then a create of the new one, in that order.
 * - DMS carries no source position usable per row. The position is the time DMS produced the record, then
 *   the Kinesis sequence and sub-sequence numbers (see {@link dmsPosition}): the sequence number alone orders
 *   only one shard, and the delete of a primary-key change belongs to a key on another shard.
 */
import { aggregateIdOf, resolveKeyValues } from './aggregate-id.js';
import type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
import type { ChangeDecoder, DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import { keepJsonNumberMark } from './exact-json.js';
import { describeValue, excerpt, isObject, type JsonObject, setOwn } from './json-value.js';
import { dmsPosition } from './position.js';
import { REASON } from './reason-codes.js';
import { DMS_SOURCE } from './source-id.js';
import type { TableKeyMemory } from './table-keys.js';

/** DMS data operations; a `Map`, so that `operation: "hasOwnProperty"` finds nothing. */
const DATA_OPS: ReadonlyMap<unknown, ChangeOp> = new Map([
  ['load', 'read'],
  ['insert', 'create'],
  ['update', 'update'],
  ['delete', 'delete'],
]);

/** Prefix of the `add-before-image-columns` rule's default. */
const BEFORE_IMAGE_PREFIX = 'BI_';

interface DmsDecoderOptions {
  /** Where `create-table` primary keys are remembered; share one per consumer instance. */
  readonly tableKeys: TableKeyMemory;
}

function tableOfMetadata(metadata: JsonObject): string | undefined {
  const table = metadata['table-name'];
  const schema = metadata['schema-name'];
  if (typeof table !== 'string' || table === '') return undefined;
  return typeof schema === 'string' && schema !== '' ? `${schema}.${table}` : table;
}

function requireTable(metadata: JsonObject): string {
  const table = tableOfMetadata(metadata);
  if (table === undefined)
    throw new DecodeError(
      REASON.MISSING_TABLE,
      `DMS metadata has no "table-name" (received ${excerpt(metadata['table-name'], 60)}); DMS writes it on every message, so this record was altered on the way`,
    );
  return table;
}

function decodeControl(message: JsonObject, metadata: JsonObject, tableKeys: TableKeyMemory): ChangeEvent[] {
  const operation = metadata.operation;
  const table = tableOfMetadata(metadata);
  if (operation === 'truncate-table')
    throw new DecodeError(
      REASON.TRUNCATE,
      `DMS truncate-table of ${table ?? 'a table'}: every row was deleted at the source; parked so that an operator decides`,
    );
  if (table === undefined) return [];
  if (operation === 'create-table') {
    const tableDef = isObject(message.control) ? message.control['table-def'] : undefined;
    const primaryKey = isObject(tableDef) ? tableDef['primary-key'] : undefined;
    if (Array.isArray(primaryKey) && primaryKey.length > 0 && primaryKey.every((c) => typeof c === 'string'))
      tableKeys.remember(table, primaryKey as string[]);
    else tableKeys.forget(table);
  } else if (operation === 'drop-table') tableKeys.forget(table);
  return [];
}

/** The row of a data record: the flat `data`, or `data._doc` for `map-record-to-document`. */
function rowOf(message: JsonObject): RowImage {
  const data = message.data;
  if (!isObject(data))
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `DMS data record needs a "data" object, received ${describeValue(data)}`,
    );
  const keys = Object.keys(data);
  if (keys.length === 1 && keys[0] === '_doc' && isObject(data._doc)) return data._doc;
  return data;
}

/**
 * Splits `BI_x` columns off into a before image, but only when every `BI_x` has its `x` beside it: a table
 * may have a real column that happens to start with `BI_`.
 */
function splitBeforeImageColumns(row: RowImage): {
  readonly after: RowImage;
  readonly before: RowImage | null;
} {
  const prefixed = new Set(Object.keys(row).filter((k) => k.startsWith(BEFORE_IMAGE_PREFIX)));
  if (
    prefixed.size === 0 ||
    ![...prefixed].every((k) => Object.hasOwn(row, k.slice(BEFORE_IMAGE_PREFIX.length)))
  )
    return { after: row, before: null };
  const after: RowImage = {};
  const before: RowImage = {};
  for (const [k, v] of Object.entries(row)) {
    const [image, name] = prefixed.has(k) ? [before, k.slice(BEFORE_IMAGE_PREFIX.length)] : [after, k];
    setOwn(image, name, v);
    keepJsonNumberMark(row, k, image, name);
  }
  return { after, before };
}

function epochMsOf(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

function decodeData(
  message: JsonObject,
  metadata: JsonObject,
  origin: RecordOrigin,
  context: DecodeContext,
  tableKeys: TableKeyMemory,
): ChangeEvent[] {
  const table = requireTable(metadata);
  const operation = metadata.operation;
  const op = DATA_OPS.get(operation);
  if (op === undefined)
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `DMS data operation must be one of load, insert, update, delete; received ${excerpt(operation, 40)}`,
    );
  const { after: row, before: inlineBefore } = splitBeforeImageColumns(rowOf(message));
  const beforeImage =
    isObject(message['before-image']) && Object.keys(message['before-image']).length > 0
      ? message['before-image']
      : inlineBefore;
  const keyInput = {
    table,
    recordKey: undefined,
    configuredColumns: context.keyColumns(table),
    learnedColumns: tableKeys.get(table),
  };
  const position = dmsPosition(metadata.timestamp, origin.sequenceNumber, origin.subSequenceNumber);
  const ts = epochMsOf(metadata['commit-timestamp']) ?? epochMsOf(metadata.timestamp);
  const transactionId = metadata['transaction-id'];
  const txId =
    typeof transactionId === 'number' || typeof transactionId === 'string' ? String(transactionId) : null;
  const change = (
    aggregateId: string,
    op: ChangeOp,
    before: RowImage | null,
    after: RowImage | null,
  ): ChangeEvent => ({
    format: 'dms',
    table,
    aggregateId,
    op,
    source: DMS_SOURCE,
    position,
    before,
    after,
    ts,
    txId,
  });
  const aggregateId = aggregateIdOf(table, resolveKeyValues({ ...keyInput, row }));
  // A delete's `data` is the deleted row (only its key columns filled when the source logs only those).
  if (op === 'delete') return [change(aggregateId, op, row, null)];
  if (op === 'update' && beforeImage !== null) {
    const oldId = oldAggregateId(table, keyInput, beforeImage);
    if (oldId !== undefined && oldId !== aggregateId)
      return [change(oldId, 'delete', beforeImage, null), change(aggregateId, 'create', null, row)];
  }
  return [change(aggregateId, op, op === 'update' ? beforeImage : null, row)];
}

/** The aggregate id of the before image, when it carries the key (a partial before image may not). */
function oldAggregateId(
  table: string,
  keyInput: Omit<Parameters<typeof resolveKeyValues>[0], 'row'>,
  beforeImage: RowImage,
): string | undefined {
  try {
    return aggregateIdOf(table, resolveKeyValues({ ...keyInput, row: beforeImage }));
  } catch {
    return undefined;
  }
}

function decodeMessage(
  value: unknown,
  origin: RecordOrigin,
  context: DecodeContext,
  tableKeys: TableKeyMemory,
) {
  if (!isObject(value) || !isObject(value.metadata))
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `a DMS message needs a "metadata" object, received ${describeValue(value)}`,
    );
  const metadata = value.metadata;
  switch (metadata['record-type']) {
    case 'control':
      return decodeControl(value, metadata, tableKeys);
    case 'data':
      return decodeData(value, metadata, origin, context, tableKeys);
    default:
      throw new DecodeError(
        REASON.INVALID_ENVELOPE,
        `DMS metadata "record-type" must be "data" or "control", received ${excerpt(metadata['record-type'], 40)}`,
      );
  }
}

/**
 * Creates the DMS decoder. It remembers `create-table` primary keys in `options.tableKeys`.
 *
 * @example
 * ```ts
 * const dms = createDmsDecoder({ tableKeys: new TableKeyMemory() });
 * const registry = new DecoderRegistry({ decoders: [dms] });
 * ```
 */
function createDmsDecoder(options: DmsDecoderOptions): ChangeDecoder {
  const { tableKeys } = options;
  return {
    format: 'dms',
    expects: 'an AWS DMS message with a "metadata" object holding "record-type" and "operation"',
    matches: (value) =>
      isObject(value) && isObject(value.metadata) && typeof value.metadata['record-type'] === 'string',
    tableOf: (value) =>
      isObject(value) && isObject(value.metadata) ? tableOfMetadata(value.metadata) : undefined,
    decode: (value, origin, context) => decodeMessage(value, origin, context, tableKeys),
    // A data record's aggregate id depends on the keys learned from earlier control records.
    stateful: true,
  };
}

export type { DmsDecoderOptions };
export { createDmsDecoder };
