/**
 * The planner's worker-fleet rule: how many `cdcp worker` tasks a container fleet should run, from each live
 * worker's measured load and the stream's shard count. Pure, like the rest of the planner.
 */
import type { FleetSummary, FleetView, PlannedAction } from './model.js';
import type { PlanDraft, PlanFacts } from './plan-facts.js';
import { pct, round } from './shard-choice.js';
import { demandOf } from './utilization.js';

/** A new worker count, and why. */
interface FleetTarget {
  readonly to: number;
  readonly reason: string;
}

/** What the rule reads of the fleet's measured load. */
interface FleetLoad {
  /** Live workers with a CPU figure. */
  readonly measured: number;
  /** Sum of their CPU utilizations, in workers (1.0 = one worker fully busy). */
  readonly load: number;
  readonly mean: number;
  /** Over `workerMaxUtilization` and holding more than one shard: another worker can take some. */
  readonly strained: readonly string[];
  /** Over `workerMaxUtilization` on one shard: no worker can help; the shard or the task must grow. */
  readonly pinned: readonly string[];
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** Open shards once this plan's resharding (if any) is done: the fleet is sized for where the stream goes. */
function shardsAfterPlan(n: number, reshard: PlannedAction | undefined): number {
  if (reshard?.kind === 'update-shard-count') return reshard.toShards;
  if (reshard?.kind === 'split-shard') return n + 1;
  if (reshard?.kind === 'merge-shards') return n - 1;
  return n;
}

/** No more workers than shards (a shard is read by one worker at a time), within min..max. */
function ceilingOf(fleet: FleetView, shards: number): number {
  return Math.max(fleet.minWorkers, Math.min(fleet.maxWorkers, shards));
}

function loadOf(fleet: FleetView, maxUtilization: number): FleetLoad | undefined {
  const measured = fleet.workers.filter((w) => w.cpuUtilization !== undefined);
  if (measured.length === 0) return undefined;
  const load = measured.reduce((sum, w) => sum + w.cpuUtilization!, 0);
  const over = measured.filter((w) => w.cpuUtilization! > maxUtilization);
  return {
    measured: measured.length,
    load,
    mean: load / measured.length,
    strained: over.filter((w) => w.leases > 1).map((w) => w.instanceId),
    pinned: over.filter((w) => w.leases === 1).map((w) => w.instanceId),
  };
}

/** The fleet's figures for the plan's summary. */
function fleetSummary(fleet: FleetView): FleetSummary {
  const measured = fleet.workers.filter((w) => w.cpuUtilization !== undefined);
  const busiest = [...measured].sort((a, b) => b.cpuUtilization! - a.cpuUtilization!)[0];
  return {
    desiredWorkers: fleet.desiredWorkers,
    runningWorkers: fleet.runningWorkers,
    liveWorkers: fleet.workers.length,
    minWorkers: fleet.minWorkers,
    maxWorkers: fleet.maxWorkers,
    load: measured.length === 0 ? undefined : round(measured.reduce((s, w) => s + w.cpuUtilization!, 0)),
    busiest:
      busiest === undefined
        ? undefined
        : {
            instanceId: busiest.instanceId,
            cpuUtilization: round(busiest.cpuUtilization!),
            leases: busiest.leases,
          },
    idleWorkers: fleet.workers.filter((w) => w.leases === 0).length,
  };
}

/**
 * Rule 6: the size of the worker fleet, when containers consume the stream. In order:
 *
 * 1. bounds: a desired count outside `minWorkers..maxWorkers`, or above the shard count this plan leads to
 *    (a worker without a shard is waste), is corrected at once;
 * 2. settling: while tasks start or stop, a deployment replaces them, or within `workerSettleMs` of the last
 *    change, nothing else changes (new workers have no load figures yet);
 * 3. grow when the fleet's mean CPU utilization is over `workerTargetUtilization`, when a worker holding more
 *    than one shard is over `workerMaxUtilization`, or when the iterator age passes `scaleOutIteratorAgeMs`
 *    and grows: to the load ÷ target, at least one more, at most double, never above the shard count;
 * 4. shrink only after `cooldownMs` since the last growth, while the quiet window's iterator age stayed under
 *    `parallelizationLagMs` and the stream does not need more shards: to the load at the quiet window's peak
 *    ÷ `workerScaleInTargetUtilization`, at most a quarter of the workers at a time. Each removed task gets
 *    SIGTERM and hands its leases off before it exits.
 */
function sizeWorkerFleet(facts: PlanFacts, draft: PlanDraft): void {
  const fleet = facts.fleet;
  if (fleet === undefined) return;
  const shards = shardsAfterPlan(facts.n, draft.reshard);
  const target =
    boundsTarget(fleet, shards) ??
    (fleetSettling(facts, fleet, draft)
      ? undefined
      : (growTarget(facts, fleet, shards, draft) ?? shrinkTarget(facts, fleet, draft)));
  if (target === undefined || target.to === fleet.desiredWorkers) return;
  draft.actions.push({
    kind: 'set-worker-count',
    from: fleet.desiredWorkers,
    to: target.to,
    reason: target.reason,
  });
  draft.reasons.push(`workers ${fleet.desiredWorkers} → ${target.to}`);
  if (target.to > fleet.desiredWorkers) draft.capacityAdded = true;
}

/** Step 1: into min..max, and no more workers than shards. */
function boundsTarget(fleet: FleetView, shards: number): FleetTarget | undefined {
  const { desiredWorkers: desired, minWorkers: min, maxWorkers: max } = fleet;
  if (desired < min) return { to: min, reason: `${desired} workers is below minWorkers ${min}` };
  if (desired > max) return { to: max, reason: `${desired} workers is above maxWorkers ${max}` };
  const ceiling = ceilingOf(fleet, shards);
  if (desired > ceiling)
    return {
      to: ceiling,
      reason: `${desired} workers for ${shards} shards: ${desired - ceiling} would hold no shard (a shard is read by one worker at a time)`,
    };
  return undefined;
}

/** Step 2: a fleet whose tasks are still moving is not judged; the wait is recorded as held back. */
function fleetSettling(facts: PlanFacts, fleet: FleetView, draft: PlanDraft): boolean {
  const lastChange = facts.history
    .filter((a) => a.kind === 'set-worker-count' && (a.outcome === undefined || a.outcome === 'applied'))
    .at(-1)?.atWallMs;
  const since = lastChange === undefined ? undefined : facts.nowWallMs - lastChange;
  const detail = fleet.deploying
    ? 'a deployment is replacing the tasks'
    : fleet.pendingWorkers > 0 || fleet.runningWorkers !== fleet.desiredWorkers
      ? `${fleet.runningWorkers} of ${fleet.desiredWorkers} tasks running, ${fleet.pendingWorkers} pending`
      : since !== undefined && since < facts.policy.workerSettleMs
        ? `last worker-count change ${seconds(since)} ago; new workers need ${seconds(facts.policy.workerSettleMs)} to start and take leases`
        : undefined;
  if (detail === undefined) return false;
  draft.blocked.push({ wanted: 'resize the worker fleet', rule: 'fleet-settling', detail });
  return true;
}

/** Step 3: more workers for load over target, a strained worker, or growing lag. */
function growTarget(
  facts: PlanFacts,
  fleet: FleetView,
  shards: number,
  draft: PlanDraft,
): FleetTarget | undefined {
  const { policy, iteratorAgeMs, iteratorAgePrev } = facts;
  const measured = loadOf(fleet, policy.workerMaxUtilization);
  if (measured === undefined) {
    draft.reasons.push('no worker has reported its CPU yet: the fleet keeps its size');
    return undefined;
  }
  for (const id of measured.pinned)
    draft.reasons.push(
      `worker ${id} is over ${pct(policy.workerMaxUtilization)} CPU on one shard: another worker cannot share a shard; that shard needs splitting or the task more CPU`,
    );
  const sharedShards = fleet.workers.some((w) => w.leases > 1);
  const lagGrowing =
    iteratorAgeMs !== undefined &&
    iteratorAgeMs >= policy.scaleOutIteratorAgeMs &&
    (iteratorAgePrev === undefined || iteratorAgeMs > iteratorAgePrev) &&
    sharedShards;
  const why = [
    measured.mean > policy.workerTargetUtilization
      ? `mean worker CPU ${pct(measured.mean)} over ${pct(policy.workerTargetUtilization)}`
      : undefined,
    measured.strained.length > 0
      ? `${measured.strained.length} worker(s) over ${pct(policy.workerMaxUtilization)} CPU with more than one shard`
      : undefined,
    lagGrowing ? `iterator age ${seconds(iteratorAgeMs!)} and growing` : undefined,
  ].filter((x) => x !== undefined);
  if (why.length === 0) return undefined;
  const desired = fleet.desiredWorkers;
  const ceiling = ceilingOf(fleet, shards);
  const needed = Math.max(desired + 1, Math.ceil(measured.load / policy.workerTargetUtilization));
  const to = Math.min(ceiling, 2 * desired, needed);
  if (to <= desired) {
    draft.blocked.push({
      wanted: 'more workers',
      rule: 'worker-ceiling',
      detail:
        desired >= shards
          ? `each of the ${shards} shards has a worker of its own: more shards or more CPU per task are the cure`
          : `already at maxWorkers ${fleet.maxWorkers}`,
    });
    return undefined;
  }
  return {
    to,
    reason: `${why.join('; ')}: the fleet's load of ${measured.load.toFixed(2)} workers needs ${needed} at ${pct(policy.workerTargetUtilization)} (at most double, at most one per shard)`,
  };
}

/** Step 4: fewer workers once the quiet window's peak fits them, a quarter at a time. */
function shrinkTarget(facts: PlanFacts, fleet: FleetView, draft: PlanDraft): FleetTarget | undefined {
  const { policy, inWindow, nowWallMs } = facts;
  const desired = fleet.desiredWorkers;
  if (desired <= fleet.minWorkers || draft.wantOut || facts.stale || !inWindow.covered) return undefined;
  const measured = loadOf(fleet, policy.workerMaxUtilization);
  if (measured === undefined || measured.measured < fleet.workers.length) return undefined;
  if (!inWindow.points.every((p) => (p.iteratorAgeMs ?? 0) < policy.parallelizationLagMs)) return undefined;
  // The CPU figures are the load now; the fleet must also hold the quiet window's peak.
  const peak = Math.max(...inWindow.points.map((p) => demandOf(p, policy)));
  const factor = facts.demandNow > 0 ? Math.max(1, peak / facts.demandNow) : peak > 0 ? undefined : 1;
  if (factor === undefined) return undefined;
  const atPeak = measured.load * factor;
  const needed = Math.max(fleet.minWorkers, Math.ceil(atPeak / policy.workerScaleInTargetUtilization));
  if (needed >= desired) return undefined;
  const lastGrowth = facts.history
    .filter((a) => a.kind === 'set-worker-count' && a.direction === 'out')
    .at(-1)?.atWallMs;
  if (lastGrowth !== undefined && nowWallMs - lastGrowth < policy.cooldownMs) {
    draft.blocked.push({
      wanted: 'fewer workers',
      rule: 'cooldown',
      detail: `last worker added ${seconds(nowWallMs - lastGrowth)} ago; cool-down is ${seconds(policy.cooldownMs)}`,
    });
    return undefined;
  }
  const to = Math.max(needed, desired - Math.max(1, Math.floor(desired / 4)));
  return {
    to,
    reason: `quiet for ${seconds(policy.scaleInAfterMs)}: the fleet's load at the window's peak, ${atPeak.toFixed(2)} workers, fits ${needed} under ${pct(policy.workerScaleInTargetUtilization)} (a quarter of the workers at most per step; each hands its leases off)`,
  };
}

export { fleetSummary, shardsAfterPlan, sizeWorkerFleet };
