/**
 * state: what distributed state management costs in the consumer, on DynamoDB Local, each comparison measured
 * in the same run on the same engine. A list of sections, each with its own table:
 *
 * - owner cache: a folding projection (the counting projection) on a Zipf workload, cache off against cache
 *   on, after the same warm-up: DynamoDB requests, read and write capacity units per event, events/s, hit
 *   ratio, against the write floor (distinct aggregates per batch ÷ events per batch);
 * - owner cache across a hand-off: one shard's batches at a steady rate on instance A, then handed to
 *   instance B (A drops the shard; B warms from A's heartbeat hot keys), hit ratio per second around it, with
 *   and without the warm-up.
 *
 * Options (environment): BENCH_STATE_EVENTS (measured events per cache variant, default 10,000, after as many
 * warm-up events), BENCH_STATE_AGGREGATES (default 10,000), BENCH_STATE_RATE (events/s of the hand-off run,
 * default 1,000: a shard's write limit), BENCH_STATE_BEFORE_S / BENCH_STATE_AFTER_S (seconds before and after
 * the hand-off, default 10 and 15), BENCH_STATE_SECTIONS (some sections only, by name).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { parseConfig } from '../core/config/schema.js';
import { METRICS } from '../core/constants.js';
import type { InstanceRecord } from '../core/coordination/records.js';
import { lambdaContext } from '../core/esm/lambda-event.js';
import type { Projection } from '../core/processing/projection.js';
import { ConsumerLoadTracker } from '../core/scaling/consumer-load-tracker.js';
import { StateCache } from '../core/state/state-cache.js';
import { StateStore } from '../core/state/state-store.js';
import { cacheFollowingLeases } from '../core/workers/cache-follows-leases.js';
import { dynamoDbHandOffKeys } from '../core/workers/hand-off-keys.js';
import { createConsumerHandler } from '../functions/consumer/create-handler.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../localstack/clients.js';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { createTables, type ResourceNames, resourceNames } from '../localstack/provision.js';
import { countingProjection } from '../localstack/run/effect-audit.js';
import { sameRow } from '../localstack/run/verify.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../localstack/workload/generator.js';
import { type DynamoCounters, instrument, resetCounters } from './lib/instrument.js';
import { benchRecord } from './lib/kinesis-records.js';
import { markdownTable, writeResult } from './lib/results.js';

const EVENTS = Number(process.env.BENCH_STATE_EVENTS ?? 10_000);
const AGGREGATES = Number(process.env.BENCH_STATE_AGGREGATES ?? 10_000);
const RATE = Number(process.env.BENCH_STATE_RATE ?? 1_000);
const BEFORE_S = Number(process.env.BENCH_STATE_BEFORE_S ?? 10);
const AFTER_S = Number(process.env.BENCH_STATE_AFTER_S ?? 15);
const BATCH = 100;
const ZIPF = 1.1;
const SHARD = 'shardId-000000000000';
/** Targets of the owner cache. */
const TARGETS = { requestsOverFloor: 1.05, hitRatio: 0.95, handOffHitRatio: 0.9, handOffWithinS: 10 };

/** What a benchmark section shares: the engine, a counted client, the run's settings. */
interface BenchContext {
  readonly client: DynamoDBClient;
  readonly counters: DynamoCounters;
}

/** A section's table and raw figures. */
interface SectionResult {
  readonly table: string;
  readonly data: unknown;
  /** Targets met (true), missed (false). */
  readonly targets: Record<string, boolean>;
}

/** One part of the benchmark. Sections run in order; each makes its own tables. */
interface BenchSection {
  readonly name: string;
  readonly title: string;
  run(context: BenchContext): Promise<SectionResult>;
}

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
 * The workload in batches of {@link BATCH}: a snapshot (one change per aggregate, so that every aggregate
 * exists), then `events` Zipf changes; and the generator (its model is the expected state).
 */
