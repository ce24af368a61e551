/**
 * The scaling planner: a pure function from what the stream is, what it carried, the policy and what was
 * done before, to what to do now. No I/O, no clock: everything arrives in {@link PlanInput}.
 */

import { ScalingRuleViolationError } from './errors.js';
import { contains } from './hash-key.js';
import { checkAction, isResharding, updateShardCountCallsInWindow } from './kinesis-rules.js';
import { loadMedianSplit } from './load-median.js';
import type {
  ActionRecord,
  BlockedAction,
  HotKeyFinding,
  KeyRate,
  MetricPoint,
  MetricsHistory,
  OpenShard,
  Plan,
  PlannedAction,
  ShardLoad,
  StreamView,
} from './model.js';
import type { ScalingPolicy } from './policy.js';

interface PlanInput {
  readonly stream: StreamView;
  readonly metrics: MetricsHistory;
  readonly policy: ScalingPolicy;
  /** Earlier actions (the audit log), any order; at least the last 24 hours. */
  readonly history: readonly ActionRecord[];
  readonly nowWallMs: number;
}

/** Assumed record size when a period carried no records but throttled some (bytes per throttled record). */
const FALLBACK_RECORD_BYTES = 1024;
/** A split must lower the hotter child to at most this share of the parent, or it is not worth a resharding. */
const USEFUL_SPLIT_MAX_SHARE = 0.9;
/** Metrics older than this many periods are stale: the planner does not reshard on them. */
const STALE_PERIODS = 3;

/**
 * Share of one shard's write limits a load uses: the larger of its records and bytes shares, with refused
 * writes counted as demand. A throttled record is counted again at every retry, so refused writes add at most
 * one more shard's worth: a saturated shard reads as "up to twice its limits", never more.
 */
function utilizationOf(load: ShardLoad, policy: ScalingPolicy): number {
  const recordBytes =
    load.recordsPerSecond > 0 ? load.bytesPerSecond / load.recordsPerSecond : FALLBACK_RECORD_BYTES;
  const throttled = Math.min(
    load.throttledPerSecond ?? 0,
    policy.limits.recordsPerSecond,
    policy.limits.bytesPerSecond / recordBytes,
  );
  return Math.max(
    (load.recordsPerSecond + throttled) / policy.limits.recordsPerSecond,
    (load.bytesPerSecond + throttled * recordBytes) / policy.limits.bytesPerSecond,
  );
}

/**
 * A point's demand in shard units (1.0 = one shard's limits): the sum over its shards, or the stream's total
 * if that is higher (per-shard figures cover only the shards asked for, not those closed since).
 */
function demandOf(point: MetricPoint, policy: ScalingPolicy): number {
  const sum = Object.values(point.shards).reduce((total, load) => total + utilizationOf(load, policy), 0);
  return Math.max(sum, point.stream === undefined ? 0 : utilizationOf(point.stream, policy));
}

/** Points overlapping the trailing window, and whether they cover all of it. */
function windowOf(points: readonly MetricPoint[], nowWallMs: number, windowMs: number) {
  const selected = points.filter(
    (p) => p.atWallMs + p.periodMs > nowWallMs - windowMs && p.atWallMs < nowWallMs,
  );
  const first = selected[0];
  const covered = first !== undefined && first.atWallMs <= nowWallMs - windowMs + first.periodMs / 2;
  return { points: selected, covered };
}

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

const doneOutcome = (o: ActionRecord['outcome']) =>
  o === undefined || o === 'applied' || o === 'already-done';
