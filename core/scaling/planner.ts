/**
 * The scaling planner: a pure function from what the stream is, what it carried, the policy and what was
 * done before, to what to do now. No I/O, no clock: everything arrives in {@link PlanInput}.
 */

import { ScalingRuleViolationError } from './errors.js';
import { sizeWorkerFleet } from './fleet-rule.js';
import { checkAction } from './kinesis-rules.js';
import type { OpenShard, Plan } from './model.js';
import { emptyDraft, type PlanDraft, type PlanFacts, type PlanInput, planFacts } from './plan-facts.js';
import { coldestAdjacentPair, findHotKeys, hottestFirst, pct, splitHottest } from './shard-choice.js';
import { demandOf, sustainedUtil, utilizationOf } from './utilization.js';

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

function quarterStepUp(n: number, needed: number): number {
  for (const factor of [1.25, 1.5, 1.75, 2]) {
    const candidate = Math.max(n + 1, Math.ceil(n * factor));
    if (candidate >= needed) return candidate;
  }
  return 2 * n;
}

function quarterStepDown(n: number, needed: number): number {
  // The smallest count of n × (1 − 0.25k) that still holds `needed`.
  for (const factor of [0.5, 0.75]) {
    const candidate = Math.ceil(n * factor);
    if (candidate >= needed && candidate < n) return candidate;
  }
  return n;
}

/**
 * Plans what the cluster manager should do now. Rules, in order (docs/scaling.md explains each):
 *
 * 1. hot partition keys above `hotKeyShardShare` of a shard are reported, never split for;
 * 2. shard bounds: below `minShards` / above `maxShards` is corrected first;
 * 3. consumers lagging (`parallelizationLagMs`) → ParallelizationFactor × 2 (instant, cheapest); idle for the
 *    quiet window → ÷ 2;
 * 4. scale out when demand is over target for the whole `scaleOutAfterMs` window, when writes are throttled in
 *    the last `saturationPeriods` periods, or when the iterator age passes `scaleOutIteratorAgeMs`, keeps
 *    growing and parallelization is at its maximum: broad growth → UpdateShardCount (25% steps, ≤ × 2, within
 *    the rolling 24-hour quota less the reserve, which only emergencies may use); local heat → split the
 *    hottest shard at its load median;
 * 5. scale in only after the longer quiet window `scaleInAfterMs` and `cooldownMs` after the last scale-out:
 *    a big drop → UpdateShardCount (≥ ÷ 2), otherwise merge the coldest adjacent pair;
 * 6. a worker fleet (containers) runs within `minWorkers..maxWorkers` and never more workers than shards
 *    after this plan's resharding; it grows for CPU over target, a strained worker or growing lag, and shrinks
 *    after a quiet window and the cool-down, a quarter at a time, by graceful hand-off (`fleet-rule.ts`);
 * 7. shedding on when the iterator age passes `shedding.lagCriticalMs` and scaling cannot act in time; off
 *    when it is back under `shedding.lagRecoveredMs`.
 *
 * At most one resharding per plan (Kinesis runs one at a time); every action is checked against Kinesis'
 * rules before it is returned.
 *
 * @example
 * ```ts
 * const plan = planScaling({ stream, metrics, policy, history, nowWallMs: Date.now() });
 * for (const action of plan.actions) console.log(action.kind, action.reason);
 * ```
 */
function planScaling(input: PlanInput): Plan {
  const facts = planFacts(input);
  const draft = emptyDraft(facts);
  reportHotKeys(facts, draft);
  holdBackOnStaleMetrics(facts, draft);
  correctShardBounds(facts, draft);
  tuneParallelization(facts, draft);
  scaleOut(facts, draft);
  scaleIn(facts, draft);
  if (draft.reshard !== undefined) draft.actions.unshift(draft.reshard);
  sizeWorkerFleet(facts, draft);
  setShedding(facts, draft);
  return checkedPlan(facts, draft);
}

// ── Gates shared by the resharding rules ─────────────────────────────────────────────────────────────

