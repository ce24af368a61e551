/**
 * The executor's Kinesis and Lambda calls, through aws-sdk-client-mock: UpdateShardCount (which kinesalite
 * lacks) and Lambda's event source mapping are control-plane APIs no local engine here serves
 * (docs/architecture.md §12). The same executor runs against kinesis-mock in test/integration/scaling.
 */
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  LimitExceededException,
  ListShardsCommand,
  MergeShardsCommand,
  ResourceInUseException,
  type Shard,
  SplitShardCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FleetControl,
  KinesisStreamControl,
  LambdaParallelizationControl,
  type Plan,
  type PlannedAction,
  ScalingExecutor,
  type SheddingControl,
  uniformRanges,
} from '../../../core/scaling/index.js';
import { NOW, shardId } from '../../helpers/scaling.js';

const kinesisMock = mockClient(KinesisClient);
const lambdaMock = mockClient(LambdaClient);

function listed(count: number, closed: Shard[] = []): Shard[] {
  return [
    ...closed,
    ...uniformRanges(count).map((r, i) => ({
      ShardId: shardId(i),
      HashKeyRange: { StartingHashKey: r.start.toString(), EndingHashKey: r.end.toString() },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    })),
  ];
}

function stream(shards: Shard[], status = 'ACTIVE') {
  kinesisMock.on(DescribeStreamSummaryCommand).resolves({
    StreamDescriptionSummary: {
      StreamName: 'changes',
      StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/changes',
      StreamStatus: status as 'ACTIVE',
      RetentionPeriodHours: 24,
      StreamCreationTimestamp: new Date(NOW),
      EnhancedMonitoring: [],
      OpenShardCount: shards.length,
    },
  });
  kinesisMock.on(ListShardsCommand).resolves({ Shards: shards });
}

