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
 * counted since its previous heartbeat (`HeavyHitters.drain`), so a count over the heartbeat interval is a
 * rate. Counts of one key from several instances (a shard read by successive Lambda environments) add up.
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
  const counts = new Map<string, number>();
  for (const instance of instances)
    for (const hot of instance.hotKeys as readonly HotKey[])
      counts.set(hot.key, (counts.get(hot.key) ?? 0) + hot.count);
  const seconds = options.heartbeatIntervalMs / 1000;
  return [...counts.entries()]
    .map(([key, count]) => ({
      partitionKey: key,
      hashKey: hashKeyOf(key),
      recordsPerSecond: count / seconds,
    }))
    .sort((a, b) => b.recordsPerSecond - a.recordsPerSecond);
}

/** The highest lag any live instance reports in its heartbeat load, or `undefined` when none reports one. */
function lagFromInstances(instances: readonly Pick<InstanceRecord, 'load'>[]): number | undefined {
  const lags = instances.map((i) => i.load.lagMs).filter((l): l is number => typeof l === 'number');
  return lags.length === 0 ? undefined : Math.max(...lags);
}

export type { MetricsRequest, MetricsSource };
export { hotKeysFromInstances, lagFromInstances };
