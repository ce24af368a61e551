import { type ItemKey, type LeaseRecord, shardLeaseKey } from '../coordination/index.js';

/**
 * The sort key of the assigner's lease, kept in the stream's lease partition (`LEASE#<stream>`) rather than
 * under `LEADER`: the one Query every worker makes for its shard leases then also shows who assigns them,
 * so watching the assigner costs nothing extra. Shard ids (`shardId-…`) never take this value.
 */
const ASSIGNER_SK = 'ASSIGNER';

/** What a shard lease's `data` holds (the lease primitive does not interpret it). */
interface ShardLeaseData {
  /** The shard's parents (split or merge), as ListShards names them when the lease is created. */
  readonly parents: readonly string[];
  /**
   * Sequence number of the last record processed in full; undefined before the first batch. Whole records,
   * as Lambda's event source mapping checkpoints: the sub-records of a KPL aggregate are all done, or the
   * record is delivered again and the position fence skips the sub-records already applied.
   */
  readonly checkpoint: string | undefined;
  /** The shard is closed (split or merged) and processed to its end: its children may start. */
  readonly ended: boolean;
  /** Records processed on this shard so far, over all owners; the assigner derives shard rates from it. */
  readonly records: number;
  /** How far the owner was behind the shard's tip at the checkpoint (Kinesis' MillisBehindLatest). */
  readonly lagMs: number | undefined;
  /** The owner's wall clock at the checkpoint; for people only. */
  readonly checkpointedAtWallMs: number | undefined;
}

/** One shard lease as read, with its data parsed. */
interface ShardLease {
  readonly shardId: string;
  readonly record: LeaseRecord;
  readonly data: ShardLeaseData;
}

const asNumber = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Parses a lease's data defensively: missing or malformed fields take their empty values. */
function shardLeaseData(data: Readonly<Record<string, unknown>>): ShardLeaseData {
  return {
    parents: Array.isArray(data.parents)
      ? data.parents.filter((p): p is string => typeof p === 'string')
      : [],
    checkpoint: typeof data.checkpoint === 'string' ? data.checkpoint : undefined,
    ended: data.ended === true,
    records: asNumber(data.records) ?? 0,
    lagMs: asNumber(data.lagMs),
    checkpointedAtWallMs: asNumber(data.checkpointedAtWallMs),
  };
}

/** The data of a new shard's lease. */
function newShardLeaseData(parents: readonly string[]): Record<string, unknown> {
  return { parents: [...parents], records: 0 };
}

/** The lease data after a checkpoint (or the end of the shard), written under the lease's fence. */
function checkpointedData(
  previous: ShardLeaseData,
  progress: {
    readonly checkpoint: string | undefined;
    readonly records: number;
    readonly lagMs: number | undefined;
    readonly ended?: boolean;
    readonly wallMs: number;
  },
): Record<string, unknown> {
  const data: Record<string, unknown> = {
    parents: [...previous.parents],
    records: previous.records + progress.records,
    ended: progress.ended ?? previous.ended,
    checkpointedAtWallMs: progress.wallMs,
  };
  const checkpoint = progress.checkpoint ?? previous.checkpoint;
  if (checkpoint !== undefined) data.checkpoint = checkpoint;
  if (progress.lagMs !== undefined) data.lagMs = Math.round(progress.lagMs);
  return data;
}

/** Splits one Query of the stream's lease partition into shard leases and the assigner's lease. */
function splitLeases(records: readonly LeaseRecord[]): {
  readonly shards: ShardLease[];
  readonly assigner: LeaseRecord | undefined;
} {
  const shards: ShardLease[] = [];
  let assigner: LeaseRecord | undefined;
  for (const record of records) {
    if (record.key.sk === ASSIGNER_SK) assigner = record;
    else shards.push({ shardId: record.key.sk, record, data: shardLeaseData(record.data) });
  }
  return { shards, assigner };
}

const assignerLeaseKey = (streamName: string): ItemKey => shardLeaseKey(streamName, ASSIGNER_SK);

export type { ShardLease, ShardLeaseData };
export { ASSIGNER_SK, assignerLeaseKey, checkpointedData, newShardLeaseData, shardLeaseData, splitLeases };
