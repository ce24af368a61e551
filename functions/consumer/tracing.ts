/**
 * The consumer's tracing on Powertools Tracer (X-Ray): the processing core's tracing port as subsegments,
 * and the batch's annotations on the handler's subsegment.
 */

import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { KinesisStreamEvent } from 'aws-lambda';
import { noTracing, type ProcessingTracer, type TraceStep } from '../../core/processing/tracing.js';
import { shardIdOf } from './create-handler.js';

/** Subsegment names, in Powertools' convention (`## handler`, `### method`). */
const subsegmentName = (step: TraceStep) => `### ${step}`;

/**
 * The processing core's {@link ProcessingTracer} on Powertools Tracer: each step is an X-Ray subsegment of the
 * step it runs in, opened with the X-Ray SDK's `captureFunc` / `captureAsyncFunc`, which run the step in a
 * context of its own, so concurrent aggregates each nest their steps under their own subsegment. A step that
 * throws ends with the error recorded (fault). Annotations go to the innermost subsegment. With tracing off
 * (outside Lambda, or `POWERTOOLS_TRACE_ENABLED=false`, which the construct's `tracing: false` sets) this is
 * {@link noTracing}: no subsegment and no X-Ray call per step.
 *
 * @example
 * ```ts
 * const tracer = new Tracer({ serviceName: 'cdc-consumer', captureHTTPsRequests: false });
 * const handler = createConsumerHandler({ ...deps, tracer: xrayProcessingTracer(tracer) });
 * ```
 */
function xrayProcessingTracer(tracer: Tracer): ProcessingTracer {
  if (!tracer.isTracingEnabled()) return noTracing;
  // The X-Ray SDK returns what the captured function returns; Powertools types it `unknown`.
  return {
    traceSync: <T>(step: TraceStep, fn: () => T) =>
      tracer.provider.captureFunc(subsegmentName(step), () => fn()) as T,
    trace: <T>(step: TraceStep, fn: () => Promise<T>) =>
      tracer.provider.captureAsyncFunc(subsegmentName(step), async (subsegment) => {
        try {
          const result = await fn();
          subsegment?.close();
          return result;
        } catch (error) {
          subsegment?.close(error as Error);
          throw error;
        }
      }) as Promise<T>,
    annotate: (key, value) => tracer.putAnnotation(key, value),
  };
}

/**
 * A middy middleware that annotates the handler's subsegment with the batch's shard and record count (use it
 * after Powertools' `captureLambdaHandler`, which opens that subsegment), so a trace is found by shard.
 */
function annotateBatch(tracer: Tracer): MiddlewareObj<KinesisStreamEvent> {
  return {
    before: function annotateBatchBefore(request) {
      if (!tracer.isTracingEnabled()) return;
      const first = request.event.Records[0];
      if (first !== undefined) tracer.putAnnotation('shardId', shardIdOf(first.eventID));
      tracer.putAnnotation('records', request.event.Records.length);
    },
  };
}

export { annotateBatch, xrayProcessingTracer };
