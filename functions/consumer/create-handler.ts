/**
 * The consumer Lambda's handler, built from explicit dependencies. `handler.ts` composes it from the Lambda
 * environment; the local event source mapping composes it from the embedded engines. Both run this code.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { isTableDeferred } from '../../core/config/deferral.js';
import type { Config } from '../../core/config/schema.js';
import { METRIC_DIMENSIONS, METRICS } from '../../core/constants.js';
import { createDecodeContext } from '../../core/events/decode-context.js';
import type { DecodeContext } from '../../core/events/decoder.js';
import { createDefaultRegistry } from '../../core/events/default-registry.js';
import type { DecoderRegistry } from '../../core/events/registry.js';
import { TableKeyMemory } from '../../core/events/table-keys.js';
import type { AggregateLocks } from '../../core/processing/aggregate-locks.js';
import {
  BatchProcessor,
  type BatchResult,
  type StreamRecord,
} from '../../core/processing/batch-processor.js';
import { conflictPolicies } from '../../core/processing/conflict-policies.js';
import type { ConflictPolicy } from '../../core/processing/conflicts.js';
import { BatchLatencies } from '../../core/processing/latency.js';
import { configuredProjection, mirrorProjection, type Projection } from '../../core/processing/projection.js';
import type { ProcessingTracer } from '../../core/processing/tracing.js';
import { CachingStateStore } from '../../core/state/caching-state-store.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateCache } from '../../core/state/state-cache.js';
import { StateStore } from '../../core/state/state-store.js';
import type { StateStorePort } from '../../core/state/state-store-port.js';
import { type AggregateLocksDependencies, aggregateLocksFor } from './aggregate-locks.js';

interface ConsumerDependencies {
  readonly dynamodb: DynamoDBClient;
  readonly stateTable: string;
  readonly parkedTable: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default the mirror projection */
  readonly projection?: Projection;
  /**
   * Where the batch's steps are traced (the Lambda passes Powertools Tracer through `xrayProcessingTracer`).
   * @default no tracing
   */
  readonly tracer?: ProcessingTracer;
  /**
   * Called after every batch, with its result and its applied changes' latencies (the local runtime counts
   * progress here, instances feed their heartbeats).
   */
  readonly onBatch?: (result: BatchResult, event: KinesisStreamEvent, latencies: BatchLatencies) => void;
  /**
   * Where keys learned from DMS control records are kept. @default the instance's own memory, kept across
   * config versions (tests that start each case on fresh tables give their own)
   */
  readonly tableKeys?: TableKeyMemory;
  /**
   * The owner cache of this instance, used while `cache.enabled` is on and the projection reads the previous
   * state. The handler's default is the instance's own ({@link instanceStateCache}: one per Lambda execution
   * environment or process); a worker passes its own so that it can drop and warm a shard's entries when the
   * shard's lease moves. `createProcessor` uses a cache only when given one.
   */
  readonly stateCache?: StateCache;
  /**
   * The coordination table, where a projection that declares `holdLocks` takes its aggregate locks (the
   * consumers always have it; tools that replay without locks need not). @default none
   */
  readonly coordinationTable?: string;
  /** This instance's id, the owner written on the locks it holds. @default a random UUID */
  readonly instanceId?: string;
}

/** `shardId-000000000006:49590338271490256608559692538361571095921575989136588898` → the shard id. */
function shardIdOf(eventId: string): string {
  const colon = eventId.indexOf(':');
  return colon === -1 ? eventId : eventId.slice(0, colon);
}

function toStreamRecords(event: KinesisStreamEvent): StreamRecord[] {
  return event.Records.map((r) => ({
    data: r.kinesis.data,
    partitionKey: r.kinesis.partitionKey,
    sequenceNumber: r.kinesis.sequenceNumber,
    approximateArrivalTimestamp: r.kinesis.approximateArrivalTimestamp,
    shardId: shardIdOf(r.eventID),
    eventSourceArn: r.eventSourceARN,
  }));
}

/** The owner cache's counters since the previous batch, and its size now. */
function publishCacheMetrics(metrics: Metrics, cache: StateCache): void {
  const counters = cache.drainCounters();
  metrics.addMetric(METRICS.stateCacheHits, MetricUnit.Count, counters.hits);
  metrics.addMetric(METRICS.stateCacheMisses, MetricUnit.Count, counters.misses);
  metrics.addMetric(METRICS.stateCacheConditionalMisses, MetricUnit.Count, counters.conditionalMisses);
  metrics.addMetric(METRICS.stateCacheWarmupReads, MetricUnit.Count, counters.warmupReads);
  metrics.addMetric(METRICS.stateCacheEvictions, MetricUnit.Count, counters.evictions);
  metrics.addMetric(METRICS.stateCacheBytes, MetricUnit.Bytes, cache.bytes);
}