/** Resharding preconditions shared by scale-out and scale-in; a refusal is recorded as held back. */
function reshardGate(facts: PlanFacts, draft: PlanDraft, wanted: string): boolean {
  const { stream, policy, nowWallMs, lastUpdateShardCountAt } = facts;
  if (facts.stale) return false;
  if (stream.status !== 'ACTIVE') {
    draft.blocked.push({ wanted, rule: 'one-resharding-at-a-time', detail: `stream is ${stream.status}` });
    return false;
  }
  // After an UpdateShardCount every shard is new and every figure stale: wait for fresh ones. After a split
  // or merge only the children are new, and shards without figures are never chosen.
  if (lastUpdateShardCountAt !== undefined && nowWallMs - lastUpdateShardCountAt < policy.settleMs) {
    draft.blocked.push({
      wanted,
      rule: 'settle',
      detail: `last UpdateShardCount ${seconds(nowWallMs - lastUpdateShardCountAt)} ago; metrics of the new shards need ${seconds(policy.settleMs)}`,
    });
    return false;
  }
  return true;
}

/** Whether the rolling 24-hour quota allows one more UpdateShardCount (the reserve is for emergencies). */
function canCallUpdateShardCount(facts: PlanFacts, draft: PlanDraft, wanted: string): boolean {
  const { quota, callsUsed, emergency, policy } = facts;
  const allowed = emergency ? quota : quota - policy.updateShardCountReserve;
  if (callsUsed < allowed) return true;
  draft.blocked.push({
    wanted,
    rule: 'update-shard-count-rate',
    detail: emergency
      ? `${callsUsed} of ${quota} UpdateShardCount calls used in the last 24 h`
      : `${callsUsed} calls used in the last 24 h; the last ${policy.updateShardCountReserve} of ${quota} are kept for emergencies`,
  });
  return false;
}

// ── Rule 1: hot partition keys ───────────────────────────────────────────────────────────────────────

function reportHotKeys(facts: PlanFacts, draft: PlanDraft): void {
  draft.hotKeys = findHotKeys(facts.metrics.hotKeys, facts.stream.openShards, facts.policy);
  for (const finding of draft.hotKeys)
    draft.reasons.push(
      `partition key ${JSON.stringify(finding.partitionKey)} alone uses ${pct(finding.shardShare)} of shard ` +
        `${finding.shardId ?? '?'}'s limits: reported, not split for (no split can divide one key)`,
    );
}

/** Missing or stale metrics hold every resharding back. */
function holdBackOnStaleMetrics(facts: PlanFacts, draft: PlanDraft): void {
  if (!facts.stale) return;
  const { latest, nowWallMs } = facts;
  draft.reasons.push(
    latest === undefined
      ? 'no metrics yet: nothing is resharded until the stream has been observed'
      : `the newest metrics are from ${seconds(nowWallMs - latest.atWallMs)} ago: no resharding on stale figures`,
  );
  draft.blocked.push({ wanted: 'any resharding', rule: 'fresh-metrics', detail: 'metrics missing or stale' });
}

// ── Rule 2: shard bounds ─────────────────────────────────────────────────────────────────────────────

function correctShardBounds(facts: PlanFacts, draft: PlanDraft): void {
  const { n, policy, stream } = facts;
  if (n >= policy.minShards && n <= policy.maxShards) return;
  const target =
    n < policy.minShards ? Math.min(policy.minShards, 2 * n) : Math.max(policy.maxShards, Math.ceil(n / 2));
  const wanted = `UpdateShardCount ${n} → ${target} (shard bounds ${policy.minShards} … ${policy.maxShards})`;
  if (stream.status === 'ACTIVE' && canCallUpdateShardCount(facts, draft, wanted)) {
    draft.reshard = {
      kind: 'update-shard-count',
      fromShards: n,
      toShards: target,
      reason: `${n} open shards is outside minShards ${policy.minShards} … maxShards ${policy.maxShards}`,
    };
    draft.capacityAdded = target > n;
  } else if (stream.status !== 'ACTIVE')
    draft.blocked.push({ wanted, rule: 'one-resharding-at-a-time', detail: `stream is ${stream.status}` });
}

// ── Rule 3: ParallelizationFactor, instant, so it comes first whenever consumers lag ─────────────────

