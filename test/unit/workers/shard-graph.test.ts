import { describe, expect, it } from 'vitest';
import type { LeaseRecord } from '../../../core/coordination/index.js';
import { planShards } from '../../../core/workers/shard-graph.js';
import { type ShardLease, shardLeaseData } from '../../../core/workers/shard-lease.js';

const open = (shardId: string, parents: string[] = []) => ({ shardId, parents, closed: false });
const closed = (shardId: string, parents: string[] = []) => ({ shardId, parents, closed: true });

function lease(
  shardId: string,
  options: { owner?: string; fence?: number; ended?: boolean; checkpoint?: string; parents?: string[] } = {},
): ShardLease {
  const data: Record<string, unknown> = { parents: options.parents ?? [], records: 0 };
  if (options.ended) data.ended = true;
  if (options.checkpoint !== undefined) data.checkpoint = options.checkpoint;
  const record: LeaseRecord = {
    key: { pk: 'LEASE#s', sk: shardId },
    owner: options.owner,
    fence: options.fence ?? 0,
    version: 'v',
    leaseDurationMs: 10_000,
    renewal: 'heartbeat',
    pendingOwner: undefined,
    handOffAcceptedFence: undefined,
    successor: undefined,
    grantedAtWallMs: undefined,
    renewedAtWallMs: undefined,
    data,
  };
  return { shardId, record, data: shardLeaseData(data) };
}

describe('Function: planShards', () => {
  it('creates a lease for every listed shard without one, with its parents', () => {
    const plan = planShards([open('a'), open('b', ['x'])], []);
    expect(plan.create).toEqual([
      { shardId: 'a', parents: [] },
      { shardId: 'b', parents: ['x'] },
    ]);
    expect(plan.assignable.size).toBe(0);
  });

  it('keeps a split child waiting until its parent is read to its end, then makes it assignable', () => {
    const shards = [closed('p'), open('c1', ['p']), open('c2', ['p'])];
    const running = planShards(shards, [lease('p', { owner: 'w1', fence: 3 }), lease('c1'), lease('c2')]);
    expect([...running.assignable]).toEqual(['p']);
    expect(running.waiting).toEqual(
      new Map([
        ['c1', ['p']],
        ['c2', ['p']],
      ]),
    );
    const ended = planShards(shards, [lease('p', { ended: true, fence: 3 }), lease('c1'), lease('c2')]);
    expect([...ended.assignable].sort()).toEqual(['c1', 'c2']);
  });

  it('starts a merged child only when both parents are done', () => {
    const shards = [closed('p1'), closed('p2'), open('m', ['p1', 'p2'])];
    const oneDone = planShards(shards, [
      lease('p1', { ended: true, fence: 1 }),
      lease('p2', { owner: 'w', fence: 1 }),
      lease('m'),
    ]);
    expect(oneDone.assignable.has('m')).toBe(false);
    expect(oneDone.waiting.get('m')).toEqual(['p2']);
    const bothDone = planShards(shards, [
      lease('p1', { ended: true, fence: 1 }),
      lease('p2', { ended: true, fence: 1 }),
      lease('m'),
    ]);
    expect(bothDone.assignable.has('m')).toBe(true);
  });

  it('counts a parent that left the stream (trimmed) as done, so its child is never stuck', () => {
    const plan = planShards([open('c', ['gone'])], [lease('c')]);
    expect(plan.assignable.has('c')).toBe(true);
  });

  it('cleans an ended parent up only after every child has started, and never recreates it', () => {
    const shards = [closed('p'), open('c1', ['p']), open('c2', ['p'])];
    const oneStarted = planShards(shards, [
      lease('p', { ended: true, fence: 2 }),
      lease('c1', { owner: 'w', fence: 1 }),
      lease('c2'),
    ]);
    expect(oneStarted.cleanable).toEqual([]);
    const bothStarted = planShards(shards, [
      lease('p', { ended: true, fence: 2 }),
      lease('c1', { owner: 'w', fence: 1 }),
      lease('c2', { fence: 1, checkpoint: '49' }),
    ]);
    expect(bothStarted.cleanable).toEqual(['p']);
    // After the clean-up the closed parent has no lease; a started child shows it was done.
    const afterCleanup = planShards(shards, [
      lease('c1', { owner: 'w', fence: 1 }),
      lease('c2', { fence: 1 }),
    ]);
    expect(afterCleanup.create).toEqual([]);
    expect([...afterCleanup.assignable].sort()).toEqual(['c1', 'c2']);
  });

  it('never cleans up a lease someone holds, and keeps an unended lease of a shard missing from the list', () => {
    const plan = planShards(
      [open('c', ['p'])],
      [
        lease('p', { owner: 'w', fence: 1, ended: true }),
        lease('q', { fence: 2, checkpoint: '5' }),
        lease('r'),
      ],
    );
    expect(plan.cleanable).toEqual(['r']);
  });
});
