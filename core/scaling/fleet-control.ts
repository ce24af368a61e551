import type { InstanceRegistry } from '../coordination/instance-registry.js';
import { SHARD_LEASE_PK_PREFIX } from '../coordination/keys.js';
import type { LeaseClient } from '../coordination/lease-client.js';
import type { InstanceRecord, LeaseRecord } from '../coordination/records.js';
import { OptionsError } from '../errors.js';
import { splitLeases } from '../workers/shard-lease.js';
import type { ServiceControl, ServiceCounts } from './ecs-service-control.js';
import type { FleetView, WorkerLoad } from './model.js';

/** What the cluster manager observes of a worker fleet and the one thing it changes: its size. */
interface FleetControl {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** The fleet now: the service's counts, and every live worker's load and leases. */
  view(): Promise<FleetView>;
  /** The service's desired count now (the executor's check just before it sends). */
  desiredWorkers(): Promise<number>;
  setWorkerCount(count: number): Promise<void>;
}

interface WorkerFleetOptions {
  readonly service: ServiceControl;
  readonly registry: Pick<InstanceRegistry, 'listLive'>;
  readonly leases: Pick<LeaseClient, 'list'>;
  /** The stream whose shard leases the workers hold. */
  readonly streamName: string;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** CPU units of one task (1024 = one vCPU): what a worker's CPU figure is measured against. */
  readonly taskCpuUnits: number;
}

/**
 * The share of one core a worker may use: JavaScript runs on one thread, so a task of more than one vCPU
 * still gives a worker about one core (libuv and the garbage collector add a little); a task of a fraction of
 * a vCPU is throttled to that fraction.
 */
function cpuCapacityPercent(taskCpuUnits: number): number {
  return Math.min(100, (taskCpuUnits / 1024) * 100);
}

/**
 * Each live, non-leaving worker's load and shard leases, from the instance registry and the lease partition:
 * CPU as a share of what its task gives it. Lambda instances in the registry (the cluster manager's own) and
 * workers that are leaving (SIGTERM) do not count.
 *
 * @example
 * ```ts
 * const workers = workerLoadsOf(await registry.listLive(), await leases.list('LEASE#changes'), 100);
 * ```
 */
function workerLoadsOf(
  instances: readonly InstanceRecord[],
  leases: readonly LeaseRecord[],
  capacityPercent: number,
): WorkerLoad[] {
  const held = new Map<string, number>();
  for (const { record } of splitLeases(leases).shards)
    if (record.owner !== undefined) held.set(record.owner, (held.get(record.owner) ?? 0) + 1);
  return instances
    .filter((i) => i.kind === 'worker' && i.load.leaving !== true)
    .map((i) => ({
      instanceId: i.instanceId,
      cpuUtilization: i.load.cpuPercent === undefined ? undefined : i.load.cpuPercent / capacityPercent,
      eventsPerSecond: i.load.eventsPerSecond ?? 0,
      lagMs: i.load.lagMs,
      leases: held.get(i.instanceId) ?? 0,
      heartbeatAtWallMs: i.heartbeatAtWallMs,
    }));
}

/** The fleet as the planner reads it, from the service's counts and the workers' figures. */
function fleetViewOf(
  counts: ServiceCounts,
  workers: readonly WorkerLoad[],
  bounds: { readonly minWorkers: number; readonly maxWorkers: number },
): FleetView {
  return {
    desiredWorkers: counts.desiredCount,
    runningWorkers: counts.runningCount,
    pendingWorkers: counts.pendingCount,
    deploying: counts.deploying,
    minWorkers: bounds.minWorkers,
    maxWorkers: bounds.maxWorkers,
    workers,
  };
}

/**
 * {@link FleetControl} over an ECS service of `cdcp worker` tasks: the counts from the service, the load from
 * the workers' heartbeats (CPU, events/s, lag) and the leases from the stream's lease partition. Setting the
 * size is UpdateService's desired count; ECS starts tasks, or sends SIGTERM to the ones it stops, and each
 * stopped worker hands its leases off before it exits.
 *
 * @example
 * ```ts
 * const fleet = new WorkerFleet({ service, registry, leases, streamName, minWorkers: 2, maxWorkers: 8, taskCpuUnits: 1024 });
 * const view = await fleet.view();
 * ```
 */
class WorkerFleet implements FleetControl {
  readonly #o: WorkerFleetOptions;
  readonly #capacityPercent: number;

  public constructor(options: WorkerFleetOptions) {
    const { minWorkers, maxWorkers, taskCpuUnits } = options;
    if (!Number.isInteger(minWorkers) || minWorkers < 1)
      throw new OptionsError('minWorkers', minWorkers, 'must be a whole number ≥ 1');
    if (!Number.isInteger(maxWorkers) || maxWorkers < minWorkers)
      throw new OptionsError('maxWorkers', maxWorkers, `must be a whole number ≥ minWorkers (${minWorkers})`);
    if (!(taskCpuUnits > 0))
      throw new OptionsError(
        'taskCpuUnits',
        taskCpuUnits,
        'must be the task CPU in units above 0 (1024 = one vCPU)',
      );
    this.#o = options;
    this.#capacityPercent = cpuCapacityPercent(taskCpuUnits);
  }

  public get minWorkers(): number {
    return this.#o.minWorkers;
  }

  public get maxWorkers(): number {
    return this.#o.maxWorkers;
  }

  public async view(): Promise<FleetView> {
    const [counts, instances, leases] = await Promise.all([
      this.#o.service.describe(),
      this.#o.registry.listLive(),
      this.#o.leases.list(`${SHARD_LEASE_PK_PREFIX}${this.#o.streamName}`),
    ]);
    return fleetViewOf(counts, workerLoadsOf(instances, leases, this.#capacityPercent), this.#o);
  }

  public async desiredWorkers(): Promise<number> {
    return (await this.#o.service.describe()).desiredCount;
  }

  public async setWorkerCount(count: number): Promise<void> {
    await this.#o.service.setDesiredCount(count);
  }
}

export type { FleetControl, WorkerFleetOptions };
export { cpuCapacityPercent, fleetViewOf, WorkerFleet, workerLoadsOf };
