import type { Config } from '../config/schema.js';
import {
  type Clock,
  type CoordinationStore,
  CoordinationStoreError,
  type HotKey,
  type InstanceLoad,
  InstanceRegistry,
  Lease,
  LeaseClient,
  type LeaseRecord,
  Membership,
  shardLeaseKey,
  systemClock,
} from '../coordination/index.js';
import { messageOf } from '../errors.js';
import type { ShardCheckpoint, ShardOwnership } from '../esm/event-source-mapping.js';
import type { StreamShard } from '../esm/shards.js';
import { Assigner } from './assigner.js';
import { createStrategy } from './assignment/index.js';
import type { AssignmentStrategy } from './assignment/types.js';
import type { WorkerEvent } from './events.js';
import { LoadMeter } from './load-meter.js';
import { planShards } from './shard-graph.js';
import {
  assignerLeaseKey,
  checkpointedData,
  newShardLeaseData,
  type ShardLease,
  type ShardLeaseData,
  shardLeaseData,
  splitLeases,
} from './shard-lease.js';
import { restLeaseReadInterval, type WorkerTimings, workerTimings } from './timings.js';

/** What a worker needs from the event source mapping: start and stop reading a shard for its lease. */
interface ShardProcessor {
  start(ownership: ShardOwnership): void;
  /** Finishes the chunk in flight, checkpoints it through the ownership, and stops. */
  stop(shardId: string): Promise<void>;
  /** Handler invocations running now. */
  readonly inFlight: number;
}

interface WorkerOptions {
  readonly instanceId: string;
  readonly streamName: string;
  readonly store: CoordinationStore;
  readonly processor: ShardProcessor;
  readonly listShards: () => Promise<StreamShard[]>;
  /** Deletes an ended parent's lease (conditional on `record`'s version and no owner). */
  readonly deleteLease?: (record: LeaseRecord) => Promise<boolean>;
  /** The configuration in force: `leases` (timings read once; strategy read every round), `version`. */
  readonly config: () => Config;
  /**
   * What the worker reports as its config version: `<version>@<applied at>` lets `cdcp config status` tell
   * how long a version took to reach every instance. @default the config's bare version
   */
  readonly reportedConfigVersion?: () => string;
  readonly timings?: Partial<WorkerTimings>;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Lag and other figures for the heartbeat's load, besides what the worker measures itself. */
  readonly lagMs?: () => number | undefined;
  /** The hot partition keys counted since the previous report (`ConsumerLoadTracker.drainHotKeys`). */
  readonly hotKeys?: () => readonly HotKey[];
  /** The latencies of the changes applied since the previous registry report (`LatencyRecorder.drain`). */
  readonly latency?: () => Pick<InstanceLoad, 'sourceToAppliedMs' | 'arrivalToAppliedMs'>;
  readonly onEvent?: (event: WorkerEvent) => void;
  /**
   * Runs when a shard's reading has stopped and just before its lease is handed off or released on stop, so
   * that the next owner finds what it leaves (the owner cache publishes its keys of the shard here). Its
   * failure is reported as an `error` event and the lease moves all the same.
   */
  readonly beforeLettingGo?: (shardId: string) => Promise<void>;
}

interface HeldShard {
  lease: Lease;
  data: ShardLeaseData;
  readonly abort: AbortController;
  /** Records processed since the last successful checkpoint write. */
  uncheckpointed: number;
  /** Set while the shard is being handed off or released. */
  leaving: Promise<void> | undefined;
}

/** A hand-off this worker takes part in and waits on: as the owner (for acceptance) or the new owner. */
interface Awaited {
  readonly role: 'owner' | 'target';
  readonly sinceMs: number;
}

const WATCHDOG_MAX_SLEEP_MS = 1_000;

/**
 * One worker of a fleet (docs/cluster.md): heartbeats into the fleet's membership item, which renews every shard
 * lease it holds and returns every other member's heartbeat; reads its shards with the event source mapping
 * and checkpoints under each lease's fence; takes over, by itself, the leases it is the successor of the moment
 * it judges their owner dead; hands leases off gracefully when the assigner asks (after the new owner has
 * accepted, so no shard waits); and, when elected, runs the assigner's round after each heartbeat.
 *
 * - **Failure detection**: a member is dead when its counter has not moved for the lease duration on the
 *   observer's own clock; the holder stops using its leases a lease duration after its last accepted heartbeat
 *   was *sent*, which is before any observer may judge it dead (docs/architecture.md contract 8). A lease write
 *   (a checkpoint, a grant) never extends that: only heartbeats do.
 * - **Nobody polls**: at rest a worker writes one heartbeat per half lease and reads nothing; it reads the leases
 *   only when its mail counter (in the membership item) moved, when it waits on a hand-off, and when it leaves.
 *
 * @example
 * ```ts
 * const worker = new Worker({ instanceId, streamName, store, processor: mapping, listShards, config: () => config });
 * await worker.start();
 * await worker.stop(); // hands every lease off after its chunk in flight, then leaves the membership
 * ```
 */
