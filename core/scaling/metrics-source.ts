import type { HotKey, InstanceRecord } from '../coordination/records.js';
import { hashKeyOf } from './hash-key.js';
import type { KeyRate, MetricsHistory, OpenShard } from './model.js';

/** What the planner needs to see: the open shards and how far back. */
interface MetricsRequest {
  readonly shards: readonly OpenShard[];
  readonly nowWallMs: number;
  /** Trailing window to cover; the planner asks for its quiet window (the longest it looks back). */
  readonly windowMs: number;
}

/**
 * Where the manager reads load from. In AWS: CloudWatch (`CloudWatchMetricsSource`) and the consumers'
 * heartbeats; locally: figures the local runtime records (`InMemoryMetricsSource`) or a sample of the stream
 * itself (`StreamSampleMetricsSource`).
 *
 * @example
 * ```ts
 * const history = await source.fetch({ shards: view.openShards, nowWallMs: Date.now(), windowMs: policy.scaleInAfterMs });
 * ```
 */
interface MetricsSource {
  fetch(request: MetricsRequest): Promise<MetricsHistory>;
}

/**
 * Partition-key rates from the consumers' heartbeats: each instance reports the top keys of its sketch,
 * counted since its previous heartbeat (`ConsumerLoadTracker.report`), so a count over the period it covers
 * (`periodMs`, or the heartbeat interval when a key has none) is a rate. Rates of one key from several
 * instances (a shard read by successive Lambda environments, or by several at ParallelizationFactor > 1) add up.
 *
 * @example
 * ```ts
 * const keys = hotKeysFromInstances(await registry.listLive(), { heartbeatIntervalMs: 15_000 });
 * ```
 */
function hotKeysFromInstances(
  instances: readonly Pick<InstanceRecord, 'hotKeys'>[],
  options: { readonly heartbeatIntervalMs: number },
): KeyRate[] {
  const rates = new Map<string, number>();
  for (const instance of instances)
    for (const hot of instance.hotKeys as readonly HotKey[]) {
      const periodMs =
        hot.periodMs !== undefined && hot.periodMs > 0 ? hot.periodMs : options.heartbeatIntervalMs;
      rates.set(hot.key, (rates.get(hot.key) ?? 0) + hot.count / (periodMs / 1000));
    }
  return [...rates.entries()]
    .map(([key, recordsPerSecond]) => ({ partitionKey: key, hashKey: hashKeyOf(key), recordsPerSecond }))
    .sort((a, b) => b.recordsPerSecond - a.recordsPerSecond);
}

/** The highest lag any live instance reports in its heartbeat load, or `undefined` when none reports one. */
function lagFromInstances(instances: readonly Pick<InstanceRecord, 'load'>[]): number | undefined {
  const lags = instances.map((i) => i.load.lagMs).filter((l): l is number => typeof l === 'number');
  return lags.length === 0 ? undefined : Math.max(...lags);
}

export type { MetricsRequest, MetricsSource };
export { hotKeysFromInstances, lagFromInstances };
