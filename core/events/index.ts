export { aggregateIdOf, resolveKeyValues } from './aggregate-id.js';
export type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from './change.js';
export { debeziumDecoder } from './debezium.js';
export type { ChangeDecoder, DecodeContext } from './decoder.js';
export { DecodeError, EventsError } from './errors.js';
export {
  comparePositions,
  compareSequenceNumbers,
  kinesisPosition,
  mysqlPosition,
  padUnsigned,
  postgresPosition,
} from './position.js';
export { REASON, type ReasonCode } from './reason-codes.js';
export { type DecodedRecord, DecoderRegistry, type DecoderRegistryOptions } from './registry.js';