function tuneParallelization(facts: PlanFacts, draft: PlanDraft): void {
  const { policy, iteratorAgeMs, nowWallMs, lastPfChangeAt } = facts;
  const pf = facts.stream.parallelizationFactor;
  if (pf === undefined) return;
  const consumersLag = iteratorAgeMs !== undefined && iteratorAgeMs >= policy.parallelizationLagMs;
  const pfSettling = lastPfChangeAt !== undefined && nowWallMs - lastPfChangeAt < policy.settleMs;
  if (consumersLag && pf < policy.maxParallelizationFactor && pfSettling) {
    draft.reasons.push(
      `consumers lag; ParallelizationFactor changed ${seconds(nowWallMs - lastPfChangeAt!)} ago, waiting for it to show`,
    );
  } else if (consumersLag && pf < policy.maxParallelizationFactor) {
    const to = Math.min(policy.maxParallelizationFactor, Math.max(pf + 1, pf * 2));
    draft.actions.push({
      kind: 'set-parallelization-factor',
      from: pf,
      to,
      reason: `iterator age ${seconds(iteratorAgeMs!)} ≥ ${seconds(policy.parallelizationLagMs)}: more concurrent batches per shard (instant, no resharding)`,
    });
    draft.reasons.push(`consumers lag: ParallelizationFactor ${pf} → ${to}`);
    draft.capacityAdded = true;
    draft.pfAtMax = to >= policy.maxParallelizationFactor;
  } else if (consumersLag) {
    draft.reasons.push(
      `consumers lag but ParallelizationFactor is at its maximum ${policy.maxParallelizationFactor}`,
    );
  } else if (pf > policy.minParallelizationFactor && consumersIdle(facts)) {
    const to = Math.max(policy.minParallelizationFactor, Math.ceil(pf / 2));
    draft.actions.push({
      kind: 'set-parallelization-factor',
      from: pf,
      to,
      reason: `iterator age under ${seconds(policy.parallelizationIdleLagMs)} and every shard under ${pct(policy.scaleInUtilization)} for the whole quiet window (${seconds(policy.scaleInAfterMs)})`,
    });
    draft.reasons.push(`consumers idle: ParallelizationFactor ${pf} → ${to}`);
  }
}

/**
 * Caught up and cold for the whole quiet window, and no ParallelizationFactor change within it. Only a cold
 * stream: the planner does not know how fast one batch is, so it never lowers parallelization under a load
 * that may have needed it.
 */
function consumersIdle(facts: PlanFacts): boolean {
  const { inWindow, policy, nowWallMs, lastPfChangeAt } = facts;
  return (
    inWindow.covered &&
    inWindow.points.every((p) => (p.iteratorAgeMs ?? 0) < policy.parallelizationIdleLagMs) &&
    inWindow.points.every((p) => {
      const loads = Object.values(p.shards);
      return loads.length > 0 && loads.every((l) => utilizationOf(l, policy) < policy.scaleInUtilization);
    }) &&
    (lastPfChangeAt === undefined || nowWallMs - lastPfChangeAt >= policy.scaleInAfterMs)
  );
}

// ── Rule 4: scale out ────────────────────────────────────────────────────────────────────────────────

/** Why the stream needs more shards, if it does. */
interface ScaleOutSignals {
  /** Shards over the per-shard ceiling or throttled throughout, hottest first. */
  readonly hotShards: readonly OpenShard[];
  readonly streamOverTarget: boolean;
  /** Lag parallelization cannot cure, at most once per cool-down. */
  readonly lagNeedsShards: boolean;
}

