import {
  type Clock,
  type InstanceRecord,
  type InstanceRegistry,
  type InstanceView,
  type Lease,
  type LeaseClient,
  type LeaseRecord,
  shardLeaseKey,
} from '../coordination/index.js';
import type { StreamShard } from '../esm/shards.js';
import type { AssignmentStrategy } from './assignment/index.js';
import type { WorkerEvent } from './events.js';
import { planShards, type ShardPlan } from './shard-graph.js';
import { newShardLeaseData, type ShardLease, splitLeases } from './shard-lease.js';
import type { WorkerTimings } from './timings.js';

interface AssignerOptions {
  /** This worker's instance id (the assigner is one of the workers). */
  readonly self: string;
  readonly streamName: string;
  readonly leases: LeaseClient;
  readonly registry: InstanceRegistry;
  readonly clock: Clock;
  readonly timings: WorkerTimings;
  readonly listShards: () => Promise<StreamShard[]>;
  /** Deletes an ended, free shard lease if it is still exactly `record`; `false` if it changed. */
  readonly deleteLease?: (record: LeaseRecord) => Promise<boolean>;
  /** The strategy in force (the config may change it while running). */
  readonly strategy: () => AssignmentStrategy;
  readonly rebalanceIntervalMs: () => number;
  readonly onEvent?: (event: WorkerEvent) => void;
}

/** What one assigner round read and did. */
interface AssignerRound {
  /** The stream's lease partition as last read, if this round read it (after its own writes). */
  readonly records: readonly LeaseRecord[] | undefined;
  /** Leases the assigner granted to its own worker: hold them without adopting. */
  readonly grantedToSelf: readonly Lease[];
  /** Writes this round made (grants, take-overs, hand-off requests, creations, clean-ups). */
  readonly writes: number;
  /**
   * When to run the next round: the next leader poll, or sooner, when some lease could first be judged
   * expired (so a dead owner's leases are placed the moment they may be, not up to a poll later).
   */
  readonly nextInMs: number;
}

/** What a round saw of the instance registry (step 1). */
interface Observation {
  readonly views: readonly InstanceView[];
  /** Live workers not leaving (Lambda instances are in the registry too, but hold no shard leases). */
  readonly workers: readonly InstanceRecord[];
  readonly live: ReadonlySet<string>;
  /** A worker joined or left since the previous round. */
  readonly liveChanged: boolean;
  readonly heartbeatOf: (owner: string) => number | undefined;
  readonly now: number;
}

/** The assignable leases of a round, sorted by their owner's fate. */
interface Classified {
  readonly owned: readonly ShardLease[];
  readonly orphans: readonly ShardLease[];
  /** Leases whose owner is not live by the registry but whose lease has not expired yet. */
  readonly undecided: number;
  /** Owned leases with a hand-off requested and not yet done. */
  readonly pending: readonly ShardLease[];
}

/**
 * Weight of each new measurement in a shard's smoothed rate. Low, because a shard catching up after a move
 * processes its backlog faster than records arrive, and chasing that would move it again.
 */
const ALPHA = 0.25;
/** Shortest interval a rate is measured over. */
const MIN_RATE_INTERVAL_MS = 2_000;
/** At rest the assigner reads the lease partition once per this many lease durations (nothing else changes it). */
const QUIET_LIST_LEASES = 2;

/**
 * The elected assigner's round (one worker runs it while it holds the assigner lease):
 *
 * 1. lists live instances (every `leaderPollMs`; heartbeat counters renew shard leases) and judges every
 *    shard lease it knows against them on its own clock;
 * 2. reads the leases only when something may have changed (an expiry, a join or leave, a rebalance due, its
 *    own moves to follow), every round while checkpoints change them, and lists the stream's shards every
 *    `shardSyncMs` of those reads. At rest — no lease changed between the last two reads, no worker reports
 *    batches in flight or a rising rate — it lists instances every `assignerRenewMs` instead of every
 *    `leaderPollMs`, reads the leases every two lease durations and rebalances only on rounds that read them;
 * 3. creates leases for new shards, deletes ended parents whose children started;
 * 4. gives orphans (free, or expired: owner silent for a lease duration) to live workers **at once** with one
 *    conditional write each (a grant if free, a take-over conditional on the version it judged expired);
 * 5. on a join or leave, and every `rebalanceIntervalMs`, asks the strategy for moves and requests graceful
 *    hand-offs — none while hand-offs are pending or an owner's fate is undecided.
 *
 * Its writes are each conditional on the exact grant or version it judged, so a stale assigner (paused,
 * deposed) can at worst request a needless move; it can never give one shard to two owners.
 */
