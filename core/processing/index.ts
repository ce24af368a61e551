export {
  AggregateApplier,
  type AggregateApplierOptions,
  type AggregateOutcome,
  type PayloadSource,
} from './apply-aggregate.js';
export {
  BatchProcessor,
  type BatchProcessorOptions,
  type BatchResult,
  type BatchStats,
  type ChangeRef,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  emptyStats,
  type ProcessorLogger,
} from './batch-processor.js';
export { mapWithConcurrency } from './concurrency.js';
export { ProcessingError, ProjectionError } from './errors.js';
export {
  type FoldFailure,
  type FoldInput,
  type FoldResult,
  foldChanges,
  type PendingChange,
} from './fold.js';
export { groupByAggregate } from './group.js';
export {
  BatchLatencies,
  InstanceLatencies,
  LatencyRecorder,
  LatencySketch,
  type LatencySummary,
  type SerializedLatencies,
  type SerializedSketch,
  type TableLatencies,
} from './latency.js';
export {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  type ProjectedState,
  type Projection,
  withFaultInjection,
} from './projection.js';
export { ParkedReplayer, type ParkedReplayerOptions, type ReplayOutcome } from './replay.js';
export { originOf, parkedRecordOf, type StreamRecord, type SubRecord } from './stream-record.js';
export {
  annotateAggregate,
  noTracing,
  type ProcessingTracer,
  TRACED_AGGREGATES_PER_BATCH,
  type TraceAnnotation,
  TracedStateStore,
  type TraceStep,
} from './tracing.js';
