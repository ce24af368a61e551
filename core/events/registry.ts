import { messageOf, OptionsError } from '../errors.js';
import type { ChangeEvent, RecordOrigin } from './change.js';
import type { ChangeDecoder, DecodeContext } from './decoder.js';
import { DecodeError } from './errors.js';
import { MAX_JSON_DEPTH, parseJsonExact } from './exact-json.js';
import { describeValue, nestsDeeperThan } from './json-value.js';
import { REASON } from './reason-codes.js';

interface DecoderRegistryOptions {
  /** Decoders in detection order: the first whose `matches` accepts a record decodes it. */
  readonly decoders: readonly ChangeDecoder[];
  /** Records larger than this are parked with `TOO_LARGE`. @default 1_048_576 (the Kinesis record limit) */
  readonly maxRecordBytes?: number;
}

/** Outcome of decoding one record: its changes, or nothing when the record is a tombstone. */
interface DecodedRecord {
  readonly changes: readonly ChangeEvent[];
  /** True for an empty or `null` record (a Debezium tombstone): nothing to apply. */
  readonly tombstone: boolean;
  /**
   * The decoder that read the record (`debezium`, `debezium-transaction`, `dms`, …); `null` for a tombstone.
   * A record with a format and no changes is metadata (a DMS control record, a transaction marker).
   */
  readonly format?: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Aggregate ids key state items (DynamoDB keys take 2,048 bytes, parked keys add a prefix); 1 KiB is plenty. */
const MAX_AGGREGATE_ID_BYTES = 1024;

/**
 * Nesting levels of a row image (a flat row is 1). DynamoDB allows 32 levels counting the item itself, and
 * the state item holds the row as one attribute, so a row deeper than 31 can never be stored: it is parked
 * at decode time rather than failing every write (measured on DynamoDB Local: an attribute of 31 nested maps
 * or lists is accepted, 32 are refused).
 */
const MAX_ROW_DEPTH = 31;

function preview(data: Uint8Array): string {
  const text = Buffer.from(data.subarray(0, 40))
    .toString('utf8')
    .replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(text + (data.byteLength > 40 ? '…' : ''));
}

/** UTF-8 JSON, strictly: invalid UTF-8 is `NOT_JSON`, not replacement characters. */
function parseRecord(data: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch (cause) {
    throw new DecodeError(
      REASON.NOT_JSON,
      `record data is not UTF-8 (${messageOf(cause)}); it starts with ${preview(data)}`,
      { cause },
    );
  }
  try {
    return parseJsonExact(text);
  } catch (cause) {
    if (cause instanceof DecodeError) throw cause;
    throw new DecodeError(
      REASON.NOT_JSON,
      `record data is not UTF-8 JSON (${messageOf(cause)}); it starts with ${preview(data)}`,
      { cause },
    );
  }
}

/** Bounds every change must keep to be stored: a short enough aggregate id, a shallow enough row. */
function checkStorable(change: ChangeEvent): void {
  const bytes = Buffer.byteLength(change.aggregateId);
  if (bytes > MAX_AGGREGATE_ID_BYTES)
    throw new DecodeError(
      REASON.KEY_TOO_LONG,
      `aggregate id of table ${change.table} is ${bytes} bytes, above ${MAX_AGGREGATE_ID_BYTES} (it keys DynamoDB items and Kinesis records); configure shorter key columns for the table`,
    );
  if (nestsDeeperThan(change.after, MAX_ROW_DEPTH))
    throw new DecodeError(
      REASON.TOO_DEEP,
      `row of ${change.aggregateId} nests more than ${MAX_ROW_DEPTH} levels of objects and arrays; DynamoDB stores at most 32 levels counting the item, so this change can never be stored: flatten the column at the source`,
    );
}

/**
 * Detects a record's format and decodes it. The registry is open: later formats register more decoders.
 *
 * Detection asks each decoder in order whether the record looks like its format. A table can be pinned to
 * one format with `context.formatOverride(table)`; the table is taken from the first decoder that can name
 * the record's table.
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
    const maxRecordBytes = options.maxRecordBytes ?? 1_048_576;
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1)
      throw new OptionsError('maxRecordBytes', maxRecordBytes, 'must be a positive integer');
    this.#decoders = options.decoders;
    this.#maxRecordBytes = maxRecordBytes;
  }

  public get formats(): readonly string[] {
    return this.#decoders.map((d) => d.format);
  }

  /**
   * Whether records of `format` may decode differently when decoded again later (see
   * {@link ChangeDecoder.stateful}); such changes are kept from their first decode.
   */
  public isStateful(format: string | null | undefined): boolean {
    return this.#decoders.some((d) => d.format === format && d.stateful === true);
  }

