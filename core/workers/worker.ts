import type { Config } from '../config/schema.js';
import {
  type Clock,
  type CoordinationStore,
  CoordinationStoreError,
  type HotKey,
  type InstanceLoad,
  InstanceRegistry,
  type Lease,
  LeaseClient,
  LeaseKeeper,
  type LeaseRecord,
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
import {
  assignerLeaseKey,
  checkpointedData,
  type ShardLeaseData,
  shardLeaseData,
  splitLeases,
} from './shard-lease.js';
import { type WorkerTimings, workerTimings } from './timings.js';

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
  /** The configuration in force: `instances` (timings, read once), `leases` (strategy, read every round), `version`. */
  readonly config: () => Config;
  /**
   * What the worker reports as its config version in heartbeats: `<version>@<applied at>` lets `cdcp config
   * status` tell how long a version took to reach every instance. @default the config's bare version
   */
  readonly reportedConfigVersion?: () => string;
  readonly timings?: Partial<WorkerTimings>;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Lag and other figures for the heartbeat's load, besides what the worker measures itself. */
  readonly lagMs?: () => number | undefined;
  /** The hot partition keys counted since the previous heartbeat (`ConsumerLoadTracker.drainHotKeys`). */
  readonly hotKeys?: () => readonly HotKey[];
  /** The latencies of the changes applied since the previous heartbeat (`LatencyRecorder.drain`). */
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

const WATCHDOG_MAX_SLEEP_MS = 1_000;

/**
 * One worker instance: registers in the instance registry with its load, renews every shard lease it holds
 * through its one instance heartbeat, reads its shards with the event source mapping, checkpoints under each
 * lease's fence, hands leases off gracefully when the assigner asks, and campaigns for the assigner lease.
 *
 * - **Ownership**: one lease per shard (docs/architecture.md §5) with owner, fence, checkpoint, parents and an
 *   ended flag. A checkpoint is a fenced write: after a take-over it fails and the worker stops that shard.
 * - **Failure detection**: observers judge a lease expired when its owner's heartbeat counter and the lease
 *   record have not moved for the lease duration on their own clock; the holder stops using a lease
 *   `leaseDurationMs` after its last successful heartbeat was sent, which is before any observer may take it.
 * - **No leader needed to keep going**: renewal is the heartbeat; the assigner only places orphans and moves.
 *
 * @example
 * ```ts
 * const worker = new Worker({ instanceId, streamName, store, processor: mapping, listShards, config: () => config });
 * await worker.start();
 * await worker.stop(); // finishes batches in flight, checkpoints, releases its leases, deregisters
 * ```
 */
class Worker {
  readonly #o: WorkerOptions;
  readonly #clock: Clock;
  readonly #timings: WorkerTimings;
  readonly #leases: LeaseClient;
  readonly #registry: InstanceRegistry;
  readonly #assigner: Assigner;
  readonly #meter: LoadMeter;
  readonly #held = new Map<string, HeldShard>();
  /** Aborted when the worker starts leaving: no more rounds, grants, adoptions or campaigns. */
  readonly #stopping = new AbortController();
  /** Aborted once every lease is let go (or at once by `halt`): heartbeats and the watchdog end. */
  readonly #finished = new AbortController();
  readonly #pk: string;
  #keeper: LeaseKeeper | undefined;
  #strategy: AssignmentStrategy | undefined;
  #loops: Promise<void>[] = [];
  #ticking: Promise<void> = Promise.resolve();
  #wakeTick: (() => void) | undefined;
  #fastPolls = 0;
  /** Each lease's record version as last read, and since when (this worker's clock): see {@link #stalled}. */
  readonly #versions = new Map<string, { version: string; sinceMs: number }>();
  #nextRoundInMs: number | undefined;
  /** When the last registration or heartbeat the store accepted was sent (this worker's clock). */
  #lastBeatAtMs: number | undefined;
  #started = false;
  #halted = false;

  public constructor(options: WorkerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#timings = workerTimings(options.config().instances, options.timings);
    this.#pk = shardLeaseKey(options.streamName, '-').pk;
    this.#leases = new LeaseClient({ store: options.store, clock: this.#clock });
    this.#registry = new InstanceRegistry({
      store: options.store,
      clock: this.#clock,
      failureDetectionMs: this.#timings.leaseDurationMs,
      heartbeatIntervalMs: this.#timings.heartbeatIntervalMs,
      ttlMs: Math.max(6 * 3_600_000, 10 * this.#timings.leaseDurationMs),
    });
    this.#meter = new LoadMeter({ now: () => this.#clock.now() });
    this.#assigner = new Assigner({
      self: options.instanceId,
      streamName: options.streamName,
      leases: this.#leases,
      registry: this.#registry,
      clock: this.#clock,
      timings: this.#timings,
      listShards: options.listShards,
      deleteLease: options.deleteLease,
      strategy: () => this.#currentStrategy(),
      rebalanceIntervalMs: () => options.config().leases.rebalanceIntervalMs,
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

  /** True while this worker holds the assigner lease. */
  public get isAssigner(): boolean {
    return this.#keeper?.isHeld === true;
  }

  /**
   * When the last registration or heartbeat the store accepted was sent, on this worker's clock; undefined
   * before the first. Every lease this worker holds runs out a lease duration after it.
   */
  public get lastHeartbeatAtMs(): number | undefined {
    return this.#lastBeatAtMs;
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

  /** Registers (retrying until the store answers or the worker is stopped) and starts its loops. */
  public async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#register();
    if (this.#stopping.signal.aborted) return;
    this.#loops = [this.#heartbeatLoop(), this.#watchdogLoop()];
    this.#ticking = this.#tickLoop();
  }

  /**
   * Leaves gracefully, heartbeating all along so that no lease runs out meanwhile: says it is leaving (the
   * assigner then gives it nothing more), gives up the assigner lease at once (a successor takes it while this
   * worker drains), finishes the batches in flight, checkpoints and releases every shard lease (the assigner
   * gives each to a live worker at its next round), then deregisters.
   */
  public async stop(): Promise<void> {
    if (this.#stopping.signal.aborted || this.#halted) return;
    this.#stopping.abort();
    this.#wakeTick?.();
    await this.#ticking;
    if (this.#loops.length > 0) {
      await this.#beat();
      await this.#resign();
      await Promise.all(
        [...this.#held.values()].map((held) => (held.leaving ??= this.#leave(held, 'stopping'))),
      );
      await this.#releaseLateGrants();
    }
    this.#finished.abort();
    await Promise.all(this.#loops);
    if (this.#started) await this.#registry.deregister(this.#o.instanceId).catch(() => undefined);
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
    this.#wakeTick?.();
    for (const held of [...this.#held.values()]) {
      held.abort.abort('halted');
      this.#held.delete(held.lease.key.sk);
    }
    await this.#keeper?.stop('finished');
    await Promise.all([...this.#loops, this.#ticking]);
  }

  /** Counts processed records for the load figures (the mapping's invocation hook calls it). */
  public recordsProcessed(records: number): void {
    this.#meter.add(records);
  }

  async #register(): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt++) {
      try {
        const sentAtMs = this.#clock.now();
        const registered = await this.#registry.register({
          instanceId: this.#o.instanceId,
          kind: 'worker',
          configVersion: this.#o.reportedConfigVersion?.() ?? this.#o.config().version,
          load: this.#meter.load(),
        });
        if (!registered)
          throw new Error(
            `instance id ${this.#o.instanceId} is registered by another process; give each worker its own id`,
          );
        this.#lastBeatAtMs = sentAtMs;
        this.#emit({ type: 'registered' });
        return;
      } catch (error) {
        if (!(error instanceof CoordinationStoreError && error.retryable)) throw error;
        await this.#clock.sleep(Math.min(2_000, 100 * 2 ** attempt), this.#stopping.signal);
      }
    }
  }

  async #heartbeatLoop(): Promise<void> {
    const signal = this.#finished.signal;
    while (!signal.aborted) {
      // Only the assigner judges shard leases, and never its own: until its assigner lease goes silent, nobody
      // watches its heartbeat counter, so while it assigns it beats at its renewal pace (at most half a lease,
      // as any heartbeat) and spends one write fewer per lease duration. A successor starts watching only once
      // the renewals stop, so this changes no take-over time.
      const intervalMs = this.isAssigner
        ? Math.max(
            this.#timings.heartbeatIntervalMs,
            Math.min(this.#timings.assignerRenewMs, this.#timings.leaseDurationMs / 2),
          )
        : this.#timings.heartbeatIntervalMs;
      if (!(await this.#clock.sleep(intervalMs, signal))) return;
      await this.#beat();
    }
  }

  /** One heartbeat: renews every lease held; while stopping it also says the worker is leaving. */
  async #beat(): Promise<void> {
    const sentAtMs = this.#clock.now();
    try {
      const record = await this.#registry.heartbeat(this.#o.instanceId, {
        load: this.#meter.load({
          lagMs: this.#o.lagMs?.(),
          inFlightBatches: this.#o.processor.inFlight,
          ...this.#o.latency?.(),
          ...(this.#stopping.signal.aborted ? { leaving: true } : {}),
        }),
        configVersion: this.#o.reportedConfigVersion?.() ?? this.#o.config().version,
        hotKeys: this.#o.hotKeys?.(),
      });
      if (record === undefined) {
        // Presumed dead and removed: every lease we held may be someone else's by now.
        for (const held of [...this.#held.values()]) this.#drop(held, 'not-registered');
        await this.#register();
        return;
      }
      this.#lastBeatAtMs = sentAtMs;
      for (const held of this.#held.values()) held.lease = held.lease.extendedByHeartbeat(sentAtMs);
    } catch (error) {
      this.#emit({ type: 'error', message: `heartbeat: ${messageOf(error)}` });
    }
  }

  /** Gives up the assigner lease, if held, so that another worker takes it at its next look. */
  async #resign(): Promise<void> {
    const keeper = this.#keeper;
    if (keeper === undefined) return;
    this.#keeper = undefined;
    await keeper.stop();
    if (keeper.isHeld) await this.#leases.release(keeper.lease).catch(() => false);
    this.#emit({ type: 'follower', reason: 'stopping' });
  }

  /**
   * Releases any lease granted to this worker by an assigner round that read the registry before it said it
   * was leaving: otherwise that lease would wait a lease duration after the deregistration to be taken over.
   */
  async #releaseLateGrants(): Promise<void> {
    try {
      const { shards } = splitLeases(await this.#leases.list(this.#pk));
      for (const { shardId, record, data } of shards) {
        if (record.owner !== this.#o.instanceId || this.#held.has(shardId)) continue;
        const adopted = await this.#leases.adopt(record);
        if (adopted !== undefined && (await this.#leases.release(adopted)))
          this.#emit({ type: 'released', shardId, reason: 'stopping', checkpoint: data.checkpoint });
      }
    } catch (error) {
      this.#emit({ type: 'error', message: `releasing late grants: ${messageOf(error)}` });
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
      if (!(await this.#clock.sleep(Math.max(1, next - now), signal))) return;
    }
  }

  async #tickLoop(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      try {
        await this.#tick();
      } catch (error) {
        this.#emit({ type: 'error', message: `lease round: ${messageOf(error)}` });
      }
      const wait = this.isAssigner
        ? (this.#nextRoundInMs ?? this.#timings.leaderPollMs)
        : this.#fastPolls > 0
          ? this.#timings.fastPollMs
          : this.#timings.followerPollMs;
      if (this.#fastPolls > 0) this.#fastPolls--;
      await new Promise<void>((resolve) => {
        this.#wakeTick = resolve;
        void this.#clock.sleep(wait, signal).then(() => resolve());
      });
    }
  }

  async #tick(): Promise<void> {
    if (this.isAssigner) {
      const round = await this.#assigner.round();
      this.#nextRoundInMs = round.nextInMs;
      for (const lease of round.grantedToSelf) this.#hold(lease, 'granted');
      if (round.records !== undefined) await this.#reconcile(round.records);
      return;
    }
    const records = await this.#leases.list(this.#pk);
    await this.#reconcile(records);
    const { shards, assigner } = splitLeases(records);
    if (
      assigner?.owner !== undefined &&
      assigner.owner !== this.#o.instanceId &&
      this.#leases.judge(assigner).silentForMs >= 1.25 * this.#timings.assignerRenewMs
    )
      await this.#watchOwners(shards);
    if (await this.#campaign(assigner)) await this.#tick();
  }

  /**
   * The assigner has missed a renewal: start judging every shard lease against the instances' heartbeat
   * counters now, so that if this worker becomes the assigner, the dead assigner's own shard leases expire
   * about half a lease duration after its leadership does, rather than a whole one (followers do not read
   * the instance list otherwise: it would double their coordination reads at rest).
   */
  async #watchOwners(shards: readonly { readonly record: LeaseRecord }[]): Promise<void> {
    await this.#registry.list();
    for (const { record } of shards)
      if (record.owner !== undefined)
        this.#leases.judge(record, (owner) => this.#registry.heartbeatOf(owner));
  }

  /** Brings what this worker holds in line with the store: adopt, notice losses, answer hand-off requests. */
  async #reconcile(records: readonly LeaseRecord[]): Promise<void> {
    const { shards } = splitLeases(records);
    const me = this.#o.instanceId;
    const seen = new Set<string>();
    let expecting = false;
    for (const { shardId, record, data } of shards) {
      seen.add(shardId);
      const held = this.#held.get(shardId);
      if (record.pendingOwner === me && record.owner !== me) expecting = true;
      if (record.owner !== me) {
        if (held !== undefined && held.leaving === undefined && record.fence >= held.lease.fence)
          this.#drop(held, 'taken-over');
        continue;
      }
      if (held !== undefined) {
        if (held.leaving !== undefined) continue;
        if (record.fence > held.lease.fence) {
          // Re-granted to us under a later fence (an adoption we lost track of): hold the newer grant.
          this.#drop(held, 'taken-over');
        } else {
          const to = record.pendingOwner;
          if (to !== undefined && to !== me && record.fence === held.lease.fence) this.#handOff(held, to);
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
        if (await this.#leases.handOff(adopted, to))
          this.#emit({ type: 'handed-off', shardId, to, checkpoint: data.checkpoint });
        continue;
      }
      this.#hold(adopted, 'adopted');
    }
    for (const held of [...this.#held.values()])
      if (!seen.has(held.lease.key.sk) && held.leaving === undefined) this.#drop(held, 'taken-over');
    // A hand-off to us was requested, or (while we hold nothing) leases wait for an owner, or an owner seems
    // to have died: the assigner is about to give us something, so look more often until it has.
    if (!expecting && this.#held.size === 0)
      expecting = shards.some((s) => s.record.owner === undefined && !s.data.ended) || shards.length === 0;
    if (this.#stalled(shards)) expecting = true;
    if (expecting) this.#fastPolls = Math.max(this.#fastPolls, 8);
  }

  /**
   * True while another worker's lease has stopped changing for between half a lease duration and a little
   * over one while other leases keep changing (checkpoints under load): its owner has probably died, and the
   * assigner will hand the lease to someone — perhaps us — within moments. Reading more often then cuts the
   * new owner's delay from a follower poll to a fast poll, and costs nothing at rest (nothing changes then)
   * or for an idle shard beyond one short burst (a version counts once).
   */
  #stalled(shards: readonly { readonly shardId: string; readonly record: LeaseRecord }[]): boolean {
    const now = this.#clock.now();
    const lease = this.#timings.leaseDurationMs;
    let busy = false;
    let stalled = false;
    for (const { shardId, record } of shards) {
      const seen = this.#versions.get(shardId);
      if (seen === undefined || seen.version !== record.version) {
        this.#versions.set(shardId, { version: record.version, sinceMs: now });
        if (seen !== undefined) busy = true;
        continue;
      }
      const still = now - seen.sinceMs;
      if (record.owner !== undefined && record.owner !== this.#o.instanceId && still >= lease / 2)
        stalled ||= still <= lease + 2 * this.#timings.leaderPollMs;
    }
    const present = new Set(shards.map((s) => s.shardId));
    for (const id of [...this.#versions.keys()]) if (!present.has(id)) this.#versions.delete(id);
    return busy && stalled;
  }

  /** Keeps, takes or takes over the assigner lease; true when this worker just became the assigner. */
  async #campaign(record: LeaseRecord | undefined): Promise<boolean> {
    if (this.#stopping.signal.aborted || this.isAssigner) return false;
    if (this.#keeper !== undefined) {
      this.#keeper = undefined;
      this.#assigner.reset();
      this.#emit({ type: 'follower', reason: 'lost' });
    }
    const me = this.#o.instanceId;
    const options = { owner: me, leaseDurationMs: this.#timings.leaseDurationMs, renewal: 'record' as const };
    let lease: Lease | undefined;
    if (record === undefined || record.owner === undefined)
      lease = (await this.#leases.tryAcquire(assignerLeaseKey(this.#o.streamName), options)).lease;
    else if (record.owner === me) lease = await this.#leases.adopt(record);
    else if (this.#leases.judge(record).expired) lease = await this.#leases.takeOver(record, options);
    if (lease === undefined) return false;
    const keeper = new LeaseKeeper({
      client: this.#leases,
      lease,
      clock: this.#clock,
      heartbeatPeriodMs: this.#timings.assignerRenewMs,
    });
    keeper.start();
    this.#keeper = keeper;
    this.#assigner.reset();
    this.#emit({ type: 'leader', term: lease.fence });
    return true;
  }

  #currentStrategy(): AssignmentStrategy {
    const leases = this.#o.config().leases;
    const strategy = this.#strategy;
    // A new strategy (config changed) starts with fresh damping state; the same one keeps it.
    if (strategy === undefined || strategy.name !== leases.assignment)
      this.#strategy = createStrategy(leases);
    return this.#strategy!;
  }

  #hold(lease: Lease, how: 'granted' | 'adopted'): void {
    const shardId = lease.key.sk;
    if (this.#held.has(shardId) || this.#stopping.signal.aborted) return;
    const held: HeldShard = {
      lease,
      data: shardLeaseData(lease.data),
      abort: new AbortController(),
      uncheckpointed: 0,
      leaving: undefined,
    };
    this.#held.set(shardId, held);
    this.#emit({ type: 'acquired', shardId, fence: lease.fence, how, startAfter: held.data.checkpoint });
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
        held.leaving ??= this.#leave(held, 'ended');
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
      // A heartbeat may have extended the lease while the write was in flight: keep the later of the two.
      held.lease = renewed.extendedByHeartbeat(held.lease.renewedAtMs);
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

  /** Graceful hand-off: finish the chunk in flight, checkpoint, and move ownership to `to` in one write. */
  #handOff(held: HeldShard, to: string): void {
    const shardId = held.lease.key.sk;
    held.leaving = (async () => {
      await this.#o.processor.stop(shardId);
      if (!held.abort.signal.aborted) {
        await this.#beforeLettingGo(shardId);
        const moved = await this.#leases.handOff(held.lease, to).catch(() => false);
        held.abort.abort('handed-off');
        if (moved) this.#emit({ type: 'handed-off', shardId, to, checkpoint: held.data.checkpoint });
        else this.#emit({ type: 'lost', shardId, reason: 'taken-over' });
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
  #drop(held: HeldShard, reason: 'taken-over' | 'expired' | 'checkpoint-rejected' | 'not-registered'): void {
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
