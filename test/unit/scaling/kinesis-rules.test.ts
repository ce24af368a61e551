import { describe, expect, it } from 'vitest';
import {
  checkAction,
  type PlannedAction,
  RULES,
  type RuleContext,
  updateShardCountCallsInWindow,
} from '../../../core/scaling/index.js';
import { evenShards, MINUTE, NOW, shardId } from '../../helpers/scaling.js';

const shards = evenShards(4);
const context = (overrides: Partial<RuleContext> = {}): RuleContext => ({
  status: 'ACTIVE',
  openShards: shards,
  updateShardCountCallsAtWallMs: [],
  nowWallMs: NOW,
  ...overrides,
});
const usc = (fromShards: number, toShards: number): PlannedAction => ({
  kind: 'update-shard-count',
  fromShards,
  toShards,
  reason: 'test',
});
const ruleNames = (action: PlannedAction, c: RuleContext = context()) =>
  checkAction(action, c).map((v) => v.rule);

describe('Function: checkAction', () => {
  describe('UpdateShardCount', () => {
    it('allows anything from half to double the open count', () => {
      expect([ruleNames(usc(4, 2)), ruleNames(usc(4, 8)), ruleNames(usc(4, 5))]).toEqual([[], [], []]);
    });

    it('refuses more than double, less than half, or no change', () => {
      expect(ruleNames(usc(4, 9))).toEqual([RULES.updateShardCountFactor]);
      expect(ruleNames(usc(4, 1))).toEqual([RULES.updateShardCountFactor]);
      expect(checkAction(usc(4, 9), context())[0]!.detail).toBe('4 → 9: Kinesis allows 2 … 8');
      expect(ruleNames(usc(4, 4))).toEqual([RULES.updateShardCountFactor]);
    });

    it('refuses an 11th call in a rolling 24 hours; calls older than 24 h do not count', () => {
      const ten = Array.from({ length: 10 }, (_, i) => NOW - (i + 1) * 60 * MINUTE);
      const old = Array.from({ length: 10 }, (_, i) => NOW - 24 * 60 * MINUTE - i * MINUTE);

      expect(ruleNames(usc(4, 8), context({ updateShardCountCallsAtWallMs: ten }))).toEqual([
        RULES.updateShardCountRate,
      ]);
      expect(ruleNames(usc(4, 8), context({ updateShardCountCallsAtWallMs: old }))).toEqual([]);
      expect(updateShardCountCallsInWindow([...ten, ...old], NOW)).toBe(10);
    });

    it('refuses more than 10,000 shards and a count planned from a stale view', () => {
      const big = evenShards(6000);

      expect(ruleNames(usc(6000, 12_000), context({ openShards: big }))).toEqual([RULES.updateShardCountMax]);
      expect(ruleNames(usc(3, 6))).toContain(RULES.updateShardCountFactor);
    });
  });

  it('allows one resharding at a time: nothing on a stream that is not ACTIVE', () => {
    const split: PlannedAction = {
      kind: 'split-shard',
      shardId: shardId(0),
      newStartingHashKey: '100',
      lowerShare: 0.5,
      upperShare: 0.5,
      reason: 'test',
    };

    expect(ruleNames(usc(4, 8), context({ status: 'UPDATING' }))).toEqual([RULES.oneReshardingAtATime]);
    expect(ruleNames(split, context({ status: 'UPDATING' }))).toEqual([RULES.oneReshardingAtATime]);
  });

  describe('SplitShard', () => {
    const split = (id: string, key: string): PlannedAction => ({
      kind: 'split-shard',
      shardId: id,
      newStartingHashKey: key,
      lowerShare: 0.5,
      upperShare: 0.5,
      reason: 'test',
    });

    it('needs NewStartingHashKey inside the range and above its start', () => {
      const second = shards[1]!;

      expect(ruleNames(split(second.shardId, (second.range.start + 1n).toString()))).toEqual([]);
      expect(ruleNames(split(second.shardId, second.range.end.toString()))).toEqual([]);
      expect(ruleNames(split(second.shardId, second.range.start.toString()))).toEqual([
        RULES.splitKeyInRange,
      ]);
      expect(ruleNames(split(second.shardId, (second.range.end + 1n).toString()))).toEqual([
        RULES.splitKeyInRange,
      ]);
      expect(ruleNames(split(second.shardId, 'x'))).toEqual([RULES.splitKeyInRange]);
    });

    it('needs an open shard', () => {
      expect(ruleNames(split('shardId-999', '5'))).toEqual([RULES.openShard]);
    });
  });

  describe('MergeShards', () => {
    const merge = (a: number, b: number): PlannedAction => ({
      kind: 'merge-shards',
      shardId: shardId(a),
      adjacentShardId: shardId(b),
      reason: 'test',
    });

    it('merges only shards whose ranges touch, in either order', () => {
      expect([ruleNames(merge(0, 1)), ruleNames(merge(2, 1))]).toEqual([[], []]);
      expect(ruleNames(merge(0, 2))).toEqual([RULES.adjacentMerge]);
      expect(ruleNames(merge(1, 1))).toEqual([RULES.adjacentMerge]);
    });

    it('needs both shards open', () => {
      expect(ruleNames(merge(0, 9))).toEqual([RULES.openShard]);
    });
  });

  it('keeps the policy bounds, except for a step towards them', () => {
    expect(ruleNames(usc(4, 8), context({ maxShards: 6 }))).toEqual([RULES.shardBounds]);
    expect(ruleNames(usc(4, 2), context({ minShards: 3 }))).toEqual([RULES.shardBounds]);
    expect(ruleNames(usc(4, 3), context({ minShards: 6 }))).toEqual([RULES.shardBounds]);
    expect(ruleNames(usc(4, 6), context({ minShards: 8 }))).toEqual([]);
  });

  it('keeps ParallelizationFactor within 1 … 10', () => {
    const pf = (to: number): PlannedAction => ({
      kind: 'set-parallelization-factor',
      from: 1,
      to,
      reason: 'test',
    });

    expect([ruleNames(pf(1)), ruleNames(pf(10)), ruleNames(pf(11)), ruleNames(pf(0))]).toEqual([
      [],
      [],
      [RULES.parallelizationRange],
      [RULES.parallelizationRange],
    ]);
  });
});
