import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  type ECSClient,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { messageOf } from '../errors.js';
import { ScalingIoError } from './errors.js';

/** An ECS service's task counts as DescribeServices reports them. */
interface ServiceCounts {
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
  /** A deployment is replacing tasks: more than one deployment, or the primary one still rolling out. */
  readonly deploying: boolean;
}

/** Reads and sets the number of tasks of the worker fleet's service (ECS, or a twin in tests). */
interface ServiceControl {
  describe(): Promise<ServiceCounts>;
  setDesiredCount(desiredCount: number): Promise<void>;
}

/**
 * {@link ServiceControl} on ECS's control plane for one service: DescribeServices for its counts and
 * deployments, UpdateService with only `desiredCount` (nothing else of the service changes, so no new
 * deployment starts). Stopping tasks is ECS's: it sends each SIGTERM, and the worker hands its leases off
 * within its stop timeout. SDK errors of UpdateService pass through, so the executor tells throttling and
 * "in use" from failures.
 *
 * @example
 * ```ts
 * const service = new EcsServiceControl({ ecs: new ECSClient({}), cluster: 'cdcp', service: 'workers' });
 * await service.setDesiredCount(4);
 * ```
 */
class EcsServiceControl implements ServiceControl {
  readonly #ecs: ECSClient;
  readonly #cluster: string;
  readonly #service: string;

  public constructor(options: {
    readonly ecs: ECSClient;
    /** Cluster name or ARN. */
    readonly cluster: string;
    /** Service name or ARN. */
    readonly service: string;
  }) {
    this.#ecs = options.ecs;
    this.#cluster = options.cluster;
    this.#service = options.service;
  }

  public async describe(): Promise<ServiceCounts> {
    let out: DescribeServicesCommandOutput;
    try {
      out = await this.#ecs.send(
        new DescribeServicesCommand({ cluster: this.#cluster, services: [this.#service] }),
      );
    } catch (error) {
      throw new ScalingIoError(
        'ECS DescribeServices',
        `${this.#service} in ${this.#cluster}: ${messageOf(error)}; the manager needs ecs:DescribeServices on the service`,
        { cause: error },
      );
    }
    const service = out.services?.[0];
    if (service === undefined)
      throw new ScalingIoError(
        'ECS DescribeServices',
        `${this.#service} in ${this.#cluster}: ${out.failures?.[0]?.reason ?? 'no such service'}; check the cluster and service the manager was given`,
      );
    const deployments = service.deployments ?? [];
    return {
      desiredCount: service.desiredCount ?? 0,
      runningCount: service.runningCount ?? 0,
      pendingCount: service.pendingCount ?? 0,
      deploying: deployments.length > 1 || deployments.some((d) => d.rolloutState === 'IN_PROGRESS'),
    };
  }

  public async setDesiredCount(desiredCount: number): Promise<void> {
    await this.#ecs.send(
      new UpdateServiceCommand({ cluster: this.#cluster, service: this.#service, desiredCount }),
    );
  }
}

export type { ServiceControl, ServiceCounts };
export { EcsServiceControl };