function workload(seed: number, events: number) {
  const generator = new WorkloadGenerator({
    seed,
    aggregates: AGGREGATES,
    zipfExponent: ZIPF,
    projection: countingProjection,
  });
  const toBatches = (all: readonly ReturnType<WorkloadGenerator['next']>[], first: number) => {
    const batches: KinesisStreamEvent[] = [];
    for (let i = 0; i < all.length; i += BATCH)
      batches.push({ Records: all.slice(i, i + BATCH).map((e, j) => benchRecord(e, first + i + j + 1)) });
    return batches;
  };
  const snapshot = toBatches([...generator.snapshot()], 0);
  const batches = toBatches(
    Array.from({ length: events }, () => generator.next()),
    AGGREGATES,
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

const ownerCacheCost: BenchSection = {
  name: 'cache',
  title: `Owner cache: folding projection, Zipf s = ${ZIPF} over ${AGGREGATES} aggregates, batches of ${BATCH}`,
  async run({ client, counters }) {
    const { generator, snapshot, batches } = workload(31, 2 * EVENTS);
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
        row(`hit ratio, leaving out aggregates new to the table (${created} lookups)`, 'hitRatioOfExisting'),
        row('writes that lost their condition', 'conditionalMisses'),
        row('aggregates not as the model', 'wrongAggregates', '0', targets.exact),
        row('aggregates cached', 'cachedAggregates'),
        row('estimated bytes cached', 'cachedBytes'),
      ],
    );
    return { table, data: { floor, events: EVENTS, newAggregateLookups: created, variants }, targets };
  },
};

/** How the new owner warms its cache after the hand-off. */
type Warming = 'hand-off keys' | 'hot keys' | 'none';

/**
 * The hand-off run of one variant: A runs the shard's snapshot and a warm-up unpaced, then at a steady
 * rate; then A lets the
 * shard go (leaving its cached ids when `warming` is `hand-off keys`) and B takes it. The hit ratio of every
 * batch, by seconds since the hand-off.
 */
