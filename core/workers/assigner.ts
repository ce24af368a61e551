import type { Clock, Lease, LeaseClient, LeaseRecord, MemberView } from '../coordination/index.js';
import { Membership, shardLeaseKey } from '../coordination/index.js';
import type { StreamShard } from '../esm/shards.js';
import type { AssignmentStrategy } from './assignment/index.js';
import type { WorkerEvent } from './events.js';
import { planShards, type ShardPlan } from './shard-graph.js';
import { newShardLeaseData, type ShardLease, splitLeases } from './shard-lease.js';
import { planSuccessors } from './successors.js';
import { restLeaseReadInterval, type WorkerTimings } from './timings.js';

interface AssignerOptions {
  /** This worker's instance id (the assigner is one of the workers). */
  readonly self: string;
  readonly streamName: string;
  readonly leases: LeaseClient;
  /** The fleet's heartbeats as this worker last read them (its own group at each of its heartbeats). */
  readonly membership: Membership;
  readonly clock: Clock;
  readonly timings: WorkerTimings;
  readonly listShards: () => Promise<StreamShard[]>;
  /** Deletes an ended, free shard lease if it is still exactly `record`; `false` if it changed. */
  readonly deleteLease?: (record: LeaseRecord) => Promise<boolean>;
  /** The strategy in force (the config may change it while running). */
  readonly strategy: () => AssignmentStrategy;
  readonly rebalanceIntervalMs: () => number;
  /** The assigner lease as this worker holds it now (its data names the deputy). */
  readonly assignerLease: () => Lease | undefined;
  /** Keeps the assigner lease after this round rewrote it (a new deputy). */
  readonly onAssignerLease: (lease: Lease) => void;
  /** A dead member whose leases are all placed was removed from the membership. */
  readonly onMemberRemoved?: (memberId: string) => Promise<void>;
  readonly onEvent?: (event: WorkerEvent) => void;
}

/** What one assigner round read and did. */
interface AssignerRound {
  /** The stream's lease partition as last read, if this round read it (after its own writes). */
  readonly records: readonly LeaseRecord[] | undefined;
  /** Leases the assigner granted to its own worker: hold them without adopting. */
  readonly grantedToSelf: readonly Lease[];
  /** Writes this round made (grants, take-overs, hand-off requests, successors, creations, clean-ups, mail). */
  readonly writes: number;
  /** Something is moving or load is reported: the assigner's worker should heartbeat at the busy pace. */
  readonly busy: boolean;
  /** The group of the deputy, when the assigner must also heartbeat into it (several membership groups). */
  readonly deputyGroup: number | undefined;
}

/** What a round saw of the membership (step 1). */
interface Observation {
  /** Live workers not leaving: the strategy's targets. */
  readonly workers: readonly MemberView[];
  readonly live: ReadonlySet<string>;
  /** A worker joined, left or died since the previous round. */
  readonly liveChanged: boolean;
  /** Some member reports records per second or batches in flight. */
  readonly loaded: boolean;
  readonly now: number;
}

type OwnerState =
  | { readonly kind: 'live' | 'leaving' }
  | { readonly kind: 'dead'; readonly silentForMs: number }
  | { readonly kind: 'undecided' };

