import type { ChangeEvent, RecordOrigin } from './change.js';

/**
 * What a decoder may ask about the deployment: per-table settings from the configuration.
 *
 * @example
 * ```ts
 * const context: DecodeContext = { keyColumns: (table) => (table === 'public.orders' ? ['id'] : undefined) };
 * ```
 */
interface DecodeContext {
  /** Key columns configured for a table (`<schema-or-db>.<table>`), if any. */
  keyColumns(table: string): readonly string[] | undefined;
  /**
   * The decoder format to use for a table's records instead of detecting it (`debezium`,
   * `debezium-unwrapped`, `dms`, `dynamodb`); `undefined` detects. Optional: contexts without it detect.
   */
  formatOverride?(table: string): string | undefined;
}

/**
 * One CDC format. Decoders are registered in a {@link DecoderRegistry}; the registry asks each in turn
 * whether a parsed record looks like its format.
 *
 * @example
 * ```ts
 * const registry = new DecoderRegistry({ decoders: [debeziumDecoder, dynamodbDecoder] });
 * ```
 */
interface ChangeDecoder {
  readonly format: string;
  /** What the format looks like, for the message of a record no decoder recognises. */
  readonly expects?: string;
  /** Cheap shape test on the parsed JSON value. */
  matches(value: unknown): boolean;
  /** The table a record of this format names, if it names one (for per-table format overrides). */
  tableOf?(value: unknown): string | undefined;
  /** True when the record is this format's way of saying "tombstone" (a key with no value). */
  isTombstone?(value: unknown): boolean;
  /**
   * True when decoding reads what earlier records taught it (DMS `create-table` primary keys), so the same
   * record decoded again after later records may decode differently. The consumer keeps such changes from
   * their first decode instead of decoding them again when their aggregate's write is due. @default false
   */
  readonly stateful?: boolean;
  /**
   * Decodes one parsed record into zero or more changes (zero for a metadata-only record such as a DMS
   * control record or a Debezium transaction marker). Throws {@link DecodeError} for bad input.
   */
  decode(value: unknown, origin: RecordOrigin, context: DecodeContext): readonly ChangeEvent[];
}

export type { ChangeDecoder, DecodeContext };