const calledOutcome = (o: ActionRecord['outcome']) => o === undefined || o === 'applied';
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

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
 * 6. shedding on when the iterator age passes `shedding.lagCriticalMs` and scaling cannot act in time; off
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
  const { stream, metrics, policy, nowWallMs } = input;
  const n = stream.openShards.length;
  const reasons: string[] = [];
  const blocked: BlockedAction[] = [];
  const actions: PlannedAction[] = [];
  const points = [...metrics.points].sort((a, b) => a.atWallMs - b.atWallMs);
  const latest = points.at(-1);
  const previous = points.at(-2);
  const stale = latest === undefined || latest.atWallMs + latest.periodMs * STALE_PERIODS < nowWallMs;

  // What was done before.
  const history = [...input.history].sort((a, b) => a.atWallMs - b.atWallMs);
  const reshards = history.filter((a) => isResharding(a.kind) && doneOutcome(a.outcome));
  const lastReshardAt = reshards.at(-1)?.atWallMs;
  const lastScaleOutAt = reshards.filter((a) => a.direction === 'out').at(-1)?.atWallMs;
  const lastUpdateShardCountAt = reshards.filter((a) => a.kind === 'update-shard-count').at(-1)?.atWallMs;
  const callTimes = history
    .filter((a) => a.kind === 'update-shard-count' && calledOutcome(a.outcome))
    .map((a) => a.atWallMs);
  const quota = policy.limits.updateShardCountCallsPer24h;
  const callsUsed = updateShardCountCallsInWindow(callTimes, nowWallMs);
  const lastPfChangeAt = history
    .filter((a) => a.kind === 'set-parallelization-factor' && doneOutcome(a.outcome))
    .at(-1)?.atWallMs;

  // Load now.
  const shardUtil = (shardId: string, point: MetricPoint | undefined) => {
    const load = point?.shards[shardId];
    return load === undefined ? undefined : utilizationOf(load, policy);
  };
  const demandNow = latest === undefined ? 0 : demandOf(latest, policy);
  const demandRecent = Math.max(demandNow, previous === undefined ? 0 : demandOf(previous, policy));
  const iteratorAgeMs = latest?.iteratorAgeMs;
  const iteratorAgePrev = previous?.iteratorAgeMs;
  const latestUtil = new Map(stream.openShards.map((s) => [s.shardId, shardUtil(s.shardId, latest) ?? 0]));
  const hottest = [...latestUtil.entries()].sort((a, b) => b[1] - a[1])[0];

  const outWindow = windowOf(points, nowWallMs, policy.scaleOutAfterMs);
  const inWindow = windowOf(points, nowWallMs, policy.scaleInAfterMs);
  const saturationWindow = points.slice(-policy.saturationPeriods);
  const throttledIn = (p: MetricPoint) =>
    Object.values(p.shards).some((l) => (l.throttledPerSecond ?? 0) > 0) ||
    (p.stream?.throttledPerSecond ?? 0) > 0;
  const saturated =
    !stale && saturationWindow.length === policy.saturationPeriods && saturationWindow.every(throttledIn);
  const lagCritical = iteratorAgeMs !== undefined && iteratorAgeMs >= policy.shedding.lagCriticalMs;
  const emergency = saturated || lagCritical;

  const summary = {
    openShards: n,
    demandShards: round(demandNow),
    utilization: n === 0 ? 0 : round(demandNow / n),
    iteratorAgeMs,
    parallelizationFactor: stream.parallelizationFactor,
    sheddingActive: stream.sheddingActive,
    updateShardCountCallsLast24h: callsUsed,
    updateShardCountCallsLeft: Math.max(0, quota - callsUsed),
    lastReshardAtWallMs: lastReshardAt,
    hottestShard: hottest === undefined ? undefined : { shardId: hottest[0], utilization: round(hottest[1]) },
  };

  // 1. Hot partition keys.
  const hotKeys = findHotKeys(metrics.hotKeys, stream.openShards, policy);
  for (const finding of hotKeys)
    reasons.push(
      `partition key ${JSON.stringify(finding.partitionKey)} alone uses ${pct(finding.shardShare)} of shard ` +
        `${finding.shardId ?? '?'}'s limits: reported, not split for (no split can divide one key)`,
    );

  if (stale) {
    reasons.push(
      latest === undefined
        ? 'no metrics yet: nothing is resharded until the stream has been observed'
        : `the newest metrics are from ${seconds(nowWallMs - latest.atWallMs)} ago: no resharding on stale figures`,
    );
    blocked.push({ wanted: 'any resharding', rule: 'fresh-metrics', detail: 'metrics missing or stale' });
  }

  // Resharding preconditions shared by scale-out and scale-in.
  const reshardGate = (wanted: string): boolean => {
    if (stale) return false;
    if (stream.status !== 'ACTIVE') {
      blocked.push({ wanted, rule: 'one-resharding-at-a-time', detail: `stream is ${stream.status}` });
      return false;
    }
    // After an UpdateShardCount every shard is new and every figure stale: wait for fresh ones. After a split
    // or merge only the children are new, and shards without figures are never chosen.
    if (lastUpdateShardCountAt !== undefined && nowWallMs - lastUpdateShardCountAt < policy.settleMs) {
      blocked.push({
        wanted,
        rule: 'settle',
        detail: `last UpdateShardCount ${seconds(nowWallMs - lastUpdateShardCountAt)} ago; metrics of the new shards need ${seconds(policy.settleMs)}`,
      });
      return false;
    }
    return true;
  };
  const canCallUpdateShardCount = (wanted: string): boolean => {
    const allowed = emergency ? quota : quota - policy.updateShardCountReserve;
    if (callsUsed < allowed) return true;
    blocked.push({
      wanted,
      rule: 'update-shard-count-rate',
      detail: emergency
        ? `${callsUsed} of ${quota} UpdateShardCount calls used in the last 24 h`
        : `${callsUsed} calls used in the last 24 h; the last ${policy.updateShardCountReserve} of ${quota} are kept for emergencies`,
    });
    return false;
  };

  let reshard: PlannedAction | undefined;
  let capacityAdded = false;

  // 2. Shard bounds.
  if (n < policy.minShards || n > policy.maxShards) {
    const target =
      n < policy.minShards ? Math.min(policy.minShards, 2 * n) : Math.max(policy.maxShards, Math.ceil(n / 2));
    const wanted = `UpdateShardCount ${n} → ${target} (shard bounds ${policy.minShards} … ${policy.maxShards})`;
    if (stream.status === 'ACTIVE' && canCallUpdateShardCount(wanted)) {
      reshard = {
        kind: 'update-shard-count',
        fromShards: n,
        toShards: target,
        reason: `${n} open shards is outside minShards ${policy.minShards} … maxShards ${policy.maxShards}`,
      };
      capacityAdded = target > n;
    } else if (stream.status !== 'ACTIVE')
      blocked.push({ wanted, rule: 'one-resharding-at-a-time', detail: `stream is ${stream.status}` });
  }

  // 3. ParallelizationFactor: instant, so it comes first whenever consumers lag.
  const pf = stream.parallelizationFactor;
  const consumersLag = iteratorAgeMs !== undefined && iteratorAgeMs >= policy.parallelizationLagMs;
  let pfAtMax = pf === undefined || pf >= policy.maxParallelizationFactor;
  const pfSettling = lastPfChangeAt !== undefined && nowWallMs - lastPfChangeAt < policy.settleMs;
  if (pf !== undefined && consumersLag && pf < policy.maxParallelizationFactor && pfSettling) {
    reasons.push(
      `consumers lag; ParallelizationFactor changed ${seconds(nowWallMs - lastPfChangeAt!)} ago, waiting for it to show`,
    );
  } else if (pf !== undefined && consumersLag && pf < policy.maxParallelizationFactor) {
    const to = Math.min(policy.maxParallelizationFactor, Math.max(pf + 1, pf * 2));
    actions.push({
      kind: 'set-parallelization-factor',
      from: pf,
      to,
      reason: `iterator age ${seconds(iteratorAgeMs!)} ≥ ${seconds(policy.parallelizationLagMs)}: more concurrent batches per shard (instant, no resharding)`,
    });
    reasons.push(`consumers lag: ParallelizationFactor ${pf} → ${to}`);
    capacityAdded = true;
    pfAtMax = to >= policy.maxParallelizationFactor;
  } else if (pf !== undefined && consumersLag) {
    reasons.push(
      `consumers lag but ParallelizationFactor is at its maximum ${policy.maxParallelizationFactor}`,
    );
  } else if (
    pf !== undefined &&
    pf > policy.minParallelizationFactor &&
    inWindow.covered &&
    inWindow.points.every((p) => (p.iteratorAgeMs ?? 0) < policy.parallelizationIdleLagMs) &&
    // Only a cold stream: the planner does not know how fast one batch is, so it never lowers
    // parallelization under a load that may have needed it.
    inWindow.points.every((p) => {
      const loads = Object.values(p.shards);
      return loads.length > 0 && loads.every((l) => utilizationOf(l, policy) < policy.scaleInUtilization);
    }) &&
    (lastPfChangeAt === undefined || nowWallMs - lastPfChangeAt >= policy.scaleInAfterMs)
  ) {
    const to = Math.max(policy.minParallelizationFactor, Math.ceil(pf / 2));
    actions.push({
      kind: 'set-parallelization-factor',
      from: pf,
      to,
      reason: `iterator age under ${seconds(policy.parallelizationIdleLagMs)} and every shard under ${pct(policy.scaleInUtilization)} for the whole quiet window (${seconds(policy.scaleInAfterMs)})`,
    });
    reasons.push(`consumers idle: ParallelizationFactor ${pf} → ${to}`);
  }

  // 4. Scale out.
  const throttledThroughout = (shard: OpenShard) =>
    saturated && saturationWindow.every((p) => (p.shards[shard.shardId]?.throttledPerSecond ?? 0) > 0);
  // Shards that must be split whatever the stream's average: over the per-shard ceiling, or throttled. Near
  // the limit there is no time for the full window: the latest `saturationPeriods` periods decide.
  const ceilingWindow = {
    points: saturationWindow,
    covered: saturationWindow.length === policy.saturationPeriods,
  };
  const overCeiling = (shard: OpenShard) =>
    (sustainedUtil(shard.shardId, ceilingWindow, shardUtil) ?? 0) > policy.maxShardUtilization;
  const hotShards = stream.openShards
    .filter((s) => !stale && (overCeiling(s) || throttledThroughout(s)))
    .sort((a, b) => (latestUtil.get(b.shardId) ?? 0) - (latestUtil.get(a.shardId) ?? 0));
  const demandSustained = outWindow.covered
    ? Math.min(...outWindow.points.map((p) => demandOf(p, policy)))
    : undefined;
  const streamOverTarget = demandSustained !== undefined && demandSustained > policy.targetUtilization * n;
  const lagGrowing =
    iteratorAgeMs !== undefined &&
    iteratorAgeMs >= policy.scaleOutIteratorAgeMs &&
    (iteratorAgePrev === undefined || iteratorAgeMs > iteratorAgePrev);
  // Lag that parallelization cannot cure calls for shards, at most once per cool-down: if it persists after
  // that, more shards are not the cure either (a hot key outrunning its one consumer batch, a slow handler).
  const lagNeedsShards =
    lagGrowing &&
    pfAtMax &&
    (lastScaleOutAt === undefined || nowWallMs - lastScaleOutAt >= policy.cooldownMs);
  const wantOut = !stale && (streamOverTarget || saturated || hotShards.length > 0 || lagNeedsShards);

  if (reshard === undefined && wantOut && n < policy.maxShards) {
    const why = [
      streamOverTarget
        ? `demand over ${pct(policy.targetUtilization)} of ${n} shards for ${seconds(policy.scaleOutAfterMs)}`
        : undefined,
      saturated ? `writes throttled in the last ${policy.saturationPeriods} periods` : undefined,
      hotShards.length > 0
        ? `${hotShards.length} of ${n} shards over ${pct(policy.maxShardUtilization)} or throttled`
        : undefined,
      lagNeedsShards
        ? `iterator age ${seconds(iteratorAgeMs!)} growing with parallelization at its maximum`
        : undefined,
    ]
      .filter((x) => x !== undefined)
      .join('; ');
    reasons.push(`scale out: ${why}`);
    let needed = Math.ceil(demandRecent / policy.targetUtilization);
    if (lagNeedsShards) needed = Math.max(needed, n + Math.max(1, Math.ceil(n / 4)));
    // Throttled shards hide how much more was offered: when most are throttled, double (the most one call may).
    const latestLoads = Object.values(latest?.shards ?? {});
    const broadSaturation =
      saturated &&
      latestLoads.length >= 2 &&
      latestLoads.filter((l) => (l.throttledPerSecond ?? 0) > 0).length >= latestLoads.length / 2;
    if (broadSaturation) needed = Math.max(needed, 2 * n);
    needed = Math.min(policy.maxShards, Math.max(needed, n + 1));
    // One UpdateShardCount for a big or broad change; single splits (no quota) for small or local ones.
    const minChange = Math.max(2, policy.updateShardCountMinChange * n);
    // Many shards at their ceiling at once (uniform growth) would need as many splits: one UpdateShardCount,
    // which also evens out the ranges, does it; its target still follows demand (uniform shards share it).
    const big = needed - n >= minChange || hotShards.length >= minChange;
    if (reshardGate('scale out')) {
      if ((big || broadSaturation) && n > 1) {
        const to = Math.min(2 * n, policy.maxShards, quarterStepUp(n, needed));
        if (canCallUpdateShardCount(`UpdateShardCount ${n} → ${to}`))
          reshard = {
            kind: 'update-shard-count',
            fromShards: n,
            toShards: to,
            reason: `${why}: demand ${demandRecent.toFixed(2)} shard-units needs ${needed} shards at ${pct(policy.targetUtilization)}; a change of ${pct((to - n) / n)} → UpdateShardCount (25% steps, ≤ ×2)`,
          };
      }
      if (reshard === undefined) {
        // Hot shards first; when the stream as a whole needs capacity, then the busiest of the rest.
        // A shard with no figures in the newest period (a child of a resharding that just finished) is not
        // split on evidence from before it existed.
        const rest = (
          streamOverTarget || lagNeedsShards || saturated ? hottestFirst(stream.openShards, latestUtil) : []
        ).filter((s) => latest?.shards[s.shardId] !== undefined && (latestUtil.get(s.shardId) ?? 0) > 0);
        const candidates = [...hotShards, ...rest.filter((s) => !hotShards.includes(s))];
        reshard = splitHottest(candidates, latest, metrics.hotKeys, policy, latestUtil, reasons, blocked);
      }
      capacityAdded = capacityAdded || reshard !== undefined;
    }
  } else if (reshard === undefined && wantOut) {
    blocked.push({
      wanted: 'scale out',
      rule: 'shard-bounds',
      detail: `already at maxShards ${policy.maxShards}`,
    });
  }

  // 5. Scale in.
  if (reshard === undefined && !wantOut && !stale && n > policy.minShards && inWindow.covered) {
    const peak = Math.max(...inWindow.points.map((p) => demandOf(p, policy)));
    const lagQuiet = inWindow.points.every((p) => (p.iteratorAgeMs ?? 0) < policy.parallelizationLagMs);
    const neededIn = Math.max(policy.minShards, Math.ceil(peak / policy.scaleInTargetUtilization));
    const sinceOut = lastScaleOutAt === undefined ? Number.POSITIVE_INFINITY : nowWallMs - lastScaleOutAt;
    const coldPair = coldestAdjacentPair(stream.openShards, inWindow.points, shardUtil);
    const coldPairMergeable =
      coldPair !== undefined &&
      coldPair.hotterPeak < policy.scaleInUtilization &&
      peak <= policy.targetUtilization * (n - 1);
    if ((neededIn < n || coldPairMergeable) && lagQuiet) {
      if (sinceOut < policy.cooldownMs) {
        blocked.push({
          wanted: 'scale in',
          rule: 'cooldown',
          detail: `last scale-out ${seconds(sinceOut)} ago; cool-down is ${seconds(policy.cooldownMs)}`,
        });
      } else if (reshardGate('scale in')) {
        reasons.push(
          `scale in: the quiet window's peak demand ${peak.toFixed(2)} shard-units fits ${neededIn} shards at ${pct(policy.scaleInTargetUtilization)}`,
        );
        const to = Math.max(policy.minShards, quarterStepDown(n, neededIn));
        const big = n - to >= Math.max(2, policy.updateShardCountMinChange * n);
        if (big && canCallUpdateShardCount(`UpdateShardCount ${n} → ${to}`)) {
          reshard = {
            kind: 'update-shard-count',
            fromShards: n,
            toShards: to,
            reason: `quiet for ${seconds(policy.scaleInAfterMs)}: peak ${peak.toFixed(2)} shard-units fits ${to} shards under ${pct(policy.scaleInTargetUtilization)}`,
          };
        } else if (coldPair !== undefined && coldPair.peak <= policy.mergeMaxUtilization) {
          reshard = {
            kind: 'merge-shards',
            shardId: coldPair.lower.shardId,
            adjacentShardId: coldPair.upper.shardId,
            reason: `coldest adjacent pair: merged peak ${pct(coldPair.peak)} over the quiet window, under ${pct(policy.mergeMaxUtilization)}`,
          };
        } else {
          blocked.push({
            wanted: 'merge',
            rule: 'merge-headroom',
            detail:
              coldPair === undefined
                ? 'no adjacent pair has a full quiet window of metrics'
                : `coldest adjacent pair would peak at ${pct(coldPair.peak)}, above ${pct(policy.mergeMaxUtilization)}`,
          });
        }
      }
    }
  }
  if (reshard !== undefined) actions.unshift(reshard);

  // 6. Shedding.
  if (policy.shedding.auto) {
    const critical = lagCritical;
    const criticalBefore = iteratorAgePrev !== undefined && iteratorAgePrev >= policy.shedding.lagCriticalMs;
    const recovered =
      iteratorAgeMs !== undefined &&
      iteratorAgeMs <= policy.shedding.lagRecoveredMs &&
      (iteratorAgePrev === undefined || iteratorAgePrev <= policy.shedding.lagRecoveredMs);
    if (!stream.sheddingActive && critical && (!capacityAdded || criticalBefore)) {
      const why = capacityAdded
        ? 'capacity was added but the lag has stayed critical for two periods'
        : blocked.length > 0
          ? `scaling cannot act now (${blocked.map((b) => b.rule).join(', ')})`
          : hotKeys.length > 0
            ? 'the lag comes from a hot partition key no scaling fixes'
            : 'no scaling action is available';
      actions.push({
        kind: 'set-shedding',
        active: true,
        reason: `iterator age ${seconds(iteratorAgeMs!)} ≥ ${seconds(policy.shedding.lagCriticalMs)} and ${why}: defer low-priority tables`,
      });
      reasons.push('shedding on');
    } else if (stream.sheddingActive && recovered) {
      actions.push({
        kind: 'set-shedding',
        active: false,
        reason: `iterator age ${seconds(iteratorAgeMs!)} ≤ ${seconds(policy.shedding.lagRecoveredMs)}: lift shedding and replay what was deferred`,
      });
      reasons.push('shedding off');
    }
  }

  if (actions.length === 0 && reasons.length === 0) reasons.push('within target: nothing to do');
  const context = {
    status: stream.status,
    openShards: stream.openShards,
    updateShardCountCallsAtWallMs: callTimes,
    nowWallMs,
    minShards: policy.minShards,
    maxShards: policy.maxShards,
    updateShardCountCallsPer24h: quota,
  };
  for (const action of actions) {
    const violations = checkAction(action, context);
    // A violation here is a planner bug: fail loudly rather than let the executor send it.
    if (violations.length > 0) throw new ScalingRuleViolationError(action.kind, violations);
  }
  return { atWallMs: nowWallMs, actions, reasons, blocked, hotKeys, summary };
}