/** The assignable leases of a round, sorted by their owner's fate. */
interface Classified {
  readonly owned: readonly ShardLease[];
  /** Leases of live workers that are leaving: handed off to a target at the leaver's next look. */
  readonly leaving: readonly ShardLease[];
  /** Free leases, and leases of dead owners that no successor took over in time. */
  readonly orphans: readonly ShardLease[];
  /** Leases whose owner's fate is not known yet, or whose successor is about to take them over. */
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

/**
 * The elected assigner's round, run by the worker that holds the assigner lease after each of its membership
 * heartbeats (docs/cluster.md, "The assigner"):
 *
 * 1. observes the fleet in the membership it already holds (reading the other groups' items when there are
 *    several): live workers, leaving ones, dead ones (counter still for the lease duration on its clock);
 * 2. reads the leases only when something may have changed: a join, leave or death, mail to it, its own
 *    moves to follow, a rebalance due under load, or a minute at rest; lists the stream's shards every
 *    `shardSyncMs` of those reads;
 * 3. creates leases for new shards, deletes ended parents whose children started;
 * 4. gives orphans to live workers at once (a grant if free; a take-over of a dead owner's lease that its
 *    successor did not take in time) and asks a leaving worker to hand each lease to a target;
 * 5. on a join or leave, and every `rebalanceIntervalMs` under load, asks the strategy for moves and requests
 *    graceful hand-offs — none while hand-offs are pending or an owner's fate is undecided;
 * 6. names a successor for every owned lease and a deputy for itself, and mails every worker whose leases,
 *    requests or duties changed, so that it looks at the leases at its next heartbeat.
 *
 * Its writes are each conditional on the exact grant it judged, so a stale assigner (paused, deposed) can at
 * worst request a needless move; it can never give one shard to two owners.
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
  #mailSeen: string | undefined;
  /** Lease records changed between the last two reads (checkpoints under load). */
  #changing = true;
  #versions = new Map<string, string>();
  /** When this assigner last read the other groups' membership items (several groups only). */
  #othersReadAtMs = Number.NEGATIVE_INFINITY;
  #busy = true;
  /** Since when (this assigner's clock) an owner named by a lease is absent from the membership. */
  readonly #absentSince = new Map<string, number>();
  readonly #rates = new Map<string, { records: number; atMs: number; rate: number | undefined }>();

  public constructor(options: AssignerOptions) {
    this.#o = options;
    this.#pk = shardLeaseKey(options.streamName, '-').pk;
  }