async function handOffRun({ client, counters }: BenchContext, warming: Warming) {
  const perSecond = Math.max(1, Math.round(RATE / BATCH));
  const warmUpEvents = EVENTS;
  const { generator, snapshot, batches } = workload(
    47,
    warmUpEvents + (BEFORE_S + AFTER_S) * perSecond * BATCH,
  );
  const names = resourceNames(`bench-state-handoff-${warming.replace(/ /g, '-')}-${Date.now().toString(36)}`);
  await createTables(client, names);
  const reader = new StateStore({ client, tableName: names.stateTable, tombstoneTtlSeconds: 3600 });
  const handOffKeys =
    warming === 'hand-off keys'
      ? dynamoDbHandOffKeys({ client, tableName: names.coordinationTable, streamName: 'bench' })
      : undefined;
  const a = instance(client, names, true, countingProjection);
  const b = instance(client, names, true, countingProjection);
  // A's heartbeat: its load tracker's hot keys, drained every 5 s (the default heartbeat interval).
  const tracker = new ConsumerLoadTracker({ keysPerShard: 8 });
  let heartbeat: InstanceRecord['hotKeys'] = [];
  let lastBeatMs = performance.now();
  const follow = (cache: StateCache, instanceId: string) =>
    cacheFollowingLeases({
      cache,
      reader,
      instanceId,
      listInstances: async () => [{ instanceId: 'a', hotKeys: heartbeat } as InstanceRecord],
      handOffKeys,
      active: () => warming !== 'none',
    });
  const followA = follow(a.stateCache, 'a');
  const followB = follow(b.stateCache, 'b');
  const warmUp = [...snapshot, ...batches.slice(0, warmUpEvents / BATCH)];
  const paced = batches.slice(warmUpEvents / BATCH);
  for (const batch of warmUp) await a.run(batch);
  for (const name of [METRICS.stateCacheHits, METRICS.stateCacheMisses]) a.take(name);
  const points: { atS: number; hits: number; misses: number; owner: 'a' | 'b' }[] = [];
  const start = performance.now();
  let handOffAtMs: number | undefined;
  let handOffRequests = 0;
  let requestsAtHandOff = 0;
  for (const [index, batch] of paced.entries()) {
    // Paced: batch i is due at i / perSecond s; a consumer that falls behind runs them back to back.
    const wait = start + (index / perSecond) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const onA = index < BEFORE_S * perSecond;
    if (!onA && handOffAtMs === undefined) {
      // A finished its last batch and lets the shard go: it leaves its ids, hands off and drops the shard;
      // B acquires it and warms in the background while it reads.
      handOffAtMs = performance.now();
      const before = counters.requests;
      await followA.beforeLettingGo(SHARD);
      handOffRequests = counters.requests - before;
      requestsAtHandOff = counters.requests;
      followA.onEvent({ type: 'handed-off', shardId: SHARD, to: 'b', checkpoint: undefined });
      followB.onEvent({ type: 'acquired', shardId: SHARD, fence: 2, how: 'adopted', startAfter: undefined });
    }
    const consumer = onA ? a : b;
    await consumer.run(batch);
    if (onA) {
      tracker.batchFinished(
        SHARD,
        batch.Records.map((r) => r.kinesis),
      );
      if (performance.now() - lastBeatMs >= 5_000) {
        heartbeat = tracker.drainHotKeys();
        lastBeatMs = performance.now();
      }
    }
    points.push({
      atS: (performance.now() - (handOffAtMs ?? performance.now())) / 1000,
      hits: consumer.take(METRICS.stateCacheHits),
      misses: consumer.take(METRICS.stateCacheMisses),
      owner: onA ? 'a' : 'b',
    });
  }
  await followB.idle();
  return {
    points,
    warmupReads: b.take(METRICS.stateCacheWarmupReads) + b.stateCache.drainCounters().warmupReads,
    handOffRequests,
    conditionalMisses: b.take(METRICS.stateCacheConditionalMisses),
    bRequests: counters.requests - requestsAtHandOff,
    bEventsPerSecond: ((paced.length - BEFORE_S * perSecond) * BATCH) / (points.at(-1)!.atS || 1),
    hotKeys: heartbeat.length,
    wrongAggregates: await wrongAggregates(client, names, generator),
  };
}

/** Hit ratio per whole second around the hand-off (second -1: A's last second before it). */
function bySecond(
  points: readonly { atS: number; hits: number; misses: number; owner: string }[],
  perSecond: number,
) {
  const onA = points.filter((p) => p.owner === 'a').slice(-perSecond);
  const seconds = new Map<number, { hits: number; misses: number }>();
  for (const p of [...onA, ...points.filter((q) => q.owner === 'b')]) {
    const s = p.owner === 'a' ? -1 : Math.floor(p.atS);
    const w = seconds.get(s) ?? { hits: 0, misses: 0 };
    w.hits += p.hits;
    w.misses += p.misses;
    seconds.set(s, w);
  }
  return new Map(
    [...seconds.entries()]
      .sort(([x], [y]) => x - y)
      .map(([s, w]) => [s, w.hits + w.misses === 0 ? 1 : w.hits / (w.hits + w.misses)]),
  );
}

/** The first second after the hand-off whose hit ratio is above the target and stays above it after. */
function recoveredWithinS(ratios: ReadonlyMap<number, number>): number | undefined {
  const after = [...ratios.entries()].filter(([s]) => s >= 0);
  for (let i = 0; i < after.length; i++)
    if (after.slice(i).every(([, r]) => r > TARGETS.handOffHitRatio)) return after[i]![0] + 1;
  return undefined;
}

const WARMINGS: readonly Warming[] = ['hand-off keys', 'hot keys', 'none'];

