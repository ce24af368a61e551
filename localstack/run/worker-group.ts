import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Config } from '../../core/config/schema.js';
import { DynamoDbCoordinationStore, LeaseClient, shardLeaseKey } from '../../core/coordination/index.js';
import type { KinesisHandler } from '../../core/esm/event-source-mapping.js';
import { PollingReader } from '../../core/esm/polling-reader.js';
import type { MappingSettings } from '../../core/esm/settings.js';
import { compareSequenceNumbers } from '../../core/events/position.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import { type InstanceLatencies, LatencyRecorder } from '../../core/processing/latency.js';
import type { ParkedStore } from '../../core/state/parked-store.js';
import { type ConsumerWorker, createConsumerWorker } from '../../core/workers/consumer-worker.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import { splitLeases } from '../../core/workers/shard-lease.js';
import type { WorkerTimings } from '../../core/workers/timings.js';
import type { ProjectionIdentity } from '../../projection-module/identity.js';
import type { Endpoints } from '../engines/engines.js';
import type { ResourceNames } from '../provision.js';
import { WorkerPool, type WorkerRow, type WorkerSpec } from './worker-pool.js';

/** The workers of a run: one inside the run's process (the default), N worker processes, or none of its own. */
interface WorkerGroup {
  /** The worker processes, when the run has them (`--workers N`). */
  readonly pool: WorkerPool | undefined;
  /** Per-worker figures for the live view and `cdcp local workers`. */
  rows(): WorkerRow[];
  /** What the workers processed (the in-process worker counts in the run's own handler). */
  totals(): BatchStats;
  /** Arrival lag of the newest records processed, over all workers. */
  lagMs(): number;
  /** Latencies of every change the workers applied. */
  latency(): LatencyRecorder;
  /** Latencies of the changes applied since the previous call (the live view's recent figures). */
  drainRecentLatency(): LatencyRecorder;
  /** Finishes batches in flight, checkpoints, releases leases; stops worker processes. */
  stop(): Promise<void>;
}

interface WorkerGroupOptions {
  /**
   * 0: one worker inside this process; N: N `cdcp worker` processes; `external`: none — workers started by
   * someone else (a test starting them as containers would be) read the stream.
   */
  readonly workers: number | 'external';
  readonly clients: { readonly dynamodb: DynamoDBClient; readonly kinesis: KinesisClient };
  readonly endpoints: Endpoints;
  readonly names: ResourceNames;
  readonly streamArn: string;
  readonly mapping: Partial<MappingSettings>;
  readonly config: Config;
  /** The current configuration (the run's watched store). */
  readonly currentConfig: () => Config;
  /** The local config store worker processes follow. */
  readonly configFile?: string;
  /** The in-process worker's handler and the totals and latencies it adds to. */
  readonly handler: KinesisHandler;
  readonly totals: BatchStats;
  readonly latency: InstanceLatencies;
  readonly parkedStore: ParkedStore;
  /** Worker processes: how they read (`fan-out` needs kinesis-mock or AWS). @default 'polling' */
  readonly reader?: WorkerSpec['reader'];
  readonly resubscribeIntervalMs?: number;
  /** The in-process worker's timings; worker processes derive theirs from `config.instances`. */
  readonly timings?: Partial<WorkerTimings>;
  readonly reportInvocations?: boolean;
  /** Worker processes apply the counting projection (the in-process handler is the run's own). */
  readonly auditEffects?: boolean;
  /** Worker processes load this projection module (`--projection`) and check they all run it. */
  readonly projection?: ProjectionIdentity;
  readonly onEvent?: (workerId: string, event: WorkerEvent, atWallMs: number) => void;
  readonly onCrash?: (row: WorkerRow, output: string) => void;
  readonly onError?: (error: Error, shardId: string) => void;
}

/**
 * Starts the run's workers. With `workers: 0` one worker runs inside the run's process with the run's own
 * handler (fast to start, and what the pipeline tests use); with N, N `cdcp worker` processes coordinate
 * through the coordination table exactly as containers would.
 */
