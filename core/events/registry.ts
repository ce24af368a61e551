import type { ChangeEvent, RecordOrigin } from './change.js';
import type { ChangeDecoder, DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import { REASON } from './reason-codes.js';

interface DecoderRegistryOptions {
  readonly decoders: readonly ChangeDecoder[];
  /** Records larger than this are parked with `TOO_LARGE`. @default 1_048_576 (the Kinesis record limit) */
  readonly maxRecordBytes?: number;
}

/** Outcome of decoding one record: its changes, or nothing when the record is a tombstone. */
interface DecodedRecord {
  readonly changes: readonly ChangeEvent[];
  /** True for an empty or `null` record (a Debezium tombstone): nothing to apply. */
  readonly tombstone: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Detects a record's format and decodes it. The registry is open: later formats register more decoders.
 *
 * @example
 * ```ts
 * const registry = new DecoderRegistry({ decoders: [debeziumDecoder] });
 * const { changes } = registry.decode(bytes, origin, { keyColumns: () => undefined });
 * ```
 */
class DecoderRegistry {
  readonly #decoders: readonly ChangeDecoder[];
  readonly #maxRecordBytes: number;

  public constructor(options: DecoderRegistryOptions) {
    if (options.decoders.length === 0) throw new Error('DecoderRegistry needs at least one decoder');
    this.#decoders = options.decoders;
    this.#maxRecordBytes = options.maxRecordBytes ?? 1_048_576;
  }

  public get formats(): readonly string[] {
    return this.#decoders.map((d) => d.format);
  }

  /** Decodes raw record bytes. Throws {@link DecodeError} with a reason code for bad input. */
  public decode(data: Uint8Array, origin: RecordOrigin, context: DecodeContext): DecodedRecord {
    if (data.byteLength > this.#maxRecordBytes)
      throw new DecodeError(
        REASON.TOO_LARGE,
        `record is ${data.byteLength} bytes, above the maximum of ${this.#maxRecordBytes}`,
      );
    if (data.byteLength === 0) return { changes: [], tombstone: true };
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(data));
    } catch (cause) {
      throw new DecodeError(REASON.NOT_JSON, `record data is not UTF-8 JSON: ${(cause as Error).message}`, {
        cause,
      });
    }
    return this.decodeValue(value, origin, context);
  }

  /** Decodes an already parsed JSON value. */
  public decodeValue(value: unknown, origin: RecordOrigin, context: DecodeContext): DecodedRecord {
    if (value === null) return { changes: [], tombstone: true };
    const decoder = this.#decoders.find((d) => d.matches(value));
    if (decoder === undefined)
      throw new DecodeError(
        REASON.UNKNOWN_FORMAT,
        `record matches none of the formats ${this.formats.join(', ')}; expected for example a Debezium envelope with "op" and "source"`,
      );
    return { changes: decoder.decode(value, origin, context), tombstone: false };
  }
}

export type { DecodedRecord, DecoderRegistryOptions };
export { DecoderRegistry };
