/**
 * What the planner's rules read and write: the facts of one plan, derived once from its input (what was done
 * before, the load now, the windows the rules judge over), and the draft the rules add actions, reasons and
 * held-back wishes to, in order.
 */
import { fleetSummary } from './fleet-rule.js';
import { isResharding, updateShardCountCallsInWindow } from './kinesis-rules.js';
import type {
  ActionRecord,
  BlockedAction,
  FleetView,
  HotKeyFinding,
  MetricPoint,
  MetricsHistory,
  PlannedAction,
  PlanSummary,
  StreamView,
} from './model.js';
import type { ScalingPolicy } from './policy.js';
import { round } from './shard-choice.js';
import { demandOf, type MetricWindow, utilizationOf, windowOf } from './utilization.js';

interface PlanInput {
  readonly stream: StreamView;
  readonly metrics: MetricsHistory;
  readonly policy: ScalingPolicy;
  /** Earlier actions (the audit log), any order; at least the last 24 hours. */
  readonly history: readonly ActionRecord[];
  readonly nowWallMs: number;
  /** The worker fleet, when containers consume the stream; absent for Lambda's event source mapping. */
  readonly fleet?: FleetView;
}

/** Metrics older than this many periods are stale: the planner does not reshard on them. */
const STALE_PERIODS = 3;

/** The facts every rule reads: derived once from the plan's input, never changed by a rule. */
interface PlanFacts {
  readonly stream: StreamView;
  readonly metrics: MetricsHistory;
  readonly policy: ScalingPolicy;
  readonly nowWallMs: number;
  readonly fleet: FleetView | undefined;
  /** Open shards now. */
  readonly n: number;
  /** Metric points, oldest first; the newest and the one before. */
  readonly points: readonly MetricPoint[];
  readonly latest: MetricPoint | undefined;
  readonly previous: MetricPoint | undefined;
  /** No metrics, or the newest older than three periods: nothing is resharded. */
  readonly stale: boolean;
  // What was done before.
  readonly history: readonly ActionRecord[];
  readonly lastReshardAt: number | undefined;
  readonly lastScaleOutAt: number | undefined;
  readonly lastUpdateShardCountAt: number | undefined;
  /** UpdateShardCount calls Kinesis accepted or may have (outcome unknown). */
  readonly callTimes: readonly number[];
  readonly quota: number;
  readonly callsUsed: number;
  readonly lastPfChangeAt: number | undefined;
  // The load now.
  readonly shardUtil: (shardId: string, point: MetricPoint | undefined) => number | undefined;
  readonly demandNow: number;
  /** The higher of the latest two points' demands. */
  readonly demandRecent: number;
  readonly iteratorAgeMs: number | undefined;
  readonly iteratorAgePrev: number | undefined;
  /** Each open shard's utilization in the newest point (0 without figures). */
  readonly latestUtil: ReadonlyMap<string, number>;
  // The windows the rules judge over.
  readonly outWindow: MetricWindow;
  readonly inWindow: MetricWindow;
  readonly saturationWindow: readonly MetricPoint[];
  /** Writes throttled in every one of the last `saturationPeriods` periods. */
  readonly saturated: boolean;
  readonly lagCritical: boolean;
  /** Saturation or critical lag: the UpdateShardCount reserve may be spent. */
  readonly emergency: boolean;
  readonly summary: PlanSummary;
}

/** What the rules decide, in the order they run. */
interface PlanDraft {
  readonly reasons: string[];
  readonly blocked: BlockedAction[];
  readonly actions: PlannedAction[];
  hotKeys: readonly HotKeyFinding[];
  /** The one resharding of this plan, if any (Kinesis runs one at a time). */
  reshard: PlannedAction | undefined;
  /** An action of this plan adds consumer capacity (shedding then waits a period). */
  capacityAdded: boolean;
  /** ParallelizationFactor is (or this plan sets it) at its maximum, or there is no mapping to tune. */
  pfAtMax: boolean;
  /** The stream needs more shards (rule 4): it does not scale in. */
  wantOut: boolean;
}

const doneOutcome = (o: ActionRecord['outcome']) =>
  o === undefined || o === 'applied' || o === 'already-done';
const calledOutcome = (o: ActionRecord['outcome']) => o === undefined || o === 'applied';

