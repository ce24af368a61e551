export { OptionsError } from '../errors.js';
export { aggregateIdOf, resolveKeyValues } from './aggregate-id.js';
export type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
export { debeziumDecoder, recordKeyOf } from './debezium.js';
export { debeziumSchemaChangeDecoder, debeziumTransactionDecoder } from './debezium-metadata.js';
export { applyRowSchema, type FieldSchema, rowSchemaOf } from './debezium-schema.js';
export { connectorOf, isSnapshot } from './debezium-source.js';
export { renderTemporal } from './debezium-time.js';
export { debeziumUnwrappedDecoder, lenientDebeziumUnwrappedDecoder } from './debezium-unwrapped.js';
export {
  DecimalRangeError,
  decimalFromBase64,
  decimalFromUnscaled,
  decodeBase64Strict,
  fitsDouble,
  MAX_DECIMAL_SCALE,
  MAX_UNSCALED_BYTES,
  plainDecimal,
  twosComplementToBigInt,
  withScale,
} from './decimal.js';
export { createDecodeContext, type TableDecodeSettings } from './decode-context.js';
export type { ChangeDecoder, DecodeContext } from './decoder.js';
export {
  createDefaultRegistry,
  type DefaultRegistryOptions,
  FORMAT_CHOICES,
  type FormatChoice,
} from './default-registry.js';
export { createDmsDecoder, type DmsDecoderOptions } from './dms.js';
export { dynamodbDecoder } from './dynamodb.js';
export { unmarshallImage, unmarshallValue } from './dynamodb-attributes.js';
export { DecodeError, EventsError } from './errors.js';
export {
  keepJsonNumberMark,
  MAX_JSON_DEPTH,
  markJsonNumber,
  type ParseJsonOptions,
  parseJsonExact,
  stringifyJsonExact,
  wasJsonNumber,
} from './exact-json.js';
export { type JsonDocument, splitJsonDocuments } from './json-documents.js';
export {
  describeValue,
  excerpt,
  getOwn,
  isObject,
  type JsonObject,
  nestsDeeperThan,
  setOwn,
} from './json-value.js';
export { type KinesisEventEntry, type KinesisEventRecord, kinesisEventRecords } from './kinesis-event.js';
export {
  decodeKinesisRecord,
  type KinesisRecordOutcome,
  type UserRecordOutcome,
} from './kinesis-record-decoder.js';
export {
  type DeaggregatedRecord,
  type DeaggregateOptions,
  deaggregate,
  effectiveHashKey,
  type HashKeyRange,
  isKplAggregate,
  type KinesisRecordInput,
  type UserRecord,
} from './kpl.js';
export {
  comparePositions,
  compareSequenceNumbers,
  type DynamodbTieBreak,
  dmsPosition,
  dynamodbPosition,
  kinesisPosition,
  mongoPosition,
  mysqlPosition,
  oraclePosition,
  padUnsigned,
  postgresPosition,
  sqlServerPosition,
} from './position.js';
export { ProtobufError, ProtobufReader } from './protobuf-reader.js';
export { REASON, type ReasonCode } from './reason-codes.js';
export {
  type DecodedRecord,
  DecoderRegistry,
  type DecoderRegistryOptions,
  MAX_AGGREGATE_ID_BYTES,
  MAX_ROW_DEPTH,
} from './registry.js';
export {
  DMS_SOURCE,
  debeziumSourceId,
  dynamodbSourceId,
  MAX_SOURCE_ID_LENGTH,
  UNNAMED_SOURCE,
} from './source-id.js';
export { TableKeyMemory, type TableKeyMemoryOptions } from './table-keys.js';
