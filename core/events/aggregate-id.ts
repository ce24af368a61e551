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
 * columns of the table, else a column named `id`. Throws `MISSING_KEY` otherwise.
 */
function resolveKeyValues(input: {
  readonly table: string;
  readonly recordKey: RowImage | undefined;
  readonly configuredColumns: readonly string[] | undefined;
  readonly row: RowImage | null;
}): unknown[] {
  const { table, recordKey, configuredColumns, row } = input;
  if (recordKey !== undefined && Object.keys(recordKey).length > 0) return Object.values(recordKey);
  if (configuredColumns !== undefined && configuredColumns.length > 0) {
    const missing = configuredColumns.filter((c) => row === null || row[c] === undefined || row[c] === null);
    if (missing.length > 0)
      throw new DecodeError(
        REASON.MISSING_KEY,
        `table ${table}: configured key column(s) ${missing.join(', ')} missing from the row image`,
      );
    return configuredColumns.map((c) => row?.[c]);
  }
  if (row !== null && row.id !== undefined && row.id !== null) return [row.id];
  throw new DecodeError(
    REASON.MISSING_KEY,
    `table ${table}: no record key, no configured key columns and no 'id' column; configure key columns for the table`,
  );
}

export { aggregateIdOf, resolveKeyValues };