/** What the audit log says was done before: the planner's memory of resharding, its quota and cool-downs. */
function pastActions(history: readonly ActionRecord[], policy: ScalingPolicy, nowWallMs: number) {
  const sorted = [...history].sort((a, b) => a.atWallMs - b.atWallMs);
  const reshards = sorted.filter((a) => isResharding(a.kind) && doneOutcome(a.outcome));
  const callTimes = sorted
    .filter((a) => a.kind === 'update-shard-count' && calledOutcome(a.outcome))
    .map((a) => a.atWallMs);
  return {
    history: sorted,
    lastReshardAt: reshards.at(-1)?.atWallMs,
    lastScaleOutAt: reshards.filter((a) => a.direction === 'out').at(-1)?.atWallMs,
    lastUpdateShardCountAt: reshards.filter((a) => a.kind === 'update-shard-count').at(-1)?.atWallMs,
    callTimes,
    quota: policy.limits.updateShardCountCallsPer24h,
    callsUsed: updateShardCountCallsInWindow(callTimes, nowWallMs),
    lastPfChangeAt: sorted
      .filter((a) => a.kind === 'set-parallelization-factor' && doneOutcome(a.outcome))
      .at(-1)?.atWallMs,
  };
}

/** The load now and over the windows the rules judge: demand, per-shard utilization, saturation, lag. */
function loadNow(input: PlanInput, points: readonly MetricPoint[], stale: boolean) {
  const { stream, policy, nowWallMs } = input;
  const latest = points.at(-1);
  const previous = points.at(-2);
  const shardUtil = (shardId: string, point: MetricPoint | undefined) => {
    const load = point?.shards[shardId];
    return load === undefined ? undefined : utilizationOf(load, policy);
  };
  const demandNow = latest === undefined ? 0 : demandOf(latest, policy);
  const iteratorAgeMs = latest?.iteratorAgeMs;
  const saturationWindow = points.slice(-policy.saturationPeriods);
  const throttledIn = (p: MetricPoint) =>
    Object.values(p.shards).some((l) => (l.throttledPerSecond ?? 0) > 0) ||
    (p.stream?.throttledPerSecond ?? 0) > 0;
  const saturated =
    !stale && saturationWindow.length === policy.saturationPeriods && saturationWindow.every(throttledIn);
  const lagCritical = iteratorAgeMs !== undefined && iteratorAgeMs >= policy.shedding.lagCriticalMs;
  return {
    latest,
    previous,
    shardUtil,
    demandNow,
    demandRecent: Math.max(demandNow, previous === undefined ? 0 : demandOf(previous, policy)),
    iteratorAgeMs,
    iteratorAgePrev: previous?.iteratorAgeMs,
    latestUtil: new Map(stream.openShards.map((s) => [s.shardId, shardUtil(s.shardId, latest) ?? 0])),
    outWindow: windowOf(points, nowWallMs, policy.scaleOutAfterMs),
    inWindow: windowOf(points, nowWallMs, policy.scaleInAfterMs),
    saturationWindow,
    saturated,
    lagCritical,
    emergency: saturated || lagCritical,
  };
}

/** Derives every fact the rules read from the plan's input. */
function planFacts(input: PlanInput): PlanFacts {
  const { stream, metrics, policy, nowWallMs } = input;
  const n = stream.openShards.length;
  const points = [...metrics.points].sort((a, b) => a.atWallMs - b.atWallMs);
  const newest = points.at(-1);
  const stale = newest === undefined || newest.atWallMs + newest.periodMs * STALE_PERIODS < nowWallMs;
  const past = pastActions(input.history, policy, nowWallMs);
  const load = loadNow(input, points, stale);
  const hottest = [...load.latestUtil.entries()].sort((a, b) => b[1] - a[1])[0];
  const summary: PlanSummary = {
    openShards: n,
    demandShards: round(load.demandNow),
    utilization: n === 0 ? 0 : round(load.demandNow / n),
    iteratorAgeMs: load.iteratorAgeMs,
    parallelizationFactor: stream.parallelizationFactor,
    sheddingActive: stream.sheddingActive,
    updateShardCountCallsLast24h: past.callsUsed,
    updateShardCountCallsLeft: Math.max(0, past.quota - past.callsUsed),
    lastReshardAtWallMs: past.lastReshardAt,
    hottestShard: hottest === undefined ? undefined : { shardId: hottest[0], utilization: round(hottest[1]) },
    ...(input.fleet === undefined ? {} : { fleet: fleetSummary(input.fleet) }),
  };
  return {
    stream,
    metrics,
    policy,
    nowWallMs,
    fleet: input.fleet,
    n,
    points,
    stale,
    ...past,
    ...load,
    summary,
  };
}

function emptyDraft(facts: PlanFacts): PlanDraft {
  const pf = facts.stream.parallelizationFactor;
  return {
    reasons: [],
    blocked: [],
    actions: [],
    hotKeys: [],
    reshard: undefined,
    capacityAdded: false,
    pfAtMax: pf === undefined || pf >= facts.policy.maxParallelizationFactor,
    wantOut: false,
  };
}

export type { PlanDraft, PlanFacts, PlanInput };
export { emptyDraft, planFacts };
