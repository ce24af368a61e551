import { afterAll, describe, expect, it } from 'vitest';
import {
  hashKeyOf,
  type KeyRate,
  KinesisStreamControl,
  MAX_HASH_KEY,
  type Plan,
  type PlannedAction,
  planScaling,
  ScalingExecutor,
  type StreamDescription,
  scalingPolicy,
  uniformRanges,
} from '../../../core/scaling/index.js';
import { createStream } from '../../../localstack/provision.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { NOW, points } from '../../helpers/scaling.js';

/** kinesis-mock: the engine with UpdateShardCount, SplitShard and MergeShards (kinesalite lacks the first). */
const clients = testClients('kinesis-mock');
afterAll(() => clients.destroy());

async function streamOf(shards: number): Promise<KinesisStreamControl> {
  const streamName = uniqueName('scaling');
  await createStream(clients.kinesis, streamName, shards);
  return new KinesisStreamControl({ kinesis: clients.kinesis, streamName });
}

/** Polls until the stream is ACTIVE with `open` open shards. */
function settled(control: KinesisStreamControl, open: number): Promise<StreamDescription> {
  return eventually(`${control.streamName} ACTIVE with ${open} open shards`, async () => {
    const d = await control.describe();
    return d.status === 'ACTIVE' && d.openShards.length === open ? d : undefined;
  });
}

const plan = (...actions: PlannedAction[]): Plan => ({
  atWallMs: Date.now(),
  actions,
  reasons: [],
  blocked: [],
  hotKeys: [],
  summary: {
    openShards: 0,
    demandShards: 0,
    utilization: 0,
    iteratorAgeMs: undefined,
    parallelizationFactor: undefined,
    sheddingActive: false,
    updateShardCountCallsLast24h: 0,
    updateShardCountCallsLeft: 10,
    lastReshardAtWallMs: undefined,
    hottestShard: undefined,
  },
});

/** A partition key whose hash lands a third of the way into the key space's first half. */
function keyNear(fraction: number): { key: string; hash: bigint } {
  const [first] = uniformRanges(1);
  const target = Number(first!.end) * fraction;
  for (let i = 0; ; i++) {
    const key = `customer-${i}`;
    const hash = hashKeyOf(key);
    if (Math.abs(Number(hash) - target) < Number(first!.end) * 0.01) return { key, hash };
  }
}

describe('ScalingExecutor on kinesis-mock', () => {
  it('splits the hottest shard at its load median: the child starts at exactly the planned hash key', async () => {
    const control = await streamOf(1);
    const before = await control.describe();
    const hot = keyNear(0.3);
    const keys: KeyRate[] = [{ partitionKey: hot.key, hashKey: hot.hash, recordsPerSecond: 500 }];
    const planned = planScaling({
      stream: {
        streamName: control.streamName,
        status: 'ACTIVE',
        openShards: before.openShards,
        parallelizationFactor: undefined,
        sheddingActive: false,
      },
      metrics: { points: points(before.openShards, 10, () => 0.95), hotKeys: keys },
      policy: scalingPolicy(),
      history: [],
      nowWallMs: NOW,
    });
    const split = planned.actions[0]!;

    const outcomes = await new ScalingExecutor({ stream: control }).execute(planned, { history: [] });
    const after = await settled(control, 2);
    const again = await new ScalingExecutor({ stream: control }).execute(planned, { history: [] });

    // 950 records/s: the key's 500 at 30% of the range, 450 spread. The key holds the median and goes whole to
    // the lower child; the upper child starts right after it, not at the hash midpoint.
    expect(split).toMatchObject({
      kind: 'split-shard',
      shardId: before.openShards[0]!.shardId,
      newStartingHashKey: (hot.hash + 1n).toString(),
    });
    expect(outcomes.map((o) => o.status)).toEqual(['applied']);
    const [lower, upper] = after.openShards;
    expect(lower!.range).toEqual({ start: 0n, end: hot.hash });
    expect(upper!.range).toEqual({ start: hot.hash + 1n, end: before.openShards[0]!.range.end });
    expect(upper!.parentShardIds).toEqual([before.openShards[0]!.shardId]);
    expect(again.map((o) => o.status)).toEqual(['already-done']);
  });

  it('merges only adjacent shards: a non-adjacent pair is refused without a call, an adjacent one merged', async () => {
    const control = await streamOf(3);
    const [a, b, c] = (await control.describe()).openShards;
    const apart: PlannedAction = {
      kind: 'merge-shards',
      shardId: a!.shardId,
      adjacentShardId: c!.shardId,
      reason: 'test',
    };
    const touching: PlannedAction = {
      kind: 'merge-shards',
      shardId: b!.shardId,
      adjacentShardId: a!.shardId,
      reason: 'test',
    };

    const refused = await new ScalingExecutor({ stream: control }).execute(plan(apart), { history: [] });
    const merged = await new ScalingExecutor({ stream: control }).execute(plan(touching), { history: [] });
    const after = await settled(control, 2);
    const again = await new ScalingExecutor({ stream: control }).execute(plan(touching), { history: [] });

    expect(refused[0]).toMatchObject({
      status: 'refused',
      detail: expect.stringMatching(/^adjacent-merge: .* do not touch$/),
    });
    expect(merged[0]!.status).toBe('applied');
    const child = after.openShards.find((s) => s.shardId !== c!.shardId)!;
    expect(child.range).toEqual({ start: a!.range.start, end: b!.range.end });
    expect([...(child.parentShardIds ?? [])].sort()).toEqual([a!.shardId, b!.shardId].sort());
    expect(after.openShards.find((s) => s.shardId === c!.shardId)?.range).toEqual(c!.range);
    expect(again[0]!.status).toBe('already-done');
  });

  it('honours UpdateShardCount: uniform shards at the target, beyond double refused before any call', async () => {
    const control = await streamOf(2);
    const up: PlannedAction = { kind: 'update-shard-count', fromShards: 2, toShards: 4, reason: 'test' };
    const tooFar: PlannedAction = { kind: 'update-shard-count', fromShards: 4, toShards: 9, reason: 'test' };

    const applied = await new ScalingExecutor({ stream: control }).execute(plan(up), { history: [] });
    const after = await settled(control, 4);
    const refused = await new ScalingExecutor({ stream: control }).execute(plan(tooFar), { history: [] });
    const again = await new ScalingExecutor({ stream: control }).execute(plan(up), { history: [] });

    expect(applied[0]!.status).toBe('applied');
    // Four even ranges over the whole key space (the exact boundaries are the engine's: within a key or two of
    // a quarter each).
    const ranges = after.openShards.map((s) => s.range);
    expect(ranges[0]!.start).toBe(0n);
    expect(ranges[3]!.end).toBe(MAX_HASH_KEY);
    for (let i = 0; i < 3; i++) expect(ranges[i]!.end + 1n).toBe(ranges[i + 1]!.start);
    uniformRanges(4).forEach((r, i) => {
      const drift = ranges[i]!.end - r.end;
      expect(drift >= -4n && drift <= 4n).toBe(true);
    });
    expect(refused[0]).toMatchObject({
      status: 'refused',
      detail: 'update-shard-count-factor: 4 → 9: Kinesis allows 2 … 8',
    });
    expect(again[0]).toMatchObject({ status: 'already-done', detail: 'the stream has 4 open shards' });
    expect((await control.describe()).openShards).toHaveLength(4);
  });
});
