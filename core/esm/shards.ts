import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';

/** A shard as ListShards describes it. */
interface StreamShard {
  readonly shardId: string;
  /** ParentShardId and AdjacentParentShardId (a merge has two parents). */
  readonly parents: readonly string[];
  /** Has an ending sequence number: split or merged away, takes no new records. */
  readonly closed: boolean;
  /** The shard's hash key range, as decimal strings (for splitting at a chosen key). */
  readonly hashKeyRange: { readonly start: string; readonly end: string };
}

/** Every shard of the stream, open and closed, in ListShards order (pages followed). */
async function listStreamShards(kinesis: KinesisClient, streamName: string): Promise<StreamShard[]> {
  const shards: Shard[] = [];
  let next: string | undefined;
  do {
    const out = await kinesis.send(
      next === undefined
        ? new ListShardsCommand({ StreamName: streamName })
        : new ListShardsCommand({ NextToken: next }),
    );
    shards.push(...(out.Shards ?? []));
    next = out.NextToken;
  } while (next !== undefined);
  return shards.map((s) => ({
    shardId: s.ShardId!,
    parents: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined),
    closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
    hashKeyRange: {
      start: s.HashKeyRange?.StartingHashKey ?? '0',
      end: s.HashKeyRange?.EndingHashKey ?? '0',
    },
  }));
}

export type { StreamShard };
export { listStreamShards };
