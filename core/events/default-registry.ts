/**
 * The registry with every format this project reads, in detection order. Shapes are tested from the most
 * specific to the loosest: a Debezium envelope (`op` + `source`), Debezium transaction markers and schema
 * changes, a DMS message (`metadata.record-type`), a DynamoDB Kinesis record (`dynamodb` + `eventName`), and
 * last a flattened Debezium row (`__op` / `__deleted` / `__table`).
 */

import { OptionsError } from '../errors.js';
import { debeziumDecoder } from './debezium.js';
import { debeziumSchemaChangeDecoder, debeziumTransactionDecoder } from './debezium-metadata.js';
import { debeziumUnwrappedDecoder, lenientDebeziumUnwrappedDecoder } from './debezium-unwrapped.js';
import type { ChangeDecoder } from './decoder.js';
import { createDmsDecoder } from './dms.js';
import { dynamodbDecoder } from './dynamodb.js';
import { DecoderRegistry } from './registry.js';
import { TableKeyMemory } from './table-keys.js';

/** `auto` detects per record; a format name reads every record as that format. */
type FormatChoice = 'auto' | 'debezium' | 'dms' | 'dynamodb';

const FORMAT_CHOICES: readonly FormatChoice[] = ['auto', 'debezium', 'dms', 'dynamodb'];

interface DefaultRegistryOptions {
  /**
   * `auto` detects each record's format; `debezium`, `dms` or `dynamodb` registers only that format (for
   * `debezium`, any JSON object that is not an envelope or marker is read as a flattened row). @default 'auto'
   */
  readonly format?: FormatChoice;
  /** Records larger than this are parked with `TOO_LARGE`. @default 1_048_576 */
  readonly maxRecordBytes?: number;
  /** Where DMS `create-table` primary keys are remembered. @default a new TableKeyMemory per registry */
  readonly tableKeys?: TableKeyMemory;
}

function decodersFor(format: FormatChoice, tableKeys: TableKeyMemory): ChangeDecoder[] {
  const debezium = [debeziumDecoder, debeziumTransactionDecoder, debeziumSchemaChangeDecoder];
  const dms = createDmsDecoder({ tableKeys });
  switch (format) {
    case 'debezium':
      return [...debezium, lenientDebeziumUnwrappedDecoder];
    case 'dms':
      return [dms];
    case 'dynamodb':
      return [dynamodbDecoder];
    default:
      return [...debezium, dms, dynamodbDecoder, debeziumUnwrappedDecoder];
  }
}

/**
 * Creates a registry with every decoder in detection order. Create one per consumer instance (it holds the
 * DMS table keys learned so far) and reuse it across batches.
 *
 * @example
 * ```ts
 * const registry = createDefaultRegistry({ maxRecordBytes: config.processing.maxRecordBytes });
 * const { changes, tombstone } = registry.decode(bytes, origin, createDecodeContext(config.tables));
 * ```
 */
function createDefaultRegistry(options: DefaultRegistryOptions = {}): DecoderRegistry {
  const format = options.format ?? 'auto';
  if (!FORMAT_CHOICES.includes(format))
    throw new OptionsError('format', format, `must be one of ${FORMAT_CHOICES.join(', ')}`);
  const registryOptions =
    options.maxRecordBytes === undefined ? {} : { maxRecordBytes: options.maxRecordBytes };
  return new DecoderRegistry({
    decoders: decodersFor(format, options.tableKeys ?? new TableKeyMemory()),
    ...registryOptions,
  });
}

export type { DefaultRegistryOptions, FormatChoice };
export { createDefaultRegistry, FORMAT_CHOICES };
