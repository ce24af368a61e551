import type { RecordOrigin } from '../core/events/change.js';
import { createDecodeContext, type TableDecodeSettings } from '../core/events/decode-context.js';
import { createDefaultRegistry, type FormatChoice } from '../core/events/default-registry.js';
import type { DecodedRecord } from '../core/events/registry.js';

interface DecodeOptions {
  /** `auto` detects the record's format. @default 'auto' */
  readonly format?: FormatChoice;
  /** Per-table settings, for example `{ 'public.orders': { keyColumns: ['id'] } }` for records without a key. */
  readonly tables?: Readonly<Record<string, TableDecodeSettings>>;
  /** Larger records are refused with `TOO_LARGE`. @default 1_048_576 */
  readonly maxRecordBytes?: number;
  /**
   * Where the record came from; formats without a source position (DMS) take it from the sequence number.
   * @default shard `shardId-000000000000`, sequence number `0`
   */
  readonly origin?: Partial<RecordOrigin>;
}

/**
 * Decodes one CDC record (Debezium, AWS DMS, DynamoDB's Kinesis integration) into normalised changes, exactly as
 * the consumer would, or throws a `DecodeError` with the reason code the consumer would park it with. One
 * record in, one decoder registry per call: for many records build one with `createDefaultRegistry`.
 *
 * @example
 * ```ts
 * const { changes } = decode(kinesisData, { tables: { 'public.orders': { keyColumns: ['id'] } } });
 * ```
 */
function decode(data: string | Uint8Array, options: DecodeOptions = {}): DecodedRecord {
  const registry = createDefaultRegistry({ format: options.format, maxRecordBytes: options.maxRecordBytes });
  const origin: RecordOrigin = {
    shardId: 'shardId-000000000000',
    sequenceNumber: '0',
    subSequenceNumber: 0,
    partitionKey: '',
    approximateArrivalTimestamp: 0,
    ...options.origin,
  };
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return registry.decode(bytes, origin, createDecodeContext(options.tables ?? {}));
}

export type { DecodeOptions };
export { decode };
