/**
 * `cdc-event-processor`: the runtime. A projection module imports its types and helpers from here; services
 * that decode, publish or consume CDC records in their own code use the decoders, the producer and the
 * consumer handler factory. The infrastructure is `cdc-event-processor/cdk`.
 */

export { type Config, type ConfigInput, defaultConfig, parseConfig } from '../core/config/schema.js';
export { OptionsError } from '../core/errors.js';
export type { ChangeEvent, ChangeOp, RecordOrigin, RowImage } from '../core/events/change.js';
export { createDecodeContext, type TableDecodeSettings } from '../core/events/decode-context.js';
export {
  createDefaultRegistry,
  type DefaultRegistryOptions,
  FORMAT_CHOICES,
  type FormatChoice,
} from '../core/events/default-registry.js';
export { DecodeError } from '../core/events/errors.js';
export { kinesisEventRecords } from '../core/events/kinesis-event.js';
export { decodeKinesisRecord } from '../core/events/kinesis-record-decoder.js';
export { REASON, type ReasonCode } from '../core/events/reason-codes.js';
export { type DecodedRecord, DecoderRegistry } from '../core/events/registry.js';
export { ProjectionError } from '../core/processing/errors.js';
export {
  type ConflictDecision,
  type ConflictInput,
  mirrorProjection,
  type ProjectedState,
  type Projection,
  type ProjectionResult,
} from '../core/processing/projection.js';
export { ProducerError, RecordsRejectedError } from '../core/producer/errors.js';
export {
  type Accepted,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type ProducerStats,
} from '../core/producer/producer.js';
export type { DerivedUpdate } from '../core/state/derived-update.js';
export type { WriterStamp } from '../core/state/source-marks.js';
export { type ConsumerDependencies, createConsumerHandler } from '../functions/consumer/create-handler.js';
export {
  type ConfigFollowingDependencies,
  createConfigFollowingHandler,
} from '../functions/consumer/follow-config.js';
export { type DecodeOptions, decode } from './decode.js';
export { defineProjection } from './define-projection.js';
