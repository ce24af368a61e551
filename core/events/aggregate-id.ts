import type { RowImage } from './change.js';
import { DecodeError } from './errors.js';
import { excerpt, getOwn } from './json-value.js';
import { REASON } from './reason-codes.js';

/**
 * Renders one key value. `|` separates key values and `\` escapes, so that ('a|b', 'c') and ('a', 'b|c') give
 * different ids.
 */
function renderKeyValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.replace(/[\\|]/g, (c) => `\\${c}`);
}

/** The columns of a row for an error message: their names, each and all cut short. */
function columnsOf(row: RowImage | null): string {
  if (row === null) return 'none';
  const names = Object.keys(row);
  const shown = names.slice(0, 20).map((n) => (n.length > 40 ? excerpt(n, 40) : n));
  return `${shown.join(', ')}${names.length > 20 ? `, … (${names.length} columns)` : ''}`;
}

/** A key column's value in the row: an own property only, and absent when null. */
function keyValueOf(row: RowImage | null, column: string): unknown {
  return row === null ? undefined : (getOwn(row, column) ?? undefined);
}

/**
 * `<schema-or-db>.<table>#<key values joined by '|'>`.
 *
 * @example
 * ```ts
 * aggregateIdOf('public.order_lines', [17, 2]); // 'public.order_lines#17|2'
 * ```
 */
function aggregateIdOf(table: string, keyValues: readonly unknown[]): string {
  return `${table}#${keyValues.map(renderKeyValue).join('|')}`;
}

/**
 * Picks the key values of a change, in rule order: the record key when there is one, else the configured key
 * columns of the table, else key columns the stream itself declared earlier (a DMS `create-table`), else a
 * column named `id`. Throws `MISSING_KEY` otherwise.
 *
 * @example
 * ```ts
 * resolveKeyValues({ table: 'public.foo', recordKey: undefined, configuredColumns: ['a', 'b'], row: { a: 1, b: 2 } });
 * // [1, 2]
 * ```
 */
function resolveKeyValues(input: {
  readonly table: string;
  readonly recordKey: RowImage | undefined;
  readonly configuredColumns: readonly string[] | undefined;
  readonly row: RowImage | null;
  /** Key columns learned from the stream (DMS `table-def`), used when none are configured. */
  readonly learnedColumns?: readonly string[] | undefined;
  /** Where the learned columns came from, for the error message. @default 'primary key column(s) from the create-table record' */
  readonly learnedFrom?: string;
}): unknown[] {
  const { table, recordKey, configuredColumns, row, learnedColumns } = input;
  const learnedFrom = input.learnedFrom ?? 'primary key column(s) from the create-table record';
  if (recordKey !== undefined && Object.keys(recordKey).length > 0) return Object.values(recordKey);
  const [columns, origin] =
    configuredColumns !== undefined && configuredColumns.length > 0
      ? [configuredColumns, 'configured key column(s)']
      : learnedColumns !== undefined && learnedColumns.length > 0
        ? [learnedColumns, learnedFrom]
        : [undefined, ''];
  if (columns !== undefined) {
    const missing = columns.filter((c) => keyValueOf(row, c) === undefined);
    if (missing.length > 0)
      throw new DecodeError(
        REASON.MISSING_KEY,
        `table ${table}: ${origin} ${missing.map((c) => excerpt(c, 40)).join(', ')} missing or null in the row image (columns present: ${columnsOf(row)}); the source must send key columns with every change`,
      );
    return columns.map((c) => keyValueOf(row, c));
  }
  const id = keyValueOf(row, 'id');
  if (id !== undefined) return [id];
  throw new DecodeError(
    REASON.MISSING_KEY,
    `table ${table}: no record key, no configured key columns and no 'id' column (columns present: ${columnsOf(row)}); configure key columns for the table (config tables["${table}"].keyColumns, or cdcp decode --key ${table}=COL)`,
  );
}

export { aggregateIdOf, resolveKeyValues };