  /**
   * Decodes raw record bytes, as the consumer does. Throws {@link DecodeError} with a reason code for bad
   * input, and only that: whatever a record holds, the outcome is its changes or a reason to park it.
   */
  public decode(data: Uint8Array, origin: RecordOrigin, context: DecodeContext): DecodedRecord {
    if (data.byteLength > this.#maxRecordBytes)
      throw new DecodeError(
        REASON.TOO_LARGE,
        `record is ${data.byteLength} bytes, above the maximum of ${this.#maxRecordBytes}; raise processing.maxRecordBytes if such records are expected`,
      );
    if (data.byteLength === 0) return { changes: [], tombstone: true, format: null };
    return this.#decodeParsed(parseRecord(data), origin, context);
  }

  /**
   * Decodes an already parsed JSON value (parse it with `parseJsonExact` to keep large numbers exact). A value
   * nesting deeper than a record may is `TOO_DEEP`, as {@link decode} would say of its text.
   */
  public decodeValue(value: unknown, origin: RecordOrigin, context: DecodeContext): DecodedRecord {
    if (nestsDeeperThan(value, MAX_JSON_DEPTH))
      throw new DecodeError(
        REASON.TOO_DEEP,
        `record nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; no change that deep can be stored (DynamoDB allows 32 levels): fix the producer`,
      );
    return this.#decodeParsed(value, origin, context);
  }

  #decodeParsed(value: unknown, origin: RecordOrigin, context: DecodeContext): DecodedRecord {
    try {
      return this.#decodeChecked(value, origin, context);
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      // A decoder that throws anything else met input it did not expect: still bad input, parked, never a crash.
      throw new DecodeError(
        REASON.INVALID_ENVELOPE,
        `the record could not be decoded (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}); check what produced it`,
        { cause: error },
      );
    }
  }

  #decodeChecked(value: unknown, origin: RecordOrigin, context: DecodeContext): DecodedRecord {
    if (value === null || this.#decoders.some((d) => d.isTombstone?.(value) === true))
      return { changes: [], tombstone: true, format: null };
    const decoder = this.#overrideFor(value, context) ?? this.#decoders.find((d) => d.matches(value));
    if (decoder === undefined)
      throw new DecodeError(
        REASON.UNKNOWN_FORMAT,
        `record matches none of the formats ${this.formats.join(', ')}: expected ${this.#decoders
          .map((d) => d.expects ?? d.format)
          .join('; or ')}. Received ${describeValue(value)}`,
      );
    const changes = decoder.decode(value, origin, context);
    for (const change of changes) checkStorable(change);
    return { changes, tombstone: false, format: decoder.format };
  }

  #overrideFor(value: unknown, context: DecodeContext): ChangeDecoder | undefined {
    if (context.formatOverride === undefined) return undefined;
    for (const decoder of this.#decoders) {
      const table = decoder.tableOf?.(value);
      if (table === undefined) continue;
      const format = context.formatOverride(table);
      if (format === undefined) return undefined;
      const pinned = this.#decoders.find((d) => d.format === format);
      if (pinned === undefined)
        throw new DecodeError(
          REASON.UNKNOWN_FORMAT,
          `table ${table} is configured to use format "${format}", which is not one of ${this.formats.join(', ')}; fix the table's format setting`,
        );
      return pinned;
    }
    return undefined;
  }
}

export type { DecodedRecord, DecoderRegistryOptions };
export { DecoderRegistry, MAX_AGGREGATE_ID_BYTES, MAX_ROW_DEPTH };