  /** Smoothed records per second of each shard, as this assigner measured them. */
  public get shardRates(): ReadonlyMap<string, number> {
    return new Map([...this.#rates].map(([id, r]) => [id, r.rate ?? 0]));
  }

  /** Forget everything (leadership lost or taken): a new term starts with fresh reads. */
  public reset(): void {
    this.#cache = undefined;
    this.#changing = true;
    this.#lastLive = undefined;
    this.#listedAtMs = Number.NEGATIVE_INFINITY;
    this.#followUpUntilMs = Number.NEGATIVE_INFINITY;
    this.#othersReadAtMs = Number.NEGATIVE_INFINITY;
    this.#busy = true;
    this.#mailSeen = undefined;
  }

  /** One round, as the class comment lists its steps. */
  public async round(): Promise<AssignerRound> {
    const seen = await this.#observe();
    const deputyGroup = this.#deputyGroup();
    if (!this.#leasesDue(seen)) {
      this.#busy = this.#isBusy(seen);
      return { records: undefined, grantedToSelf: [], writes: 0, busy: this.#busy, deputyGroup };
    }
    this.#mailSeen = this.#o.membership.mailToken;
    const synced = await this.#syncLeases(seen.now);
    this.#measure(this.#cache!, seen.now);
    const sorted = this.#classify(seen, synced.plan);
    const mail = new Set<string>();
    const placed = await this.#place(seen, sorted, mail);
    let writes = synced.writes + placed.writes + (await this.#redirectHandOffs(seen, sorted.pending, mail));
    let records = synced.records;
    if (writes > 0) {
      records = await this.#list();
      this.#followUpUntilMs = seen.now + this.#o.timings.leaseDurationMs;
    }
    writes += await this.#nameSuccessors(seen, mail);
    writes += await this.#nameDeputy(seen, mail);
    mail.delete(this.#o.self);
    if (mail.size > 0) {
      await this.#o.membership.mail(mail);
      writes++;
    }
    await this.#removeDeadMembers();
    this.#lastLive = seen.live;
    this.#busy = this.#isBusy(seen);
    return {
      records,
      grantedToSelf: placed.grantedToSelf,
      writes,
      busy: this.#busy,
      deputyGroup: this.#deputyGroup(),
    };
  }

  /**
   * Step 1: the fleet as the membership shows it. With several groups the others' items are read while anything
   * moves, when mailed (a joining worker, a successor that took leases over, a worker that freed some), and once
   * a minute at rest: successors fail over within their group without the assigner. A group whose owner has
   * no successor is read at every round.
   */
  async #observe(): Promise<Observation> {
    const { membership, clock, timings } = this.#o;
    const now0 = clock.now();
    if (membership.groups > 1) {
      const others = Array.from({ length: membership.groups }, (_, g) => g).filter(
        (g) => g !== membership.group,
      );
      if (
        this.#busy ||
        this.#mailSeen !== membership.mailToken ||
        now0 < this.#followUpUntilMs ||
        now0 - this.#othersReadAtMs >= timings.restLeaseReadMs
      ) {
        await membership.read(others);
        this.#othersReadAtMs = now0;
      } else await membership.read(this.#unguardedGroups());
    }
    const views = membership.members();
    const workers = views.filter((v) => v.alive && v.entry.load.leaving !== true);
    const live = new Set(workers.map((w) => w.memberId));
    const now = clock.now();
    const present = new Set(views.map((v) => v.memberId));
    for (const id of [...this.#absentSince.keys()]) if (present.has(id)) this.#absentSince.delete(id);
    return {
      workers,
      live,
      liveChanged: this.#lastLive === undefined || !sameSet(live, this.#lastLive),
      loaded: views.some(
        (v) =>
          v.alive && ((v.entry.load.eventsPerSecond ?? 0) > 0 || (v.entry.load.inFlightBatches ?? 0) > 0),
      ),
      now,
    };
  }

  /**
   * Groups other than this assigner's holding an owner of a lease without a successor: a worker alone in its
   * group has no group-mate to take its leases over, so the assigner watches that group at every heartbeat
   * and fails it over itself. Sized groups (tens of workers each) leave this empty.
   */
  #unguardedGroups(): number[] {
    const { membership } = this.#o;
    const groups = new Set<number>();
    for (const lease of this.#cache ?? []) {
      const { owner, successor } = lease.record;
      if (owner === undefined || successor !== undefined || lease.data.ended) continue;
      const group = Membership.groupOf(owner, membership.groups);
      if (group !== membership.group) groups.add(group);
    }
    return [...groups].sort((a, b) => a - b);
  }

  /** A lease owner's fate, on this assigner's clock. */
  #ownerState(owner: string, now: number): OwnerState {
    const view = this.#o.membership.view(owner);
    if (view !== undefined) {
      if (!view.alive) return { kind: 'dead', silentForMs: view.verdict.silentForMs };
      return { kind: view.entry.load.leaving === true ? 'leaving' : 'live' };
    }
    // Named by a lease but absent from the membership (it never heartbeat where this assigner looks, or its
    // entry is gone): dead once this observer has seen it absent for a lease duration.
    const since = this.#absentSince.get(owner) ?? now;
    this.#absentSince.set(owner, since);
    const silentForMs = now - since;
    return silentForMs >= this.#o.timings.leaseDurationMs
      ? { kind: 'dead', silentForMs }
      : { kind: 'undecided' };
  }

  /**
   * Step 2: whether to read the leases this round. At rest nothing changes them: joins, leaves and deaths
   * show in the membership, and workers that free a lease mail the assigner. Under load checkpoints change
   * them all the time; they are read twice per rebalance interval for the shard rates.
   */
  #leasesDue(seen: Observation): boolean {
    const { timings, membership } = this.#o;
    if (this.#cache === undefined || seen.liveChanged) return true;
    if (this.#mailSeen !== membership.mailToken || seen.now < this.#followUpUntilMs) return true;
    const sinceRead = seen.now - this.#listedAtMs;
    if (sinceRead >= restLeaseReadInterval(timings, this.#cache.length)) return true;
    if ((seen.loaded || this.#changing) && sinceRead >= this.#o.rebalanceIntervalMs() / 2) return true;
    return this.#cache.some((lease) => {
      const owner = lease.record.owner;
      if (owner === undefined) return !lease.data.ended;
      return this.#ownerState(owner, seen.now).kind !== 'live';
    });
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
   * Sorts the assignable leases: owned by a live worker, owned by a leaving one, orphaned (free; or its owner
   * dead and no live successor, or a successor that has not acted within a heartbeat of when it could), or
   * undecided; and the owned ones with a hand-off pending.
   */
  #classify(seen: Observation, plan: ShardPlan): Classified {
    const { timings, membership } = this.#o;
    const owned: ShardLease[] = [];
    const leaving: ShardLease[] = [];
    const orphans: ShardLease[] = [];
    let undecided = 0;
    // A successor acts at its first heartbeat after it may judge the owner dead; it sees the owner's last
    // counter up to a rest heartbeat after this assigner did.
    const graceMs = timings.leaseDurationMs + timings.restHeartbeatIntervalMs + timings.fastPollMs;
    for (const lease of this.#cache!) {
      if (!plan.assignable.has(lease.shardId)) continue;
      const owner = lease.record.owner;
      if (owner === undefined) {
        orphans.push(lease);
        continue;
      }
      const state = this.#ownerState(owner, seen.now);
      if (state.kind === 'live') owned.push(lease);
      else if (state.kind === 'leaving') leaving.push(lease);
      else if (state.kind === 'undecided') undecided++;
      else if (state.kind === 'dead') {
        const successor = lease.record.successor;
        const successorLive =
          successor !== undefined &&
          successor !== owner &&
          seen.live.has(successor) &&
          membership.view(successor)?.group === membership.view(owner)?.group;
        if (!successorLive || state.silentForMs >= graceMs) orphans.push(lease);
        else undecided++;
      }
    }
    const pending = owned.filter(
      (l) => l.record.pendingOwner !== undefined && l.record.pendingOwner !== l.record.owner,
    );
    return { owned, leaving, orphans, undecided, pending };
  }

  /**
   * Steps 4 and 5: asks the strategy where every shard belongs when there are orphans or leavers to place or
   * a rebalance is due (on a join or leave, and every `rebalanceIntervalMs`, but never while hand-offs are
   * pending or an owner's fate is undecided); grants the orphans at once, asks leavers and over-loaded owners
   * for hand-offs, and adds whom to mail.
   */
  async #place(
    seen: Observation,
    sorted: Classified,
    mail: Set<string>,
  ): Promise<{ grantedToSelf: Lease[]; writes: number }> {
    const rebalance =
      (seen.liveChanged || seen.now >= this.#nextRebalanceMs) &&
      sorted.pending.length === 0 &&
      sorted.undecided === 0 &&
      sorted.leaving.length === 0 &&
      seen.workers.length > 0;
    const movable = [...sorted.orphans, ...sorted.leaving];
    if (seen.workers.length === 0 || (movable.length === 0 && !rebalance))
      return { grantedToSelf: [], writes: 0 };
    const rates = this.shardRates;
    const target = this.#o.strategy().assign({
      workers: seen.workers.map((w) => ({
        workerId: w.memberId,
        eventsPerSecond: w.entry.load.eventsPerSecond,
        cpuPercent: w.entry.load.cpuPercent,
      })),
      shards: [...sorted.owned, ...movable].map((l) => ({
        shardId: l.shardId,
        owner: movable.includes(l) ? undefined : l.record.owner,
        eventsPerSecond: rates.get(l.shardId) ?? 0,
      })),
      rebalance,
    });
    if (rebalance) this.#nextRebalanceMs = seen.now + this.#o.rebalanceIntervalMs();
    const granted = await this.#grantOrphans(sorted.orphans, target, mail);
    const handOffs =
      (await this.#requestHandOffs(sorted.leaving, target, mail, seen.live)) +
      (rebalance ? await this.#requestHandOffs(sorted.owned, target, mail, undefined) : 0);
    return { grantedToSelf: granted.toSelf, writes: granted.writes + handOffs };
  }

  /** Gives each orphan to its target with one conditional write: a grant if free, a take-over if its owner died. */
  async #grantOrphans(
    orphans: readonly ShardLease[],
    target: ReadonlyMap<string, string>,
    mail: Set<string>,
  ): Promise<{ toSelf: Lease[]; writes: number }> {
    const { leases, timings, self } = this.#o;
    const options = { leaseDurationMs: timings.leaseDurationMs, renewal: 'heartbeat' as const };
    const toSelf: Lease[] = [];
    for (const orphan of orphans) {
      const to = target.get(orphan.shardId)!;
      const free = orphan.record.owner === undefined;
      const lease = free
        ? await leases.grantIfFree(orphan.record.key, { ...options, owner: to })
        : (await leases.takeOverFromDeadOwner(orphan.record, { ...options, owner: to })).lease;
      if (lease === undefined) continue;
      if (to === self) toSelf.push(lease);
      mail.add(to);
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

  /**
   * Asks each owner whose shard the strategy moved to hand it off (it does so after its chunk and checkpoint,
   * once the target has accepted), and mails both. A leaver's lease already promised to a live worker keeps
   * its target (`live`: asking again would reset the target's acceptance).
   */
  async #requestHandOffs(
    leases: readonly ShardLease[],
    target: ReadonlyMap<string, string>,
    mail: Set<string>,
    live: ReadonlySet<string> | undefined,
  ): Promise<number> {
    let writes = 0;
    for (const lease of leases) {
      const to = target.get(lease.shardId)!;
      const promised = lease.record.pendingOwner;
      if (to === lease.record.owner) continue;
      if (
        live !== undefined &&
        promised !== undefined &&
        promised !== lease.record.owner &&
        live.has(promised)
      )
        continue;
      const requested = await this.#o.leases.requestHandOff(lease.record.key, lease.record.fence, to);
      writes++;
      if (!requested) continue;
      mail.add(to);
      mail.add(lease.record.owner!);
      this.#emit({ type: 'assigned', shardId: lease.shardId, to, how: 'hand-off', from: lease.record.owner });
    }
    return writes;
  }

  /** A hand-off requested to a worker that has since gone: point it back at its owner (who ignores it then). */
  async #redirectHandOffs(
    seen: Observation,
    pending: readonly ShardLease[],
    mail: Set<string>,
  ): Promise<number> {
    let writes = 0;
    for (const lease of pending)
      if (!seen.live.has(lease.record.pendingOwner!)) {
        await this.#o.leases.requestHandOff(lease.record.key, lease.record.fence, lease.record.owner!);
        mail.add(lease.record.owner!);
        writes++;
      }
    return writes;
  }

  /** Step 6: a successor for every lease of a live owner, in the owner's group; mails each new successor. */
  async #nameSuccessors(seen: Observation, mail: Set<string>): Promise<number> {
    const { leases } = this.#o;
    const shards = this.#cache!.filter((l) => !l.data.ended);
    const changes = planSuccessors(
      shards.map((l) => ({ shardId: l.shardId, owner: l.record.owner, successor: l.record.successor })),
      seen.workers.map((w) => ({ workerId: w.memberId, group: w.group })),
    );
    let writes = 0;
    for (const [shardId, successor] of changes) {
      const index = this.#cache!.findIndex((l) => l.shardId === shardId);
      const lease = this.#cache![index]!;
      writes++;
      if (!(await leases.setSuccessor(lease.record, successor))) continue;
      this.#cache![index] = { ...lease, record: { ...lease.record, successor } };
      if (successor !== undefined) mail.add(successor);
    }
    return writes;
  }

  /** Step 6: a live deputy, which takes the assigner lease over the moment it judges this worker dead. */
  async #nameDeputy(seen: Observation, mail: Set<string>): Promise<number> {
    const lease = this.#o.assignerLease();
    if (lease === undefined) return 0;
    const current = typeof lease.data.deputy === 'string' ? lease.data.deputy : undefined;
    const candidates = seen.workers.map((w) => w.memberId).filter((id) => id !== this.#o.self);
    if (current !== undefined && candidates.includes(current)) return 0;
    const mine = this.#o.membership.group;
    const deputy =
      candidates.filter((id) => this.#o.membership.view(id)?.group === mine).sort()[0] ??
      candidates.sort()[0];
    if (deputy === current) return 0;
    const renewed = await this.#o.leases.renew(lease, { ...lease.data, deputy });
    if (renewed === undefined) return 1;
    this.#o.onAssignerLease(renewed);
    if (deputy !== undefined) mail.add(deputy);
    return 1;
  }

  /** The deputy's group, when it is not this assigner's own: the assigner heartbeats into it too. */
  #deputyGroup(): number | undefined {
    const deputy = this.#o.assignerLease()?.data.deputy;
    if (typeof deputy !== 'string') return undefined;
    const group = this.#o.membership.view(deputy)?.group;
    return group === undefined || group === this.#o.membership.group ? undefined : group;
  }

  /** Removes members judged dead once none of their leases is left to take over. */
  async #removeDeadMembers(): Promise<void> {
    const owners = new Set(this.#cache!.map((l) => l.record.owner).filter((o) => o !== undefined));
    for (const view of this.#o.membership.members()) {
      if (view.alive || owners.has(view.memberId)) continue;
      if (await this.#o.membership.removeDead(view.memberId)) {
        this.#emit({ type: 'instance-removed', instanceId: view.memberId });
        await this.#o.onMemberRemoved?.(view.memberId);
      }
    }
    for (const id of [...this.#absentSince.keys()]) if (!owners.has(id)) this.#absentSince.delete(id);
  }

  #isBusy(seen: Observation): boolean {
    return seen.loaded || this.#changing || seen.now < this.#followUpUntilMs;
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

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export type { AssignerOptions, AssignerRound };
export { Assigner };
