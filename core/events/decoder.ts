import type { ChangeEvent, RecordOrigin } from './change.js';

/** What a decoder may ask about the deployment: per-table settings from the configuration. */
interface DecodeContext {
  /** Key columns configured for a table (`<schema-or-db>.<table>`), if any. */
  keyColumns(table: string): readonly string[] | undefined;
}

/**
 * One CDC format. Decoders are registered in a {@link DecoderRegistry}; the registry asks each in turn
 * whether a parsed record looks like its format.
 */
interface ChangeDecoder {
  readonly format: string;
  /** Cheap shape test on the parsed JSON value. */
  matches(value: unknown): boolean;
  /**
   * Decodes one parsed record into zero or more changes (zero for a tombstone or a metadata-only record).
   * Throws {@link DecodeError} for bad input.
   */
  decode(value: unknown, origin: RecordOrigin, context: DecodeContext): readonly ChangeEvent[];
}

export type { ChangeDecoder, DecodeContext };
