import { type ConfigInput, parseConfig } from '../../../core/config/schema.js';
import {
  type Clock,
  type CoordinationStore,
  type HotKey,
  InMemoryCoordinationStore,
  LeaseClient,
  type LeaseRecord,
  ManualClock,
  Membership,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import type { ShardOwnership } from '../../../core/esm/event-source-mapping.js';
import type { StreamShard } from '../../../core/esm/shards.js';
import type { WorkerEvent } from '../../../core/workers/events.js';
import { splitLeases } from '../../../core/workers/shard-lease.js';
import { type ShardProcessor, Worker } from '../../../core/workers/worker.js';
import { eventually } from '../../helpers/eventually.js';

const STREAM = 'orders';
/** The default `leases.failureDetectionMs`: what a deployed fleet runs with. */
const LEASE_MS = 4_500;

/**
 * A worker's view of the shared store that counts its requests by operation: the coordination cost one worker
 * would pay to DynamoDB (every store call is one request; the in-memory store stands in for the table).
 */
function countingStore(store: CoordinationStore): { store: CoordinationStore; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.set(String(property), (counts.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, counts };
}

/** Stands in for the event source mapping: remembers what it was told, checkpoints when the test says. */
class FakeProcessor implements ShardProcessor {
  readonly running = new Map<string, ShardOwnership>();
  readonly log: string[] = [];
  #sequence = 0;
  public inFlight = 0;
  /** While set, `stop` waits for it: a batch still running (never resolving: stuck on a dead connection). */
  public batchInFlight: Promise<void> | undefined;

  public start(ownership: ShardOwnership): void {
    this.running.set(ownership.shardId, ownership);
    this.log.push(`start ${ownership.shardId} after ${ownership.startAfter ?? 'TRIM_HORIZON'}`);
    ownership.signal.addEventListener('abort', () => {
      if (this.running.get(ownership.shardId) === ownership) this.running.delete(ownership.shardId);
    });
  }

  public async stop(shardId: string): Promise<void> {
    const ownership = this.running.get(shardId);
    if (ownership === undefined) return;
    await this.batchInFlight;
    // The chunk in flight finishes and is checkpointed before the shard is let go.
    const sequenceNumber = this.nextSequence();
    const ok = await ownership.checkpoint({ sequenceNumber, records: 1, millisBehindLatest: 0 });
    this.log.push(`stop ${shardId} at ${ok ? sequenceNumber : 'rejected'}`);
    this.running.delete(shardId);
  }

  /** A batch finished on `shardId`: checkpoint it as the mapping would. */
  public async batch(shardId: string): Promise<{ sequenceNumber: string; accepted: boolean }> {
    const ownership = this.running.get(shardId);
    if (ownership === undefined) throw new Error(`not reading ${shardId}`);
    const sequenceNumber = this.nextSequence();
    const accepted = await ownership.checkpoint({ sequenceNumber, records: 10, millisBehindLatest: 0 });
    return { sequenceNumber, accepted };
  }

  /** The shard is closed and read to its end. */
  public async end(shardId: string): Promise<boolean> {
    const ownership = this.running.get(shardId)!;
    const ok = await ownership.end({
      sequenceNumber: this.nextSequence(),
      records: 0,
      millisBehindLatest: 0,
    });
    this.running.delete(shardId);
    return ok;
  }

  public nextSequence(): string {
    return String(49_000_000 + ++this.#sequence).padStart(20, '0');
  }
}

interface TestWorker {
  readonly id: string;
  readonly worker: Worker;
  readonly processor: FakeProcessor;
  readonly events: WorkerEvent[];
  /** Requests this worker sent to the coordination table, by operation. */
  readonly requests: ReadonlyMap<string, number>;
}

/** A cluster of workers on one in-memory coordination table and one manual clock. */
class Cluster {
  readonly clock = new ManualClock();
  readonly store: CoordinationStore;
  readonly shards: StreamShard[];
  readonly deleted: string[] = [];
  readonly workers: TestWorker[] = [];
  readonly #config: ConfigInput;
  readonly #inMemory = new InMemoryCoordinationStore();
  /**
   * While true, every worker not stopping counts records processed at every step of {@link until}: the fleet is
   * busy (records flowing), and heartbeats go at the busy pace, as in the benchmark's kills under load.
   */
  public loaded = false;

  public constructor(options: { shards?: number; config?: ConfigInput; store?: CoordinationStore } = {}) {
    this.store = options.store ?? this.#inMemory;
    this.shards = Array.from({ length: options.shards ?? 4 }, (_, i) => shard(i));
    this.#config = {
      leases: { assignment: 'least-loaded', rebalanceIntervalMs: 5_000, failureDetectionMs: LEASE_MS },
      ...options.config,
    };
  }

  public async add(
    id: string,
    options: {
      clock?: Clock;
      store?: CoordinationStore;
      hotKeys?: () => readonly HotKey[];
      onEvent?: (event: WorkerEvent) => void;
      beforeLettingGo?: (shardId: string) => Promise<void>;
    } = {},
  ): Promise<TestWorker> {
    const processor = new FakeProcessor();
    const events: WorkerEvent[] = [];
    const config = parseConfig(this.#config);
    const { store, counts } = countingStore(options.store ?? this.store);
    const worker = new Worker({
      instanceId: id,
      streamName: STREAM,
      store,
      processor,
      listShards: async () => this.shards.map((s) => ({ ...s })),
      deleteLease: async (record) => {
        this.deleted.push(record.key.sk);
        return true;
      },
      config: () => config,
      clock: options.clock ?? this.clock,
      hotKeys: options.hotKeys,
      beforeLettingGo: options.beforeLettingGo,
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    });
    await worker.start();
    const member = { id, worker, processor, events, requests: counts };
    this.workers.push(member);
    return member;
  }

  /** Shard leases as stored, by shard id. */
  public async leases(): Promise<Map<string, LeaseRecord>> {
    const records = await new LeaseClient({ store: this.store, clock: this.clock }).list(
      shardLeaseKey(STREAM, '-').pk,
    );
    return new Map(splitLeases(records).shards.map((s) => [s.shardId, s.record]));
  }

  /** Owner of every shard lease. */
  public async owners(): Promise<Record<string, string | undefined>> {
    return Object.fromEntries([...(await this.leases())].map(([id, r]) => [id, r.owner]));
  }

  /** Advances the clock in small steps until `check` holds; fails after `limitMs` of clock time. */
  public async until(
    what: string,
    check: () => Promise<boolean> | boolean,
    limitMs = 60_000,
  ): Promise<number> {
    const start = this.clock.now();
    // A loaded fleet processes records at every step, so that its workers stay busy (busy heartbeats).
    const step = async () => {
      if (await check()) return true;
      if (this.loaded) for (const w of this.workers) if (!w.worker.stopping) w.worker.recordsProcessed(10);
      return false;
    };
    await eventually(what, step, { clock: this.clock, timeoutMs: limitMs, intervalMs: 100 });
    return this.clock.now() - start;
  }

  /**
   * Waits until every shard is read by exactly its owner, every lease whose owner has a live group-mate has a
   * successor other than its owner,
   * no hand-off is pending, and this has held for `quietMs`: the fleet is settled.
   */
  public async settled(quietMs = LEASE_MS, limitMs = 120_000): Promise<void> {
    let since: number | undefined;
    await this.until(
      'the fleet to settle',
      async () => {
        const leases = [...(await this.leases()).entries()];
        const live = this.workers.filter((w) => !w.worker.stopping);
        // A successor must see its owner's heartbeat: only an owner with a live group-mate can have one.
        const groups = parseConfig(this.#config).leases.membershipGroups;
        const guardable = (owner: string) =>
          live.some(
            (w) => w.id !== owner && Membership.groupOf(w.id, groups) === Membership.groupOf(owner, groups),
          );
        const ok =
          leases.length === this.shards.length &&
          leases.every(
            ([id, r]) =>
              r.owner !== undefined &&
              r.pendingOwner === undefined &&
              (!guardable(r.owner) || (r.successor !== undefined && r.successor !== r.owner)) &&
              live.find((w) => w.id === r.owner)?.processor.running.has(id) === true,
          );
        if (!ok) since = undefined;
        else since ??= this.clock.now();
        return since !== undefined && this.clock.now() - since >= quietMs;
      },
      limitMs,
    );
  }

  public async stopAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.clock.runUntil(w.worker.stop())));
  }
}

function shard(i: number, parents: string[] = [], closed = false): StreamShard {
  return {
    shardId: `shardId-${String(i).padStart(12, '0')}`,
    parents,
    closed,
    hashKeyRange: { start: '0', end: '0' },
  };
}

export { Cluster, countingStore, FakeProcessor, LEASE_MS, STREAM, shard, type TestWorker };
