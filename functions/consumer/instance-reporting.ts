/**
 * A consumer that reports itself in the instance registry: the Lambda execution environment registers at its
 * first batch and heartbeats, piggy-backed on batches, with its load, hot partition keys and config version
 * (docs/architecture.md §6). The cluster manager and `cdcp config status` read what it writes.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { reportedConfigVersion } from '../../core/config/reported-version.js';
import type { ConfigSnapshot } from '../../core/config/source.js';
import { METRICS } from '../../core/constants.js';
import type { Clock } from '../../core/coordination/clock.js';
import { InstancePresence, type PresenceOperation } from '../../core/coordination/instance-presence.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import type { InstanceStore } from '../../core/coordination/store.js';
import type { LatencyRecorder } from '../../core/processing/latency.js';
import { ConsumerLoadTracker } from '../../core/scaling/consumer-load-tracker.js';
import { trackLoad } from './track-load.js';

interface InstanceReportingDependencies {
  readonly store: InstanceStore;
  /** The configuration in force: its `instances` timings (taken at the first batch) and version. */
  readonly config: () => Pick<ConfigSnapshot, 'config' | 'version' | 'appliedAtWallMs'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The latencies of the changes the handler applied (fed by its `onBatch`); each heartbeat reports those
   * since the previous one. @default none reported
   */
  readonly latency?: LatencyRecorder;
  /** @default a fresh `lambda-<uuid>`: module scope lives exactly as long as the execution environment */
  readonly instanceId?: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Longest a batch waits for its registration or heartbeat. @default 1_000 */
  readonly timeoutMs?: number;
  /** @default a warning and one `InstanceHeartbeatFailures` metric ({@link instanceFailureReporter}) */
  readonly onFailure?: (error: Error, operation: PresenceOperation) => void;
}

/**
 * A warning and one `InstanceHeartbeatFailures` metric, published at once (the batch's own metrics were
 * flushed already), and nothing else: the batch is not failed, and the next batch tries again.
 */
function instanceFailureReporter(deps: { readonly logger: Logger; readonly metrics: Metrics }) {
  return function reportInstanceFailure(error: Error, operation: PresenceOperation): void {
    deps.logger.warn(`instance ${operation} failed; the batch went on`, { error });
    deps.metrics.addMetric(METRICS.instanceHeartbeatFailures, MetricUnit.Count, 1);
    deps.metrics.publishStoredMetrics();
  };
}

/**
 * Wraps a consumer handler so that its instance reports itself: a {@link ConsumerLoadTracker} sees every
 * batch, and after each one an {@link InstancePresence} registers (first batch, or after being removed as
 * dead) or heartbeats when due, with the tracker's load and hot keys and `<version>@<applied at>`. A registry
 * that fails or is slow costs the batch at most `timeoutMs`, a log line and a metric, never the batch.
 *
 * @example
 * ```ts
 * const { handler } = withInstanceReporting(createConfigFollowingHandler(deps), {
 *   store, config: () => configSource.current(), logger, metrics,
 * });
 * ```
 */
function withInstanceReporting<R = KinesisStreamBatchResponse>(
  handler: (event: KinesisStreamEvent, context: Context) => Promise<R>,
  deps: InstanceReportingDependencies,
) {
  const tracker = new ConsumerLoadTracker({ clock: deps.clock });
  const presence = new InstancePresence({
    instanceId: deps.instanceId ?? InstanceRegistry.newInstanceId('lambda'),
    kind: 'lambda',
    clock: deps.clock,
    timeoutMs: deps.timeoutMs,
    registry: () => {
      const { failureDetectionMs, heartbeatsPerWindow } = deps.config().config.instances;
      return new InstanceRegistry({
        store: deps.store,
        clock: deps.clock,
        failureDetectionMs,
        heartbeatIntervalMs: Math.floor(failureDetectionMs / heartbeatsPerWindow),
      });
    },
    report: () => {
      const { load, hotKeys } = tracker.report();
      return {
        load: { ...load, ...deps.latency?.drain() },
        hotKeys,
        configVersion: reportedConfigVersion(deps.config()),
      };
    },
    onFailure: deps.onFailure ?? instanceFailureReporter(deps),
  });
  return {
    handler: trackLoad(handler, { tracker, afterBatch: () => presence.afterBatch() }),
    tracker,
    presence,
  };
}

export type { InstanceReportingDependencies };
export { instanceFailureReporter, withInstanceReporting };
