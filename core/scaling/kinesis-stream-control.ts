import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandOutput,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { messageOf } from '../errors.js';
import { ScalingIoError } from './errors.js';
import { hashRange } from './hash-key.js';
import type { OpenShard, StreamStatus } from './model.js';

/** A shard as ListShards reports it, open or closed (closed shards stay listed for the retention period). */
interface ListedShard extends OpenShard {
  readonly open: boolean;
}

/** The stream as it is now. */
interface StreamDescription {
  readonly streamName: string;
  readonly status: StreamStatus;
  /** Open shards sorted by hash range. */
  readonly openShards: readonly OpenShard[];
  /** Every listed shard, open and closed: the executor recognises a resharding that already happened. */
  readonly shards: readonly ListedShard[];
}

/**
 * The resharding calls and the reads the manager makes on its stream. {@link KinesisStreamControl} talks to
 * Kinesis (or kinesis-mock / kinesalite locally); the simulator has its own model.
 */
interface StreamControl {
  readonly streamName: string;
  describe(): Promise<StreamDescription>;
  updateShardCount(targetShardCount: number): Promise<void>;
  splitShard(shardId: string, newStartingHashKey: string): Promise<void>;
  mergeShards(shardId: string, adjacentShardId: string): Promise<void>;
}

/**
 * {@link StreamControl} on the Kinesis API with an injected client: DescribeStreamSummary for the status,
 * ListShards (paginated) for the hash ranges, UpdateShardCount with UNIFORM_SCALING, SplitShard at an exact
 * NewStartingHashKey, MergeShards. SDK errors pass through unchanged so the executor can tell
 * ResourceInUseException and LimitExceededException from failures.
 *
 * @example
 * ```ts
 * const control = new KinesisStreamControl({ kinesis: new KinesisClient({}), streamName: 'cdc-changes' });
 * const { status, openShards } = await control.describe();
 * ```
 */
class KinesisStreamControl implements StreamControl {
  readonly #kinesis: KinesisClient;
  public readonly streamName: string;

  public constructor(options: { readonly kinesis: KinesisClient; readonly streamName: string }) {
    this.#kinesis = options.kinesis;
    this.streamName = options.streamName;
  }

  public async describe(): Promise<StreamDescription> {
    try {
      const { StreamDescriptionSummary: summary } = await this.#kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: this.streamName }),
      );
      const listed: Shard[] = [];
      let next: string | undefined;
      do {
        const page: ListShardsCommandOutput = await this.#kinesis.send(
          next === undefined
            ? new ListShardsCommand({ StreamName: this.streamName })
            : new ListShardsCommand({ NextToken: next }),
        );
        listed.push(...(page.Shards ?? []));
        next = page.NextToken;
      } while (next !== undefined);
      const shards: ListedShard[] = listed
        .map((s) => ({
          shardId: s.ShardId ?? '',
          range: hashRange(s.HashKeyRange?.StartingHashKey ?? '0', s.HashKeyRange?.EndingHashKey ?? '0'),
          parentShardIds: [s.ParentShardId, s.AdjacentParentShardId].filter(
            (p): p is string => p !== undefined,
          ),
          open: s.SequenceNumberRange?.EndingSequenceNumber === undefined,
        }))
        .sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0));
      return {
        streamName: this.streamName,
        status: (summary?.StreamStatus ?? 'ACTIVE') as StreamStatus,
        openShards: shards.filter((s) => s.open).map(({ open: _, ...shard }) => shard),
        shards,
      };
    } catch (error) {
      throw new ScalingIoError('describe stream', `${this.streamName}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  public async updateShardCount(targetShardCount: number): Promise<void> {
    await this.#kinesis.send(
      new UpdateShardCountCommand({
        StreamName: this.streamName,
        TargetShardCount: targetShardCount,
        ScalingType: 'UNIFORM_SCALING',
      }),
    );
  }

  public async splitShard(shardId: string, newStartingHashKey: string): Promise<void> {
    await this.#kinesis.send(
      new SplitShardCommand({
        StreamName: this.streamName,
        ShardToSplit: shardId,
        NewStartingHashKey: newStartingHashKey,
      }),
    );
  }

  public async mergeShards(shardId: string, adjacentShardId: string): Promise<void> {
    await this.#kinesis.send(
      new MergeShardsCommand({
        StreamName: this.streamName,
        ShardToMerge: shardId,
        AdjacentShardToMerge: adjacentShardId,
      }),
    );
  }
}

export type { ListedShard, StreamControl, StreamDescription };
export { KinesisStreamControl };
