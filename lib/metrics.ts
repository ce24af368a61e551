import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { METRIC_DIMENSIONS, METRICS } from '../core/constants.js';

const ONE_MINUTE = Duration.minutes(1);

/** A metric the consumer publishes (Powertools EMF: namespace + `service` dimension). */
function consumerMetric(metricName: string, statistic = 'Sum', period = ONE_MINUTE): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName,
    dimensionsMap: { [METRIC_DIMENSIONS.service]: METRICS.service },
    statistic,
    period,
  });
}

/** A metric the cluster manager publishes. */
function clusterManagerMetric(metricName: string, statistic = 'Sum', period = ONE_MINUTE): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName,
    dimensionsMap: { [METRIC_DIMENSIONS.service]: METRICS.clusterManagerService },
    statistic,
    period,
  });
}

/**
 * Changes parked that wait for an operator: every parked change but those deferred by a paused or shed table
 * (which wait by design and replay by themselves). FILL: batches before the deferred count existed.
 */
function parkedForReview(period: Duration): MathExpression {
  return new MathExpression({
    expression: 'parked - FILL(deferred, 0)',
    usingMetrics: {
      parked: consumerMetric(METRICS.changesParked, 'Sum', period),
      deferred: consumerMetric(METRICS.changesDeferred, 'Sum', period),
    },
    label: 'changes parked for review (poison, behind a poison, bad input)',
    period,
  });
}

/**
 * A per-table latency metric over every table: a search, for widgets only (an alarm cannot search; it
 * watches the `{service}` series).
 */
function perTableLatency(metricName: string, statistic: string, label: string): MathExpression {
  const { namespace, service } = METRICS;
  const { service: serviceKey, table } = METRIC_DIMENSIONS;
  return new MathExpression({
    expression: `SEARCH('{${namespace},${table},${serviceKey}} MetricName="${metricName}" ${serviceKey}="${service}"', '${statistic}', 60)`,
    label,
    period: ONE_MINUTE,
  });
}

/**
 * Records the consumer's event source mapping gave up on: those it delivered to the failed-batches bucket
 * (the mapping's `EventCount` metrics) plus those it could not deliver there (the function's
 * `DestinationDeliveryFailures`).
 */
function recordsGivenUp(
  consumer: ConsumerMetrics,
  eventSourceMappingId: string,
  period: Duration,
): MathExpression {
  return new MathExpression({
    expression: 'FILL(delivered, 0) + FILL(undelivered, 0)',
    usingMetrics: {
      delivered: new Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OnFailureDestinationDeliveredEventCount',
        dimensionsMap: { EventSourceMappingUUID: eventSourceMappingId },
        statistic: 'Sum',
        period,
      }),
      undelivered: consumer.metric('DestinationDeliveryFailures', { statistic: 'Sum', period }),
    },
    label: 'records given up on',
    period,
  });
}

export { clusterManagerMetric, consumerMetric, ONE_MINUTE, parkedForReview, perTableLatency, recordsGivenUp };

/** The consumer's figures the monitoring reads: a Lambda function's, or a worker fleet's in their place. */
type ConsumerMetrics = Pick<IFunction, 'metric' | 'metricErrors' | 'metricThrottles'>;

export type { ConsumerMetrics };
