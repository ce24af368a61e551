/**
 * The owner-cache section of `npm run bench -- state`: a folding projection (the counting projection) on a
 * Zipf workload, cache off against cache on, after the same warm-up, on fresh tables each: DynamoDB requests,
 * read and write capacity units per event, events/s, hit ratio, against the write floor (distinct aggregates
 * per batch ÷ events per batch); the state is checked against the generator's model. Also the consumer
 * instances, workload and checks the hand-off section (`cache-hand-off.ts`) shares.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { parseConfig } from '../../../core/config/schema.js';
import { METRICS } from '../../../core/constants.js';
import { lambdaContext } from '../../../core/esm/lambda-event.js';
import type { Projection } from '../../../core/processing/projection.js';
import { StateCache } from '../../../core/state/state-cache.js';
import { StateStore } from '../../../core/state/state-store.js';
import { createConsumerHandler } from '../../../functions/consumer/create-handler.js';
import { createTables, type ResourceNames, resourceNames } from '../../../localstack/provision.js';
import { countingProjection } from '../../../localstack/run/effect-audit.js';
import { sameRow } from '../../../localstack/run/verify.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../../../localstack/workload/generator.js';
import { resetCounters } from '../instrument.js';
import { benchRecord } from '../kinesis-records.js';
import { markdownTable } from '../results.js';
import type { StateSection } from './section.js';

/** The workload of the owner-cache sections. */
interface CacheWorkloadSettings {
  /** Measured events per variant (after as many warm-up events). */
  readonly events: number;
  readonly aggregates: number;
  readonly zipfExponent: number;
  readonly batchSize: number;
}

/** Targets of the owner cache. */
const TARGETS = { requestsOverFloor: 1.05, hitRatio: 0.95, handOffHitRatio: 0.9, handOffWithinS: 10 };

/** The consumer's cache metrics as the handler publishes them, added up. */
function recordingMetrics() {
  const metrics = new Metrics({ namespace: 'bench' });
  const totals = new Map<string, number>();
  const publish = metrics.addMetric.bind(metrics);
  metrics.addMetric = (name, unit, value) => {
    totals.set(name, (totals.get(name) ?? 0) + value);
    return publish(name, unit, value);
  };
  return {
    metrics,
    take: (name: string) => {
      const value = totals.get(name) ?? 0;
      totals.set(name, 0);
      return value;
    },
  };
}

/** A consumer instance: the handler with an owner cache of its own on `names`' tables. */
function instance(client: DynamoDBClient, names: ResourceNames, cache: boolean, projection: Projection) {
  const recorded = recordingMetrics();
  const stateCache = new StateCache({ maxBytes: 64 * 1024 * 1024 });
  const handler = createConsumerHandler({
    dynamodb: client,
    stateTable: names.stateTable,
    parkedTable: names.parkedTable,
    config: parseConfig({ tables: WORKLOAD_TABLES, cache: { enabled: cache } }),
    logger: new Logger({ logLevel: 'CRITICAL' }),
    metrics: recorded.metrics,
    projection,
    stateCache,
  });
  const context = lambdaContext('bench', 900_000);
  return { run: (batch: KinesisStreamEvent) => handler(batch, context), stateCache, ...recorded };
}

/**
 * The workload in batches of `batchSize`: a snapshot (one change per aggregate, so that every aggregate
 * exists), then `events` Zipf changes; and the generator (its model is the expected state).
 */
function workload(settings: CacheWorkloadSettings, seed: number, events: number) {
  const { aggregates, zipfExponent, batchSize } = settings;
  const generator = new WorkloadGenerator({
    seed,
    aggregates,
    zipfExponent,
    projection: countingProjection,
  });
  const toBatches = (all: readonly ReturnType<WorkloadGenerator['next']>[], first: number) => {
    const batches: KinesisStreamEvent[] = [];
    for (let i = 0; i < all.length; i += batchSize)
      batches.push({ Records: all.slice(i, i + batchSize).map((e, j) => benchRecord(e, first + i + j + 1)) });
    return batches;
  };
  const snapshot = toBatches([...generator.snapshot()], 0);
  const batches = toBatches(
    Array.from({ length: events }, () => generator.next()),
    aggregates,
  );
  return { generator, snapshot, batches };
}

/** Distinct aggregates per batch ÷ events per batch: the fewest writes per event of any exactly-once consumer. */
function writeFloor(batches: readonly KinesisStreamEvent[]): number {
  let distinct = 0;
  let events = 0;
  for (const batch of batches) {
    distinct += new Set(batch.Records.map((r) => r.kinesis.partitionKey)).size;
    events += batch.Records.length;
  }
  return distinct / events;
}

/**
 * Lookups of aggregates the table did not hold yet (first seen in the batch): misses no cache can avoid,
 * counted per distinct aggregate of each measured batch, as the cache counts lookups.
 */
function newAggregateLookups(
  warmUp: readonly KinesisStreamEvent[],
  measured: readonly KinesisStreamEvent[],
): number {
  const seen = new Set(warmUp.flatMap((b) => b.Records.map((r) => r.kinesis.partitionKey)));
  let fresh = 0;
  for (const batch of measured) {
    const keys = new Set(batch.Records.map((r) => r.kinesis.partitionKey));
    for (const key of keys) if (!seen.has(key)) fresh++;
    for (const key of keys) seen.add(key);
  }
  return fresh;
}

