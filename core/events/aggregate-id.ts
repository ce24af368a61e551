import type { RowImage } from './change.js';
import { DecodeError } from './errors.js';
import { REASON } from './reason-codes.js';

/**
 * Renders one key value. `|` separates key values and `\` escapes, so that ('a|b', 'c') and ('a', 'b|c') give
 * different ids.
 */
function renderKeyValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/[\\|]/g, (c) => `\\${c}`);
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
    const missing = columns.filter((c) => row === null || row[c] === undefined || row[c] === null);
    if (missing.length > 0)
      throw new DecodeError(
        REASON.MISSING_KEY,
        `table ${table}: ${origin} ${missing.join(', ')} missing or null in the row image (columns present: ${row === null ? 'none' : Object.keys(row).join(', ')}); the source must send key columns with every change`,
      );
    return columns.map((c) => row?.[c]);
  }
  if (row !== null && row.id !== undefined && row.id !== null) return [row.id];
  throw new DecodeError(
    REASON.MISSING_KEY,
    `table ${table}: no record key, no configured key columns and no 'id' column (columns present: ${row === null ? 'none' : Object.keys(row).join(', ')}); configure key columns for the table (config tables["${table}"].keyColumns, or cdcp decode --key ${table}=COL)`,
  );
}

export { aggregateIdOf, resolveKeyValues };