/** The lowest utilization of a shard over the window: over target for the whole window iff this is. */
function sustainedUtil(
  shardId: string,
  window: { readonly points: readonly MetricPoint[]; readonly covered: boolean },
  util: (shardId: string, point: MetricPoint | undefined) => number | undefined,
): number | undefined {
  if (!window.covered) return undefined;
  const values = window.points.map((p) => util(shardId, p));
  // A shard without a full window (a fresh split child) is not judged sustained yet.
  if (values.some((v) => v === undefined)) return undefined;
  return Math.min(...(values as number[]));
}

function hottestFirst(shards: readonly OpenShard[], util: ReadonlyMap<string, number>): OpenShard[] {
  return [...shards].sort((a, b) => (util.get(b.shardId) ?? 0) - (util.get(a.shardId) ?? 0));
}

/** Splits the first candidate whose load-median split is useful; records why the others were passed over. */
function splitHottest(
  candidates: readonly OpenShard[],
  latest: MetricPoint | undefined,
  keys: readonly KeyRate[],
  policy: ScalingPolicy,
  util: ReadonlyMap<string, number>,
  reasons: string[],
  blocked: BlockedAction[],
): PlannedAction | undefined {
  for (const shard of candidates) {
    const load = latest?.shards[shard.shardId];
    const records = load === undefined ? 0 : load.recordsPerSecond + (load.throttledPerSecond ?? 0);
    const split = loadMedianSplit(shard.range, records, keys);
    if (split === undefined) {
      blocked.push({
        wanted: `split ${shard.shardId}`,
        rule: 'split-key-in-range',
        detail: 'its range holds one hash key',
      });
      continue;
    }
    const hotterChild = Math.max(split.lowerShare, split.upperShare);
    if (hotterChild > USEFUL_SPLIT_MAX_SHARE) {
      blocked.push({
        wanted: `split ${shard.shardId}`,
        rule: 'hot-key',
        detail:
          `${split.dominantKey === undefined ? 'one hash key' : `partition key ${JSON.stringify(split.dominantKey.partitionKey)}`} ` +
          `carries ${pct(split.dominantKey?.share ?? hotterChild)} of the shard; a split would leave ${pct(hotterChild)} in one child`,
      });
      continue;
    }
    const u = util.get(shard.shardId) ?? 0;
    reasons.push(
      `split ${shard.shardId} (${pct(u)} of its limits) at its load median: ${pct(split.lowerShare)} / ${pct(split.upperShare)}`,
    );
    return {
      kind: 'split-shard',
      shardId: shard.shardId,
      newStartingHashKey: split.newStartingHashKey.toString(),
      lowerShare: round(split.lowerShare),
      upperShare: round(split.upperShare),
      reason: `${shard.shardId} at ${pct(u)} of a shard's limits (target ${pct(policy.targetUtilization)}); split at its load median, not its hash midpoint`,
    };
  }
  return undefined;
}