/** Aggregates whose stored state differs from the model's (0: every change applied exactly once). */
async function wrongAggregates(
  client: DynamoDBClient,
  names: ResourceNames,
  generator: WorkloadGenerator,
): Promise<number> {
  const store = new StateStore({ client, tableName: names.stateTable, tombstoneTtlSeconds: 3600 });
  const expected = [...generator.model.aggregates()];
  let wrong = 0;
  for (let i = 0; i < expected.length; i += 100) {
    const chunk = expected.slice(i, i + 100);
    const found = await store.getMany(chunk.map((e) => e.aggregateId));
    for (const e of chunk) {
      const item = found.get(e.aggregateId);
      const same =
        item !== undefined &&
        item.deleted === e.deleted &&
        item.position === e.position &&
        sameRow(item.deleted ? null : item.state, e.deleted ? null : e.state);
      if (!same) wrong++;
    }
  }
  return wrong;
}

function met(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

function ownerCacheSection(settings: CacheWorkloadSettings): StateSection {
  return {
    name: 'cache',
    title: `Owner cache: folding projection, Zipf s = ${settings.zipfExponent} over ${settings.aggregates} aggregates, batches of ${settings.batchSize}`,
    async run({ client, counters }) {
      const { generator, snapshot, batches } = workload(settings, 31, 2 * settings.events);
      const warmUp = [...snapshot, ...batches.slice(0, batches.length / 2)];
      const measured = batches.slice(batches.length / 2);
      const floor = writeFloor(measured);
      const created = newAggregateLookups(warmUp, measured);
      const variants: Record<string, Record<string, number>> = {};
      let variantCount = 0;
      type Figures = Record<'requestsPerEvent' | 'hitRatio' | 'wrongAggregates', number> &
        Record<string, number>;
      for (const [label, cache] of [
        ['cache off', false],
        ['cache on', true],
      ] as const) {
        process.stderr.write(
          `state: ${label}: ${warmUp.length} warm-up and ${measured.length} measured batches…\n`,
        );
        const names = resourceNames(`bench-state-${variantCount++}-${Date.now().toString(36)}`);
        await createTables(client, names);
        const consumer = instance(client, names, cache, countingProjection);
        for (const batch of warmUp) await consumer.run(batch);
        consumer.take(METRICS.stateCacheHits);
        consumer.take(METRICS.stateCacheMisses);
        consumer.take(METRICS.stateCacheConditionalMisses);
        resetCounters(counters);
        const started = performance.now();
        for (const batch of measured) await consumer.run(batch);
        const seconds = (performance.now() - started) / 1000;
        const events = measured.reduce((n, b) => n + b.Records.length, 0);
        const hits = consumer.take(METRICS.stateCacheHits);
        const misses = consumer.take(METRICS.stateCacheMisses);
        variants[label] = {
          requestsPerEvent: counters.requests / events,
          readUnitsPerEvent: counters.readCapacity / events,
          writeUnitsPerEvent: counters.writeCapacity / events,
          eventsPerSecond: events / seconds,
          hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses),
          hitRatioOfExisting: hits + misses - created <= 0 ? 0 : hits / (hits + misses - created),
          conditionalMisses: consumer.take(METRICS.stateCacheConditionalMisses),
          wrongAggregates: await wrongAggregates(client, names, generator),
          cachedBytes: consumer.stateCache.bytes,
          cachedAggregates: consumer.stateCache.size,
        };
      }
      const off = variants['cache off'] as Figures;
      const on = variants['cache on'] as Figures;
      const targets = {
        requestsPerEvent: on.requestsPerEvent <= TARGETS.requestsOverFloor * floor,
        hitRatio: on.hitRatio >= TARGETS.hitRatio,
        exact: off.wrongAggregates === 0 && on.wrongAggregates === 0,
      };
      const row = (label: string, key: string, target = '', ok?: boolean) => [
        label,
        round(off[key]!),
        round(on[key]!),
        off[key] === 0 ? '' : `${(on[key]! / off[key]!).toFixed(2)}×`,
        target,
        ok === undefined ? '' : met(ok),
      ];
      const table = markdownTable(
        ['figure', 'cache off', 'cache on', 'on ÷ off', 'target (cache on)', 'result'],
        [
          row(
            'DynamoDB requests / event',
            'requestsPerEvent',
            `≤ ${TARGETS.requestsOverFloor} × floor ${round(floor)} = ${round(TARGETS.requestsOverFloor * floor)}`,
            targets.requestsPerEvent,
          ),
          row('read capacity units / event', 'readUnitsPerEvent'),
          row('write capacity units / event', 'writeUnitsPerEvent'),
          row('events / s', 'eventsPerSecond'),
          row('hit ratio', 'hitRatio', `≥ ${TARGETS.hitRatio}`, targets.hitRatio),
          row(
            `hit ratio, leaving out aggregates new to the table (${created} lookups)`,
            'hitRatioOfExisting',
          ),
          row('writes that lost their condition', 'conditionalMisses'),
          row('aggregates not as the model', 'wrongAggregates', '0', targets.exact),
          row('aggregates cached', 'cachedAggregates'),
          row('estimated bytes cached', 'cachedBytes'),
        ],
      );
      return {
        table,
        data: { floor, events: settings.events, newAggregateLookups: created, variants },
        targets,
      };
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export type { CacheWorkloadSettings };
export { instance, met, ownerCacheSection, round, TARGETS, workload, wrongAggregates };