async function startWorkerGroup(options: WorkerGroupOptions): Promise<WorkerGroup> {
  if (options.workers === 'external') return noWorkers();
  if (options.reader === 'fan-out' && options.workers === 0)
    throw new Error(
      'enhanced fan-out runs in worker processes: give --workers N (N ≥ 1) with --reader fan-out',
    );
  if (options.workers > 0) {
    const pool = new WorkerPool({
      spec: {
        endpoints: { dynamodb: options.endpoints.dynamodb, kinesis: options.endpoints.kinesis },
        names: options.names,
        streamArn: options.streamArn,
        config: options.config,
        configFile: options.configFile,
        mapping: options.mapping,
        reader: options.reader,
        resubscribeIntervalMs: options.resubscribeIntervalMs,
        reportInvocations: options.reportInvocations,
        auditEffects: options.auditEffects,
        projection: options.projection,
      },
      onEvent: options.onEvent,
      onCrash: options.onCrash,
    });
    try {
      await Promise.all(Array.from({ length: options.workers }, () => pool.add()));
    } catch (error) {
      await pool.stopAll();
      throw error;
    }
    return {
      pool,
      rows: () => pool.list(),
      totals: () => pool.totals(),
      lagMs: () => Math.max(0, ...pool.running().map((r) => r.lagMs)),
      latency: () => pool.latency(),
      drainRecentLatency: () => pool.drainRecentLatency(),
      stop: () => pool.stopAll(),
    };
  }
  return startInProcessWorker(options);
}

/** One worker inside the run's process, with the run's own handler. */
async function startInProcessWorker(options: WorkerGroupOptions): Promise<WorkerGroup> {
  const instanceId = `worker-0-${process.pid}`;
  const startedAtWallMs = Date.now();
  const local: ConsumerWorker = createConsumerWorker({
    instanceId,
    streamName: options.names.streamName,
    streamArn: options.streamArn,
    dynamodb: options.clients.dynamodb,
    coordinationTable: options.names.coordinationTable,
    kinesis: options.clients.kinesis,
    reader: new PollingReader({ kinesis: options.clients.kinesis, streamName: options.names.streamName }),
    handler: options.handler,
    latency: options.latency.heartbeat,
    parkedStore: options.parkedStore,
    mapping: options.mapping,
    config: options.currentConfig,
    timings: options.timings,
    onEvent: (event) => options.onEvent?.(instanceId, event, Date.now()),
    onError: options.onError,
  });
  await local.worker.start();
  let stopped = false;
  return {
    pool: undefined,
    rows: () => [
      {
        id: instanceId,
        pid: process.pid,
        state: stopped ? 'stopped' : 'running',
        startedAtWallMs,
        leases: local.worker.shards,
        eventsPerSecond: local.worker.eventsPerSecond,
        lagMs: local.lagMs(),
        shardLagMs: local.shardLagMs(),
        assigner: local.worker.isAssigner,
        inFlight: local.mapping.inFlight,
        coordinationRequests: 0,
      },
    ],
    totals: () => options.totals,
    lagMs: () => local.lagMs(),
    latency: () => options.latency.total,
    drainRecentLatency: () => LatencyRecorder.fromJSON(options.latency.drainRecent()),
    stop: async () => {
      stopped = true;
      await local.worker.stop();
    },
  };
}

/** The run reads nothing itself: workers started by someone else do. */
function noWorkers(): WorkerGroup {
  return {
    pool: undefined,
    rows: () => [],
    totals: () => emptyStats(),
    lagMs: () => 0,
    latency: () => new LatencyRecorder(),
    drainRecentLatency: () => new LatencyRecorder(),
    stop: async () => {},
  };
}

/**
 * Watches the shard leases' checkpoints to tell when a run has drained: every shard that took records has
 * been processed up to the last record the producer got accepted on it. A parent whose lease is gone while a
 * child of it has started counts as done (its lease ended before it could be deleted).
 */
class DrainWatch {
  readonly #leases: LeaseClient;
  readonly #pk: string;
  readonly #seen = new Set<string>();

  public constructor(options: { readonly dynamodb: DynamoDBClient; readonly names: ResourceNames }) {
    this.#leases = new LeaseClient({
      store: new DynamoDbCoordinationStore({
        client: options.dynamodb,
        tableName: options.names.coordinationTable,
      }),
    });
    this.#pk = shardLeaseKey(options.names.streamName, '-').pk;
  }

  /** True once every shard in `tips` is checkpointed at or past its tip (one Query). */
  public async drained(tips: ReadonlyMap<string, string>): Promise<boolean> {
    const { shards } = splitLeases(await this.#leases.list(this.#pk));
    const byShard = new Map(shards.map((s) => [s.shardId, s.data]));
    for (const id of byShard.keys()) this.#seen.add(id);
    // A parent's lease is deleted only once it ended and its children started.
    const startedChildOf = new Set(
      shards
        .filter((s) => s.record.fence > 0 || s.data.checkpoint !== undefined)
        .flatMap((s) => s.data.parents),
    );
    return [...tips].every(([shardId, tip]) => {
      const data = byShard.get(shardId);
      if (data === undefined) return this.#seen.has(shardId) || startedChildOf.has(shardId);
      if (data.ended) return true;
      return data.checkpoint !== undefined && compareSequenceNumbers(data.checkpoint, tip) >= 0;
    });
  }
}

export type { WorkerGroup, WorkerGroupOptions };
export { DrainWatch, noWorkers, startWorkerGroup };