function publishMetrics(metrics: Metrics, result: BatchResult): void {
  const { stats } = result;
  metrics.addMetric(METRICS.recordsReceived, MetricUnit.Count, stats.records);
  metrics.addMetric(METRICS.changesApplied, MetricUnit.Count, stats.applied);
  metrics.addMetric(METRICS.duplicatesSkipped, MetricUnit.Count, stats.duplicates);
  metrics.addMetric(METRICS.changesParked, MetricUnit.Count, stats.parked);
  metrics.addMetric(METRICS.changesDeferred, MetricUnit.Count, stats.deferred);
  metrics.addMetric(METRICS.badInput, MetricUnit.Count, stats.badInput);
  metrics.addMetric(METRICS.tombstonesSkipped, MetricUnit.Count, stats.tombstones);
  metrics.addMetric(METRICS.aggregatesQuarantined, MetricUnit.Count, stats.quarantined);
  metrics.addMetric(METRICS.aggregateFailures, MetricUnit.Count, stats.failedAggregates);
  metrics.addMetric(METRICS.stateWrites, MetricUnit.Count, stats.stateWrites);
}

/** Values of one metric in one EMF document: Powertools flushes the document at 100 (and drops its dimensions). */
const EMF_VALUES_PER_DOCUMENT = 99;

/**
 * One value per applied change of both latencies, as EMF documents of their own, per table: each document has
 * the dimension sets `{service, Table}` (the per-table widgets) and `{service}` (the alarm and the all-table
 * widgets; alarms cannot search), so CloudWatch keeps percentiles for both. Published before the batch's
 * counters are added: a flush publishes everything stored with the dimensions set at that moment.
 */