const ownerCacheHandOff: BenchSection = {
  name: 'handoff',
  title: `Owner cache across a hand-off: one shard at ${RATE} events/s, ${BEFORE_S} s on A (warm), then ${AFTER_S} s on B`,
  async run(context) {
    const runs = new Map<Warming, Awaited<ReturnType<typeof handOffRun>>>();
    for (const warming of WARMINGS) {
      process.stderr.write(`state: hand-off, warming from ${warming}: ${BEFORE_S + AFTER_S} s…\n`);
      runs.set(warming, await handOffRun(context, warming));
    }
    const perSecond = Math.max(1, Math.round(RATE / BATCH));
    const ratios = new Map(WARMINGS.map((w) => [w, bySecond(runs.get(w)!.points, perSecond)]));
    const seconds = [...new Set(WARMINGS.flatMap((w) => [...ratios.get(w)!.keys()]))].sort((x, y) => x - y);
    const recovered = new Map(WARMINGS.map((w) => [w, recoveredWithinS(ratios.get(w)!)]));
    const within = recovered.get('hand-off keys');
    const ok = within !== undefined && within <= TARGETS.handOffWithinS;
    const rows: unknown[][] = seconds.map((s) => [
      s < 0 ? 'last second on A' : `${s}–${s + 1} s after`,
      ...WARMINGS.map((w) => round(ratios.get(w)!.get(s) ?? Number.NaN)),
    ]);
    rows.push(
      [
        `above ${TARGETS.handOffHitRatio} from (s after the hand-off, for good)`,
        ...WARMINGS.map((w) => recovered.get(w) ?? 'never'),
      ],
      ['DynamoDB requests to leave the ids (A)', ...WARMINGS.map((w) => runs.get(w)!.handOffRequests)],
      ['aggregates read to warm (B)', ...WARMINGS.map((w) => runs.get(w)!.warmupReads)],
      ['DynamoDB requests of B (warm-up included)', ...WARMINGS.map((w) => runs.get(w)!.bRequests)],
      ['writes of B that lost their condition', ...WARMINGS.map((w) => runs.get(w)!.conditionalMisses)],
      [
        'events/s of B (paced at most at the rate)',
        ...WARMINGS.map((w) => round(runs.get(w)!.bEventsPerSecond)),
      ],
      ['aggregates not as the model', ...WARMINGS.map((w) => runs.get(w)!.wrongAggregates)],
      [
        `target: > ${TARGETS.handOffHitRatio} within ${TARGETS.handOffWithinS} s (hand-off keys)`,
        met(ok),
        '',
        '',
      ],
    );
    const table = markdownTable(['hit ratio of B', ...WARMINGS.map((w) => `warmed from ${w}`)], rows);
    return {
      table,
      data: {
        runs: Object.fromEntries(runs),
        ratios: Object.fromEntries(WARMINGS.map((w) => [w, [...ratios.get(w)!]])),
      },
      targets: {
        handOff: ok,
        exact: WARMINGS.every((w) => runs.get(w)!.wrongAggregates === 0),
      },
    };
  },
};

/** Every section, in order; later ones (derived aggregates, locks) add themselves here. */
const SECTIONS: readonly BenchSection[] = [ownerCacheCost, ownerCacheHandOff];

export default async function stateBench(): Promise<void> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const wanted = process.env.BENCH_STATE_SECTIONS?.split(',').map((s) => s.trim());
  const sections = SECTIONS.filter((s) => wanted === undefined || wanted.includes(s.name));
  const engine = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: engine.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const counters = instrument(client);
  const results: Record<string, SectionResult> = {};
  try {
    for (const section of sections) results[section.name] = await section.run({ client, counters });
  } finally {
    client.destroy();
    await engine.process.stop();
  }
  writeResult('state', {
    settings: {
      events: EVENTS,
      aggregates: AGGREGATES,
      zipfExponent: ZIPF,
      batchSize: BATCH,
      handOff: { eventsPerSecond: RATE, beforeS: BEFORE_S, afterS: AFTER_S },
      engine: 'DynamoDB Local',
      projection: countingProjection.name,
      sections: sections.map((s) => s.name),
    },
    table: sections.map((s) => `#### ${s.title}\n\n${results[s.name]!.table}`).join('\n\n'),
    data: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { ...r }])),
  });
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
