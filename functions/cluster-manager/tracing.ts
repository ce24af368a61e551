/** The cluster manager's run on Powertools Tracer (X-Ray): its leadership and term as annotations. */

import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import type { ClusterManagerRun } from './create-handler.js';

/**
 * A middy middleware that annotates the handler's subsegment with whether this run led and under which term
 * (use it after Powertools' `captureLambdaHandler`: its `after` runs first, while that subsegment is open), so
 * the leader's runs are one search away.
 */
function annotateRun(tracer: Tracer): MiddlewareObj<ScheduledEvent, ClusterManagerRun> {
  return {
    after: function annotateRunAfter(request) {
      if (!tracer.isTracingEnabled() || request.response === null) return;
      tracer.putAnnotation('leader', request.response.leader);
      if (request.response.term !== undefined) tracer.putAnnotation('term', request.response.term);
    },
  };
}

export { annotateRun };