function publishLatencies(metrics: Metrics, latencies: BatchLatencies): void {
  const series = [
    [METRICS.sourceToAppliedLatency, 'sourceToAppliedMs'],
    [METRICS.arrivalToAppliedLatency, 'arrivalToAppliedMs'],
  ] as const;
  // What is stored already (a config refresh's figures) goes out first, under its own dimensions.
  if (latencies.size > 0 && metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  for (const [table, values] of latencies.byTable) {
    const longest = Math.max(values.sourceToAppliedMs.length, values.arrivalToAppliedMs.length);
    for (let start = 0; start < longest; start += EMF_VALUES_PER_DOCUMENT) {
      metrics.addDimension(METRIC_DIMENSIONS.table, table);
      metrics.addDimensions({});
      for (const [name, key] of series)
        for (const v of values[key].slice(start, start + EMF_VALUES_PER_DOCUMENT))
          metrics.addMetric(name, MetricUnit.Milliseconds, v);
      metrics.publishStoredMetrics();
    }
  }
}

/**
 * Primary keys learned from DMS `create-table` control records. Kept for the life of the instance, across
 * config versions (each version builds a new handler), so a table's rows keep one aggregate id.
 */
const learnedTableKeys = new TableKeyMemory();

/**
 * The owner caches of this execution environment (or process), kept across config versions: one per state
 * table (a deployment has one; tests and benchmarks that start on fresh tables get a fresh cache each).
 */
const ownCaches = new Map<string, StateCache>();

/**
 * The instance's own owner cache of `stateTable`, bounded by `cache.maxBytes` of `config` (a new bound starts
 * it empty). Module scope lives exactly as long as the Lambda execution environment, or the worker process.
 */
function instanceStateCache(config: Config, stateTable: string): StateCache {
  let cache = ownCaches.get(stateTable);
  if (cache === undefined) {
    cache = new StateCache({ maxBytes: config.cache.maxBytes });
    ownCaches.set(stateTable, cache);
  }
  return cache;
}

/**
 * The decoders and per-table settings the consumer decodes with (every format, detected per record). Keys
 * learned from DMS control records go to `tableKeys`: the instance's own memory unless a caller that must not
 * share it (a model of what the consumer will do) gives its own.
 */
function createDecoding(
  config: Config,
  tableKeys: TableKeyMemory = learnedTableKeys,
): { registry: DecoderRegistry; context: DecodeContext } {
  return {
    registry: createDefaultRegistry({ maxRecordBytes: config.processing.maxRecordBytes, tableKeys }),
    context: createDecodeContext(config.tables),
  };
}

/**
 * Whether batches read through the owner cache: it is on, there is one, and the projection reads the
 * previous state (a blind projection never reads, so a cache would only cost memory).
 */
function cacheOf(
  deps: Pick<ConsumerDependencies, 'config' | 'projection' | 'stateCache'>,
): StateCache | undefined {
  const reads = (deps.projection ?? mirrorProjection).needsPreviousState;
  return deps.config.cache.enabled && reads ? deps.stateCache : undefined;
}

/**
 * What a handler builds once for all its shards' processors: its aggregate locks (one lock client: two
 * clients of one owner would adopt each other's locks) and its tables' conflict policies. Built when the
 * handler is, so that a configuration the projection cannot run fails there.
 */
interface SharedParts {
  readonly locks: AggregateLocks | undefined;
  readonly conflictPolicy: (table: string) => ConflictPolicy;
}

function sharedParts(
  deps: AggregateLocksDependencies & Pick<ConsumerDependencies, 'config' | 'projection'>,
): SharedParts {
  const base = deps.projection ?? mirrorProjection;
  return {
    locks: aggregateLocksFor(base, deps.config, deps),
    conflictPolicy: conflictPolicies(deps.config, base),
  };
}

/** Where a processor runs: its shard, and the parts its handler shares. */
interface ProcessorScope {
  /** The shard whose batches the processor runs: the owner cache marks its entries as that shard's. */
  readonly shardId?: string;
  /** @default built for this processor alone */
  readonly shared?: SharedParts;
}

/**
 * Builds the batch processor the handler runs; lock metrics go to `metrics` when given. With a `stateCache`
 * (and the cache on, and a projection that reads the previous state), its state reads go through the cache.
 */
function createProcessor(
  deps: Omit<ConsumerDependencies, 'metrics' | 'onBatch'> & { readonly metrics?: Metrics },
  scope: ProcessorScope = {},
): BatchProcessor {
  const { config } = deps;
  const base = deps.projection ?? mirrorProjection;
  const decoding = createDecoding(config, deps.tableKeys);
  const table: StateStorePort = new StateStore({
    client: deps.dynamodb,
    tableName: deps.stateTable,
    tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
  });
  const cache = cacheOf(deps);
  const shared = scope.shared ?? sharedParts(deps);
  return new BatchProcessor({
    registry: decoding.registry,
    decodeContext: decoding.context,
    stateStore:
      cache === undefined ? table : new CachingStateStore({ store: table, cache, shardId: scope.shardId }),
    parkedStore: new ParkedStore({ client: deps.dynamodb, tableName: deps.parkedTable }),
    projection: configuredProjection(config, base),
    maxAttempts: config.processing.maxAttempts,
    aggregateConcurrency: config.processing.aggregateConcurrency,
    isDeferred: (table) => isTableDeferred(config, table),
    conflictPolicy: shared.conflictPolicy,
    logger: deps.logger,
    tracer: deps.tracer,
    locks: shared.locks,
  });
}

/**
 * The consumer handler: a thin middy handler over {@link BatchProcessor}, with Powertools logging (Lambda
 * context injected, at the configuration's `logging.level` when it has one) and EMF metrics, returning Lambda's partial batch
 * response.
 *
 * @example
 * ```ts
 * export const handler = createConsumerHandler({ dynamodb, stateTable, parkedTable, config, logger, metrics });
 * ```
 */
function createConsumerHandler(deps: ConsumerDependencies) {
  const withCache = {
    ...deps,
    stateCache: deps.stateCache ?? instanceStateCache(deps.config, deps.stateTable),
  };
  withCache.stateCache.resize(deps.config.cache.maxBytes);
  const cache = cacheOf(withCache);
  // Turned off: free what it held (and, turned on again later, start from nothing rather than from old items).
  if (cache === undefined) withCache.stateCache.clear();
  const shared = sharedParts(deps);
  // One processor per shard (a Lambda environment may be handed batches of several over its life; a worker
  // reads several at once), so that the cache knows which shard each entry came from.
  const processors = new Map<string, BatchProcessor>();
  const processorOf = (shardId: string): BatchProcessor => {
    let processor = processors.get(shardId);
    if (processor === undefined) {
      processor = createProcessor(withCache, { shardId, shared });
      processors.set(shardId, processor);
    }
    return processor;
  };
  const { logger, metrics } = deps;
  return middy(async function consumeBatch(
    event: KinesisStreamEvent,
    _context: Context,
  ): Promise<KinesisStreamBatchResponse> {
    // Here, not before the middlewares: Powertools' context injection resets the level to the one the logger
    // was started with, which is also what a configuration without a level keeps.
    const { level } = deps.config.logging;
    if (level !== undefined) logger.setLogLevel(level);
    const first = event.Records[0];
    const shardId = first === undefined ? '' : shardIdOf(first.eventID);
    if (first !== undefined) logger.appendKeys({ shardId });
    const latencies = new BatchLatencies();
    const result = await processorOf(shardId).process(toStreamRecords(event), latencies);
    logger.debug('batch processed', { ...result.stats, batchItemFailures: result.batchItemFailures });
    publishLatencies(metrics, latencies);
    publishMetrics(metrics, result);
    if (cache !== undefined) publishCacheMetrics(metrics, cache);
    deps.onBatch?.(result, event, latencies);
    return { batchItemFailures: result.batchItemFailures };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export type { ConsumerDependencies };
export {
  createConsumerHandler,
  createDecoding,
  createProcessor,
  instanceStateCache,
  publishLatencies,
  shardIdOf,
  toStreamRecords,
};