const plan = (...actions: PlannedAction[]): Plan => ({
  atWallMs: NOW,
  actions,
  reasons: [],
  blocked: [],
  hotKeys: [],
  summary: {
    openShards: 4,
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

function executor(extra: { shedding?: SheddingControl } = {}) {
  return new ScalingExecutor({
    stream: new KinesisStreamControl({
      kinesis: new KinesisClient({ region: 'us-east-1' }),
      streamName: 'changes',
    }),
    parallelization: new LambdaParallelizationControl({
      lambda: new LambdaClient({ region: 'us-east-1' }),
      uuid: 'mapping-1',
    }),
    clock: { wallNow: () => NOW },
    ...extra,
  });
}

const usc = (fromShards: number, toShards: number): PlannedAction => ({
  kind: 'update-shard-count',
  fromShards,
  toShards,
  reason: 'test',
});

describe('Class: ScalingExecutor', () => {
  beforeEach(() => {
    kinesisMock.reset();
    lambdaMock.reset();
  });
  afterEach(() => {
    kinesisMock.reset();
    lambdaMock.reset();
  });

  describe('Method: execute (Kinesis)', () => {
    it('sends UpdateShardCount with uniform scaling after re-reading the stream', async () => {
      stream(listed(4));
      kinesisMock.on(UpdateShardCountCommand).resolves({ CurrentShardCount: 4, TargetShardCount: 8 });

      const outcomes = await executor().execute(plan(usc(4, 8)), { history: [] });

      expect(outcomes).toEqual([
        { action: usc(4, 8), status: 'applied', detail: 'UpdateShardCount 4 → 8 accepted', atWallMs: NOW },
      ]);
      expect(kinesisMock.commandCalls(UpdateShardCountCommand)[0]!.args[0].input).toEqual({
        StreamName: 'changes',
        TargetShardCount: 8,
        ScalingType: 'UNIFORM_SCALING',
      });
    });

    it('sends nothing when the effect is already there (a retried run, a second manager)', async () => {
      stream(listed(8));

      const [outcome] = await executor().execute(plan(usc(4, 8)), { history: [] });

      expect(outcome).toMatchObject({ status: 'already-done', detail: 'the stream has 8 open shards' });
      expect(kinesisMock.commandCalls(UpdateShardCountCommand)).toHaveLength(0);
    });

    it('recognises a split and a merge that already happened from the children ListShards reports', async () => {
      const [low, high] = uniformRanges(2);
      const closedParent = {
        ShardId: 'shardId-000000000009',
        HashKeyRange: { StartingHashKey: '0', EndingHashKey: high!.end.toString() },
        SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' },
      };
      stream([
        closedParent,
        {
          ShardId: shardId(0),
          ParentShardId: 'shardId-000000000009',
          HashKeyRange: { StartingHashKey: '0', EndingHashKey: low!.end.toString() },
          SequenceNumberRange: { StartingSequenceNumber: '10' },
        },
        {
          ShardId: shardId(1),
          ParentShardId: 'shardId-000000000009',
          HashKeyRange: { StartingHashKey: high!.start.toString(), EndingHashKey: high!.end.toString() },
          SequenceNumberRange: { StartingSequenceNumber: '10' },
        },
        {
          ShardId: shardId(2),
          ParentShardId: 'shardId-000000000007',
          AdjacentParentShardId: 'shardId-000000000008',
          HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
          SequenceNumberRange: { StartingSequenceNumber: '10', EndingSequenceNumber: '11' },
        },
      ]);
      const split: PlannedAction = {
        kind: 'split-shard',
        shardId: 'shardId-000000000009',
        newStartingHashKey: high!.start.toString(),
        lowerShare: 0.5,
        upperShare: 0.5,
        reason: 'test',
      };
      const merge: PlannedAction = {
        kind: 'merge-shards',
        shardId: 'shardId-000000000008',
        adjacentShardId: 'shardId-000000000007',
        reason: 'test',
      };

      const outcomes = await executor().execute(plan(split, merge), { history: [] });

      expect(outcomes.map((o) => o.status)).toEqual(['already-done', 'already-done']);
      expect(outcomes[0]!.detail).toBe(
        `shardId-000000000009 was split at ${high!.start} (child ${shardId(1)})`,
      );
      expect(kinesisMock.commandCalls(SplitShardCommand)).toHaveLength(0);
      expect(kinesisMock.commandCalls(MergeShardsCommand)).toHaveLength(0);
    });

    it('sends SplitShard at the exact key and MergeShards of two adjacent open shards', async () => {
      stream(listed(4));
      kinesisMock.on(SplitShardCommand).resolves({});
      kinesisMock.on(MergeShardsCommand).resolves({});
      const key = (uniformRanges(4)[1]!.start + 12345n).toString();
      const split: PlannedAction = {
        kind: 'split-shard',
        shardId: shardId(1),
        newStartingHashKey: key,
        lowerShare: 0.4,
        upperShare: 0.6,
        reason: 't',
      };
      const merge: PlannedAction = {
        kind: 'merge-shards',
        shardId: shardId(2),
        adjacentShardId: shardId(3),
        reason: 't',
      };

      const outcomes = await executor().execute(plan(split, merge), { history: [] });

      expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied']);
      expect(kinesisMock.commandCalls(SplitShardCommand)[0]!.args[0].input).toEqual({
        StreamName: 'changes',
        ShardToSplit: shardId(1),
        NewStartingHashKey: key,
      });
      expect(kinesisMock.commandCalls(MergeShardsCommand)[0]!.args[0].input).toEqual({
        StreamName: 'changes',
        ShardToMerge: shardId(2),
        AdjacentShardToMerge: shardId(3),
      });
    });

    it('refuses what breaks a rule now, and skips what a change since the plan made moot', async () => {
      stream(listed(4));
      const notAdjacent: PlannedAction = {
        kind: 'merge-shards',
        shardId: shardId(0),
        adjacentShardId: shardId(2),
        reason: 't',
      };
      const closed: PlannedAction = {
        kind: 'split-shard',
        shardId: 'shardId-000000000099',
        newStartingHashKey: '5',
        lowerShare: 0.5,
        upperShare: 0.5,
        reason: 't',
      };
      const calls = Array.from({ length: 10 }, (_, i) => ({
        kind: 'update-shard-count' as const,
        atWallMs: NOW - i * 60_000,
        outcome: 'applied' as const,
      }));

      const outcomes = await executor().execute(plan(notAdjacent, closed, usc(4, 8)), { history: calls });

      expect(outcomes.map((o) => o.status)).toEqual(['refused', 'skipped', 'refused']);
      expect(outcomes[0]!.detail).toMatch(/^adjacent-merge: /);
      expect(outcomes[1]!.detail).toMatch(/no longer open/);
      expect(outcomes[2]!.detail).toBe(
        'update-shard-count-rate: 10 calls in the last 24 h; Kinesis allows 10',
      );
      expect(kinesisMock.commandCalls(MergeShardsCommand)).toHaveLength(0);
      expect(kinesisMock.commandCalls(UpdateShardCountCommand)).toHaveLength(0);
    });

    it('skips while the stream is updating, and maps Kinesis refusals and failures to outcomes', async () => {
      stream(listed(4), 'UPDATING');
      const updating = await executor().execute(plan(usc(4, 8)), { history: [] });
      stream(listed(4));
      kinesisMock
        .on(UpdateShardCountCommand)
        .rejectsOnce(new ResourceInUseException({ message: 'Stream changes is updating', $metadata: {} }))
        .rejectsOnce(
          new LimitExceededException({ message: 'Rate exceeded for UpdateShardCount', $metadata: {} }),
        )
        .rejectsOnce(new Error('socket hang up'));

      const inUse = await executor().execute(plan(usc(4, 8)), { history: [] });
      const limit = await executor().execute(plan(usc(4, 8)), { history: [] });
      const broken = await executor().execute(plan(usc(4, 8)), { history: [] });

      expect(updating[0]).toMatchObject({
        status: 'skipped',
        detail:
          'one-resharding-at-a-time: the stream is UPDATING; a resharding starts only on an ACTIVE stream',
      });
      expect(inUse[0]).toMatchObject({
        status: 'skipped',
        detail: expect.stringMatching(/^ResourceInUseException: Stream changes is updating/),
      });
      expect(limit[0]).toMatchObject({
        status: 'refused',
        detail: 'LimitExceededException: Rate exceeded for UpdateShardCount',
      });
      expect(broken[0]).toMatchObject({ status: 'failed', detail: 'Error: socket hang up' });
    });

    it('sends nothing more once leadership is lost', async () => {
      stream(listed(4));
      const controller = new AbortController();
      controller.abort();

      const outcomes = await executor().execute(plan(usc(4, 8)), { history: [], signal: controller.signal });

      expect(outcomes[0]).toMatchObject({
        status: 'skipped',
        detail: 'leadership lost before this action; nothing sent',
      });
      expect(kinesisMock.calls()).toHaveLength(0);
    });
  });

  describe('Method: execute (Lambda and configuration)', () => {
    it('sets ParallelizationFactor with UpdateEventSourceMapping, and only when it differs', async () => {
      lambdaMock
        .on(GetEventSourceMappingCommand)
        .resolvesOnce({ UUID: 'mapping-1', ParallelizationFactor: 2 })
        .resolves({ UUID: 'mapping-1', ParallelizationFactor: 4 });
      lambdaMock
        .on(UpdateEventSourceMappingCommand)
        .resolves({ UUID: 'mapping-1', ParallelizationFactor: 4 });
      const raise: PlannedAction = { kind: 'set-parallelization-factor', from: 2, to: 4, reason: 'lag' };

      const first = await executor().execute(plan(raise), { history: [] });
      const again = await executor().execute(plan(raise), { history: [] });

      expect(first[0]).toMatchObject({ status: 'applied', detail: 'ParallelizationFactor 2 → 4' });
      expect(again[0]).toMatchObject({ status: 'already-done', detail: 'ParallelizationFactor is 4' });
      expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([
        { UUID: 'mapping-1', ParallelizationFactor: 4 },
      ]);
    });

    it('publishes shedding through the shedding control, and skips without one', async () => {
      const published: boolean[] = [];
      const shedding: SheddingControl = {
        isActive: async () => published.at(-1) ?? false,
        set: async (active) => {
          if ((published.at(-1) ?? false) === active) return undefined;
          published.push(active);
          return String(published.length);
        },
      };
      const on: PlannedAction = { kind: 'set-shedding', active: true, reason: 'lag' };

      const first = await executor({ shedding }).execute(plan(on), { history: [] });
      const again = await executor({ shedding }).execute(plan(on), { history: [] });
      const without = await executor().execute(plan(on), { history: [] });

      expect(first[0]).toMatchObject({ status: 'applied', detail: 'shedding on in configuration version 1' });
      expect(again[0]).toMatchObject({ status: 'already-done' });
      expect(without[0]).toMatchObject({ status: 'skipped', detail: 'no configuration publisher' });
      expect(published).toEqual([true]);
    });
  });
});

describe('Class: ScalingExecutor, the worker fleet', () => {
  /** A fleet whose desired count is `desired` (moved by someone else when `movedTo` is given). */
  function fleetAt(desired: number, bounds = { minWorkers: 1, maxWorkers: 8 }) {
    const set: number[] = [];
    const control: FleetControl = {
      ...bounds,
      view: async () => {
        throw new Error('the executor reads the desired count only');
      },
      desiredWorkers: async () => desired,
      setWorkerCount: async (count) => {
        set.push(count);
      },
    };
    return { control, set };
  }
  const resize = (from: number, to: number): PlannedAction => ({
    kind: 'set-worker-count',
    from,
    to,
    reason: 'test',
  });
  const planOf = (...actions: PlannedAction[]) =>
    ({ atWallMs: NOW, actions, reasons: [], blocked: [], hotKeys: [], summary: {} }) as unknown as Plan;

  it('sets the desired count it planned from', async () => {
    const { control, set } = fleetAt(3);

    const [outcome] = await new ScalingExecutor({
      stream: new KinesisStreamControl({ kinesis: new KinesisClient({}), streamName: 's' }),
      fleet: control,
    }).execute(planOf(resize(3, 2)), { history: [] });

    expect(set).toEqual([2]);
    expect(outcome).toMatchObject({
      status: 'applied',
      detail: 'UpdateService desired count 3 → 2 (stopped tasks hand their leases off)',
    });
  });

  it.each([
    [4, 4, 'already-done', 'the service asks for 4 workers'],
    [
      5,
      4,
      'skipped',
      'the service asks for 5 workers, not the 3 planned from; the next plan starts from there',
    ],
  ])('finds the count at %i (planned 3 → %i): %s, nothing sent', async (desired, to, status, detail) => {
    const { control, set } = fleetAt(desired);

    const [outcome] = await new ScalingExecutor({
      stream: new KinesisStreamControl({ kinesis: new KinesisClient({}), streamName: 's' }),
      fleet: control,
    }).execute(planOf(resize(3, to)), { history: [] });

    expect(set).toEqual([]);
    expect(outcome).toMatchObject({ status, detail });
  });

  it('refuses a count outside the bounds, and skips without a fleet', async () => {
    const { control, set } = fleetAt(3, { minWorkers: 2, maxWorkers: 4 });
    const stream = new KinesisStreamControl({ kinesis: new KinesisClient({}), streamName: 's' });

    const [refused] = await new ScalingExecutor({ stream, fleet: control }).execute(planOf(resize(3, 6)), {
      history: [],
    });
    const [skipped] = await new ScalingExecutor({ stream }).execute(planOf(resize(3, 4)), { history: [] });

    expect(set).toEqual([]);
    expect(refused).toMatchObject({
      status: 'refused',
      detail: 'worker-bounds: 6 workers would be above maxWorkers 4',
    });
    expect(skipped).toMatchObject({ status: 'skipped', detail: 'no worker fleet to size' });
  });
});
