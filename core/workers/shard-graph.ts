import type { StreamShard as ListedShard } from '../esm/shards.js';
import type { ShardLease } from './shard-lease.js';

/** What the plan needs of a shard from ListShards. */
type StreamShard = Pick<ListedShard, 'shardId' | 'parents' | 'closed'>;

/** What the assigner should do about the stream's shards and their leases. */
interface ShardPlan {
  /** Shards that need a lease (new shards, children of a split or merge), with their parents. */
  readonly create: readonly { readonly shardId: string; readonly parents: readonly string[] }[];
  /** Shards whose lease may be held: not ended, and every parent processed to its end. */
  readonly assignable: ReadonlySet<string>;
  /** Shards waiting for parents, with the parents not yet done (for `cdcp status`). */
  readonly waiting: ReadonlyMap<string, readonly string[]>;
  /** Ended, free leases whose children have all started (or whose shard left the stream): delete them. */
  readonly cleanable: readonly string[];
}

/**
 * Parents before children, decided from ListShards and the leases alone (pure; KCL's users report shards stuck
 * after resharding when child leases are never created or a parent's end is never recorded):
 *
 * - every listed shard gets a lease, except a closed shard that was processed and cleaned up already (one of
 *   its children has started);
 * - a parent is done when its lease is ended, when it left the stream (trimmed after the retention period),
 *   or when its lease was cleaned up (a child has started);
 * - a child is assignable once all its parents are done; until then it waits, whoever holds what;
 * - an ended parent's lease is deleted once every child has started, so children never wait on a missing
 *   parent and nothing is processed twice.
 */
function planShards(shards: readonly StreamShard[], leases: readonly ShardLease[]): ShardPlan {
  const listed = new Map(shards.map((s) => [s.shardId, s]));
  const leaseOf = new Map(leases.map((l) => [l.shardId, l]));
  const children = new Map<string, string[]>();
  for (const shard of shards)
    for (const parent of shard.parents)
      children.set(parent, [...(children.get(parent) ?? []), shard.shardId]);
  const started = (shardId: string) => {
    const lease = leaseOf.get(shardId);
    return (
      lease !== undefined &&
      (lease.record.fence > 0 || lease.data.checkpoint !== undefined || lease.data.ended)
    );
  };
  const cleanedUp = (shardId: string) =>
    leaseOf.get(shardId) === undefined && (children.get(shardId) ?? []).some(started);
  const done = (shardId: string) =>
    !listed.has(shardId) || leaseOf.get(shardId)?.data.ended === true || cleanedUp(shardId);

  const create: { shardId: string; parents: readonly string[] }[] = [];
  const assignable = new Set<string>();
  const waiting = new Map<string, string[]>();
  for (const shard of shards) {
    const lease = leaseOf.get(shard.shardId);
    if (lease === undefined) {
      if (!(shard.closed && cleanedUp(shard.shardId)))
        create.push({ shardId: shard.shardId, parents: shard.parents });
      continue;
    }
    if (lease.data.ended) continue;
    const pending = shard.parents.filter((p) => !done(p));
    if (pending.length === 0) assignable.add(shard.shardId);
    else waiting.set(shard.shardId, pending);
  }
  const cleanable = leases
    .filter((l) => {
      if (l.record.owner !== undefined) return false;
      // Gone from the stream (trimmed after the retention period): nothing left to read. A lease that has a
      // checkpoint but no end is kept, in case ListShards answered from a stale view.
      if (!listed.has(l.shardId)) return l.data.ended || !started(l.shardId);
      const kids = children.get(l.shardId) ?? [];
      return l.data.ended && kids.length > 0 && kids.every(started);
    })
    .map((l) => l.shardId);
  return { create, assignable, waiting, cleanable };
}

export type { ShardPlan, StreamShard };
export { planShards };
