import { describe, expect, it } from 'vitest';
import type { HotKey } from '../../../core/coordination/index.js';
import { InMemoryStateStore } from '../../../core/state/index.js';
import { StateCache } from '../../../core/state/state-cache.js';
import { cacheFollowingLeases } from '../../../core/workers/cache-follows-leases.js';
import { InMemoryHandOffKeys } from '../../../core/workers/hand-off-keys.js';
import { Cluster } from './worker-harness.js';

/** Three aggregates per shard: `<shard>/a0`, `<shard>/a1`, `<shard>/a2`. */
const aggregatesOf = (shardId: string) => [0, 1, 2].map((i) => `${shardId}/a${i}`);

describe('Function: cacheFollowingLeases', () => {
  it('a hand-off drops the moved shards from the old owner and warms the new owner with their hot keys', async () => {
    const { moved, caches, table, stop } = await handOff(undefined);

    for (const shardId of moved) {
      const [hot0, hot1, cold] = aggregatesOf(shardId);
      expect(caches.b.lookup(hot0!)).toEqual(await table.get(hot0!));
      expect(caches.b.lookup(hot1!)).toEqual(await table.get(hot1!));
      expect(caches.b.lookup(cold!)).toBeUndefined();
    }
    expect(caches.b.drainCounters()).toMatchObject({ warmupReads: 4, warmupRequests: 2 });
    await stop();
  });

  it('with hand-off keys, the new owner warms every aggregate the old owner held of the moved shards', async () => {
    const { moved, caches, table, stop } = await handOff(new InMemoryHandOffKeys());

    for (const shardId of moved)
      for (const id of aggregatesOf(shardId)) expect(caches.b.lookup(id)).toEqual(await table.get(id));
    expect(caches.b.drainCounters()).toMatchObject({ warmupReads: 6, warmupRequests: 2 });
    await stop();
  });

  it('a lease lost to a take-over drops its entries; nothing is warmed while the cache is not in use', async () => {
    // Prepare
    const cache = new StateCache({ maxBytes: 1_000_000 });
    const reads: string[][] = [];
    const follow = cacheFollowingLeases({
      cache,
      reader: {
        getMany: async (ids) => {
          reads.push([...ids]);
          return new Map();
        },
      },
      instanceId: 'me',
      listInstances: async () => [],
      active: () => false,
    });
    cache.remember('x', { ...(await seeded()), aggregateId: 'x' }, 'shard-1');

    // Act
    follow.onEvent({ type: 'acquired', shardId: 'shard-2', fence: 1, how: 'granted', startAfter: undefined });
    follow.onEvent({ type: 'lost', shardId: 'shard-1', reason: 'taken-over' });
    await follow.idle();

    // Assert
    expect(cache.size).toBe(0);
    expect(reads).toEqual([]);
  });
});

async function seeded() {
  const table = new InMemoryStateStore({ now: () => 0 });
  await table.write(
    'x',
    { value: { table: 't', position: '1', deleted: false, state: {} } },
    { kind: 'newer' },
  );
  return (await table.get('x'))!;
}

/**
 * Worker a reads four shards; its cache holds three aggregates of each, and its heartbeats report the first
 * two of each shard as hot. Worker b joins and takes two shards by graceful hand-off. Checks that a dropped
 * exactly the moved shards' entries; returns what b's cache holds for the caller to check.
 */
async function handOff(handOffKeys: InMemoryHandOffKeys | undefined) {
  // Prepare
  const cluster = new Cluster({ shards: 4 });
  const table = new InMemoryStateStore({ now: () => 0 });
  const shardIds = cluster.shards.map((s) => s.shardId);
  for (const id of shardIds.flatMap(aggregatesOf))
    await table.write(
      id,
      { value: { table: 't', position: '1', deleted: false, state: { id } } },
      { kind: 'newer' },
    );
  const caches = { a: new StateCache({ maxBytes: 1_000_000 }), b: new StateCache({ maxBytes: 1_000_000 }) };
  const follow = (cache: StateCache, instanceId: string) =>
    cacheFollowingLeases({
      cache,
      reader: table,
      instanceId,
      listInstances: () => cluster.store.listInstances(),
      handOffKeys,
    });
  const followA = follow(caches.a, 'worker-a');
  const followB = follow(caches.b, 'worker-b');
  const hotOfA = (): HotKey[] =>
    shardIds.flatMap((shardId) =>
      aggregatesOf(shardId)
        .slice(0, 2)
        .map((key, i) => ({ key, count: 100 - i, shardId, periodMs: 2_500 })),
    );
  const a = await cluster.add('worker-a', {
    hotKeys: hotOfA,
    onEvent: (e) => followA.onEvent(e),
    beforeLettingGo: followA.beforeLettingGo,
  });
  await cluster.until('a reads four shards', () => a.processor.running.size === 4);
  for (const shardId of shardIds)
    for (const id of aggregatesOf(shardId)) caches.a.remember(id, await table.get(id), shardId);
  // Hot keys travel in the registry report, sent once a report interval (a minute) at rest.
  await cluster.until(
    'a registry report with hot keys',
    async () => (await cluster.store.listInstances()).some((i) => i.hotKeys.length > 0),
    130_000,
  );

  // Act
  const b = await cluster.add('worker-b', { onEvent: (e) => followB.onEvent(e) });
  await cluster.until('b reads two shards', () => b.processor.running.size === 2);
  await followB.idle();

  // Assert (what a kept; the caller checks b)
  const moved = [...new Set(b.events.flatMap((e) => (e.type === 'acquired' ? [e.shardId] : [])))];
  expect(moved).toHaveLength(2);
  const kept = shardIds.filter((id) => !moved.includes(id));
  caches.a.drainCounters();
  for (const shardId of moved)
    for (const id of aggregatesOf(shardId)) expect(caches.a.lookup(id), `a: ${id}`).toBeUndefined();
  for (const shardId of kept)
    for (const id of aggregatesOf(shardId)) expect(caches.a.lookup(id), `a: ${id}`).toBeDefined();
  return { moved, caches, table, stop: () => cluster.stopAll() };
}
