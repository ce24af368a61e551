/**
 * Feeds a {@link ConsumerLoadTracker} with every batch a consumer handler runs: the one place the Lambda
 * handler and the local workers count partition keys, records and lag for their heartbeats.
 */

import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { ConsumerLoadTracker } from '../../core/scaling/consumer-load-tracker.js';
import { shardIdOf } from './create-handler.js';

type BatchHandler<R> = (event: KinesisStreamEvent, context: Context) => Promise<R>;

interface TrackLoadOptions {
  readonly tracker: ConsumerLoadTracker;
  /**
   * Runs after each batch, once the tracker has it (the Lambda registers and heartbeats here). It must not
   * throw; its time adds to the invocation's, so keep it bounded (`InstancePresence` is).
   */
  readonly afterBatch?: (context: Context) => Promise<unknown>;
}

/**
 * Wraps a consumer handler: the tracker sees each batch start and finish (its shard, partition keys and
 * arrival times), failed or not; then `afterBatch` runs. The handler's result or error passes through as is.
 *
 * @example
 * ```ts
 * export const handler = trackLoad(createConfigFollowingHandler(deps), { tracker, afterBatch: () => presence.afterBatch() });
 * ```
 */
function trackLoad<R = KinesisStreamBatchResponse>(handler: BatchHandler<R>, options: TrackLoadOptions) {
  const { tracker, afterBatch } = options;
  return async function trackedBatch(event: KinesisStreamEvent, context: Context): Promise<R> {
    tracker.batchStarted();
    let result: R;
    try {
      result = await handler(event, context);
    } finally {
      const first = event.Records[0];
      tracker.batchFinished(
        first === undefined ? '' : shardIdOf(first.eventID),
        event.Records.map((r) => r.kinesis),
      );
    }
    await afterBatch?.(context);
    return result;
  };
}

export type { TrackLoadOptions };
export { trackLoad };
