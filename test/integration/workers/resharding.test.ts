import {
  DescribeStreamSummaryCommand,
  MergeShardsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { DynamoDbCoordinationStore, LeaseClient, shardLeaseKey } from '../../../core/coordination/index.js';
import { listStreamShards } from '../../../core/esm/shards.js';
import { splitLeases } from '../../../core/workers/shard-lease.js';
import { type RunningPipeline, runPipeline } from '../../../localstack/run/pipeline.js';
import { uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { endpoints, FAST_LEASES, type LoggedEvent } from './helpers.js';

/** Records processed per shard so far, from the leases' counters. */
async function recordsPerShard(run: RunningPipeline): Promise<Map<string, number>> {
  const leases = new LeaseClient({
    store: new DynamoDbCoordinationStore({
      client: run.clients.dynamodb,
      tableName: run.names.coordinationTable,
    }),
  });
  const { shards } = splitLeases(await leases.list(shardLeaseKey(run.names.streamName, '-').pk));
  return new Map(shards.map((s) => [s.shardId, s.data.records]));
}

async function active(run: RunningPipeline): Promise<void> {
  await eventually(
    'the stream to be active again',
    async () => {
      const out = await run.clients.kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: run.names.streamName }),
      );
      return out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    },
    { timeoutMs: 120_000 },
  );
}

/**
 * The parents of every child shard, after checking that each child was first acquired only once all its
 * parents had checkpointed their end.
 */
function childrenAfterParents(events: readonly LoggedEvent[]): Map<string, string[]> {
  const parentsOf = new Map<string, string[]>();
  for (const e of events)
    if (e.event.type === 'lease-created' && e.event.parents.length > 0)
      parentsOf.set(e.event.shardId, [...e.event.parents]);
  for (const [child, parents] of parentsOf) {
    const firstRead = Math.min(
      ...events
        .filter((e) => e.event.type === 'acquired' && e.event.shardId === child)
        .map((e) => e.atWallMs),
    );
    expect(firstRead, `${child} was read`).toBeLessThan(Number.POSITIVE_INFINITY);
    for (const parent of parents) {
      const ended = events.find(
        (e) => e.event.type === 'checkpointed' && e.event.shardId === parent && e.event.ended,
      );
      expect(ended, `${parent} ended`).toBeDefined();
      expect(ended!.atWallMs, `${parent} ended before ${child} started`).toBeLessThanOrEqual(firstRead);
    }
  }
  return parentsOf;
}

describe('Resharding while workers run (kinesis-mock)', () => {
  it('splits the hottest shard and merges two cold ones mid-run: children after parents, order per aggregate across them', async () => {
    const events: LoggedEvent[] = [];
    const resharded: { split?: string; merged?: [string, string] } = {};
    const summary = await runPipeline({
      events: 6_000,
      rate: 500,
      untilDrained: true,
      shards: 4,
      workers: 2,
      endpoints: endpoints('kinesis-mock'),
      prefix: uniqueName('reshard'),
      progress: false,
      seed: 5,
      aggregates: 600,
      config: FAST_LEASES,
      auditEffects: true,
      reportInvocations: true,
      drainTimeoutMs: 240_000,
      onWorkerEvent: (workerId, event, atWallMs) => events.push({ workerId, event, atWallMs }),
      during: async (run) => {
        await eventually('a quarter of the events', () => run.produced() >= 1_500, { timeoutMs: 120_000 });
        const open = (await listStreamShards(run.clients.kinesis, run.names.streamName)).filter(
          (s) => !s.closed,
        );
        const load = await recordsPerShard(run);
        const hottest = [...open].sort((a, b) => (load.get(b.shardId) ?? 0) - (load.get(a.shardId) ?? 0))[0]!;
        const middle = (BigInt(hottest.hashKeyRange.start) + BigInt(hottest.hashKeyRange.end)) / 2n;
        await run.clients.kinesis.send(
          new SplitShardCommand({
            StreamName: run.names.streamName,
            ShardToSplit: hottest.shardId,
            NewStartingHashKey: middle.toString(),
          }),
        );
        resharded.split = hottest.shardId;
        await active(run);

        await eventually('half of the events', () => run.produced() >= 3_000, { timeoutMs: 120_000 });
        const now = (await listStreamShards(run.clients.kinesis, run.names.streamName))
          .filter((s) => !s.closed && !s.parents.includes(hottest.shardId))
          .sort((a, b) => (BigInt(a.hashKeyRange.start) < BigInt(b.hashKeyRange.start) ? -1 : 1));
        const loadNow = await recordsPerShard(run);
        const pairs = now
          .slice(1)
          .map((s, i) => [now[i]!, s] as const)
          .filter(([a, b]) => BigInt(a.hashKeyRange.end) + 1n === BigInt(b.hashKeyRange.start));
        const [left, right] = pairs.sort(
          ([a1, b1], [a2, b2]) =>
            (loadNow.get(a1.shardId) ?? 0) +
            (loadNow.get(b1.shardId) ?? 0) -
            ((loadNow.get(a2.shardId) ?? 0) + (loadNow.get(b2.shardId) ?? 0)),
        )[0]!;
        await run.clients.kinesis.send(
          new MergeShardsCommand({
            StreamName: run.names.streamName,
            ShardToMerge: left.shardId,
            AdjacentShardToMerge: right.shardId,
          }),
        );
        resharded.merged = [left.shardId, right.shardId];
        await active(run);
        // Parents are cleaned up once all their children have started.
        await eventually(
          'the three parents to be cleaned up',
          () =>
            [hottest.shardId, left.shardId, right.shardId].every((p) =>
              events.some((e) => e.event.type === 'lease-cleaned' && e.event.shardId === p),
            ),
          { timeoutMs: 120_000 },
        );
      },
    });

    expect(summary.differences).toBeUndefined();
    expect(summary).toMatchObject({ verified: true, produced: 6_000, engine: 'kinesis-mock' });
    const parentsOf = childrenAfterParents(events);
    const children = [...parentsOf.keys()];
    // Two children of the split, one child of the merge.
    expect(children).toHaveLength(3);
    expect(parentsOf.get(children.find((c) => parentsOf.get(c)!.length === 2)!)!.sort()).toEqual(
      [...resharded.merged!].sort(),
    );
  }, 360_000);

  it('follows UpdateShardCount from 2 to 4 shards mid-run, every child after its parent', async () => {
    const events: LoggedEvent[] = [];
    const summary = await runPipeline({
      events: 4_000,
      rate: 500,
      untilDrained: true,
      shards: 2,
      workers: 2,
      endpoints: endpoints('kinesis-mock'),
      prefix: uniqueName('rescale'),
      progress: false,
      seed: 6,
      aggregates: 400,
      config: FAST_LEASES,
      auditEffects: true,
      reportInvocations: true,
      drainTimeoutMs: 240_000,
      onWorkerEvent: (workerId, event, atWallMs) => events.push({ workerId, event, atWallMs }),
      during: async (run) => {
        await eventually('a third of the events', () => run.produced() >= 1_300, { timeoutMs: 120_000 });
        await run.clients.kinesis.send(
          new UpdateShardCountCommand({
            StreamName: run.names.streamName,
            TargetShardCount: 4,
            ScalingType: 'UNIFORM_SCALING',
          }),
        );
        await active(run);
      },
    });

    expect(summary.differences).toBeUndefined();
    expect(summary).toMatchObject({ verified: true, produced: 4_000 });
    const parentsOf = childrenAfterParents(events);
    expect(parentsOf.size).toBeGreaterThanOrEqual(4);
  }, 360_000);
});
