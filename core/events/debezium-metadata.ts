/**
 * Debezium records that are not row changes but may share a stream with them: transaction markers
 * (`provide.transaction.metadata=true`: `{status: BEGIN|END, id, event_count, data_collections}`) and
 * schema-change messages (`{source, databaseName, ddl, tableChanges}`). They decode to no change; the
 * transaction id reaches each data event through its own `transaction` block.
 */

import { splitSchema } from './debezium.js';
import type { ChangeDecoder } from './decoder.js';
import { isObject } from './json-value.js';

function isTransactionMarker(value: unknown): boolean {
  const { payload } = splitSchema(value);
  return (
    isObject(payload) &&
    (payload.status === 'BEGIN' || payload.status === 'END') &&
    typeof payload.id === 'string' &&
    ('event_count' in payload || 'data_collections' in payload)
  );
}

function isSchemaChange(value: unknown): boolean {
  const { payload } = splitSchema(value);
  return (
    isObject(payload) &&
    isObject(payload.source) &&
    typeof payload.op !== 'string' &&
    (typeof payload.ddl === 'string' || Array.isArray(payload.tableChanges))
  );
}

/**
 * Transaction BEGIN/END markers: recognised so they are not reported as unknown, and decoded to nothing.
 *
 * @example
 * ```ts
 * debeziumTransactionDecoder.matches({ status: 'BEGIN', id: '571:53195829', event_count: null }); // true
 * ```
 */
const debeziumTransactionDecoder: ChangeDecoder = {
  format: 'debezium-transaction',
  expects: 'a Debezium transaction marker {"status": "BEGIN"|"END", "id", "event_count"}',
  matches: isTransactionMarker,
  decode: () => [],
};

/**
 * Schema-change messages (DDL): recognised and decoded to nothing. Column changes reach the state with the
 * next row change of the table.
 *
 * @example
 * ```ts
 * debeziumSchemaChangeDecoder.matches({ source: {}, databaseName: 'inventory', ddl: 'ALTER TABLE …' }); // true
 * ```
 */
const debeziumSchemaChangeDecoder: ChangeDecoder = {
  format: 'debezium-schema-change',
  expects: 'a Debezium schema-change message {"source", "ddl", "tableChanges"}',
  matches: isSchemaChange,
  decode: () => [],
};

export { debeziumSchemaChangeDecoder, debeziumTransactionDecoder };
