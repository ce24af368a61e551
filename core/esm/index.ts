export { OptionsError } from '../errors.js';
export {
  EventSourceMapping,
  type EventSourceMappingOptions,
  type InvocationEvent,
  type KinesisHandler,
  laneOf,
  type ShardCheckpoint,
  type ShardOwnership,
  type ShardProgress,
} from './event-source-mapping.js';
export { FanOutReader, type FanOutReaderOptions, type SubscriptionEvent } from './fan-out-reader.js';
export { lambdaContext, toLambdaEvent, toLambdaRecord } from './lambda-event.js';
export { PollingReader, type PollingReaderOptions } from './polling-reader.js';
export { DEFAULT_SETTINGS, type MappingSettings, mappingSettings } from './settings.js';
export type { ShardCursor, ShardPage, ShardReader, ShardStart } from './shard-reader.js';
export { listStreamShards, type StreamShard } from './shards.js';
export {
  type EnsureStreamConsumerOptions,
  ensureStreamConsumer,
  StreamConsumerError,
} from './stream-consumer.js';
export { SubscriptionHandler } from './subscription-handler.js';
