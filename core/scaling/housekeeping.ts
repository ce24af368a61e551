import type { InstanceRegistry } from '../coordination/instance-registry.js';
import { SHARD_LEASE_PK_PREFIX } from '../coordination/keys.js';
import { Lease } from '../coordination/lease.js';
import type { LeaseClient } from '../coordination/lease-client.js';

/** What one round of housekeeping cleaned up. */
interface HousekeepingReport {
  /** Instances presumed dead and removed from the registry. */
  readonly removedInstances: readonly string[];
  /** Shard leases of dead workers set free (`shardId (owner)`), so live workers take them at once. */
  readonly releasedLeases: readonly string[];
  /** Live instances after the clean-up. */
  readonly liveInstances: number;
}

interface HousekeeperOptions {
  readonly registry: InstanceRegistry;
  /** Shard leases (local workers); absent in AWS, where Lambda owns the shards. */
  readonly leases?: LeaseClient;
  /** The stream whose shard leases are looked after. */
  readonly streamName?: string;
}

/**
 * The manager's clean-up round: removes instances presumed dead (counter still for the failure-detection
 * window on this observer's clock, each removal conditional on the counter not having moved), then frees
 * shard leases whose owner is not a live instance and that this observer judges expired. A release is
 * conditional on the lease still being that owner's grant, so a worker that was only slow and renewed meanwhile
 * keeps it; one that comes back after the release finds its fence stale and stops (docs/architecture.md contract 7).
 * The judgements need time on this observer's clock, so keep one Housekeeper across runs (module scope in
 * the Lambda).
 *
 * @example
 * ```ts
 * const housekeeper = new Housekeeper({ registry, leases, streamName });
 * const report = await housekeeper.run();
 * ```
 */
class Housekeeper {
  readonly #o: HousekeeperOptions;

  public constructor(options: HousekeeperOptions) {
    this.#o = options;
  }

  public async run(): Promise<HousekeepingReport> {
    const removedInstances = await this.#o.registry.removeDead();
    const views = await this.#o.registry.list();
    const live = new Set(views.filter((v) => v.alive).map((v) => v.instance.instanceId));
    const releasedLeases: string[] = [];
    const { leases, streamName } = this.#o;
    if (leases !== undefined && streamName !== undefined) {
      const heartbeatOf = (owner: string) => this.#o.registry.heartbeatOf(owner);
      for (const record of await leases.list(`${SHARD_LEASE_PK_PREFIX}${streamName}`)) {
        if (record.owner === undefined || live.has(record.owner)) continue;
        if (!leases.judge(record, heartbeatOf).expired) continue;
        if (await leases.release(new Lease(record, leases.clock.now())))
          releasedLeases.push(`${record.key.sk} (${record.owner})`);
      }
    }
    return { removedInstances, releasedLeases, liveInstances: live.size };
  }
}

export type { HousekeeperOptions, HousekeepingReport };
export { Housekeeper };