function scaleOutSignals(facts: PlanFacts, draft: PlanDraft): ScaleOutSignals {
  const { stream, policy, stale, saturated, saturationWindow, latestUtil, n, nowWallMs } = facts;
  const { iteratorAgeMs, iteratorAgePrev, lastScaleOutAt, outWindow } = facts;
  const throttledThroughout = (shard: OpenShard) =>
    saturated && saturationWindow.every((p) => (p.shards[shard.shardId]?.throttledPerSecond ?? 0) > 0);
  // Shards that must be split whatever the stream's average: over the per-shard ceiling, or throttled. Near
  // the limit there is no time for the full window: the latest `saturationPeriods` periods decide.
  const ceilingWindow = {
    points: saturationWindow,
    covered: saturationWindow.length === policy.saturationPeriods,
  };
  const overCeiling = (shard: OpenShard) =>
    (sustainedUtil(shard.shardId, ceilingWindow, facts.shardUtil) ?? 0) > policy.maxShardUtilization;
  const hotShards = stream.openShards
    .filter((s) => !stale && (overCeiling(s) || throttledThroughout(s)))
    .sort((a, b) => (latestUtil.get(b.shardId) ?? 0) - (latestUtil.get(a.shardId) ?? 0));
  const demandSustained = outWindow.covered
    ? Math.min(...outWindow.points.map((p) => demandOf(p, policy)))
    : undefined;
  const lagGrowing =
    iteratorAgeMs !== undefined &&
    iteratorAgeMs >= policy.scaleOutIteratorAgeMs &&
    (iteratorAgePrev === undefined || iteratorAgeMs > iteratorAgePrev);
  // Lag that parallelization cannot cure calls for shards, at most once per cool-down: if it persists after
  // that, more shards are not the cure either (a hot key outrunning its one consumer batch, a slow handler).
  const lagNeedsShards =
    lagGrowing &&
    draft.pfAtMax &&
    (lastScaleOutAt === undefined || nowWallMs - lastScaleOutAt >= policy.cooldownMs);
  return {
    hotShards,
    streamOverTarget: demandSustained !== undefined && demandSustained > policy.targetUtilization * n,
    lagNeedsShards,
  };
}

/** The reasons to scale out, as one line. */
function scaleOutWhy(facts: PlanFacts, signals: ScaleOutSignals): string {
  const { policy, n, saturated, iteratorAgeMs } = facts;
  return [
    signals.streamOverTarget
      ? `demand over ${pct(policy.targetUtilization)} of ${n} shards for ${seconds(policy.scaleOutAfterMs)}`
      : undefined,
    saturated ? `writes throttled in the last ${policy.saturationPeriods} periods` : undefined,
    signals.hotShards.length > 0
      ? `${signals.hotShards.length} of ${n} shards over ${pct(policy.maxShardUtilization)} or throttled`
      : undefined,
    signals.lagNeedsShards
      ? `iterator age ${seconds(iteratorAgeMs!)} growing with parallelization at its maximum`
      : undefined,
  ]
    .filter((x) => x !== undefined)
    .join('; ');
}

/** Shards the demand needs at target, and whether throttling is broad (then it doubles: it hides demand). */
function shardsNeeded(facts: PlanFacts, signals: ScaleOutSignals) {
  const { policy, n, demandRecent, latest, saturated } = facts;
  let needed = Math.ceil(demandRecent / policy.targetUtilization);
  if (signals.lagNeedsShards) needed = Math.max(needed, n + Math.max(1, Math.ceil(n / 4)));
  // Throttled shards hide how much more was offered: when most are throttled, double (the most one call may).
  const latestLoads = Object.values(latest?.shards ?? {});
  const broadSaturation =
    saturated &&
    latestLoads.length >= 2 &&
    latestLoads.filter((l) => (l.throttledPerSecond ?? 0) > 0).length >= latestLoads.length / 2;
  if (broadSaturation) needed = Math.max(needed, 2 * n);
  return { needed: Math.min(policy.maxShards, Math.max(needed, n + 1)), broadSaturation };
}

function scaleOut(facts: PlanFacts, draft: PlanDraft): void {
  const { policy, n, stale, saturated } = facts;
  const signals = scaleOutSignals(facts, draft);
  draft.wantOut =
    !stale &&
    (signals.streamOverTarget || saturated || signals.hotShards.length > 0 || signals.lagNeedsShards);
  if (draft.reshard !== undefined || !draft.wantOut) return;
  if (n >= policy.maxShards) {
    draft.blocked.push({
      wanted: 'scale out',
      rule: 'shard-bounds',
      detail: `already at maxShards ${policy.maxShards}`,
    });
    return;
  }
  const why = scaleOutWhy(facts, signals);
  draft.reasons.push(`scale out: ${why}`);
  const { needed, broadSaturation } = shardsNeeded(facts, signals);
  if (!reshardGate(facts, draft, 'scale out')) return;
  // One UpdateShardCount for a big or broad change; single splits (no quota) for small or local ones.
  // Many shards at their ceiling at once (uniform growth) would need as many splits: one UpdateShardCount,
  // which also evens out the ranges, does it; its target still follows demand (uniform shards share it).
  const minChange = Math.max(2, policy.updateShardCountMinChange * n);
  const big = needed - n >= minChange || signals.hotShards.length >= minChange;
  if ((big || broadSaturation) && n > 1) {
    const to = Math.min(2 * n, policy.maxShards, quarterStepUp(n, needed));
    if (canCallUpdateShardCount(facts, draft, `UpdateShardCount ${n} → ${to}`))
      draft.reshard = {
        kind: 'update-shard-count',
        fromShards: n,
        toShards: to,
        reason: `${why}: demand ${facts.demandRecent.toFixed(2)} shard-units needs ${needed} shards at ${pct(policy.targetUtilization)}; a change of ${pct((to - n) / n)} → UpdateShardCount (25% steps, ≤ ×2)`,
      };
  }
  draft.reshard ??= splitForScaleOut(facts, draft, signals);
  draft.capacityAdded = draft.capacityAdded || draft.reshard !== undefined;
}

