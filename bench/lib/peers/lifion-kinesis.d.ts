/** The part of lifion-kinesis (plain JavaScript, no typings of its own) the peers benchmark uses. */
declare module 'lifion-kinesis' {
  import { PassThrough } from 'node:stream';

  interface LifionRecord {
    readonly partitionKey: string;
    readonly sequenceNumber: string;
    readonly approximateArrivalTimestamp?: Date;
    readonly data: unknown;
  }

  /** What a `data` event carries in polling mode. */
  interface LifionBatch {
    readonly shardId: string;
    readonly streamName: string;
    readonly millisBehindLatest: number;
    readonly records: readonly LifionRecord[];
    /** With `usePausedPolling`: asks for the shard's next batch (and stores this one's checkpoint first). */
    readonly continuePolling?: () => Promise<void>;
  }

  class Kinesis extends PassThrough {
    constructor(options: Record<string, unknown>);
    startConsumer(): Promise<void>;
    stopConsumer(): void;
    on(event: 'data', listener: (batch: LifionBatch) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export type { LifionBatch, LifionRecord };
  export default Kinesis;
}