class Worker {
  readonly #o: WorkerOptions;
  readonly #clock: Clock;
  readonly #timings: WorkerTimings;
  readonly #leases: LeaseClient;
  readonly #membership: Membership;
  readonly #registry: InstanceRegistry;
  readonly #assigner: Assigner;
  readonly #meter: LoadMeter;
  readonly #held = new Map<string, HeldShard>();
  /** Aborted when the worker starts leaving: no more grants, adoptions, acceptances or take-overs. */
  readonly #stopping = new AbortController();
  /** Aborted once every lease is let go (or at once by `halt`): heartbeats and the watchdog end. */
  readonly #finished = new AbortController();
  readonly #pk: string;
  readonly #awaiting = new Map<string, Awaited>();
  #strategy: AssignmentStrategy | undefined;
  #loops: Promise<void>[] = [];
  #serial: Promise<unknown> = Promise.resolve();
  /** The stream's lease partition as this worker last read it. */
  #known: { shards: ShardLease[]; assigner: LeaseRecord | undefined } | undefined;
  #mailSeen: string | undefined;
  /** Read the leases at the next look whatever the mail says (a write we lost told us they changed). */
  #readNext = true;
  #leasesReadAtMs = Number.NEGATIVE_INFINITY;
  #assignerLease: Lease | undefined;
  #assignerBusy = false;
  #deputyGroup: number | undefined;
  #startedAtMs = 0;
  #lastProcessedAtMs = Number.NEGATIVE_INFINITY;
  #lastAttemptAtMs = Number.NEGATIVE_INFINITY;
  #wakeBeat: (() => void) | undefined;
  #lastReport: { atMs: number; version: string } | undefined;
  #reporting = false;
  /** A look after a heartbeat is queued and has not started yet: later heartbeats need no other. */
  #lookQueued = false;
  #started = false;
  #halted = false;
  #announced = false;
  /** Lease items in the partition at the last full read (how many Query pages a read takes). */
  #leaseCount = 0;

