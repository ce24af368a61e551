/**
 * The worker fleet as the cluster manager observes and sizes it. ECS's DescribeServices and UpdateService are
 * control-plane APIs no local engine serves: they go through aws-sdk-client-mock (docs/architecture.md §12);
 * the registry and the leases are the coordination layer's in-memory twin.
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryCoordinationStore,
  InstanceRegistry,
  LeaseClient,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import { messageOf } from '../../../core/errors.js';
import {
  cpuCapacityPercent,
  EcsServiceControl,
  ScalingIoError,
  type ServiceControl,
  type ServiceCounts,
  WorkerFleet,
  type WorkerFleetOptions,
} from '../../../core/scaling/index.js';
import { ASSIGNER_SK } from '../../../core/workers/shard-lease.js';

const ecsMock = mockClient(ECSClient);
afterEach(() => ecsMock.reset());

/** A service that keeps its counts in memory and records the desired counts it is given. */
class ServiceTwin implements ServiceControl {
  public readonly set: number[] = [];
  public constructor(public counts: ServiceCounts) {}
  public async describe(): Promise<ServiceCounts> {
    return this.counts;
  }
  public async setDesiredCount(desiredCount: number): Promise<void> {
    this.set.push(desiredCount);
    this.counts = { ...this.counts, desiredCount };
  }
}

/** Registers `workers` with CPU in percent of a core, and deals them leases on stream `changes`. */
async function coordination(
  workers: readonly { id: string; cpuPercent?: number; leases: number; leaving?: boolean }[],
) {
  const store = new InMemoryCoordinationStore();
  const registry = new InstanceRegistry({ store });
  const leases = new LeaseClient({ store });
  await registry.register({ instanceId: 'lambda-manager', kind: 'lambda' });
  let shard = 0;
  for (const w of workers) {
    await registry.register({
      instanceId: w.id,
      kind: 'worker',
      load: { cpuPercent: w.cpuPercent, eventsPerSecond: 250, lagMs: 40, leaving: w.leaving },
    });
    for (let i = 0; i < w.leases; i++) {
      const key = shardLeaseKey('changes', `shardId-${shard++}`);
      await leases.create(key, { leaseDurationMs: 10_000, renewal: 'heartbeat' });
      await leases.tryAcquire(key, { owner: w.id, leaseDurationMs: 10_000, renewal: 'heartbeat' });
    }
  }
  // The assigner's lease lives in the same partition and is no shard.
  const assigner = shardLeaseKey('changes', ASSIGNER_SK);
  await leases.create(assigner, { leaseDurationMs: 10_000 });
  await leases.tryAcquire(assigner, { owner: workers[0]!.id, leaseDurationMs: 10_000 });
  // A free lease (released by a worker that left) counts for nobody.
  await leases.create(shardLeaseKey('changes', 'shardId-free'), { leaseDurationMs: 10_000 });
  return { registry, leases };
}

const SETTLED: ServiceCounts = { desiredCount: 3, runningCount: 3, pendingCount: 0, deploying: false };

/** A fleet of 1..4 one-vCPU workers over `coordination`'s registry and leases, with `overrides`. */
function fleetOver(
  { registry, leases }: Awaited<ReturnType<typeof coordination>>,
  overrides: Partial<WorkerFleetOptions> = {},
): WorkerFleet {
  return new WorkerFleet({
    service: new ServiceTwin(SETTLED),
    registry,
    leases,
    streamName: 'changes',
    minWorkers: 1,
    maxWorkers: 4,
    taskCpuUnits: 1024,
    ...overrides,
  });
}

describe('Class: WorkerFleet', () => {
  describe('Method: view', () => {
    it("shows each live worker's CPU share of its task, its shard leases, and the service's counts", async () => {
      const fleet = fleetOver(
        await coordination([
          { id: 'w1', cpuPercent: 30, leases: 3 },
          { id: 'w2', cpuPercent: 45, leases: 2 },
          { id: 'w3', cpuPercent: undefined, leases: 0 },
        ]),
        { minWorkers: 2, maxWorkers: 6, taskCpuUnits: 512 },
      );

      const view = await fleet.view();

      // Half a vCPU: a worker at 30% of a core uses 60% of what its task allows.
      expect(view.workers.map((w) => [w.instanceId, w.cpuUtilization, w.leases])).toEqual([
        ['w1', 0.6, 3],
        ['w2', 0.9, 2],
        ['w3', undefined, 0],
      ]);
      expect(view).toMatchObject({ desiredWorkers: 3, runningWorkers: 3, minWorkers: 2, maxWorkers: 6 });
    });

    it('leaves out a worker that is leaving: it gets nothing more and is on its way out', async () => {
      const fleet = fleetOver(
        await coordination([
          { id: 'w1', cpuPercent: 30, leases: 2 },
          { id: 'w2', cpuPercent: 30, leases: 1, leaving: true },
        ]),
      );

      expect((await fleet.view()).workers.map((w) => w.instanceId)).toEqual(['w1']);
    });
  });

  it('sets the size through the service, and reads the desired count back', async () => {
    const service = new ServiceTwin(SETTLED);
    const fleet = fleetOver(await coordination([{ id: 'w1', leases: 1 }]), { service });

    await fleet.setWorkerCount(4);

    expect(service.set).toEqual([4]);
    expect(await fleet.desiredWorkers()).toBe(4);
  });

  it.each([
    [{ minWorkers: 0 }, 'minWorkers must be a whole number ≥ 1; received 0'],
    [{ maxWorkers: 1 }, 'maxWorkers must be a whole number ≥ minWorkers (2); received 1'],
    [{ taskCpuUnits: 0 }, 'taskCpuUnits must be the task CPU in units above 0 (1024 = one vCPU); received 0'],
  ])('refuses %j with the value received', async (override, message) => {
    const owners = await coordination([{ id: 'w1', leases: 1 }]);
    const build = () => fleetOver(owners, { minWorkers: 2, ...override });

    expect(build).toThrow(message);
  });

  it('measures a worker against at most one core: JavaScript runs on one thread', () => {
    expect([256, 1024, 2048, 4096].map(cpuCapacityPercent)).toEqual([25, 100, 100, 100]);
  });
});

describe('Class: EcsServiceControl', () => {
  const control = () =>
    new EcsServiceControl({
      ecs: new ECSClient({ region: 'us-east-1' }),
      cluster: 'cdcp',
      service: 'workers',
    });

  it("reads the service's counts, and a rollout in progress as a deployment", async () => {
    ecsMock.on(DescribeServicesCommand, { cluster: 'cdcp', services: ['workers'] }).resolves({
      services: [
        {
          desiredCount: 4,
          runningCount: 3,
          pendingCount: 1,
          deployments: [{ status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
        },
      ],
    });

    expect(await control().describe()).toEqual({
      desiredCount: 4,
      runningCount: 3,
      pendingCount: 1,
      deploying: true,
    });
  });

  it('sees a settled service once its one deployment completed', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        { desiredCount: 2, runningCount: 2, pendingCount: 0, deployments: [{ rolloutState: 'COMPLETED' }] },
      ],
    });

    expect((await control().describe()).deploying).toBe(false);
  });

  it('names the service and the reason when ECS does not find it', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });

    const error = await control()
      .describe()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ScalingIoError);
    expect(messageOf(error)).toBe(
      'ECS DescribeServices failed: workers in cdcp: MISSING; check the cluster and service the manager was given',
    );
  });

  it('sets only the desired count, so no new deployment starts', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({});

    await control().setDesiredCount(5);

    expect(ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'cdcp', service: 'workers', desiredCount: 5 },
    ]);
  });
});