/** Adjacent pairs by their merged peak over the quiet window; only pairs with a full window of figures. */
function coldestAdjacentPair(
  shards: readonly OpenShard[],
  points: readonly MetricPoint[],
  util: (shardId: string, point: MetricPoint | undefined) => number | undefined,
) {
  let best: { lower: OpenShard; upper: OpenShard; peak: number; hotterPeak: number } | undefined;
  const sorted = [...shards].sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
  for (let i = 0; i + 1 < sorted.length; i++) {
    const lower = sorted[i]!;
    const upper = sorted[i + 1]!;
    if (lower.range.end + 1n !== upper.range.start) continue;
    let peak = 0;
    let maxSingle = 0;
    let complete = points.length > 0;
    for (const p of points) {
      const a = util(lower.shardId, p);
      const b = util(upper.shardId, p);
      if (a === undefined || b === undefined) {
        complete = false;
        break;
      }
      peak = Math.max(peak, a + b);
      maxSingle = Math.max(maxSingle, a, b);
    }
    if (!complete) continue;
    if (best === undefined || peak < best.peak) best = { lower, upper, peak, hotterPeak: maxSingle };
  }
  return best;
}

function findHotKeys(
  keys: readonly KeyRate[],
  shards: readonly OpenShard[],
  policy: ScalingPolicy,
): HotKeyFinding[] {
  return keys
    .map((k) => {
      const share = Math.max(
        k.recordsPerSecond / policy.limits.recordsPerSecond,
        (k.bytesPerSecond ?? 0) / policy.limits.bytesPerSecond,
      );
      return { k, share, shard: shards.find((s) => contains(s.range, k.hashKey)) };
    })
    .filter((x) => x.share >= policy.hotKeyShardShare)
    .sort((a, b) => b.share - a.share)
    .map(({ k, share, shard }) => ({
      partitionKey: k.partitionKey,
      hashKey: k.hashKey.toString(),
      shardId: shard?.shardId,
      recordsPerSecond: round(k.recordsPerSecond),
      shardShare: round(share),
      advice:
        share >= 1
          ? 'this key needs more than one shard can take: its writes are throttled whatever the shard count; spread it (a suffix on the partition key) or shed its table'
          : 'this key nearly fills a shard on its own: splitting cannot help it; watch its growth',
    }));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export type { PlanInput };
export { demandOf, planScaling, utilizationOf };
