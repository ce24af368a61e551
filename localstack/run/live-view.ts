import type { CoordinationStore, InstanceRecord } from '../../core/coordination/index.js';
import { shardLeaseKey } from '../../core/coordination/index.js';
import type { LatencySummary } from '../../core/processing/latency.js';
import type { AuditLog } from '../../core/scaling/audit-log.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import { type ShardLease, splitLeases } from '../../core/workers/shard-lease.js';
import type { ResourceNames } from '../provision.js';
import type { WorkerGroup } from './worker-group.js';

/** One point of the live charts: the figures of the second before `atWallMs`. */
interface LiveSample {
  readonly atWallMs: number;
  readonly inPerSecond: number;
  readonly appliedPerSecond: number;
  /** Latencies of the changes applied since the previous sample; absent when none was. */
  readonly sourceToAppliedMs?: LatencySummary;
  readonly arrivalToAppliedMs?: LatencySummary;
  /** Changes parked now (parked, less those that applied later) and aggregates quarantined so far. */
  readonly parked: number;
  readonly quarantined: number;
  /** Each shard's arrival lag as its reader last saw it, by shard id. */
  readonly lagMsByShard: Readonly<Record<string, number>>;
}

/** A shard lease as the page shows it. */
interface LiveShard {
  readonly shardId: string;
  readonly owner: string | undefined;
  readonly fence: number;
  readonly lagMs: number | undefined;
  readonly records: number;
  readonly state: 'reading' | 'free' | 'ended' | 'handing off';
}

/** A worker of the run, with what its registry item says (config version, heartbeat latency). */
interface LiveWorker {
  readonly id: string;
  readonly state: string;
  readonly pid: number;
  readonly leases: readonly string[];
  readonly eventsPerSecond: number;
  readonly assigner: boolean;
  readonly configVersion: string | undefined;
  readonly sourceToAppliedMs: LatencySummary | undefined;
}

/** A lease that changed owner, as the page lists it. */
interface LeaseMove {
  readonly atWallMs: number;
  readonly shardId: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** grant, take-over or hand-off (the assigner's word for it), else `moved`. */
  readonly how: string;
}

/** A cluster-manager decision, summed up. */
interface LiveDecision {
  readonly atWallMs: number;
  readonly term: number;
  readonly acting: boolean;
  readonly actions: readonly string[];
  readonly reasons: readonly string[];
  readonly outcomes: readonly string[];
}

/** What `GET /dashboard` answers: everything the page draws. */
interface LiveSnapshot {
  readonly stream: string;
  readonly startedAtWallMs: number;
  readonly produced: number;
  readonly applied: number;
  readonly parked: number;
  readonly quarantined: number;
  /** Over every change applied in the run. */
  readonly sourceToAppliedMs: LatencySummary | undefined;
  readonly arrivalToAppliedMs: LatencySummary | undefined;
  readonly samples: readonly LiveSample[];
  readonly shards: readonly LiveShard[];
  readonly workers: readonly LiveWorker[];
  /** Registered instances (a worker's config version and heartbeat), for instances the run did not start. */
  readonly instances: readonly { readonly id: string; readonly configVersion: string | undefined }[];
  readonly moves: readonly LeaseMove[];
  readonly decisions: readonly LiveDecision[];
}

/** What the live view reads of a running pipeline. */
interface LiveSources {
  /** The run's coordination table: shard leases and instances. */
  readonly store: Pick<CoordinationStore, 'listLeases' | 'listInstances'>;
  /** The cluster manager's decisions (the same table). */
  readonly auditLog: Pick<AuditLog, 'list'>;
  readonly names: Pick<ResourceNames, 'streamName'>;
  readonly workers: Pick<WorkerGroup, 'rows' | 'totals' | 'latency' | 'drainRecentLatency'>;
  produced(): number;
}

interface LiveViewOptions {
  /** How often a sample is taken. @default 1_000 */
  readonly intervalMs?: number;
  /** Samples kept (the charts' width). @default 300 */
  readonly keep?: number;
  /** Moves and decisions kept. @default 30 */
  readonly keepEvents?: number;
}

/**
 * The data of the live dashboard `npm start` serves: every second it takes the run's figures (events in and
 * applied, recent latency, parked and quarantined counts) and reads the coordination table (shard leases with
 * their lag, instances with their config version, the cluster manager's decisions), and it notes every lease
 * that changes owner, named by the assigner's word when a worker told it (take-over, hand-off, grant).
 *
 * @example
 * ```ts
 * const live = new LiveView();
 * live.attach({ dynamodb, names, workers, produced: () => production.produced });
 * const snapshot = live.snapshot();
 * ```
 */
class LiveView {
  readonly #intervalMs: number;
  readonly #keep: number;
  readonly #keepEvents: number;
  readonly #startedAtWallMs = Date.now();
  readonly #samples: LiveSample[] = [];
  readonly #moves: LeaseMove[] = [];
  /** The assigner's last word on each shard: how its next owner change happened. */
  readonly #assigned = new Map<string, { how: string; to: string }>();
  /** Each shard's last owner seen (a freed lease keeps its last owner here until it is taken). */
  readonly #lastOwner = new Map<string, string>();
  #sources: LiveSources | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last: { atWallMs: number; produced: number; applied: number } | undefined;
  #shards: LiveShard[] = [];
  #instances: InstanceRecord[] = [];
  #decisions: LiveDecision[] = [];
  #sampling = false;
  #samplesTaken = 0;