/**
 * Hot shards first; when the stream as a whole needs capacity, then the busiest of the rest. A shard with no
 * figures in the newest period (a child of a resharding that just finished) is not split on evidence from
 * before it existed.
 */
function splitForScaleOut(facts: PlanFacts, draft: PlanDraft, signals: ScaleOutSignals) {
  const { stream, latest, latestUtil, saturated, metrics, policy } = facts;
  const rest = (
    signals.streamOverTarget || signals.lagNeedsShards || saturated
      ? hottestFirst(stream.openShards, latestUtil)
      : []
  ).filter((s) => latest?.shards[s.shardId] !== undefined && (latestUtil.get(s.shardId) ?? 0) > 0);
  const candidates = [...signals.hotShards, ...rest.filter((s) => !signals.hotShards.includes(s))];
  return splitHottest(candidates, latest, metrics.hotKeys, policy, latestUtil, draft.reasons, draft.blocked);
}

// ── Rule 5: scale in ─────────────────────────────────────────────────────────────────────────────────

function scaleIn(facts: PlanFacts, draft: PlanDraft): void {
  const { policy, n, inWindow, stream, nowWallMs, lastScaleOutAt } = facts;
  if (
    draft.reshard !== undefined ||
    draft.wantOut ||
    facts.stale ||
    n <= policy.minShards ||
    !inWindow.covered
  )
    return;
  const peak = Math.max(...inWindow.points.map((p) => demandOf(p, policy)));
  const lagQuiet = inWindow.points.every((p) => (p.iteratorAgeMs ?? 0) < policy.parallelizationLagMs);
  const neededIn = Math.max(policy.minShards, Math.ceil(peak / policy.scaleInTargetUtilization));
  const sinceOut = lastScaleOutAt === undefined ? Number.POSITIVE_INFINITY : nowWallMs - lastScaleOutAt;
  const coldPair = coldestAdjacentPair(stream.openShards, inWindow.points, facts.shardUtil);
  const coldPairMergeable =
    coldPair !== undefined &&
    coldPair.hotterPeak < policy.scaleInUtilization &&
    peak <= policy.targetUtilization * (n - 1);
  if (!((neededIn < n || coldPairMergeable) && lagQuiet)) return;
  if (sinceOut < policy.cooldownMs) {
    draft.blocked.push({
      wanted: 'scale in',
      rule: 'cooldown',
      detail: `last scale-out ${seconds(sinceOut)} ago; cool-down is ${seconds(policy.cooldownMs)}`,
    });
    return;
  }
  if (!reshardGate(facts, draft, 'scale in')) return;
  draft.reasons.push(
    `scale in: the quiet window's peak demand ${peak.toFixed(2)} shard-units fits ${neededIn} shards at ${pct(policy.scaleInTargetUtilization)}`,
  );
  const to = Math.max(policy.minShards, quarterStepDown(n, neededIn));
  const big = n - to >= Math.max(2, policy.updateShardCountMinChange * n);
  if (big && canCallUpdateShardCount(facts, draft, `UpdateShardCount ${n} → ${to}`)) {
    draft.reshard = {
      kind: 'update-shard-count',
      fromShards: n,
      toShards: to,
      reason: `quiet for ${seconds(policy.scaleInAfterMs)}: peak ${peak.toFixed(2)} shard-units fits ${to} shards under ${pct(policy.scaleInTargetUtilization)}`,
    };
  } else if (coldPair !== undefined && coldPair.peak <= policy.mergeMaxUtilization) {
    draft.reshard = {
      kind: 'merge-shards',
      shardId: coldPair.lower.shardId,
      adjacentShardId: coldPair.upper.shardId,
      reason: `coldest adjacent pair: merged peak ${pct(coldPair.peak)} over the quiet window, under ${pct(policy.mergeMaxUtilization)}`,
    };
  } else {
    draft.blocked.push({
      wanted: 'merge',
      rule: 'merge-headroom',
      detail:
        coldPair === undefined
          ? 'no adjacent pair has a full quiet window of metrics'
          : `coldest adjacent pair would peak at ${pct(coldPair.peak)}, above ${pct(policy.mergeMaxUtilization)}`,
    });
  }
}