  public constructor(options: WorkerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    const leases = options.config().leases;
    this.#timings = workerTimings(leases, options.timings);
    this.#pk = shardLeaseKey(options.streamName, '-').pk;
    this.#leases = new LeaseClient({ store: options.store, clock: this.#clock });
    this.#membership = new Membership({
      store: options.store,
      fleet: options.streamName,
      memberId: options.instanceId,
      failureDetectionMs: this.#timings.leaseDurationMs,
      groups: leases.membershipGroups,
      clock: this.#clock,
    });
    // The registry only carries this worker's report (load, config version, hot keys) for people and the
    // cluster manager; liveness is the membership heartbeat.
    this.#registry = new InstanceRegistry({
      store: options.store,
      clock: this.#clock,
      failureDetectionMs: 3 * this.#timings.reportIntervalMs,
      heartbeatIntervalMs: this.#timings.reportIntervalMs,
      ttlMs: Math.max(6 * 3_600_000, 30 * this.#timings.reportIntervalMs),
    });
    this.#meter = new LoadMeter({ now: () => this.#clock.now() });
    this.#assigner = new Assigner({
      self: options.instanceId,
      streamName: options.streamName,
      leases: this.#leases,
      membership: this.#membership,
      clock: this.#clock,
      timings: this.#timings,
      listShards: options.listShards,
      deleteLease: options.deleteLease,
      strategy: () => this.#currentStrategy(),
      rebalanceIntervalMs: () => options.config().leases.rebalanceIntervalMs,
      assignerLease: () => this.#assignerLease,
      onAssignerLease: (lease) => {
        this.#assignerLease = this.#heldUntilBeat(lease);
      },
      onMemberRemoved: (id) => this.#registry.deregister(id).catch(() => undefined),
      onEvent: (e) => this.#emit(e),
    });
  }

  public get instanceId(): string {
    return this.#o.instanceId;
  }

  public get timings(): WorkerTimings {
    return this.#timings;
  }

  /** Shards this worker holds now. */
  public get shards(): string[] {
    return [...this.#held.keys()].sort();
  }

  /** True while this worker holds the assigner lease (its heartbeats are current). */
  public get isAssigner(): boolean {
    return this.#assignerLease !== undefined && !this.#assignerLease.isExpired(this.#clock.now());
  }

  /**
   * When the last membership heartbeat the store accepted was sent, on this worker's clock; undefined before the
   * first. Every lease this worker holds runs out a lease duration after it.
   */
  public get lastHeartbeatAtMs(): number | undefined {
    return this.#membership.lastBeatSentAtMs;
  }

  /** True once {@link stop} or {@link halt} was called. */
  public get stopping(): boolean {
    return this.#stopping.signal.aborted;
  }

  /** Records processed, smoothed per second (what the heartbeat reports). */
  public get eventsPerSecond(): number {
    return this.#meter.eventsPerSecond();
  }

  /** The assigner's measured shard rates, while this worker is the assigner. */
  public get shardRates(): ReadonlyMap<string, number> {
    return this.#assigner.shardRates;
  }

  /**
   * Registers its report, writes its first heartbeat (retrying until the store answers or the worker is
   * stopped), reads the leases once, and starts its loops.
   */
  public async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#startedAtMs = this.#clock.now();
    await this.#register();
    for (let attempt = 0; !this.#stopping.signal.aborted && !(await this.#beat()); attempt++)
      await this.#clock.sleep(Math.min(2_000, 100 * 2 ** attempt), this.#stopping.signal);
    if (this.#stopping.signal.aborted) return;
    await this.#exclusive(() => this.#afterBeat());
    this.#loops = [this.#beatLoop(), this.#watchdogLoop(), this.#pollLoop()];
  }

  /**
   * Leaves gracefully, heartbeating all along so that no lease runs out meanwhile: says in its heartbeat that
   * it is leaving (the assigner gives it nothing more and asks it to hand each lease to a live worker), hands
   * each lease off once its new owner has accepted, after the chunk in flight and its checkpoint; releases what
   * nobody asked for within `leaveWaitMs`; hands the assigner lease to its deputy if it holds it; then leaves
   * the membership and deregisters.
   */
  public async stop(): Promise<void> {
    if (this.#stopping.signal.aborted || this.#halted) return;
    this.#stopping.abort();
    if (this.#loops.length > 0) {
      await this.#beat();
      await this.#exclusive(() => this.#afterBeat());
      await this.#awaitHandOffs();
      // Halted meanwhile (the stop timed out): not another write.
      if (this.#halted) return;
      await this.#resign();
      await this.#releaseLateGrants();
    }
    this.#finished.abort();
    this.#wakeBeat?.();
    await Promise.all(this.#loops);
    if (this.#started) {
      await this.#membership
        .leave(this.#deputyGroup === undefined ? [] : [this.#deputyGroup])
        .catch(() => undefined);
      await this.#registry.deregister(this.#o.instanceId).catch(() => undefined);
    }
  }

  /**
   * Stops at once without another write, as a process killed with SIGKILL would: loops end, shards are
   * dropped, nothing is checkpointed, released or deregistered. For tests and benchmarks that simulate a crash
   * inside one process.
   */
  public async halt(): Promise<void> {
    this.#halted = true;
    this.#stopping.abort();
    this.#finished.abort();
    this.#wakeBeat?.();
    for (const held of [...this.#held.values()]) {
      held.abort.abort('halted');
      this.#held.delete(held.lease.key.sk);
    }
    this.#assignerLease = undefined;
    await Promise.all(this.#loops);
  }

  /** Counts processed records for the load figures (the mapping's invocation hook calls it). */
  public recordsProcessed(records: number): void {
    this.#meter.add(records);
    if (records > 0) this.#lastProcessedAtMs = this.#clock.now();
  }

  // Heartbeats, and what follows each.

  async #beatLoop(): Promise<void> {
    const signal = this.#finished.signal;
    while (!signal.aborted) {
      const interval = this.#busy()
        ? this.#timings.heartbeatIntervalMs
        : this.#timings.restHeartbeatIntervalMs;
      // A fixed cadence by send time: a slow heartbeat does not push the next one later.
      const waitMs = Math.max(0, this.#lastAttemptAtMs + interval - this.#clock.now());
      await new Promise<void>((resolve) => {
        this.#wakeBeat = resolve;
        void this.#clock.sleep(waitMs, signal).then(() => resolve());
      });
      if (signal.aborted) return;
      // Lease work never holds up the next heartbeat: a slow round (a starved table) must not let this
      // worker's own leases run out.
      if (await this.#beat()) this.#lookAfterBeat();
      void this.#reportIfDue();
    }
  }

  /** Queues one look at the leases after a heartbeat, unless one is already waiting to start. */
  #lookAfterBeat(): void {
    if (this.#lookQueued) return;
    this.#lookQueued = true;
    void this.#exclusive(() => {
      this.#lookQueued = false;
      return this.#afterBeat();
    });
  }

  /** One membership heartbeat: renews every lease held (and the assigner lease); false if it failed. */
  async #beat(): Promise<boolean> {
    this.#lastAttemptAtMs = this.#clock.now();
    try {
      await this.#membership.beat(this.#load(), this.#deputyGroup === undefined ? [] : [this.#deputyGroup]);
    } catch (error) {
      this.#emit({ type: 'error', message: `heartbeat: ${messageOf(error)}` });
      return false;
    }
    const sentAtMs = this.#membership.lastBeatSentAtMs!;
    for (const held of this.#held.values()) held.lease = held.lease.extendedByHeartbeat(sentAtMs);
    if (this.#assignerLease !== undefined)
      this.#assignerLease = this.#assignerLease.extendedByHeartbeat(sentAtMs);
    return true;
  }

  /** After each heartbeat: look at the leases if mailed, act as successor and deputy, assign if elected. */
  async #afterBeat(): Promise<void> {
    if (this.#halted) return;
    try {
      const mail = this.#membership.mailToken;
      // A minute at rest without mail (a minute per Query page of leases) is a safety net for a mailing that
      // failed: a worker never waits forever for a lease the store says is its own.
      const stale =
        this.#clock.now() - this.#leasesReadAtMs >= restLeaseReadInterval(this.#timings, this.#leaseCount);
      if (this.#readNext || mail !== this.#mailSeen || (stale && !this.isAssigner)) {
        this.#mailSeen = mail;
        this.#readNext = false;
        this.#leasesReadAtMs = this.#clock.now();
        const records = await this.#leases.list(this.#pk);
        this.#leaseCount = records.length;
        await this.#reconcile(records, true);
        await this.#announce();
      }
      await this.#succeed();
      await this.#deputize();
      if (this.isAssigner) await this.#assignRound();
    } catch (error) {
      this.#emit({ type: 'error', message: `lease round: ${messageOf(error)}` });
    }
  }

  /**
   * With several membership groups the assigner may not see this worker's group at every heartbeat: a worker
   * that has just joined mails it once, so that it gets leases at the assigner's next heartbeat.
   */
  async #announce(): Promise<void> {
    if (this.#announced || this.#membership.groups <= 1) return;
    this.#announced = true;
    const assigner = this.#known?.assigner?.owner;
    if (
      assigner !== undefined &&
      Membership.groupOf(assigner, this.#membership.groups) !== this.#membership.group
    )
      await this.#tellAssigner();
  }

  #busy(): boolean {
    const now = this.#clock.now();
    return (
      this.#stopping.signal.aborted ||
      this.#awaiting.size > 0 ||
      this.#o.processor.inFlight > 0 ||
      now - this.#lastProcessedAtMs < 2 * this.#timings.leaseDurationMs ||
      now - this.#startedAtMs < this.#timings.leaseDurationMs ||
      (this.isAssigner && this.#assignerBusy)
    );
  }

  #load(): InstanceLoad {
    const idle = this.#clock.now() - this.#lastProcessedAtMs >= 2 * this.#timings.leaseDurationMs;
    const load = this.#meter.load({
      lagMs: this.#o.lagMs?.(),
      inFlightBatches: this.#o.processor.inFlight,
      ...(this.#stopping.signal.aborted ? { leaving: true } : {}),
    });
    // A smoothed rate decays for a minute after the last record: say 0 once nothing has come for a while.
    return idle ? { ...load, eventsPerSecond: 0 } : load;
  }

  // The report to the instance registry (for people and the cluster manager; it decides nothing).

  async #register(): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt++) {
      try {
        const version = this.#reportedVersion();
        const registered = await this.#registry.register({
          instanceId: this.#o.instanceId,
          kind: 'worker',
          configVersion: version,
          load: this.#meter.load(),
        });
        if (!registered)
          throw new Error(
            `instance id ${this.#o.instanceId} is registered by another process; give each worker its own id`,
          );
        this.#lastReport = { atMs: this.#clock.now(), version };
        this.#emit({ type: 'registered' });
        return;
      } catch (error) {
        if (!(error instanceof CoordinationStoreError && error.retryable)) throw error;
        await this.#clock.sleep(Math.min(2_000, 100 * 2 ** attempt), this.#stopping.signal);
      }
    }
  }

  async #reportIfDue(): Promise<void> {
    const version = this.#reportedVersion();
    const last = this.#lastReport;
    const every = this.#busy() ? this.#timings.busyReportIntervalMs : this.#timings.reportIntervalMs;
    if (this.#reporting || this.#finished.signal.aborted) return;
    if (last !== undefined && last.version === version && this.#clock.now() - last.atMs < every) return;
    this.#lastReport = { atMs: this.#clock.now(), version };
    this.#reporting = true;
    try {
      // The latencies drain here, once per report, so that each report covers the changes applied since the last.
      const load = { ...this.#load(), ...this.#o.latency?.() };
      const report = { load, configVersion: version, hotKeys: this.#o.hotKeys?.() };
      if ((await this.#registry.heartbeat(this.#o.instanceId, report)) === undefined)
        // Removed by a cluster manager's clean-up (a long pause): the report only, nothing to give up.
        await this.#registry.register({ instanceId: this.#o.instanceId, kind: 'worker', ...report });
    } catch (error) {
      this.#emit({ type: 'error', message: `report: ${messageOf(error)}` });
    } finally {
      this.#reporting = false;
    }
  }

  #reportedVersion(): string {
    return this.#o.reportedConfigVersion?.() ?? this.#o.config().version;
  }

  // Leases: what the store says, hand-offs, take-overs.

  /** Runs `step` after every step queued before it: lease reads and writes never interleave. */
  #exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(step, step);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  /**
   * Brings what this worker holds in line with what it read (the whole partition, or a few leases): adopts what
   * is its own, notices losses, accepts hand-offs requested to it, and hands off what it was asked to once the
   * new owner accepted.
   */
  async #reconcile(records: readonly LeaseRecord[], whole: boolean): Promise<void> {
    const { shards, assigner } = splitLeases(records);
    this.#remember(shards, assigner, whole);
    const me = this.#o.instanceId;
    const now = this.#clock.now();
    for (const { shardId, record, data } of shards) {
      const held = this.#held.get(shardId);
      const awaited = this.#awaiting.get(shardId);
      if (record.owner !== me) {
        if (held !== undefined && held.leaving === undefined && record.fence >= held.lease.fence)
          this.#drop(held, 'taken-over');
        if (record.pendingOwner === me && record.owner !== undefined && !this.#stopping.signal.aborted) {
          if (record.handOffAcceptedFence !== record.fence)
            await this.#leases.acceptHandOff(record.key, record.fence, me).catch(() => false);
          if (awaited === undefined) this.#awaiting.set(shardId, { role: 'target', sinceMs: now });
        } else if (awaited !== undefined) this.#awaiting.delete(shardId);
        continue;
      }
      if (awaited?.role === 'target') this.#awaiting.delete(shardId);
      if (held !== undefined) {
        if (held.leaving !== undefined) continue;
        if (record.fence > held.lease.fence) {
          // Re-granted to us under a later fence (an adoption we lost track of): hold the newer grant.
          this.#drop(held, 'taken-over');
        } else {
          this.#answerHandOffRequest(held, record, now);
          continue;
        }
      }
      if (data.ended || this.#stopping.signal.aborted) continue;
      // Ours in the store but not held: a hand-off to us, a grant by the assigner, or a lease we gave up
      // locally. Adopting re-grants it under a new fence, so no older handle can write.
      const adopted = await this.#leases.adopt(record);
      if (adopted === undefined) continue;
      const to = record.pendingOwner;
      if (to !== undefined && to !== me) {
        // The assigner wants it elsewhere: pass it on without reading it (adopting cleared the request).
        if (await this.#leases.handOff(adopted, to)) {
          this.#emit({ type: 'handed-off', shardId, to, checkpoint: data.checkpoint });
          await this.#membership.mail([to]).catch(() => undefined);
        }
        continue;
      }
      this.#hold(adopted, 'adopted');
    }
    if (whole)
      for (const held of [...this.#held.values()])
        if (!shards.some((s) => s.shardId === held.lease.key.sk) && held.leaving === undefined)
          this.#drop(held, 'taken-over');
  }

  /** A hand-off request on a lease we hold: go once the new owner accepted (or waited long enough for it). */
  #answerHandOffRequest(held: HeldShard, record: LeaseRecord, now: number): void {
    const shardId = held.lease.key.sk;
    const to = record.pendingOwner;
    const awaited = this.#awaiting.get(shardId);
    if (to === undefined || to === this.#o.instanceId || record.fence !== held.lease.fence) {
      if (awaited !== undefined) this.#awaiting.delete(shardId);
      return;
    }
    const accepted = record.handOffAcceptedFence === record.fence;
    if (accepted || (awaited !== undefined && now - awaited.sinceMs >= this.#timings.acceptWaitMs)) {
      this.#awaiting.delete(shardId);
      this.#handOff(held, to, accepted);
    } else if (awaited === undefined) this.#awaiting.set(shardId, { role: 'owner', sinceMs: now });
  }

  #remember(shards: ShardLease[], assigner: LeaseRecord | undefined, whole: boolean): void {
    if (whole || this.#known === undefined) {
      this.#known = { shards, assigner };
      return;
    }
    const byId = new Map(this.#known.shards.map((s) => [s.shardId, s]));
    for (const s of shards) byId.set(s.shardId, s);
    this.#known = { shards: [...byId.values()], assigner: assigner ?? this.#known.assigner };
  }

  /**
   * Successor duty: every lease whose successor we are and whose owner we now judge dead (its counter still
   * for a lease duration on our clock, confirmed by the heartbeat we just wrote) is taken over at once, from
   * its checkpoint, with one write conditional on the owner's grant.
   */
  async #succeed(): Promise<void> {
    if (this.#stopping.signal.aborted || this.#known === undefined) return;
    const me = this.#o.instanceId;
    let took = false;
    for (const { shardId, record, data } of this.#known.shards) {
      const owner = record.owner;
      if (record.successor !== me || owner === undefined || owner === me || data.ended) continue;
      if (this.#held.has(shardId)) continue;
      const view = this.#membership.view(owner);
      if (view === undefined || view.alive) continue;
      const taken = await this.#leases.takeOverFromDeadOwner(record, {
        owner: me,
        leaseDurationMs: this.#timings.leaseDurationMs,
        renewal: 'heartbeat',
      });
      if (taken.lease !== undefined) {
        took = true;
        this.#emit({ type: 'assigned', shardId, to: me, how: 'take-over', from: owner });
        this.#hold(taken.lease, 'granted');
      } else if ('current' in taken && taken.current !== undefined)
        await this.#reconcile([taken.current], false);
    }
    // The assigner names new successors for what we took (and for what the dead worker was successor of).
    if (took) await this.#tellAssigner();
  }

  /**
   * Deputy duty: the assigner lease is taken over the moment its holder is judged dead (by the deputy it
   * named, or by any worker of its group once it has been dead for another lease duration); taken at once if
   * free, adopted if the store names us (handed to us by a leaving assigner).
   */
  async #deputize(): Promise<void> {
    if (this.#stopping.signal.aborted || this.isAssigner || this.#known === undefined) return;
    const me = this.#o.instanceId;
    const record = this.#known.assigner;
    const options = {
      owner: me,
      leaseDurationMs: this.#timings.leaseDurationMs,
      renewal: 'heartbeat' as const,
    };
    let lease: Lease | undefined;
    if (record?.owner === undefined)
      lease = await this.#leases.grantIfFree(assignerLeaseKey(this.#o.streamName), options);
    else if (record.owner === me) lease = await this.#leases.adopt(record);
    else {
      const view = this.#membership.view(record.owner);
      if (view === undefined || view.alive) return;
      const deputy = record.data.deputy === me;
      const ownGroup = view.group === Membership.groupOf(record.owner, this.#membership.groups);
      if (!deputy && !(ownGroup && view.verdict.silentForMs >= 2 * this.#timings.leaseDurationMs)) return;
      const taken = await this.#leases.takeOverFromDeadOwner(record, options);
      lease = taken.lease;
      if ('current' in taken && taken.current !== undefined) this.#remember([], taken.current, false);
    }
    if (lease === undefined) {
      // Someone else holds it now: read it again at the next look.
      this.#readNext = true;
      return;
    }
    this.#assignerLease = this.#heldUntilBeat(lease);
    this.#remember([], lease.record, false);
    this.#assigner.reset();
    this.#emit({ type: 'leader', term: lease.fence });
  }

  async #assignRound(): Promise<void> {
    const round = await this.#assigner.round();
    this.#assignerBusy = round.busy;
    if (round.deputyGroup !== this.#deputyGroup) {
      const previous = this.#deputyGroup;
      this.#deputyGroup = round.deputyGroup;
      if (previous !== undefined) await this.#membership.stopWritingInto(previous).catch(() => undefined);
    }
    for (const lease of round.grantedToSelf) this.#hold(lease, 'granted');
    if (round.records !== undefined) await this.#reconcile(round.records, true);
  }

  /** The assigner lease goes to the deputy (or is freed), once this worker's own leases are handed off. */
  async #resign(): Promise<void> {
    const lease = this.#assignerLease;
    if (lease === undefined) return;
    this.#assignerLease = undefined;
    const deputy = typeof lease.data.deputy === 'string' ? lease.data.deputy : undefined;
    const passed =
      deputy !== undefined &&
      this.#membership.view(deputy)?.alive === true &&
      (await this.#leases.handOff(lease, deputy).catch(() => false));
    if (passed) await this.#membership.mail([deputy]).catch(() => undefined);
    else await this.#leases.release(lease).catch(() => false);
    this.#emit({ type: 'follower', reason: 'stopping' });
  }

  /** While stopping: read the leases often, hand each off as asked, release what nobody asked for in time. */
  async #awaitHandOffs(): Promise<void> {
    const deadline = this.#clock.now() + this.#timings.leaveWaitMs;
    while (this.#held.size > 0 && this.#clock.now() < deadline && !this.#halted) {
      await this.#clock.sleep(this.#timings.fastPollMs);
      await this.#exclusive(async () => {
        try {
          await this.#reconcile(await this.#leases.list(this.#pk), true);
        } catch (error) {
          this.#emit({ type: 'error', message: `leaving: ${messageOf(error)}` });
        }
      });
    }
    if (this.#halted) return;
    const released = [...this.#held.values()].filter((held) => held.leaving === undefined).length;
    await Promise.all(
      [...this.#held.values()].map((held) => (held.leaving ??= this.#leave(held, 'stopping'))),
    );
    if (released > 0) await this.#tellAssigner();
  }

  /** Mails the assigner (as last read) that leases were freed: it places them at its next heartbeat. */
  async #tellAssigner(): Promise<void> {
    const assigner = this.#known?.assigner?.owner;
    if (assigner !== undefined && assigner !== this.#o.instanceId)
      await this.#membership.mail([assigner]).catch(() => undefined);
  }

  /**
   * Releases any lease granted to this worker that it does not hold (granted by an assigner round that read
   * the membership before it said it was leaving), so that nobody waits a lease duration for it.
   */
  async #releaseLateGrants(): Promise<void> {
    try {
      const { shards, assigner } = splitLeases(await this.#leases.list(this.#pk));
      this.#remember(shards, assigner, true);
      let released = 0;
      for (const { shardId, record, data } of shards) {
        if (record.owner !== this.#o.instanceId || this.#held.has(shardId)) continue;
        const adopted = await this.#leases.adopt(record);
        if (adopted !== undefined && (await this.#leases.release(adopted))) {
          released++;
          this.#emit({ type: 'released', shardId, reason: 'stopping', checkpoint: data.checkpoint });
        }
      }
      if (released > 0) await this.#tellAssigner();
    } catch (error) {
      this.#emit({ type: 'error', message: `releasing late grants: ${messageOf(error)}` });
    }
  }

  /** Reads the leases this worker waits on (a hand-off) every fast poll, until each is settled. */
  async #pollLoop(): Promise<void> {
    const signal = this.#finished.signal;
    while (!signal.aborted) {
      if (!(await this.#clock.sleep(this.#timings.fastPollMs, signal))) return;
      if (this.#awaiting.size === 0 || this.#stopping.signal.aborted) continue;
      await this.#exclusive(async () => {
        const records: LeaseRecord[] = [];
        for (const shardId of [...this.#awaiting.keys()]) {
          const record = await this.#leases
            .get(shardLeaseKey(this.#o.streamName, shardId))
            .catch(() => undefined);
          if (record === undefined) this.#awaiting.delete(shardId);
          else records.push(record);
        }
        await this.#reconcile(records, false).catch((error: Error) =>
          this.#emit({ type: 'error', message: `hand-off: ${error.message}` }),
        );
      });
    }
  }

  /** Stops using leases whose time ran out on this worker's clock (its heartbeats failed). */
  async #watchdogLoop(): Promise<void> {
    const signal = this.#finished.signal;
    while (!signal.aborted) {
      const now = this.#clock.now();
      let next = now + WATCHDOG_MAX_SLEEP_MS;
      for (const held of [...this.#held.values()]) {
        if (held.leaving !== undefined) continue;
        if (held.lease.isExpired(now)) this.#drop(held, 'expired');
        else next = Math.min(next, held.lease.validUntilMs);
      }
      if (this.#assignerLease?.isExpired(now)) {
        this.#assignerLease = undefined;
        this.#assigner.reset();
        this.#emit({ type: 'follower', reason: 'lost' });
      }
      if (!(await this.#clock.sleep(Math.max(1, next - now), signal))) return;
    }
  }

  #currentStrategy(): AssignmentStrategy {
    const leases = this.#o.config().leases;
    const strategy = this.#strategy;
    // A new strategy (config changed) starts with fresh damping state; the same one keeps it.
    if (strategy === undefined || strategy.name !== leases.assignment)
      this.#strategy = createStrategy(leases);
    return this.#strategy!;
  }

  /**
   * A grant as this worker may use it: valid a lease duration after its last accepted heartbeat, never after
   * the grant's own write. Observers judge heartbeat-renewed leases by the owner's counter alone.
   */
  #heldUntilBeat(lease: Lease): Lease {
    return new Lease(lease.record, this.#membership.lastBeatSentAtMs ?? Number.NEGATIVE_INFINITY);
  }

  #hold(granted: Lease, how: 'granted' | 'adopted'): void {
    const shardId = granted.key.sk;
    if (this.#held.has(shardId) || this.#stopping.signal.aborted) return;
    const held: HeldShard = {
      lease: this.#heldUntilBeat(granted),
      data: shardLeaseData(granted.data),
      abort: new AbortController(),
      uncheckpointed: 0,
      leaving: undefined,
    };
    this.#held.set(shardId, held);
    this.#awaiting.delete(shardId);
    this.#emit({ type: 'acquired', shardId, fence: granted.fence, how, startAfter: held.data.checkpoint });
    this.#o.processor.start({
      shardId,
      startAfter: held.data.checkpoint,
      signal: held.abort.signal,
      mayProcess: () => {
        if (held.abort.signal.aborted) return false;
        if (!held.lease.isExpired(this.#clock.now())) return true;
        this.#drop(held, 'expired');
        return false;
      },
      checkpoint: (progress) => this.#checkpoint(held, progress, false),
      end: async (progress) => {
        if (!(await this.#checkpoint(held, progress, true))) return false;
        held.leaving ??= this.#leave(held, 'ended').then(() =>
          this.#exclusive(() => this.#continueWithChildren(shardId)),
        );
        return true;
      },
    });
  }

  /** One fenced write of the checkpoint (and the shard's counters); false once the lease is lost. */
  async #checkpoint(held: HeldShard, progress: ShardCheckpoint, ended: boolean): Promise<boolean> {
    if (held.abort.signal.aborted) return false;
    if (held.lease.isExpired(this.#clock.now())) {
      this.#drop(held, 'expired');
      return false;
    }
    held.uncheckpointed += progress.records;
    const data = checkpointedData(held.data, {
      checkpoint: progress.sequenceNumber,
      records: held.uncheckpointed,
      lagMs: progress.millisBehindLatest,
      ended,
      wallMs: this.#clock.wallNow(),
    });
    try {
      const renewed = await this.#leases.renew(held.lease, data);
      if (renewed === undefined) {
        this.#drop(held, 'checkpoint-rejected');
        return false;
      }
      // A checkpoint does not extend the lease: only heartbeats do (observers judge the owner's counter alone).
      held.lease = new Lease(renewed.record, held.lease.renewedAtMs);
      held.data = shardLeaseData(renewed.data);
      held.uncheckpointed = 0;
      this.#emit({
        type: 'checkpointed',
        shardId: held.lease.key.sk,
        fence: renewed.fence,
        checkpoint: held.data.checkpoint,
        ended,
      });
      return true;
    } catch (error) {
      // The store did not answer: go on; the next checkpoint carries this one's progress, and the lease's
      // own time bounds how long we may go on without a successful heartbeat.
      this.#emit({
        type: 'error',
        message: `checkpoint of ${held.lease.key.sk}: ${messageOf(error)}`,
      });
      return !ended;
    }
  }

  /**
   * A parent read to its end: its owner goes on with the children that may start (every parent done) and that
   * nobody holds, creating their leases if the assigner has not yet, so that a reshard leaves no gap.
   */
  async #continueWithChildren(parentId: string): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    try {
      let { shards } = splitLeases(await this.#leases.list(this.#pk));
      const listed = await this.#o.listShards();
      const plan = planShards(listed, shards);
      const mine = plan.create.filter((c) => c.parents.includes(parentId));
      for (const { shardId, parents } of mine) {
        const created = await this.#leases.create(shardLeaseKey(this.#o.streamName, shardId), {
          leaseDurationMs: this.#timings.leaseDurationMs,
          renewal: 'heartbeat',
          data: newShardLeaseData(parents),
        });
        if (created) this.#emit({ type: 'lease-created', shardId, parents });
      }
      if (mine.length > 0) shards = splitLeases(await this.#leases.list(this.#pk)).shards;
      const assignable = planShards(listed, shards).assignable;
      for (const child of shards) {
        if (!child.data.parents.includes(parentId) || child.record.owner !== undefined) continue;
        if (!assignable.has(child.shardId)) continue;
        const lease = await this.#leases.grantIfFree(child.record.key, {
          owner: this.#o.instanceId,
          leaseDurationMs: this.#timings.leaseDurationMs,
          renewal: 'heartbeat',
        });
        if (lease !== undefined) this.#hold(lease, 'granted');
      }
      await this.#tellAssigner();
    } catch (error) {
      this.#emit({ type: 'error', message: `children of ${parentId}: ${messageOf(error)}` });
    }
  }

  /**
   * Graceful hand-off: finish the chunk in flight, checkpoint, and move ownership to `to` in one write. A new
   * owner that had not accepted yet is not watching the lease: it is mailed, so it looks at its next heartbeat.
   */
  #handOff(held: HeldShard, to: string, accepted: boolean): void {
    const shardId = held.lease.key.sk;
    held.leaving = (async () => {
      await this.#o.processor.stop(shardId);
      if (!held.abort.signal.aborted) {
        await this.#beforeLettingGo(shardId);
        const moved = await this.#leases.handOff(held.lease, to).catch(() => false);
        held.abort.abort('handed-off');
        if (moved) this.#emit({ type: 'handed-off', shardId, to, checkpoint: held.data.checkpoint });
        else this.#emit({ type: 'lost', shardId, reason: 'taken-over' });
        if (moved && !accepted) await this.#membership.mail([to]).catch(() => undefined);
      }
      if (this.#held.get(shardId) === held) this.#held.delete(shardId);
    })();
  }

  /** Stops reading a shard (finishing its chunk) and frees the lease, keeping its checkpoint. */
  async #leave(held: HeldShard, reason: 'ended' | 'stopping'): Promise<void> {
    const shardId = held.lease.key.sk;
    if (reason === 'stopping') await this.#o.processor.stop(shardId);
    if (!held.abort.signal.aborted) {
      if (reason === 'stopping') await this.#beforeLettingGo(shardId);
      const released = await this.#leases.release(held.lease).catch(() => false);
      held.abort.abort('released');
      this.#emit(
        released
          ? { type: 'released', shardId, reason, checkpoint: held.data.checkpoint }
          : { type: 'lost', shardId, reason: 'taken-over' },
      );
    }
    if (this.#held.get(shardId) === held) this.#held.delete(shardId);
  }

  /** The lease is gone: stop reading at once and write nothing more for it. */
  #drop(held: HeldShard, reason: 'taken-over' | 'expired' | 'checkpoint-rejected'): void {
    const shardId = held.lease.key.sk;
    if (this.#held.get(shardId) === held) this.#held.delete(shardId);
    if (held.abort.signal.aborted) return;
    held.abort.abort(reason);
    this.#emit({ type: 'lost', shardId, reason });
  }

  async #beforeLettingGo(shardId: string): Promise<void> {
    try {
      await this.#o.beforeLettingGo?.(shardId);
    } catch (error) {
      this.#emit({ type: 'error', message: `before letting ${shardId} go: ${messageOf(error)}` });
    }
  }

  #emit(event: WorkerEvent): void {
    this.#o.onEvent?.(event);
  }
}

export type { ShardProcessor, WorkerOptions };
export { Worker };