class Assigner {
  readonly #o: AssignerOptions;
  readonly #pk: string;
  #cache: ShardLease[] | undefined;
  #listedAtMs = Number.NEGATIVE_INFINITY;
  #shards: StreamShard[] | undefined;
  #syncedAtMs = Number.NEGATIVE_INFINITY;
  #lastLive: ReadonlySet<string> | undefined;
  #nextRebalanceMs = Number.NEGATIVE_INFINITY;
  #followUpUntilMs = Number.NEGATIVE_INFINITY;
  /** Lease records changed between the last two reads (checkpoints under load): read them every round. */
  #changing = true;
  #versions = new Map<string, string>();
  /** Each live worker's reported events/s at the previous instance list: a rise means load is back. */
  #reportedRates = new Map<string, number>();
  /** At rest last round: the next round comes after `assignerRenewMs` rather than `leaderPollMs`. */
  #quiet = false;
  readonly #rates = new Map<string, { records: number; atMs: number; rate: number | undefined }>();

  public constructor(options: AssignerOptions) {
    this.#o = options;
    this.#pk = shardLeaseKey(options.streamName, '-').pk;
  }

  /** Smoothed records per second of each shard, as this assigner measured them. */
  public get shardRates(): ReadonlyMap<string, number> {
    return new Map([...this.#rates].map(([id, r]) => [id, r.rate ?? 0]));
  }

  /** Forget everything (leadership lost): a new term starts with fresh reads. */
  public reset(): void {
    this.#cache = undefined;
    this.#changing = true;
    this.#lastLive = undefined;
    this.#listedAtMs = Number.NEGATIVE_INFINITY;
    this.#followUpUntilMs = Number.NEGATIVE_INFINITY;
    this.#reportedRates = new Map();
    this.#quiet = false;
  }

  /** One round, as the class comment lists its steps. */
  public async round(): Promise<AssignerRound> {
    const seen = await this.#observe();
    if (!this.#leasesDue(seen))
      return { records: undefined, grantedToSelf: [], writes: 0, nextInMs: this.#nextInMs(seen.heartbeatOf) };
    const synced = await this.#syncLeases(seen.now);
    this.#measure(this.#cache!, seen.now);
    const sorted = this.#classify(seen, synced.plan);
    const placed = await this.#place(seen, sorted);
    const writes = synced.writes + placed.writes + (await this.#redirectHandOffs(seen, sorted.pending));
    // Read back what this round wrote, and follow its moves every round for a lease duration.
    let records = synced.records;
    if (writes > 0) {
      records = await this.#list();
      this.#followUpUntilMs = seen.now + this.#o.timings.leaseDurationMs;
    }
    await this.#removeDeadInstances(seen.views);
    this.#lastLive = seen.live;
    return {
      records,
      grantedToSelf: placed.grantedToSelf,
      writes,
      nextInMs: this.#nextInMs(seen.heartbeatOf),
    };
  }

  /** Step 1: the live workers from the instance registry (their heartbeat counters renew shard leases). */
  async #observe(): Promise<Observation> {
    const { registry, clock } = this.#o;
    const views = await registry.list();
    // A worker that is leaving gets nothing: its leases are orphans once it releases them, undecided till then.
    const workers = views
      .filter((v) => v.alive && v.instance.kind === 'worker' && v.instance.load.leaving !== true)
      .map((v) => v.instance);
    const live = new Set(workers.map((w) => w.instanceId));
    return {
      views,
      workers,
      live,
      liveChanged: this.#lastLive === undefined || !sameSet(live, this.#lastLive),
      heartbeatOf: (owner: string) => registry.heartbeatOf(owner),
      now: clock.now(),
    };
  }

  /**
   * Step 2: whether to read the leases this round. Judging the known leases against the fresh counters keeps
   * this observer's sightings current (no reads). While leases change (checkpoints), read them every round: a
   * dead owner's lease is judged on its last version from the first round after it stopped. At rest nothing
   * changes: the heartbeats just read say whether anyone has batches in flight or a rising rate (load coming
   * back, checkpoints to follow); if not, read the leases rarely and poll the instances less often (a death
   * is then noticed up to `assignerRenewMs` rather than `leaderPollMs` after its last heartbeat: still
   * within the bound).
   */
  #leasesDue(seen: Observation): boolean {
    const { leases, timings } = this.#o;
    let suspicious = false;
    for (const lease of this.#cache ?? []) {
      const owner = lease.record.owner;
      if (owner === undefined) suspicious ||= !lease.data.ended;
      else if (leases.judge(lease.record, seen.heartbeatOf).expired || !seen.live.has(owner))
        suspicious = true;
    }
    // Every round, so that the next one compares against these rates.
    const loadReported = this.#loadReported(seen.workers);
    const active = this.#changing || loadReported;
    this.#quiet = !active;
    const listEveryMs = active ? timings.leaderPollMs : QUIET_LIST_LEASES * timings.leaseDurationMs;
    return (
      this.#cache === undefined ||
      seen.now - this.#listedAtMs >= listEveryMs ||
      seen.liveChanged ||
      suspicious ||
      (active && seen.now >= this.#nextRebalanceMs) ||
      seen.now < this.#followUpUntilMs
    );
  }

  /**
   * Steps 2 and 3: reads the leases (and every `shardSyncMs` the stream's shards), creates leases for new
   * shards, deletes ended parents whose children started, and reads the leases again after creating some.
   */
  async #syncLeases(nowMs: number): Promise<{ records: LeaseRecord[]; writes: number; plan: ShardPlan }> {
    let records = await this.#list();
    if (this.#shards === undefined || nowMs - this.#syncedAtMs >= this.#o.timings.shardSyncMs) {
      this.#shards = await this.#o.listShards();
      this.#syncedAtMs = nowMs;
    }
    let plan = planShards(this.#shards, this.#cache!);
    const writes = (await this.#createLeases(plan)) + (await this.#cleanUpParents(plan));
    if (plan.create.length > 0) {
      records = await this.#list();
      plan = planShards(this.#shards, this.#cache!);
    }
    return { records, writes, plan };
  }

  async #createLeases(plan: ShardPlan): Promise<number> {
    for (const { shardId, parents } of plan.create) {
      const created = await this.#o.leases.create(shardLeaseKey(this.#o.streamName, shardId), {
        leaseDurationMs: this.#o.timings.leaseDurationMs,
        renewal: 'heartbeat',
        data: newShardLeaseData(parents),
      });
      if (created) this.#emit({ type: 'lease-created', shardId, parents });
    }
    return plan.create.length;
  }

  async #cleanUpParents(plan: ShardPlan): Promise<number> {
    for (const shardId of plan.cleanable) {
      const lease = this.#cache!.find((l) => l.shardId === shardId)!;
      if (this.#o.deleteLease !== undefined && (await this.#o.deleteLease(lease.record)))
        this.#emit({ type: 'lease-cleaned', shardId });
    }
    return plan.cleanable.length;
  }

  /**
   * Sorts the assignable leases: owned by a live worker, orphaned (free, or expired by both verdicts), or
   * undecided (the owner is not live by the registry, but its lease has not expired yet: wait for the verdict);
   * and the owned ones with a hand-off pending.
   */
  #classify(seen: Observation, plan: ShardPlan): Classified {
    const owned: ShardLease[] = [];
    const orphans: ShardLease[] = [];
    let undecided = 0;
    for (const lease of this.#cache!) {
      if (!plan.assignable.has(lease.shardId)) continue;
      const owner = lease.record.owner;
      // Both verdicts, each on this assigner's clock: the owner's instance silent for the failure-detection
      // window, and the lease (record and owner's counter) unchanged for the lease duration.
      const expired = owner !== undefined && this.#o.leases.judge(lease.record, seen.heartbeatOf).expired;
      if (owner === undefined || (expired && !seen.live.has(owner))) orphans.push(lease);
      else if (seen.live.has(owner)) owned.push(lease);
      else undecided++;
    }
    const pending = owned.filter(
      (l) => l.record.pendingOwner !== undefined && l.record.pendingOwner !== l.record.owner,
    );
    return { owned, orphans, undecided, pending };
  }

  /**
   * Steps 4 and 5: asks the strategy where every shard belongs when there are orphans to place or a rebalance
   * is due (on a join or leave, and every `rebalanceIntervalMs`, but never while hand-offs are pending or an
   * owner's fate is undecided); grants the orphans at once and requests hand-offs for the moves.
   */
  async #place(seen: Observation, sorted: Classified): Promise<{ grantedToSelf: Lease[]; writes: number }> {
    const rebalance =
      (seen.liveChanged || seen.now >= this.#nextRebalanceMs) &&
      sorted.pending.length === 0 &&
      sorted.undecided === 0 &&
      seen.workers.length > 0;
    if (seen.workers.length === 0 || (sorted.orphans.length === 0 && !rebalance))
      return { grantedToSelf: [], writes: 0 };
    const rates = this.shardRates;
    const target = this.#o.strategy().assign({
      workers: seen.workers.map((w) => loadOf(w)),
      shards: [...sorted.owned, ...sorted.orphans].map((l) => ({
        shardId: l.shardId,
        owner: sorted.orphans.includes(l) ? undefined : l.record.owner,
        eventsPerSecond: rates.get(l.shardId) ?? 0,
      })),
      rebalance,
    });
    if (rebalance) this.#nextRebalanceMs = seen.now + this.#o.rebalanceIntervalMs();
    const granted = await this.#grantOrphans(seen, sorted.orphans, target);
    const moves = rebalance ? await this.#requestHandOffs(sorted.owned, target) : 0;
    return { grantedToSelf: granted.toSelf, writes: granted.writes + moves };
  }

