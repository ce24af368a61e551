/**
 * The hand-off section of `npm run bench -- state`: one shard's batches at a steady rate on instance A, then
 * handed to instance B (A lets the shard go; B warms its owner cache from the ids A left, from A's heartbeat
 * hot keys, or not at all), and B's hit ratio per second around the hand-off.
 */

import { METRICS } from '../../../core/constants.js';
import { systemClock } from '../../../core/coordination/clock.js';
import type { InstanceRecord } from '../../../core/coordination/records.js';
import { ConsumerLoadTracker } from '../../../core/scaling/consumer-load-tracker.js';
import type { StateCache } from '../../../core/state/state-cache.js';
import { StateStore } from '../../../core/state/state-store.js';
import { cacheFollowingLeases } from '../../../core/workers/cache-follows-leases.js';
import { dynamoDbHandOffKeys } from '../../../core/workers/hand-off-keys.js';
import { createTables, resourceNames } from '../../../localstack/provision.js';
import { countingProjection } from '../../../localstack/run/effect-audit.js';
import { markdownTable } from '../results.js';
import {
  type CacheWorkloadSettings,
  instance,
  met,
  round,
  TARGETS,
  workload,
  wrongAggregates,
} from './owner-cache.js';
import type { SectionContext, StateSection } from './section.js';

interface HandOffSettings extends CacheWorkloadSettings {
  /** Events per second of the paced run (a shard's write limit is 1,000). */
  readonly eventsPerSecond: number;
  /** Seconds on A before the hand-off, and on B after it. */
  readonly beforeS: number;
  readonly afterS: number;
}

const SHARD = 'shardId-000000000000';

/** How the new owner warms its cache after the hand-off. */
type Warming = 'hand-off keys' | 'hot keys' | 'none';

/**
 * The hand-off run of one variant: A runs the shard's snapshot and a warm-up unpaced, then at a steady
 * rate; then A lets the
 * shard go (leaving its cached ids when `warming` is `hand-off keys`) and B takes it. The hit ratio of every
 * batch, by seconds since the hand-off.
 */
async function handOffRun({ client, counters }: SectionContext, settings: HandOffSettings, warming: Warming) {
  const { batchSize, beforeS, afterS } = settings;
  const perSecond = Math.max(1, Math.round(settings.eventsPerSecond / batchSize));
  const warmUpEvents = settings.events;
  const { generator, snapshot, batches } = workload(
    settings,
    47,
    warmUpEvents + (beforeS + afterS) * perSecond * batchSize,
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
  const warmUp = [...snapshot, ...batches.slice(0, warmUpEvents / batchSize)];
  const paced = batches.slice(warmUpEvents / batchSize);
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
    if (wait > 0) await systemClock.sleep(wait);
    const onA = index < beforeS * perSecond;
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
    bEventsPerSecond: ((paced.length - beforeS * perSecond) * batchSize) / (points.at(-1)!.atS || 1),
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

function handOffSection(settings: HandOffSettings): StateSection {
  return {
    name: 'handoff',
    title: `Owner cache across a hand-off: one shard at ${settings.eventsPerSecond} events/s, ${settings.beforeS} s on A (warm), then ${settings.afterS} s on B`,
    async run(context) {
      const runs = new Map<Warming, Awaited<ReturnType<typeof handOffRun>>>();
      for (const warming of WARMINGS) {
        process.stderr.write(
          `state: hand-off, warming from ${warming}: ${settings.beforeS + settings.afterS} s…\n`,
        );
        runs.set(warming, await handOffRun(context, settings, warming));
      }
      const perSecond = Math.max(1, Math.round(settings.eventsPerSecond / settings.batchSize));
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
}

export type { HandOffSettings };
export { handOffSection };
