import { OptionsError } from '../errors.js';

/**
 * Primary keys learned from the stream itself: a DMS `create-table` control record lists the table's
 * `primary-key` columns, and later data records of that table carry no key of their own.
 *
 * The memory is per consumer instance: an instance that never saw the control record (another Lambda
 * environment, a restart, a record older than the batch) does not know the key. Configured key columns
 * therefore win over learned ones, and a table that needs its key on every instance should be configured.
 */

interface TableKeyMemoryOptions {
  /** Tables remembered at most; the least recently learned is forgotten first. @default 10_000 */
  readonly maxTables?: number;
}

/**
 * Remembers each table's primary key columns, bounded in size.
 *
 * @example
 * ```ts
 * const keys = new TableKeyMemory();
 * keys.remember('public.foo', ['id']);
 * keys.get('public.foo'); // ['id']
 * ```
 */
class TableKeyMemory {
  readonly #maxTables: number;
  readonly #keys = new Map<string, readonly string[]>();

  public constructor(options: TableKeyMemoryOptions = {}) {
    const maxTables = options.maxTables ?? 10_000;
    if (!Number.isInteger(maxTables) || maxTables < 1)
      throw new OptionsError('maxTables', maxTables, 'must be a positive integer');
    this.#maxTables = maxTables;
  }

  /** Records the key columns of `table`, replacing what was known. */
  public remember(table: string, columns: readonly string[]): void {
    this.#keys.delete(table);
    this.#keys.set(table, [...columns]);
    if (this.#keys.size > this.#maxTables) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  /** Forgets `table` (dropped, or recreated without a primary key). */
  public forget(table: string): void {
    this.#keys.delete(table);
  }

  public get(table: string): readonly string[] | undefined {
    return this.#keys.get(table);
  }

  public get size(): number {
    return this.#keys.size;
  }
}

export type { TableKeyMemoryOptions };
export { TableKeyMemory };