  /** Gives each orphan to its target with one conditional write: a grant if free, a take-over if expired. */
  async #grantOrphans(
    seen: Observation,
    orphans: readonly ShardLease[],
    target: ReadonlyMap<string, string>,
  ): Promise<{ toSelf: Lease[]; writes: number }> {
    const { leases, timings, self } = this.#o;
    const options = { leaseDurationMs: timings.leaseDurationMs, renewal: 'heartbeat' as const };
    const toSelf: Lease[] = [];
    for (const orphan of orphans) {
      const to = target.get(orphan.shardId)!;
      const free = orphan.record.owner === undefined;
      const lease = free
        ? (
            await leases.tryAcquire(orphan.record.key, {
              ...options,
              heartbeatOf: seen.heartbeatOf,
              owner: to,
            })
          ).lease
        : await leases.takeOver(orphan.record, { ...options, heartbeatOf: seen.heartbeatOf, owner: to });
      if (lease === undefined) continue;
      if (to === self) toSelf.push(lease);
      this.#emit({
        type: 'assigned',
        shardId: orphan.shardId,
        to,
        how: free ? 'grant' : 'take-over',
        from: orphan.record.owner,
      });
    }
    return { toSelf, writes: orphans.length };
  }

  /** Asks each owner whose shard the strategy moved to hand it off (it does so after its chunk and checkpoint). */
  async #requestHandOffs(owned: readonly ShardLease[], target: ReadonlyMap<string, string>): Promise<number> {
    let writes = 0;
    for (const lease of owned) {
      const to = target.get(lease.shardId)!;
      if (to === lease.record.owner) continue;
      const requested = await this.#o.leases.requestHandOff(lease.record.key, lease.record.fence, to);
      writes++;
      if (requested)
        this.#emit({
          type: 'assigned',
          shardId: lease.shardId,
          to,
          how: 'hand-off',
          from: lease.record.owner,
        });
    }
    return writes;
  }

  /** A hand-off requested to a worker that has since gone: point it back at its owner (who ignores it otherwise). */
  async #redirectHandOffs(seen: Observation, pending: readonly ShardLease[]): Promise<number> {
    let writes = 0;
    for (const lease of pending)
      if (!seen.live.has(lease.record.pendingOwner!)) {
        await this.#o.leases.requestHandOff(lease.record.key, lease.record.fence, lease.record.owner!);
        writes++;
      }
    return writes;
  }

  /** Removes instances presumed dead once none of their leases is left to take over. */
  async #removeDeadInstances(views: readonly InstanceView[]): Promise<void> {
    const dead = views.filter((v) => !v.alive).map((v) => v.instance.instanceId);
    if (
      dead.length === 0 ||
      this.#cache!.some((l) => l.record.owner !== undefined && dead.includes(l.record.owner))
    )
      return;
    for (const instanceId of await this.#o.registry.removeDead())
      this.#emit({ type: 'instance-removed', instanceId });
  }

  /**
   * True when a heartbeat just read shows a worker with batches in flight, or reporting more events/s than at
   * the previous list: its leases are about to change, so the assigner should follow them every round.
   */
  #loadReported(workers: readonly InstanceRecord[]): boolean {
    const previous = this.#reportedRates;
    this.#reportedRates = new Map(workers.map((w) => [w.instanceId, w.load.eventsPerSecond ?? 0]));
    return workers.some(
      (w) =>
        (w.load.inFlightBatches ?? 0) > 0 ||
        (w.load.eventsPerSecond ?? 0) > (previous.get(w.instanceId) ?? Number.POSITIVE_INFINITY),
    );
  }

  /** The next leader poll (longer at rest), or the moment a held lease could first be judged expired, if sooner. */
  #nextInMs(heartbeatOf: (owner: string) => number | undefined): number {
    let next = this.#quiet ? this.#o.timings.assignerRenewMs : this.#o.timings.leaderPollMs;
    for (const lease of this.#cache ?? []) {
      const owner = lease.record.owner;
      if (owner === undefined || owner === this.#o.self || lease.data.ended) continue;
      const verdict = this.#o.leases.judge(lease.record, heartbeatOf);
      if (!verdict.expired) next = Math.min(next, verdict.remainingMs + 25);
    }
    return Math.max(50, next);
  }

  async #list(): Promise<LeaseRecord[]> {
    const records = await this.#o.leases.list(this.#pk);
    this.#cache = splitLeases(records).shards;
    const versions = new Map(this.#cache.map((l) => [l.shardId, l.record.version]));
    this.#changing = [...versions].some(([id, v]) => this.#versions.get(id) !== v);
    this.#versions = versions;
    this.#listedAtMs = this.#o.clock.now();
    return records;
  }

  /** Shard rates from the records counters the owners write with their checkpoints, on this assigner's clock. */
  #measure(current: readonly ShardLease[], nowMs: number): void {
    const seen = new Set<string>();
    for (const lease of current) {
      seen.add(lease.shardId);
      const previous = this.#rates.get(lease.shardId);
      const records = lease.data.records;
      if (previous === undefined || records < previous.records) {
        this.#rates.set(lease.shardId, { records, atMs: nowMs, rate: previous?.rate });
        continue;
      }
      const elapsedMs = nowMs - previous.atMs;
      if (elapsedMs < MIN_RATE_INTERVAL_MS) continue;
      const instant = ((records - previous.records) * 1000) / elapsedMs;
      const rate = previous.rate === undefined ? instant : previous.rate + ALPHA * (instant - previous.rate);
      this.#rates.set(lease.shardId, { records, atMs: nowMs, rate });
    }
    for (const id of [...this.#rates.keys()]) if (!seen.has(id)) this.#rates.delete(id);
  }

  #emit(event: WorkerEvent): void {
    this.#o.onEvent?.(event);
  }
}

function loadOf(instance: InstanceRecord) {
  return {
    workerId: instance.instanceId,
    eventsPerSecond: instance.load.eventsPerSecond,
    cpuPercent: instance.load.cpuPercent,
  };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export type { AssignerOptions, AssignerRound };
export { Assigner };