  public constructor(options: LiveViewOptions = {}) {
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#keep = options.keep ?? 300;
    this.#keepEvents = options.keepEvents ?? 30;
  }

  /** Starts sampling a running pipeline every `intervalMs`. */
  public attach(sources: LiveSources): void {
    this.#sources = sources;
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  public stop(): void {
    clearInterval(this.#timer);
  }

  /** A worker's event: the assigner's `assigned` names how a lease is about to move. */
  public event(_workerId: string, event: WorkerEvent): void {
    if (event.type === 'assigned') this.#assigned.set(event.shardId, { how: event.how, to: event.to });
  }

  public snapshot(): LiveSnapshot | undefined {
    const sources = this.#sources;
    if (sources === undefined) return undefined;
    const totals = sources.workers.totals();
    const latency = sources.workers.latency().load();
    const byId = new Map(this.#instances.map((i) => [i.instanceId, i]));
    return {
      stream: sources.names.streamName,
      startedAtWallMs: this.#startedAtWallMs,
      produced: sources.produced(),
      applied: totals.applied,
      parked: totals.parked - totals.unparked,
      quarantined: totals.quarantined,
      sourceToAppliedMs: latency.sourceToAppliedMs,
      arrivalToAppliedMs: latency.arrivalToAppliedMs,
      samples: this.#samples,
      shards: this.#shards,
      workers: sources.workers.rows().map((row) => ({
        id: row.id,
        state: row.state,
        pid: row.pid,
        leases: this.#shards.filter((s) => s.owner === row.id).map((s) => s.shardId),
        eventsPerSecond: row.eventsPerSecond,
        assigner: row.assigner,
        configVersion: byId.get(row.id)?.configVersion,
        sourceToAppliedMs: byId.get(row.id)?.load.sourceToAppliedMs,
      })),
      instances: this.#instances.map((i) => ({ id: i.instanceId, configVersion: i.configVersion })),
      moves: this.#moves,
      decisions: this.#decisions,
    };
  }

  /**
   * Takes one sample now (the timer calls it; tests too). A round that fails (the engines stopping at the end
   * of a run) leaves the last one standing; a round while one is running is skipped.
   */
  public async sample(): Promise<void> {
    if (this.#sampling || this.#sources === undefined) return;
    this.#sampling = true;
    try {
      await this.#readCoordination();
      this.#record();
    } catch {
      // The next round tries again.
    } finally {
      this.#sampling = false;
    }
  }

  /** Shard leases and instances every round; the cluster manager's decisions every fifth. */
  async #readCoordination(): Promise<void> {
    const { store, auditLog, names } = this.#sources!;
    const { streamName } = names;
    const [records, instances] = await Promise.all([
      store.listLeases(shardLeaseKey(streamName, '-').pk),
      store.listInstances(),
    ]);
    const lagOf = new Map<string, number>();
    for (const row of this.#sources!.workers.rows())
      for (const [shardId, lag] of Object.entries(row.shardLagMs ?? {})) lagOf.set(shardId, lag);
    const shards = splitLeases(records).shards.map((lease) => liveShard(lease, lagOf.get(lease.shardId)));
    this.#noteMoves(shards);
    this.#shards = shards.sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
    this.#instances = instances;
    if (this.#samplesTaken++ % 5 === 0)
      this.#decisions = (await auditLog.list({ limit: 10 })).map((d) => ({
        atWallMs: d.atWallMs,
        term: d.term,
        acting: d.acting,
        actions: d.plan?.actions.map((a) => a.kind) ?? [],
        reasons: d.plan?.reasons ?? [],
        outcomes: (d.outcomes ?? []).map((o) => `${o.action.kind} ${o.status}: ${o.detail}`),
      }));
  }

  /**
   * Notes every lease whose owner is not the last one seen. A lease freed on its way to another owner is not a
   * move yet: the move is when it is taken, from its last owner. A shard's first owner is no move.
   */
  #noteMoves(shards: readonly LiveShard[]): void {
    for (const shard of shards) {
      if (shard.owner === undefined) continue;
      const from = this.#lastOwner.get(shard.shardId);
      this.#lastOwner.set(shard.shardId, shard.owner);
      if (from === undefined || from === shard.owner) continue;
      const assigned = this.#assigned.get(shard.shardId);
      const how = assigned !== undefined && assigned.to === shard.owner ? assigned.how : 'moved';
      this.#moves.unshift({ atWallMs: Date.now(), shardId: shard.shardId, from, to: shard.owner, how });
    }
    this.#moves.splice(this.#keepEvents);
  }

  #record(): void {
    const sources = this.#sources!;
    const now = Date.now();
    const produced = sources.produced();
    const totals = sources.workers.totals();
    const recent = sources.workers.drainRecentLatency().load();
    const last = this.#last ?? { atWallMs: this.#startedAtWallMs, produced: 0, applied: 0 };
    const seconds = Math.max(0.001, (now - last.atWallMs) / 1000);
    const lagMsByShard: Record<string, number> = {};
    for (const s of this.#shards)
      if (s.state !== 'ended' && s.lagMs !== undefined) lagMsByShard[s.shardId] = s.lagMs;
    this.#samples.push({
      atWallMs: now,
      inPerSecond: Math.max(0, Math.round((produced - last.produced) / seconds)),
      appliedPerSecond: Math.max(0, Math.round((totals.applied - last.applied) / seconds)),
      ...recent,
      parked: totals.parked - totals.unparked,
      quarantined: totals.quarantined,
      lagMsByShard,
    });
    this.#samples.splice(0, Math.max(0, this.#samples.length - this.#keep));
    this.#last = { atWallMs: now, produced, applied: totals.applied };
  }
}

/** A lease as the page shows it, with its reader's arrival lag (else the lag at its last checkpoint). */
function liveShard(lease: ShardLease, readerLagMs: number | undefined): LiveShard {
  const { record, data } = lease;
  const state = data.ended
    ? 'ended'
    : record.owner === undefined
      ? 'free'
      : record.pendingOwner !== undefined && record.pendingOwner !== record.owner
        ? 'handing off'
        : 'reading';
  return {
    shardId: lease.shardId,
    owner: record.owner,
    fence: record.fence,
    lagMs: readerLagMs ?? data.lagMs,
    records: data.records,
    state,
  };
}

export type { LeaseMove, LiveDecision, LiveSample, LiveShard, LiveSnapshot, LiveSources, LiveWorker };
export { LiveView };
