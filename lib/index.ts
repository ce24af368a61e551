/**
 * `cdc-event-processor/cdk`: the CdcProcessor construct, its props and grants, and a stack holding one. The
 * runtime (projection types and helpers) is `cdc-event-processor`.
 */
export type { ProjectionIdentity } from '../projection-module/identity.js';
export { CdcProcessor } from './cdc-processor.js';
export { CdcProcessorStack, type CdcProcessorStackProps } from './cdc-processor-stack.js';
export { CdcProcessorPropsError } from './errors.js';
export { type CdcProcessorProps, DEFAULTS, type StartingPosition } from './props.js';
export { type ContainerConsumerProps, ShardConsumer, type WorkerReader } from './shard-consumer.js';
