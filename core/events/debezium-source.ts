/**
 * What the Debezium `source` block tells: the connector, the table, the normalised position, the commit time,
 * the transaction and whether the event is a snapshot read.
 */
import type { RecordOrigin } from './change.js';
import { DecodeError } from './errors.js';
import { excerpt, isObject, type JsonObject } from './json-value.js';
import {
  kinesisPosition,
  mongoPosition,
  mysqlPosition,
  oraclePosition,
  postgresPosition,
  sqlServerPosition,
} from './position.js';
import { REASON } from './reason-codes.js';

/** Connectors whose source block carries a position we can normalise. */
type Connector = 'postgresql' | 'mysql' | 'sqlserver' | 'oracle' | 'mongodb' | 'other';

/** `source.connector` names; a `Map`, so that a name such as `constructor` is simply unknown. */
const NAMED: ReadonlyMap<string, Connector> = new Map([
  ['postgresql', 'postgresql'],
  ['mysql', 'mysql'],
  ['mariadb', 'mysql'],
  ['sqlserver', 'sqlserver'],
  ['oracle', 'oracle'],
  ['mongodb', 'mongodb'],
]);

/**
 * The connector of a source block: `source.connector` when present, else inferred from the position fields
 * present (the Debezium-Embedded Kinesis demo and docs with `{context}` placeholders omit or
 * template the name).
 *
 * @example
 * ```ts
 * connectorOf({ file: 'mysql-bin.000003', pos: 154, row: 0 }); // 'mysql'
 * ```
 */
function connectorOf(source: JsonObject): Connector {
  const name = source.connector;
  // A real name decides (Db2 also has change_lsn/commit_lsn, in another format); guess only when the name is
  // missing or a documentation placeholder such as `{context}`.
  if (typeof name === 'string' && name !== '' && !name.includes('{')) return NAMED.get(name) ?? 'other';
  const has = (field: string) => Object.hasOwn(source, field);
  if (has('lsn') && (has('schema') || has('sequence'))) return 'postgresql';
  if (has('file') && has('pos')) return 'mysql';
  if (has('commit_lsn') || has('change_lsn')) return 'sqlserver';
  if (has('scn')) return 'oracle';
  if (has('ord') && (has('rs') || has('collection'))) return 'mongodb';
  return 'other';
}

/**
 * `<schema-or-db>.<table>`: Postgres, SQL Server and Oracle name the schema, MySQL the database, MongoDB the
 * database and collection.
 */
function tableOf(source: JsonObject, connector: Connector): string {
  const table = connector === 'mongodb' ? source.collection : source.table;
  const namespace =
    connector === 'mysql' || connector === 'mongodb' ? source.db : (source.schema ?? source.db);
  if (typeof table !== 'string' || table === '' || typeof namespace !== 'string')
    throw new DecodeError(
      REASON.INVALID_ENVELOPE,
      `Debezium source must name its table and its schema or db, received table=${excerpt(table, 60)} schema=${excerpt(source.schema, 60)} db=${excerpt(source.db, 60)}`,
    );
  return namespace === '' ? table : `${namespace}.${table}`;
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

/**
 * The normalised position of a change (docs/architecture.md contract 3). Connectors without a normalisable position
 * fall back to the Kinesis sequence number, which grows per partition key.
 */
function positionOf(source: JsonObject, connector: Connector, origin: RecordOrigin): string {
  switch (connector) {
    case 'postgresql':
      return postgresPosition(source.lsn, lastCommitLsnOf(source.sequence));
    case 'mysql':
      return mysqlPosition(source.file, source.pos, source.row);
    case 'sqlserver':
      return sqlServerPosition(source.commit_lsn, source.change_lsn, source.event_serial_no);
    case 'oracle':
      return oraclePosition(source.commit_scn, source.scn, source.ssn);
    case 'mongodb':
      return mongoPosition(source.ts_ms, source.ord, origin.sequenceNumber, origin.subSequenceNumber);
    default:
      return kinesisPosition(origin.sequenceNumber, origin.subSequenceNumber);
  }
}

/** Epoch milliseconds from a number or a digit string (the docs print `ts_ms` as strings). */
function epochMs(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value) && value !== '0') return Number(value);
  return null;
}

/** The source commit time; MySQL snapshot reads carry `source.ts_ms: 0`, then the envelope time is used. */
function commitTimeOf(envelope: JsonObject, source: JsonObject): number | null {
  return epochMs(source.ts_ms) ?? epochMs(envelope.ts_ms);
}

/**
 * The transaction id: the `transaction` block's id when transaction metadata is on, else `source.txId`
 * (Postgres, Oracle) or `source.gtid` (MySQL). Postgres transaction ids are `txId:LSN` and BEGIN/END differ in
 * the LSN part, so only the part before `:` is kept; MySQL GTIDs (`uuid:10`) are kept whole.
 */
function txIdOf(envelope: JsonObject, source: JsonObject, connector: Connector): string | null {
  const transaction = envelope.transaction;
  if (isObject(transaction) && typeof transaction.id === 'string') {
    return connector === 'postgresql' ? (transaction.id.split(':')[0] ?? transaction.id) : transaction.id;
  }
  if (typeof source.txId === 'number' || (typeof source.txId === 'string' && source.txId !== ''))
    return String(source.txId);
  if (typeof source.gtid === 'string' && source.gtid !== '') return source.gtid;
  return null;
}

/**
 * `source.snapshot` is a boolean in old connectors and a string enum in later ones (`true`, `false`, `first`,
 * `first_in_data_collection`, `last_in_data_collection`, `last`, `incremental`). Anything but false means the
 * row was read by a snapshot.
 *
 * @example
 * ```ts
 * isSnapshot('last_in_data_collection'); // true
 * isSnapshot('false'); // false
 * ```
 */
function isSnapshot(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value !== '' && value !== 'false';
  return false;
}

export type { Connector };
export { commitTimeOf, connectorOf, isSnapshot, positionOf, tableOf, txIdOf };