// ── Rule 7: shedding ─────────────────────────────────────────────────────────────────────────────────

function setShedding(facts: PlanFacts, draft: PlanDraft): void {
  const { policy, stream, iteratorAgeMs, iteratorAgePrev } = facts;
  if (!policy.shedding.auto) return;
  const criticalBefore = iteratorAgePrev !== undefined && iteratorAgePrev >= policy.shedding.lagCriticalMs;
  const recovered =
    iteratorAgeMs !== undefined &&
    iteratorAgeMs <= policy.shedding.lagRecoveredMs &&
    (iteratorAgePrev === undefined || iteratorAgePrev <= policy.shedding.lagRecoveredMs);
  if (!stream.sheddingActive && facts.lagCritical && (!draft.capacityAdded || criticalBefore)) {
    draft.actions.push({
      kind: 'set-shedding',
      active: true,
      reason: `iterator age ${seconds(iteratorAgeMs!)} ≥ ${seconds(policy.shedding.lagCriticalMs)} and ${whyShed(draft)}: defer low-priority tables`,
    });
    draft.reasons.push('shedding on');
  } else if (stream.sheddingActive && recovered) {
    draft.actions.push({
      kind: 'set-shedding',
      active: false,
      reason: `iterator age ${seconds(iteratorAgeMs!)} ≤ ${seconds(policy.shedding.lagRecoveredMs)}: lift shedding and replay what was deferred`,
    });
    draft.reasons.push('shedding off');
  }
}

function whyShed(draft: PlanDraft): string {
  if (draft.capacityAdded) return 'capacity was added but the lag has stayed critical for two periods';
  if (draft.blocked.length > 0)
    return `scaling cannot act now (${draft.blocked.map((b) => b.rule).join(', ')})`;
  if (draft.hotKeys.length > 0) return 'the lag comes from a hot partition key no scaling fixes';
  return 'no scaling action is available';
}

// ── The plan, checked ────────────────────────────────────────────────────────────────────────────────

/** The draft as a plan, every action checked against Kinesis' rules: a violation is a planner bug. */
function checkedPlan(facts: PlanFacts, draft: PlanDraft): Plan {
  const { actions, reasons, blocked, hotKeys } = draft;
  if (actions.length === 0 && reasons.length === 0) reasons.push('within target: nothing to do');
  const { stream, nowWallMs, policy } = facts;
  const context = {
    status: stream.status,
    openShards: stream.openShards,
    updateShardCountCallsAtWallMs: facts.callTimes,
    nowWallMs,
    minShards: policy.minShards,
    maxShards: policy.maxShards,
    updateShardCountCallsPer24h: facts.quota,
    ...(facts.fleet === undefined
      ? {}
      : { minWorkers: facts.fleet.minWorkers, maxWorkers: facts.fleet.maxWorkers }),
  };
  for (const action of actions) {
    const violations = checkAction(action, context);
    // A violation here is a planner bug: fail loudly rather than let the executor send it.
    if (violations.length > 0) throw new ScalingRuleViolationError(action.kind, violations);
  }
  return { atWallMs: nowWallMs, actions, reasons, blocked, hotKeys, summary: facts.summary };
}

export type { PlanInput };
export { demandOf, planScaling, utilizationOf };
