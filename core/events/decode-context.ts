import type { DecodeContext } from './decoder.js';

/** Per-table decode settings, keyed by `<schema-or-db>.<table>` (the shape of the config's `tables`). */
interface TableDecodeSettings {
  /** Key columns, used when the record carries no key. */
  readonly keyColumns?: readonly string[];
  /** Decoder format for the table's records instead of detection (`debezium`, `debezium-unwrapped`, `dms`, `dynamodb`). */
  readonly format?: string;
}

/**
 * A {@link DecodeContext} over per-table settings.
 *
 * @example
 * ```ts
 * const context = createDecodeContext({ 'public.orders': { keyColumns: ['tenant', 'id'] } });
 * context.keyColumns('public.orders'); // ['tenant', 'id']
 * ```
 */
function createDecodeContext(
  tables: Readonly<Record<string, TableDecodeSettings | undefined>> = {},
): DecodeContext {
  const own = (table: string) => (Object.hasOwn(tables, table) ? tables[table] : undefined);
  const keyColumns = (table: string) => own(table)?.keyColumns;
  // Without any override the registry skips its per-record table lookup.
  if (!Object.values(tables).some((settings) => settings?.format !== undefined)) return { keyColumns };
  return { keyColumns, formatOverride: (table) => own(table)?.format };
}

export type { TableDecodeSettings };
export { createDecodeContext };
